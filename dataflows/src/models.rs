//! The models the enrichment runs, loaded once per process, and their inference threads: the
//! label, CLIP and sentence models each run on one thread that takes whatever the enrichment
//! jobs of several assets have waiting (see `batcher`). Speech is not batched across assets: a
//! Whisper window is decoded token by token with its own cache, and one asset's windows already
//! keep the cores busy.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use acervo_catalog::EnrichPart;
use acervo_catalog::config::AiConfig;
use acervo_operators::embed::{ClipEmbedder, TextEmbedder, TextVectors};
use acervo_operators::ocr::Ocr;
use acervo_operators::speech::{Language, SpeechModel};
use acervo_operators::vision::Labeller;

use crate::batcher::{Batcher, InferenceError};

/// Pictures classified per model call.
const LABEL_BATCH: usize = 8;
/// Sentences embedded per model call.
const TEXT_BATCH: usize = 32;
/// Pictures CLIP embeds per call.
const CLIP_BATCH: usize = 8;

/// A model that is not there, and why: the reason for the server's log (it may name files on
/// the server) apart from what an asset's stage shows.
#[derive(Clone, Debug, thiserror::Error)]
#[error("the {part} model is not loaded")]
pub struct ModelUnavailable {
    pub part: EnrichPart,
    /// Why, for the log.
    pub why: String,
}

/// The models the stage runs. Each is there, or says why not.
#[derive(Clone)]
pub struct Models {
    /// What embeds text: the sentence model, or CLIP's text tower when CLIP is on.
    pub text: Result<Arc<TextVectors>, ModelUnavailable>,
    /// CLIP, when configured: its image tower embeds photos and video frames.
    pub clip: Option<Arc<ClipEmbedder>>,
    pub speech: Result<Arc<SpeechModel>, ModelUnavailable>,
    pub labels: Result<Arc<Labeller>, ModelUnavailable>,
    pub config: AiConfig,
}

impl Models {
    /// No models (programs that do not enrich, such as the ingest benchmark).
    pub fn none(config: AiConfig) -> Models {
        let off = |part| ModelUnavailable { part, why: "not loaded".into() };
        Models {
            clip: None,
            text: Err(off(EnrichPart::Embedding)),
            speech: Err(off(EnrichPart::Speech)),
            labels: Err(off(EnrichPart::Labels)),
            config,
        }
    }

    /// Loads every configured model; one that is missing or broken is logged and left out.
    /// Each is named `name@version`, the version being the start of its weights' SHA-256, so
    /// results say exactly which weights made them and a reindex finds what is out of date.
    pub fn load(config: &AiConfig, embedding_dim: usize) -> Models {
        let clip = config.clip_model_dir().and_then(|dir| {
            let id = model_id(&config.clip_model, &dir.join("model.safetensors"));
            match ClipEmbedder::load(&dir, &id) {
                Ok(m) if m.dim() == embedding_dim => Some(Arc::new(m)),
                Ok(m) => {
                    let dim = m.dim();
                    tracing::warn!(
                        dim,
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
        let missing = |part, why: String| ModelUnavailable { part, why };
        let text = match &clip {
            Some(c) => Ok(Arc::new(TextVectors::Clip(Arc::clone(c)))),
            None => {
                let dir = config.text_model_dir();
                let id = model_id(&config.text_model, &dir.join("model.safetensors"));
                match TextEmbedder::load(&dir, &id) {
                    Ok(m) if m.dim() == embedding_dim => {
                        Ok(Arc::new(TextVectors::Sentence(Box::new(m))))
                    }
                    Ok(m) => Err(missing(
                        EnrichPart::Embedding,
                        format!(
                            "the text model makes {}-d vectors but search.embedding_dim is {embedding_dim}",
                            m.dim()
                        ),
                    )),
                    Err(e) => Err(missing(EnrichPart::Embedding, e.to_string())),
                }
            }
        };
        let speech = match config.speech_model_dir() {
            None => Err(missing(
                EnrichPart::Speech,
                "turned off (ai.speech_model_path is empty)".into(),
            )),
            Some(dir) => {
                SpeechModel::load(&dir, &model_id(&config.speech_model, &dir.join("model.bin")))
                    .map(Arc::new)
                    .map_err(|e| missing(EnrichPart::Speech, e.to_string()))
            }
        };
        let labels = match config.label_model_file() {
            None => {
                Err(missing(EnrichPart::Labels, "turned off (ai.label_model_path is empty)".into()))
            }
            Some(file) => Labeller::load(&file, &model_id(&config.label_model, &file))
                .map(Arc::new)
                .map_err(|e| missing(EnrichPart::Labels, e.to_string())),
        };
        for r in [text.as_ref().err(), speech.as_ref().err(), labels.as_ref().err()]
            .into_iter()
            .flatten()
        {
            tracing::warn!(part = %r.part, why = %r.why, "no model: that part of the enrichment is skipped");
        }
        Models { text, clip, speech, labels, config: config.clone() }
    }

    /// The model each enrichment part is made with now (`name@version`), as recorded on the
    /// assets it enriches.
    pub fn current(&self) -> BTreeMap<EnrichPart, String> {
        let mut out = BTreeMap::new();
        out.insert(EnrichPart::Ocr, self.ocr_model());
        if let Ok(m) = &self.text {
            out.insert(EnrichPart::Embedding, m.name().to_string());
        }
        if let Ok(m) = &self.speech {
            out.insert(EnrichPart::Speech, m.name.clone());
        }
        if let Ok(m) = &self.labels {
            out.insert(EnrichPart::Labels, m.name.clone());
        }
        out
    }

    /// Tesseract's version and languages: what OCR text is made with.
    pub fn ocr_model(&self) -> String {
        format!("tesseract {} ({})", Ocr::version(), self.config.ocr_languages)
    }

    pub fn language(&self) -> Language {
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

/// A picture's classes, best first, with their probabilities.
type Ranked = Vec<(usize, f32)>;

/// The label, CLIP and sentence models behind their batchers.
#[derive(Clone, Default)]
pub struct Inference {
    labels: Option<Batcher<Vec<u8>, Ranked>>,
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
            let classify =
                move |pictures: &[Vec<u8>]| l.classify(pictures, k).map_err(|e| e.to_string());
            match Batcher::spawn("labels", LABEL_BATCH, Some(h), classify) {
                Ok(b) => out.labels = Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the label model thread; labels are skipped")
                }
            }
        }
        if let Some(c) = &models.clip {
            let c = Arc::clone(c);
            let h = batch_sizes.with_label_values(&["clip"]);
            let embed =
                move |pictures: &[Vec<u8>]| c.embed_images(pictures).map_err(|e| e.to_string());
            match Batcher::spawn("clip", CLIP_BATCH, Some(h), embed) {
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
    pub fn classify(
        &self,
        pictures: Vec<Vec<u8>>,
        cancel: &AtomicBool,
    ) -> Result<Vec<Ranked>, InferenceError> {
        self.labels
            .as_ref()
            .ok_or(InferenceError::NotRunning { model: "labels" })?
            .run_all(pictures, cancel)
    }

    /// The CLIP vector of each picture.
    pub fn embed_pictures(
        &self,
        pictures: Vec<Vec<u8>>,
        cancel: &AtomicBool,
    ) -> Result<Vec<Vec<f32>>, InferenceError> {
        self.pictures
            .as_ref()
            .ok_or(InferenceError::NotRunning { model: "clip" })?
            .run_all(pictures, cancel)
    }

    /// One vector per text.
    pub fn embed(
        &self,
        texts: Vec<String>,
        cancel: &AtomicBool,
    ) -> Result<Vec<Vec<f32>>, InferenceError> {
        self.text
            .as_ref()
            .ok_or(InferenceError::NotRunning { model: "embedding" })?
            .run_all(texts, cancel)
    }
}
