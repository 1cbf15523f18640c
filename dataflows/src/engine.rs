//! The engine: starts the pools, the model threads, the catalog writer and the timely workers,
//! publishes how far the catalog is durable, persists the checkpoint, and stops on request:
//! it stops reading the log, lets what is being written to the catalog land and the frontier
//! catch up, and only then stores the final checkpoint, so a restart replays nothing that is
//! already durable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use acervo_catalog::RenditionProfiles;
use acervo_catalog::config::{DataflowConfig, JobsConfig};
use acervo_lakehouse::checkpoint::CheckpointError;
use acervo_lakehouse::{Catalog, Checkpoint, EventLog, MasterStore, SearchIndex};
use acervo_operators::ProbeLimits;
use timely::dataflow::ProbeHandle;
use tokio::sync::watch;

use crate::catalog_writer::CatalogWriter;
use crate::context::StageContext;
use crate::graph::{self, GraphParts};
use crate::jobs::JobRegistry;
use crate::log_source::SourceSettings;
use crate::metrics::Metrics;
use crate::models::{Inference, Models};
use crate::pool::MediaPool;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("dataflow checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("starting the dataflow: {0}")]
    Start(String),
    #[error("a dataflow worker failed: {0}")]
    Worker(String),
}

/// Everything the engine needs from the rest of the process.
pub struct EngineContext {
    pub log: Arc<dyn EventLog>,
    pub catalog: Arc<Catalog>,
    pub search: Arc<SearchIndex>,
    pub masters: MasterStore,
    pub checkpoint: Checkpoint,
    pub jobs: Arc<JobRegistry>,
    pub metrics: Arc<Metrics>,
    pub runtime: tokio::runtime::Handle,
    pub config: DataflowConfig,
    pub limits: ProbeLimits,
    pub profiles: RenditionProfiles,
    pub jobs_config: JobsConfig,
    pub work_dir: std::path::PathBuf,
    pub models: Models,
}

pub struct Engine {
    shutdown: Arc<AtomicBool>,
    thread: std::sync::Mutex<Option<JoinHandle<Result<(), EngineError>>>>,
    durable: watch::Receiver<u64>,
}

/// How often the checkpoint file is rewritten at most; the published position is live.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// How long a stop waits for catalog writes in flight to land (work on the pools is not waited
/// for: it is redone from the log).
const DRAIN_FOR: Duration = Duration::from_secs(30);
/// Steps with no write in flight and no frontier move after which the drain ends.
const QUIET_STEPS: u32 = 10;

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn or_cores(n: usize) -> usize {
    if n == 0 { cores() } else { n }
}

impl Engine {
    pub fn start(ctx: EngineContext) -> Result<Engine, EngineError> {
        let start = ctx.checkpoint.load()?;
        let (tx, durable) = watch::channel(start);
        let tx = Arc::new(tx);
        let (workers, media_threads, enrich_threads) = (
            or_cores(ctx.config.workers),
            or_cores(ctx.config.media_threads),
            or_cores(ctx.config.enrich_threads),
        );
        let inference = Inference::start(&ctx.models, &ctx.metrics.inference_batch);
        let stages = Arc::new(StageContext {
            masters: ctx.masters,
            catalog: Arc::clone(&ctx.catalog),
            runtime: ctx.runtime.clone(),
            jobs: ctx.jobs,
            metrics: Arc::clone(&ctx.metrics),
            limits: ctx.limits,
            profiles: ctx.profiles,
            jobs_config: ctx.jobs_config,
            work_dir: ctx.work_dir,
            models: ctx.models,
            inference,
        });
        let writer =
            CatalogWriter::spawn(&ctx.runtime, ctx.catalog, ctx.search, Arc::clone(&ctx.metrics));
        let parts = Arc::new(GraphParts {
            stages,
            media_pool: Arc::new(MediaPool::new("media", media_threads, ctx.config.media_queue)),
            enrich_pool: Arc::new(MediaPool::new(
                "enrich",
                enrich_threads,
                ctx.config.enrich_queue,
            )),
            writer,
        });
        let shutdown = Arc::new(AtomicBool::new(false));
        let read_to = Arc::new(AtomicU64::new(start));
        let (checkpoint, flag, log, metrics) =
            (ctx.checkpoint, Arc::clone(&shutdown), ctx.log, ctx.metrics);
        let (batch, window) =
            (ctx.config.batch_records.max(1), (ctx.config.batch_records.max(1) * 8) as u64);
        tracing::info!(
            workers,
            media_threads,
            enrich_threads,
            start,
            "starting the ingest dataflow"
        );
        let thread = std::thread::Builder::new()
            .name("acervo-dataflow".into())
            .spawn(move || {
                let guards = timely::execute(timely::Config::process(workers), move |worker| {
                    let probe = ProbeHandle::new();
                    let source = SourceSettings {
                        log: Arc::clone(&log),
                        metrics: Arc::clone(&metrics),
                        start,
                        batch,
                        window,
                        shutdown: Arc::clone(&flag),
                        read_to: Arc::clone(&read_to),
                    };
                    let (p, graph_parts, writer) =
                        (probe.clone(), Arc::clone(&parts), parts.writer.clone());
                    worker.dataflow::<u64, _, _>(move |scope| {
                        graph::build(scope, &graph_parts, source, p)
                    });
                    let leader = worker.index() == 0;
                    let frontier = || probe.with_frontier(|f| f.first().copied());
                    let (mut published, mut stored, mut stored_at) = (start, start, Instant::now());
                    let publish = |published: &mut u64, f: u64| {
                        if f > *published {
                            *published = f;
                            tx.send_replace(f);
                            metrics.committed_offset.set(f as i64);
                        }
                    };
                    while !flag.load(Ordering::Relaxed) {
                        worker.step_or_park(Some(Duration::from_millis(50)));
                        if !leader {
                            continue;
                        }
                        if let Some(f) = frontier() {
                            publish(&mut published, f);
                        }
                        if published > stored && stored_at.elapsed() >= CHECKPOINT_EVERY {
                            checkpoint.store(published)?;
                            (stored, stored_at) = (published, Instant::now());
                        }
                    }
                    // The source reads no more: what is read drains into the catalog. The
                    // frontier stops when only work on the pools is left (not waited for); a
                    // few quiet steps in a row tell that no write is on its way.
                    let deadline = Instant::now() + DRAIN_FOR;
                    let (mut quiet, mut last) = (0, frontier());
                    while quiet < QUIET_STEPS && Instant::now() < deadline {
                        worker.step_or_park(Some(Duration::from_millis(10)));
                        let f = frontier();
                        if let Some(f) = f {
                            publish(&mut published, f);
                        }
                        if f.is_none_or(|f| f >= read_to.load(Ordering::Acquire)) {
                            break;
                        }
                        quiet = if writer.in_flight() == 0 && f == last { quiet + 1 } else { 0 };
                        last = f;
                    }
                    if leader && published > stored {
                        checkpoint.store(published)?;
                    }
                    // Timely would otherwise step until the dataflow completes, which it never
                    // does while the source is open. Work in flight is redone from the log.
                    for dataflow in worker.installed_dataflows() {
                        worker.drop_dataflow(dataflow);
                    }
                    Ok::<(), EngineError>(())
                })
                .map_err(EngineError::Start)?;
                for result in guards.join() {
                    result.map_err(EngineError::Worker)??;
                }
                Ok(())
            })
            .map_err(|e| EngineError::Start(e.to_string()))?;
        Ok(Engine { shutdown, thread: std::sync::Mutex::new(Some(thread)), durable })
    }

    /// The log offset below which every output is durable in the catalog.
    pub fn durable_offset(&self) -> u64 {
        *self.durable.borrow()
    }

    /// Waits until everything below `offset` is durable in the catalog.
    pub async fn wait_for(&self, offset: u64) {
        let mut rx = self.durable.clone();
        let _ = rx.wait_for(|d| *d >= offset).await;
    }

    /// Stops reading the log, lets the catalog writes in flight land, persists the checkpoint
    /// and stops the workers. Work still on the pools is abandoned; it is redone from the log
    /// on the next start.
    pub fn stop(&self) -> Result<(), EngineError> {
        self.shutdown.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        match thread {
            Some(t) => {
                t.join().map_err(|_| EngineError::Worker("the dataflow thread panicked".into()))?
            }
            None => Ok(()),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::Relaxed);
    }
}
