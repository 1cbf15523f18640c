//! The work an intent asks for, decided once the catalog has applied it: the dataflow's catalog
//! writer plans from the row it just wrote, so a stage starts from the asset as it stands (its
//! kind, master and text come from the catalog, not from the intent).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::asset::Asset;
use crate::enrich_part::EnrichPart;
use crate::event::{Event, EventEnvelope, OnDemandSpec};
use crate::stage::{Stage, StageState, media_stages};
use crate::status::AssetStatus;

/// Work that follows from one intent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub enum Planned {
    /// The asset's media stages; `only` one of them (after the probe it needs).
    Media { asset: Asset, only: Option<Stage> },
    /// A custom rendition, on the interactive lane.
    OnDemand {
        asset: Asset,
        job_id: Uuid,
        spec: OnDemandSpec,
        requested_by: String,
        at: DateTime<Utc>,
    },
    /// The asset's vector made again from its edited text.
    Reembed { asset: Asset },
}

impl Planned {
    pub fn asset(&self) -> &Asset {
        match self {
            Planned::Media { asset, .. }
            | Planned::OnDemand { asset, .. }
            | Planned::Reembed { asset } => asset,
        }
    }
}

/// The work `env` asks for, given the row after it was applied (`None`: the asset is unknown).
pub fn plan(env: &EventEnvelope, after: Option<&Asset>) -> Option<Planned> {
    let asset = after?;
    match &env.event {
        // A replay of an ingest whose stages all finished has nothing left to do; one cut off
        // by a crash (or by a delete, for a restore) is done again (its stored outputs are
        // reused).
        Event::AssetIngested { .. } | Event::AssetRestored { .. } => {
            let unfinished = asset.stages.values().any(|s| !s.is_finished());
            (has_media_work(asset) && unfinished)
                .then(|| Planned::Media { asset: asset.clone(), only: None })
        }
        Event::ReprocessRequested { only, .. } => {
            let pending = asset.stages.values().any(|s| *s == StageState::Pending);
            (has_media_work(asset) && asset.status == AssetStatus::Processing && pending)
                .then(|| Planned::Media { asset: asset.clone(), only: *only })
        }
        Event::OnDemandRequested { job_id, spec, .. } => Some(Planned::OnDemand {
            asset: asset.clone(),
            job_id: *job_id,
            spec: spec.clone(),
            requested_by: env.principal.clone(),
            at: env.at,
        }),
        // Re-embedded even when the text did not change: a replay after a crash cannot tell
        // whether the vector of the edit was stored.
        Event::MetadataEdited { title, description, tags, .. } => {
            let edits_text = title.is_some() || description.is_some() || tags.is_some();
            let embedded = asset.ai.models.contains_key(&EnrichPart::Embedding);
            (edits_text && embedded && !asset.status.is_removed())
                .then(|| Planned::Reembed { asset: asset.clone() })
        }
        Event::AssetDeleted { .. }
        | Event::LegalHoldChanged { .. }
        | Event::AssetPurged { .. }
        | Event::EditorialStatusChanged { .. }
        | Event::CollectionsChanged { .. }
        | Event::EnrichmentImported { .. }
        | Event::SuggestionsAccepted { .. }
        | Event::SuggestionsRejected { .. }
        | Event::CancelRequested { .. } => None,
    }
}

fn has_media_work(asset: &Asset) -> bool {
    !media_stages(asset.kind).is_empty() && !asset.status.is_removed()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::{Planned, plan};
    use crate::apply::apply_event;
    use crate::{AssetId, EnrichPart, Event, EventEnvelope, MediaKind, Stage, StageState};

    fn env(event: Event) -> EventEnvelope {
        EventEnvelope { at: Utc::now(), principal: "ana".into(), event }
    }

    fn ingest(kind: MediaKind) -> EventEnvelope {
        env(Event::AssetIngested {
            id: AssetId::new(),
            title: "Pleno".into(),
            description: String::new(),
            tags: vec![],
            kind,
            mime: "video/mp4".into(),
            size: 1,
            sha256: "ab".repeat(32),
            master_key: "masters/a/b/source.mp4".into(),
            original_filename: "pleno.mp4".into(),
            project: "news".into(),
            owner: "ana".into(),
        })
    }

    #[test]
    fn a_restore_plans_what_the_delete_cut_short() {
        let e = ingest(MediaKind::Video);
        let id = e.event.asset_id();
        let busy = apply_event(None, &e);
        let gone = apply_event(busy, &env(Event::AssetDeleted { id, retention_until: Utc::now() }));
        let restore = env(Event::AssetRestored { id });
        let back = apply_event(gone, &restore);
        assert!(matches!(plan(&restore, back.as_ref()), Some(Planned::Media { only: None, .. })));
        let d = ingest(MediaKind::Document);
        let id = d.event.asset_id();
        let gone = apply_event(
            apply_event(None, &d),
            &env(Event::AssetDeleted { id, retention_until: Utc::now() }),
        );
        let restore = env(Event::AssetRestored { id });
        assert_eq!(
            plan(&restore, apply_event(gone, &restore).as_ref()),
            None,
            "a document is ready"
        );
    }

    #[test]
    fn an_ingest_of_media_plans_its_stages_and_a_document_plans_nothing() {
        let e = ingest(MediaKind::Video);
        let row = apply_event(None, &e);
        assert!(matches!(plan(&e, row.as_ref()), Some(Planned::Media { only: None, .. })));
        let d = ingest(MediaKind::Document);
        assert_eq!(plan(&d, apply_event(None, &d).as_ref()), None);
    }

    #[test]
    fn a_replayed_ingest_plans_only_what_is_unfinished() {
        let e = ingest(MediaKind::Audio);
        let mut row = apply_event(None, &e).unwrap();
        for s in row.stages.values_mut() {
            *s = StageState::Done;
        }
        assert_eq!(plan(&e, Some(&row)), None, "everything is stored");
        row.stages.insert(Stage::Renditions, StageState::Pending);
        assert!(plan(&e, Some(&row)).is_some(), "cut off by a crash");
    }

    #[test]
    fn a_reprocess_plans_the_stage_asked_for_from_the_row() {
        let e = ingest(MediaKind::Image);
        let id = e.event.asset_id();
        let row = apply_event(None, &e);
        let again = env(Event::ReprocessRequested { id, only: Some(Stage::Enrich) });
        let row = apply_event(row, &again);
        match plan(&again, row.as_ref()) {
            Some(Planned::Media { asset, only }) => {
                assert_eq!(
                    (asset.kind, asset.master_key.as_str()),
                    (MediaKind::Image, "masters/a/b/source.mp4")
                );
                assert_eq!(only, Some(Stage::Enrich));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(plan(&again, None), None, "an unknown asset plans nothing");
    }

    #[test]
    fn an_edit_re_embeds_only_assets_a_model_embedded() {
        let e = ingest(MediaKind::Video);
        let id = e.event.asset_id();
        let mut row = apply_event(None, &e).unwrap();
        let edit = env(Event::MetadataEdited {
            id,
            title: Some("Nuevo".into()),
            description: None,
            tags: None,
            descriptive: Default::default(),
        });
        assert_eq!(plan(&edit, Some(&row)), None);
        row.ai.models.insert(EnrichPart::Embedding, "all-MiniLM-L6-v2@abc".into());
        assert!(matches!(plan(&edit, Some(&row)), Some(Planned::Reembed { .. })));
    }

    #[test]
    fn an_ondemand_request_carries_who_asked_and_when() {
        let e = ingest(MediaKind::Video);
        let id = e.event.asset_id();
        let row = apply_event(None, &e);
        let spec = crate::OnDemandSpec {
            long_side: 640,
            short_side: 360,
            bitrate_kbps: 500,
            start_seconds: None,
            end_seconds: None,
        };
        let job_id = uuid::Uuid::now_v7();
        let ask = env(Event::OnDemandRequested { id, job_id, spec: spec.clone() });
        match plan(&ask, row.as_ref()) {
            Some(Planned::OnDemand { job_id: j, requested_by, spec: s, .. }) => {
                assert_eq!((j, requested_by.as_str(), s), (job_id, "ana", spec));
            }
            other => panic!("{other:?}"),
        }
    }
}
