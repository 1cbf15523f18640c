//! Who a request, SQL session or job acts for: a name for the audit, the roles that apply in every
//! project (an OIDC realm role, a local user's global role) and the roles granted in one project
//! each (a membership, or a `/projects/{slug}/{role}` group). Every handler and catalog query takes
//! one; what it may read becomes a filter (`visible_projects`), never a per-row check.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::role::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    /// Roles that apply in every project.
    pub roles: Vec<Role>,
    /// Roles that apply in one project, by project slug.
    #[serde(default)]
    pub project_roles: BTreeMap<String, Vec<Role>>,
}

/// The name of the administrator the first start creates, and whom an installation without
/// authentication (loopback only) acts as.
pub const ADMIN: &str = "admin";

impl Principal {
    /// The administrator of an installation without authentication (loopback only), and of the
    /// programs that open the catalog directly (benchmarks, `acervo verify`).
    pub fn local_admin() -> Self {
        Principal { name: ADMIN.into(), roles: vec![Role::Admin], project_roles: BTreeMap::new() }
    }

    /// The projects this principal may read; `None` means every project (a role that applies
    /// everywhere).
    pub fn visible_projects(&self) -> Option<Vec<String>> {
        if !self.roles.is_empty() {
            return None;
        }
        Some(
            self.project_roles
                .iter()
                .filter(|(_, rs)| !rs.is_empty())
                .map(|(p, _)| p.clone())
                .collect(),
        )
    }

    pub fn can_see_project(&self, project: &str) -> bool {
        !self.roles.is_empty() || self.project_roles.get(project).is_some_and(|rs| !rs.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(project: &str, role: Role) -> Principal {
        Principal {
            name: "ana".into(),
            roles: vec![],
            project_roles: BTreeMap::from([(project.to_string(), vec![role])]),
        }
    }

    #[test]
    fn a_project_role_applies_in_its_project_only() {
        let ana = member("deportes", Role::Editor);
        assert!(ana.can_see_project("deportes"));
        assert!(!ana.can_see_project("politica"));
        assert_eq!(ana.visible_projects(), Some(vec!["deportes".to_string()]));
    }

    #[test]
    fn a_global_role_sees_every_project() {
        let admin = Principal::local_admin();
        assert_eq!(admin.visible_projects(), None);
        let viewer = Principal { roles: vec![Role::Viewer], ..member("x", Role::Editor) };
        assert_eq!(viewer.visible_projects(), None);
    }

    #[test]
    fn nobody_without_roles_sees_anything() {
        let nobody = Principal { name: "x".into(), roles: vec![], project_roles: BTreeMap::new() };
        assert_eq!(nobody.visible_projects(), Some(vec![]));
        assert!(!nobody.can_see_project("deportes"));
    }
}
