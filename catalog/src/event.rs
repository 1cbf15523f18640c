//! What flows through the system: intents recorded in the event log (the system of record), and
//! the results operators hand back to the dataflow.
//!
//! An intent carries what its author said, not what can be derived from the catalog: a
//! reprocess names the asset, not its master or kind; the dataflow looks those up in the row
//! it applies the intent to. (Records written before that rule carried derived fields too; they
//! are ignored when read.)

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::asset_id::AssetId;
use crate::descriptive::DescriptivePatch;
use crate::editorial_status::EditorialStatus;
use crate::enrichment::Enrichment;
use crate::media_kind::MediaKind;
use crate::rendition::Rendition;
use crate::stage::Stage;
use crate::technical::TechnicalMetadata;

/// One record of the event log: an event with when and for whom it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub at: DateTime<Utc>,
    pub principal: String,
    pub event: Event,
}

/// An intent: something a person or a client asked for, durable once in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A master is stored at its content-addressed key; the asset now exists.
    AssetIngested {
        id: AssetId,
        title: String,
        description: String,
        tags: Vec<String>,
        kind: MediaKind,
        mime: String,
        size: u64,
        sha256: String,
        master_key: String,
        original_filename: String,
        project: String,
        owner: String,
    },
    /// Descriptive metadata edited; absent fields are left as they are.
    MetadataEdited {
        id: AssetId,
        title: Option<String>,
        description: Option<String>,
        tags: Option<Vec<String>>,
        /// The descriptive fields changed (absent ones kept, null ones cleared).
        #[serde(default, skip_serializing_if = "DescriptivePatch::is_empty")]
        descriptive: DescriptivePatch,
    },
    /// A move in the editorial workflow (`from` is what the author saw: a move made from a
    /// status the asset has left meanwhile is not applied).
    EditorialStatusChanged {
        id: AssetId,
        from: EditorialStatus,
        to: EditorialStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// The asset joins and leaves collections (ids).
    CollectionsChanged {
        id: AssetId,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
    },
    /// Soft delete: the asset leaves listings and search; its master is kept until the deadline.
    AssetDeleted { id: AssetId, retention_until: DateTime<Utc> },
    /// A soft-deleted asset brought back before it was purged, as it was.
    AssetRestored { id: AssetId },
    /// The retention deadline of a soft-deleted asset has passed: its master, renditions,
    /// frames, vectors and text go for good; a tombstone row stays.
    AssetPurged { id: AssetId },
    /// An archivist placed a legal hold (with its reason) or, with none, released it.
    LegalHoldChanged {
        id: AssetId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Transcript, OCR text, labels or embeddings supplied by a client (an import from another
    /// system, or corrected output); each present part replaces the previous one.
    EnrichmentImported { id: AssetId, enrichment: Enrichment },
    /// An editor accepted suggested labels: they join the editorial tags.
    SuggestionsAccepted { id: AssetId, labels: Vec<String> },
    /// An editor rejected suggested labels: they leave the suggestions, and stay out when a
    /// model suggests them again.
    SuggestionsRejected { id: AssetId, labels: Vec<String> },
    /// Run the media stages again (renditions already stored for the current profiles are
    /// reused, not recomputed).
    ReprocessRequested {
        id: AssetId,
        /// Run only this stage (after a probe): `acervo reindex --stage enrich`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<crate::stage::Stage>,
    },
    /// A custom rendition asked for by a user, served on the interactive lane.
    OnDemandRequested { id: AssetId, job_id: uuid::Uuid, spec: OnDemandSpec },
    /// Someone asked to stop queued or running work: the asset's media stages (`job_id` is the
    /// asset's id) or an on-demand job. A control intent: the dataflow reads it ahead of the
    /// work queued before it, so it reaches a running job at once.
    CancelRequested { id: AssetId, job_id: uuid::Uuid },
}

/// What an on-demand rendition is: an H.264/AAC MP4 of a size and bitrate, of a time range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnDemandSpec {
    /// Long side of the picture box (the picture keeps its aspect ratio, never enlarged).
    pub long_side: u32,
    pub short_side: u32,
    pub bitrate_kbps: u32,
    /// Start of the clip in seconds (default: the beginning).
    #[serde(default)]
    pub start_seconds: Option<f64>,
    /// End of the clip in seconds (default: the end).
    #[serde(default)]
    pub end_seconds: Option<f64>,
}

impl Event {
    /// Whether the intent steers work already queued or running (cancel; later revoke and
    /// takedown): such intents must not wait behind the work queued ahead of them in the log.
    pub fn is_control(&self) -> bool {
        matches!(self, Event::CancelRequested { .. })
    }

    pub fn asset_id(&self) -> AssetId {
        match self {
            Event::AssetIngested { id, .. }
            | Event::MetadataEdited { id, .. }
            | Event::EditorialStatusChanged { id, .. }
            | Event::CollectionsChanged { id, .. }
            | Event::AssetDeleted { id, .. }
            | Event::LegalHoldChanged { id, .. }
            | Event::AssetPurged { id }
            | Event::AssetRestored { id }
            | Event::EnrichmentImported { id, .. }
            | Event::SuggestionsAccepted { id, .. }
            | Event::SuggestionsRejected { id, .. }
            | Event::ReprocessRequested { id, .. }
            | Event::OnDemandRequested { id, .. }
            | Event::CancelRequested { id, .. } => *id,
        }
    }
}

/// What an operator hands back to the dataflow for one asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkResult {
    Probed {
        id: AssetId,
        technical: TechnicalMetadata,
    },
    RenditionWritten {
        rendition: Rendition,
    },
    StageFailed {
        id: AssetId,
        stage: Stage,
        reason: String,
    },
    StageSkipped {
        id: AssetId,
        stage: Stage,
        reason: String,
    },
    StageCancelled {
        id: AssetId,
        stage: Stage,
        reason: String,
    },
    /// Every rendition of the asset's kind is stored (made now or reused).
    RenditionsMade {
        id: AssetId,
        renditions: Vec<Rendition>,
    },
    /// Models' suggestions for the asset (OCR text, embedding), each part replacing the previous
    /// one; `models` names the model and version of each part.
    Enriched {
        id: AssetId,
        enrichment: Enrichment,
        models: Vec<String>,
    },
    /// The asset's vector made again from its edited text (its stages are not touched).
    Reembedded {
        id: AssetId,
        enrichment: Enrichment,
    },
    /// An on-demand job ended (its record is in the object store); nothing for the catalog.
    OnDemandEnded {
        id: AssetId,
        job_id: uuid::Uuid,
    },
}

impl WorkResult {
    pub fn asset_id(&self) -> AssetId {
        match self {
            WorkResult::Probed { id, .. }
            | WorkResult::StageFailed { id, .. }
            | WorkResult::StageSkipped { id, .. }
            | WorkResult::StageCancelled { id, .. }
            | WorkResult::RenditionsMade { id, .. }
            | WorkResult::Enriched { id, .. }
            | WorkResult::Reembedded { id, .. }
            | WorkResult::OnDemandEnded { id, .. } => *id,
            WorkResult::RenditionWritten { rendition } => rendition.asset_id,
        }
    }
}
