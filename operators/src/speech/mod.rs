//! Speech to text with Whisper on CPU (candle), from CTranslate2 model folders (faster-whisper's
//! format, as the registry packages ship them):
//!
//! - `ct2`: the CTranslate2 `model.bin` reader;
//! - `mel`: the log-mel spectrogram Whisper listens to;
//! - `whisper`: the network, with cached keys/values while decoding;
//! - `kernels`: the one-token decoder's half-precision, multi-core CPU kernels;
//! - `transcribe`: 30 s windows, greedy decoding with timestamp rules, segments, language;
//! - `audio`: a master's sound at 16 kHz mono;
//! - `score`: word error rate against a known script.

pub mod audio;
pub mod ct2;
mod kernels;
pub mod mel;
pub mod score;
pub mod transcribe;
pub(crate) mod whisper;

pub use audio::decode_16k_mono;
pub use transcribe::{Language, Segment, SpeechError, SpeechModel, Transcript};
