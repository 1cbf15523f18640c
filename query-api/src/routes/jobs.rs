//! `/api/v1/jobs/{asset_id}`: the processing stages of an asset and how far each has come.

use acervo_catalog::{AssetId, AssetStatus, Stage, StageState};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::visible_asset;
use crate::extract::parse_id;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct StageView {
    pub stage: Stage,
    /// pending, running, done, skipped or failed.
    pub state: String,
    pub reason: Option<String>,
    /// 0.0 to 1.0.
    pub progress: f32,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub asset_id: AssetId,
    pub status: AssetStatus,
    pub status_reason: Option<String>,
    /// Share of stages finished, 0.0 to 1.0.
    pub progress: f32,
    pub stages: Vec<StageView>,
}

/// Stage progress of an asset's processing.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "Asset id")),
    responses((status = 200, body = JobView), (status = 404)))]
pub async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    let running = state.jobs.running(id);
    let stages: Vec<StageView> = asset
        .stages
        .iter()
        .map(|(stage, st)| {
            let live = running.iter().find(|l| l.stage == *stage).filter(|_| !st.is_finished());
            let (name, reason, progress) = match st {
                StageState::Pending if live.is_some() => ("running", None, live.map_or(0.0, |l| l.progress)),
                StageState::Pending => ("pending", None, 0.0),
                StageState::Running => ("running", None, live.map_or(0.0, |l| l.progress)),
                StageState::Done => ("done", None, 1.0),
                StageState::Skipped { reason } => ("skipped", Some(reason.clone()), 1.0),
                StageState::Failed { reason } => ("failed", Some(reason.clone()), 1.0),
            };
            StageView { stage: *stage, state: name.into(), reason, progress, started_at: live.map(|l| l.started_at) }
        })
        .collect();
    let finished = stages.iter().filter(|s| s.progress >= 1.0).count();
    let progress = if stages.is_empty() { 1.0 } else { finished as f32 / stages.len() as f32 };
    Ok(Json(JobView { asset_id: id, status: asset.status, status_reason: asset.status_reason, progress, stages }))
}
