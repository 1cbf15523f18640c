//! The bounded blocking pool for media work. Heavy work (FFmpeg) never runs on a timely worker
//! thread: operators hand jobs here, and a full queue pushes back on the dataflow instead of
//! buffering without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

pub type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct MediaPool {
    tx: SyncSender<Job>,
    queued: Arc<AtomicUsize>,
}

impl MediaPool {
    pub fn new(threads: usize, queue: usize) -> MediaPool {
        let (tx, rx) = sync_channel::<Job>(queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let queued = Arc::new(AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let rx: Arc<Mutex<Receiver<Job>>> = Arc::clone(&rx);
            let queued = Arc::clone(&queued);
            let spawned = std::thread::Builder::new().name(format!("acervo-media-{i}")).spawn(move || {
                loop {
                    let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return, // the pool was dropped
                    };
                    queued.fetch_sub(1, Ordering::Relaxed);
                    job();
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a media thread");
            }
        }
        MediaPool { tx, queued }
    }

    /// Queues `job`, or hands it back when the queue is full.
    pub fn try_submit(&self, job: Job) -> Result<(), Job> {
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(job)
            }
        }
    }

    /// Jobs waiting for a thread.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}
