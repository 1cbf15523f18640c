//! The default policy's decisions, and loading a policy file.

use std::collections::BTreeMap;

use acervo_catalog::{Action, EditorialStatus, Principal, Role};

use crate::{Policy, PolicyError, Resource, RestrictedCollection, Transition};

fn member(name: &str, project: &str, role: Role) -> Principal {
    Principal {
        name: name.into(),
        roles: vec![],
        project_roles: BTreeMap::from([(project.to_string(), vec![role])]),
    }
}

fn asset(project: &str, status: EditorialStatus, collections: &[&str]) -> Resource {
    Resource {
        project: Some(project.into()),
        editorial_status: Some(status),
        collections: collections.iter().map(|c| c.to_string()).collect(),
    }
}

#[test]
fn a_viewer_reads_published_assets_of_its_projects_only() {
    let p = Policy::embedded().unwrap();
    let v = member("vera", "news", Role::Viewer);
    let read = |r: &Resource| p.allow(&v, Action::AssetRead, r, None);
    assert!(read(&asset("news", EditorialStatus::Published, &[])));
    assert!(!read(&asset("news", EditorialStatus::Draft, &[])));
    assert!(!read(&asset("news", EditorialStatus::Approved, &[])));
    assert!(!read(&asset("sport", EditorialStatus::Published, &[])));
    assert!(!p.allow(&v, Action::AssetEdit, &asset("news", EditorialStatus::Published, &[]), None));
    // Asked twice: the cached answer is the same.
    assert!(read(&asset("news", EditorialStatus::Published, &[])));
}

#[test]
fn each_role_allows_its_own_work_in_its_project() {
    let p = Policy::embedded().unwrap();
    let draft = asset("news", EditorialStatus::Draft, &[]);
    let may =
        |role: Role, action: Action| p.allow(&member("u", "news", role), action, &draft, None);
    assert!(may(Role::Editor, Action::AssetEdit));
    assert!(!may(Role::Editor, Action::AssetPublish));
    assert!(may(Role::Producer, Action::AssetPublish));
    assert!(!may(Role::Producer, Action::AssetArchive));
    assert!(may(Role::Archivist, Action::AssetArchive));
    assert!(!may(Role::Archivist, Action::AssetEdit));
    for a in Action::ALL {
        assert!(p.allow(&Principal::local_admin(), *a, &draft, None), "admin: {a}");
    }
    // Of no project: a membership does not reach the audit trail or administration.
    let editor = member("u", "news", Role::Editor);
    assert!(!p.allow(&editor, Action::AuditRead, &Resource::global(), None));
    assert!(p.allow_somewhere(&editor, Action::AssetCreate));
    assert!(!p.allow_somewhere(&editor, Action::AssetArchive));
    let realm_editor =
        Principal { name: "r".into(), roles: vec![Role::Editor], project_roles: BTreeMap::new() };
    assert!(p.allow_somewhere(&realm_editor, Action::AssetCreate));
}

#[test]
fn who_may_make_which_workflow_move() {
    let p = Policy::embedded().unwrap();
    use EditorialStatus::*;
    let moves = |role: Role, from, to| {
        p.allow(
            &member("u", "news", role),
            Action::AssetTransition,
            &asset("news", from, &[]),
            Some(Transition { from, to }),
        )
    };
    assert!(moves(Role::Editor, Draft, InReview));
    assert!(!moves(Role::Editor, InReview, Approved));
    assert!(!moves(Role::Editor, Approved, Published));
    assert!(moves(Role::Producer, Approved, Published));
    assert!(moves(Role::Archivist, Published, Archived));
    assert!(!moves(Role::Archivist, Draft, InReview));
    assert!(!moves(Role::Viewer, Draft, InReview));
}

#[test]
fn a_restricted_collection_hides_its_assets_from_those_not_granted_it() {
    let p = Policy::embedded().unwrap();
    let ana = member("ana", "news", Role::Editor);
    let bob = member("bob", "news", Role::Editor);
    let secret = asset("news", EditorialStatus::Draft, &["c1"]);
    assert!(p.allow(&bob, Action::AssetRead, &secret, None));
    p.set_directory(&[RestrictedCollection {
        id: "c1".into(),
        project: "news".into(),
        granted: vec!["ana".into()],
    }])
    .unwrap();
    assert!(p.allow(&ana, Action::AssetRead, &secret, None));
    assert!(!p.allow(&bob, Action::AssetRead, &secret, None), "the cache was emptied");
    assert!(p.allow(&Principal::local_admin(), Action::AssetRead, &secret, None));
    let scope = p.scope(&bob);
    assert!(scope.hidden_collections.contains("c1"));
    assert!(!p.scope(&ana).hidden_collections.contains("c1"));
}

#[test]
fn the_scope_agrees_with_allow_read_for_every_role_and_status() {
    let p = Policy::embedded().unwrap();
    let mut principals = vec![Principal::local_admin()];
    for role in Role::ALL {
        principals.push(member("u", "news", *role));
        principals.push(Principal {
            name: "g".into(),
            roles: vec![*role],
            project_roles: BTreeMap::new(),
        });
    }
    for principal in &principals {
        let scope = p.scope(principal);
        for project in ["news", "sport"] {
            for status in EditorialStatus::ALL {
                let allowed =
                    p.allow(principal, Action::AssetRead, &asset(project, *status, &[]), None);
                assert_eq!(
                    scope.contains(project, *status, &[]),
                    allowed,
                    "{principal:?} {project} {status}"
                );
            }
        }
    }
    assert!(p.scope(&Principal::local_admin()).is_everything());
}

#[test]
fn a_policy_file_that_does_not_parse_names_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.rego");
    std::fs::write(&path, "package acervo\n\nallow if {\n  input.x ==\n").unwrap();
    let err = Policy::load(Some(&path)).err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, PolicyError::Parse(_)), "{text}");
    assert!(text.contains("policy.rego:") && !text.contains('\n'), "{text}");

    std::fs::write(&path, "package acervo\n\nimport rego.v1\n\nallow := true\n").unwrap();
    let err = Policy::load(Some(&path)).err().expect("refused");
    assert!(matches!(err, PolicyError::MissingRule { rule: "scope", .. }), "{err}");
}

#[test]
fn a_changed_policy_file_is_read_again_and_a_broken_one_keeps_the_running_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.rego");
    std::fs::write(&path, crate::DEFAULT_POLICY).unwrap();
    let p = Policy::load(Some(&path)).unwrap();
    let v = member("vera", "news", Role::Viewer);
    let draft = asset("news", EditorialStatus::Draft, &[]);
    assert!(!p.allow(&v, Action::AssetRead, &draft, None));
    // Viewers read drafts too, in this newsroom.
    let lenient =
        crate::DEFAULT_POLICY.replace("reads(\"viewer\", \"published\")", "reads(\"viewer\", _)");
    std::fs::write(&path, lenient).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(later).unwrap();
    assert!(p.reload_if_changed(&[]).unwrap());
    assert!(p.allow(&v, Action::AssetRead, &draft, None));
    std::fs::write(&path, "package acervo\nallow if {").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later + std::time::Duration::from_secs(5))
        .unwrap();
    assert!(p.reload_if_changed(&[]).is_err());
    assert!(p.allow(&v, Action::AssetRead, &draft, None), "the running policy stays");
}
