//! bench-ai: sentence-embedding throughput of all-MiniLM-L6-v2 in candle on this machine's
//! cores, next to the Python reference running the same weights (scripts/minilm_reference.py,
//! NumPy — the only Python runtime for these weights installable here: no torch wheel is
//! reachable), with the agreement between the two.
//!
//! `bench-ai [--sentences 512] [--batch 32]` (models from scripts/install-models.sh)

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use acervo_catalog::AcervoConfig;
use acervo_operators::embed::TextEmbedder;
use anyhow::Context;

/// Newsroom-like sentences of 6 to 30 words, deterministic.
fn corpus(n: usize) -> Vec<String> {
    let words = [
        "the", "mayor", "council", "budget", "fire", "river", "police", "election", "minister", "strike", "workers", "city", "storm",
        "flood", "hospital", "school", "court", "ruling", "team", "match", "goal", "market", "prices", "energy", "protest", "square",
        "parliament", "vote", "coast", "drought", "farmers", "festival", "museum", "airport", "train", "delays", "report", "after",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 6 + (next() % 25) as usize;
            let mut s: Vec<&str> = (0..len).map(|_| words[(next() % words.len() as u64) as usize]).collect();
            s[0] = "The";
            format!("{}.", s.join(" "))
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: usize| -> anyhow::Result<usize> {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(Ok(default), |v| v.parse().context(name.to_string()))
    };
    let (n, batch) = (opt("--sentences", 512)?, opt("--batch", 32)?.max(1));
    let cfg = AcervoConfig::defaults();
    let dir = cfg.ai.text_model_dir();
    let model = TextEmbedder::load(&dir, &cfg.ai.text_model).with_context(|| format!("loading {} (run scripts/install-models.sh)", dir.display()))?;
    let sentences = corpus(n);
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("all-MiniLM-L6-v2, {n} sentences of 6-30 words, {cores} cores, AVX: {}, F16C: {}", candle_core::utils::with_avx(), candle_core::utils::with_f16c());
    model.embed(&refs[..batch.min(n)])?; // warm-up
    let t = Instant::now();
    let mut ours = Vec::with_capacity(n);
    for chunk in refs.chunks(batch) {
        ours.extend(model.embed(chunk)?);
    }
    let candle_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for s in refs.iter().take(64) {
        model.embed(&[s])?;
    }
    let single_s = t.elapsed().as_secs_f64() / 64.0;

    // The Python reference on a sample (it is slow): same weights, float64 NumPy.
    let sample = 32.min(n);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let input = std::env::temp_dir().join("bench-ai-sentences.json");
    std::fs::write(&input, serde_json::to_vec(&sentences[..sample])?)?;
    let out = Command::new("python3")
        .env("PYTHONPATH", root.join(".models/pyref"))
        .arg(root.join("scripts/minilm_reference.py"))
        .arg(&dir)
        .arg("--bench")
        .arg(&input)
        .output()
        .context("running the Python reference")?;
    anyhow::ensure!(out.status.success(), "the Python reference failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let py_s = reference["seconds"].as_f64().context("seconds")?;
    let mut worst = 1.0f64;
    for (i, v) in reference["vectors"].as_array().context("vectors")?.iter().enumerate() {
        let r: Vec<f64> = v.as_array().context("vector")?.iter().filter_map(serde_json::Value::as_f64).collect();
        let dot: f64 = r.iter().zip(&ours[i]).map(|(a, b)| a * f64::from(*b)).sum();
        worst = worst.min(dot);
    }
    println!();
    println!("| runtime | sentences/s | ms per sentence alone |");
    println!("|---|---:|---:|");
    println!("| candle (batch {batch}) | {:.1} | {:.2} |", n as f64 / candle_s, single_s * 1000.0);
    println!("| Python reference (NumPy float64, one at a time, {sample} sentences) | {:.1} | {:.2} |", sample as f64 / py_s, py_s / sample as f64 * 1000.0);
    println!("candle ÷ Python throughput: {:.1}x; lowest cosine between the two: {worst:.6}", (n as f64 / candle_s) / (sample as f64 / py_s));
    Ok(())
}
