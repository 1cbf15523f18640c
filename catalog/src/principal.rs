//! Who a request, SQL session or job acts for. Every handler and catalog query takes one, so
//! project scoping and authentication plug in without touching each call site.

use serde::{Deserialize, Serialize};

use crate::role::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub roles: Vec<Role>,
    /// Projects this principal may see; `None` means every project.
    pub projects: Option<Vec<String>>,
}

impl Principal {
    /// The built-in administrator of an embedded, single-user installation.
    pub fn local_admin() -> Self {
        Principal { name: "local-admin".into(), roles: vec![Role::Admin], projects: None }
    }

    pub fn can_see_project(&self, project: &str) -> bool {
        self.projects.as_ref().is_none_or(|ps| ps.iter().any(|p| p == project))
    }
}
