//! CLIP image and text towers in candle (`candle_transformers::models::clip`), from a Hugging
//! Face CLIP folder: `config.json` (`text_config`, `vision_config`, `projection_dim`),
//! `model.safetensors`, `tokenizer.json`. Both towers project into one space (512-d for
//! ViT-B/32), so a text query finds pictures directly.
//!
//! No registry package ships CLIP weights, so this path is off unless `ai.clip_model_path`
//! points at a folder; until then picture search rides on labels and OCR text embedded by the
//! sentence model.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::text_model::{Activation, ClipTextConfig};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;
use candle_transformers::models::clip::{ClipConfig, ClipModel, div_l2_norm};
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::text::EmbedError;

/// CLIP's pixel normalisation (OpenAI's training statistics).
const MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
const STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];
const END_OF_TEXT: &str = "<|endoftext|>";
const CLASS_EMBEDDING: &str = "vision_model.embeddings.class_embedding";

#[derive(Deserialize)]
struct TowerConfig {
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    #[serde(default)]
    vocab_size: Option<usize>,
    #[serde(default)]
    max_position_embeddings: Option<usize>,
    #[serde(default)]
    image_size: Option<usize>,
    #[serde(default)]
    patch_size: Option<usize>,
    #[serde(default)]
    num_channels: Option<usize>,
}

/// The parts of a Hugging Face `CLIPConfig` the towers need.
#[derive(Deserialize)]
struct HfClipConfig {
    projection_dim: usize,
    text_config: TowerConfig,
    vision_config: TowerConfig,
}

pub struct ClipEmbedder {
    model: ClipModel,
    tokenizer: Tokenizer,
    end_of_text: u32,
    max_tokens: usize,
    image_size: usize,
    dim: usize,
    device: Device,
    pub name: String,
}

impl ClipEmbedder {
    pub fn load(dir: &Path, name: &str) -> Result<ClipEmbedder, EmbedError> {
        let fail = |what: &'static str| {
            move |e: String| EmbedError::Model { dir: dir.to_path_buf(), what, reason: e }
        };
        let raw = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| fail("config.json")(e.to_string()))?;
        let hf: HfClipConfig =
            serde_json::from_str(&raw).map_err(|e| fail("config.json")(e.to_string()))?;
        let (t, v) = (&hf.text_config, &hf.vision_config);
        let missing = |field: &str| fail("config.json")(format!("{field} is missing"));
        let text_config = ClipTextConfig {
            vocab_size: t.vocab_size.ok_or_else(|| missing("text_config.vocab_size"))?,
            embed_dim: t.hidden_size,
            activation: Activation::QuickGelu,
            intermediate_size: t.intermediate_size,
            max_position_embeddings: t
                .max_position_embeddings
                .ok_or_else(|| missing("text_config.max_position_embeddings"))?,
            pad_with: None,
            num_hidden_layers: t.num_hidden_layers,
            num_attention_heads: t.num_attention_heads,
            projection_dim: hf.projection_dim,
        };
        let image_size = v.image_size.ok_or_else(|| missing("vision_config.image_size"))?;
        let vision_config = ClipVisionConfig {
            embed_dim: v.hidden_size,
            activation: Activation::QuickGelu,
            intermediate_size: v.intermediate_size,
            num_hidden_layers: v.num_hidden_layers,
            num_attention_heads: v.num_attention_heads,
            projection_dim: hf.projection_dim,
            num_channels: v.num_channels.unwrap_or(3),
            image_size,
            patch_size: v.patch_size.ok_or_else(|| missing("vision_config.patch_size"))?,
        };
        let max_tokens = text_config.max_position_embeddings;
        let config =
            ClipConfig { text_config, vision_config, logit_scale_init_value: 2.6592, image_size };
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| fail("tokenizer.json")(e.to_string()))?;
        let end_of_text = tokenizer
            .token_to_id(END_OF_TEXT)
            .ok_or_else(|| fail("tokenizer.json")(format!("no {END_OF_TEXT} token")))?;
        let weights: PathBuf = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(fail("model.safetensors")("not a file".into()));
        }
        let device = Device::Cpu;
        // Memory-mapped: the weights are read from the page cache, not copied.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }
            .map_err(|e| fail("model.safetensors")(e.to_string()))?;
        // candle makes up a random class embedding when the file has none: every load would
        // then embed the same picture differently.
        if !vb.contains_tensor(CLASS_EMBEDDING) {
            return Err(fail("model.safetensors")(format!("{CLASS_EMBEDDING} is missing")));
        }
        let model =
            ClipModel::new(vb, &config).map_err(|e| fail("model.safetensors")(e.to_string()))?;
        Ok(ClipEmbedder {
            model,
            tokenizer,
            end_of_text,
            max_tokens,
            image_size,
            dim: hf.projection_dim,
            device,
            name: name.to_string(),
        })
    }

    /// Width of the shared space.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Side of the square pictures `embed_images` takes.
    pub fn image_size(&self) -> usize {
        self.image_size
    }

    /// Unit vectors of texts in the shared space.
    pub fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut rows = Vec::with_capacity(texts.len());
        for text in texts {
            let enc = self
                .tokenizer
                .encode(*text, false)
                .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
            // The text tower reads the end-of-text token's state (the highest id): keep room for it.
            let mut ids: Vec<u32> =
                enc.get_ids().iter().copied().take(self.max_tokens - 1).collect();
            ids.push(self.end_of_text);
            let ids = Tensor::new(ids.as_slice(), &self.device)?.unsqueeze(0)?;
            let v = div_l2_norm(&self.model.get_text_features(&ids)?)?;
            rows.extend(v.to_vec2::<f32>()?);
        }
        Ok(rows)
    }

    /// Unit vectors of RGB pictures already `image_size` square (bytes, row-major).
    pub fn embed_images(&self, pictures: &[Vec<u8>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let side = self.image_size;
        let mut inputs = Vec::with_capacity(pictures.len());
        for p in pictures {
            if p.len() != side * side * 3 {
                return Err(EmbedError::Input(format!(
                    "expected a {side}×{side} RGB picture, got {} bytes",
                    p.len()
                )));
            }
            let mut planar = vec![0f32; 3 * side * side];
            for (i, px) in p.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    planar[c * side * side + i] = (f32::from(px[c]) / 255.0 - MEAN[c]) / STD[c];
                }
            }
            inputs.push(Tensor::from_vec(planar, (3, side, side), &self.device)?);
        }
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let batch = Tensor::stack(&inputs, 0)?;
        Ok(div_l2_norm(&self.model.get_image_features(&batch)?)?.to_vec2::<f32>()?)
    }
}
