//! The event log: the durable, ordered system of record. Every intent is appended here before
//! it is acknowledged; the catalog is a view computed from it by the dataflow.
//!
//! `EventLog` is the contract; `SegmentLog` is the embedded implementation (segment files on
//! local disk). A Kafka/Redpanda implementation slots in behind the same trait.

mod record;
mod segment_log;

use std::sync::Arc;

pub use segment_log::SegmentLog;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub offset: u64,
    pub payload: Vec<u8>,
    /// A control intent (a cancel), which readers may take ahead of the data before it.
    pub control: bool,
}

/// A record to append.
#[derive(Debug, Clone, Copy)]
pub struct NewRecord<'a> {
    pub payload: &'a [u8],
    pub control: bool,
}

impl<'a> NewRecord<'a> {
    pub fn data(payload: &'a [u8]) -> Self {
        NewRecord { payload, control: false }
    }

    pub fn control(payload: &'a [u8]) -> Self {
        NewRecord { payload, control: true }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("event log I/O on {path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("event log record of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge { len: usize, max: usize },
    #[error("event log segment {path} is corrupt at byte {position}: {reason}")]
    Corrupt { path: std::path::PathBuf, position: u64, reason: String },
    #[error("event log has no record at offset {offset} (it starts at {first})")]
    OffsetGone { offset: u64, first: u64 },
}

/// Called after records become durable (e.g. to wake the dataflow source).
pub type AppendListener = Arc<dyn Fn() + Send + Sync>;

pub trait EventLog: Send + Sync {
    /// Appends `records` in order and returns the offset of the first, only once all of them are
    /// durable (one sync for the batch). Offsets are dense and monotonic.
    fn append(&self, records: &[NewRecord<'_>]) -> Result<u64, LogError>;

    /// The offset the next append will get; every offset below it is readable.
    fn end_offset(&self) -> u64;

    /// Up to `max` records starting at `from`; empty at the end of the log.
    fn read(&self, from: u64, max: usize) -> Result<Vec<LogRecord>, LogError>;

    /// The control records among the next (at most) `max` records from `from`, and the offset
    /// after the last record looked at. The other records' payloads are skipped unread, so a
    /// reader can look far ahead of the data it processes for a cancel.
    fn read_control(&self, from: u64, max: usize) -> Result<(Vec<LogRecord>, u64), LogError>;

    /// Registers a callback run after every durable append.
    fn on_append(&self, listener: AppendListener);
}
