//! What a principal asks to do, by name (the audit trail and the policy use the same names), and
//! which roles allow it. A role allows an action in the projects it applies in; `admin` allows
//! everything everywhere.

use crate::principal::Principal;
use crate::role::Role;

crate::names! {
    pub enum Action / UnknownAction ("action") {
        /// Find, watch and download an asset, its renditions, transcript and frames.
        AssetRead = "asset_read",
        /// Upload a new asset.
        AssetCreate = "asset_create",
        /// Edit metadata, reprocess, make on-demand renditions, accept AI suggestions, cancel jobs.
        AssetEdit = "asset_edit",
        /// Soft-delete (restorable within retention).
        AssetDelete = "asset_delete",
        /// Reindex, restore and purge.
        AssetArchive = "asset_archive",
        /// Publish and distribute.
        AssetPublish = "asset_publish",
        /// Read the audit trail.
        AuditRead = "audit_read",
        /// Create and change users, projects and memberships.
        Administer = "administer",
    }
}

impl Action {
    /// The action in words, for a refusal ("… may not edit assets in project …").
    pub fn describe(self) -> &'static str {
        match self {
            Action::AssetRead => "read assets",
            Action::AssetCreate => "upload assets",
            Action::AssetEdit => "edit assets",
            Action::AssetDelete => "delete assets",
            Action::AssetArchive => "reindex, restore or purge assets",
            Action::AssetPublish => "publish assets",
            Action::AuditRead => "read the audit trail",
            Action::Administer => "administer users and projects",
        }
    }
}

impl Role {
    /// Whether this role allows `action` (in the projects the role applies in).
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Viewer => matches!(action, AssetRead),
            Role::Editor => matches!(action, AssetRead | AssetCreate | AssetEdit | AssetDelete),
            Role::Producer => {
                matches!(action, AssetRead | AssetCreate | AssetEdit | AssetDelete | AssetPublish)
            }
            Role::Archivist => matches!(action, AssetRead | AssetDelete | AssetArchive),
        }
    }
}

impl Principal {
    /// Whether this principal may do `action` in `project`.
    pub fn may(&self, action: Action, project: &str) -> bool {
        self.roles
            .iter()
            .chain(self.project_roles.get(project).into_iter().flatten())
            .any(|r| r.allows(action))
    }

    /// Whether this principal may do `action` in every project (SQL over every row, the audit,
    /// administration).
    pub fn may_everywhere(&self, action: Action) -> bool {
        self.roles.iter().any(|r| r.allows(action))
    }

    /// Whether this principal may do `action` in at least one project (an upload form, a
    /// reindex over what it may touch).
    pub fn may_somewhere(&self, action: Action) -> bool {
        self.may_everywhere(action)
            || self.project_roles.values().flatten().any(|r| r.allows(action))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_role_allows_its_own_work_only() {
        assert!(Role::Viewer.allows(Action::AssetRead));
        assert!(!Role::Viewer.allows(Action::AssetEdit));
        assert!(Role::Editor.allows(Action::AssetEdit));
        assert!(!Role::Editor.allows(Action::AssetPublish));
        assert!(Role::Producer.allows(Action::AssetPublish));
        assert!(!Role::Producer.allows(Action::AssetArchive));
        assert!(Role::Archivist.allows(Action::AssetArchive));
        assert!(!Role::Archivist.allows(Action::AssetEdit));
        for a in Action::ALL {
            assert!(Role::Admin.allows(*a));
            assert!(
                !Role::Editor.allows(*a) || Role::Producer.allows(*a),
                "a producer does what an editor does: {a}"
            );
        }
        assert!(!Role::Producer.allows(Action::Administer));
    }

    #[test]
    fn a_membership_allows_in_its_project_only() {
        let ana = Principal {
            name: "ana".into(),
            roles: vec![],
            project_roles: BTreeMap::from([("deportes".into(), vec![Role::Editor])]),
        };
        assert!(ana.may(Action::AssetEdit, "deportes"));
        assert!(!ana.may(Action::AssetEdit, "politica"));
        assert!(!ana.may_everywhere(Action::AssetRead));
        assert!(ana.may_somewhere(Action::AssetCreate));
        assert!(!ana.may_somewhere(Action::AssetArchive));
    }
}
