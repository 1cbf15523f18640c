//! The parts of the enrichment stage, each made by one model and named with it on the asset
//! (`ai.models`), and the one rule for which parts apply to which media.

use crate::media_kind::MediaKind;
use crate::technical::TechnicalMetadata;

crate::names! {
    pub enum EnrichPart / UnknownEnrichPart ("enrichment part") {
        /// Text read in an image or in sampled video frames.
        Ocr = "ocr",
        /// What the picture model sees in an image or in sampled video frames.
        Labels = "labels",
        /// The timed transcript of the sound.
        Speech = "speech",
        /// The asset's vector (and vectors at moments).
        Embedding = "embedding",
    }
}

impl EnrichPart {
    /// Whether the part applies to an asset of `kind` with this technical metadata: pictures
    /// are read in images and videos, speech is heard in audio and in videos with a sound
    /// track, and every enriched asset gets a vector.
    pub fn applies(self, kind: MediaKind, technical: Option<&TechnicalMetadata>) -> bool {
        match self {
            EnrichPart::Ocr | EnrichPart::Labels => kind.has_pictures(),
            EnrichPart::Speech => {
                kind == MediaKind::Audio
                    || (kind == MediaKind::Video
                        && technical.is_some_and(|t| t.audio_codec.is_some()))
            }
            EnrichPart::Embedding => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EnrichPart::{self, *};
    use crate::{MediaKind, TechnicalMetadata};

    fn with_sound(sound: bool) -> TechnicalMetadata {
        TechnicalMetadata { audio_codec: sound.then(|| "aac".to_string()), ..Default::default() }
    }

    #[test]
    fn pictures_are_read_in_images_and_videos_and_speech_heard_where_there_is_sound() {
        let applies = |p: EnrichPart, k, sound| p.applies(k, Some(&with_sound(sound)));
        assert!(applies(Ocr, MediaKind::Image, false) && applies(Labels, MediaKind::Video, true));
        assert!(!applies(Ocr, MediaKind::Audio, true) && !applies(Labels, MediaKind::Audio, true));
        assert!(
            applies(Speech, MediaKind::Video, true) && !applies(Speech, MediaKind::Video, false)
        );
        assert!(applies(Speech, MediaKind::Audio, false), "an audio asset is sound");
        assert!(!applies(Speech, MediaKind::Image, false));
        for p in [Ocr, Labels, Embedding] {
            assert!(p.applies(MediaKind::Video, None), "{p} of a video before its probe");
        }
        assert!(
            !Speech.applies(MediaKind::Video, None),
            "not known to have sound before the probe"
        );
    }

    #[test]
    fn parts_keep_their_names_in_json_maps() {
        let m: std::collections::BTreeMap<EnrichPart, String> =
            [(Ocr, "tesseract".to_string())].into();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"ocr":"tesseract"}"#);
    }
}
