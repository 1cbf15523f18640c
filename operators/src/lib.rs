//! Acervo's media operators. Each is a plain function over a local file that returns typed
//! results or a typed error saying what failed; the dataflow runs them on its bounded pool.
//!
//! - `probe`: technical metadata of video, audio and images (ffmpeg-next), EXIF for photos;
//! - `ocr`: text in images and video frames (tesseract 5, C API);
//! - `embed`: sentence embeddings (MiniLM in candle);
//! - `speech`: speech to timed text (Whisper in candle, CTranslate2 weights);
//! - `vision`: ImageNet labels for pictures and frames (MobileNetV2 in candle);
//! - `frames`: video frames sampled every N seconds and at scene changes for the picture models;
//! - `allocator`: the C allocator tuned for inference (large blocks reused, not remapped);
//! - `transcode`: every rendition of a master in one pass (see its module docs);
//! - `thumbnail`: a JPEG poster frame at 10 % of a video's duration, or a 300 px image thumbnail.

pub mod allocator;
mod bytes;
pub mod embed;
mod error;
pub mod exif;
mod ffmpeg_init;
pub mod frames;
pub mod ocr;
pub mod probe;
pub mod speech;
pub mod thumbnail;
pub mod transcode;
pub mod vision;

pub use error::OperatorError;
pub use probe::{ProbeLimits, probe};
pub use thumbnail::{Source as ThumbnailSource, THUMBNAIL_SIZE, Thumbnail, thumbnail};
