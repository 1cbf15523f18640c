//! The asset: one master file and everything the catalog knows about it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enrichment::AiInfo;
use crate::media_kind::MediaKind;
use crate::stage::Stages;
use crate::status::AssetStatus;
use crate::technical::TechnicalMetadata;

/// An asset's identifier: a UUIDv7, so ids sort by creation time.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid)]
pub struct AssetId(pub Uuid);

impl AssetId {
    pub fn new() -> Self {
        AssetId(Uuid::now_v7())
    }
}

impl Default for AssetId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for AssetId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(AssetId)
    }
}

/// A catalog entry. Descriptive fields are editable; identity, content and technical fields are
/// set by ingest and by operators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    pub id: AssetId,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
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
    /// Why the asset failed, when it did.
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a soft delete happened, and until when the master is retained.
    pub deleted_at: Option<DateTime<Utc>>,
    pub retention_until: Option<DateTime<Utc>>,
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

/// The whole text an asset's vector is made from: its descriptive text (`embedding_text`)
/// followed by what models read and heard in it (OCR text, labels, transcript).
pub fn enrichment_text(
    descriptive: &str,
    ocr_text: &str,
    labels: &[String],
    transcript: &str,
) -> String {
    let labels = labels.join(", ");
    let mut text = descriptive.to_string();
    for part in [ocr_text, labels.as_str(), transcript] {
        if !part.trim().is_empty() {
            text.push_str(". ");
            text.push_str(part);
        }
    }
    text
}

/// An asset's descriptive text as the enrichment stage embeds it: title, description, tags.
pub fn embedding_text(title: &str, description: &str, tags: &[String]) -> String {
    let mut parts = vec![title.trim().to_string(), description.trim().to_string()];
    if !tags.is_empty() {
        parts.push(tags.join(", "));
    }
    parts.retain(|p| !p.is_empty());
    parts.join(". ")
}
