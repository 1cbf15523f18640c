//! How one job of a stage runs on its pool thread, the same for every stage: a job cancelled
//! while it waited does nothing; otherwise each attempt is reported live (asset stages on the
//! asset, on-demand jobs on their record), timed and counted, a panic in an operator becomes a
//! failure with a reason instead of taking the thread down, transient failures are retried,
//! and the last failure leaves a dead letter when the stage's policy asks for one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use acervo_catalog::ErrorKind;
use chrono::Utc;

use crate::context::StageContext;
use crate::retry::{dead_letter, with_retries};
use crate::stage::{CANCELLED_BEFORE_START, JobKey, Stage, StageError};

/// Runs `input` through `stage`; returns the outcome and the attempts made.
pub(crate) fn execute<S: Stage>(
    stage: &S,
    input: &S::Input,
    ctx: &StageContext,
    cancel: &AtomicBool,
) -> (Result<S::Output, StageError>, u32) {
    let name = stage.name();
    let key = stage.job(input);
    let policy = stage.policy();
    let started = Instant::now();
    let (outcome, attempts) = if cancel.load(Ordering::Relaxed) {
        (Err(StageError::cancelled(name, CANCELLED_BEFORE_START)), 0)
    } else {
        let ran = with_retries(ctx, key.asset(), policy.retry, cancel, |n| {
            match key {
                JobKey::Asset(id) => ctx.jobs.attempt(id, name, n),
                JobKey::OnDemand { job, .. } => ctx.jobs.update_ondemand(job, |j| {
                    j.attempts = n;
                    j.state = acervo_catalog::JobState::Running;
                    j.started_at.get_or_insert_with(Utc::now);
                }),
            }
            guarded(name, || stage.run(input, ctx, cancel))
        });
        if let JobKey::Asset(id) = key {
            ctx.jobs.finished(id, name);
        }
        ran
    };
    stage.finished(input, &outcome, attempts, ctx);
    if attempts == 0 {
        return (outcome, attempts);
    }
    let label = match &outcome {
        Ok(_) => "ok",
        Err(e) if e.kind == ErrorKind::Cancelled => "cancelled",
        Err(_) => "failed",
    };
    ctx.metrics
        .media_seconds
        .with_label_values(&[name.as_str()])
        .observe(started.elapsed().as_secs_f64());
    ctx.metrics.media_jobs.with_label_values(&[name.as_str(), label]).inc();
    if let Err(e) = &outcome {
        match e.kind {
            ErrorKind::Cancelled => {}
            _ => {
                let source = e.source.as_ref().map(|s| s.to_string()).unwrap_or_default();
                tracing::warn!(asset = %key.asset(), stage = name.as_str(), attempts, reason = %e.reason, %source, "stage failed");
                if policy.dead_letter {
                    let job = match key {
                        JobKey::OnDemand { job, .. } => Some(job),
                        JobKey::Asset(_) => None,
                    };
                    dead_letter(ctx, key.asset(), job, e, attempts);
                }
            }
        }
    }
    (outcome, attempts)
}

/// Runs `f`, turning a panic into a permanent failure: a bug in an operator must not take the
/// pool thread, the asset (left processing forever) or the frontier down with it.
fn guarded<T>(
    stage: acervo_catalog::Stage,
    f: impl FnOnce() -> Result<T, StageError>,
) -> Result<T, StageError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        tracing::error!(stage = stage.as_str(), what, "a stage panicked");
        Err(StageError::permanent(stage, format!("internal error (please report it): {what}")))
    })
}
