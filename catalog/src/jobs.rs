//! The vocabulary of work in flight: the two lanes of the media pool, a stage's live progress,
//! on-demand job records and dead letters (jobs that failed for good).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::asset_id::AssetId;
use crate::event::OnDemandSpec;
use crate::stage::Stage;

crate::names! {
    /// The lanes of the media pool (seed 001 §4.3.10: `q-transcode` and
    /// `q-transcode-interactive`): a free thread takes an interactive job first.
    pub enum Lane / UnknownLane ("lane") {
        Batch = "batch",
        Interactive = "interactive",
    }
}

/// A stage running now, as the jobs API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct LiveStage {
    pub stage: Stage,
    pub started_at: DateTime<Utc>,
    /// 0.0 to 1.0, from decoded timestamps for long stages.
    pub progress: f32,
    /// Attempt number (1 = first try).
    pub attempt: u32,
}

crate::names! {
    pub enum JobState / UnknownJobState ("job state") {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl JobState {
    /// Queued or running: a cancel can still stop it.
    pub fn is_active(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// An on-demand rendition job, as `GET /api/v1/jobs/{id}` shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OnDemandJob {
    pub job_id: Uuid,
    pub asset_id: AssetId,
    pub lane: Lane,
    pub state: JobState,
    pub progress: f32,
    pub attempts: u32,
    pub reason: Option<String>,
    pub spec: OnDemandSpec,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Object key of the output once done (under `ondemand/`).
    pub output_key: Option<String>,
    pub output_size: Option<u64>,
    pub output_sha256: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// When the output is removed (the `ondemand/` lifecycle rule).
    pub expires_at: Option<DateTime<Utc>>,
}

impl OnDemandJob {
    /// The record of a job that was asked for and has not started.
    pub fn queued(
        job_id: Uuid,
        asset_id: AssetId,
        spec: OnDemandSpec,
        requested_by: &str,
        at: DateTime<Utc>,
    ) -> OnDemandJob {
        OnDemandJob {
            job_id,
            asset_id,
            lane: Lane::Interactive,
            state: JobState::Queued,
            progress: 0.0,
            attempts: 0,
            reason: None,
            spec,
            requested_by: requested_by.to_string(),
            created_at: at,
            started_at: None,
            finished_at: None,
            output_key: None,
            output_size: None,
            output_sha256: None,
            width: None,
            height: None,
            expires_at: None,
        }
    }
}

/// A dead-letter record (`dead-letters/{asset}/{stage}-{ms}.json`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    pub asset_id: AssetId,
    /// The on-demand job, when the failure was one.
    pub job_id: Option<Uuid>,
    pub stage: Stage,
    pub reason: String,
    pub attempts: u32,
    /// False when the attempts ran out on transient failures.
    pub permanent: bool,
    pub at: DateTime<Utc>,
}
