//! Live progress of media work, shared by the dataflow (which reports) and the API (which
//! shows it). Finished stage states are persisted with the asset; this holds what is running.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use acervo_catalog::{AssetId, Stage};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct LiveStage {
    pub stage: Stage,
    pub started_at: DateTime<Utc>,
    /// 0.0 to 1.0; probe and thumbnail are short and report none, long stages will.
    pub progress: f32,
}

#[derive(Default)]
pub struct JobRegistry {
    running: Mutex<HashMap<AssetId, BTreeMap<Stage, LiveStage>>>,
}

impl JobRegistry {
    pub fn started(&self, id: AssetId, stage: Stage) {
        let live = LiveStage { stage, started_at: Utc::now(), progress: 0.0 };
        self.running.lock().unwrap_or_else(|p| p.into_inner()).entry(id).or_default().insert(stage, live);
    }

    pub fn finished(&self, id: AssetId, stage: Stage) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = running.get_mut(&id) {
            m.remove(&stage);
            if m.is_empty() {
                running.remove(&id);
            }
        }
    }

    pub fn running(&self, id: AssetId) -> Vec<LiveStage> {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}
