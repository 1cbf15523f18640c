//! What a search asks for and what it answers: modes, filters, the `search_after` cursor,
//! hits with highlights and moments, and facet counts.

use std::collections::BTreeMap;

use acervo_catalog::{AssetId, AssetStatus, EditorialStatus, MediaKind};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SearchError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// BM25 over title^3, description^2, tags^2, transcript, OCR text and labels.
    #[default]
    Text,
    /// Nearest neighbours of `vector` among asset and frame embeddings.
    Vector,
    /// Text and vector result lists fused by reciprocal rank fusion.
    Hybrid,
}

impl std::str::FromStr for Mode {
    type Err = SearchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Mode::Text),
            "vector" => Ok(Mode::Vector),
            "hybrid" => Ok(Mode::Hybrid),
            other => Err(SearchError::BadRequest(format!(
                "unknown mode {other:?}: use text, vector or hybrid"
            ))),
        }
    }
}

/// Exact filters; all given ones must hold. Soft-deleted assets are left out unless `status`
/// asks for them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchFilter {
    pub kind: Option<MediaKind>,
    pub status: Option<AssetStatus>,
    pub project: Option<String>,
    pub editorial_status: Option<EditorialStatus>,
    /// Assets in this collection (id).
    pub collection: Option<String>,
    /// Descriptive keywords, each exact.
    pub category: Option<String>,
    pub source: Option<String>,
    pub licence: Option<String>,
    pub language: Option<String>,
    pub story: Option<String>,
    /// A person shown.
    pub person: Option<String>,
    /// Embargo ending in [from, to).
    pub embargo_from: Option<DateTime<Utc>>,
    pub embargo_to: Option<DateTime<Utc>>,
    /// Rights expiring in [from, to).
    pub rights_expire_from: Option<DateTime<Utc>>,
    pub rights_expire_to: Option<DateTime<Utc>>,
    /// Every tag must be on the asset (exact match).
    pub tags: Vec<String>,
    pub labels: Vec<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Taken (EXIF `DateTimeOriginal`, read as UTC) in [from, to).
    pub taken_from: Option<DateTime<Utc>>,
    pub taken_to: Option<DateTime<Utc>>,
    pub duration_min_ms: Option<u64>,
    pub duration_max_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchRequest {
    pub q: String,
    pub mode: Mode,
    pub vector: Option<Vec<f32>>,
    pub filter: SearchFilter,
    /// Treat the last word as a prefix (search as you type).
    pub prefix: bool,
    pub limit: usize,
    pub search_after: Option<Cursor>,
    pub facets: bool,
    /// The width of the date histograms' buckets.
    pub interval: DateInterval,
    pub highlight: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            q: String::new(),
            mode: Mode::Text,
            vector: None,
            filter: SearchFilter::default(),
            prefix: false,
            limit: 20,
            search_after: None,
            facets: true,
            interval: DateInterval::default(),
            highlight: true,
        }
    }
}

/// Where the previous page ended: results sort by score, then id (newest first). `generation` names
/// the index snapshot the first page was served from, so later pages see the same data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub generation: u64,
    pub score: f32,
    pub id: AssetId,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(s: &str) -> Result<Cursor, SearchError> {
        let bad = || {
            SearchError::BadRequest("search_after is not a cursor this server handed out".into())
        };
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }

    /// Whether a result sorting at (score, id) comes after this cursor.
    pub fn precedes(&self, score: f32, id: AssetId) -> bool {
        score < self.score || (score == self.score && id < self.id)
    }
}

/// What a result card shows, stored in the index so a search never reads the tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssetSummary {
    pub id: AssetId,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub labels: Vec<String>,
    pub kind: MediaKind,
    pub status: AssetStatus,
    pub project: String,
    pub editorial_status: EditorialStatus,
    pub collections: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub duration_seconds: Option<f64>,
    /// The language the asset's text was analysed as (`es` or `en`).
    pub language: String,
}

/// A point inside an asset where the query matched: a transcript segment or a video frame.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Moment {
    pub start_ms: u64,
    pub end_ms: Option<u64>,
    /// The segment text with matches in `<b>…</b>` (HTML-escaped otherwise); empty for frames.
    pub snippet: String,
    pub source: MomentSource,
    pub score: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MomentSource {
    Transcript,
    Frame,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Highlights {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SearchHit {
    pub asset: AssetSummary,
    /// BM25 (text), cosine similarity (vector) or fused RRF score (hybrid); 0 with no query.
    pub score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_rank: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_rank: Option<usize>,
    pub highlights: Highlights,
    pub moments: Vec<Moment>,
}

/// Counts of matching assets by value, over the whole filtered result (not the page).
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Facets {
    pub kind: BTreeMap<String, u64>,
    pub status: BTreeMap<String, u64>,
    pub project: BTreeMap<String, u64>,
    pub editorial_status: BTreeMap<String, u64>,
    /// The most frequent collections, tags and labels (up to `FACET_TOP` each).
    pub collections: BTreeMap<String, u64>,
    pub tags: BTreeMap<String, u64>,
    pub labels: BTreeMap<String, u64>,
    /// The descriptive keywords (sources, stories and people: the most frequent `FACET_TOP`).
    pub category: BTreeMap<String, u64>,
    pub source: BTreeMap<String, u64>,
    pub licence: BTreeMap<String, u64>,
    pub language: BTreeMap<String, u64>,
    pub story: BTreeMap<String, u64>,
    pub people: BTreeMap<String, u64>,
    /// Date histograms at `interval`: the non-empty buckets, oldest first.
    pub interval: DateInterval,
    pub created: Vec<DateBucket>,
    /// When the photo was taken (EXIF).
    pub taken: Vec<DateBucket>,
    /// When the embargo ends.
    pub embargo: Vec<DateBucket>,
    /// Every duration range, shortest first (assets without a duration are in none).
    pub duration: Vec<DurationBucket>,
}

/// The width of a date histogram's buckets (calendar days, months or years, in UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateInterval {
    Day,
    #[default]
    Month,
    Year,
}

impl std::str::FromStr for DateInterval {
    type Err = SearchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(DateInterval::Day),
            "month" => Ok(DateInterval::Month),
            "year" => Ok(DateInterval::Year),
            other => Err(SearchError::BadRequest(format!(
                "unknown interval {other:?}: use day, month or year"
            ))),
        }
    }
}

/// Matching assets whose date falls in [from, to): pass them as the field's `_from` and `_to`
/// filters to narrow the search to the bucket.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DateBucket {
    /// `2026`, `2026-12` or `2026-12-04`.
    pub key: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub count: u64,
}

/// Matching assets lasting from `min_seconds` to `max_seconds` (both included; no maximum for
/// the last range): pass them as `duration_min` and `duration_max` to narrow the search.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DurationBucket {
    pub key: String,
    pub min_seconds: f64,
    pub max_seconds: Option<f64>,
    pub count: u64,
}

/// Tag and label facets list this many values at most.
pub const FACET_TOP: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SearchResponse {
    /// Matching assets (text and browse modes; the fused window in hybrid; `null` when facets
    /// were not asked for in text mode, since counting costs a full pass).
    pub total: Option<u64>,
    pub hits: Vec<SearchHit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
    /// Pass as `search_after` for the next page; absent on the last page.
    pub next: Option<String>,
    pub took_ms: f64,
}

#[cfg(test)]
mod tests {
    use acervo_catalog::AssetId;

    use super::Cursor;
    use crate::SearchError;

    #[test]
    fn a_cursor_survives_its_round_trip_through_text() {
        let c = Cursor { generation: 7, score: 1.25, id: AssetId::new() };
        let text = c.encode();
        assert!(
            text.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
            "{text}"
        );
        assert_eq!(Cursor::decode(&text).unwrap(), c);
        assert_eq!(
            Cursor::decode(&format!(" {text}\n")).unwrap(),
            c,
            "surrounding blanks are ignored"
        );
    }

    #[test]
    fn a_cursor_the_server_did_not_hand_out_is_a_bad_request() {
        for bad in ["", "not base64!", "e30"] {
            assert!(matches!(Cursor::decode(bad), Err(SearchError::BadRequest(_))), "{bad:?}");
        }
    }

    #[test]
    fn results_after_a_cursor_score_lower_or_tie_with_an_older_id() {
        let mut ids = [AssetId::new(), AssetId::new()];
        ids.sort();
        let [older, newer] = ids;
        let c = Cursor { generation: 1, score: 2.0, id: newer };
        assert!(c.precedes(1.9, newer));
        assert!(c.precedes(2.0, older));
        assert!(!c.precedes(2.0, newer), "the cursor's own result is not repeated");
        assert!(!c.precedes(2.1, older));
    }
}
