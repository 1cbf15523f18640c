//! The engine: starts the timely workers, the media pool and the catalog writer, publishes how
//! far the catalog is durable, persists the checkpoint, and stops on request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use acervo_catalog::config::DataflowConfig;
use acervo_lakehouse::checkpoint::CheckpointError;
use acervo_lakehouse::{Catalog, Checkpoint, EventLog, MasterStore, SearchIndex};
use acervo_operators::ProbeLimits;
use timely::dataflow::ProbeHandle;
use tokio::sync::watch;

use crate::graph;
use crate::jobs::JobRegistry;
use crate::media_job::MediaContext;
use crate::metrics::Metrics;
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
    pub profiles: acervo_catalog::RenditionProfiles,
    pub jobs_config: acervo_catalog::config::JobsConfig,
    pub work_dir: std::path::PathBuf,
    pub models: crate::enrich_stage::Models,
}

pub(crate) struct Shared {
    pub log: Arc<dyn EventLog>,
    pub catalog: Arc<Catalog>,
    pub search: Arc<SearchIndex>,
    pub media: Arc<MediaContext>,
    pub pool: MediaPool,
    /// The enrichment's own pool (see `media_job`).
    pub enrich_pool: Arc<MediaPool>,
    pub metrics: Arc<Metrics>,
    pub runtime: tokio::runtime::Handle,
    pub config: DataflowConfig,
}

pub struct Engine {
    shutdown: Arc<AtomicBool>,
    thread: std::sync::Mutex<Option<JoinHandle<Result<(), EngineError>>>>,
    durable: watch::Receiver<u64>,
}

/// How often the checkpoint file is rewritten at most; the published position is live.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl Engine {
    pub fn start(ctx: EngineContext) -> Result<Engine, EngineError> {
        let start = ctx.checkpoint.load()?;
        let (tx, durable) = watch::channel(start);
        let tx = Arc::new(tx);
        let workers = if ctx.config.workers == 0 { cores() } else { ctx.config.workers };
        let media_threads =
            if ctx.config.media_threads == 0 { cores() } else { ctx.config.media_threads };
        let enrich_threads =
            if ctx.config.enrich_threads == 0 { cores() } else { ctx.config.enrich_threads };
        let shared = Arc::new(Shared {
            log: ctx.log,
            catalog: ctx.catalog,
            search: ctx.search,
            media: Arc::new(MediaContext {
                masters: ctx.masters,
                runtime: ctx.runtime.clone(),
                jobs: ctx.jobs,
                metrics: Arc::clone(&ctx.metrics),
                limits: ctx.limits,
                profiles: ctx.profiles,
                jobs_config: ctx.jobs_config,
                work_dir: ctx.work_dir,
                inference: crate::enrich_stage::Inference::start(
                    &ctx.models,
                    &ctx.metrics.inference_batch,
                ),
                models: ctx.models,
            }),
            pool: MediaPool::new("media", media_threads, ctx.config.media_queue),
            enrich_pool: Arc::new(MediaPool::new(
                "enrich",
                enrich_threads,
                ctx.config.enrich_queue,
            )),
            metrics: ctx.metrics,
            runtime: ctx.runtime,
            config: ctx.config,
        });
        let shutdown = Arc::new(AtomicBool::new(false));
        let checkpoint = ctx.checkpoint;
        let flag = Arc::clone(&shutdown);
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
                    let s = Arc::clone(&shared);
                    let (p, f) = (probe.clone(), Arc::clone(&flag));
                    worker.dataflow::<u64, _, _>(move |scope| graph::build(scope, s, start, p, f));
                    let leader = worker.index() == 0;
                    let (mut published, mut stored, mut stored_at) = (start, start, Instant::now());
                    while !flag.load(Ordering::Relaxed) {
                        worker.step_or_park(Some(Duration::from_millis(50)));
                        if !leader {
                            continue;
                        }
                        if let Some(f) = probe.with_frontier(|f| f.first().copied())
                            && f > published
                        {
                            published = f;
                            tx.send_replace(f);
                            shared.metrics.committed_offset.set(f as i64);
                        }
                        if published > stored && stored_at.elapsed() >= CHECKPOINT_EVERY {
                            checkpoint.store(published)?;
                            (stored, stored_at) = (published, Instant::now());
                        }
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

    /// Stops the workers after persisting the checkpoint. Work in flight is abandoned; it is
    /// redone from the log on the next start.
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
