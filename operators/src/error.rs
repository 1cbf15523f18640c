//! The operators' error type: what failed, on which file, and why. Its `Display` names the
//! local files (for the server's logs); `for_user` says the same naming the asset's file as its
//! users know it, never a path on the server. Each error classifies itself: a local write that
//! failed may succeed on another attempt, anything about the master itself will not.

use std::fmt;
use std::path::{Path, PathBuf};

use acervo_catalog::{Classify, ErrorKind};

#[derive(Debug)]
pub enum OperatorError {
    Open {
        path: PathBuf,
        reason: String,
    },
    NoMediaStream {
        path: PathBuf,
    },
    NoPicture {
        path: PathBuf,
    },
    TooManyPixels {
        path: PathBuf,
        width: u64,
        height: u64,
        limit: u64,
    },
    ImageHeader {
        path: PathBuf,
        reason: String,
    },
    Decode {
        path: PathBuf,
        reason: String,
    },
    Encode {
        path: PathBuf,
        reason: String,
    },
    /// Making one output (`what`: `web encode`, `proxy/output.mp4`) of the master failed.
    Transcode {
        path: PathBuf,
        what: String,
        reason: String,
    },
    /// A local file (in the work folder) could not be written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Cancelled,
    Ocr {
        reason: String,
    },
}

impl OperatorError {
    /// Whether trying again may succeed: a local write that failed (disk full, I/O error).
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    /// The message for the asset's users: the master is called `file` (its uploaded name),
    /// local work files by their output name.
    pub fn for_user(&self, file: &str) -> String {
        self.describe(&file, &|p: &Path| output_name(p))
    }

    fn describe(&self, master: &dyn fmt::Display, local: &dyn Fn(&Path) -> String) -> String {
        match self {
            OperatorError::Open { reason, .. } => {
                format!("cannot open {master} as media: {reason}")
            }
            OperatorError::NoMediaStream { .. } => format!("{master} has no audio or video stream"),
            OperatorError::NoPicture { .. } => {
                format!("{master} has no picture to take a thumbnail from")
            }
            OperatorError::TooManyPixels { width, height, limit, .. } => {
                format!("image {master} is {width}x{height}, more than the {limit} pixels allowed")
            }
            OperatorError::ImageHeader { reason, .. } => {
                format!("cannot read the image header of {master}: {reason}")
            }
            OperatorError::Decode { reason, .. } => format!("decoding {master} failed: {reason}"),
            OperatorError::Encode { reason, .. } => {
                format!("encoding the thumbnail of {master} failed: {reason}")
            }
            OperatorError::Transcode { what, reason, .. } => {
                format!("making the {what} of {master} failed: {reason}")
            }
            OperatorError::Io { path, source } => format!("writing {}: {source}", local(path)),
            OperatorError::Cancelled => "cancelled".to_string(),
            OperatorError::Ocr { reason } => format!("OCR: {reason}"),
        }
    }

    fn master_path(&self) -> Option<&Path> {
        match self {
            OperatorError::Open { path, .. }
            | OperatorError::NoMediaStream { path }
            | OperatorError::NoPicture { path }
            | OperatorError::TooManyPixels { path, .. }
            | OperatorError::ImageHeader { path, .. }
            | OperatorError::Decode { path, .. }
            | OperatorError::Encode { path, .. }
            | OperatorError::Transcode { path, .. } => Some(path),
            OperatorError::Io { .. } | OperatorError::Cancelled | OperatorError::Ocr { .. } => None,
        }
    }
}

/// A work file as its output is called: its last two components (`web/output.mp4`).
pub(crate) fn output_name(path: &Path) -> String {
    let parts: Vec<_> = path.components().rev().take(2).collect();
    parts
        .into_iter()
        .rev()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

impl fmt::Display for OperatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let master = self.master_path().map(|p| p.display().to_string()).unwrap_or_default();
        f.write_str(&self.describe(&master, &|p: &Path| p.display().to_string()))
    }
}

impl std::error::Error for OperatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OperatorError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Classify for OperatorError {
    fn kind(&self) -> ErrorKind {
        match self {
            OperatorError::Io { .. } => ErrorKind::Transient,
            OperatorError::Cancelled => ErrorKind::Cancelled,
            _ => ErrorKind::Permanent,
        }
    }
}
