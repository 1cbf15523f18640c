//! The asset: one master file and everything the catalog knows about it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::asset_id::AssetId;
use crate::descriptive::Descriptive;
use crate::editorial_status::EditorialStatus;
use crate::enrichment::AiInfo;
use crate::legal_hold::LegalHold;
use crate::media_kind::MediaKind;
use crate::stage::Stages;
use crate::status::AssetStatus;
use crate::technical::TechnicalMetadata;

/// A catalog entry. Descriptive fields are editable; identity, content and technical fields are
/// set by ingest and by operators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    pub id: AssetId,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    /// Byline, credit, rights, embargo, place, people, language, story.
    #[serde(flatten)]
    pub descriptive: Descriptive,
    pub kind: MediaKind,
    pub mime: String,
    /// Size of the master in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the master.
    pub sha256: String,
    /// Object-store key of the master (`masters/{id}/{sha256}/source.{ext}`).
    pub master_key: String,
    /// The file name the master was uploaded with (a base name, never a path).
    pub original_filename: String,
    pub project: String,
    pub owner: String,
    pub status: AssetStatus,
    /// Where the asset stands in the newsroom's workflow (viewers read `published` ones only).
    #[serde(default)]
    pub editorial_status: EditorialStatus,
    /// The collections (ids) the asset is in; a restricted one hides it from project members
    /// who were not granted it.
    #[serde(default)]
    pub collections: Vec<String>,
    /// Why the asset failed, when it did.
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a soft delete happened, and until when the master is retained.
    pub deleted_at: Option<DateTime<Utc>>,
    pub retention_until: Option<DateTime<Utc>>,
    /// While set, the asset cannot be deleted and a purge passes it by.
    #[serde(default)]
    pub legal_hold: Option<LegalHold>,
    pub technical: Option<TechnicalMetadata>,
    pub stages: Stages,
    /// AI labels (or imported ones): searchable, filterable and counted as a facet.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Text read in the images or frames.
    #[serde(default)]
    pub ocr_text: String,
    /// The transcript joined into one text; the timed segments are in the `segments` table.
    #[serde(default)]
    pub transcript_text: String,
    /// Label scores, transcript language and the models behind the suggestions.
    #[serde(default)]
    pub ai: AiInfo,
}

impl Asset {
    /// What a purge leaves: who, where, what kind, which content (its hash) and when, with
    /// none of its text, its technical metadata or its keys.
    pub fn tombstone(self, at: DateTime<Utc>) -> Asset {
        Asset {
            id: self.id,
            title: String::new(),
            description: String::new(),
            tags: Vec::new(),
            descriptive: Descriptive::default(),
            kind: self.kind,
            mime: self.mime,
            size: self.size,
            sha256: self.sha256,
            master_key: String::new(),
            original_filename: String::new(),
            project: self.project,
            owner: self.owner,
            status: AssetStatus::Purged,
            editorial_status: self.editorial_status,
            collections: Vec::new(),
            status_reason: None,
            created_at: self.created_at,
            updated_at: at,
            deleted_at: self.deleted_at,
            retention_until: self.retention_until,
            legal_hold: None,
            technical: None,
            stages: Stages::new(),
            labels: Vec::new(),
            ocr_text: String::new(),
            transcript_text: String::new(),
            ai: AiInfo::default(),
        }
    }

    /// Tags from a comma-separated list: trimmed, empty ones dropped, duplicates removed.
    pub fn parse_tags(list: &str) -> Vec<String> {
        Self::clean_tags(list.split(','))
    }

    /// Trimmed, non-empty, first occurrence of each.
    pub fn clean_tags<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for tag in items.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_string());
            }
        }
        tags
    }
}

/// The text an asset's vector is made from: its descriptive fields (title, description, tags),
/// then what models read and heard in it (OCR text, labels, transcript). The one definition:
/// the enrichment stage embeds it with fresh results, an edit re-embeds it from the row.
pub fn embedding_text(
    title: &str,
    description: &str,
    tags: &[String],
    ocr_text: &str,
    labels: &[String],
    transcript: &str,
) -> String {
    let tags = tags.join(", ");
    let labels = labels.join(", ");
    let mut text = String::new();
    for part in
        [title.trim(), description.trim(), tags.as_str(), ocr_text, labels.as_str(), transcript]
    {
        if part.trim().is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str(". ");
        }
        text.push_str(part);
    }
    text
}

impl Asset {
    /// The text of this row's vector (see `embedding_text`).
    pub fn embedding_text(&self) -> String {
        embedding_text(
            &self.title,
            &self.description,
            &self.tags,
            &self.ocr_text,
            &self.labels,
            &self.transcript_text,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{Asset, embedding_text};

    #[test]
    fn tags_are_trimmed_deduplicated_and_never_empty() {
        assert_eq!(
            Asset::parse_tags(" política, congreso,,política , "),
            vec!["política", "congreso"]
        );
        assert!(Asset::parse_tags(" , ").is_empty());
    }

    #[test]
    fn the_embedding_text_joins_what_is_there_in_a_fixed_order() {
        let tags = vec!["pleno".to_string(), "congreso".to_string()];
        let labels = vec!["microphone".to_string()];
        assert_eq!(
            embedding_text(" Pleno ", "", &tags, "VOTACIÓN", &labels, "Buenos días"),
            "Pleno. pleno, congreso. VOTACIÓN. microphone. Buenos días"
        );
        assert_eq!(embedding_text("", "", &[], "", &[], ""), "");
        assert_eq!(embedding_text("", "", &[], "", &labels, ""), "microphone");
    }
}
