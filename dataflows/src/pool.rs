//! The bounded blocking pool for media work, with two lanes (seed 001 §4.3.10: `q-transcode`
//! and `q-transcode-interactive`). Heavy work (FFmpeg) never runs on a timely worker thread:
//! operators hand jobs here. A free thread always takes an interactive job before a batch one,
//! so an editor's on-demand request is served ahead of an ingest backlog. The batch lane is
//! bounded: a full queue pushes back on the dataflow instead of buffering without bound.

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

pub struct MediaPool {
    queues: Arc<(Mutex<Queues>, Condvar)>,
    capacity: usize,
}

impl MediaPool {
    pub fn new(threads: usize, queue: usize) -> MediaPool {
        let queues = Arc::new((Mutex::new(Queues::default()), Condvar::new()));
        for i in 0..threads.max(1) {
            let queues = Arc::clone(&queues);
            let spawned = std::thread::Builder::new().name(format!("acervo-media-{i}")).spawn(move || {
                loop {
                    let job = {
                        let (lock, ready) = &*queues;
                        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
                        loop {
                            if let Some(job) = q.interactive.pop_front().or_else(|| q.batch.pop_front()) {
                                break job;
                            }
                            if q.closed {
                                return;
                            }
                            q = ready.wait(q).unwrap_or_else(|p| p.into_inner());
                        }
                    };
                    job();
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a media thread");
            }
        }
        MediaPool { queues, capacity: queue.max(1) }
    }

    /// Queues `job` on `lane`, or hands it back when that lane is full.
    pub fn try_submit(&self, job: Job, lane: Lane) -> Result<(), Job> {
        let (lock, ready) = &*self.queues;
        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
        let queue = match lane {
            Lane::Batch => &mut q.batch,
            Lane::Interactive => &mut q.interactive,
        };
        if queue.len() >= self.capacity {
            return Err(job);
        }
        queue.push_back(job);
        ready.notify_one();
        Ok(())
    }

    /// Jobs waiting for a thread, per lane (batch, interactive).
    pub fn queued(&self) -> (usize, usize) {
        let q = self.queues.0.lock().unwrap_or_else(|p| p.into_inner());
        (q.batch.len(), q.interactive.len())
    }
}

impl Drop for MediaPool {
    fn drop(&mut self) {
        let (lock, ready) = &*self.queues;
        lock.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        ready.notify_all();
    }
}
