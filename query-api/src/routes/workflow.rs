//! The editorial workflow: an asset moves `draft` → `in_review` → `approved` → `published` →
//! `archived` (and back along the moves `EditorialStatus::can_move_to` knows), each move an
//! event in the log; who may make which move is the policy's decision.

use acervo_catalog::{Action, EditorialStatus};
use acervo_policy::{Resource, Transition};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;

use super::assets::{AssetView, get_one};
use super::visible_asset;
use crate::auth::Caller;
use crate::extract::{ApiJson, parse_id};
use crate::intents;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusMove {
    /// The status to move to.
    pub status: EditorialStatus,
    /// Why (kept in the event log and the audit trail).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Move an asset in the editorial workflow.
#[utoipa::path(post, path = "/api/v1/assets/{id}/editorial-status", tag = "assets",
    params(("id" = String, Path)), request_body = StatusMove,
    responses(
        (status = 200, body = AssetView),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The policy does not allow this move to this principal", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workflow has no such move from the asset's status", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status or field", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn move_status(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusMove>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, &principal, id).await?;
    let (from, to) = (asset.editorial_status, body.status);
    if !from.can_move_to(to) {
        let next: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        return Err(ApiError::conflict(format!(
            "asset {id} is {from}: it cannot move to {to} (from {from}: {})",
            next.join(", ")
        )));
    }
    let transition = Transition { from, to };
    if !state.policy.allow(
        &principal,
        Action::AssetTransition,
        &Resource::asset(&asset),
        Some(transition),
    ) {
        return Err(ApiError::forbidden(format!(
            "{} may not move assets of project {:?} from {from} to {to}",
            principal.name, asset.project
        )));
    }
    let comment = body.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    intents::move_editorial_status(&state, &principal, id, from, to, comment).await?;
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}
