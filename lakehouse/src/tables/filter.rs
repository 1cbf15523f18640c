//! Filters over the `assets` table, rendered as Lance / DataFusion SQL predicates with every
//! user value quoted, and always scoped to what the principal may see.

use acervo_catalog::{AssetStatus, EditorialStatus, MediaKind, ReadScope};

#[derive(Clone, Debug, Default)]
pub struct AssetFilter {
    pub kind: Option<MediaKind>,
    pub status: Option<AssetStatus>,
    pub project: Option<String>,
    pub sha256: Option<String>,
    pub editorial_status: Option<EditorialStatus>,
    /// Assets in this collection (id).
    pub collection: Option<String>,
}

/// A SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl AssetFilter {
    /// The predicate for this filter within `scope`. Soft-deleted assets are left out unless the
    /// filter asks for them by status.
    pub fn to_sql(&self, scope: &ReadScope) -> String {
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
        if let Some(s) = self.editorial_status {
            parts.push(editorial_in(&[s]));
        }
        if let Some(c) = &self.collection {
            parts.push(format!("array_has(collections, {})", quote(c)));
        }
        if let Some(scope) = scope_sql(scope) {
            parts.push(scope);
        }
        parts.join(" AND ")
    }
}

fn list(values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    values.into_iter().map(|v| quote(v.as_ref())).collect::<Vec<_>>().join(", ")
}

/// Rows written before the workflow existed have a null status, which reads as draft.
fn editorial_in(statuses: &[EditorialStatus]) -> String {
    let test = format!("editorial_status IN ({})", list(statuses.iter().map(|s| s.as_str())));
    if statuses.contains(&EditorialStatus::Draft) {
        format!("({test} OR editorial_status IS NULL)")
    } else {
        test
    }
}

/// The read scope as a predicate (`None`: every row); the one rendering of `ReadScope` over the
/// `assets` table, which listings and SQL share.
pub fn scope_sql(scope: &ReadScope) -> Option<String> {
    if scope.is_everything() {
        return None;
    }
    if scope.is_nothing() {
        return Some("false".into());
    }
    let clauses: Vec<String> = scope
        .clauses()
        .iter()
        .map(|c| {
            let mut parts = Vec::new();
            if let Some(ps) = &c.projects {
                parts.push(format!("project IN ({})", list(ps)));
            }
            if let Some(ss) = &c.statuses {
                parts.push(editorial_in(ss));
            }
            if parts.is_empty() { "true".to_string() } else { parts.join(" AND ") }
        })
        .collect();
    let mut out = format!("({})", clauses.join(" OR "));
    if !scope.hidden_collections.is_empty() {
        out.push_str(&format!(
            " AND (collections IS NULL OR NOT array_has_any(collections, make_array({})))",
            list(&scope.hidden_collections)
        ));
    }
    Some(out)
}
