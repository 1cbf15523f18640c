//! `PUT` and `DELETE /api/v1/assets/{id}/legal-hold`: an archivist places a legal hold, with
//! its reason, or releases it. While held an asset cannot be deleted and a purge passes it by.

use acervo_catalog::Action;
use acervo_catalog::legal_hold::check_reason;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;

use super::asset_for;
use super::assets::{AssetView, get_one};
use crate::auth::Caller;
use crate::extract::{ApiJson, parse_id};
use crate::intents;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalHoldRequest {
    /// Why (a case number, a court order), at most 500 characters.
    pub reason: String,
}

/// Place a legal hold (or change its reason).
#[utoipa::path(put, path = "/api/v1/assets/{id}/legal-hold", tag = "assets",
    params(("id" = String, Path)), request_body = LegalHoldRequest,
    responses(
        (status = 200, body = AssetView),
        (status = 403, description = "Not an archivist of the asset's project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already purged", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or too long a one", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn place(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LegalHoldRequest>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetArchive).await?;
    let reason = check_reason(&body.reason).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if asset.status == acervo_catalog::AssetStatus::Purged {
        return Err(ApiError::conflict(format!("asset {id} is purged: nothing is left to hold")));
    }
    if asset.legal_hold.as_ref().is_none_or(|h| h.reason != reason) {
        intents::legal_hold(&state, &principal, id, Some(reason)).await?;
    }
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}

/// Release a legal hold (nothing to do when there is none).
#[utoipa::path(delete, path = "/api/v1/assets/{id}/legal-hold", tag = "assets",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = AssetView),
        (status = 403, description = "Not an archivist of the asset's project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn release(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetArchive).await?;
    if asset.legal_hold.is_some() {
        intents::legal_hold(&state, &principal, id, None).await?;
    }
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}
