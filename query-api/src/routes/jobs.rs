//! `/api/v1/jobs/{id}`: media work and how far it has come. The id is an asset's (its
//! processing stages: probe, thumbnail, renditions) or an on-demand job's. `DELETE` cancels
//! queued or running work; `/output` downloads an on-demand result; `/api/v1/dead-letters`
//! lists jobs that failed for good.

use acervo_catalog::{
    Action, AssetId, AssetStatus, DeadLetter, OnDemandJob, Principal, Stage, StageState,
};
use acervo_lakehouse::keys;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::visible_asset;
use crate::auth::Caller;
use crate::extract::{ApiQuery, parse_id};
use crate::intents;
use acervo_policy::Resource;

use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct StageView {
    pub stage: Stage,
    /// pending, running, done, skipped, failed or cancelled.
    pub state: String,
    pub reason: Option<String>,
    /// 0.0 to 1.0.
    pub progress: f32,
    pub started_at: Option<DateTime<Utc>>,
    /// The attempt running now (1 = first try), while running.
    pub attempt: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AssetJobView {
    pub asset_id: AssetId,
    pub status: AssetStatus,
    pub status_reason: Option<String>,
    /// Share of stages finished, with the running stage's own progress, 0.0 to 1.0.
    pub progress: f32,
    /// Whether `DELETE` would cancel something (queued or running work).
    pub cancellable: bool,
    pub stages: Vec<StageView>,
}

/// An asset's processing or an on-demand job.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobView {
    Asset(AssetJobView),
    Ondemand(Box<OnDemandView>),
}

#[derive(Serialize, ToSchema)]
pub struct OnDemandView {
    #[serde(flatten)]
    pub job: OnDemandJob,
    pub cancellable: bool,
    /// Download URL once done.
    pub output_url: Option<String>,
}

async fn asset_job(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
) -> Result<AssetJobView, ApiError> {
    let asset = visible_asset(state, principal, id).await?;
    let running = state.jobs.running(id);
    let stages: Vec<StageView> = asset
        .stages
        .iter()
        .map(|(stage, st)| {
            let live = running.iter().find(|l| l.stage == *stage).filter(|_| !st.is_finished());
            let (name, reason, progress) = match st {
                StageState::Pending if live.is_some() => {
                    ("running", None, live.map_or(0.0, |l| l.progress))
                }
                StageState::Pending => ("pending", None, 0.0),
                StageState::Running => ("running", None, live.map_or(0.0, |l| l.progress)),
                StageState::Done => ("done", None, 1.0),
                StageState::Skipped { reason } => ("skipped", Some(reason.clone()), 1.0),
                StageState::Failed { reason } => ("failed", Some(reason.clone()), 1.0),
                StageState::Cancelled { reason } => ("cancelled", Some(reason.clone()), 1.0),
            };
            StageView {
                stage: *stage,
                state: name.into(),
                reason,
                progress,
                started_at: live.map(|l| l.started_at),
                attempt: live.map(|l| l.attempt),
            }
        })
        .collect();
    let progress = if stages.is_empty() {
        1.0
    } else {
        stages.iter().map(|s| s.progress).sum::<f32>() / stages.len() as f32
    };
    Ok(AssetJobView {
        asset_id: id,
        status: asset.status,
        status_reason: asset.status_reason,
        progress,
        // Stages not finished are queued or running: a cancel stops them.
        cancellable: asset.stages.values().any(|s| !s.is_finished()),
        stages,
    })
}

/// The on-demand job `id`: live while queued or running, then its durable record; accepted
/// but not yet taken by the dataflow, queued.
async fn ondemand_job(state: &AppState, id: Uuid) -> Result<Option<OnDemandJob>, ApiError> {
    if let Some(j) = state.jobs.ondemand(id) {
        state.pending.taken(id);
        return Ok(Some(j));
    }
    let record = state
        .masters
        .get_if_exists(&keys::ondemand_record(&id.to_string()))
        .await
        .map_err(ApiError::internal)?;
    match record {
        Some(bytes) => {
            state.pending.taken(id);
            Ok(Some(serde_json::from_slice(&bytes).map_err(ApiError::internal)?))
        }
        None => Ok(state.pending.ondemand(id)),
    }
}

async fn job_view(state: &AppState, principal: &Principal, id: Uuid) -> Result<JobView, ApiError> {
    // Live on-demand jobs first, then assets (the id polled most), then finished on-demand
    // records: an asset's view costs no object-store miss.
    let job = match state.jobs.ondemand(id) {
        Some(job) => job,
        None => match asset_job(state, principal, AssetId(id)).await {
            Ok(view) => return Ok(JobView::Asset(view)),
            Err(e) if e.status != StatusCode::NOT_FOUND => return Err(e),
            Err(not_found) => ondemand_job(state, id).await?.ok_or(not_found)?,
        },
    };
    visible_asset(state, principal, job.asset_id).await?;
    let output_url = job.output_key.as_ref().map(|_| format!("/api/v1/jobs/{id}/output"));
    Ok(JobView::Ondemand(Box::new(OnDemandView {
        cancellable: job.state.is_active(),
        output_url,
        job,
    })))
}

/// An asset's processing (by asset id) or an on-demand job (by job id), with progress.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "Asset id or on-demand job id")),
    responses(
        (status = 200, body = JobView),
        (status = 404, description = "No such asset or job", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn job(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(job_view(&state, &principal, id.0).await?))
}

/// Cancels queued or running work: an asset's media stages (by asset id) or an on-demand job.
/// The cancel is an intent in the log; the dataflow reads it ahead of the queued work, the
/// encode stops within a second and nothing partial is kept.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses(
        (status = 202, description = "Cancellation requested", body = JobView),
        (status = 403, description = "The caller may read but not change the asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset or job", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing queued or running", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?.0;
    let view = job_view(&state, &principal, id).await?;
    let (asset_id, cancellable) = match &view {
        JobView::Asset(a) => (a.asset_id, a.cancellable),
        JobView::Ondemand(o) => (o.job.asset_id, o.cancellable),
    };
    super::asset_for(&state, &principal, asset_id, Action::AssetEdit).await?;
    if !cancellable {
        return Err(ApiError::conflict(format!(
            "job {id} has nothing queued or running to cancel"
        )));
    }
    tracing::info!(job = %id, principal = %principal.name, "cancellation requested");
    intents::cancel(&state, &principal, asset_id, id).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// The output of a finished on-demand job (Range supported).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/output", tag = "jobs", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The output"),
        (status = 206, description = "A byte range"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such job", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has no output (not done)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The output expired", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn output(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?.0;
    let job = ondemand_job(&state, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no on-demand job has the id {id}")))?;
    visible_asset(&state, &principal, job.asset_id).await?;
    let (Some(key), Some(sha256)) = (job.output_key.as_deref(), job.output_sha256.as_deref())
    else {
        return Err(ApiError::conflict(format!(
            "on-demand job {id} is {:?}, it has no output",
            job.state
        )));
    };
    let Some(size) = state.masters.head(key).await.map_err(ApiError::internal)? else {
        return Err(ApiError::new(
            StatusCode::GONE,
            "Gone",
            format!("the output of job {id} expired"),
        ));
    };
    super::download::serve_object(
        &state,
        &headers,
        key,
        sha256,
        size,
        "video/mp4",
        &format!("ondemand-{id}.mp4"),
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterParams {
    /// Only this asset's.
    pub asset_id: Option<String>,
}

/// Jobs that failed for good: their reason, attempts and whether the failure was permanent.
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "jobs", params(DeadLetterParams),
    responses(
        (status = 200, body = Vec<DeadLetter>),
        (status = 400, description = "Invalid query string", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn dead_letters(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(p): ApiQuery<DeadLetterParams>,
) -> Result<Json<Vec<DeadLetter>>, ApiError> {
    let prefix = match p.asset_id.as_deref() {
        Some(a) => format!("dead-letters/{}", parse_id(a)?),
        None => "dead-letters".into(),
    };
    let mut keys = state.masters.list(&prefix).await.map_err(ApiError::internal)?;
    keys.sort();
    keys.truncate(1000);
    // One catalog read per asset, however many of its jobs failed.
    let mut visible: std::collections::HashMap<AssetId, bool> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for key in keys {
        if let Some(bytes) = state.masters.get_if_exists(&key).await.map_err(ApiError::internal)?
            && let Ok(d) = serde_json::from_slice::<DeadLetter>(&bytes)
        {
            let seen = match visible.get(&d.asset_id) {
                Some(v) => *v,
                None => {
                    let v = state.catalog.get_asset(d.asset_id).await?.is_some_and(|a| {
                        state.may(&principal, Action::AssetRead, &Resource::asset(&a))
                    });
                    visible.insert(d.asset_id, v);
                    v
                }
            };
            if seen {
                out.push(d);
            }
        }
    }
    out.sort_by_key(|d| d.at);
    Ok(Json(out))
}
