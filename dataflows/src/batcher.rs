//! Inference batched across assets. A model gets one thread; the enrichment jobs of several
//! assets hand it their inputs and wait. Whatever is waiting when the model is free goes into
//! one call (up to `max_batch` inputs), so two assets' frames or sentences share a forward pass
//! rather than taking turns at half a batch each. Nothing waits for a batch to fill: a lone
//! request runs at once, and requests queue up only while the model is busy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use prometheus::Histogram;

/// Why a model call gave no outputs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InferenceError {
    #[error("the {model} model thread is not running")]
    NotRunning { model: &'static str },
    #[error("the {model} model thread has stopped")]
    Stopped { model: String },
    #[error("cancelled")]
    Cancelled,
    #[error("the {model} model failed: {reason}")]
    Model { model: String, reason: String },
}

type Reply<O> = Sender<Result<Vec<O>, InferenceError>>;

struct Request<I, O> {
    items: Vec<I>,
    reply: Reply<O>,
}

pub struct Batcher<I, O> {
    tx: SyncSender<Request<I, O>>,
    name: String,
    max_batch: usize,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Batcher { tx: self.tx.clone(), name: self.name.clone(), max_batch: self.max_batch }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the model's thread. `model` maps a batch of inputs to one output per input, in
    /// order; `batch_sizes` observes how many inputs each call took.
    pub fn spawn<E, F>(
        name: &str,
        max_batch: usize,
        batch_sizes: Option<Histogram>,
        model: F,
    ) -> Result<Batcher<I, O>, std::io::Error>
    where
        F: Fn(&[I]) -> Result<Vec<O>, E> + Send + 'static,
        E: std::fmt::Display,
    {
        // Room for one request per enrichment thread is plenty; more waiting callers block.
        let (tx, rx) = mpsc::sync_channel::<Request<I, O>>(64);
        let max_batch = max_batch.max(1);
        let model_name = name.to_string();
        std::thread::Builder::new()
            .name(format!("acervo-model-{name}"))
            .spawn(move || serve(rx, &model_name, max_batch, batch_sizes, model))?;
        Ok(Batcher { tx, name: name.to_string(), max_batch })
    }

    /// The outputs for any number of `items`, asked `max_batch` at a time (so a long video does
    /// not hold the model while another asset waits), checking `cancel` between calls.
    pub fn run_all(&self, items: Vec<I>, cancel: &AtomicBool) -> Result<Vec<O>, InferenceError> {
        let mut out = Vec::with_capacity(items.len());
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            if cancel.load(Ordering::Relaxed) {
                return Err(InferenceError::Cancelled);
            }
            out.extend(self.run(items.by_ref().take(self.max_batch).collect())?);
        }
        Ok(out)
    }

    /// The model's outputs for at most `max_batch` `items` (more are taken, as one call).
    pub fn run(&self, items: Vec<I>) -> Result<Vec<O>, InferenceError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = mpsc::channel();
        let stopped = || InferenceError::Stopped { model: self.name.clone() };
        self.tx.send(Request { items, reply }).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

fn serve<I, O, E, F>(
    rx: Receiver<Request<I, O>>,
    name: &str,
    max_batch: usize,
    batch_sizes: Option<Histogram>,
    model: F,
) where
    F: Fn(&[I]) -> Result<Vec<O>, E>,
    E: std::fmt::Display,
{
    let failed = |reason: String| InferenceError::Model { model: name.to_string(), reason };
    let call = |items: &[I]| -> Result<Vec<O>, InferenceError> {
        if let Some(h) = &batch_sizes {
            h.observe(items.len() as f64);
        }
        // A bug in a model must fail the requests, not the thread every later request needs.
        let out = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model(items))) {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Err(_) => return Err(failed("it panicked (please report it)".to_string())),
        };
        if out.len() != items.len() {
            return Err(failed(format!("{} outputs for {} inputs", out.len(), items.len())));
        }
        Ok(out)
    };
    let mut pending: Option<Request<I, O>> = None;
    loop {
        let first = match pending.take() {
            Some(r) => r,
            None => match rx.recv() {
                Ok(r) => r,
                Err(_) => return,
            },
        };
        let mut batch = vec![first];
        let mut size = batch[0].items.len();
        while size < max_batch {
            match rx.try_recv() {
                Ok(r) if size + r.items.len() <= max_batch => {
                    size += r.items.len();
                    batch.push(r);
                }
                Ok(r) => {
                    // Too big to join: it leads the next batch.
                    pending = Some(r);
                    break;
                }
                Err(_) => break,
            }
        }
        if batch.len() == 1 {
            let r = batch.remove(0);
            let out = call(&r.items);
            let _ = r.reply.send(out);
            continue;
        }
        let counts: Vec<usize> = batch.iter().map(|r| r.items.len()).collect();
        let (items, replies): (Vec<Vec<I>>, Vec<Reply<O>>) =
            batch.into_iter().map(|r| (r.items, r.reply)).unzip();
        let items: Vec<I> = items.into_iter().flatten().collect();
        match call(&items) {
            Ok(out) => {
                let mut out = out.into_iter();
                for (reply, n) in replies.iter().zip(counts) {
                    let _ = reply.send(Ok(out.by_ref().take(n).collect()));
                }
            }
            Err(_) => {
                // One request's input may be what broke the batch: each runs alone, so only
                // that one gets the error.
                let mut items = items.into_iter();
                for (reply, n) in replies.iter().zip(counts) {
                    let own: Vec<I> = items.by_ref().take(n).collect();
                    let _ = reply.send(call(&own));
                }
            }
        }
    }
}
