//! What kind of media an asset is, decided from its content type.

crate::names! {
    pub enum MediaKind / UnknownMediaKind ("media kind") {
        Video = "video",
        Audio = "audio",
        Image = "image",
        Document = "document",
    }
}

impl MediaKind {
    /// The kind a MIME type denotes; anything not audio-visual is a document.
    pub fn from_mime(mime: &str) -> MediaKind {
        match mime.split('/').next().unwrap_or_default() {
            "video" => MediaKind::Video,
            "audio" => MediaKind::Audio,
            "image" => MediaKind::Image,
            _ => MediaKind::Document,
        }
    }

    /// Whether the kind has pictures (stills or frames) the picture models read.
    pub fn has_pictures(self) -> bool {
        matches!(self, MediaKind::Image | MediaKind::Video)
    }
}

#[cfg(test)]
mod tests {
    use super::MediaKind;

    #[test]
    fn the_kind_follows_the_mime_type() {
        assert_eq!(MediaKind::from_mime("video/mp4"), MediaKind::Video);
        assert_eq!(MediaKind::from_mime("audio/x-wav"), MediaKind::Audio);
        assert_eq!(MediaKind::from_mime("image/jpeg"), MediaKind::Image);
        assert_eq!(MediaKind::from_mime("application/pdf"), MediaKind::Document);
        assert_eq!(MediaKind::from_mime(""), MediaKind::Document);
    }
}
