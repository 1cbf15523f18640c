//! Acervo's dataflows. The ingest dataflow reads the event log from its checkpoint, fans media
//! work (probe, thumbnail, renditions; on-demand renditions on an interactive lane) out to a
//! bounded blocking pool and the enrichment to a second one (models batched across assets),
//! materialises the catalog in Lance,
//! and commits its input offset only when the timely frontier says every output for earlier
//! input is durable.

pub mod batcher;
mod catalog_writer;
mod engine;
pub mod enrich_stage;
mod graph;
pub mod jobs;
mod json;
pub mod materialize;
mod media_job;
pub mod metrics;
mod ondemand;
pub mod pool;
mod renditions_stage;
pub mod retry;
mod update;

pub use engine::{Engine, EngineContext, EngineError};
pub use jobs::{JobRegistry, JobState, LiveStage, OnDemandJob};
pub use metrics::Metrics;
pub use pool::Lane;
pub use retry::DeadLetter;
