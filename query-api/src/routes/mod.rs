//! Handlers, one file per resource.

pub mod assets;
pub mod download;
pub mod enrichment;
pub mod jobs;
pub mod ops;
pub mod reindex;
pub mod search;
pub mod sql;

use acervo_catalog::{Asset, AssetId};

use crate::problem::ApiError;
use crate::state::AppState;

/// The asset as its principal may see it, with intents accepted but not yet materialised.
pub(crate) async fn visible_asset(state: &AppState, id: AssetId) -> Result<Asset, ApiError> {
    let row = state.catalog.get_asset(id).await?;
    state
        .pending
        .view(id, row)
        .filter(|a| state.principal().can_see_project(&a.project))
        .ok_or_else(|| ApiError::not_found(format!("no asset has the id {id}")))
}
