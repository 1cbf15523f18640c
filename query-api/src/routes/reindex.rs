//! `/api/v1/reindex`: run the enrichment stage again for the assets whose suggestions were made
//! by another version of a model than the one configured now (`acervo reindex`).

use std::collections::BTreeMap;

use acervo_catalog::{Action, AssetId, AssetStatus, EnrichPart, Stage};
use acervo_lakehouse::tables::AssetFilter;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::intents;
use acervo_policy::Resource;

use crate::problem::ApiError;
use crate::state::AppState;

/// Assets read per catalog page while looking for stale ones.
const PAGE: usize = 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReindexRequest {
    /// The stage to run again: `enrich`, the one whose results depend on model versions.
    #[schema(value_type = String, pattern = "^enrich$")]
    pub stage: Stage,
    /// Only this model (its configured name, e.g. `whisper-base`); every model otherwise.
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReindexQueued {
    /// Assets whose enrichment is queued again (follow them at `GET /api/v1/jobs/{id}`).
    pub queued: Vec<AssetId>,
    /// Assets already enriched by the current version.
    pub up_to_date: usize,
    /// The model versions compared against (`part` → `name@version`).
    pub models: BTreeMap<EnrichPart, String>,
}

/// Queue the enrichment stage again for every asset a model's new version has not enriched.
#[utoipa::path(post, path = "/api/v1/reindex", tag = "jobs", request_body = ReindexRequest,
    responses(
        (status = 202, body = ReindexQueued),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may reindex no project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not the enrich stage, no such model, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reindex(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(req): ApiJson<ReindexRequest>,
) -> Result<(axum::http::StatusCode, Json<ReindexQueued>), ApiError> {
    if !state.may_somewhere(&principal, Action::AssetArchive) {
        return Err(ApiError::forbidden(format!(
            "{} may not reindex (an archivist's work)",
            principal.name
        )));
    }
    if req.stage != Stage::Enrich {
        return Err(ApiError::unprocessable(format!(
            "only the enrich stage is reindexed by model version, not {}",
            req.stage.as_str()
        )));
    }
    let current = state.ai_models.clone();
    let parts: BTreeMap<EnrichPart, String> = match &req.model {
        None => current.clone(),
        Some(name) => current
            .iter()
            .filter(|(_, v)| v.split('@').next() == Some(name.as_str()) || *v == name)
            .map(|(k, v)| (*k, v.clone()))
            .collect(),
    };
    if parts.is_empty() {
        let names: Vec<&str> = current.values().map(|v| v.split('@').next().unwrap_or(v)).collect();
        return Err(ApiError::unprocessable(format!(
            "no model named {:?} is configured (configured: {})",
            req.model.unwrap_or_default(),
            names.join(", ")
        )));
    }
    let (mut queued, mut up_to_date, mut offset) = (Vec::new(), 0usize, 0usize);
    let scope = state.scope(&principal);
    loop {
        let (page, _) = state.catalog.list(&AssetFilter::default(), &scope, PAGE, offset).await?;
        offset += page.len();
        for a in &page {
            if !state.may(&principal, Action::AssetArchive, &Resource::asset(a))
                || !acervo_catalog::media_stages(a.kind).contains(&Stage::Enrich)
                || a.status == AssetStatus::Deleted
                || !a.status.can_become(AssetStatus::Processing)
            {
                continue;
            }
            let stale = parts.iter().any(|(part, now)| {
                part.applies(a.kind, a.technical.as_ref()) && a.ai.models.get(part) != Some(now)
            });
            if !stale {
                up_to_date += 1;
                continue;
            }
            queued.push(a.id);
        }
        if page.len() < PAGE {
            break;
        }
    }
    // In batches: one sync of the log per thousand assets, not one per asset.
    intents::reprocess(&state, &principal, &queued, Some(Stage::Enrich)).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(ReindexQueued { queued, up_to_date, models: parts }),
    ))
}
