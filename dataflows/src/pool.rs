//! The bounded blocking pool for media work, with two lanes (seed 001 §4.3.10: `q-transcode`
//! and `q-transcode-interactive`). Heavy work (FFmpeg) never runs on a timely worker thread:
//! operators hand jobs here. A free thread always takes an interactive job before a batch one,
//! so an editor's on-demand request is served ahead of an ingest backlog. The batch lane is
//! bounded: a full queue pushes back on the dataflow instead of buffering without bound.
//!
//! The enrichment stage runs on a second pool of this kind, so models work while the media
//! pool encodes renditions, and neither starves the other. Pool threads run at a lower priority
//! than the API and the dataflow.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use acervo_catalog::Lane;

pub type Job = Box<dyn FnOnce() + Send + 'static>;

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
    name: String,
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
                    lower_priority();
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
        MediaPool { shared, capacity: queue.max(1), name: name.to_string() }
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

    /// The pool's name (`media`, `enrich`): its threads' and its metrics'.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Jobs waiting for a thread, per lane (batch, interactive).
    pub fn queued(&self) -> (usize, usize) {
        let q = lock(&self.shared);
        (q.batch.len(), q.interactive.len())
    }
}

/// Media and model work yields the cores to the API and the dataflow's own threads: they answer
/// reads and carry cancels in milliseconds while every core encodes. The threads an encoder or
/// a model starts inherit it. Linux nice applies per thread; idle cores are still all theirs.
fn lower_priority() {
    const NICE: i32 = 10;
    // SAFETY: plain system calls on the calling thread, no memory handed over.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, NICE) };
    if rc != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "could not lower a pool thread's priority");
    }
}

impl Drop for MediaPool {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.ready.notify_all();
        self.shared.room.notify_all();
    }
}
