//! What a principal may read, as data: the policy's `scope` rule yields it once per principal,
//! and every reader (listings, search, facets, totals, transcript moments, SQL, reindex) turns
//! it into a filter pushed into its query. Never a per-row check after the fact, which would
//! leak counts.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::editorial_status::EditorialStatus;

/// One grant: the assets of a project (or of every project) in some editorial statuses (or in
/// all of them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopeGrant {
    /// `None`: every project.
    pub project: Option<String>,
    /// `None`: every editorial status.
    pub statuses: Option<BTreeSet<EditorialStatus>>,
}

/// The union of the grants, minus the assets of hidden collections (restricted ones the
/// principal was not granted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadScope {
    pub grants: Vec<ScopeGrant>,
    pub hidden_collections: BTreeSet<String>,
}

/// A collection that is restricted (itself or through an ancestor), and the users granted it
/// (on it or on an ancestor): the directory data the policy reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestrictedCollection {
    pub id: String,
    pub project: String,
    pub granted: Vec<String>,
}

/// Grants with the same statuses, their projects merged: the shape a filter renders as
/// `(project IN (…) AND editorial_status IN (…)) OR …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeClause {
    /// `None`: every project.
    pub projects: Option<Vec<String>>,
    /// `None`: every status.
    pub statuses: Option<Vec<EditorialStatus>>,
}

impl ReadScope {
    /// Every asset (the administrator, the programs that open the catalog directly).
    pub fn everything() -> Self {
        ReadScope {
            grants: vec![ScopeGrant { project: None, statuses: None }],
            hidden_collections: BTreeSet::new(),
        }
    }

    pub fn is_everything(&self) -> bool {
        self.hidden_collections.is_empty()
            && self.grants.iter().any(|g| g.project.is_none() && g.statuses.is_none())
    }

    pub fn is_nothing(&self) -> bool {
        self.grants.is_empty()
    }

    /// Whether an asset of `project` in `status`, member of `collections`, is in the scope (the
    /// meaning every filter renders; tests compare renderings with it).
    pub fn contains(&self, project: &str, status: EditorialStatus, collections: &[String]) -> bool {
        collections.iter().all(|c| !self.hidden_collections.contains(c))
            && self.grants.iter().any(|g| {
                g.project.as_deref().is_none_or(|p| p == project)
                    && g.statuses.as_ref().is_none_or(|s| s.contains(&status))
            })
    }

    /// The grants grouped by status set, minimal: a clause for every project and every status
    /// makes the others redundant; projects of a status set are merged.
    pub fn clauses(&self) -> Vec<ScopeClause> {
        if self.grants.iter().any(|g| g.project.is_none() && g.statuses.is_none()) {
            return vec![ScopeClause { projects: None, statuses: None }];
        }
        type Statuses = Option<BTreeSet<EditorialStatus>>;
        let mut by_statuses: Vec<(Statuses, Option<BTreeSet<String>>)> = Vec::new();
        for g in &self.grants {
            let slot = match by_statuses.iter_mut().find(|(s, _)| *s == g.statuses) {
                Some(slot) => slot,
                None => {
                    by_statuses.push((g.statuses.clone(), Some(BTreeSet::new())));
                    by_statuses.last_mut().expect("just pushed")
                }
            };
            match (&mut slot.1, &g.project) {
                (Some(set), Some(p)) => {
                    set.insert(p.clone());
                }
                (projects, None) => *projects = None,
                (None, Some(_)) => {}
            }
        }
        // A project readable in every status needs no narrower clause.
        let everything_in: BTreeSet<String> = by_statuses
            .iter()
            .filter(|(s, _)| s.is_none())
            .flat_map(|(_, p)| p.iter().flatten().cloned())
            .collect();
        by_statuses
            .into_iter()
            .filter_map(|(statuses, projects)| {
                let projects = match (projects, &statuses) {
                    (Some(ps), Some(_)) => {
                        let left: Vec<String> =
                            ps.into_iter().filter(|p| !everything_in.contains(p)).collect();
                        if left.is_empty() {
                            return None;
                        }
                        Some(left)
                    }
                    (ps, _) => ps.map(|ps| ps.into_iter().collect()),
                };
                Some(ScopeClause { projects, statuses: statuses.map(|s| s.into_iter().collect()) })
            })
            .collect()
    }

    /// A stable text for cache keys (filters and facets cached per scope).
    pub fn cache_key(&self) -> String {
        format!("{:?}|{:?}", self.clauses(), self.hidden_collections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(project: Option<&str>, statuses: Option<&[EditorialStatus]>) -> ScopeGrant {
        ScopeGrant {
            project: project.map(str::to_string),
            statuses: statuses.map(|s| s.iter().copied().collect()),
        }
    }

    #[test]
    fn a_viewer_and_editor_in_two_projects_reads_all_of_one_and_published_of_the_other() {
        let published = [EditorialStatus::Published];
        let scope = ReadScope {
            grants: vec![grant(Some("a"), None), grant(Some("b"), Some(&published))],
            hidden_collections: BTreeSet::from(["secret".to_string()]),
        };
        assert!(scope.contains("a", EditorialStatus::Draft, &[]));
        assert!(!scope.contains("b", EditorialStatus::Draft, &[]));
        assert!(scope.contains("b", EditorialStatus::Published, &["open".into()]));
        assert!(!scope.contains("a", EditorialStatus::Draft, &["secret".into()]));
        assert!(!scope.contains("c", EditorialStatus::Published, &[]));
        assert_eq!(scope.clauses().len(), 2);
        assert!(!scope.is_everything());
    }

    #[test]
    fn a_project_readable_in_every_status_leaves_narrower_clauses() {
        let published = [EditorialStatus::Published];
        let scope = ReadScope {
            grants: vec![grant(Some("a"), None), grant(Some("a"), Some(&published))],
            hidden_collections: BTreeSet::new(),
        };
        assert_eq!(
            scope.clauses(),
            vec![ScopeClause { projects: Some(vec!["a".into()]), statuses: None }]
        );
        let all = ReadScope {
            grants: vec![grant(None, None), grant(Some("a"), Some(&published))],
            ..Default::default()
        };
        assert!(all.is_everything());
        assert!(ReadScope::default().is_nothing());
    }
}
