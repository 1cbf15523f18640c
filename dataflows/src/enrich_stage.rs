//! The enrichment stage: suggestions from models, kept apart from editorial fields.
//!
//! - pictures: one decode of the image, or of the video with a frame every N seconds, feeds
//!   both OCR (tesseract) and labels (MobileNetV2, frames classified in batches);
//! - sound: speech to timed text (Whisper), language detected;
//! - text: the sentence model (MiniLM) embeds the asset's title, description, tags, OCR text,
//!   labels and transcript into the asset vector, and each transcript segment into a vector at
//!   its time, so semantic search lands on the moment.
//!
//! Each part names its model and version; a part that fails is reported without failing the
//! others, and the asset never fails because of a model.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use acervo_catalog::config::AiConfig;
use acervo_catalog::{
    AssetId, Enrichment, FrameEmbedding, FrameResult, MediaKind, ScoredLabel, Stage,
    TechnicalMetadata, TranscriptSegment, WorkResult,
};
use acervo_operators::embed::{ClipEmbedder, TextEmbedder, TextVectors};
use acervo_operators::ocr::Ocr;
use acervo_operators::speech::{Language, SpeechModel, decode_16k_mono};
use acervo_operators::vision::{
    Labeller, prepare, prepare_image, prepare_image_square, prepare_square,
};
use acervo_operators::{OperatorError, frames};

use crate::batcher::Batcher;
use crate::media_job::{MediaContext, MediaInput};

/// Pictures classified per model call.
const LABEL_BATCH: usize = 8;
/// Sentences embedded per model call.
const TEXT_BATCH: usize = 32;

/// The label and sentence models behind batchers: the enrichment jobs of several assets share
/// their calls (see `batcher`). Speech is not batched across assets: a Whisper window is decoded
/// token by token with its own cache, and one asset's windows already keep the cores busy.
#[derive(Clone, Default)]
pub struct Inference {
    labels: Option<Batcher<Vec<u8>, Vec<(usize, f32)>>>,
    text: Option<Batcher<String, Vec<f32>>>,
    pictures: Option<Batcher<Vec<u8>, Vec<f32>>>,
}

impl Inference {
    /// One thread per loaded model; `batch_sizes` (by model) observes every call.
    pub fn start(models: &Models, batch_sizes: &prometheus::HistogramVec) -> Inference {
        let mut out = Inference::default();
        if let Ok(l) = &models.labels {
            let (l, k) = (Arc::clone(l), models.config.label_top_k);
            let h = batch_sizes.with_label_values(&["labels"]);
            match Batcher::spawn("labels", LABEL_BATCH, Some(h), move |pictures: &[Vec<u8>]| {
                l.classify(pictures, k).map_err(|e| e.to_string())
            }) {
                Ok(b) => out.labels = Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the label model thread; labels are skipped")
                }
            }
        }
        if let Some(c) = &models.clip {
            let c = Arc::clone(c);
            let h = batch_sizes.with_label_values(&["clip"]);
            match Batcher::spawn("clip", CLIP_BATCH, Some(h), move |pictures: &[Vec<u8>]| {
                c.embed_images(pictures).map_err(|e| e.to_string())
            }) {
                Ok(b) => out.pictures = Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the CLIP model thread; picture vectors are skipped")
                }
            }
        }
        if let Ok(t) = &models.text {
            let t = Arc::clone(t);
            let h = batch_sizes.with_label_values(&["embedding"]);
            let embed = move |texts: &[String]| {
                let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
                t.embed(&texts).map_err(|e| e.to_string())
            };
            match Batcher::spawn("embedding", TEXT_BATCH, Some(h), embed) {
                Ok(b) => out.text = Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the text model thread; embeddings are skipped")
                }
            }
        }
        out
    }

    /// The ranked classes of each picture.
    fn classify(
        &self,
        pictures: Vec<Vec<u8>>,
        cancel: &AtomicBool,
    ) -> Result<Vec<Vec<(usize, f32)>>, String> {
        self.labels
            .as_ref()
            .ok_or("the label model thread is not running")?
            .run_all(pictures, cancel)
    }

    /// The CLIP vector of each picture.
    fn embed_pictures(
        &self,
        pictures: Vec<Vec<u8>>,
        cancel: &AtomicBool,
    ) -> Result<Vec<Vec<f32>>, String> {
        self.pictures
            .as_ref()
            .ok_or("the CLIP model thread is not running")?
            .run_all(pictures, cancel)
    }

    /// One vector per text.
    fn embed(&self, texts: Vec<String>, cancel: &AtomicBool) -> Result<Vec<Vec<f32>>, String> {
        self.text.as_ref().ok_or("the text model thread is not running")?.run_all(texts, cancel)
    }
}

/// The models the stage runs, loaded once per process. Each is there, or says why not.
#[derive(Clone)]
pub struct Models {
    /// What embeds text: the sentence model, or CLIP's text tower when CLIP is on.
    pub text: Result<Arc<TextVectors>, String>,
    /// CLIP, when configured: its image tower embeds photos and video frames.
    pub clip: Option<Arc<ClipEmbedder>>,
    pub speech: Result<Arc<SpeechModel>, String>,
    pub labels: Result<Arc<Labeller>, String>,
    pub config: AiConfig,
}

impl Models {
    /// No models (programs that do not enrich, such as the ingest benchmark).
    pub fn none(config: AiConfig) -> Models {
        let off = "not loaded".to_string();
        Models {
            clip: None,
            text: Err(off.clone()),
            speech: Err(off.clone()),
            labels: Err(off),
            config,
        }
    }

    /// Loads every configured model; one that is missing or broken is logged and left out.
    /// Each is named `name@version`, the version being the start of its weights' SHA-256, so
    /// results say exactly which weights made them and a reindex finds what is out of date.
    pub fn load(config: &AiConfig, embedding_dim: usize) -> Models {
        let clip = config.clip_model_dir().and_then(|dir| {
            match ClipEmbedder::load(
                &dir,
                &model_id(&config.clip_model, &dir.join("model.safetensors")),
            ) {
                Ok(m) if m.dim() == embedding_dim => Some(Arc::new(m)),
                Ok(m) => {
                    tracing::warn!(
                        dim = m.dim(),
                        embedding_dim,
                        "CLIP's vectors are not search.embedding_dim wide: CLIP is off"
                    );
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "CLIP could not be loaded: CLIP is off");
                    None
                }
            }
        });
        let text = match &clip {
            Some(c) => Ok(Arc::new(TextVectors::Clip(Arc::clone(c)))),
            None => {
                let text_id = model_id(
                    &config.text_model,
                    &config.text_model_dir().join("model.safetensors"),
                );
                match TextEmbedder::load(&config.text_model_dir(), &text_id) {
                    Ok(m) if m.dim() == embedding_dim => Ok(Arc::new(TextVectors::Sentence(m))),
                    Ok(m) => Err(format!(
                        "the text model makes {}-d vectors but search.embedding_dim is {embedding_dim}",
                        m.dim()
                    )),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        let speech = match config.speech_model_dir() {
            None => Err("speech to text is turned off (ai.speech_model_path is empty)".to_string()),
            Some(dir) => {
                SpeechModel::load(&dir, &model_id(&config.speech_model, &dir.join("model.bin")))
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            }
        };
        let labels = match config.label_model_file() {
            None => Err("labels are turned off (ai.label_model_path is empty)".to_string()),
            Some(file) => Labeller::load(&file, &model_id(&config.label_model, &file))
                .map(Arc::new)
                .map_err(|e| e.to_string()),
        };
        for (part, r) in [
            ("text embedding", text.as_ref().err()),
            ("speech", speech.as_ref().err()),
            ("labels", labels.as_ref().err()),
        ] {
            if let Some(why) = r {
                tracing::warn!(%why, "no {part} model: that part of the enrichment is skipped");
            }
        }
        Models { text, clip, speech, labels, config: config.clone() }
    }

    /// The model each enrichment part is made with now (`part` → `name@version`), as recorded
    /// on the assets it enriches.
    pub fn current(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("ocr".to_string(), ocr_model(&self.config));
        if let Ok(m) = &self.text {
            out.insert("embedding".to_string(), m.name().to_string());
        }
        if let Ok(m) = &self.speech {
            out.insert("speech".to_string(), m.name.clone());
        }
        if let Ok(m) = &self.labels {
            out.insert("labels".to_string(), m.name.clone());
        }
        out
    }

    fn language(&self) -> Language {
        match self.config.speech_language.trim() {
            "" | "auto" => Language::Detect,
            code => Language::Fixed(code.to_lowercase()),
        }
    }
}

/// `name@` the first 12 hex digits of the weights file's SHA-256 (just `name` if unreadable:
/// loading it will then say why).
fn model_id(name: &str, weights: &Path) -> String {
    use sha2::{Digest, Sha256};
    let Ok(mut file) = std::fs::File::open(weights) else { return name.to_string() };
    let mut hasher = Sha256::new();
    if std::io::copy(&mut file, &mut hasher).is_err() {
        return name.to_string();
    }
    format!("{name}@{}", &hex::encode(hasher.finalize())[..12])
}

fn ocr_model(cfg: &AiConfig) -> String {
    format!("tesseract {} ({})", Ocr::version(), cfg.ocr_languages)
}

/// What the picture models found.
#[derive(Default)]
struct Seen {
    text: Option<String>,
    labels: Option<Vec<ScoredLabel>>,
    /// Per sampled frame, for videos.
    frames: Option<Vec<FrameResult>>,
    /// CLIP vectors of the picture (`None` time) or of each sampled frame (its time).
    pictures: Option<Vec<(Option<u64>, Vec<f32>)>>,
}

/// Pictures CLIP embeds per call.
const CLIP_BATCH: usize = 8;

/// Distinct lines in order of appearance.
fn add_lines(lines: &mut Vec<String>, text: &str) {
    for line in text.lines() {
        if !lines.iter().any(|l| l == line) {
            lines.push(line.to_string());
        }
    }
}

/// OCR and labels of a picture or video, from one decode.
fn look(
    ctx: &MediaContext,
    input: &MediaInput,
    master: &Path,
    technical: &TechnicalMetadata,
    cancel: &AtomicBool,
    problems: &mut Vec<String>,
) -> Result<Seen, OperatorError> {
    let mut seen = Seen::default();
    if technical.width.is_none() || !matches!(input.kind, MediaKind::Image | MediaKind::Video) {
        return Ok(seen);
    }
    let cfg = &ctx.models.config;
    let mut ocr = match Ocr::new(&cfg.ocr_languages) {
        Ok(o) => Some(o),
        Err(e) => {
            problems.push(format!("OCR: {e}"));
            None
        }
    };
    let labeller = ctx.models.labels.as_ref().ok();
    let clip = ctx.models.clip.as_ref();
    let clip_side = clip.map_or(0, |c| c.image_size());
    let mut clip_pictures: Vec<(Option<u64>, Vec<u8>)> = Vec::new();
    let mut pictures: Vec<Vec<u8>> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut per_frame: Vec<FrameResult> = Vec::new();
    let mut ocr_failed = None;
    match input.kind {
        MediaKind::Image => {
            let orientation = technical.exif.as_ref().and_then(|e| e.orientation);
            if let Some(o) = ocr.as_mut() {
                match acervo_operators::ocr::ocr_image(master, orientation, ctx.limits, o, cancel) {
                    Ok(read) => add_lines(&mut lines, &read.text),
                    Err(e) => ocr_failed = Some(e.to_string()),
                }
            }
            if labeller.is_some() {
                pictures.push(prepare_image(master, orientation, ctx.limits)?);
            }
            if clip.is_some() {
                clip_pictures.push((
                    None,
                    prepare_image_square(master, orientation, ctx.limits, clip_side)?,
                ));
            }
        }
        _ => {
            frames::sample_video(
                master,
                frames::Sampling {
                    every_seconds: cfg.ocr_every_seconds,
                    scene_change: cfg.scene_change,
                },
                cancel,
                |at_ms, frame, orientation| {
                    let mut result =
                        FrameResult { at_ms, ocr_text: String::new(), labels: Vec::new() };
                    if let Some(o) = ocr.as_mut().filter(|_| ocr_failed.is_none()) {
                        match o.read_frame(frame, orientation, cancel) {
                            Ok(read) => {
                                add_lines(&mut lines, &read.text);
                                result.ocr_text = read.text;
                            }
                            Err(e) => ocr_failed = Some(e.to_string()),
                        }
                    }
                    per_frame.push(result);
                    if labeller.is_some() {
                        pictures.push(prepare(frame, orientation, master)?);
                    }
                    if clip.is_some() {
                        clip_pictures.push((
                            Some(at_ms),
                            prepare_square(
                                frame,
                                orientation,
                                master,
                                clip_side as u32,
                                clip_side,
                            )?,
                        ));
                    }
                    Ok(())
                },
            )?;
        }
    }
    let video = input.kind == MediaKind::Video;
    match ocr_failed {
        Some(e) => problems.push(format!("OCR: {e}")),
        None if ocr.is_some() => seen.text = Some(lines.join("\n")),
        None => {}
    }
    if let Some(l) = labeller {
        match ctx.inference.classify(pictures, cancel) {
            Ok(ranked) => {
                let scored = |labels: Vec<acervo_operators::vision::Label>| {
                    labels
                        .into_iter()
                        .map(|x| ScoredLabel { name: x.name, score: x.score })
                        .collect::<Vec<_>>()
                };
                // Each frame keeps its own top labels; the asset gets them pooled.
                for (f, top) in per_frame.iter_mut().zip(&ranked) {
                    f.labels = scored(l.labels(std::slice::from_ref(top), cfg.label_min_score));
                }
                seen.labels = Some(scored(l.labels(&ranked, cfg.label_min_score)));
            }
            Err(_) if cancel.load(Ordering::Relaxed) => return Err(OperatorError::Cancelled),
            Err(e) => problems.push(format!("labels: {e}")),
        }
    }
    if video && !per_frame.is_empty() {
        seen.frames = Some(per_frame);
    }
    if clip.is_some() && !clip_pictures.is_empty() {
        let (times, pictures): (Vec<Option<u64>>, Vec<Vec<u8>>) = clip_pictures.into_iter().unzip();
        match ctx.inference.embed_pictures(pictures, cancel) {
            Ok(vectors) => seen.pictures = Some(times.into_iter().zip(vectors).collect()),
            Err(_) if cancel.load(Ordering::Relaxed) => return Err(OperatorError::Cancelled),
            Err(e) => problems.push(format!("CLIP pictures: {e}")),
        }
    }
    Ok(seen)
}

/// The timed transcript of an asset's sound, with its language; `None` without an audio stream.
fn listen(
    ctx: &MediaContext,
    id: AssetId,
    master: &Path,
    cancel: &AtomicBool,
) -> Result<Option<(Vec<TranscriptSegment>, Option<String>)>, String> {
    let model = ctx.models.speech.as_ref().map_err(Clone::clone)?;
    let Some(samples) = decode_16k_mono(master, cancel).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    // Transcription is the long part of the stage: its share of the audio is the progress.
    let progress = |done: f64| ctx.jobs.progress(id, Stage::Enrich, done as f32);
    let t = model
        .transcribe(&samples, &ctx.models.language(), cancel, &progress)
        .map_err(|e| e.to_string())?;
    let segments = t
        .segments
        .into_iter()
        .map(|s| TranscriptSegment { start_ms: s.start_ms, end_ms: s.end_ms, text: s.text })
        .collect();
    Ok(Some((segments, t.language)))
}

/// The stage's result, or why nothing at all came out (every part failed).
pub fn run(
    ctx: &MediaContext,
    input: &MediaInput,
    master: &Path,
    technical: &TechnicalMetadata,
    cancel: &AtomicBool,
) -> Result<WorkResult, String> {
    let id = input.id;
    let mut enrichment = Enrichment::default();
    let mut models: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    let cfg = &ctx.models.config;
    let cancelled = || WorkResult::StageCancelled {
        id,
        stage: Stage::Enrich,
        reason: "cancelled on request".into(),
    };

    let mut pictures = None;
    match look(ctx, input, master, technical, cancel, &mut problems) {
        Ok(seen) => {
            if let Some(text) = seen.text {
                enrichment.ocr_text = Some(text);
                models.insert("ocr".into(), ocr_model(cfg));
            }
            if let (Some(labels), Ok(l)) = (seen.labels, ctx.models.labels.as_ref()) {
                enrichment.labels = Some(labels.iter().map(|l| l.name.clone()).collect());
                enrichment.label_scores = Some(labels);
                models.insert("labels".into(), l.name.clone());
            }
            enrichment.frames = seen.frames;
            pictures = seen.pictures;
        }
        Err(OperatorError::Cancelled) => return Ok(cancelled()),
        Err(e) => problems.push(format!("pictures: {e}")),
    }
    let has_audio = technical.audio_codec.is_some() || input.kind == MediaKind::Audio;
    if has_audio && matches!(input.kind, MediaKind::Audio | MediaKind::Video) {
        match listen(ctx, id, master, cancel) {
            Ok(Some((segments, language))) => {
                enrichment.transcript = Some(segments);
                enrichment.language = language;
                if let Ok(m) = ctx.models.speech.as_ref() {
                    models.insert("speech".into(), m.name.clone());
                }
            }
            Ok(None) => {}
            Err(_) if cancel.load(Ordering::Relaxed) => return Ok(cancelled()),
            Err(e) => problems.push(format!("speech: {e}")),
        }
    }
    // With CLIP, pictures are found by what they show: a photo's vector is its picture's (its
    // text is not embedded only to be replaced), and a video's sampled frames are vectors at
    // their times beside its transcript's.
    let (mut photo, mut frame_pictures) = (None, Vec::new());
    for (at_ms, vector) in pictures.into_iter().flatten() {
        match at_ms {
            None => photo = Some(vector),
            Some(at_ms) => frame_pictures.push(FrameEmbedding { at_ms, vector }),
        }
    }
    match &ctx.models.text {
        Ok(_) if photo.is_some() => {}
        Ok(embedder) => {
            let transcript = enrichment
                .transcript
                .as_ref()
                .map(|s| Enrichment::transcript_text(s))
                .unwrap_or_default();
            let text = acervo_catalog::asset::enrichment_text(
                &input.text,
                enrichment.ocr_text.as_deref().unwrap_or(""),
                enrichment.labels.as_deref().unwrap_or(&[]),
                &transcript,
            );
            let segments: Vec<&TranscriptSegment> =
                enrichment.transcript.iter().flatten().collect();
            let mut texts: Vec<String> = vec![text.clone()];
            texts.extend(segments.iter().map(|s| s.text.clone()));
            if !text.trim().is_empty() {
                match ctx.inference.embed(texts, cancel) {
                    Ok(mut v) => {
                        let frames: Vec<FrameEmbedding> = v
                            .split_off(1)
                            .into_iter()
                            .zip(&segments)
                            .map(|(vector, s)| FrameEmbedding { at_ms: s.start_ms, vector })
                            .collect();
                        enrichment.embedding = v.pop();
                        if !frames.is_empty() {
                            enrichment.frame_embeddings = Some(frames);
                        }
                        models.insert("embedding".into(), embedder.name().to_string());
                    }
                    Err(e) => problems.push(format!("embedding: {e}")),
                }
            }
        }
        Err(why) => problems.push(format!("embedding: {why}")),
    }
    if let Ok(embedder) = ctx.models.text.as_ref()
        && (photo.is_some() || !frame_pictures.is_empty())
    {
        if photo.is_some() {
            enrichment.embedding = photo;
        }
        if !frame_pictures.is_empty() {
            enrichment.frame_embeddings.get_or_insert_with(Vec::new).extend(frame_pictures);
        }
        models.insert("embedding".into(), embedder.name().to_string());
    }
    if cancel.load(Ordering::Relaxed) {
        return Ok(cancelled());
    }
    if enrichment.is_empty() && !problems.is_empty() {
        return Err(problems.join("; "));
    }
    for p in &problems {
        tracing::warn!(asset = %id, problem = %p, "part of the enrichment failed");
    }
    enrichment.models = Some(models.clone());
    Ok(WorkResult::Enriched {
        id,
        enrichment,
        models: models.into_iter().map(|(k, v)| format!("{k}: {v}")).collect(),
    })
}
