//! Speech to timed text: the audio is cut into 30 s windows; each is encoded once and decoded
//! greedily with Whisper's timestamp rules (OpenAI's `ApplyTimestampRules`: timestamps come in
//! pairs, never go back, the first token is a timestamp within the first second, and a
//! timestamp is forced when timestamps together are likelier than any word). Pairs of
//! timestamps close segments; the next window starts at the last closed one. A window that is
//! silent, or that the model judges to hold no speech, gives no segments.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Device, Tensor};
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::ct2;
use super::mel::{HOP, MelSpectrogram, SAMPLE_RATE, WINDOW_FRAMES};
use super::whisper::{DecoderState, Whisper};

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("speech model folder {dir}: {what}: {reason}")]
    Model { dir: PathBuf, what: &'static str, reason: String },
    #[error("running the speech model: {0}")]
    Inference(String),
    #[error("cancelled")]
    Cancelled,
}

/// One timed piece of speech.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// ISO 639-1 code the model detected (or was told), `None` for English-only models.
    pub language: Option<String>,
    pub segments: Vec<Segment>,
}

/// Which language to transcribe in.
#[derive(Clone, Debug, PartialEq)]
pub enum Language {
    Detect,
    Fixed(String),
}

/// The parts of CTranslate2's Whisper `config.json` the decoder uses.
#[derive(Deserialize)]
struct Ct2Config {
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
    #[serde(default)]
    lang_ids: Vec<u32>,
}

struct Specials {
    eot: u32,
    sot: u32,
    transcribe: u32,
    no_speech: Option<u32>,
    timestamp_begin: u32,
    /// (token, language code) for multilingual models.
    languages: Vec<(u32, String)>,
}

pub struct SpeechModel {
    model: Whisper,
    tokenizer: Tokenizer,
    mel: MelSpectrogram,
    specials: Specials,
    suppress: Vec<u32>,
    suppress_begin: Vec<u32>,
    device: Device,
    /// Model name and version, recorded beside every transcript it makes.
    pub name: String,
}

/// Tokens a window may hold before decoding stops (OpenAI's `sample_len`: half the context).
fn max_tokens(text_ctx: usize) -> usize {
    text_ctx / 2
}
/// A window whose loudest sample is below this holds no speech (about -74 dBFS).
const SILENCE: f32 = 2e-4;
/// OpenAI's no-speech rule: skip a window when `<|nospeech|>` is this likely and the decoded
/// text is unlikely on average.
const NO_SPEECH_PROB: f32 = 0.6;
const LOGPROB_FLOOR: f32 = -1.0;
/// The first timestamp must fall within this many seconds of the window's start.
const MAX_INITIAL_TIMESTAMP: f32 = 1.0;
/// Seconds per timestamp token, and per encoder position.
const TIME_PRECISION: f32 = 0.02;

/// Whisper's segment times are coarse (often whole seconds, and a segment's start takes in
/// the silence before it). Each segment is narrowed to where its window actually has sound:
/// from the first to the last 10 ms frame within 40 dB of the loudest, with a little margin,
/// so a jump to a segment lands on the first word. Segments never grow.
fn trim_to_sound(segments: &mut [Segment], samples: &[f32]) {
    const FRAME: usize = 160;
    const MARGIN_MS: u64 = 100;
    let level: Vec<f32> = samples
        .chunks(FRAME)
        .map(|c| 10.0 * (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).max(1e-12).log10())
        .collect();
    let peak = level.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let floor = (peak - 40.0).max(-60.0);
    let frame_ms = (FRAME * 1000 / SAMPLE_RATE) as u64;
    for s in segments {
        let (a, b) =
            ((s.start_ms / frame_ms) as usize, ((s.end_ms / frame_ms) as usize).min(level.len()));
        let Some(range) = level.get(a..b) else {
            continue;
        };
        let (Some(first), Some(last)) =
            (range.iter().position(|l| *l >= floor), range.iter().rposition(|l| *l >= floor))
        else {
            continue;
        };
        let start = ((a + first) as u64 * frame_ms).saturating_sub(MARGIN_MS).max(s.start_ms);
        let end = ((a + last + 1) as u64 * frame_ms + MARGIN_MS).min(s.end_ms);
        if start < end {
            s.start_ms = start;
            s.end_ms = end;
        }
    }
}

impl SpeechModel {
    /// Loads a CTranslate2 Whisper model folder (`model.bin`, `config.json`, `tokenizer.json`).
    pub fn load(dir: &Path, name: &str) -> Result<SpeechModel, SpeechError> {
        let fail = |what: &'static str| {
            move |reason: String| SpeechError::Model { dir: dir.to_path_buf(), what, reason }
        };
        let device = Device::Cpu;
        let weights = ct2::read(&dir.join("model.bin"), &device)
            .map_err(|e| fail("model.bin")(e.to_string()))?;
        let model = Whisper::load(&weights).map_err(fail("model.bin"))?;
        drop(weights);
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| fail("tokenizer.json")(e.to_string()))?;
        let config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| fail("config.json")(e.to_string()))?;
        let config: Ct2Config =
            serde_json::from_str(&config).map_err(|e| fail("config.json")(e.to_string()))?;
        let id = |t: &str| {
            tokenizer.token_to_id(t).ok_or_else(|| fail("tokenizer.json")(format!("no token {t}")))
        };
        let no_timestamps = id("<|notimestamps|>")?;
        let multilingual = model.dims.n_vocab >= 51865;
        let languages = if multilingual {
            config
                .lang_ids
                .iter()
                .filter_map(|&t| {
                    tokenizer
                        .id_to_token(t)
                        .map(|s| (t, s.trim_start_matches("<|").trim_end_matches("|>").to_string()))
                })
                .collect()
        } else {
            Vec::new()
        };
        let specials = Specials {
            eot: id("<|endoftext|>")?,
            sot: id("<|startoftranscript|>")?,
            transcribe: id("<|transcribe|>")?,
            no_speech: tokenizer
                .token_to_id("<|nospeech|>")
                .or_else(|| tokenizer.token_to_id("<|nocaptions|>")),
            timestamp_begin: no_timestamps + 1,
            languages,
        };
        if specials.timestamp_begin as usize >= model.dims.n_vocab {
            return Err(fail("tokenizer.json")(
                "its special tokens do not match the model's vocabulary".into(),
            ));
        }
        let mel = MelSpectrogram::new(model.dims.n_mels);
        Ok(SpeechModel {
            model,
            tokenizer,
            mel,
            specials,
            suppress: config.suppress_ids,
            suppress_begin: config.suppress_ids_begin,
            device,
            name: name.to_string(),
        })
    }

    pub fn multilingual(&self) -> bool {
        !self.specials.languages.is_empty()
    }

    /// Transcribes 16 kHz mono samples. `progress` gets the fraction done after each window.
    pub fn transcribe(
        &self,
        samples: &[f32],
        language: &Language,
        cancel: &AtomicBool,
        progress: &dyn Fn(f64),
    ) -> Result<Transcript, SpeechError> {
        let inference = |e: String| SpeechError::Inference(e);
        let content_frames = samples.len() / HOP;
        // 30 s of zeros after the sound, so every window has its full 3000 frames.
        let mut padded = samples.to_vec();
        padded.resize(samples.len() + WINDOW_FRAMES * HOP, 0.0);
        let (mel, frames) = self.mel.compute(&padded);
        let n_mels = self.mel.n_mels();
        let mut segments = Vec::new();
        let mut detected: Option<String> = match language {
            Language::Fixed(code) if self.multilingual() => Some(code.clone()),
            _ => None,
        };
        let mut seek = 0usize;
        while seek < content_frames {
            if cancel.load(Ordering::Relaxed) {
                return Err(SpeechError::Cancelled);
            }
            let span = (content_frames - seek).min(WINDOW_FRAMES);
            let window_start = seek * HOP;
            let window_end = ((seek + span) * HOP).min(samples.len());
            let loudest =
                samples[window_start..window_end].iter().fold(0f32, |m, s| m.max(s.abs()));
            if loudest < SILENCE {
                seek += span;
                progress(seek as f64 / content_frames as f64);
                continue;
            }
            let mut window = Vec::with_capacity(n_mels * WINDOW_FRAMES);
            for m in 0..n_mels {
                let row = &mel[m * frames..(m + 1) * frames];
                window.extend_from_slice(&row[seek..seek + WINDOW_FRAMES]);
            }
            let input = Tensor::from_vec(window, (1, n_mels, WINDOW_FRAMES), &self.device)
                .map_err(|e| inference(e.to_string()))?;
            let audio = self.model.encode(&input).map_err(inference)?;
            // The language is read from the first token after start-of-transcript; that decoder
            // memory then goes on to decode the window (no second pass over the audio).
            let mut started = None;
            if self.multilingual() && detected.is_none() {
                let (language, state) = self.detect_language(&audio)?;
                detected = Some(language);
                started = Some(state);
            }
            let lang_token = detected.as_ref().and_then(|code| {
                self.specials.languages.iter().find(|(_, c)| c == code).map(|(t, _)| *t)
            });
            let decoded = self.decode_window(&audio, started, lang_token, cancel)?;
            let offset = seek as f32 * HOP as f32 / SAMPLE_RATE as f32;
            let advance = match decoded {
                Some(tokens) => self.segments_of(&tokens, offset, span, &mut segments),
                None => span,
            };
            seek += advance.max(1);
            progress((seek as f64 / content_frames as f64).min(1.0));
        }
        trim_to_sound(&mut segments, samples);
        let language = if self.multilingual() { detected } else { None };
        Ok(Transcript { language, segments })
    }

    /// The likeliest language, and the decoder memory that has read start-of-transcript.
    fn detect_language(&self, audio: &Tensor) -> Result<(String, DecoderState), SpeechError> {
        let mut state = self.model.start(audio).map_err(SpeechError::Inference)?;
        let logprobs =
            self.model.step(&mut state, &[self.specials.sot]).map_err(SpeechError::Inference)?;
        let best = self
            .specials
            .languages
            .iter()
            .max_by(|a, b| logprobs[a.0 as usize].total_cmp(&logprobs[b.0 as usize]));
        Ok((best.map_or_else(|| "en".to_string(), |(_, code)| code.clone()), state))
    }

    /// The tokens of one window (text and timestamps, no prompt), or `None` when it holds no speech.
    fn decode_window(
        &self,
        audio: &Tensor,
        started: Option<DecoderState>,
        language: Option<u32>,
        cancel: &AtomicBool,
    ) -> Result<Option<Vec<u32>>, SpeechError> {
        let s = &self.specials;
        // A memory that has already read start-of-transcript continues from there.
        let (mut state, mut prompt) = match started {
            Some(state) => (state, Vec::new()),
            None => (self.model.start(audio).map_err(SpeechError::Inference)?, vec![s.sot]),
        };
        if let Some(lang) = language {
            prompt.push(lang);
            prompt.push(s.transcribe);
        }
        if prompt.is_empty() {
            // Nothing left to feed (no language token): read start-of-transcript afresh.
            state = self.model.start(audio).map_err(SpeechError::Inference)?;
            prompt.push(s.sot);
        }
        let mut logprobs = self.model.step(&mut state, &prompt).map_err(SpeechError::Inference)?;
        let no_speech =
            s.no_speech.and_then(|t| logprobs.get(t as usize)).map_or(0.0, |lp| lp.exp());
        let mut tokens: Vec<u32> = Vec::new();
        let mut sum_logprob = 0f32;
        let limit =
            max_tokens(self.model.dims.text_ctx).min(self.model.dims.text_ctx - prompt.len());
        while tokens.len() < limit {
            if cancel.load(Ordering::Relaxed) {
                return Err(SpeechError::Cancelled);
            }
            self.apply_rules(&mut logprobs, &tokens);
            let (next, lp) =
                logprobs.iter().enumerate().fold((s.eot, f32::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 { (i as u32, v) } else { best }
                });
            sum_logprob += if lp.is_finite() { lp } else { 0.0 };
            if next == s.eot || !lp.is_finite() {
                break;
            }
            tokens.push(next);
            if state.len + 1 > self.model.dims.text_ctx {
                break;
            }
            logprobs = self.model.step(&mut state, &[next]).map_err(SpeechError::Inference)?;
        }
        let avg = sum_logprob / (tokens.len() + 1) as f32;
        if no_speech > NO_SPEECH_PROB && avg < LOGPROB_FLOOR {
            return Ok(None);
        }
        Ok(Some(tokens))
    }

    /// Whisper's logit filters for the next token after `tokens`, applied to log-probabilities
    /// (masking is the same either way: only the order of the remaining values matters).
    fn apply_rules(&self, lp: &mut [f32], tokens: &[u32]) {
        let s = &self.specials;
        let ts = s.timestamp_begin as usize;
        let n = lp.len();
        let ninf = f32::NEG_INFINITY;
        for &t in &self.suppress {
            if let Some(v) = lp.get_mut(t as usize) {
                *v = ninf;
            }
        }
        // Control tokens are never text: start-of-transcript, languages, tasks, no-timestamps.
        for v in &mut lp[(s.eot as usize + 1).min(n)..ts.min(n)] {
            *v = ninf;
        }
        if tokens.is_empty() {
            for &t in &self.suppress_begin {
                if let Some(v) = lp.get_mut(t as usize) {
                    *v = ninf;
                }
            }
            // Start with a timestamp, within the first second.
            for v in &mut lp[..ts.min(n)] {
                *v = ninf;
            }
            let last_allowed = ts + (MAX_INITIAL_TIMESTAMP / TIME_PRECISION).round() as usize;
            for v in lp.iter_mut().skip(last_allowed + 1) {
                *v = ninf;
            }
            return;
        }
        let is_ts = |t: u32| t as usize >= ts;
        let last_ts = tokens.last().is_some_and(|&t| is_ts(t));
        let before_ts = tokens.len() < 2 || is_ts(tokens[tokens.len() - 2]);
        if last_ts {
            if before_ts {
                for v in &mut lp[ts.min(n)..] {
                    *v = ninf;
                }
            } else {
                for v in &mut lp[..(s.eot as usize).min(n)] {
                    *v = ninf;
                }
            }
        }
        // Timestamps never go back, and a segment has a length.
        if let Some(&latest) = tokens.iter().rev().find(|&&t| is_ts(t)) {
            let upto = if last_ts && !before_ts { latest as usize } else { latest as usize + 1 };
            for v in &mut lp[ts.min(n)..upto.min(n)] {
                *v = ninf;
            }
        }
        // Force a timestamp when timestamps together outweigh every text token.
        let ts_part = &lp[ts.min(n)..];
        let top = ts_part.iter().copied().fold(ninf, f32::max);
        if top.is_finite() {
            let ts_total = top + ts_part.iter().map(|v| (v - top).exp()).sum::<f32>().ln();
            let text_best = lp[..ts.min(n)].iter().copied().fold(ninf, f32::max);
            if ts_total > text_best {
                for v in &mut lp[..ts.min(n)] {
                    *v = ninf;
                }
            }
        }
    }

    /// Adds the window's segments (times offset by the window's start) and returns how many
    /// frames to advance: the whole window when it ended on a closed segment, otherwise up to
    /// the last timestamp, so an unfinished sentence is decoded again in the next window.
    fn segments_of(
        &self,
        tokens: &[u32],
        offset: f32,
        span: usize,
        out: &mut Vec<Segment>,
    ) -> usize {
        let ts = self.specials.timestamp_begin;
        let eot = self.specials.eot;
        let is_ts = |t: u32| t >= ts;
        let time = |t: u32| (t - ts) as f32 * TIME_PRECISION;
        let mut push = |start: f32, end: f32, text_tokens: &[u32]| {
            let ids: Vec<u32> = text_tokens.iter().copied().filter(|&t| t < eot).collect();
            let text = self.tokenizer.decode(&ids, true).unwrap_or_default().trim().to_string();
            if !text.is_empty() {
                let start_ms = ((offset + start) * 1000.0).round() as u64;
                let end_ms = (((offset + end) * 1000.0).round() as u64).max(start_ms);
                out.push(Segment { start_ms, end_ms, text });
            }
        };
        let single_ending = tokens.len() >= 2
            && !is_ts(tokens[tokens.len() - 2])
            && is_ts(tokens[tokens.len() - 1]);
        let mut cuts: Vec<usize> =
            (1..tokens.len()).filter(|&i| is_ts(tokens[i - 1]) && is_ts(tokens[i])).collect();
        if cuts.is_empty() {
            // No closed segment: one segment for the window, up to its last timestamp if any.
            let end = tokens
                .iter()
                .rev()
                .find(|&&t| is_ts(t) && t != ts)
                .map_or(span as f32 * HOP as f32 / SAMPLE_RATE as f32, |&t| time(t));
            let start = tokens.first().filter(|&&t| is_ts(t)).map_or(0.0, |&t| time(t));
            push(start, end, tokens);
            return span;
        }
        if single_ending {
            cuts.push(tokens.len());
        }
        let mut from = 0;
        for &cut in &cuts {
            let piece = &tokens[from..cut];
            if let (Some(&first), Some(&last)) = (piece.first(), piece.last()) {
                let start = if is_ts(first) { time(first) } else { 0.0 };
                let end = if is_ts(last) { time(last) } else { start };
                push(start, end, piece);
            }
            from = cut;
        }
        if single_ending {
            span
        } else {
            // Resume at the last closing timestamp (two frames per timestamp step).
            let last = tokens[from - 1];
            ((time(last) / TIME_PRECISION).round() as usize * 2).clamp(1, span)
        }
    }
}
