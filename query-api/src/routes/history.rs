//! `GET /api/v1/assets/{id}/history`: every change of an asset, with who, when, and the fields
//! before and after, newest first, paged by log offset (read from the `history` table the
//! catalog writer keeps).

use acervo_catalog::HistoryEntry;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::visible_asset;
use crate::auth::Caller;
use crate::extract::{ApiQuery, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Entries older than this one (the previous page's `next_before`).
    pub before: Option<u64>,
    /// At most this many entries (default 50, at most 500).
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Give as `before` for the next page; absent on the last.
    pub next_before: Option<u64>,
}

/// An asset's changes, newest first.
#[utoipa::path(get, path = "/api/v1/assets/{id}/history", tag = "assets",
    params(("id" = String, Path), HistoryParams),
    responses(
        (status = 200, body = HistoryPage),
        (status = 400, description = "Invalid query string", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<HistoryPage>, ApiError> {
    let id = parse_id(&id)?;
    visible_asset(&state, &principal, id).await?;
    // Log offsets are int64 in the OpenAPI document (and in the table's readers).
    if p.before.is_some_and(|b| b > i64::MAX as u64) {
        return Err(ApiError::bad_request("before is a log offset, at most 2^63 - 1"));
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit is between 1 and 500"));
    }
    // One more than the page tells whether another follows.
    let mut entries = state.catalog.history_of(id, p.before, limit + 1).await?;
    let next_before = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(HistoryPage { entries, next_before }))
}
