//! Embeddings: text into vectors a search index can compare.
//!
//! - `text`: sentence embeddings with a BERT model in candle (all-MiniLM-L6-v2: 384-d, mean
//!   pooled over the tokens, L2-normalised — what sentence-transformers computes).

pub mod text;

pub use text::{EmbedError, TextEmbedder};
