//! Processing stages of an asset and their state, shown by the jobs API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A unit of work the dataflow runs for an asset.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Ingest,
    Probe,
    Thumbnail,
    /// Proxies, web, HLS, poster, storyboard, waveform, audio and image renditions.
    Renditions,
    /// Suggested metadata from models: OCR text, the text embedding.
    Enrich,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Probe => "probe",
            Stage::Thumbnail => "thumbnail",
            Stage::Renditions => "renditions",
            Stage::Enrich => "enrich",
        }
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
pub fn media_stages(kind: crate::MediaKind) -> &'static [Stage] {
    use crate::MediaKind::*;
    match kind {
        Video | Image => &[Stage::Probe, Stage::Thumbnail, Stage::Renditions, Stage::Enrich],
        Audio => &[Stage::Probe, Stage::Renditions, Stage::Enrich],
        Document => &[],
    }
}
