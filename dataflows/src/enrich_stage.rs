//! The enrichment stage: suggestions from models, kept apart from editorial fields. OCR reads
//! the text in images and video frames (tesseract); the sentence model embeds the asset's
//! title, description, tags and OCR text (MiniLM) for semantic search. Each part names its model
//! and version; a part that fails is reported without failing the others.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use acervo_catalog::{Enrichment, MediaKind, Stage, TechnicalMetadata, WorkResult};
use acervo_operators::embed::TextEmbedder;
use acervo_operators::ocr::{Ocr, ocr_image, ocr_video};

use crate::media_job::{MediaContext, MediaInput};

/// The models the stage runs, loaded once per process.
#[derive(Clone)]
pub struct Models {
    /// The sentence model, or why there is none (not installed, wrong width).
    pub text: Result<Arc<TextEmbedder>, String>,
    pub ocr_languages: String,
    pub ocr_every_seconds: f64,
}

impl Models {
    /// No models (programs that do not enrich, such as the ingest benchmark).
    pub fn none() -> Models {
        Models { text: Err("no text model configured".into()), ocr_languages: "eng".into(), ocr_every_seconds: 2.0 }
    }
}

/// OCR text of a picture or video, as one text (distinct lines in order of appearance).
fn read_text(ctx: &MediaContext, input: &MediaInput, master: &Path, technical: &TechnicalMetadata, cancel: &AtomicBool) -> Result<Option<String>, String> {
    if technical.width.is_none() || !matches!(input.kind, MediaKind::Image | MediaKind::Video) {
        return Ok(None);
    }
    let mut ocr = Ocr::new(&ctx.models.ocr_languages).map_err(|e| e.to_string())?;
    let text = match input.kind {
        MediaKind::Image => {
            let orientation = technical.exif.as_ref().and_then(|e| e.orientation);
            ocr_image(master, orientation, ctx.limits, &mut ocr).map_err(|e| e.to_string())?.text
        }
        _ => {
            let frames = ocr_video(master, ctx.models.ocr_every_seconds, &mut ocr, cancel).map_err(|e| e.to_string())?;
            let mut lines: Vec<String> = Vec::new();
            for f in frames {
                for line in f.text.lines() {
                    if !lines.iter().any(|l| l == line) {
                        lines.push(line.to_string());
                    }
                }
            }
            lines.join("\n")
        }
    };
    Ok(Some(text))
}

/// The stage's result, or why nothing at all came out (every part failed).
pub fn run(ctx: &MediaContext, input: &MediaInput, master: &Path, technical: &TechnicalMetadata, cancel: &AtomicBool) -> Result<WorkResult, String> {
    let id = input.id;
    let mut enrichment = Enrichment::default();
    let mut models = Vec::new();
    let mut problems = Vec::new();
    match read_text(ctx, input, master, technical, cancel) {
        Ok(Some(text)) => {
            enrichment.ocr_text = Some(text);
            models.push(format!("ocr: tesseract {} ({})", Ocr::version(), ctx.models.ocr_languages));
        }
        Ok(None) => {}
        Err(e) => problems.push(format!("OCR: {e}")),
    }
    match &ctx.models.text {
        Ok(embedder) => {
            let mut text = input.text.clone();
            if let Some(ocr) = enrichment.ocr_text.as_deref().filter(|t| !t.is_empty()) {
                text.push_str(". ");
                text.push_str(ocr);
            }
            if !text.trim().is_empty() {
                match embedder.embed(&[text.as_str()]) {
                    Ok(mut v) => {
                        enrichment.embedding = v.pop();
                        models.push(format!("embedding: {}", embedder.name));
                    }
                    Err(e) => problems.push(format!("embedding: {e}")),
                }
            }
        }
        Err(why) => problems.push(format!("embedding: {why}")),
    }
    if cancel.load(Ordering::Relaxed) {
        return Ok(WorkResult::StageCancelled { id, stage: Stage::Enrich, reason: "cancelled on request".into() });
    }
    if enrichment.is_empty() && !problems.is_empty() {
        return Err(problems.join("; "));
    }
    for p in &problems {
        tracing::warn!(asset = %id, problem = %p, "part of the enrichment failed");
    }
    Ok(WorkResult::Enriched { id, enrichment, models })
}
