//! Attempts of a media stage: transient failures are retried with exponential backoff (the
//! seed's policy, from `[jobs]`), permanent ones are not; the last failure of a job leaves a
//! dead-letter record in the object store with its reason and attempts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use acervo_catalog::{AssetId, Stage};
use acervo_lakehouse::keys;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::media_job::MediaContext;

/// Why a stage attempt did not succeed.
#[derive(Debug)]
pub enum StageError {
    /// Worth another attempt (storage or local I/O).
    Transient(String),
    /// Retrying cannot help (the master cannot be decoded, the request is invalid).
    Permanent(String),
    Cancelled,
}

/// A dead-letter record (`dead-letters/{asset}/{stage}-{ms}.json`).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub asset_id: AssetId,
    /// The on-demand job, when the failure was one.
    pub job_id: Option<uuid::Uuid>,
    pub stage: Stage,
    pub reason: String,
    pub attempts: u32,
    /// False when the attempts ran out on transient failures.
    pub permanent: bool,
    pub at: chrono::DateTime<Utc>,
}

/// Sleeps `d`, waking early (and returning false) if `cancel` is raised.
fn sleep_unless_cancelled(d: Duration, cancel: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
    }
    !cancel.load(Ordering::Relaxed)
}

/// Runs `attempt` until it succeeds, fails permanently, is cancelled or runs out of attempts.
/// Returns the outcome and the number of attempts made.
pub fn with_retries<T>(
    ctx: &MediaContext,
    id: AssetId,
    stage: Stage,
    cancel: &AtomicBool,
    mut attempt: impl FnMut(u32) -> Result<T, StageError>,
) -> (Result<T, StageError>, u32) {
    let max = ctx.jobs_config.max_attempts.max(1);
    let mut n = 1;
    loop {
        match attempt(n) {
            Err(StageError::Transient(reason)) if n < max => {
                let wait = ctx.jobs_config.backoff(n + 1);
                tracing::warn!(asset = %id, stage = stage.as_str(), attempt = n, wait_ms = wait.as_millis() as u64, %reason, "transient failure; retrying");
                ctx.metrics.job_retries.with_label_values(&[stage.as_str()]).inc();
                if !sleep_unless_cancelled(wait, cancel) {
                    return (Err(StageError::Cancelled), n);
                }
                n += 1;
            }
            other => return (other, n),
        }
    }
}

/// Writes the dead-letter record of a failed job (best effort: a failure is logged).
pub fn dead_letter(
    ctx: &MediaContext,
    id: AssetId,
    job_id: Option<uuid::Uuid>,
    stage: Stage,
    error: &StageError,
    attempts: u32,
) {
    let (reason, permanent) = match error {
        StageError::Transient(r) => (r.clone(), false),
        StageError::Permanent(r) => (r.clone(), true),
        StageError::Cancelled => return,
    };
    let at = Utc::now();
    let record = DeadLetter { asset_id: id, job_id, stage, reason, attempts, permanent, at };
    let key = keys::dead_letter(id, stage.as_str(), at.timestamp_millis());
    ctx.metrics.dead_letters.with_label_values(&[stage.as_str()]).inc();
    match serde_json::to_vec_pretty(&record) {
        Ok(bytes) => {
            if let Err(e) = ctx.runtime.block_on(ctx.masters.put_small(&key, bytes)) {
                tracing::error!(asset = %id, error = %e, "cannot write the dead-letter record");
            }
        }
        Err(e) => tracing::error!(asset = %id, error = %e, "cannot encode the dead-letter record"),
    }
}
