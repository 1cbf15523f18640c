//! `POST /api/v1/assets/{id}/restore`: an archivist brings a soft-deleted asset back, as it
//! was (ready, failed, or processing what the delete cut short), until a purge removes it.

use acervo_catalog::{Action, AssetStatus};
use axum::Json;
use axum::extract::{Path, State};

use super::asset_for;
use super::assets::{AssetView, get_one};
use crate::auth::Caller;
use crate::extract::parse_id;
use crate::intents;
use crate::problem::ApiError;
use crate::state::AppState;

/// Restore a soft-deleted asset.
#[utoipa::path(post, path = "/api/v1/assets/{id}/restore", tag = "assets",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = AssetView),
        (status = 403, description = "Not an archivist of the asset's project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not deleted, or already purged", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn restore(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetArchive).await?;
    match asset.status {
        AssetStatus::Deleted => intents::restore(&state, &principal, id).await?,
        AssetStatus::Purged => {
            return Err(ApiError::conflict(format!(
                "asset {id} was purged: its master and renditions are gone"
            )));
        }
        other => return Err(ApiError::conflict(format!("asset {id} is {other}, not deleted"))),
    }
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}
