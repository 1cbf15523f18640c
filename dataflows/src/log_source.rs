//! The log source: worker 0 reads the event log from the checkpoint, the records' offsets being
//! the dataflow's times. It reads at most a window past the frontier (what is read but not yet
//! durable), so a backlog waits in the log, not in memory. Control intents (cancels) do not wait
//! in that line: a second cursor scans ahead of the window, to the end of the log, for records
//! flagged as control and hands them on at once, so a cancel reaches a running job within a
//! second however many intents are queued before it. (The data cursor reads them again in
//! their turn, for the catalog.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use acervo_catalog::{Event, EventEnvelope};
use acervo_lakehouse::{EventLog, LogRecord};
use serde::{Deserialize, Serialize};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::{ProbeHandle, Scope, StreamVec};

use crate::json::Json;
use crate::metrics::Metrics;
use crate::stage_operator::Cancel;

/// What the source hands on: an intent in its turn, or a control intent read ahead.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every item is an intent: boxing it would allocate once per record"
)]
pub(crate) enum LogItem {
    Intent { offset: u64, event: Json<EventEnvelope> },
    Control(Cancel),
}

/// How the source reads.
pub(crate) struct SourceSettings {
    pub log: Arc<dyn EventLog>,
    pub metrics: Arc<Metrics>,
    pub start: u64,
    /// Records per read.
    pub batch: usize,
    /// Records read past the frontier at most.
    pub window: u64,
    /// Raised to stop reading (the engine is stopping).
    pub shutdown: Arc<AtomicBool>,
    /// Where the data cursor is: every offset below it has been read.
    pub read_to: Arc<AtomicU64>,
}

/// Records the control cursor looks at per activation: headers only, so many.
const CONTROL_SCAN: usize = 1 << 16;

fn decode(r: &LogRecord, metrics: &Metrics) -> Option<EventEnvelope> {
    match serde_json::from_slice::<EventEnvelope>(&r.payload) {
        Ok(env) => Some(env),
        Err(e) => {
            metrics.bad_log_records.inc();
            tracing::error!(offset = r.offset, error = %e, "undecodable event-log record skipped");
            None
        }
    }
}

pub(crate) fn log_source<'scope>(
    scope: Scope<'scope, u64>,
    s: SourceSettings,
    probe: ProbeHandle<u64>,
) -> StreamVec<'scope, u64, LogItem> {
    let index = scope.index();
    source::<u64, CapacityContainerBuilder<Vec<LogItem>>, _, _>(
        scope,
        "LogSource",
        move |cap, info| {
            let activator = scope.activator_for(info.address.clone());
            let wake = scope.worker().sync_activator_for(info.address.to_vec());
            // Only worker 0 reads; the others drop their capability at once.
            let mut cap = (index == 0).then(|| {
                s.log.on_append(Arc::new(move || {
                    let _ = wake.activate();
                }));
                let mut c = cap;
                c.downgrade(&s.start);
                c
            });
            let (mut next, mut control_next) = (s.start, s.start);
            s.read_to.store(next, Ordering::Release);
            move |output| {
                let Some(c) = cap.as_mut() else { return };
                if s.shutdown.load(Ordering::Relaxed) {
                    return;
                }
                // Control intents first, from wherever the control cursor is to the end.
                match s.log.read_control(control_next, CONTROL_SCAN) {
                    Ok((records, scanned_to)) => {
                        control_next = scanned_to;
                        let mut session = output.session(&*c);
                        for r in &records {
                            if let Some(env) = decode(r, &s.metrics)
                                && let Event::CancelRequested { id, job_id } = env.event
                            {
                                session.give(LogItem::Control(Cancel {
                                    asset: id,
                                    job_id,
                                    offset: r.offset,
                                }));
                            }
                        }
                    }
                    Err(e) => {
                        tracing::error!(offset = control_next, error = %e, "scanning the event log for control intents failed; retrying")
                    }
                }
                if control_next < s.log.end_offset() {
                    activator.activate();
                }
                let done_below = probe.with_frontier(|f| f.first().copied()).unwrap_or(next);
                if next.saturating_sub(done_below) >= s.window {
                    activator.activate_after(Duration::from_millis(10));
                    return;
                }
                match s.log.read(next, s.batch) {
                    Ok(records) if records.is_empty() => {
                        // The append listener wakes us sooner; this is a fallback.
                        activator.activate_after(Duration::from_millis(500));
                    }
                    Ok(records) => {
                        {
                            let mut session = output.session(&*c);
                            for r in records {
                                next = r.offset + 1;
                                if let Some(env) = decode(&r, &s.metrics) {
                                    session.give(LogItem::Intent {
                                        offset: r.offset,
                                        event: Json(env),
                                    });
                                }
                            }
                        }
                        c.downgrade(&next);
                        s.read_to.store(next, Ordering::Release);
                        s.metrics.log_end_offset.set(s.log.end_offset() as i64);
                        activator.activate();
                    }
                    Err(e) => {
                        tracing::error!(offset = next, error = %e, "reading the event log failed; retrying");
                        activator.activate_after(Duration::from_secs(1));
                    }
                }
            }
        },
    )
}
