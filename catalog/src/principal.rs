//! Who a request, SQL session or job acts for: a name for the audit, the roles that apply in every
//! project (an OIDC realm role, a local user's global role) and the roles granted in one project
//! each (a membership, or a `/projects/{slug}/{role}` group). Every handler and catalog query takes
//! one; what it may do is the policy's decision (`acervo-policy`), and what it may read becomes a
//! filter (`ReadScope`), never a per-row check.

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

    /// Whether a role of this principal applies in `project` (it sees the project itself; what
    /// it may do there is the policy's decision).
    pub fn can_see_project(&self, project: &str) -> bool {
        !self.roles.is_empty() || self.project_roles.get(project).is_some_and(|rs| !rs.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_role_applies_in_its_project_only_and_a_global_one_everywhere() {
        let ana = Principal {
            name: "ana".into(),
            roles: vec![],
            project_roles: BTreeMap::from([("deportes".to_string(), vec![Role::Editor])]),
        };
        assert!(ana.can_see_project("deportes"));
        assert!(!ana.can_see_project("politica"));
        assert!(Principal::local_admin().can_see_project("politica"));
        let nobody = Principal { name: "x".into(), roles: vec![], project_roles: BTreeMap::new() };
        assert!(!nobody.can_see_project("deportes"));
    }
}
