//! The catalog writer: an async task that turns batches of updates into Lance upserts. It reads
//! the affected rows, applies events and results in order, writes renditions, segments,
//! embeddings and assets, then feeds the search index and commits it, so an acknowledged update
//! is both durable and searchable.
//! A failed write is retried with backoff; the dataflow keeps the batch's capability until the
//! write is acknowledged, so the checkpoint never passes an update that is not durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acervo_catalog::{
    AssetId, EmbeddingRow, Enrichment, Event, FrameRow, Rendition, SegmentRow, WorkResult,
};
use acervo_lakehouse::search::IndexBatch;
use acervo_lakehouse::{Catalog, CatalogError, SearchError, SearchIndex};
use timely::scheduling::SyncActivator;
use tokio::sync::mpsc::UnboundedSender;

use crate::materialize::{apply_event, apply_result};
use crate::metrics::Metrics;
use crate::update::Update;

pub struct WriteRequest {
    pub id: u64,
    pub updates: Vec<Update>,
}

/// Starts the writer on `runtime`; acknowledgements go to `acks`, and `wake` activates the
/// operator that waits for them.
pub fn spawn(
    runtime: &tokio::runtime::Handle,
    catalog: Arc<Catalog>,
    search: Arc<SearchIndex>,
    metrics: Arc<Metrics>,
    acks: std::sync::mpsc::Sender<u64>,
    wake: SyncActivator,
) -> UnboundedSender<WriteRequest> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WriteRequest>();
    runtime.spawn(async move {
        while let Some(req) = rx.recv().await {
            let mut backoff = Duration::from_millis(100);
            loop {
                let start = Instant::now();
                match write(&catalog, &search, &req.updates).await {
                    Ok(()) => {
                        metrics.catalog_write_seconds.observe(start.elapsed().as_secs_f64());
                        metrics.catalog_updates.inc_by(req.updates.len() as u64);
                        break;
                    }
                    Err(e) => {
                        metrics.catalog_write_failures.inc();
                        tracing::error!(error = %e, retry_in = ?backoff, "catalog write failed; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
            if acks.send(req.id).is_err() {
                return; // the dataflow is gone
            }
            let _ = wake.activate();
        }
    });
    tx
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

/// An enrichment's segments and vectors, as rows for their tables: each part present replaces
/// the asset's previous rows of that table (the last of a batch wins).
fn add_enrichment_rows(
    search: &SearchIndex,
    id: AssetId,
    e: &Enrichment,
    segments: &mut HashMap<AssetId, Vec<SegmentRow>>,
    frames: &mut HashMap<AssetId, Vec<FrameRow>>,
    vectors: &mut HashMap<AssetId, Vec<EmbeddingRow>>,
) {
    if let Some(segs) = &e.transcript {
        let model = e.models.as_ref().and_then(|m| m.get("speech")).cloned();
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
        segments.insert(id, rows);
    }
    if let Some(fs) = &e.frames {
        let model = |part: &str| e.models.as_ref().and_then(|m| m.get(part)).cloned();
        let rows = fs
            .iter()
            .map(|f| FrameRow {
                asset_id: id,
                at_ms: f.at_ms,
                ocr_text: f.ocr_text.clone(),
                labels: f.labels.clone(),
                ocr_model: model("ocr"),
                label_model: model("labels"),
            })
            .collect();
        frames.insert(id, rows);
    }
    if e.embedding.is_none() && e.frame_embeddings.is_none() {
        return;
    }
    // Vectors given replace all of the asset's vectors (asset and frames together).
    let mut given: Vec<(Option<u64>, &Vec<f32>)> = e.embedding.iter().map(|v| (None, v)).collect();
    given.extend(e.frame_embeddings.iter().flatten().map(|f| (Some(f.at_ms), &f.vector)));
    let (ord, keys) = search.vectors().assign(id, given.len());
    let model = e.models.as_ref().and_then(|m| m.get("embedding")).cloned();
    let rows = given
        .into_iter()
        .zip(keys)
        .map(|((at_ms, v), vkey)| EmbeddingRow {
            asset_id: id,
            ord,
            vkey,
            at_ms,
            vector: v.clone(),
            model: model.clone(),
        })
        .collect();
    vectors.insert(id, rows);
}

async fn write(
    catalog: &Catalog,
    search: &Arc<SearchIndex>,
    updates: &[Update],
) -> Result<(), WriteError> {
    let mut ids: Vec<AssetId> = updates
        .iter()
        .map(|u| match u {
            Update::Event { event, .. } => event.0.event.asset_id(),
            Update::Result { result, .. } => result.0.asset_id(),
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows: HashMap<AssetId, _> =
        catalog.get_assets(&ids).await?.into_iter().map(|(k, v)| (k, Some(v))).collect();
    let mut changed = Vec::new();
    let mut renditions: Vec<Rendition> = Vec::new();
    let mut segments: HashMap<AssetId, Vec<SegmentRow>> = HashMap::new();
    let mut frames: HashMap<AssetId, Vec<FrameRow>> = HashMap::new();
    let mut vectors: HashMap<AssetId, Vec<EmbeddingRow>> = HashMap::new();
    for u in updates {
        match u {
            Update::Event { event, .. } => {
                let id = event.0.event.asset_id();
                let row = rows.entry(id).or_insert(None);
                let before = row.clone();
                *row = apply_event(row.take(), &event.0);
                if *row != before {
                    changed.push(id);
                }
                if let (Event::EnrichmentImported { enrichment, .. }, Some(_)) =
                    (&event.0.event, row.as_ref())
                {
                    add_enrichment_rows(
                        search,
                        id,
                        enrichment,
                        &mut segments,
                        &mut frames,
                        &mut vectors,
                    );
                }
            }
            Update::Result { result, .. } => {
                let id = result.0.asset_id();
                let row = rows.entry(id).or_insert(None);
                match row.take() {
                    Some(asset) => {
                        *row = Some(apply_result(asset, &result.0));
                        changed.push(id);
                        match &result.0 {
                            WorkResult::RenditionWritten { rendition } => {
                                renditions.push(rendition.clone())
                            }
                            WorkResult::RenditionsMade { renditions: made, .. } => {
                                renditions.extend(made.iter().cloned())
                            }
                            WorkResult::Enriched { enrichment, .. } => add_enrichment_rows(
                                search,
                                id,
                                enrichment,
                                &mut segments,
                                &mut frames,
                                &mut vectors,
                            ),
                            _ => {}
                        }
                    }
                    None => {
                        tracing::warn!(asset = %id, "media result for an asset that is not in the catalog; ignored")
                    }
                }
            }
        }
    }
    changed.sort_unstable();
    changed.dedup();
    // Renditions first: once a reader sees an asset ready, its renditions are there too.
    // One row per (asset, profile): the last one of the batch wins.
    let mut by_key: HashMap<(AssetId, String), Rendition> = HashMap::new();
    for r in renditions {
        by_key.insert((r.asset_id, r.profile.clone()), r);
    }
    catalog.upsert_renditions(&by_key.into_values().collect::<Vec<_>>()).await?;
    let seg_ids: Vec<AssetId> = segments.keys().copied().collect();
    catalog
        .replace_segments(&seg_ids, &segments.values().flatten().cloned().collect::<Vec<_>>())
        .await?;
    let frame_ids: Vec<AssetId> = frames.keys().copied().collect();
    catalog.replace_frames(&frame_ids, &frames.into_values().flatten().collect::<Vec<_>>()).await?;
    let vec_ids: Vec<AssetId> = vectors.keys().copied().collect();
    catalog
        .replace_embeddings(&vec_ids, &vectors.values().flatten().cloned().collect::<Vec<_>>())
        .await?;
    let assets: Vec<_> = changed.iter().filter_map(|id| rows.get(id).cloned().flatten()).collect();
    catalog.upsert_assets(&assets).await?;
    let batch = IndexBatch {
        assets,
        segments: segments.into_iter().collect(),
        vectors: vectors.into_iter().collect(),
    };
    let search = Arc::clone(search);
    tokio::task::spawn_blocking(move || search.apply(batch))
        .await
        .map_err(|e| WriteError::Join(e.to_string()))??;
    Ok(())
}
