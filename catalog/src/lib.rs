//! Acervo's domain types, shared by every other crate: assets and their status state machine,
//! technical metadata, renditions, the events of the log and the results operators produce,
//! the Arrow schemas of the catalog tables, principals and configuration. No I/O lives here.

pub mod asset;
pub mod config;
pub mod enrichment;
pub mod event;
pub mod media_kind;
pub mod principal;
pub mod profiles;
pub mod rendition;
pub mod schema;
pub mod stage;
pub mod status;
pub mod technical;

pub use asset::{Asset, AssetId};
pub use config::AcervoConfig;
pub use enrichment::{
    AiInfo, EmbeddingRow, Enrichment, EnrichmentError, FrameEmbedding, FrameResult, FrameRow,
    ScoredLabel, SegmentRow, TranscriptSegment,
};
pub use event::{Event, EventEnvelope, OnDemandSpec, WorkResult};
pub use media_kind::MediaKind;
pub use principal::Principal;
pub use profiles::RenditionProfiles;
pub use rendition::Rendition;
pub use stage::{Stage, StageState, Stages, media_stages};
pub use status::{AssetStatus, IllegalTransition};
pub use technical::{ImageExif, TechnicalMetadata};
