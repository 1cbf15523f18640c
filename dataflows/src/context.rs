//! What every stage shares: the stores it reads masters from and writes outputs to, the live job
//! registry and metrics it reports to, the settings of the media work, and the models.

use std::path::PathBuf;
use std::sync::Arc;

use acervo_catalog::RenditionProfiles;
use acervo_catalog::config::JobsConfig;
use acervo_lakehouse::{Catalog, MasterStore};
use acervo_operators::ProbeLimits;

use crate::jobs::JobRegistry;
use crate::metrics::Metrics;
use crate::models::{Inference, Models};

pub struct StageContext {
    pub masters: MasterStore,
    /// Read-only here: a stage looks up what it needs beside its input (an asset's vectors).
    pub catalog: Arc<Catalog>,
    /// Stages run on pool threads and block on the store's async calls through this runtime.
    pub runtime: tokio::runtime::Handle,
    pub jobs: Arc<JobRegistry>,
    pub metrics: Arc<Metrics>,
    pub limits: ProbeLimits,
    pub profiles: RenditionProfiles,
    pub jobs_config: JobsConfig,
    /// Where passes write before their outputs are committed to the store.
    pub work_dir: PathBuf,
    pub models: Models,
    /// The label, CLIP and text models, batched across assets.
    pub inference: Inference,
}
