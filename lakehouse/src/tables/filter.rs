//! Filters over the `assets` table, rendered as Lance / DataFusion SQL predicates with every
//! user value quoted, and always scoped to what the principal may see.

use acervo_catalog::{AssetStatus, MediaKind, Principal};

#[derive(Clone, Debug, Default)]
pub struct AssetFilter {
    pub kind: Option<MediaKind>,
    pub status: Option<AssetStatus>,
    pub project: Option<String>,
    pub sha256: Option<String>,
}

/// A SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl AssetFilter {
    /// The predicate for this filter as seen by `principal`. Soft-deleted assets are left out
    /// unless the filter asks for them by status.
    pub fn to_sql(&self, principal: &Principal) -> String {
        let mut parts = Vec::new();
        match self.status {
            Some(s) => parts.push(format!("status = {}", quote(s.as_str()))),
            None => parts.push(format!("status <> {}", quote(AssetStatus::Deleted.as_str()))),
        }
        if let Some(k) = self.kind {
            parts.push(format!("kind = {}", quote(k.as_str())));
        }
        if let Some(p) = &self.project {
            parts.push(format!("project = {}", quote(p)));
        }
        if let Some(h) = &self.sha256 {
            parts.push(format!("sha256 = {}", quote(h)));
        }
        if let Some(projects) = &principal.visible_projects() {
            if projects.is_empty() {
                parts.push("false".into());
            } else {
                let list: Vec<String> = projects.iter().map(|p| quote(p)).collect();
                parts.push(format!("project IN ({})", list.join(", ")));
            }
        }
        parts.join(" AND ")
    }
}
