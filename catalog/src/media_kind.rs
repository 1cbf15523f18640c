//! What kind of media an asset is, decided from its content type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Video,
    Audio,
    Image,
    Document,
}

impl MediaKind {
    pub const ALL: [MediaKind; 4] =
        [MediaKind::Video, MediaKind::Audio, MediaKind::Image, MediaKind::Document];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Image => "image",
            MediaKind::Document => "document",
        }
    }

    /// The kind a MIME type denotes; anything not audio-visual is a document.
    pub fn from_mime(mime: &str) -> MediaKind {
        match mime.split('/').next().unwrap_or_default() {
            "video" => MediaKind::Video,
            "audio" => MediaKind::Audio,
            "image" => MediaKind::Image,
            _ => MediaKind::Document,
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown media kind {0:?} (expected video, audio, image or document)")]
pub struct UnknownMediaKind(pub String);

impl FromStr for MediaKind {
    type Err = UnknownMediaKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownMediaKind(s.to_string()))
    }
}
