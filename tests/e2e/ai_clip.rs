//! The CLIP path (image and text towers into one space) with small weights the test makes:
//! no registry package ships CLIP, so this checks loading from a Hugging Face style folder and
//! the shapes and norms of what comes out, clear errors for broken folders, and the server with
//! CLIP configured: photos and video frames get CLIP picture vectors, a text query is embedded
//! by CLIP's text tower, and vector search ranks the photos as the brute-force cosine of those
//! same towers does (random weights cannot say what is in a picture; the ranking must still be
//! the model's).

use std::path::Path;

use acervo_operators::embed::ClipEmbedder;
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::clip::text_model::{Activation, ClipTextConfig};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;
use candle_transformers::models::clip::{ClipConfig, ClipModel};

const WORDS: &[&str] = &["<unk>", "a", "cat", "on", "the", "sofa", "fire", "forest"];
const READY: std::time::Duration = std::time::Duration::from_secs(240);

/// A tiny CLIP (2 layers a tower, 64-d, 32×32 pictures) with random weights, written as a
/// Hugging Face folder: config.json, model.safetensors, tokenizer.json.
fn write_small_clip(dir: &Path, projection: usize) {
    write_clip(dir, projection, true)
}

/// `write_small_clip`, optionally without the vision tower's class embedding (which candle
/// would replace by a random one at every load).
fn write_clip(dir: &Path, projection: usize, class_embedding: bool) {
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
    let config = ClipConfig {
        text_config: text,
        vision_config: vision,
        logit_scale_init_value: 2.6592,
        image_size: 32,
    };
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
    if class_embedding {
        vb.get_with_hints(
            64,
            "vision_model.embeddings.class_embedding",
            candle_nn::Init::Randn { mean: 0.0, stdev: 1.0 },
        )
        .unwrap();
    }
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
    let mut ids: serde_json::Map<String, serde_json::Value> =
        WORDS.iter().enumerate().map(|(i, w)| (w.to_string(), i.into())).collect();
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
    // Loaded again, the same vectors: nothing in the model is made up at load time.
    let again = ClipEmbedder::load(dir, "clip-test").unwrap();
    assert_eq!(again.embed_images(&[[255u8, 0, 0].repeat(32 * 32)]).unwrap()[0], alone[0]);
    assert_eq!(again.embed_texts(&["a cat on the sofa"]).unwrap()[0], texts[0]);
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
    let config = std::fs::read_to_string(other.join("config.json"))
        .unwrap()
        .replace("\"projection_dim\":256", "\"projection_dim\":512");
    std::fs::write(other.join("config.json"), config).unwrap();
    assert!(err(&other).contains("model.safetensors"), "{}", err(&other));
    // Weights without the class embedding: refused, not embedded with a random one.
    let partial = dir.join("partial");
    std::fs::create_dir(&partial).unwrap();
    write_clip(&partial, 512, false);
    assert!(err(&partial).contains("class_embedding is missing"), "{}", err(&partial));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_clip_configured_text_queries_rank_photos_by_their_picture_vectors() {
    use crate::ai_labels::photo;
    use acervo_operators::ProbeLimits;
    use acervo_operators::vision::prepare_image_square;
    use acervo_tests::*;
    use serde_json::Value;

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let weights = dir.join("clip");
    std::fs::create_dir(&weights).unwrap();
    write_small_clip(&weights, 32);
    let video = dir.join("red.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=red:size=320x240:rate=25:duration=3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ])
    .unwrap();
    let server = Server::start_with(
        &dir.join("home"),
        &[
            ("ACERVO_AI__CLIP_MODEL_PATH", weights.to_str().unwrap()),
            ("ACERVO_AI__CLIP_MODEL", "clip-test"),
            ("ACERVO_SEARCH__EMBEDDING_DIM", "32"),
            ("ACERVO_AI__OCR_EVERY_SECONDS", "1"),
        ],
    )
    .unwrap();
    let c = client();
    let names = ["chelsea.png", "coffee.png", "motorcycle_left.png"];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        ids.push(
            upload_ok(&c, &server, &photo(name), &format!("Foto {}", i + 1), "").await.unwrap(),
        );
    }
    let v = upload_ok(&c, &server, &video, "Rojo", "").await.unwrap();
    for id in ids.iter().chain([&v]) {
        let a = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
        assert!(a["ai"]["models"]["embedding"].as_str().unwrap().starts_with("clip-test@"), "{a}");
    }
    // The video's sampled frames are picture vectors at their times.
    let sql = c.post(server.url("/api/v1/sql")).json(&serde_json::json!({"query": format!("SELECT at_ms, model FROM embeddings WHERE asset_id = '{v}' AND at_ms IS NOT NULL ORDER BY at_ms")})).send().await.unwrap();
    let sql: Value = sql.json().await.unwrap();
    let rows = sql["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter().map(|r| r["at_ms"].as_u64().unwrap()).collect::<Vec<_>>(),
        [0, 1000, 2000],
        "{sql}"
    );
    assert!(rows.iter().all(|r| r["model"].as_str().unwrap().starts_with("clip-test@")), "{sql}");

    // The oracle: the same towers, by brute force.
    let clip = ClipEmbedder::load(&weights, "oracle").unwrap();
    let query = "a cat on the sofa";
    let q = clip.embed_texts(&[query]).unwrap().remove(0);
    let pictures: Vec<Vec<u8>> = names
        .iter()
        .map(|n| {
            prepare_image_square(&photo(n), None, ProbeLimits::default(), clip.image_size())
                .unwrap()
        })
        .collect();
    let mut expected: Vec<(String, f32)> = clip
        .embed_images(&pictures)
        .unwrap()
        .iter()
        .zip(&ids)
        .map(|(p, id)| (id.clone(), p.iter().zip(&q).map(|(a, b)| a * b).sum()))
        .collect();
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));

    // The index follows the catalog by a moment: wait for all three photos.
    let url = reqwest::Url::parse_with_params(
        &server.url("/api/v1/search"),
        &[("q", query), ("mode", "vector"), ("kind", "image")],
    )
    .unwrap();
    let deadline = std::time::Instant::now() + READY;
    let found = loop {
        let (code, found) = get_json(&c, url.as_str()).await.unwrap();
        assert_eq!(code, 200, "{found}");
        if found["hits"].as_array().is_some_and(|h| h.len() == names.len())
            || std::time::Instant::now() > deadline
        {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let hits = found["hits"].as_array().unwrap();
    let got: Vec<(String, f32)> = hits
        .iter()
        .map(|h| {
            (h["asset"]["id"].as_str().unwrap().to_string(), h["score"].as_f64().unwrap() as f32)
        })
        .collect();
    assert_eq!(
        got.iter().map(|g| &g.0).collect::<Vec<_>>(),
        expected.iter().map(|e| &e.0).collect::<Vec<_>>(),
        "{found}"
    );
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            (g.1 - e.1).abs() < 1e-3,
            "similarity {} from the server, {} from the oracle",
            g.1,
            e.1
        );
    }
}
