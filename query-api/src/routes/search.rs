//! `/api/v1/search`: full text over title, description and tags, with facets.

use acervo_lakehouse::tables::{SearchQuery, SearchResults};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::assets::{asset_filter, page_bounds};
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// Words to find; empty lists everything that matches the filters.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub project: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// Search assets; facet counts (kind, status, project) cover every match.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, description = "Invalid filter")))]
pub async fn search(State(state): State<AppState>, ApiQuery(p): ApiQuery<SearchParams>) -> Result<Json<SearchResults>, ApiError> {
    let filter = asset_filter(p.kind.as_deref(), p.status.as_deref(), p.project, None)?;
    let (limit, offset) = page_bounds(p.limit, p.offset)?;
    let query = SearchQuery { q: p.q.unwrap_or_default(), filter, limit, offset };
    Ok(Json(state.catalog.search(&query, &state.principal()).await?))
}
