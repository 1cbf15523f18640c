//! The failure policy of stages: transient failures are retried with exponential backoff (the
//! seed's policy, from `[jobs]`), permanent ones are not, a cancel stops the waiting at once;
//! the last failure of a job leaves a dead-letter record in the object store with its reason,
//! attempts and class.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use acervo_catalog::{AssetId, DeadLetter, ErrorKind};
use acervo_lakehouse::keys;
use chrono::Utc;

use crate::context::StageContext;
use crate::stage::{CANCELLED_ON_REQUEST, StageError};

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

/// Runs `attempt` until it succeeds, fails permanently, is cancelled or runs out of attempts
/// (`retry` false: one attempt). Returns the outcome and the number of attempts made.
pub fn with_retries<T>(
    ctx: &StageContext,
    id: AssetId,
    retry: bool,
    cancel: &AtomicBool,
    mut attempt: impl FnMut(u32) -> Result<T, StageError>,
) -> (Result<T, StageError>, u32) {
    let max = if retry { ctx.jobs_config.max_attempts.max(1) } else { 1 };
    let mut n = 1;
    loop {
        match attempt(n) {
            Err(e) if e.kind == ErrorKind::Transient && n < max => {
                let wait = ctx.jobs_config.backoff(n + 1);
                let stage = e.stage.as_str();
                tracing::warn!(asset = %id, stage, attempt = n, wait_ms = wait.as_millis() as u64, reason = %e.reason, "transient failure; retrying");
                ctx.metrics.job_retries.with_label_values(&[stage]).inc();
                if !sleep_unless_cancelled(wait, cancel) {
                    return (Err(StageError::cancelled(e.stage, CANCELLED_ON_REQUEST)), n);
                }
                n += 1;
            }
            other => return (other, n),
        }
    }
}

/// The reason a failed job shows: a transient failure says it gave up.
pub fn final_reason(e: &StageError, attempts: u32) -> String {
    match e.kind {
        ErrorKind::Transient => format!("{} (gave up after {attempts} attempts)", e.reason),
        ErrorKind::Permanent | ErrorKind::Cancelled => e.reason.clone(),
    }
}

/// Writes the dead-letter record of a job that failed for good (best effort: a failure to
/// write it is logged).
pub fn dead_letter(
    ctx: &StageContext,
    id: AssetId,
    job_id: Option<uuid::Uuid>,
    error: &StageError,
    attempts: u32,
) {
    let permanent = match error.kind {
        ErrorKind::Transient => false,
        ErrorKind::Permanent => true,
        ErrorKind::Cancelled => return,
    };
    let at = Utc::now();
    let stage = error.stage;
    let record = DeadLetter {
        asset_id: id,
        job_id,
        stage,
        reason: error.reason.clone(),
        attempts,
        permanent,
        at,
    };
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
