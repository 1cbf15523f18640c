//! `/api/v1/reindex`: run the enrichment stage again for the assets whose suggestions were made
//! by another version of a model than the one configured now (`acervo reindex`).

use std::collections::BTreeMap;

use acervo_catalog::{Asset, AssetId, AssetStatus, Event, EventEnvelope, MediaKind, Stage};
use acervo_lakehouse::tables::AssetFilter;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// Assets read per catalog page while looking for stale ones.
const PAGE: usize = 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReindexRequest {
    /// The stage to run again; `enrich` is the one whose results depend on model versions.
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
    pub models: BTreeMap<String, String>,
}

/// Whether an enrichment part applies to an asset at all (a photo has no speech).
fn applies(part: &str, asset: &Asset) -> bool {
    let sound = asset.technical.as_ref().is_some_and(|t| t.audio_codec.is_some());
    match part {
        "ocr" | "labels" => matches!(asset.kind, MediaKind::Image | MediaKind::Video),
        "speech" => asset.kind == MediaKind::Audio || (asset.kind == MediaKind::Video && sound),
        _ => true,
    }
}

/// Queue the enrichment stage again for every asset a model's new version has not enriched.
#[utoipa::path(post, path = "/api/v1/reindex", tag = "jobs", request_body = ReindexRequest,
    responses((status = 202, body = ReindexQueued), (status = 415), (status = 422, description = "Not the enrich stage, or no such model")))]
pub async fn reindex(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ReindexRequest>,
) -> Result<(axum::http::StatusCode, Json<ReindexQueued>), ApiError> {
    if req.stage != Stage::Enrich {
        return Err(ApiError::unprocessable(format!(
            "only the enrich stage is reindexed by model version, not {}",
            req.stage.as_str()
        )));
    }
    let current = state.ai_models.clone();
    let parts: BTreeMap<String, String> = match &req.model {
        None => current.clone(),
        Some(name) => current
            .iter()
            .filter(|(_, v)| v.split('@').next() == Some(name.as_str()) || *v == name)
            .map(|(k, v)| (k.clone(), v.clone()))
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
    let principal = state.principal();
    let (mut queued, mut up_to_date, mut offset) = (Vec::new(), 0usize, 0usize);
    let mut events = Vec::new();
    loop {
        let (page, _) =
            state.catalog.list(&AssetFilter::default(), &principal, PAGE, offset).await?;
        offset += page.len();
        for a in &page {
            if !acervo_catalog::media_stages(a.kind).contains(&Stage::Enrich)
                || a.status == AssetStatus::Deleted
                || !a.status.can_become(AssetStatus::Processing)
            {
                continue;
            }
            let stale = parts
                .iter()
                .any(|(part, now)| applies(part, a) && a.ai.models.get(part) != Some(now));
            if !stale {
                up_to_date += 1;
                continue;
            }
            let text = acervo_catalog::asset::embedding_text(&a.title, &a.description, &a.tags);
            let event = Event::ReprocessRequested {
                id: a.id,
                kind: a.kind,
                sha256: a.sha256.clone(),
                master_key: a.master_key.clone(),
                text,
                only: Some(Stage::Enrich),
            };
            events.push(EventEnvelope { at: Utc::now(), principal: principal.name.clone(), event });
            queued.push(a.id);
        }
        if page.len() < PAGE {
            break;
        }
    }
    for env in events {
        super::assets::append(&state, env).await?;
    }
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(ReindexQueued { queued, up_to_date, models: parts }),
    ))
}
