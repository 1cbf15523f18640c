//! The CLIP path (image and text towers into one space) with small weights the test makes:
//! no registry package ships CLIP, so this checks loading from a Hugging Face style folder and
//! the shapes and norms of what comes out, plus clear errors for broken folders.

use std::path::Path;

use acervo_operators::embed::ClipEmbedder;
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::clip::text_model::{Activation, ClipTextConfig};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;
use candle_transformers::models::clip::{ClipConfig, ClipModel};

const WORDS: &[&str] = &["<unk>", "a", "cat", "on", "the", "sofa", "fire", "forest"];

/// A tiny CLIP (2 layers a tower, 64-d, 32×32 pictures) with random weights, written as a
/// Hugging Face folder: config.json, model.safetensors, tokenizer.json.
fn write_small_clip(dir: &Path, projection: usize) {
    let vocab = WORDS.len() + 1; // + <|endoftext|>, the highest id
    let text = ClipTextConfig {
        vocab_size: vocab,
        embed_dim: 64,
        activation: Activation::QuickGelu,
        intermediate_size: 128,
        max_position_embeddings: 16,
        pad_with: None,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        projection_dim: projection,
    };
    let vision = ClipVisionConfig {
        embed_dim: 64,
        activation: Activation::QuickGelu,
        intermediate_size: 128,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        projection_dim: projection,
        num_channels: 3,
        image_size: 32,
        patch_size: 8,
    };
    let config = ClipConfig { text_config: text, vision_config: vision, logit_scale_init_value: 2.6592, image_size: 32 };
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
    ClipModel::new(vb, &config).unwrap();
    vars.save(dir.join("model.safetensors")).unwrap();
    let hf = serde_json::json!({
        "projection_dim": projection,
        "text_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                        "vocab_size": vocab, "max_position_embeddings": 16},
        "vision_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                          "image_size": 32, "patch_size": 8, "num_channels": 3},
    });
    std::fs::write(dir.join("config.json"), hf.to_string()).unwrap();
    let mut ids: serde_json::Map<String, serde_json::Value> = WORDS.iter().enumerate().map(|(i, w)| (w.to_string(), i.into())).collect();
    ids.insert("<|endoftext|>".into(), WORDS.len().into());
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "normalizer": null, "post_processor": null, "decoder": null,
        "added_tokens": [{"id": WORDS.len(), "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "pre_tokenizer": {"type": "Whitespace"},
        "model": {"type": "WordLevel", "vocab": ids, "unk_token": "<unk>"},
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
}

fn unit(v: &[f32]) -> bool {
    (v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-4
}

#[test]
fn clip_loads_a_hugging_face_folder_and_embeds_text_and_pictures_into_one_space() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    write_small_clip(dir, 512);
    let clip = ClipEmbedder::load(dir, "clip-test").unwrap();
    assert_eq!((clip.dim(), clip.image_size()), (512, 32));

    let texts = clip.embed_texts(&["a cat on the sofa", "forest fire", ""]).unwrap();
    assert_eq!(texts.len(), 3);
    assert!(texts.iter().all(|v| v.len() == 512 && unit(v)), "text vectors are 512-d unit vectors");
    assert_ne!(texts[0], texts[1], "different texts, different vectors");
    // Longer than the 16 positions: cut, not refused.
    let long = vec!["cat"; 100].join(" ");
    assert_eq!(clip.embed_texts(&[&long]).unwrap()[0].len(), 512);

    let red: Vec<u8> = [255u8, 0, 0].repeat(32 * 32);
    let noise: Vec<u8> = (0..32 * 32 * 3).map(|i| (i * 37 % 251) as u8).collect();
    let pictures = clip.embed_images(&[red.clone(), noise]).unwrap();
    assert_eq!(pictures.len(), 2);
    assert!(pictures.iter().all(|v| v.len() == 512 && unit(v)));
    assert_ne!(pictures[0], pictures[1]);
    // A batch gives what each picture gives alone.
    let alone = clip.embed_images(&[red]).unwrap();
    assert!(alone[0].iter().zip(&pictures[0]).all(|(a, b)| (a - b).abs() < 1e-4));
    // Text and pictures share the space: their cosine is defined and bounded.
    let cos: f32 = texts[0].iter().zip(&pictures[0]).map(|(a, b)| a * b).sum();
    assert!((-1.0001..=1.0001).contains(&cos));
    // A picture of the wrong size is an error, not a panic.
    assert!(clip.embed_images(&[vec![0u8; 10]]).unwrap_err().to_string().contains("32×32"));
}

#[test]
fn a_broken_clip_folder_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let err = |d: &Path| match ClipEmbedder::load(d, "clip") {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(err(dir).contains("config.json"), "{}", err(dir));
    write_small_clip(dir, 512);
    std::fs::write(dir.join("model.safetensors"), b"not weights").unwrap();
    assert!(err(dir).contains("model.safetensors"), "{}", err(dir));
    // Weights made for another projection width than the config says.
    let other = dir.join("other");
    std::fs::create_dir(&other).unwrap();
    write_small_clip(&other, 256);
    let config = std::fs::read_to_string(other.join("config.json")).unwrap().replace("\"projection_dim\":256", "\"projection_dim\":512");
    std::fs::write(other.join("config.json"), config).unwrap();
    assert!(err(&other).contains("model.safetensors"), "{}", err(&other));
}
