//! Acervo's storage layer: the object store (local disk or S3) and its key layout, the
//! streaming content-addressed master store, the durable event log and checkpoints, and the
//! Lance catalog tables with their indexes and DataFusion registration.

pub mod checkpoint;
pub mod event_log;
pub mod keys;
pub mod masters;
pub mod objects;
pub mod search;
pub mod tables;

pub use checkpoint::Checkpoint;
pub use event_log::{EventLog, LogError, LogRecord, SegmentLog};
pub use masters::{ByteStream, MasterError, MasterStore, StoredMaster};
pub use objects::{ObjectsError, Objects};
pub use search::{SearchError, SearchIndex};
pub use tables::{Catalog, CatalogError};
