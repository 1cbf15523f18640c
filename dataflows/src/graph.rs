//! The ingest dataflow, wired; each piece lives in its own file.
//!
//! ```text
//! log source (worker 0; times = log offsets)
//!   ├─ intents ─► intent writer (worker 0: Lance, then the search index) ─► planned work
//!   │               ─exchange by asset─► probe ─┬─► thumbnail ──┐
//!   │                                           ├─► renditions ─┤
//!   │                                           └─► enrich ─────┤
//!   │                            re-embeddings ───► enrich ─────┤
//!   │                            on-demand ───────► on-demand ──┤
//!   │                                                           ▼
//!   │                                      result writer (worker 0) ─► probe handle: the
//!   │                                      frontier below which everything is durable
//!   └─ control intents, read ahead ─exchange by asset─► every stage (cancels)
//! ```

use std::sync::Arc;

use acervo_catalog::{Planned, Stage as StageName, WorkResult};
use timely::dataflow::operators::vec::{Map, Partition};
use timely::dataflow::operators::{Concatenate, Exchange, Probe};
use timely::dataflow::{ProbeHandle, Scope, StreamVec};

use crate::catalog_writer::{CatalogWriter, intent_writer, result_writer};
use crate::context::StageContext;
use crate::json::Json;
use crate::log_source::{LogItem, SourceSettings, log_source};
use crate::pool::MediaPool;
use crate::stage::Work;
use crate::stage_operator::{Cancel, results_of, run_stage, spread};
use crate::stages::enrich::{EnrichInput, EnrichStage};
use crate::stages::ondemand::{OnDemandInput, OnDemandStage};
use crate::stages::probe::ProbeStage;
use crate::stages::renditions::RenditionsStage;
use crate::stages::thumbnail::ThumbnailStage;
use crate::stages::{MediaJob, Probed};

/// What the graph of one worker is built from.
pub(crate) struct GraphParts {
    pub stages: Arc<StageContext>,
    pub media_pool: Arc<MediaPool>,
    pub enrich_pool: Arc<MediaPool>,
    pub writer: CatalogWriter,
}

pub(crate) fn build<'scope>(
    scope: Scope<'scope, u64>,
    parts: &GraphParts,
    source: SourceSettings,
    probe: ProbeHandle<u64>,
) {
    let items = log_source(scope, source, probe.clone());
    let mut split = items.partition(2, |item| match item {
        LogItem::Intent { .. } => (0, item),
        LogItem::Control(_) => (1, item),
    });
    let cancels: StreamVec<'scope, u64, Cancel> = split
        .pop()
        .map(|c| {
            c.flat_map(|item| match item {
                LogItem::Control(c) => Some(c),
                LogItem::Intent { .. } => None,
            })
        })
        .unwrap_or_else(|| scope.concatenate(Vec::new()));
    let intents = split.pop().unwrap_or_else(|| scope.concatenate(Vec::new()));

    let planned = intent_writer(intents, parts.writer.clone())
        .exchange(|(_, p)| spread(p.0.asset().id))
        .map(|(offset, p)| (offset, p.0));
    let media = planned.clone().flat_map(|(offset, p)| match p {
        Planned::Media { asset, only } => {
            Some(Work { offset, input: MediaJob { asset: Arc::new(asset), only } })
        }
        _ => None,
    });
    let reembed = planned.clone().flat_map(|(offset, p)| match p {
        Planned::Reembed { asset } => {
            Some(Work { offset, input: EnrichInput::Text(Arc::new(asset)) })
        }
        _ => None,
    });
    let ondemand = planned.flat_map(|(offset, p)| match p {
        Planned::OnDemand { asset, job_id, spec, requested_by, at } => Some(Work {
            offset,
            input: OnDemandInput { asset: Arc::new(asset), job_id, spec, requested_by, at },
        }),
        _ => None,
    });

    let (ctx, media_pool, enrich_pool) = (&parts.stages, &parts.media_pool, &parts.enrich_pool);
    let probe_stage = Arc::new(ProbeStage);
    let probed = run_stage(
        media,
        cancels.clone(),
        Arc::clone(&probe_stage),
        Arc::clone(media_pool),
        Arc::clone(ctx),
    );
    let after_probe = |stage: StageName| {
        probed.clone().flat_map(move |d| match d.outcome {
            Ok(p) if p.job.runs(stage) => Some(Work { offset: d.offset, input: p }),
            _ => None,
        })
    };
    let thumb_in: StreamVec<'scope, u64, Work<Probed>> = after_probe(StageName::Thumbnail);
    let renditions_in = after_probe(StageName::Renditions);
    let enrich_in = after_probe(StageName::Enrich)
        .map(|w| Work { offset: w.offset, input: EnrichInput::Media(Box::new(w.input)) });
    let enrich_in = scope.concatenate(vec![enrich_in, reembed]);

    let thumbnail_stage = Arc::new(ThumbnailStage);
    let renditions_stage = Arc::new(RenditionsStage);
    let enrich_stage = Arc::new(EnrichStage);
    let ondemand_stage = Arc::new(OnDemandStage);
    let thumbs = run_stage(
        thumb_in,
        cancels.clone(),
        Arc::clone(&thumbnail_stage),
        Arc::clone(media_pool),
        Arc::clone(ctx),
    );
    let renditions = run_stage(
        renditions_in,
        cancels.clone(),
        Arc::clone(&renditions_stage),
        Arc::clone(media_pool),
        Arc::clone(ctx),
    );
    let enriched = run_stage(
        enrich_in,
        cancels.clone(),
        Arc::clone(&enrich_stage),
        Arc::clone(enrich_pool),
        Arc::clone(ctx),
    );
    let served = run_stage(
        ondemand,
        cancels,
        Arc::clone(&ondemand_stage),
        Arc::clone(media_pool),
        Arc::clone(ctx),
    );

    let results: Vec<StreamVec<'scope, u64, Json<WorkResult>>> = vec![
        results_of(probed, probe_stage),
        results_of(thumbs, thumbnail_stage),
        results_of(renditions, renditions_stage),
        results_of(enriched, enrich_stage),
        results_of(served, ondemand_stage),
    ];
    result_writer(scope.concatenate(results), parts.writer.clone()).probe_with(&probe);
}
