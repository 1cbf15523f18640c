//! The one shape of every stage (probe, thumbnail, renditions, enrichment, on-demand, and the
//! stages to come): a `Stage` takes an input, runs on a pool thread with the shared context and
//! a cancel flag, and returns an output or a typed `StageError`; it says which lane its work
//! queues on, how its failures are handled, and what the catalog records of an outcome. The
//! stage operator (`stage_operator`) does everything else: the pool hand-off, cancellation,
//! retries, dead letters, metrics, live progress and the timely capability.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use acervo_catalog::{AssetId, Classify, ErrorKind, Lane, Stage as StageName, WorkResult};
use acervo_operators::OperatorError;
use uuid::Uuid;

use crate::context::StageContext;

/// A unit of work the dataflow runs.
pub trait Stage: Send + Sync + 'static {
    /// What one job works on.
    type Input: Clone + Send + 'static;
    /// What a job that succeeds hands on (to the catalog, to later stages).
    type Output: Clone + Send + 'static;

    /// The catalog stage this is: it names its metrics, live progress and dead letters.
    fn name(&self) -> StageName;

    /// The lane a job queues on.
    fn lane(&self, _input: &Self::Input) -> Lane {
        Lane::Batch
    }

    /// Whom a job belongs to (and the id a cancel names).
    fn job(&self, input: &Self::Input) -> JobKey;

    /// How a failure is handled.
    fn policy(&self) -> FailurePolicy;

    /// Called when a job arrives, before it waits for a thread (an on-demand job shows as
    /// queued from then on).
    fn queued(&self, _input: &Self::Input, _ctx: &StageContext) {}

    /// Does the work, on a pool thread; checks `cancel` often enough to stop within a second.
    fn run(
        &self,
        input: &Self::Input,
        ctx: &StageContext,
        cancel: &AtomicBool,
    ) -> Result<Self::Output, StageError>;

    /// After the last attempt, on the pool thread: side effects of the outcome beside the
    /// catalog (an on-demand job writes its record).
    fn finished(
        &self,
        _input: &Self::Input,
        _outcome: &Result<Self::Output, StageError>,
        _attempts: u32,
        _ctx: &StageContext,
    ) {
    }

    /// What the catalog records of a job's outcome. Pure: it runs on the dataflow's thread.
    fn record(&self, done: &Done<Self::Input, Self::Output>) -> Vec<WorkResult>;
}

/// Whom a job belongs to: an asset's own stage (reported on the asset, cancelled by its id), or
/// an on-demand job (reported on its record, cancelled by its job id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKey {
    Asset(AssetId),
    OnDemand { asset: AssetId, job: Uuid },
}

impl JobKey {
    pub fn asset(self) -> AssetId {
        match self {
            JobKey::Asset(a) | JobKey::OnDemand { asset: a, .. } => a,
        }
    }

    /// The id a cancel names for this job.
    pub fn cancel_id(self) -> Uuid {
        match self {
            JobKey::Asset(a) => a.0,
            JobKey::OnDemand { job, .. } => job,
        }
    }
}

/// How the stage operator handles a stage's failures.
#[derive(Clone, Copy, Debug)]
pub struct FailurePolicy {
    /// Transient failures are retried with the configured backoff.
    pub retry: bool,
    /// The last failure leaves a dead-letter record.
    pub dead_letter: bool,
}

/// A job for a stage: its input and the log offset of the intent that asked for it (the
/// dataflow time; a cancel stops the work of intents before it).
#[derive(Clone, Debug)]
pub struct Work<I> {
    pub offset: u64,
    pub input: I,
}

/// A job's outcome, after its retries.
#[derive(Clone, Debug)]
pub struct Done<I, O> {
    pub offset: u64,
    pub input: I,
    pub outcome: Result<O, StageError>,
    pub attempts: u32,
}

/// Why a stage produced no output: its class (retry or not), the stage, what its users are told
/// (naming the asset's file, never a server path), and the error behind it for the log.
#[derive(Clone, Debug)]
pub struct StageError {
    pub kind: ErrorKind,
    pub stage: StageName,
    pub reason: String,
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StageError {
    /// A failure classified by the error that caused it; `reason` is what users read.
    pub fn from_error<E>(stage: StageName, reason: impl Into<String>, source: E) -> StageError
    where
        E: Classify + std::error::Error + Send + Sync + 'static,
    {
        StageError {
            kind: source.kind(),
            stage,
            reason: reason.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// An operator's failure on the master the asset's users know as `file`.
    pub fn operator(stage: StageName, file: &str, e: OperatorError) -> StageError {
        if e.kind() == ErrorKind::Cancelled {
            return StageError::cancelled(stage, CANCELLED_ON_REQUEST);
        }
        let reason = e.for_user(file);
        StageError::from_error(stage, reason, e)
    }

    pub fn permanent(stage: StageName, reason: impl Into<String>) -> StageError {
        StageError { kind: ErrorKind::Permanent, stage, reason: reason.into(), source: None }
    }

    pub fn transient(stage: StageName, reason: impl Into<String>) -> StageError {
        StageError { kind: ErrorKind::Transient, stage, reason: reason.into(), source: None }
    }

    pub fn cancelled(stage: StageName, reason: impl Into<String>) -> StageError {
        StageError { kind: ErrorKind::Cancelled, stage, reason: reason.into(), source: None }
    }

    pub fn is_cancelled(&self) -> bool {
        self.kind == ErrorKind::Cancelled
    }
}

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.stage, self.reason)
    }
}

impl std::error::Error for StageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Why a job was stopped, as its stage state says.
pub const CANCELLED_ON_REQUEST: &str = "cancelled on request";
pub const CANCELLED_BEFORE_START: &str = "cancelled before it started";
