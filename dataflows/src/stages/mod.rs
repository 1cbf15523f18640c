//! The stages: what each does with its input, on a pool thread.
//!
//! ```text
//! planned media work ─► probe ─┬─► thumbnail        (media pool)
//!                              ├─► renditions       (media pool, retried)
//!                              └─► enrich           (enrich pool)
//! planned re-embedding ───────────► enrich (text only)
//! planned on-demand rendition ────► on-demand       (media pool, interactive lane)
//! ```
//!
//! The inputs they pass along live here.

pub mod enrich;
pub mod ondemand;
pub mod probe;
pub mod renditions;
pub mod thumbnail;

use std::sync::Arc;

use acervo_catalog::apply::runs;
use acervo_catalog::{Asset, Stage as StageName, TechnicalMetadata, media_stages};

use crate::master::LocalMaster;

/// An asset's media stages to run: those of its kind, or `only` one (and the probe it needs).
#[derive(Clone, Debug)]
pub struct MediaJob {
    /// The asset as the catalog had it when the work was planned.
    pub asset: Arc<Asset>,
    pub only: Option<StageName>,
}

impl MediaJob {
    /// The stages this job runs, in order.
    pub fn stages(&self) -> Vec<StageName> {
        media_stages(self.asset.kind).iter().copied().filter(|s| runs(*s, self.only)).collect()
    }

    pub fn runs(&self, stage: StageName) -> bool {
        self.stages().contains(&stage)
    }
}

/// A probed asset: what the stages after the probe start from.
#[derive(Clone, Debug)]
pub struct Probed {
    pub job: MediaJob,
    pub master: Arc<LocalMaster>,
    pub technical: TechnicalMetadata,
}
