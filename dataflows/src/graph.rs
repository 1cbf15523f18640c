//! The ingest dataflow:
//!
//! ```text
//! log source (worker 0, times = log offsets)
//!   ─exchange by asset─► media (hands jobs to the bounded pool, holds their capabilities)
//!   ─exchange to worker 0─► catalog writer (holds capabilities until Lance acknowledges)
//!   ─► probe: its frontier is the offset below which every output is durable
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use acervo_catalog::{Event, EventEnvelope, MediaKind, WorkResult, media_stages};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::{Capability, Probe};
use timely::dataflow::{ProbeHandle, Scope};

use crate::catalog_writer::{self, WriteRequest};
use crate::engine::Shared;
use crate::json::Json;
use crate::media_job::{self, MediaInput};
use crate::ondemand::{self, OnDemandRequest};
use crate::pool::{Job, Lane};

/// What a media job does: an asset's stages, or one on-demand rendition.
pub(crate) enum Work {
    Asset(MediaInput),
    OnDemand(OnDemandRequest),
}
use crate::update::Update;

type Record = (u64, Json<EventEnvelope>);

fn spread(id: acervo_catalog::AssetId) -> u64 {
    // The low bits of a UUIDv7 are random.
    id.0.as_u128() as u64
}

pub fn build<'scope>(
    scope: Scope<'scope, u64>,
    shared: Arc<Shared>,
    start: u64,
    probe: ProbeHandle<u64>,
    shutdown: Arc<AtomicBool>,
) {
    let index = scope.index();

    // The log source: only worker 0 reads; the others drop their capability at once.
    let source_shared = Arc::clone(&shared);
    let source_probe = probe.clone();
    let events = source::<u64, CapacityContainerBuilder<Vec<Record>>, _, _>(
        scope,
        "LogSource",
        move |cap, info| {
            let activator = scope.activator_for(info.address.clone());
            let wake = scope.worker().sync_activator_for(info.address.to_vec());
            let shared = source_shared;
            let mut cap = (index == 0).then(|| {
                shared.log.on_append(Arc::new(move || {
                    let _ = wake.activate();
                }));
                let mut c = cap;
                c.downgrade(&start);
                c
            });
            let mut next = start;
            let batch = shared.config.batch_records.max(1);
            let max_in_flight = (batch * 8) as u64;
            move |output| {
                let Some(c) = cap.as_mut() else { return };
                if shutdown.load(Ordering::Relaxed) {
                    return;
                }
                let done_below = source_probe.with_frontier(|f| f.first().copied()).unwrap_or(next);
                if next.saturating_sub(done_below) >= max_in_flight {
                    activator.activate_after(Duration::from_millis(10));
                    return;
                }
                match shared.log.read(next, batch) {
                    Ok(records) if records.is_empty() => {
                        // The append listener wakes us sooner; this is a fallback.
                        activator.activate_after(Duration::from_millis(500));
                    }
                    Ok(records) => {
                        {
                            let mut session = output.session(&*c);
                            for r in records {
                                next = r.offset + 1;
                                match serde_json::from_slice::<EventEnvelope>(&r.payload) {
                                    Ok(env) => session.give((r.offset, Json(env))),
                                    Err(e) => {
                                        shared.metrics.bad_log_records.inc();
                                        tracing::error!(offset = r.offset, error = %e, "undecodable event-log record skipped");
                                    }
                                }
                            }
                        }
                        c.downgrade(&next);
                        shared.metrics.log_end_offset.set(shared.log.end_offset() as i64);
                        activator.activate();
                    }
                    Err(e) => {
                        tracing::error!(offset = next, error = %e, "reading the event log failed; retrying");
                        activator.activate_after(Duration::from_secs(1));
                    }
                }
            }
        },
    );

    // Media work: events pass through; ingests of media become jobs on the pool.
    let media_shared = Arc::clone(&shared);
    let updates = events.unary_frontier::<CapacityContainerBuilder<Vec<Update>>, _, _, _>(
        Exchange::new(|r: &Record| spread(r.1.0.event.asset_id())),
        "Media",
        move |_cap, info| {
            let shared = media_shared;
            let activator = scope.activator_for(info.address.clone());
            let wake = scope.worker().sync_activator_for(info.address.to_vec());
            // A job's parts report here; each carries a clone of the job's token, and the job's
            // capability is released when the operator holds the last one.
            let (done_tx, done_rx) = std::sync::mpsc::channel::<(u64, Vec<WorkResult>, Arc<()>)>();
            let mut waiting: VecDeque<(u64, Lane, Job)> = VecDeque::new();
            let mut held: HashMap<u64, (Capability<u64>, u64, uuid::Uuid, Arc<()>)> =
                HashMap::new();
            let mut next_job = 0u64;
            move |(input, _frontier), output| {
                input.for_each(|cap, data| {
                    let Some(cap) = cap.retain_least(0) else { return };
                    let mut session = output.session(&cap);
                    for (offset, env) in data.drain(..) {
                        let work = match &env.0.event {
                            Event::AssetIngested {
                                id,
                                kind,
                                sha256,
                                master_key,
                                title,
                                description,
                                tags,
                                ..
                            } if !media_stages(*kind).is_empty() => {
                                let text =
                                    acervo_catalog::asset::embedding_text(title, description, tags);
                                let input = MediaInput {
                                    id: *id,
                                    kind: *kind,
                                    sha256: sha256.clone(),
                                    master_key: master_key.clone(),
                                    text,
                                    only: None,
                                };
                                Some((Lane::Batch, id.0, Work::Asset(input)))
                            }
                            Event::ReprocessRequested {
                                id,
                                kind,
                                sha256,
                                master_key,
                                text,
                                only,
                            } if !media_stages(*kind).is_empty() => {
                                let input = MediaInput {
                                    id: *id,
                                    kind: *kind,
                                    sha256: sha256.clone(),
                                    master_key: master_key.clone(),
                                    text: text.clone(),
                                    only: *only,
                                };
                                Some((Lane::Batch, id.0, Work::Asset(input)))
                            }
                            Event::OnDemandRequested { id, job_id, sha256, master_key, spec } => {
                                let input = MediaInput {
                                    id: *id,
                                    kind: MediaKind::Video,
                                    sha256: sha256.clone(),
                                    master_key: master_key.clone(),
                                    text: String::new(),
                                    only: None,
                                };
                                let request = OnDemandRequest {
                                    input,
                                    job_id: *job_id,
                                    spec: spec.clone(),
                                    requested_by: env.0.principal.clone(),
                                    at: env.0.at,
                                };
                                shared.media.jobs.put_ondemand(ondemand::queued_record(&request));
                                Some((Lane::Interactive, *job_id, Work::OnDemand(request)))
                            }
                            _ => None,
                        };
                        if let Some((lane, cancel_id, work)) = work {
                            let (job_id, tx, wake, ctx) = (
                                next_job,
                                done_tx.clone(),
                                wake.clone(),
                                Arc::clone(&shared.media),
                            );
                            next_job += 1;
                            let cancel = ctx.jobs.register(cancel_id);
                            let token = Arc::new(());
                            let (own_token, enrich_pool) =
                                (Arc::clone(&token), Arc::clone(&shared.enrich_pool));
                            let job: Job = Box::new(move || {
                                let fan_out = |part: media_job::Part| {
                                    let (tx, wake, token) =
                                        (tx.clone(), wake.clone(), Arc::clone(&own_token));
                                    enrich_pool.submit_wait(Box::new(move || {
                                        let (id, stage) = (part.id, part.stage);
                                        let results = std::panic::catch_unwind(
                                            std::panic::AssertUnwindSafe(part.run),
                                        )
                                        .unwrap_or_else(|panic| {
                                            media_job::part_panicked(id, stage, panic.as_ref())
                                        });
                                        if tx.send((job_id, results, token)).is_ok() {
                                            let _ = wake.activate();
                                        }
                                    }));
                                };
                                // A bug in an operator must not take the worker thread, the
                                // asset (left processing forever) or the frontier down with it.
                                let run = std::panic::AssertUnwindSafe(|| match &work {
                                    Work::Asset(input) => {
                                        media_job::run(&ctx, input, &cancel, &fan_out)
                                    }
                                    Work::OnDemand(request) => {
                                        ondemand::run(&ctx, request, &cancel)
                                    }
                                });
                                let results =
                                    std::panic::catch_unwind(run).unwrap_or_else(|panic| {
                                        media_job::panicked(&work, panic.as_ref())
                                    });
                                if tx.send((job_id, results, own_token)).is_ok() {
                                    let _ = wake.activate();
                                }
                            });
                            held.insert(job_id, (cap.clone(), offset, cancel_id, token));
                            waiting.push_back((job_id, lane, job));
                        }
                        session.give(Update::Event { offset, event: env });
                    }
                });
                while let Ok((job_id, results, token)) = done_rx.try_recv() {
                    drop(token);
                    let Some((cap, offset, cancel_id, token)) = held.get(&job_id) else { continue };
                    let offset = *offset;
                    output.session(cap).give_iterator(
                        results.into_iter().map(|r| Update::Result { offset, result: Json(r) }),
                    );
                    if Arc::strong_count(token) == 1 {
                        shared.media.jobs.unregister(*cancel_id);
                        held.remove(&job_id);
                    }
                }
                // Interactive jobs go first, even when the batch lane is full.
                waiting.make_contiguous().sort_by_key(|(_, lane, _)| *lane != Lane::Interactive);
                while let Some((job_id, lane, job)) = waiting.pop_front() {
                    if let Err(job) = shared.pool.try_submit(job, lane) {
                        waiting.push_front((job_id, lane, job));
                        // The pool is full: try again when a slot may have freed.
                        activator.activate_after(Duration::from_millis(20));
                        break;
                    }
                }
                let (batch, interactive) = shared.pool.queued();
                shared.metrics.media_queue.set((batch + interactive + waiting.len()) as i64);
                shared.metrics.lane_queue.with_label_values(&["batch"]).set(batch as i64);
                shared
                    .metrics
                    .lane_queue
                    .with_label_values(&["interactive"])
                    .set(interactive as i64);
                shared
                    .metrics
                    .lane_queue
                    .with_label_values(&["enrich"])
                    .set(shared.enrich_pool.queued().0 as i64);
            }
        },
    );

    // The catalog writer, on worker 0: one Lance writer for the whole process.
    let writer_shared = Arc::clone(&shared);
    updates
        .unary_frontier::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
            Exchange::new(|_: &Update| 0u64),
            "CatalogWriter",
            move |_cap, info| {
                let shared = writer_shared;
                let wake = scope.worker().sync_activator_for(info.address.to_vec());
                let (ack_tx, ack_rx) = std::sync::mpsc::channel::<u64>();
                let writer = catalog_writer::spawn(
                    &shared.runtime,
                    Arc::clone(&shared.catalog),
                    Arc::clone(&shared.search),
                    Arc::clone(&shared.metrics),
                    ack_tx,
                    wake,
                );
                let mut in_flight: HashMap<u64, Capability<u64>> = HashMap::new();
                let mut next_id = 0u64;
                move |(input, _frontier), _output| {
                    let mut batch = Vec::new();
                    let mut least: Option<Capability<u64>> = None;
                    input.for_each(|cap, data| {
                        if let Some(c) = cap.retain_least(0)
                            && least.as_ref().is_none_or(|l| c.time() < l.time())
                        {
                            least = Some(c);
                        }
                        batch.append(data);
                    });
                    if let Some(cap) = least
                        && !batch.is_empty()
                    {
                        next_id += 1;
                        // Without a writer the capability is held for good: the checkpoint stays
                        // put and the batch is replayed on the next start.
                        if writer.send(WriteRequest { id: next_id, updates: batch }).is_err() {
                            tracing::error!("the catalog writer stopped; holding the checkpoint");
                        }
                        in_flight.insert(next_id, cap);
                    }
                    while let Ok(id) = ack_rx.try_recv() {
                        in_flight.remove(&id);
                    }
                }
            },
        )
        .probe_with(&probe);
}
