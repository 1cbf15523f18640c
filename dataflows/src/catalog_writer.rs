//! The catalog writer: one async task per process, the catalog's only writer, and the two
//! operators that feed it. Each write reads the affected rows, applies intents and results in
//! order (`acervo_catalog::apply`), writes renditions, segments, frames, embeddings and assets
//! to Lance, then feeds the search index and commits it, so an acknowledged write is both
//! durable and searchable. A failed write is retried with backoff.
//!
//! - The intent writer applies intents and plans the work they ask for from the rows it just
//!   wrote (`acervo_catalog::work::plan`): a stage starts from the asset as the catalog has it.
//!   Each planned job leaves at its intent's time once the write is acknowledged.
//! - The result writer applies the stages' results.
//!
//! Both hold their batches' capabilities until the write is acknowledged, so the checkpoint
//! never passes an update that is not durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use acervo_catalog::{
    AssetId, EnrichPart, Enrichment, Event, EventEnvelope, FrameRow, NewVectors, Planned,
    Rendition, SegmentRow, WorkResult, apply_event, apply_result, work::plan,
};
use acervo_lakehouse::search::IndexBatch;
use acervo_lakehouse::{Catalog, CatalogError, SearchError, SearchIndex};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;
use timely::scheduling::SyncActivator;

use crate::json::Json;
use crate::log_source::LogItem;
use crate::metrics::Metrics;

/// Updates written in one commit at most, however many requests wait.
const GROUP_UPDATES: usize = 8192;

/// What one request applies.
enum Updates {
    Intents(Vec<(u64, EventEnvelope)>),
    Results(Vec<WorkResult>),
}

struct WriteRequest {
    updates: Updates,
    /// Where the planned work goes once the write is durable.
    reply: std::sync::mpsc::Sender<(u64, Vec<(u64, Planned)>)>,
    id: u64,
    wake: SyncActivator,
}

/// The handle of the writer task.
#[derive(Clone)]
pub(crate) struct CatalogWriter {
    tx: tokio::sync::mpsc::UnboundedSender<WriteRequest>,
    in_flight: Arc<AtomicUsize>,
}

impl CatalogWriter {
    /// Starts the task on `runtime`.
    pub(crate) fn spawn(
        runtime: &tokio::runtime::Handle,
        catalog: Arc<Catalog>,
        search: Arc<SearchIndex>,
        metrics: Arc<Metrics>,
    ) -> CatalogWriter {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WriteRequest>();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&in_flight);
        runtime.spawn(async move {
            while let Some(first) = rx.recv().await {
                // Requests that queued behind the last write go into this one (group commit):
                // under load, one commit instead of a commit each.
                let mut group = vec![first];
                let mut size = group[0].updates.len();
                while size < GROUP_UPDATES {
                    match rx.try_recv() {
                        Ok(req) => {
                            size += req.updates.len();
                            group.push(req);
                        }
                        Err(_) => break,
                    }
                }
                let mut backoff = Duration::from_millis(100);
                let planned = loop {
                    let start = Instant::now();
                    match write(&catalog, &search, &group).await {
                        Ok(planned) => {
                            metrics.catalog_write_seconds.observe(start.elapsed().as_secs_f64());
                            metrics.catalog_updates.inc_by(size as u64);
                            break planned;
                        }
                        Err(e) => {
                            metrics.catalog_write_failures.inc();
                            tracing::error!(error = %e, retry_in = ?backoff, "catalog write failed; retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(30));
                        }
                    }
                };
                for (req, planned) in group.into_iter().zip(planned) {
                    count.fetch_sub(1, Ordering::AcqRel);
                    if req.reply.send((req.id, planned)).is_ok() {
                        let _ = req.wake.activate();
                    }
                }
            }
        });
        CatalogWriter { tx, in_flight }
    }

    /// Writes not yet acknowledged.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    fn send(&self, req: WriteRequest) -> bool {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(req).is_err() {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }
}

impl Updates {
    fn len(&self) -> usize {
        match self {
            Updates::Intents(v) => v.len(),
            Updates::Results(v) => v.len(),
        }
    }
}

/// Applies the intents of `items` (on worker 0) and emits the work they plan, each job at its
/// intent's time.
pub(crate) fn intent_writer<'s>(
    items: StreamVec<'s, u64, LogItem>,
    writer: CatalogWriter,
) -> StreamVec<'s, u64, (u64, Json<Planned>)> {
    writer_operator(items, writer, "IntentWriter", |items| {
        Updates::Intents(
            items
                .into_iter()
                .filter_map(|item| match item {
                    LogItem::Intent { offset, event } => Some((offset, event.0)),
                    LogItem::Control(_) => None,
                })
                .collect(),
        )
    })
}

/// Applies the stages' results (on worker 0); its output (results plan nothing) carries the
/// frontier below which everything is durable.
pub(crate) fn result_writer<'s>(
    results: StreamVec<'s, u64, Json<WorkResult>>,
    writer: CatalogWriter,
) -> StreamVec<'s, u64, (u64, Json<Planned>)> {
    writer_operator(results, writer, "ResultWriter", |results| {
        Updates::Results(results.into_iter().map(|r| r.0).collect())
    })
}

/// The operator of both writers: each activation's input becomes one write request (`updates`
/// makes it); the batch's capability is held until the write is acknowledged, then the work
/// it planned leaves at its intents' times.
fn writer_operator<'s, I>(
    input: StreamVec<'s, u64, I>,
    writer: CatalogWriter,
    name: &str,
    updates: impl Fn(Vec<I>) -> Updates + 'static,
) -> StreamVec<'s, u64, (u64, Json<Planned>)>
where
    I: timely::ExchangeData,
{
    let scope = input.scope();
    input.unary_frontier::<CapacityContainerBuilder<Vec<(u64, Json<Planned>)>>, _, _, _>(
        Exchange::new(|_: &I| 0u64),
        name,
        move |_cap, info| {
            let wake = scope.worker().sync_activator_for(info.address.to_vec());
            let (reply, acks) = std::sync::mpsc::channel();
            let mut in_flight: HashMap<u64, Capability<u64>> = HashMap::new();
            let mut next_id = 0u64;
            move |(input, _frontier), output| {
                let mut batch = Vec::new();
                let mut least: Option<Capability<u64>> = None;
                input.for_each(|cap, data| {
                    keep_least(&mut least, cap.retain_least(0));
                    batch.append(data);
                });
                if let Some(cap) = least
                    && !batch.is_empty()
                {
                    next_id += 1;
                    let req = WriteRequest {
                        updates: updates(batch),
                        reply: reply.clone(),
                        id: next_id,
                        wake: wake.clone(),
                    };
                    // Without a writer the capability is held for good: the checkpoint stays
                    // put and the batch is replayed on the next start.
                    if !writer.send(req) {
                        tracing::error!("the catalog writer stopped; holding the checkpoint");
                    }
                    in_flight.insert(next_id, cap);
                }
                while let Ok((id, planned)) = acks.try_recv() {
                    if let Some(cap) = in_flight.remove(&id) {
                        for (offset, work) in planned {
                            let at = cap.delayed(&offset.max(*cap.time()));
                            output.session(&at).give((offset, Json(work)));
                        }
                    }
                }
            }
        },
    )
}

fn keep_least(least: &mut Option<Capability<u64>>, cap: Option<Capability<u64>>) {
    if let Some(c) = cap
        && least.as_ref().is_none_or(|l| c.time() < l.time())
    {
        *least = Some(c);
    }
}

#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("search indexing task: {0}")]
    Join(String),
}

/// The rows one write changes beside the assets.
#[derive(Default)]
struct Rows {
    renditions: Vec<Rendition>,
    segments: HashMap<AssetId, Vec<SegmentRow>>,
    frames: HashMap<AssetId, Vec<FrameRow>>,
    vectors: HashMap<AssetId, NewVectors>,
    history: Vec<acervo_catalog::HistoryEntry>,
    /// Assets purged by this write: their renditions and history rows go.
    purged: Vec<AssetId>,
}

impl Rows {
    /// A purged asset's segments, frames and vectors replaced by none; its renditions and
    /// history rows deleted.
    fn forget(&mut self, id: AssetId) {
        self.segments.insert(id, Vec::new());
        self.frames.insert(id, Vec::new());
        self.vectors.insert(id, NewVectors { asset_id: id, vectors: Vec::new(), model: None });
        self.renditions.retain(|r| r.asset_id != id);
        self.history.retain(|h| h.asset_id != id || h.after.contains_key("status"));
        self.purged.push(id);
    }

    /// An enrichment's segments, frames and vectors: each part present replaces the asset's
    /// previous rows of that table (the last of a write wins).
    fn add_enrichment(&mut self, id: AssetId, e: &Enrichment) {
        if let Some(segs) = &e.transcript {
            let model = e.model(EnrichPart::Speech);
            let rows = segs
                .iter()
                .map(|s| SegmentRow {
                    asset_id: id,
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    text: s.text.clone(),
                    model: model.clone(),
                })
                .collect();
            self.segments.insert(id, rows);
        }
        if let Some(fs) = &e.frames {
            let (ocr_model, label_model) = (e.model(EnrichPart::Ocr), e.model(EnrichPart::Labels));
            let rows = fs
                .iter()
                .map(|f| FrameRow {
                    asset_id: id,
                    at_ms: f.at_ms,
                    ocr_text: f.ocr_text.clone(),
                    labels: f.labels.clone(),
                    ocr_model: ocr_model.clone(),
                    label_model: label_model.clone(),
                })
                .collect();
            self.frames.insert(id, rows);
        }
        if let Some(v) = e.new_vectors(id) {
            self.vectors.insert(id, v);
        }
    }
}

fn assets_of(group: &[WriteRequest]) -> Vec<AssetId> {
    let mut ids: Vec<AssetId> = Vec::new();
    for req in group {
        match &req.updates {
            Updates::Intents(v) => ids.extend(v.iter().map(|(_, e)| e.event.asset_id())),
            Updates::Results(v) => ids.extend(v.iter().map(WorkResult::asset_id)),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Applies the requests' updates in order and writes what changed in one commit per table;
/// returns the work each request's intents plan.
async fn write(
    catalog: &Catalog,
    search: &Arc<SearchIndex>,
    group: &[WriteRequest],
) -> Result<Vec<Vec<(u64, Planned)>>, WriteError> {
    let ids = assets_of(group);
    let mut rows: HashMap<AssetId, Option<acervo_catalog::Asset>> =
        catalog.get_assets(&ids).await?.into_iter().map(|(k, v)| (k, Some(v))).collect();
    let mut changed = Vec::new();
    let mut extra = Rows::default();
    let mut planned_by_request = Vec::with_capacity(group.len());
    for req in group {
        let mut planned = Vec::new();
        match &req.updates {
            Updates::Intents(intents) => {
                for (offset, env) in intents {
                    let id = env.event.asset_id();
                    let row = rows.entry(id).or_insert(None);
                    let before = row.clone();
                    *row = apply_event(row.take(), env);
                    match row.as_ref() {
                        None => {
                            tracing::warn!(asset = %id, offset, "intent for an asset that is not in the catalog; ignored")
                        }
                        Some(after) => {
                            if before.as_ref() != Some(after) {
                                changed.push(id);
                                extra.history.extend(acervo_catalog::history::entry(
                                    *offset,
                                    env,
                                    before.as_ref(),
                                    after,
                                ));
                            }
                            if let Event::EnrichmentImported { enrichment, .. } = &env.event {
                                extra.add_enrichment(id, enrichment);
                            }
                            if matches!(env.event, Event::AssetPurged { .. })
                                && after.status == acervo_catalog::AssetStatus::Purged
                                && before.as_ref().is_some_and(|b| b.status != after.status)
                            {
                                extra.forget(id);
                            }
                            if let Some(work) = plan(env, Some(after)) {
                                planned.push((*offset, work));
                            }
                        }
                    }
                }
            }
            Updates::Results(results) => {
                for result in results {
                    let id = result.asset_id();
                    let row = rows.entry(id).or_insert(None);
                    let Some(asset) = row.take() else {
                        tracing::warn!(asset = %id, "result for an asset that is not in the catalog; ignored");
                        continue;
                    };
                    *row = Some(apply_result(asset, result));
                    changed.push(id);
                    match result {
                        WorkResult::RenditionWritten { rendition } => {
                            extra.renditions.push(rendition.clone())
                        }
                        WorkResult::RenditionsMade { renditions: made, .. } => {
                            extra.renditions.extend(made.iter().cloned())
                        }
                        WorkResult::Enriched { enrichment, .. }
                        | WorkResult::Reembedded { enrichment, .. } => {
                            extra.add_enrichment(id, enrichment)
                        }
                        _ => {}
                    }
                }
            }
        }
        planned_by_request.push(planned);
    }
    changed.sort_unstable();
    changed.dedup();
    // Renditions first: once a reader sees an asset ready, its renditions are there too.
    // One row per (asset, profile): the last one of the write wins.
    let mut by_key: HashMap<(AssetId, String), Rendition> = HashMap::new();
    for r in extra.renditions {
        by_key.insert((r.asset_id, r.profile.clone()), r);
    }
    catalog.upsert_renditions(&by_key.into_values().collect::<Vec<_>>()).await?;
    let seg_ids: Vec<AssetId> = extra.segments.keys().copied().collect();
    catalog
        .replace_segments(&seg_ids, &extra.segments.values().flatten().cloned().collect::<Vec<_>>())
        .await?;
    let frame_ids: Vec<AssetId> = extra.frames.keys().copied().collect();
    catalog
        .replace_frames(&frame_ids, &extra.frames.into_values().flatten().collect::<Vec<_>>())
        .await?;
    let vectors =
        catalog.replace_embeddings(&extra.vectors.into_values().collect::<Vec<_>>()).await?;
    let assets: Vec<_> = changed.iter().filter_map(|id| rows.get(id).cloned().flatten()).collect();
    // A purge's rows go before the purge's own entry is appended.
    catalog.forget_rows(&extra.purged).await?;
    // The history before the rows it describes (see `history_table`).
    catalog.append_history(&extra.history).await?;
    catalog.upsert_assets(&assets).await?;
    let batch = IndexBatch { assets, segments: extra.segments.into_iter().collect(), vectors };
    let search = Arc::clone(search);
    tokio::task::spawn_blocking(move || search.apply(batch))
        .await
        .map_err(|e| WriteError::Join(e.to_string()))??;
    Ok(planned_by_request)
}
