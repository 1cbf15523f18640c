//! The documents a decision is made from: the resource an action concerns, a workflow move, and
//! the directory data (restricted collections) the policy reads as `data.acervo_directory`.

use acervo_catalog::{Asset, EditorialStatus};
use serde::Serialize;

/// What an action concerns; `project: None` for actions of no project (the audit trail,
/// administration).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Resource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editorial_status: Option<EditorialStatus>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<String>,
}

impl Resource {
    /// Something of no project.
    pub fn global() -> Self {
        Resource::default()
    }

    /// Something of a project (a new upload, a collection).
    pub fn project(slug: &str) -> Self {
        Resource { project: Some(slug.to_string()), ..Default::default() }
    }

    pub fn asset(asset: &Asset) -> Self {
        Resource {
            project: Some(asset.project.clone()),
            editorial_status: Some(asset.editorial_status),
            collections: asset.collections.clone(),
        }
    }
}

/// A move in the editorial workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: EditorialStatus,
    pub to: EditorialStatus,
}

/// A collection that is restricted (itself or through an ancestor), and the users granted it
/// (on it or on an ancestor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestrictedCollection {
    pub id: String,
    pub project: String,
    pub granted: Vec<String>,
}
