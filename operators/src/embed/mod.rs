//! Embeddings: text (and, with CLIP, pictures) into vectors a search index can compare.
//!
//! - `text`: sentence embeddings with a BERT model in candle (all-MiniLM-L6-v2: 384-d, mean
//!   pooled over the tokens, L2-normalised — what sentence-transformers computes);
//! - `clip`: CLIP's image and text towers into one space (weights configured by the operator:
//!   no registry package ships them).
//!
//! `TextVectors` is whichever of the two embeds text for the index: the sentence model, or
//! CLIP's text tower when CLIP is configured (so queries land in the space of the pictures).

pub mod clip;
pub mod text;

use std::sync::Arc;

pub use clip::ClipEmbedder;
pub use text::{EmbedError, TextEmbedder};

pub enum TextVectors {
    Sentence(Box<TextEmbedder>),
    Clip(Arc<ClipEmbedder>),
}

impl TextVectors {
    /// Unit vectors of `texts`, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self {
            TextVectors::Sentence(m) => m.embed(texts),
            TextVectors::Clip(m) => m.embed_texts(texts),
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            TextVectors::Sentence(m) => m.dim(),
            TextVectors::Clip(m) => m.dim(),
        }
    }

    /// `name@version`, as recorded with the vectors it makes.
    pub fn name(&self) -> &str {
        match self {
            TextVectors::Sentence(m) => &m.name,
            TextVectors::Clip(m) => &m.name,
        }
    }
}
