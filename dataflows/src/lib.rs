//! Acervo's dataflows. The ingest dataflow reads the event log from its checkpoint, fans media
//! work (probe, thumbnail) out to a bounded blocking pool, materialises the catalog in Lance,
//! and commits its input offset only when the timely frontier says every output for earlier
//! input is durable.

mod catalog_writer;
mod engine;
mod graph;
pub mod jobs;
mod json;
pub mod materialize;
mod media_job;
pub mod metrics;
mod pool;
mod update;

pub use engine::{Engine, EngineContext, EngineError};
pub use jobs::{JobRegistry, LiveStage};
pub use metrics::Metrics;
