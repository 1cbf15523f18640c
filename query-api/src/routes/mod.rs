//! Handlers, one file per resource.

pub mod admin;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod collections;
pub mod download;
pub mod enrichment;
pub mod events;
pub mod history;
pub mod jobs;
pub mod legal_hold;
pub mod ops;
pub mod purge;
pub mod reindex;
pub mod restore;
pub mod search;
pub mod sql;
pub mod workflow;

use acervo_catalog::{Action, Asset, AssetId, Principal};

use acervo_policy::Resource;

use crate::problem::ApiError;
use crate::state::AppState;

/// Runs a password hash (tens of milliseconds of CPU) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)
}

/// The asset as `principal` may see it, with intents accepted but not yet materialised. One it
/// may not read is not found (its existence is not told).
pub(crate) async fn visible_asset(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
) -> Result<Asset, ApiError> {
    let row = state.catalog.get_asset(id).await?;
    state
        .pending
        .view(id, row)
        .filter(|a| state.may(principal, Action::AssetRead, &Resource::asset(a)))
        .ok_or_else(|| ApiError::not_found(format!("no asset has the id {id}")))
}

/// The asset, if `principal` may do `action` to it: not found if it may not even read it,
/// forbidden if it may read but not do this.
pub(crate) async fn asset_for(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    action: Action,
) -> Result<Asset, ApiError> {
    let asset = visible_asset(state, principal, id).await?;
    if !state.may(principal, action, &Resource::asset(&asset)) {
        return Err(ApiError::forbidden(format!(
            "{} may not {} in project {:?}",
            principal.name,
            action.describe(),
            asset.project
        )));
    }
    Ok(asset)
}
