//! `/api/v1/assets/{id}/enrichment` and `/segments`: bring a transcript, OCR text, labels or
//! embeddings from another system (or correct them), and read an asset's timed transcript.

use acervo_catalog::{Action, AssetStatus, Enrichment, FrameRow, SegmentRow};
use axum::Json;
use axum::extract::{Path, State};

use super::assets::{AssetView, get_one};
use super::{asset_for, visible_asset};
use crate::auth::Caller;
use crate::extract::{ApiJson, parse_id};
use crate::intents;
use crate::problem::ApiError;
use crate::state::AppState;

/// Replace parts of an asset's enrichment; each part given replaces the previous one (vectors
/// given replace all of the asset's vectors). Searchable once the dataflow has applied it.
#[utoipa::path(put, path = "/api/v1/assets/{id}/enrichment", tag = "assets", params(("id" = String, Path)),
    request_body = Enrichment,
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset is deleted", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid enrichment or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(enrichment): ApiJson<Enrichment>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetEdit).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::conflict(format!("asset {id} is deleted")));
    }
    enrichment
        .validate(state.config.search.embedding_dim)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    intents::import_enrichment(&state, &principal, id, enrichment).await?;
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}

/// What the picture models found in each sampled video frame (OCR text, labels with scores,
/// the models), in time order.
#[utoipa::path(get, path = "/api/v1/assets/{id}/frames", tag = "assets", params(("id" = String, Path)),
    responses(
        (status = 200, body = Vec<FrameRow>),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn frames(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<FrameRow>>, ApiError> {
    let id = parse_id(&id)?;
    visible_asset(&state, &principal, id).await?;
    Ok(Json(state.catalog.frames_of(id).await?))
}

/// The asset's transcript segments, in time order.
#[utoipa::path(get, path = "/api/v1/assets/{id}/segments", tag = "assets", params(("id" = String, Path)),
    responses(
        (status = 200, body = Vec<SegmentRow>),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn segments(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<SegmentRow>>, ApiError> {
    let id = parse_id(&id)?;
    visible_asset(&state, &principal, id).await?;
    Ok(Json(state.catalog.segments_of(id).await?))
}
