//! The catalog as a function of events and results: how one intent or one operator result
//! changes an asset row. Pure and idempotent, so replaying a suffix of the log after a crash
//! rewrites rows to the same values.

use acervo_catalog::{
    Asset, AssetStatus, Enrichment, Event, EventEnvelope, Stage, StageState, WorkResult,
    media_stages,
};

/// Applies an intent to the row as it stands (`None`: not in the catalog yet).
pub fn apply_event(current: Option<Asset>, env: &EventEnvelope) -> Option<Asset> {
    match (&env.event, current) {
        // Already materialised (a replay): the row is further along than this event.
        (Event::AssetIngested { .. }, Some(asset)) => Some(asset),
        (
            Event::AssetIngested {
                id,
                title,
                description,
                tags,
                kind,
                mime,
                size,
                sha256,
                master_key,
                original_filename,
                project,
                owner,
            },
            None,
        ) => {
            let mut stages = acervo_catalog::Stages::new();
            stages.insert(Stage::Ingest, StageState::Done);
            for stage in media_stages(*kind) {
                stages.insert(*stage, StageState::Pending);
            }
            let status = if media_stages(*kind).is_empty() {
                AssetStatus::Ready
            } else {
                AssetStatus::Processing
            };
            Some(Asset {
                id: *id,
                title: title.clone(),
                description: description.clone(),
                tags: tags.clone(),
                kind: *kind,
                mime: mime.clone(),
                size: *size,
                sha256: sha256.clone(),
                master_key: master_key.clone(),
                original_filename: original_filename.clone(),
                project: project.clone(),
                owner: owner.clone(),
                status,
                status_reason: None,
                created_at: env.at,
                updated_at: env.at,
                deleted_at: None,
                retention_until: None,
                technical: None,
                stages,
                labels: Vec::new(),
                ocr_text: String::new(),
                transcript_text: String::new(),
                ai: Default::default(),
            })
        }
        (Event::MetadataEdited { title, description, tags, .. }, Some(mut asset)) => {
            if let Some(t) = title {
                asset.title = t.clone();
            }
            if let Some(d) = description {
                asset.description = d.clone();
            }
            if let Some(t) = tags {
                asset.tags = t.clone();
            }
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::AssetDeleted { retention_until, .. }, Some(mut asset)) => {
            if asset.status != AssetStatus::Deleted && asset.status.can_become(AssetStatus::Deleted)
            {
                asset.status = AssetStatus::Deleted;
                asset.deleted_at = Some(env.at);
                asset.retention_until = Some(*retention_until);
                asset.updated_at = env.at;
            }
            Some(asset)
        }
        (Event::SuggestionsAccepted { labels, .. }, Some(mut asset)) => {
            let tags: Vec<&str> = asset.tags.iter().chain(labels).map(String::as_str).collect();
            asset.tags = Asset::clean_tags(tags);
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::EnrichmentImported { enrichment, .. }, Some(mut asset)) => {
            apply_enrichment(&mut asset, enrichment);
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::ReprocessRequested { kind, only, .. }, Some(mut asset)) => {
            if asset.status.can_become(AssetStatus::Processing) && !media_stages(*kind).is_empty() {
                for stage in media_stages(*kind)
                    .iter()
                    .filter(|s| only.is_none_or(|o| **s == o || **s == Stage::Probe))
                {
                    asset.stages.insert(*stage, StageState::Pending);
                }
                asset.status = AssetStatus::Processing;
                asset.status_reason = None;
                asset.updated_at = env.at;
            }
            Some(asset)
        }
        (Event::OnDemandRequested { .. } | Event::CancelRequested { .. }, Some(asset)) => {
            Some(asset)
        }
        (event, None) => {
            tracing::warn!(asset = %event.asset_id(), "event for an asset that is not in the catalog; ignored");
            None
        }
    }
}

/// The text parts of an enrichment land on the asset row; vectors and timed segments go to
/// their own tables (see the catalog writer).
pub fn apply_enrichment(asset: &mut Asset, e: &Enrichment) {
    if let Some(segments) = &e.transcript {
        asset.transcript_text = Enrichment::transcript_text(segments);
    }
    if let Some(text) = &e.ocr_text {
        asset.ocr_text = text.clone();
    }
    match (&e.labels, &e.label_scores) {
        (Some(labels), _) => asset.labels = Asset::clean_tags(labels.iter().map(String::as_str)),
        (None, Some(scored)) => {
            asset.labels = Asset::clean_tags(scored.iter().map(|l| l.name.as_str()))
        }
        (None, None) => {}
    }
    if let Some(scored) = &e.label_scores {
        asset.ai.label_scores = scored.clone();
    }
    if e.language.is_some() || e.transcript.is_some() {
        asset.ai.language = e.language.clone();
    }
    if let Some(models) = &e.models {
        // Parts not redone keep the model that made them.
        asset.ai.models.extend(models.clone());
    }
}

/// Applies an operator result to an asset row.
pub fn apply_result(mut asset: Asset, result: &WorkResult) -> Asset {
    match result {
        WorkResult::Probed { technical, .. } => {
            asset.technical = Some(technical.clone());
            asset.stages.insert(Stage::Probe, StageState::Done);
        }
        WorkResult::RenditionWritten { .. } => {
            asset.stages.insert(Stage::Thumbnail, StageState::Done);
        }
        WorkResult::RenditionsMade { .. } => {
            asset.stages.insert(Stage::Renditions, StageState::Done);
        }
        WorkResult::Enriched { enrichment, .. } => {
            apply_enrichment(&mut asset, enrichment);
            asset.stages.insert(Stage::Enrich, StageState::Done);
        }
        WorkResult::StageCancelled { stage, reason, .. } => {
            asset.stages.insert(*stage, StageState::Cancelled { reason: reason.clone() });
        }
        WorkResult::OnDemandEnded { .. } => {}
        WorkResult::StageSkipped { stage, reason, .. } => {
            asset.stages.insert(*stage, StageState::Skipped { reason: reason.clone() });
        }
        WorkResult::StageFailed { stage, reason, .. } => {
            asset.stages.insert(*stage, StageState::Failed { reason: reason.clone() });
            // Without technical metadata or renditions (proxies are what editors work on) the
            // asset cannot be used; a missing thumbnail is shown on the stage but leaves it usable.
            if matches!(stage, Stage::Probe | Stage::Renditions)
                && asset.status.can_become(AssetStatus::Failed)
            {
                asset.status = AssetStatus::Failed;
                asset.status_reason = Some(reason.clone());
            }
        }
    }
    if asset.status == AssetStatus::Processing && asset.stages.values().all(StageState::is_finished)
    {
        asset.status = AssetStatus::Ready;
    }
    asset
}
