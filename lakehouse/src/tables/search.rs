//! Full-text search over title, description and tags (the Lance inverted index on
//! `search_text`), filtered by kind, status and project, with facet counts over every match.

use std::collections::BTreeMap;

use acervo_catalog::{Asset, Principal};
use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, RecordBatch};
use futures::TryStreamExt;
use lance_index::scalar::FullTextSearchQuery;
use serde::Serialize;
use utoipa::ToSchema;

use super::catalog::{Catalog, CatalogError};
use super::filter::AssetFilter;

#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub q: String,
    pub filter: AssetFilter,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub asset: Asset,
    /// BM25 relevance; absent when there was no query text.
    pub score: Option<f32>,
}

/// Counts of matching assets by facet value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Facets {
    pub kind: BTreeMap<String, usize>,
    pub status: BTreeMap<String, usize>,
    pub project: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<SearchHit>,
    pub facets: Facets,
}

struct Match {
    id: String,
    score: Option<f32>,
}

fn lance_err(source: lance::Error) -> CatalogError {
    CatalogError::Lance { table: "assets", source }
}

fn missing(column: &'static str) -> CatalogError {
    CatalogError::Rows(super::RowError::MissingColumn(column))
}

impl Catalog {
    pub async fn search(&self, query: &SearchQuery, principal: &Principal) -> Result<SearchResults, CatalogError> {
        let ds = self.assets_ds();
        let predicate = query.filter.to_sql(principal);
        let text = query.q.trim();
        if !text.is_empty() && !self.fts_indexed.load(std::sync::atomic::Ordering::Relaxed) {
            // No index yet means no asset was ever written: nothing can match.
            return Ok(SearchResults { total: 0, hits: Vec::new(), facets: Facets::default() });
        }
        let mut scan = ds.scan();
        scan.project(&["id", "kind", "status", "project"]).map_err(lance_err)?;
        scan.filter(&predicate).map_err(lance_err)?;
        if !text.is_empty() {
            let fts = FullTextSearchQuery::new(text.to_string()).with_column("search_text".into()).map_err(lance_err)?;
            scan.full_text_search(fts).map_err(lance_err)?;
            scan.prefilter(true);
        }
        let batches: Vec<RecordBatch> = scan.try_into_stream().await.map_err(lance_err)?.try_collect().await.map_err(lance_err)?;

        let mut facets = Facets::default();
        let mut matches = Vec::new();
        for b in &batches {
            let col = |name: &'static str| b.column_by_name(name).and_then(|c| c.as_string_opt::<i32>()).ok_or_else(|| missing(name));
            let (id, kind, status, project) = (col("id")?, col("kind")?, col("status")?, col("project")?);
            let score = b.column_by_name("_score").and_then(|c| c.as_primitive_opt::<Float32Type>());
            for i in 0..b.num_rows() {
                *facets.kind.entry(kind.value(i).to_string()).or_default() += 1;
                *facets.status.entry(status.value(i).to_string()).or_default() += 1;
                *facets.project.entry(project.value(i).to_string()).or_default() += 1;
                let score = score.filter(|s| !s.is_null(i)).map(|s| s.value(i));
                matches.push(Match { id: id.value(i).to_string(), score });
            }
        }
        // Best first; without query text, newest first (ids are UUIDv7, ordered by time).
        matches.sort_by(|a, b| match (a.score, b.score) {
            (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| b.id.cmp(&a.id)),
            _ => b.id.cmp(&a.id),
        });
        let total = matches.len();
        let page: Vec<&Match> = matches.iter().skip(query.offset).take(query.limit).collect();
        let ids: Vec<_> = page.iter().filter_map(|m| m.id.parse().ok()).collect();
        let mut assets = self.get_assets(&ids).await?;
        let hits = page
            .iter()
            .filter_map(|m| {
                let id = m.id.parse().ok()?;
                assets.remove(&id).map(|asset| SearchHit { asset, score: m.score })
            })
            .collect();
        Ok(SearchResults { total, hits, facets })
    }
}
