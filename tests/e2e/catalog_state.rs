//! The asset status state machine and the materialisation of events and results.

use acervo_catalog::{
    AssetId, AssetStatus, Event, EventEnvelope, MediaKind, Stage, StageState, TechnicalMetadata,
    WorkResult,
};
use acervo_dataflows::materialize::{apply_event, apply_result};
use chrono::Utc;

#[test]
fn status_transitions() {
    use AssetStatus::*;
    assert_eq!(Uploading.transition(Processing), Ok(Processing));
    assert_eq!(Processing.transition(Ready), Ok(Ready));
    assert_eq!(Processing.transition(Failed), Ok(Failed));
    assert_eq!(Ready.transition(Deleted), Ok(Deleted));
    let err = Ready.transition(Uploading).unwrap_err();
    assert_eq!((err.from, err.to), (Ready, Uploading));
    assert_eq!(err.to_string(), "illegal asset status transition from ready to uploading");
    assert!(Deleted.transition(Ready).is_err());
    assert!(Uploading.transition(Ready).is_err());
    assert!(Failed.transition(Ready).is_err());
}

fn ingested(kind: MediaKind) -> EventEnvelope {
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

#[test]
fn ingest_then_results_make_an_asset_ready_and_replays_change_nothing() {
    let env = ingested(MediaKind::Video);
    let id = env.event.asset_id();
    let asset = apply_event(None, &env).unwrap();
    assert_eq!(asset.status, AssetStatus::Processing);
    assert_eq!(asset.stages.get(&Stage::Probe), Some(&StageState::Pending));

    let probed = apply_result(
        asset,
        &WorkResult::Probed {
            id,
            technical: TechnicalMetadata { width: Some(1280), ..Default::default() },
        },
    );
    assert_eq!(probed.status, AssetStatus::Processing, "the thumbnail is still pending");
    let skipped = apply_result(
        probed,
        &WorkResult::StageSkipped { id, stage: Stage::Thumbnail, reason: "x".into() },
    );
    assert_eq!(skipped.status, AssetStatus::Processing, "the renditions are still pending");
    let skipped = apply_result(skipped, &WorkResult::RenditionsMade { id, renditions: Vec::new() });
    assert_eq!(skipped.status, AssetStatus::Processing, "enrichment is still pending");
    let enrichment =
        acervo_catalog::Enrichment { ocr_text: Some("PLAZA DE MAYO".into()), ..Default::default() };
    let skipped = apply_result(
        skipped,
        &WorkResult::Enriched { id, enrichment, models: vec!["ocr: tesseract".into()] },
    );
    assert_eq!(skipped.status, AssetStatus::Ready);
    assert_eq!(skipped.ocr_text, "PLAZA DE MAYO");
    assert_eq!(skipped.stages.get(&Stage::Renditions), Some(&StageState::Done));

    // Replaying the ingest over the materialised row changes nothing.
    assert_eq!(apply_event(Some(skipped.clone()), &env), Some(skipped.clone()));

    let deleted = EventEnvelope {
        at: Utc::now(),
        principal: "t".into(),
        event: Event::AssetDeleted { id, retention_until: Utc::now() },
    };
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
        &WorkResult::StageFailed { id, stage: Stage::Probe, reason: "moov atom not found".into() },
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
        &WorkResult::StageCancelled { id, stage: Stage::Renditions, reason: "on request".into() },
    );
    assert_eq!(cancelled.status, AssetStatus::Ready);
    assert!(matches!(cancelled.stages.get(&Stage::Renditions), Some(StageState::Cancelled { .. })));
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
    let again = EventEnvelope {
        at: Utc::now(),
        principal: "t".into(),
        event: Event::ReprocessRequested {
            id,
            kind: MediaKind::Video,
            sha256: "00".repeat(32),
            master_key: "m".into(),
            text: String::new(),
            only: None,
        },
    };
    let again = apply_event(Some(failed), &again).unwrap();
    assert_eq!(again.status, AssetStatus::Processing);
    assert_eq!(again.stages.get(&Stage::Renditions), Some(&StageState::Pending));
}

#[test]
fn documents_are_ready_at_once() {
    let asset = apply_event(None, &ingested(MediaKind::Document)).unwrap();
    assert_eq!(asset.status, AssetStatus::Ready);
}
