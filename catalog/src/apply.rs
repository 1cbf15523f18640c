//! The catalog as a function of the log: how one intent or one operator result changes an
//! asset row. Pure and idempotent, so replaying a suffix of the log after a crash rewrites rows
//! to the same values; the dataflow's catalog writer and the API's read-your-writes overlay
//! both apply intents with `apply_event`.

use chrono::DateTime;

use crate::asset::Asset;
use crate::editorial_status::EditorialStatus;
use crate::enrichment::Enrichment;
use crate::event::{Event, EventEnvelope, WorkResult};
use crate::legal_hold::LegalHold;
use crate::stage::{Stage, StageState, Stages, media_stages};
use crate::status::AssetStatus;

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
            let mut stages = Stages::new();
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
                descriptive: Default::default(),
                kind: *kind,
                mime: mime.clone(),
                size: *size,
                sha256: sha256.clone(),
                master_key: master_key.clone(),
                original_filename: original_filename.clone(),
                project: project.clone(),
                owner: owner.clone(),
                status,
                editorial_status: EditorialStatus::Draft,
                collections: Vec::new(),
                status_reason: None,
                created_at: env.at,
                updated_at: env.at,
                deleted_at: None,
                retention_until: None,
                legal_hold: None,
                technical: None,
                stages,
                labels: Vec::new(),
                ocr_text: String::new(),
                transcript_text: String::new(),
                ai: Default::default(),
            })
        }
        (Event::MetadataEdited { title, description, tags, descriptive, .. }, Some(mut asset)) => {
            descriptive.apply(&mut asset.descriptive);
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
        (Event::EditorialStatusChanged { from, to, .. }, Some(mut asset)) => {
            if asset.editorial_status == *from && from.can_move_to(*to) {
                asset.editorial_status = *to;
                asset.updated_at = env.at;
            }
            Some(asset)
        }
        (Event::CollectionsChanged { add, remove, .. }, Some(mut asset)) => {
            asset.collections.retain(|c| !remove.contains(c));
            for c in add {
                if !asset.collections.contains(c) {
                    asset.collections.push(c.clone());
                }
            }
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::AssetDeleted { retention_until, .. }, Some(mut asset)) => {
            // A hold placed after the delete was asked for (and checked) wins.
            if asset.status != AssetStatus::Deleted
                && asset.status.can_become(AssetStatus::Deleted)
                && asset.legal_hold.is_none()
            {
                asset.status = AssetStatus::Deleted;
                asset.deleted_at = Some(env.at);
                asset.retention_until = Some(*retention_until);
                asset.updated_at = env.at;
            }
            Some(asset)
        }
        (Event::AssetRestored { .. }, Some(mut asset)) => {
            if asset.status == AssetStatus::Deleted {
                let unfinished = asset.stages.values().any(|s| !s.is_finished());
                asset.status = if unfinished && !media_stages(asset.kind).is_empty() {
                    AssetStatus::Processing
                } else if asset.status_reason.is_some() {
                    AssetStatus::Failed
                } else {
                    AssetStatus::Ready
                };
                asset.deleted_at = None;
                asset.retention_until = None;
                asset.updated_at = env.at;
            }
            Some(asset)
        }
        (Event::AssetPurged { .. }, Some(asset)) => {
            // Only past the deadline and unheld: a restore or a hold since the purge was asked
            // for wins.
            let due = asset.status == AssetStatus::Deleted
                && asset.legal_hold.is_none()
                && asset.retention_until.is_some_and(|t| t <= env.at);
            Some(if due { asset.tombstone(env.at) } else { asset })
        }
        (Event::LegalHoldChanged { reason, .. }, Some(mut asset)) => {
            asset.legal_hold = reason.as_ref().map(|reason| LegalHold {
                by: env.principal.clone(),
                // What the table keeps, so the row read back equals the row written.
                at: DateTime::from_timestamp_micros(env.at.timestamp_micros()).unwrap_or(env.at),
                reason: reason.clone(),
            });
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::SuggestionsAccepted { labels, .. }, Some(mut asset)) => {
            let tags: Vec<&str> = asset.tags.iter().chain(labels).map(String::as_str).collect();
            asset.tags = Asset::clean_tags(tags);
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::SuggestionsRejected { labels, .. }, Some(mut asset)) => {
            for l in labels {
                if !asset.ai.rejected.contains(l) {
                    asset.ai.rejected.push(l.clone());
                }
            }
            forget_rejected(&mut asset);
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::EnrichmentImported { enrichment, .. }, Some(mut asset)) => {
            apply_enrichment(&mut asset, enrichment);
            asset.updated_at = env.at;
            Some(asset)
        }
        (Event::ReprocessRequested { only, .. }, Some(mut asset)) => {
            let stages = media_stages(asset.kind);
            if asset.status.can_become(AssetStatus::Processing) && !stages.is_empty() {
                for stage in stages.iter().filter(|s| runs(**s, *only)) {
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
        (_, None) => None,
    }
}

/// Whether `stage` runs when the work asks for `only` one stage: that one and the probe it
/// needs, or every stage.
pub fn runs(stage: Stage, only: Option<Stage>) -> bool {
    only.is_none_or(|o| stage == o || stage == Stage::Probe)
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
    forget_rejected(asset);
}

/// Suggested labels an editor rejected leave the suggestions (and their scores).
fn forget_rejected(asset: &mut Asset) {
    let rejected = &asset.ai.rejected;
    asset.labels.retain(|l| !rejected.contains(l));
    asset.ai.label_scores.retain(|l| !rejected.contains(&l.name));
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
        WorkResult::Reembedded { enrichment, .. } => apply_enrichment(&mut asset, enrichment),
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

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;

    use super::{apply_event, apply_result};
    use crate::{
        Asset, AssetId, AssetStatus, Enrichment, Event, EventEnvelope, MediaKind, Stage,
        StageState, TechnicalMetadata, WorkResult,
    };

    pub(crate) fn ingested(kind: MediaKind) -> EventEnvelope {
        EventEnvelope {
            at: Utc::now(),
            principal: "test".into(),
            event: Event::AssetIngested {
                id: AssetId::new(),
                title: "Pleno del Congreso".into(),
                description: "".into(),
                tags: vec!["política".into()],
                kind,
                mime: "video/mp4".into(),
                size: 10,
                sha256: "00".repeat(32),
                master_key: "masters/x/y/source.mp4".into(),
                original_filename: "pleno.mp4".into(),
                project: "news".into(),
                owner: "test".into(),
            },
        }
    }

    fn intent(event: Event) -> EventEnvelope {
        EventEnvelope { at: Utc::now(), principal: "t".into(), event }
    }

    #[test]
    fn a_held_asset_is_not_deleted_even_by_a_delete_already_in_the_log() {
        let env = ingested(MediaKind::Document);
        let id = env.event.asset_id();
        let asset = apply_event(None, &env).unwrap();
        let hold = intent(Event::LegalHoldChanged { id, reason: Some("Causa 7".into()) });
        let held = apply_event(Some(asset), &hold).unwrap();
        assert_eq!(
            held.legal_hold.as_ref().map(|h| (h.by.as_str(), h.reason.as_str())),
            Some(("t", "Causa 7"))
        );
        assert_eq!(apply_event(Some(held.clone()), &hold), Some(held.clone()), "a replay");
        let deleted = intent(Event::AssetDeleted { id, retention_until: Utc::now() });
        let kept = apply_event(Some(held), &deleted).unwrap();
        assert_ne!(kept.status, AssetStatus::Deleted);
        let released =
            apply_event(Some(kept), &intent(Event::LegalHoldChanged { id, reason: None }));
        let gone = apply_event(released, &deleted).unwrap();
        assert!(gone.legal_hold.is_none());
        assert_eq!(gone.status, AssetStatus::Deleted);
    }

    #[test]
    fn a_restore_brings_a_deleted_asset_back_as_it_was() {
        let env = ingested(MediaKind::Document);
        let id = env.event.asset_id();
        let ready = apply_event(None, &env).unwrap();
        assert_eq!(ready.status, AssetStatus::Ready);
        let deleted = intent(Event::AssetDeleted { id, retention_until: Utc::now() });
        let gone = apply_event(Some(ready.clone()), &deleted).unwrap();
        let back = apply_event(Some(gone), &intent(Event::AssetRestored { id })).unwrap();
        assert_eq!(
            (back.status, back.deleted_at, back.retention_until),
            (AssetStatus::Ready, None, None)
        );
        assert_eq!(back.title, ready.title);

        // A video deleted mid-way is processing again (`work` plans its unfinished stages).
        let env = ingested(MediaKind::Video);
        let id = env.event.asset_id();
        let busy = apply_event(None, &env).unwrap();
        let gone = apply_event(
            Some(busy),
            &intent(Event::AssetDeleted { id, retention_until: Utc::now() }),
        )
        .unwrap();
        let restore = intent(Event::AssetRestored { id });
        let back = apply_event(Some(gone), &restore).unwrap();
        assert_eq!(back.status, AssetStatus::Processing);
        assert_eq!(apply_event(Some(back.clone()), &restore), Some(back), "a replay");
    }

    #[test]
    fn a_purge_leaves_a_tombstone_only_past_the_deadline_and_never_of_a_held_asset() {
        let env = ingested(MediaKind::Video);
        let id = env.event.asset_id();
        let live = apply_event(None, &env).unwrap();
        let purge = intent(Event::AssetPurged { id });
        assert_eq!(apply_event(Some(live.clone()), &purge), Some(live.clone()), "not deleted");
        let later = Utc::now() + chrono::Duration::days(1);
        let deleted =
            apply_event(Some(live), &intent(Event::AssetDeleted { id, retention_until: later }))
                .unwrap();
        assert_eq!(apply_event(Some(deleted.clone()), &purge), Some(deleted.clone()), "not due");
        let due = Asset { retention_until: Some(Utc::now()), ..deleted };
        let held = apply_event(
            Some(due.clone()),
            &intent(Event::LegalHoldChanged { id, reason: Some("Causa".into()) }),
        )
        .unwrap();
        assert_eq!(apply_event(Some(held.clone()), &purge), Some(held), "held");
        let tomb = apply_event(Some(due.clone()), &intent(Event::AssetPurged { id })).unwrap();
        assert_eq!(tomb.status, AssetStatus::Purged);
        assert!(tomb.title.is_empty() && tomb.tags.is_empty() && tomb.master_key.is_empty());
        assert!(tomb.technical.is_none() && tomb.transcript_text.is_empty());
        assert_eq!(
            (tomb.sha256.as_str(), tomb.project.as_str()),
            (due.sha256.as_str(), due.project.as_str())
        );
        assert_eq!(apply_event(Some(tomb.clone()), &purge), Some(tomb), "a replay");
    }

    #[test]
    fn ingest_then_results_make_an_asset_ready_and_replays_change_nothing() {
        let env = ingested(MediaKind::Video);
        let id = env.event.asset_id();
        let asset = apply_event(None, &env).unwrap();
        assert_eq!(asset.status, AssetStatus::Processing);
        assert_eq!(asset.stages.get(&Stage::Probe), Some(&StageState::Pending));

        let technical = TechnicalMetadata { width: Some(1280), ..Default::default() };
        let probed = apply_result(asset, &WorkResult::Probed { id, technical });
        assert_eq!(probed.status, AssetStatus::Processing, "the thumbnail is still pending");
        let skipped = apply_result(
            probed,
            &WorkResult::StageSkipped { id, stage: Stage::Thumbnail, reason: "x".into() },
        );
        assert_eq!(skipped.status, AssetStatus::Processing, "the renditions are still pending");
        let skipped =
            apply_result(skipped, &WorkResult::RenditionsMade { id, renditions: Vec::new() });
        assert_eq!(skipped.status, AssetStatus::Processing, "enrichment is still pending");
        let enrichment =
            Enrichment { ocr_text: Some("PLAZA DE MAYO".into()), ..Default::default() };
        let skipped = apply_result(
            skipped,
            &WorkResult::Enriched { id, enrichment, models: vec!["ocr: tesseract".into()] },
        );
        assert_eq!(skipped.status, AssetStatus::Ready);
        assert_eq!(skipped.ocr_text, "PLAZA DE MAYO");
        assert_eq!(skipped.stages.get(&Stage::Renditions), Some(&StageState::Done));

        // Replaying the ingest over the materialised row changes nothing.
        assert_eq!(apply_event(Some(skipped.clone()), &env), Some(skipped.clone()));

        let deleted = intent(Event::AssetDeleted { id, retention_until: Utc::now() });
        let gone = apply_event(Some(skipped), &deleted).unwrap();
        assert_eq!(gone.status, AssetStatus::Deleted);
        assert_eq!(apply_event(Some(gone.clone()), &deleted), Some(gone));
    }

    #[test]
    fn a_failed_probe_fails_the_asset_with_its_reason() {
        let env = ingested(MediaKind::Video);
        let id = env.event.asset_id();
        let asset = apply_event(None, &env).unwrap();
        let failed = apply_result(
            asset,
            &WorkResult::StageFailed {
                id,
                stage: Stage::Probe,
                reason: "moov atom not found".into(),
            },
        );
        assert_eq!(failed.status, AssetStatus::Failed);
        assert_eq!(failed.status_reason.as_deref(), Some("moov atom not found"));
    }

    #[test]
    fn cancelled_renditions_leave_the_asset_usable_and_failed_ones_fail_it() {
        let env = ingested(MediaKind::Video);
        let id = env.event.asset_id();
        let probed = apply_result(
            apply_event(None, &env).unwrap(),
            &WorkResult::Probed { id, technical: TechnicalMetadata::default() },
        );
        let thumb = apply_result(
            probed,
            &WorkResult::StageSkipped { id, stage: Stage::Thumbnail, reason: "x".into() },
        );
        // A failed enrichment never fails the asset.
        let thumb = apply_result(
            thumb,
            &WorkResult::StageFailed { id, stage: Stage::Enrich, reason: "no model".into() },
        );
        assert_eq!(thumb.status, AssetStatus::Processing);
        let cancelled = apply_result(
            thumb.clone(),
            &WorkResult::StageCancelled {
                id,
                stage: Stage::Renditions,
                reason: "on request".into(),
            },
        );
        assert_eq!(cancelled.status, AssetStatus::Ready);
        assert!(matches!(
            cancelled.stages.get(&Stage::Renditions),
            Some(StageState::Cancelled { .. })
        ));
        let failed = apply_result(
            thumb,
            &WorkResult::StageFailed {
                id,
                stage: Stage::Renditions,
                reason: "no video frame could be decoded".into(),
            },
        );
        assert_eq!(failed.status, AssetStatus::Failed);
        // A reprocess request puts the media stages back to pending.
        let again =
            apply_event(Some(failed), &intent(Event::ReprocessRequested { id, only: None }))
                .unwrap();
        assert_eq!(again.status, AssetStatus::Processing);
        assert_eq!(again.stages.get(&Stage::Renditions), Some(&StageState::Pending));
    }

    #[test]
    fn a_reprocess_of_one_stage_pends_it_and_the_probe_only() {
        let env = ingested(MediaKind::Image);
        let id = env.event.asset_id();
        let mut asset = apply_event(None, &env).unwrap();
        for s in [Stage::Probe, Stage::Thumbnail, Stage::Renditions, Stage::Enrich] {
            asset.stages.insert(s, StageState::Done);
        }
        asset.status = AssetStatus::Ready;
        let again = intent(Event::ReprocessRequested { id, only: Some(Stage::Enrich) });
        let again = apply_event(Some(asset), &again).unwrap();
        let pending: Vec<Stage> = again
            .stages
            .iter()
            .filter(|(_, s)| **s == StageState::Pending)
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(pending, vec![Stage::Probe, Stage::Enrich]);
    }

    #[test]
    fn a_reprocess_restores_a_deleted_asset_and_an_unknown_one_stays_unknown() {
        let env = ingested(MediaKind::Video);
        let id = env.event.asset_id();
        let asset = apply_event(None, &env).unwrap();
        let gone = apply_event(
            Some(asset),
            &intent(Event::AssetDeleted { id, retention_until: Utc::now() }),
        )
        .unwrap();
        let again =
            apply_event(Some(gone.clone()), &intent(Event::ReprocessRequested { id, only: None }));
        assert_eq!(
            again.map(|a| a.status),
            Some(AssetStatus::Processing),
            "a restore by reprocess"
        );
        let edit = Event::MetadataEdited {
            id: AssetId::new(),
            title: Some("x".into()),
            description: None,
            tags: None,
            descriptive: Default::default(),
        };
        assert_eq!(apply_event(None, &intent(edit)), None);
    }

    #[test]
    fn documents_are_ready_at_once() {
        let asset = apply_event(None, &ingested(MediaKind::Document)).unwrap();
        assert_eq!(asset.status, AssetStatus::Ready);
    }
}
