//! Enrichment: suggestions from models, kept apart from the editorial fields.
//!
//! - pictures: one decode of the image, or of the video with a frame every N seconds and at
//!   scene changes, feeds OCR (tesseract), labels (MobileNetV2) and CLIP's image tower;
//! - sound: speech to timed text (Whisper), language detected;
//! - text: the sentence model (or CLIP's text tower) embeds the asset's text (`embedding_text`)
//!   into its vector, and each transcript segment into a vector at its time, so semantic
//!   search lands on the moment.
//!
//! Each part names its model and version; a part that fails is reported without failing the
//! others, and the asset never fails because of a model. An edit of the descriptive text asks
//! for the text part alone (`EnrichInput::Text`): the asset's vector made again from the row.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use acervo_catalog::asset::embedding_text;
use acervo_catalog::{
    Asset, AssetId, EnrichPart, Enrichment, FrameEmbedding, FrameResult, MediaKind, ScoredLabel,
    Stage as StageName, TechnicalMetadata, TranscriptSegment, WorkResult,
};
use acervo_operators::embed::TextVectors;
use acervo_operators::ocr::Ocr;
use acervo_operators::speech::decode_16k_mono;
use acervo_operators::vision::{prepare, prepare_image, prepare_image_square, prepare_square};
use acervo_operators::{OperatorError, frames};

use super::Probed;
use crate::batcher::InferenceError;
use crate::context::StageContext;
use crate::stage::{CANCELLED_ON_REQUEST, Done, FailurePolicy, JobKey, Stage, StageError};

const STAGE: StageName = StageName::Enrich;

/// What an enrichment job works on.
#[derive(Clone, Debug)]
pub enum EnrichInput {
    /// Every part that applies, after the probe.
    Media(Box<Probed>),
    /// The asset's vector again, from its text as the catalog has it now.
    Text(Arc<Asset>),
}

impl EnrichInput {
    fn asset(&self) -> &Asset {
        match self {
            EnrichInput::Media(p) => &p.job.asset,
            EnrichInput::Text(a) => a,
        }
    }
}

pub struct EnrichStage;

impl Stage for EnrichStage {
    type Input = EnrichInput;
    /// `None`: nothing to make (a re-embedding of a vector no current model made).
    type Output = Option<Enrichment>;

    fn name(&self) -> StageName {
        STAGE
    }

    fn job(&self, input: &EnrichInput) -> JobKey {
        JobKey::Asset(input.asset().id)
    }

    fn policy(&self) -> FailurePolicy {
        // A model's failure is the model's, not the master's: shown on the stage, not retried.
        FailurePolicy { retry: false, dead_letter: false }
    }

    fn run(
        &self,
        input: &EnrichInput,
        ctx: &StageContext,
        cancel: &AtomicBool,
    ) -> Result<Option<Enrichment>, StageError> {
        match input {
            EnrichInput::Media(p) => enrich(ctx, p, cancel).map(Some),
            EnrichInput::Text(asset) => reembed(ctx, asset, cancel),
        }
    }

    fn record(&self, done: &Done<EnrichInput, Option<Enrichment>>) -> Vec<WorkResult> {
        let id = done.input.asset().id;
        match (&done.input, &done.outcome) {
            (EnrichInput::Media(_), Ok(e)) => {
                let enrichment = e.clone().unwrap_or_default();
                let models =
                    enrichment.models.iter().flatten().map(|(k, v)| format!("{k}: {v}")).collect();
                vec![WorkResult::Enriched { id, enrichment, models }]
            }
            (EnrichInput::Media(_), Err(e)) if e.is_cancelled() => {
                vec![WorkResult::StageCancelled { id, stage: STAGE, reason: e.reason.clone() }]
            }
            (EnrichInput::Media(_), Err(e)) => {
                vec![WorkResult::StageFailed { id, stage: STAGE, reason: e.reason.clone() }]
            }
            (EnrichInput::Text(_), Ok(Some(enrichment))) => {
                vec![WorkResult::Reembedded { id, enrichment: enrichment.clone() }]
            }
            // The old vector stays; the runner logged why.
            (EnrichInput::Text(_), _) => Vec::new(),
        }
    }
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

/// Distinct lines in order of appearance.
fn add_lines(lines: &mut Vec<String>, text: &str) {
    for line in text.lines() {
        if !lines.iter().any(|l| l == line) {
            lines.push(line.to_string());
        }
    }
}

/// A model call that stopped because the job was cancelled.
fn stopped(e: &InferenceError, cancel: &AtomicBool) -> bool {
    *e == InferenceError::Cancelled || cancel.load(Ordering::Relaxed)
}

/// OCR and labels of a picture or video, from one decode.
fn look(
    ctx: &StageContext,
    asset: &Asset,
    master: &Path,
    technical: &TechnicalMetadata,
    cancel: &AtomicBool,
    problems: &mut Vec<String>,
) -> Result<Seen, OperatorError> {
    let mut seen = Seen::default();
    if technical.width.is_none() || !asset.kind.has_pictures() {
        return Ok(seen);
    }
    let file = asset.original_filename.as_str();
    let cfg = &ctx.models.config;
    let mut ocr = match Ocr::new(&cfg.ocr_languages) {
        Ok(o) => Some(o),
        Err(e) => {
            problems.push(format!("OCR: {}", e.for_user(file)));
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
    match asset.kind {
        MediaKind::Image => {
            let orientation = technical.exif.as_ref().and_then(|e| e.orientation);
            if let Some(o) = ocr.as_mut() {
                match acervo_operators::ocr::ocr_image(master, orientation, ctx.limits, o, cancel) {
                    Ok(read) => add_lines(&mut lines, &read.text),
                    Err(OperatorError::Cancelled) => return Err(OperatorError::Cancelled),
                    Err(e) => ocr_failed = Some(e.for_user(file)),
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
            let sampling = frames::Sampling {
                every_seconds: cfg.ocr_every_seconds,
                scene_change: cfg.scene_change,
            };
            frames::sample_video(master, sampling, cancel, |at_ms, frame, orientation| {
                let mut result = FrameResult { at_ms, ocr_text: String::new(), labels: Vec::new() };
                if let Some(o) = ocr.as_mut().filter(|_| ocr_failed.is_none()) {
                    match o.read_frame(frame, orientation, cancel) {
                        Ok(read) => {
                            add_lines(&mut lines, &read.text);
                            result.ocr_text = read.text;
                        }
                        Err(OperatorError::Cancelled) => return Err(OperatorError::Cancelled),
                        Err(e) => ocr_failed = Some(e.for_user(file)),
                    }
                }
                per_frame.push(result);
                if labeller.is_some() {
                    pictures.push(prepare(frame, orientation, master)?);
                }
                if clip.is_some() {
                    let side = clip_side as u32;
                    clip_pictures.push((
                        Some(at_ms),
                        prepare_square(frame, orientation, master, side, clip_side)?,
                    ));
                }
                Ok(())
            })?;
        }
    }
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
            Err(e) if stopped(&e, cancel) => return Err(OperatorError::Cancelled),
            Err(e) => problems.push(format!("labels: {e}")),
        }
    }
    if asset.kind == MediaKind::Video && !per_frame.is_empty() {
        seen.frames = Some(per_frame);
    }
    if clip.is_some() && !clip_pictures.is_empty() {
        let (times, pictures): (Vec<Option<u64>>, Vec<Vec<u8>>) = clip_pictures.into_iter().unzip();
        match ctx.inference.embed_pictures(pictures, cancel) {
            Ok(vectors) => seen.pictures = Some(times.into_iter().zip(vectors).collect()),
            Err(e) if stopped(&e, cancel) => return Err(OperatorError::Cancelled),
            Err(e) => problems.push(format!("CLIP pictures: {e}")),
        }
    }
    Ok(seen)
}

/// Why a part could not be heard.
enum Unheard {
    Cancelled,
    Failed(String),
}

/// A timed transcript and its language.
type Heard = (Vec<TranscriptSegment>, Option<String>);

/// The timed transcript of an asset's sound, with its language; `None` without an audio stream.
fn listen(
    ctx: &StageContext,
    asset: &Asset,
    master: &Path,
    cancel: &AtomicBool,
) -> Result<Option<Heard>, Unheard> {
    let model = ctx.models.speech.as_ref().map_err(|e| Unheard::Failed(e.to_string()))?;
    let samples = match decode_16k_mono(master, cancel) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(OperatorError::Cancelled) => return Err(Unheard::Cancelled),
        Err(e) => return Err(Unheard::Failed(e.for_user(&asset.original_filename))),
    };
    // Transcription is the long part of the stage: its share of the audio is the progress.
    let id = asset.id;
    let progress = |done: f64| ctx.jobs.progress(id, STAGE, done as f32);
    let t = model.transcribe(&samples, &ctx.models.language(), cancel, &progress).map_err(|e| {
        if cancel.load(Ordering::Relaxed) {
            Unheard::Cancelled
        } else {
            Unheard::Failed(e.to_string())
        }
    })?;
    let segments = t
        .segments
        .into_iter()
        .map(|s| TranscriptSegment { start_ms: s.start_ms, end_ms: s.end_ms, text: s.text })
        .collect();
    Ok(Some((segments, t.language)))
}

/// Every part that applies to the probed asset; an error only when nothing at all came out.
fn enrich(ctx: &StageContext, p: &Probed, cancel: &AtomicBool) -> Result<Enrichment, StageError> {
    let asset = &p.job.asset;
    let technical = &p.technical;
    let mut enrichment = Enrichment::default();
    let mut models: BTreeMap<EnrichPart, String> = BTreeMap::new();
    let mut problems = Vec::new();
    let cancelled = || StageError::cancelled(STAGE, CANCELLED_ON_REQUEST);

    let mut pictures = None;
    match look(ctx, asset, p.master.path(), technical, cancel, &mut problems) {
        Ok(seen) => {
            if let Some(text) = seen.text {
                enrichment.ocr_text = Some(text);
                models.insert(EnrichPart::Ocr, ctx.models.ocr_model());
            }
            if let (Some(labels), Ok(l)) = (seen.labels, ctx.models.labels.as_ref()) {
                enrichment.labels = Some(labels.iter().map(|l| l.name.clone()).collect());
                enrichment.label_scores = Some(labels);
                models.insert(EnrichPart::Labels, l.name.clone());
            }
            enrichment.frames = seen.frames;
            pictures = seen.pictures;
        }
        Err(OperatorError::Cancelled) => return Err(cancelled()),
        Err(e) => problems.push(format!("pictures: {}", e.for_user(&asset.original_filename))),
    }
    if EnrichPart::Speech.applies(asset.kind, Some(technical)) {
        match listen(ctx, asset, p.master.path(), cancel) {
            Ok(Some((segments, language))) => {
                enrichment.transcript = Some(segments);
                enrichment.language = language;
                if let Ok(m) = ctx.models.speech.as_ref() {
                    models.insert(EnrichPart::Speech, m.name.clone());
                }
            }
            Ok(None) => {}
            Err(Unheard::Cancelled) => return Err(cancelled()),
            Err(Unheard::Failed(e)) => problems.push(format!("speech: {e}")),
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
            let text = embedding_text(
                &asset.title,
                &asset.description,
                &asset.tags,
                enrichment.ocr_text.as_deref().unwrap_or(""),
                enrichment.labels.as_deref().unwrap_or(&[]),
                &transcript,
            );
            let segments: Vec<&TranscriptSegment> =
                enrichment.transcript.iter().flatten().collect();
            if !text.trim().is_empty() {
                let mut texts: Vec<String> = vec![text];
                texts.extend(segments.iter().map(|s| s.text.clone()));
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
                        models.insert(EnrichPart::Embedding, embedder.name().to_string());
                    }
                    Err(e) if stopped(&e, cancel) => return Err(cancelled()),
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
        models.insert(EnrichPart::Embedding, embedder.name().to_string());
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }
    if enrichment.is_empty() && !problems.is_empty() {
        return Err(StageError::permanent(STAGE, problems.join("; ")));
    }
    for p in &problems {
        tracing::warn!(asset = %asset.id, problem = %p, "part of the enrichment failed");
    }
    enrichment.models = Some(models);
    Ok(enrichment)
}

/// The asset's vector made again from its text as it stands, beside its unchanged vectors at
/// moments, when the current text model made it: imported vectors from another model are left
/// alone, and with CLIP a photo's vector is its picture's, which an edit does not change.
fn reembed(
    ctx: &StageContext,
    asset: &Asset,
    cancel: &AtomicBool,
) -> Result<Option<Enrichment>, StageError> {
    let Ok(model) = ctx.models.text.as_ref() else { return Ok(None) };
    if asset.ai.models.get(&EnrichPart::Embedding).map(String::as_str) != Some(model.name()) {
        return Ok(None);
    }
    if matches!(**model, TextVectors::Clip(_)) && asset.kind == MediaKind::Image {
        return Ok(None);
    }
    let vector = match ctx.inference.embed(vec![asset.embedding_text()], cancel) {
        Ok(mut v) => v.pop(),
        Err(e) if stopped(&e, cancel) => {
            return Err(StageError::cancelled(STAGE, CANCELLED_ON_REQUEST));
        }
        Err(e) => return Err(StageError::permanent(STAGE, format!("embedding: {e}"))),
    };
    let frames = moments(ctx, asset.id)?;
    Ok(Some(Enrichment {
        embedding: vector,
        frame_embeddings: (!frames.is_empty()).then_some(frames),
        models: Some([(EnrichPart::Embedding, model.name().to_string())].into()),
        ..Default::default()
    }))
}

/// The asset's stored vectors at moments (they are replaced with the asset's own).
fn moments(ctx: &StageContext, id: AssetId) -> Result<Vec<FrameEmbedding>, StageError> {
    let rows = ctx
        .runtime
        .block_on(ctx.catalog.embeddings_of(id))
        .map_err(|e| StageError::from_error(STAGE, "reading the asset's vectors failed", e))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.at_ms.map(|at_ms| FrameEmbedding { at_ms, vector: r.vector }))
        .collect())
}
