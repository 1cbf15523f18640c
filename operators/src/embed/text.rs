//! Sentence embeddings on CPU with candle: a BERT encoder (weights from a model folder holding
//! `config.json`, `model.safetensors`, `tokenizer.json`), attention-masked mean pooling over the
//! last hidden states, then L2 normalisation — sentence-transformers' all-MiniLM-L6-v2 pipeline.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model folder {dir}: {what} is missing or unreadable: {reason}")]
    Model { dir: PathBuf, what: &'static str, reason: String },
    #[error("tokenizing: {0}")]
    Tokenize(String),
    #[error("input: {0}")]
    Input(String),
    #[error("running the model: {0}")]
    Inference(#[from] candle_core::Error),
}

pub struct TextEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    /// Model name and version, recorded beside every vector it makes.
    pub name: String,
}

/// Longest input in tokens (sentence-transformers' `max_seq_length` for this model).
const MAX_TOKENS: usize = 256;

impl TextEmbedder {
    /// Loads the model in `dir`. `name` identifies it in the catalog (`all-MiniLM-L6-v2@…`).
    pub fn load(dir: &Path, name: &str) -> Result<TextEmbedder, EmbedError> {
        let missing = |what: &'static str| {
            move |e: String| EmbedError::Model { dir: dir.to_path_buf(), what, reason: e }
        };
        let config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| missing("config.json")(e.to_string()))?;
        let config: Config =
            serde_json::from_str(&config).map_err(|e| missing("config.json")(e.to_string()))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| missing("tokenizer.json")(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| missing("tokenizer.json")(e.to_string()))?;
        let device = Device::Cpu;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(missing("model.safetensors")("not a file".into()));
        }
        // Memory-mapped: the weights are read from the page cache, not copied.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }
            .map_err(|e| missing("model.safetensors")(e.to_string()))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| missing("model.safetensors")(e.to_string()))?;
        Ok(TextEmbedder {
            model,
            tokenizer,
            device,
            dim: config.hidden_size,
            name: name.to_string(),
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One unit-length vector per text, in order. Empty input gives no vectors.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        let flat = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            encodings.iter().flat_map(|e| f(e).iter().copied()).collect()
        };
        let shape = (encodings.len(), len);
        let ids = Tensor::from_vec(flat(&|e| e.get_ids()), shape, &self.device)?;
        let types = Tensor::from_vec(flat(&|e| e.get_type_ids()), shape, &self.device)?;
        let mask = Tensor::from_vec(flat(&|e| e.get_attention_mask()), shape, &self.device)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over the real tokens only.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let unit = mean.broadcast_div(&norms)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}
