//! Live state of work in flight, shared by the dataflow (which reports) and the API (which
//! shows it): running stages with their progress and attempt, and on-demand jobs until their
//! durable record is written. Finished stage states are persisted with the asset; finished
//! on-demand jobs and dead letters are records in the object store.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use acervo_catalog::{AssetId, LiveStage, OnDemandJob, Stage};
use chrono::Utc;
use uuid::Uuid;

#[derive(Default)]
pub struct JobRegistry {
    running: Mutex<HashMap<AssetId, BTreeMap<Stage, LiveStage>>>,
    ondemand: Mutex<HashMap<Uuid, OnDemandJob>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl JobRegistry {
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
