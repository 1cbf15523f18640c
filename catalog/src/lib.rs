//! Acervo's domain, shared by every other crate and free of I/O: assets and their status state
//! machine, technical metadata, renditions, the events of the log and the results operators
//! produce, how both change a catalog row (`apply`) and what work an intent plans (`work`), the
//! vocabulary of jobs, failures, roles and workflow states, the Arrow schemas of the catalog
//! tables, principals and configuration.

pub mod names;

pub mod action;
pub mod apply;
pub mod asset;
pub mod asset_id;
pub mod audit;
pub mod config;
pub mod descriptive;
pub mod distribution_status;
pub mod editorial_status;
pub mod enrich_part;
pub mod enrichment;
pub mod event;
pub mod failure;
pub mod history;
pub mod jobs;
pub mod legal_hold;
pub mod media_kind;
pub mod principal;
pub mod profiles;
pub mod project_slug;
pub mod rendition;
pub mod role;
pub mod schema;
pub mod scope;
pub mod secret;
pub mod stage;
pub mod status;
pub mod storage_tier;
pub mod technical;
pub mod work;

pub use action::Action;
pub use apply::{apply_event, apply_result};
pub use asset::Asset;
pub use asset_id::AssetId;
pub use audit::{AuditEntry, AuditResult, AuditRow, ChainBreak, verify_chain};
pub use config::AcervoConfig;
pub use descriptive::{BadDescriptive, Descriptive, DescriptivePatch};
pub use distribution_status::DistributionStatus;
pub use editorial_status::EditorialStatus;
pub use enrich_part::EnrichPart;
pub use enrichment::{
    AiInfo, EmbeddingRow, Enrichment, EnrichmentError, FrameEmbedding, FrameResult, FrameRow,
    NewVectors, ScoredLabel, SegmentRow, TranscriptSegment,
};
pub use event::{Event, EventEnvelope, OnDemandSpec, WorkResult};
pub use failure::{Classify, ErrorKind};
pub use history::HistoryEntry;
pub use jobs::{DeadLetter, JobState, Lane, LiveStage, OnDemandJob};
pub use legal_hold::{BadReason, LegalHold};
pub use media_kind::MediaKind;
pub use principal::{ADMIN, Principal};
pub use profiles::RenditionProfiles;
pub use project_slug::ProjectSlug;
pub use rendition::Rendition;
pub use role::Role;
pub use scope::{ReadScope, RestrictedCollection, ScopeClause, ScopeGrant};
pub use secret::Secret;
pub use stage::{Stage, StageState, Stages, media_stages};
pub use status::{AssetStatus, IllegalTransition};
pub use storage_tier::StorageTier;
pub use technical::{ImageExif, TechnicalMetadata};
pub use work::Planned;

#[cfg(test)]
mod tests {
    /// Every vocabulary prints, parses and serialises under the same name.
    #[test]
    fn every_name_is_the_same_in_text_json_and_parsing() {
        fn check<T>(all: &[T])
        where
            T: Copy
                + std::fmt::Display
                + std::str::FromStr
                + serde::Serialize
                + PartialEq
                + std::fmt::Debug,
            <T as std::str::FromStr>::Err: std::fmt::Debug,
        {
            for v in all {
                let text = v.to_string();
                assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{text}\""));
                assert_eq!(text.parse::<T>().unwrap(), *v);
            }
        }
        check(crate::AssetStatus::ALL);
        check(crate::MediaKind::ALL);
        check(crate::Stage::ALL);
        check(crate::EditorialStatus::ALL);
        check(crate::StorageTier::ALL);
        check(crate::DistributionStatus::ALL);
        check(crate::Role::ALL);
        check(crate::Action::ALL);
        check(crate::AuditResult::ALL);
        check(crate::EnrichPart::ALL);
        check(crate::Lane::ALL);
        check(crate::JobState::ALL);
    }
}
