//! Acervo's dataflows. The ingest dataflow reads the event log from its checkpoint, applies
//! intents to the catalog and plans the work they ask for from the rows it wrote, runs that work
//! as stages of one shape on bounded pools (media work on a two-lane pool, models on their own,
//! batched across assets), materialises the results in Lance and the search index, and commits
//! its input offset only when the timely frontier says every output for earlier input is
//! durable. Cancels are read from the log ahead of the queued work and reach running jobs at
//! once.
//!
//! Files: `graph` wires; `log_source`, `stage_operator` and `catalog_writer` are the operators;
//! `stage` is the shape of a stage and `stages/` the stages; `context` is what they share;
//! `runner` and `retry` are how a job runs and fails; `engine` starts and stops it all.

pub mod batcher;
mod catalog_writer;
pub mod context;
mod engine;
mod graph;
pub mod jobs;
mod json;
mod log_source;
pub mod master;
pub mod metrics;
pub mod models;
pub mod pool;
pub mod retry;
mod runner;
pub mod stage;
mod stage_operator;
pub mod stages;

pub use engine::{Engine, EngineContext, EngineError};
pub use jobs::JobRegistry;
pub use metrics::Metrics;
pub use models::{Inference, Models};
pub use stage::{Stage, StageError};
