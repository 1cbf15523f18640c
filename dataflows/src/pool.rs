//! The bounded blocking pool for media work, with two lanes (seed 001 §4.3.10: `q-transcode`
//! and `q-transcode-interactive`). Heavy work (FFmpeg) never runs on a timely worker thread:
//! operators hand jobs here. A free thread always takes an interactive job before a batch one,
//! so an editor's on-demand request is served ahead of an ingest backlog. The batch lane is
//! bounded: a full queue pushes back on the dataflow instead of buffering without bound.
//!
//! The enrichment stage runs on a second pool of this kind, so models work while the media
//! pool encodes renditions, and neither starves the other.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

pub type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    Batch,
    Interactive,
}

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Batch => "batch",
            Lane::Interactive => "interactive",
        }
    }
}

#[derive(Default)]
struct Queues {
    interactive: VecDeque<Job>,
    batch: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queues: Mutex<Queues>,
    /// A job was queued.
    ready: Condvar,
    /// A job left a queue (room for `submit_wait`).
    room: Condvar,
}

pub struct MediaPool {
    shared: Arc<Shared>,
    capacity: usize,
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Queues> {
    shared.queues.lock().unwrap_or_else(|p| p.into_inner())
}

impl MediaPool {
    /// `threads` threads named `acervo-{name}-N`, each lane holding at most `queue` jobs.
    pub fn new(name: &str, threads: usize, queue: usize) -> MediaPool {
        let shared = Arc::new(Shared::default());
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            let spawned =
                std::thread::Builder::new().name(format!("acervo-{name}-{i}")).spawn(move || {
                    loop {
                        let job = {
                            let mut q = lock(&shared);
                            loop {
                                if let Some(job) =
                                    q.interactive.pop_front().or_else(|| q.batch.pop_front())
                                {
                                    shared.room.notify_one();
                                    break job;
                                }
                                if q.closed {
                                    return;
                                }
                                q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
                            }
                        };
                        job();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a {name} thread");
            }
        }
        MediaPool { shared, capacity: queue.max(1) }
    }

    /// Queues `job` on `lane`, or hands it back when that lane is full.
    pub fn try_submit(&self, job: Job, lane: Lane) -> Result<(), Job> {
        let mut q = lock(&self.shared);
        let queue = match lane {
            Lane::Batch => &mut q.batch,
            Lane::Interactive => &mut q.interactive,
        };
        if queue.len() >= self.capacity {
            return Err(job);
        }
        queue.push_back(job);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Queues `job` on the batch lane, waiting for room: the caller (a thread of another pool)
    /// is held back instead of the queue growing without bound.
    pub fn submit_wait(&self, job: Job) {
        let mut q = lock(&self.shared);
        while q.batch.len() >= self.capacity && !q.closed {
            q = self.shared.room.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        q.batch.push_back(job);
        self.shared.ready.notify_one();
    }

    /// Jobs waiting for a thread, per lane (batch, interactive).
    pub fn queued(&self) -> (usize, usize) {
        let q = lock(&self.shared);
        (q.batch.len(), q.interactive.len())
    }
}

impl Drop for MediaPool {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.ready.notify_all();
        self.shared.room.notify_all();
    }
}
