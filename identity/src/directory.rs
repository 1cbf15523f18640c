//! The identity store's state and the records that change it: users, projects, memberships,
//! personal API tokens and refresh-token families. `apply` is the one place a record changes
//! the state; replaying the journal and answering a change both go through it.

use std::collections::BTreeMap;

use acervo_catalog::{Principal, ProjectSlug, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One change, as the journal keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(crate) enum Record {
    UserCreated {
        name: String,
        display_name: String,
        roles: Vec<Role>,
        at: DateTime<Utc>,
    },
    PasswordSet {
        name: String,
        argon2: String,
        scram: String,
        must_change: bool,
    },
    UserChanged {
        name: String,
        display_name: Option<String>,
        roles: Option<Vec<Role>>,
        disabled: Option<bool>,
    },
    ProjectCreated {
        slug: ProjectSlug,
        title: String,
        at: DateTime<Utc>,
    },
    /// `role: None` ends the membership.
    MemberSet {
        project: ProjectSlug,
        user: String,
        role: Option<Role>,
    },
    TokenCreated {
        id: String,
        user: String,
        name: String,
        hash: String,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    },
    TokenRevoked {
        id: String,
    },
    /// A login opens a family; each refresh replaces its current token (`hash`).
    RefreshIssued {
        family: String,
        user: String,
        hash: String,
        expires_at: DateTime<Utc>,
    },
    FamilyRevoked {
        family: String,
        reason: String,
    },
    CollectionCreated {
        id: String,
        project: ProjectSlug,
        name: String,
        parent: Option<String>,
        restricted: bool,
        by: String,
        at: DateTime<Utc>,
    },
    /// `parent: Some(None)` moves the collection to the top of its project.
    CollectionChanged {
        id: String,
        name: Option<String>,
        parent: Option<Option<String>>,
        restricted: Option<bool>,
    },
    CollectionDeleted {
        id: String,
    },
    /// `granted: false` takes the grant back.
    CollectionGranted {
        id: String,
        user: String,
        granted: bool,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub display_name: String,
    pub roles: Vec<Role>,
    pub argon2: Option<String>,
    pub scram: Option<String>,
    pub must_change: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct ApiToken {
    pub user: String,
    pub name: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Family {
    pub user: String,
    pub current: String,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Directory {
    pub users: BTreeMap<String, User>,
    pub projects: BTreeMap<ProjectSlug, (String, DateTime<Utc>)>,
    /// project → user → role
    pub members: BTreeMap<ProjectSlug, BTreeMap<String, Role>>,
    pub tokens: BTreeMap<String, ApiToken>,
    pub families: BTreeMap<String, Family>,
    pub collections: BTreeMap<String, Collection>,
}

#[derive(Clone, Debug)]
pub(crate) struct Collection {
    pub project: ProjectSlug,
    pub name: String,
    pub parent: Option<String>,
    pub restricted: bool,
    pub granted: std::collections::BTreeSet<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A collection as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CollectionInfo {
    pub id: String,
    pub project: String,
    pub name: String,
    /// The collection it is nested in (same project).
    pub parent: Option<String>,
    /// Restricted here; `effectively_restricted` also counts an ancestor's restriction.
    pub restricted: bool,
    pub effectively_restricted: bool,
    /// Users granted this collection (and so its descendants) when it is restricted.
    pub granted: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A user as the API shows it (never a hash).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserInfo {
    pub name: String,
    pub display_name: String,
    /// Roles in every project.
    pub roles: Vec<Role>,
    /// Role per project.
    pub projects: BTreeMap<String, Role>,
    pub disabled: bool,
    /// The password was set by someone else (the first start): the user must choose one.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectInfo {
    pub slug: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    pub user: String,
    pub role: Role,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

impl Directory {
    pub(crate) fn apply(&mut self, record: &Record) {
        match record.clone() {
            Record::UserCreated { name, display_name, roles, at } => {
                self.users.insert(
                    name,
                    User {
                        display_name,
                        roles,
                        argon2: None,
                        scram: None,
                        must_change: false,
                        disabled: false,
                        created_at: at,
                    },
                );
            }
            Record::PasswordSet { name, argon2, scram, must_change } => {
                if let Some(u) = self.users.get_mut(&name) {
                    u.argon2 = Some(argon2);
                    u.scram = Some(scram);
                    u.must_change = must_change;
                }
            }
            Record::UserChanged { name, display_name, roles, disabled } => {
                if let Some(u) = self.users.get_mut(&name) {
                    if let Some(d) = display_name {
                        u.display_name = d;
                    }
                    if let Some(r) = roles {
                        u.roles = r;
                    }
                    if let Some(d) = disabled {
                        u.disabled = d;
                    }
                }
            }
            Record::ProjectCreated { slug, title, at } => {
                self.projects.insert(slug, (title, at));
            }
            Record::MemberSet { project, user, role } => {
                let members = self.members.entry(project).or_default();
                match role {
                    Some(r) => {
                        members.insert(user, r);
                    }
                    None => {
                        members.remove(&user);
                    }
                }
            }
            Record::TokenCreated { id, user, name, hash, at, expires_at } => {
                self.tokens.insert(
                    id,
                    ApiToken { user, name, hash, created_at: at, expires_at, revoked: false },
                );
            }
            Record::TokenRevoked { id } => {
                if let Some(t) = self.tokens.get_mut(&id) {
                    t.revoked = true;
                }
            }
            Record::RefreshIssued { family, user, hash, expires_at } => {
                self.families
                    .entry(family)
                    .and_modify(|f| f.current = hash.clone())
                    .or_insert(Family { user, current: hash, expires_at, revoked: false });
            }
            Record::FamilyRevoked { family, .. } => {
                if let Some(f) = self.families.get_mut(&family) {
                    f.revoked = true;
                }
            }
            Record::CollectionCreated { id, project, name, parent, restricted, by, at } => {
                let granted = if restricted {
                    std::collections::BTreeSet::from([by.clone()])
                } else {
                    Default::default()
                };
                self.collections.insert(
                    id,
                    Collection {
                        project,
                        name,
                        parent,
                        restricted,
                        granted,
                        created_by: by,
                        created_at: at,
                    },
                );
            }
            Record::CollectionChanged { id, name, parent, restricted } => {
                if let Some(c) = self.collections.get_mut(&id) {
                    if let Some(n) = name {
                        c.name = n;
                    }
                    if let Some(p) = parent {
                        c.parent = p;
                    }
                    if let Some(r) = restricted {
                        c.restricted = r;
                    }
                }
            }
            Record::CollectionDeleted { id } => {
                self.collections.remove(&id);
            }
            Record::CollectionGranted { id, user, granted } => {
                if let Some(c) = self.collections.get_mut(&id) {
                    if granted {
                        c.granted.insert(user);
                    } else {
                        c.granted.remove(&user);
                    }
                }
            }
        }
    }

    /// The records that rebuild this state (for compaction), without the expired and revoked
    /// refresh families and tokens that can only ever be refused.
    pub(crate) fn snapshot(&self, now: DateTime<Utc>) -> Vec<Record> {
        let mut out = Vec::new();
        for (name, u) in &self.users {
            out.push(Record::UserCreated {
                name: name.clone(),
                display_name: u.display_name.clone(),
                roles: u.roles.clone(),
                at: u.created_at,
            });
            if let (Some(a), Some(s)) = (&u.argon2, &u.scram) {
                out.push(Record::PasswordSet {
                    name: name.clone(),
                    argon2: a.clone(),
                    scram: s.clone(),
                    must_change: u.must_change,
                });
            }
            if u.disabled {
                out.push(Record::UserChanged {
                    name: name.clone(),
                    display_name: None,
                    roles: None,
                    disabled: Some(true),
                });
            }
        }
        for (slug, (title, at)) in &self.projects {
            out.push(Record::ProjectCreated { slug: slug.clone(), title: title.clone(), at: *at });
        }
        for (project, members) in &self.members {
            for (user, role) in members {
                out.push(Record::MemberSet {
                    project: project.clone(),
                    user: user.clone(),
                    role: Some(*role),
                });
            }
        }
        // Parents before children, so a replay finds each parent.
        for id in self.collections_top_down() {
            let c = &self.collections[&id];
            out.push(Record::CollectionCreated {
                id: id.clone(),
                project: c.project.clone(),
                name: c.name.clone(),
                parent: c.parent.clone(),
                restricted: false,
                by: c.created_by.clone(),
                at: c.created_at,
            });
            out.push(Record::CollectionChanged {
                id: id.clone(),
                name: None,
                parent: None,
                restricted: Some(c.restricted),
            });
            for user in &c.granted {
                out.push(Record::CollectionGranted {
                    id: id.clone(),
                    user: user.clone(),
                    granted: true,
                });
            }
        }
        for (id, t) in &self.tokens {
            if t.revoked || t.expires_at.is_some_and(|e| e <= now) {
                continue;
            }
            out.push(Record::TokenCreated {
                id: id.clone(),
                user: t.user.clone(),
                name: t.name.clone(),
                hash: t.hash.clone(),
                at: t.created_at,
                expires_at: t.expires_at,
            });
        }
        for (id, f) in &self.families {
            if f.revoked || f.expires_at <= now {
                continue;
            }
            out.push(Record::RefreshIssued {
                family: id.clone(),
                user: f.user.clone(),
                hash: f.current.clone(),
                expires_at: f.expires_at,
            });
        }
        out
    }

    /// The principal a local user acts as now (its roles as they are, not as they were when a
    /// token was issued).
    pub(crate) fn principal(&self, name: &str) -> Option<Principal> {
        let u = self.users.get(name)?;
        let mut project_roles: BTreeMap<String, Vec<Role>> = BTreeMap::new();
        for (project, members) in &self.members {
            if let Some(role) = members.get(name) {
                project_roles.entry(project.as_str().to_string()).or_default().push(*role);
            }
        }
        Some(Principal { name: name.to_string(), roles: u.roles.clone(), project_roles })
    }

    pub(crate) fn user_info(&self, name: &str) -> Option<UserInfo> {
        let u = self.users.get(name)?;
        let projects = self
            .members
            .iter()
            .filter_map(|(p, m)| m.get(name).map(|r| (p.as_str().to_string(), *r)))
            .collect();
        Some(UserInfo {
            name: name.to_string(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            projects,
            disabled: u.disabled,
            must_change_password: u.must_change,
            created_at: u.created_at,
        })
    }

    pub(crate) fn project_info(&self, slug: &ProjectSlug) -> Option<ProjectInfo> {
        let (title, at) = self.projects.get(slug)?;
        let members = self
            .members
            .get(slug)
            .map(|m| m.iter().map(|(u, r)| Member { user: u.clone(), role: *r }).collect())
            .unwrap_or_default();
        Some(ProjectInfo {
            slug: slug.as_str().to_string(),
            title: title.clone(),
            created_at: *at,
            members,
        })
    }

    /// Collection ids, each after its parent.
    pub(crate) fn collections_top_down(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut placed = std::collections::BTreeSet::new();
        let mut left: Vec<&String> = self.collections.keys().collect();
        while !left.is_empty() {
            let before = left.len();
            left.retain(|id| {
                let parent = self.collections[*id].parent.as_ref();
                let ready =
                    parent.is_none_or(|p| placed.contains(p) || !self.collections.contains_key(p));
                if ready {
                    placed.insert((*id).clone());
                    out.push((*id).clone());
                }
                !ready
            });
            if left.len() == before {
                // A cycle cannot be made through the store; keep whatever is left anyway.
                out.extend(left.drain(..).cloned());
            }
        }
        out
    }

    /// The collection and its ancestors, nearest first.
    pub(crate) fn lineage(&self, id: &str) -> Vec<(&String, &Collection)> {
        let mut out = Vec::new();
        let mut next = self.collections.get_key_value(id);
        while let Some((id, c)) = next {
            if out.iter().any(|(seen, _)| *seen == id) {
                break;
            }
            out.push((id, c));
            next = c.parent.as_ref().and_then(|p| self.collections.get_key_value(p));
        }
        out
    }

    pub(crate) fn collection_info(&self, id: &str) -> Option<CollectionInfo> {
        let c = self.collections.get(id)?;
        let lineage = self.lineage(id);
        Some(CollectionInfo {
            id: id.to_string(),
            project: c.project.as_str().to_string(),
            name: c.name.clone(),
            parent: c.parent.clone(),
            restricted: c.restricted,
            effectively_restricted: lineage.iter().any(|(_, c)| c.restricted),
            granted: c.granted.iter().cloned().collect(),
            created_by: c.created_by.clone(),
            created_at: c.created_at,
        })
    }

    pub(crate) fn token_info(&self, id: &str) -> Option<ApiTokenInfo> {
        let t = self.tokens.get(id)?;
        Some(ApiTokenInfo {
            id: id.to_string(),
            name: t.name.clone(),
            user: t.user.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> ProjectSlug {
        s.parse().unwrap()
    }

    #[test]
    fn a_snapshot_rebuilds_the_same_state_without_dead_tokens() {
        let now = Utc::now();
        let mut d = Directory::default();
        let records = vec![
            Record::UserCreated {
                name: "ana".into(),
                display_name: "Ana".into(),
                roles: vec![],
                at: now,
            },
            Record::PasswordSet {
                name: "ana".into(),
                argon2: "$a".into(),
                scram: "S".into(),
                must_change: true,
            },
            Record::ProjectCreated { slug: slug("deportes"), title: "Deportes".into(), at: now },
            Record::MemberSet {
                project: slug("deportes"),
                user: "ana".into(),
                role: Some(Role::Editor),
            },
            Record::TokenCreated {
                id: "t1".into(),
                user: "ana".into(),
                name: "script".into(),
                hash: "h".into(),
                at: now,
                expires_at: None,
            },
            Record::TokenCreated {
                id: "t2".into(),
                user: "ana".into(),
                name: "old".into(),
                hash: "h2".into(),
                at: now,
                expires_at: None,
            },
            Record::TokenRevoked { id: "t2".into() },
            Record::RefreshIssued {
                family: "f".into(),
                user: "ana".into(),
                hash: "r1".into(),
                expires_at: now + chrono::Duration::days(1),
            },
            Record::RefreshIssued {
                family: "f".into(),
                user: "ana".into(),
                hash: "r2".into(),
                expires_at: now + chrono::Duration::days(1),
            },
            Record::UserChanged {
                name: "ana".into(),
                display_name: None,
                roles: None,
                disabled: Some(true),
            },
        ];
        for r in &records {
            d.apply(r);
        }
        let mut again = Directory::default();
        for r in d.snapshot(now) {
            again.apply(&r);
        }
        assert_eq!(format!("{:?}", again.user_info("ana")), format!("{:?}", d.user_info("ana")));
        assert_eq!(again.principal("ana"), d.principal("ana"));
        assert_eq!(again.families["f"].current, "r2");
        assert!(again.tokens.contains_key("t1") && !again.tokens.contains_key("t2"));
        assert!(again.users["ana"].disabled && again.users["ana"].must_change);
    }

    #[test]
    fn a_principal_holds_the_roles_of_its_memberships() {
        let now = Utc::now();
        let mut d = Directory::default();
        d.apply(&Record::UserCreated {
            name: "ana".into(),
            display_name: "".into(),
            roles: vec![],
            at: now,
        });
        d.apply(&Record::MemberSet {
            project: slug("a"),
            user: "ana".into(),
            role: Some(Role::Viewer),
        });
        d.apply(&Record::MemberSet {
            project: slug("b"),
            user: "ana".into(),
            role: Some(Role::Editor),
        });
        d.apply(&Record::MemberSet { project: slug("b"), user: "ana".into(), role: None });
        let p = d.principal("ana").unwrap();
        assert_eq!(p.project_roles, BTreeMap::from([("a".to_string(), vec![Role::Viewer])]));
        assert!(d.principal("nobody").is_none());
    }
}
