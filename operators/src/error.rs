//! The operators' error type: what failed, on which file, and why, in words an editor can read
//! on a failed asset.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("cannot open {path} as media: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path} has no audio or video stream")]
    NoMediaStream { path: PathBuf },
    #[error("{path} has no picture to take a thumbnail from")]
    NoPicture { path: PathBuf },
    #[error("image {path} is {width}x{height}, more than the {limit} pixels allowed")]
    TooManyPixels { path: PathBuf, width: u64, height: u64, limit: u64 },
    #[error("cannot read the image header of {path}: {reason}")]
    ImageHeader { path: PathBuf, reason: String },
    #[error("decoding {path} failed: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("encoding the thumbnail of {path} failed: {reason}")]
    Encode { path: PathBuf, reason: String },
    #[error("making the {what} of {path} failed: {reason}")]
    Transcode { path: PathBuf, what: String, reason: String },
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cancelled")]
    Cancelled,
    #[error("OCR: {reason}")]
    Ocr { reason: String },
}

impl OperatorError {
    /// Whether trying again may succeed: a local write that failed (disk full, I/O error).
    /// Everything about the master itself (cannot open, cannot decode) is permanent.
    pub fn is_transient(&self) -> bool {
        matches!(self, OperatorError::Io { .. })
    }
}
