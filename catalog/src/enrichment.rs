//! What AI operators (or an import from another system) add to an asset: a timed transcript,
//! OCR text, labels, an asset embedding and per-frame embeddings. Search indexes all of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::asset_id::AssetId;
use crate::enrich_part::EnrichPart;

/// One timed piece of a transcript: the player jumps to `start_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptSegment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// An embedding of one video frame, at its time in the asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FrameEmbedding {
    pub at_ms: u64,
    pub vector: Vec<f32>,
}

/// A label with the model's confidence in it (0–1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScoredLabel {
    pub name: String,
    pub score: f32,
}

/// What models suggested for an asset, beside the editorial fields and never mixed into them
/// until an editor accepts a suggestion: the transcript's language, labels with scores, and
/// which model (name and version) made each part.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AiInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_scores: Vec<ScoredLabel>,
    /// Part (`ocr`, `labels`, `speech`, `embedding`) → model name and version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<EnrichPart, String>,
    /// Labels an editor rejected: a model that suggests them again is not listened to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

impl AiInfo {
    pub fn is_empty(&self) -> bool {
        self.language.is_none()
            && self.label_scores.is_empty()
            && self.models.is_empty()
            && self.rejected.is_empty()
    }
}

/// Enrichment for one asset. Each present part replaces the asset's previous one; absent parts
/// are left as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Enrichment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<TranscriptSegment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// One vector for the whole asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_embeddings: Option<Vec<FrameEmbedding>>,
    /// The transcript's language (ISO 639-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The labels with their scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_scores: Option<Vec<ScoredLabel>>,
    /// Which model made each part (`ocr`, `labels`, `speech`, `embedding` → name and version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<BTreeMap<EnrichPart, String>>,
    /// Results per sampled video frame (`frames` table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<Vec<FrameResult>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnrichmentError {
    #[error("embedding has {got} dimensions; this catalog uses {want}")]
    Dimension { got: usize, want: usize },
    #[error("embedding contains a value that is not a finite number")]
    NotFinite,
    #[error("embedding is all zeros, so it has no direction")]
    Zero,
    #[error("transcript segment {index} ends ({end_ms} ms) before it starts ({start_ms} ms)")]
    SegmentOrder { index: usize, start_ms: u64, end_ms: u64 },
    #[error("label {index} has score {score}; scores are between 0 and 1")]
    LabelScore { index: usize, score: f32 },
    #[error(
        "enrichment is empty: give at least one of transcript, ocr_text, labels, embedding, frame_embeddings"
    )]
    Empty,
}

impl Enrichment {
    pub fn is_empty(&self) -> bool {
        self.transcript.is_none()
            && self.ocr_text.is_none()
            && self.labels.is_none()
            && self.label_scores.is_none()
            && self.embedding.is_none()
            && self.frame_embeddings.is_none()
    }

    /// Checks what an API client sent before it is recorded in the log.
    pub fn validate(&self, dim: usize) -> Result<(), EnrichmentError> {
        if self.is_empty() {
            return Err(EnrichmentError::Empty);
        }
        for (index, s) in self.transcript.iter().flatten().enumerate() {
            if s.end_ms < s.start_ms {
                return Err(EnrichmentError::SegmentOrder {
                    index,
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                });
            }
        }
        for (index, l) in self.label_scores.iter().flatten().enumerate() {
            if !(0.0..=1.0).contains(&l.score) {
                return Err(EnrichmentError::LabelScore { index, score: l.score });
            }
        }
        let frames = self.frame_embeddings.iter().flatten().map(|f| &f.vector);
        for v in self.embedding.iter().chain(frames) {
            check_vector(v, dim)?;
        }
        Ok(())
    }

    /// The transcript as one text, for asset-level ranking.
    pub fn transcript_text(segments: &[TranscriptSegment]) -> String {
        let mut text = String::new();
        for s in segments {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&s.text);
        }
        text
    }
}

/// A vector fit for cosine search: the right length, finite, not all zeros.
pub fn check_vector(v: &[f32], dim: usize) -> Result<(), EnrichmentError> {
    if v.len() != dim {
        return Err(EnrichmentError::Dimension { got: v.len(), want: dim });
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err(EnrichmentError::NotFinite);
    }
    if v.iter().all(|x| *x == 0.0) {
        return Err(EnrichmentError::Zero);
    }
    Ok(())
}

/// What the picture models found in one sampled video frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FrameResult {
    pub at_ms: u64,
    /// Text read in the frame ("" when none).
    #[serde(default)]
    pub ocr_text: String,
    /// The frame's top labels with scores.
    #[serde(default)]
    pub labels: Vec<ScoredLabel>,
}

/// A stored frame row (`frames` table): keyframe-level results with the models that made them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FrameRow {
    pub asset_id: AssetId,
    pub at_ms: u64,
    pub ocr_text: String,
    pub labels: Vec<ScoredLabel>,
    pub ocr_model: Option<String>,
    pub label_model: Option<String>,
}

/// A stored transcript segment row (`segments` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentRow {
    pub asset_id: AssetId,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// The speech model (name@version) that made it; none for imported transcripts.
    #[serde(default)]
    pub model: Option<String>,
}

/// A stored embedding row (`embeddings` table). The table names its vectors: `vkey` is the
/// vector's key, `ord` the asset's dense number, shared by all its vectors (the search index
/// maps both, it does not mint them).
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingRow {
    pub asset_id: AssetId,
    pub ord: u32,
    pub vkey: u64,
    /// Set for frame embeddings.
    pub at_ms: Option<u64>,
    pub vector: Vec<f32>,
    /// The model that made it (`name@version`); `None` when imported as is.
    pub model: Option<String>,
}

impl Enrichment {
    /// The model that made `part`, when this enrichment names one.
    pub fn model(&self, part: EnrichPart) -> Option<String> {
        self.models.as_ref().and_then(|m| m.get(&part)).cloned()
    }

    /// The asset's new vectors, when this enrichment gives any (the asset's own first, then
    /// those at moments); they replace all of its vectors.
    pub fn new_vectors(&self, asset_id: AssetId) -> Option<NewVectors> {
        if self.embedding.is_none() && self.frame_embeddings.is_none() {
            return None;
        }
        let mut vectors: Vec<(Option<u64>, Vec<f32>)> =
            self.embedding.iter().map(|v| (None, v.clone())).collect();
        vectors.extend(
            self.frame_embeddings.iter().flatten().map(|f| (Some(f.at_ms), f.vector.clone())),
        );
        Some(NewVectors { asset_id, vectors, model: self.model(EnrichPart::Embedding) })
    }
}

/// An asset's vectors before the `embeddings` table names them (its `ord` and their `vkey`s).
#[derive(Clone, Debug, PartialEq)]
pub struct NewVectors {
    pub asset_id: AssetId,
    /// `(at_ms, vector)`: `None` for the asset's own vector, a time for a frame or segment.
    pub vectors: Vec<(Option<u64>, Vec<f32>)>,
    pub model: Option<String>,
}
