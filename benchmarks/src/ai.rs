//! bench-ai: the AI models on this machine's cores, each next to a Python peer running the same
//! weights, with the agreement between the two:
//!
//! - Whisper base (speech to text): real-time factor of Acervo's candle decoder and of
//!   faster-whisper (CTranslate2, PyPI) on the same `model.bin`, over a spoken clip made by
//!   espeak-ng from a known script, with each one's word error rate;
//! - MobileNetV2 (labels): pictures/s in candle and in a NumPy reference
//!   (scripts/mobilenet_reference.py) on the same prepared pictures, with top-1 agreement;
//! - all-MiniLM-L6-v2 (embeddings): sentences/s in candle and in a NumPy reference
//!   (scripts/minilm_reference.py) — no torch wheel is reachable here;
//! - frame sampling for OCR and labels: decode rate of a 1080p video with and without scene
//!   change detection, the cuts found, next to ffmpeg's own `scdet` filter on the same file.
//!
//! `bench-ai [--only whisper|mobilenet|minilm|frames] [--speech-seconds 120] [--pictures 64]
//! [--sentences 512] [--batch 32]`. Models: scripts/install-models.sh; peers:
//! scripts/install-bench-peers.sh.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use acervo_catalog::AcervoConfig;
use acervo_operators::ProbeLimits;
use acervo_operators::embed::TextEmbedder;
use acervo_operators::speech::score::{word_error_rate as wer, words};
use acervo_operators::speech::{Language, SpeechModel, decode_16k_mono};
use acervo_operators::vision::{Labeller, prepare_image};
use anyhow::Context;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where scripts/install-bench-peers.sh puts the Python peers.
fn peers() -> PathBuf {
    AcervoConfig::defaults().ai.models_dir().join("bench-peers")
}

fn python(script: &str, args: &[&str]) -> anyhow::Result<serde_json::Value> {
    let out = Command::new("python3")
        .env("PYTHONPATH", peers())
        .arg(root().join("scripts").join(script))
        .args(args)
        .output()
        .with_context(|| format!("running {script}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{script} failed (run scripts/install-bench-peers.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// A news script for the speech clip: distinct sentences, read in order until the clip is long enough.
const SCRIPT: &[&str] = &[
    "Good evening, here are the main stories of the day.",
    "The city council approved the new budget for public schools after a long debate.",
    "Firefighters worked through the night to stop the forest fire near the river.",
    "Farmers in the south say the drought has cut this year's harvest by a third.",
    "The national team won the match two to one with a goal in the last minute.",
    "Train services between the capital and the coast will be reduced during the strike.",
    "Doctors at the central hospital opened a new ward for children with heart disease.",
    "The museum will show paintings that have not been seen in public for fifty years.",
    "Prices at the market rose again this month, led by fresh fruit and energy.",
    "A storm is expected to reach the northern islands early tomorrow morning.",
    "The parliament will vote next week on the law that protects the wetlands.",
    "Thousands of people filled the main square to celebrate the end of the festival.",
    "The airport reported long delays after a power cut in the control tower.",
    "Scientists found a rare species of frog in the mountains west of the city.",
    "The court ruled that the old factory must be cleaned before homes can be built.",
    "Police asked drivers to avoid the bridge while engineers inspect the damage.",
    "The mayor said the new bus lines will start running in the spring.",
    "Workers at the port agreed to a new contract after three months of talks.",
    "The weather will stay dry and warm until the weekend, with rain on Sunday.",
    "That is all for tonight, thank you for watching and good night.",
];

/// Speaks the script (repeating it if needed) into a 16 kHz mono WAV of about `seconds`.
fn spoken_clip(dir: &Path, seconds: f64) -> anyhow::Result<(PathBuf, String, f64)> {
    let wav = dir.join("speech.wav");
    let mut said = Vec::new();
    // espeak-ng reads about 2.6 words a second at 150 words a minute.
    let mut words_wanted = (seconds * 2.6) as usize;
    'outer: loop {
        for s in SCRIPT {
            said.push(*s);
            words_wanted = words_wanted.saturating_sub(s.split_whitespace().count());
            if words_wanted == 0 {
                break 'outer;
            }
        }
    }
    let text = said.join(" ");
    let raw = dir.join("speech-22k.wav");
    let st = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&raw)
        .arg(&text)
        .status()
        .context("espeak-ng")?;
    anyhow::ensure!(st.success(), "espeak-ng failed");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&raw)
        .args(["-ar", "16000", "-ac", "1"])
        .arg(&wav)
        .status()
        .context("ffmpeg")?;
    anyhow::ensure!(st.success(), "ffmpeg failed");
    let samples = std::fs::metadata(&wav)?.len().saturating_sub(44) / 2;
    Ok((wav, text, samples as f64 / 16000.0))
}

fn whisper(cfg: &AcervoConfig, seconds: f64) -> anyhow::Result<()> {
    let dir = cfg.ai.speech_model_dir().context("ai.speech_model_path is empty")?;
    let work = tempfile::tempdir()?;
    let (wav, script, duration) = spoken_clip(work.path(), seconds)?;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("\n## Whisper base (speech to text)\n");
    println!(
        "{duration:.1} s of espeak-ng speech ({} words), {cores} cores, greedy decoding, timestamps on",
        words(&script).len()
    );
    let t = Instant::now();
    let model = SpeechModel::load(&dir, &cfg.ai.speech_model)
        .with_context(|| format!("loading {} (run scripts/install-models.sh)", dir.display()))?;
    let load_s = t.elapsed().as_secs_f64();
    let never = AtomicBool::new(false);
    let samples = decode_16k_mono(&wav, &never)?.context("no audio")?;
    model.transcribe(
        &samples[..(5 * 16000).min(samples.len())],
        &Language::Fixed("en".into()),
        &never,
        &|_| {},
    )?; // warm-up
    let t = Instant::now();
    let ours = model.transcribe(&samples, &Language::Detect, &never, &|_| {})?;
    let ours_s = t.elapsed().as_secs_f64();
    let ours_text: Vec<&str> = ours.segments.iter().map(|s| s.text.as_str()).collect();
    let ours_wer = wer(&script, &ours_text.join(" "));
    let mut rows = vec![(
        format!("Acervo (candle, f32, {cores} threads)"),
        ours_s,
        ours_wer,
        ours.segments.len(),
    )];
    for compute in ["float32", "int8"] {
        let peer = python(
            "whisper_peer.py",
            &[
                dir.to_str().unwrap_or_default(),
                wav.to_str().unwrap_or_default(),
                &cores.to_string(),
                compute,
            ],
        )?;
        let secs = peer["seconds"].as_f64().context("seconds")?;
        let segs = peer["segments"].as_array().context("segments")?;
        let text: Vec<&str> = segs.iter().filter_map(|s| s[2].as_str()).collect();
        rows.push((
            format!("faster-whisper 1.2.1 (CTranslate2, {compute}, {cores} threads)"),
            secs,
            wer(&script, &text.join(" ")),
            segs.len(),
        ));
    }
    println!("model load {load_s:.2} s; language detected: {:?}\n", ours.language);
    println!("| runtime | seconds | real-time factor | × real time | WER | segments |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, secs, w, n) in &rows {
        println!(
            "| {name} | {secs:.2} | {:.3} | {:.1} | {:.1} % | {n} |",
            secs / duration,
            duration / secs,
            w * 100.0
        );
    }
    println!(
        "Acervo speed ÷ faster-whisper float32: {:.2}x; ÷ int8: {:.2}x",
        rows[1].1 / rows[0].1,
        rows[2].1 / rows[0].1
    );
    Ok(())
}

/// Photos from Debian's python3-skimage.
const PHOTOS: &[&str] = &[
    "chelsea.png",
    "coffee.png",
    "astronaut.png",
    "motorcycle_left.png",
    "horse.png",
    "camera.png",
    "brick.png",
    "grass.png",
];

fn mobilenet(cfg: &AcervoConfig, n: usize) -> anyhow::Result<()> {
    let file = cfg.ai.label_model_file().context("ai.label_model_path is empty")?;
    let model = Labeller::load(&file, &cfg.ai.label_model)?;
    let photos = Path::new("/usr/lib/python3/dist-packages/skimage/data");
    let prepared: Vec<Vec<u8>> = PHOTOS
        .iter()
        .map(|p| prepare_image(&photos.join(p), None, ProbeLimits::default()))
        .collect::<Result<_, _>>()
        .context("python3-skimage photos")?;
    let pictures: Vec<Vec<u8>> =
        (0..n.max(1)).map(|i| prepared[i % prepared.len()].clone()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("\n## MobileNetV2 (ImageNet labels)\n");
    println!(
        "{} prepared 224×224 pictures ({} distinct skimage photos), {cores} cores",
        pictures.len(),
        prepared.len()
    );
    model.classify(&pictures[..8.min(pictures.len())], 5)?; // warm-up
    let t = Instant::now();
    let mut ranked = Vec::new();
    for chunk in pictures.chunks(8) {
        ranked.extend(model.classify(chunk, 5)?);
    }
    let mut rows = vec![(
        "Acervo (candle, f32)".to_string(),
        pictures.len() as f64 / t.elapsed().as_secs_f64(),
    )];
    let work = tempfile::tempdir()?;
    let raw = work.path().join("pictures.rgb");
    std::fs::write(&raw, prepared.concat())?;
    let peer = python(
        "mobilenet_reference.py",
        &[
            file.to_str().unwrap_or_default(),
            raw.to_str().unwrap_or_default(),
            &prepared.len().to_string(),
        ],
    )?;
    let secs = peer["seconds"].as_f64().context("seconds")?;
    rows.push((
        format!("Python reference (NumPy float32, batch {})", prepared.len()),
        prepared.len() as f64 / secs,
    ));
    let top = peer["top5"].as_array().context("top5")?;
    let mut agree = 0;
    let mut worst = 0f64;
    for (i, t) in top.iter().enumerate() {
        let (c, p) =
            (t[0][0].as_u64().unwrap_or(u64::MAX) as usize, t[0][1].as_f64().unwrap_or(0.0));
        let (oc, op) = ranked[i][0];
        agree += usize::from(c == oc);
        worst = worst.max((p - f64::from(op)).abs());
        println!(
            "{}: {} {:.3} (reference: {} {:.3})",
            PHOTOS[i],
            model.class_name(oc),
            op,
            model.class_name(c),
            p
        );
    }
    println!();
    println!("| runtime | pictures/s |");
    println!("|---|---:|");
    for (name, rate) in &rows {
        println!("| {name} | {rate:.1} |");
    }
    println!(
        "top-1 agreement with the reference: {agree}/{}; largest top-1 probability difference {worst:.4}",
        top.len()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // As `acervo serve` runs the models.
    acervo_operators::allocator::tune_for_inference();
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: usize| -> anyhow::Result<usize> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(Ok(default), |v| v.parse().context(name.to_string()))
    };
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let run = |what: &str| only.as_deref().is_none_or(|o| o == what);
    let cfg = AcervoConfig::defaults();
    println!("AVX: {}, F16C: {}", candle_core::utils::with_avx(), candle_core::utils::with_f16c());
    if run("whisper") {
        whisper(&cfg, opt("--speech-seconds", 120)? as f64)?;
    }
    if run("mobilenet") {
        mobilenet(&cfg, opt("--pictures", 64)?)?;
    }
    if run("minilm") {
        minilm(&cfg, opt("--sentences", 512)?, opt("--batch", 32)?.max(1))?;
    }
    if run("frames") {
        frames(&cfg)?;
    }
    Ok(())
}

/// Twelve 5-second 1080p shots from ffmpeg's test sources (moving and still), cut at known times.
fn frames(cfg: &AcervoConfig) -> anyhow::Result<()> {
    use acervo_operators::frames::{Sampling, sample_video};
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("shots.mp4");
    let sources = [
        "testsrc2",
        "smptehdbars",
        "cellauto",
        "gradients",
        "life",
        "yuvtestsrc",
        "rgbtestsrc",
        "pal100bars",
        "testsrc",
    ];
    let shots = 12;
    let mut graph = String::new();
    for i in 0..shots {
        let source = sources[i % sources.len()];
        graph.push_str(&format!("{source}=s=1920x1080:r=25,trim=duration=5,setpts=PTS-STARTPTS,format=yuv420p,hue=h={}[s{i}];", i * 40));
    }
    graph.push_str(&(0..shots).map(|i| format!("[s{i}]")).collect::<String>());
    graph.push_str(&format!("concat=n={shots}:v=1:a=0[out0]"));
    let status = Command::new("ffmpeg")
        .args([
            "-v", "error", "-f", "lavfi", "-i", &graph, "-c:v", "libx264", "-preset", "veryfast",
            "-pix_fmt", "yuv420p",
        ])
        .arg(&video)
        .status()?;
    anyhow::ensure!(status.success(), "ffmpeg could not make the test video");
    println!("\n## Frame sampling (OCR and labels)\n");
    println!(
        "{shots} shots of 5 s, 1920×1080 25 fps H.264, cut every 5 s; clock every {} s",
        cfg.ai.ocr_every_seconds
    );
    let no = AtomicBool::new(false);
    for (name, scene_change) in
        [("clock only", 0.0), ("clock + scene changes", cfg.ai.scene_change)]
    {
        let mut taken = Vec::new();
        let t = Instant::now();
        sample_video(
            &video,
            Sampling { every_seconds: cfg.ai.ocr_every_seconds, scene_change },
            &no,
            |at_ms, _, _| {
                taken.push(at_ms);
                Ok(())
            },
        )?;
        let s = t.elapsed().as_secs_f64();
        let cuts = (1..shots)
            .filter(|i| taken.iter().any(|&t| t.abs_diff(*i as u64 * 5000) <= 80))
            .count();
        println!(
            "Acervo {name:<22} {:6.1} frames/s decoded, {:3} frames taken, {cuts}/{} cuts taken at the cut",
            (shots * 125) as f64 / s,
            taken.len(),
            shots - 1
        );
    }
    let t = Instant::now();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&video)
        .args(["-vf", "scdet=threshold=10,metadata=print:file=-", "-f", "null", "-"])
        .output()?;
    let s = t.elapsed().as_secs_f64();
    let found = String::from_utf8_lossy(&out.stdout).matches("lavfi.scd.time").count();
    println!(
        "ffmpeg scdet (threshold 10)      {:6.1} frames/s decoded, {found:3} cuts found",
        (shots * 125) as f64 / s
    );
    Ok(())
}

/// Newsroom-like sentences of 6 to 30 words, deterministic.
fn corpus(n: usize) -> Vec<String> {
    let words = [
        "the",
        "mayor",
        "council",
        "budget",
        "fire",
        "river",
        "police",
        "election",
        "minister",
        "strike",
        "workers",
        "city",
        "storm",
        "flood",
        "hospital",
        "school",
        "court",
        "ruling",
        "team",
        "match",
        "goal",
        "market",
        "prices",
        "energy",
        "protest",
        "square",
        "parliament",
        "vote",
        "coast",
        "drought",
        "farmers",
        "festival",
        "museum",
        "airport",
        "train",
        "delays",
        "report",
        "after",
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
            let mut s: Vec<&str> =
                (0..len).map(|_| words[(next() % words.len() as u64) as usize]).collect();
            s[0] = "The";
            format!("{}.", s.join(" "))
        })
        .collect()
}

fn minilm(cfg: &AcervoConfig, n: usize, batch: usize) -> anyhow::Result<()> {
    let dir = cfg.ai.text_model_dir();
    let model = TextEmbedder::load(&dir, &cfg.ai.text_model)
        .with_context(|| format!("loading {} (run scripts/install-models.sh)", dir.display()))?;
    let sentences = corpus(n);
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("\n## all-MiniLM-L6-v2 (sentence embeddings)\n");
    println!(
        "{n} sentences of 6-30 words, {cores} cores, AVX: {}, F16C: {}",
        candle_core::utils::with_avx(),
        candle_core::utils::with_f16c()
    );
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
    let root = root();
    let input = std::env::temp_dir().join("bench-ai-sentences.json");
    std::fs::write(&input, serde_json::to_vec(&sentences[..sample])?)?;
    let out = Command::new("python3")
        .env("PYTHONPATH", peers())
        .arg(root.join("scripts/minilm_reference.py"))
        .arg(&dir)
        .arg("--bench")
        .arg(&input)
        .output()
        .context("running the Python reference")?;
    anyhow::ensure!(
        out.status.success(),
        "the Python reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let py_s = reference["seconds"].as_f64().context("seconds")?;
    let mut worst = 1.0f64;
    for (i, v) in reference["vectors"].as_array().context("vectors")?.iter().enumerate() {
        let r: Vec<f64> =
            v.as_array().context("vector")?.iter().filter_map(serde_json::Value::as_f64).collect();
        let dot: f64 = r.iter().zip(&ours[i]).map(|(a, b)| a * f64::from(*b)).sum();
        worst = worst.min(dot);
    }
    println!();
    println!("| runtime | sentences/s | ms per sentence alone |");
    println!("|---|---:|---:|");
    println!("| candle (batch {batch}) | {:.1} | {:.2} |", n as f64 / candle_s, single_s * 1000.0);
    println!(
        "| Python reference (NumPy float64, one at a time, {sample} sentences) | {:.1} | {:.2} |",
        sample as f64 / py_s,
        py_s / sample as f64 * 1000.0
    );
    println!(
        "candle ÷ Python throughput: {:.1}x; lowest cosine between the two: {worst:.6}",
        (n as f64 / candle_s) / (sample as f64 / py_s)
    );
    Ok(())
}
