//! The documents a decision is made from: the resource an action concerns and a workflow move
//! (the directory data, `RestrictedCollection`, is the catalog's type).

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
