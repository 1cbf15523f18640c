//! Acervo's storage layer: the object store (local disk or S3) and its key layout, the
//! streaming content-addressed master store, the durable event log and checkpoints, and the
//! Lance catalog tables with their indexes and DataFusion registration.

pub mod audit_trail;
pub mod checkpoint;
pub mod derived;
pub mod event_log;
pub mod keys;
pub mod masters;
pub mod objects;
pub mod search;
pub mod tables;

pub use audit_trail::{AuditError, AuditTrail};
pub use checkpoint::Checkpoint;
pub use event_log::{EventLog, LogError, LogRecord, NewRecord, SegmentLog};
pub use masters::{ByteStream, MasterError, MasterStore, StoredMaster};
pub use objects::{Objects, ObjectsError};
pub use search::{SearchError, SearchIndex};
pub use tables::{Catalog, CatalogError};

/// Bytes of every file under `dir` (0 for what cannot be read).
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
