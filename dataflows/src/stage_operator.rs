//! The one timely operator every stage runs in. Jobs arrive on its input; each is handed to the
//! stage's bounded pool (interactive jobs first) and its capability is held until the job's
//! outcome is emitted, so the frontier cannot pass an intent whose work is unfinished (the
//! catalog writer downstream holds it further, until the outcome is durable). A job that does
//! not fit the pool waits here: a full pool pushes back on the log instead of buffering.
//!
//! The second input carries control intents (cancels), read from the log ahead of the work
//! queued before them. A cancel raises the flag of every held job it names whose intent came
//! before it, and is remembered until no such job can still arrive.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use acervo_catalog::{Lane, WorkResult};
use serde::{Deserialize, Serialize};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;
use timely::progress::frontier::MutableAntichain;
use uuid::Uuid;

use crate::context::StageContext;
use crate::json::Json;
use crate::pool::{Job, MediaPool};
use crate::runner::execute;
use crate::stage::{Done, Stage, Work};

/// A control intent as the stages see it: stop the work `job_id` names (an asset's stages, by
/// the asset's id, or an on-demand job) that intents before `offset` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    pub asset: acervo_catalog::AssetId,
    pub job_id: Uuid,
    pub offset: u64,
}

/// Routes by asset: an asset's work and its cancels meet on one worker.
pub(crate) fn spread(id: acervo_catalog::AssetId) -> u64 {
    // The low bits of a UUIDv7 are random.
    id.0.as_u128() as u64
}

struct Held {
    cap: Capability<u64>,
    offset: u64,
    cancel_id: Uuid,
    flag: Arc<AtomicBool>,
}

/// Runs `stage` on `pool` for every job of `jobs`; `cancels` stop them.
pub(crate) fn run_stage<'s, S: Stage>(
    jobs: StreamVec<'s, u64, Work<S::Input>>,
    cancels: StreamVec<'s, u64, Cancel>,
    stage: Arc<S>,
    pool: Arc<MediaPool>,
    ctx: Arc<StageContext>,
) -> StreamVec<'s, u64, Done<S::Input, S::Output>> {
    let scope = jobs.scope();
    let name = format!("Stage({})", stage.name());
    jobs.binary_frontier::<_, CapacityContainerBuilder<Vec<Done<S::Input, S::Output>>>, _, _, _, _>(
        cancels,
        Pipeline,
        Exchange::new(|c: &Cancel| spread(c.asset)),
        &name,
        move |_cap, info| {
            let activator = scope.activator_for(info.address.clone());
            let wake = scope.worker().sync_activator_for(info.address.to_vec());
            let (done_tx, done_rx) = std::sync::mpsc::channel::<(u64, Done<S::Input, S::Output>)>();
            let mut waiting: VecDeque<(u64, Lane, Job)> = VecDeque::new();
            let mut held: HashMap<u64, Held> = HashMap::new();
            let mut remembered: Vec<Cancel> = Vec::new();
            let mut next_job = 0u64;
            move |(input, frontier), (control, _), output| {
                control.for_each(|_cap, data| {
                    for c in data.drain(..) {
                        for h in
                            held.values().filter(|h| h.cancel_id == c.job_id && h.offset < c.offset)
                        {
                            h.flag.store(true, Ordering::Relaxed);
                        }
                        remembered.push(c);
                    }
                });
                input.for_each(|cap, data| {
                    let Some(cap) = cap.retain_least(0) else { return };
                    for work in data.drain(..) {
                        let key = stage.job(&work.input);
                        let cancel_id = key.cancel_id();
                        let cancelled = remembered
                            .iter()
                            .any(|c| c.job_id == cancel_id && work.offset < c.offset);
                        let flag = Arc::new(AtomicBool::new(cancelled));
                        stage.queued(&work.input, &ctx);
                        let lane = stage.lane(&work.input);
                        let id = next_job;
                        next_job += 1;
                        let job_cap = cap.delayed(&work.offset.max(*cap.time()));
                        held.insert(
                            id,
                            Held {
                                cap: job_cap,
                                offset: work.offset,
                                cancel_id,
                                flag: Arc::clone(&flag),
                            },
                        );
                        let (tx, wake, stage, ctx) =
                            (done_tx.clone(), wake.clone(), Arc::clone(&stage), Arc::clone(&ctx));
                        let job: Job = Box::new(move || {
                            let (outcome, attempts) = execute(&*stage, &work.input, &ctx, &flag);
                            let done =
                                Done { offset: work.offset, input: work.input, outcome, attempts };
                            if tx.send((id, done)).is_ok() {
                                let _ = wake.activate();
                            }
                        });
                        waiting.push_back((id, lane, job));
                    }
                });
                while let Ok((id, done)) = done_rx.try_recv() {
                    if let Some(h) = held.remove(&id) {
                        output.session(&h.cap).give(done);
                    }
                }
                // A cancel is kept while work of an earlier intent may still arrive.
                remembered.retain(|c| !passed(frontier, c.offset));
                // Interactive jobs go first, even when the batch lane is full.
                waiting.make_contiguous().sort_by_key(|(_, lane, _)| *lane != Lane::Interactive);
                while let Some((id, lane, job)) = waiting.pop_front() {
                    if let Err(job) = pool.try_submit(job, lane) {
                        waiting.push_front((id, lane, job));
                        // The pool is full: try again when a slot may have freed.
                        activator.activate_after(Duration::from_millis(20));
                        break;
                    }
                }
                report_queues(&ctx, &pool, waiting.len());
            }
        },
    )
}

/// Whether no time before `offset` can still arrive on an input with this frontier.
fn passed(frontier: &MutableAntichain<u64>, offset: u64) -> bool {
    frontier.frontier().iter().all(|t| *t >= offset)
}

fn report_queues(ctx: &StageContext, pool: &MediaPool, waiting: usize) {
    let m = &ctx.metrics;
    let (batch, interactive) = pool.queued();
    if pool.name() == "enrich" {
        m.lane_queue.with_label_values(&["enrich"]).set((batch + waiting) as i64);
    } else {
        m.media_queue.set((batch + interactive + waiting) as i64);
        m.lane_queue.with_label_values(&["batch"]).set(batch as i64);
        m.lane_queue.with_label_values(&["interactive"]).set(interactive as i64);
    }
}

/// What the catalog records of a stage's outcomes (as JSON: they cross workers).
pub(crate) fn results_of<'s, S: Stage>(
    done: StreamVec<'s, u64, Done<S::Input, S::Output>>,
    stage: Arc<S>,
) -> StreamVec<'s, u64, Json<WorkResult>> {
    done.flat_map(move |d| stage.record(&d).into_iter().map(Json))
}
