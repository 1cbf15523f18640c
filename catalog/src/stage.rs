//! Processing stages of an asset and their state, shown by the jobs API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::names! {
    /// A unit of work the dataflow runs for an asset.
    pub enum Stage / UnknownStage ("stage") {
        Ingest = "ingest",
        Probe = "probe",
        Thumbnail = "thumbnail",
        /// Proxies, web, HLS, poster, storyboard, waveform, audio and image renditions.
        Renditions = "renditions",
        /// Suggested metadata from models: OCR text, labels, transcript, embeddings.
        Enrich = "enrich",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", tag = "state")]
pub enum StageState {
    Pending,
    Running,
    Done,
    Skipped {
        reason: String,
    },
    Failed {
        reason: String,
    },
    /// Stopped on request (`DELETE /api/v1/jobs/{id}`); nothing partial was kept.
    Cancelled {
        reason: String,
    },
}

impl StageState {
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            StageState::Done
                | StageState::Skipped { .. }
                | StageState::Failed { .. }
                | StageState::Cancelled { .. }
        )
    }
}

/// The state of each stage of one asset, persisted with the asset.
pub type Stages = BTreeMap<Stage, StageState>;

/// The media stages an asset of this kind goes through after ingest.
pub fn media_stages(kind: crate::media_kind::MediaKind) -> &'static [Stage] {
    use crate::media_kind::MediaKind::*;
    match kind {
        Video | Image => &[Stage::Probe, Stage::Thumbnail, Stage::Renditions, Stage::Enrich],
        Audio => &[Stage::Probe, Stage::Renditions, Stage::Enrich],
        Document => &[],
    }
}
