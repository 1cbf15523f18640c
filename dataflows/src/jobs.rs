//! Live state of media work, shared by the dataflow (which reports) and the API (which shows
//! it and cancels): running stages with their progress, cancel flags of queued and running
//! jobs, and on-demand jobs. Finished stage states are persisted with the asset; finished
//! on-demand jobs and dead letters are records in the object store (see `records`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use acervo_catalog::{AssetId, OnDemandSpec, Stage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Clone, Debug, Serialize)]
pub struct LiveStage {
    pub stage: Stage,
    pub started_at: DateTime<Utc>,
    /// 0.0 to 1.0, from decoded timestamps for long stages.
    pub progress: f32,
    /// Attempt number (1 = first try).
    pub attempt: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// An on-demand rendition job, as `GET /api/v1/jobs/{id}` shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OnDemandJob {
    pub job_id: Uuid,
    pub asset_id: AssetId,
    pub lane: String,
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

#[derive(Default)]
pub struct JobRegistry {
    running: Mutex<HashMap<AssetId, BTreeMap<Stage, LiveStage>>>,
    /// Cancel flags of queued and running jobs: an asset's media job by the asset id, an
    /// on-demand job by its job id.
    cancels: Mutex<HashMap<Uuid, Arc<AtomicBool>>>,
    ondemand: Mutex<HashMap<Uuid, OnDemandJob>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl JobRegistry {
    pub fn started(&self, id: AssetId, stage: Stage) {
        self.attempt(id, stage, 1);
    }

    /// A stage starts (or starts again: `attempt` > 1 after a transient failure).
    pub fn attempt(&self, id: AssetId, stage: Stage, attempt: u32) {
        let live = LiveStage { stage, started_at: Utc::now(), progress: 0.0, attempt };
        lock(&self.running).entry(id).or_default().insert(stage, live);
    }

    pub fn progress(&self, id: AssetId, stage: Stage, progress: f32) {
        if let Some(s) = lock(&self.running).get_mut(&id).and_then(|m| m.get_mut(&stage)) {
            s.progress = progress.clamp(0.0, 1.0);
        }
    }

    pub fn finished(&self, id: AssetId, stage: Stage) {
        let mut running = lock(&self.running);
        if let Some(m) = running.get_mut(&id) {
            m.remove(&stage);
            if m.is_empty() {
                running.remove(&id);
            }
        }
    }

    pub fn running(&self, id: AssetId) -> Vec<LiveStage> {
        lock(&self.running).get(&id).map(|m| m.values().cloned().collect()).unwrap_or_default()
    }

    /// Registers a queued job; its flag is raised by `cancel`.
    pub fn register(&self, job: Uuid) -> Arc<AtomicBool> {
        Arc::clone(
            lock(&self.cancels).entry(job).or_insert_with(|| Arc::new(AtomicBool::new(false))),
        )
    }

    pub fn unregister(&self, job: Uuid) {
        lock(&self.cancels).remove(&job);
    }

    /// Asks a queued or running job to stop. False when no such job is queued or running.
    pub fn cancel(&self, job: Uuid) -> bool {
        match lock(&self.cancels).get(&job) {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    pub fn is_active(&self, job: Uuid) -> bool {
        lock(&self.cancels).contains_key(&job)
    }

    pub fn put_ondemand(&self, job: OnDemandJob) {
        lock(&self.ondemand).insert(job.job_id, job);
    }

    pub fn update_ondemand(&self, job: Uuid, f: impl FnOnce(&mut OnDemandJob)) {
        if let Some(j) = lock(&self.ondemand).get_mut(&job) {
            f(j);
        }
    }

    pub fn ondemand(&self, job: Uuid) -> Option<OnDemandJob> {
        lock(&self.ondemand).get(&job).cloned()
    }

    /// Forgets a finished on-demand job (its record is durable in the object store).
    pub fn forget_ondemand(&self, job: Uuid) {
        lock(&self.ondemand).remove(&job);
    }
}
