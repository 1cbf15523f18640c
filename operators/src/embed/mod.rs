//! Embeddings: text into vectors a search index can compare.
//!
//! - `text`: sentence embeddings with a BERT model in candle (all-MiniLM-L6-v2: 384-d, mean
//!   pooled over the tokens, L2-normalised — what sentence-transformers computes);
//! - `clip`: CLIP's image and text towers into one space (weights configured by the operator:
//!   no registry package ships them).

pub mod clip;
pub mod text;

pub use clip::ClipEmbedder;
pub use text::{EmbedError, TextEmbedder};
