//! Rendition profiles (seed 001 §4.3.10): what the rendition stage makes of each kind of master.
//! Declared in configuration; each profile has a fingerprint of its canonical settings that goes
//! into its object key, so changing a profile makes new keys and old keys stay valid.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Bumped when the operator's output for unchanged settings changes (a bug fix in the encoder
/// chain): every fingerprint moves with it.
pub const OPERATOR_VERSION: u32 = 1;

/// An H.264 picture size and bitrate. The box is orientation-free: a portrait master fits its
/// long side to `long_side` and its short side to `short_side` ("1080p" means short side 1080).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoProfile {
    pub long_side: u32,
    pub short_side: u32,
    pub bitrate_kbps: u32,
    /// `high`, `main` or `baseline`.
    pub h264_profile: String,
    /// Also written as a progressive MP4 (the HLS-only rungs are not).
    pub mp4: bool,
    /// Move the MP4 index to the front so browsers can start playing before the download ends.
    pub faststart: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioTrackProfile {
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StillProfile {
    pub long_side: u32,
    pub short_side: u32,
    /// JPEG: FFmpeg's qscale (2 best … 31 worst). WebP: quality 0–100.
    pub quality: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoryboardProfile {
    pub every_seconds: f64,
    /// Past this many tiles the interval grows, so a long master still makes one sprite.
    pub max_tiles: u32,
    pub tile_width: u32,
    pub columns: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaveformProfile {
    pub width: u32,
    pub height: u32,
    /// Min/max pairs per second in the peaks JSON.
    pub peaks_per_second: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HlsProfile {
    pub segment_seconds: u32,
    /// Rungs by name of a video profile, highest first; each reuses that profile's encode.
    pub ladder: Vec<String>,
}

/// Every profile, as configured under `[renditions]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenditionProfiles {
    /// x264 preset of every video encode.
    pub x264_preset: String,
    /// Keyframe interval; segments of every rung cut on the same frames.
    pub gop_seconds: f64,
    /// Named video encodes (proxy, web, and HLS-only rungs).
    pub video: std::collections::BTreeMap<String, VideoProfile>,
    pub hls: HlsProfile,
    /// AAC of every video rendition.
    pub aac: AudioTrackProfile,
    pub poster: StillProfile,
    pub storyboard: StoryboardProfile,
    pub waveform: WaveformProfile,
    /// MP3 CBR preview of audio masters.
    pub mp3: AudioTrackProfile,
    /// PCM 24-bit broadcast WAV of audio masters (the bitrate is unused).
    pub wav: AudioTrackProfile,
    /// WebP sizes of image masters, named `webp-{long side}`.
    pub webp: Vec<StillProfile>,
    /// The display JPEG of image masters.
    pub display: StillProfile,
}

/// A short, stable digest of `settings` for object keys.
pub fn fingerprint<T: Serialize>(settings: &T) -> String {
    let canonical = serde_json::to_vec(&(OPERATOR_VERSION, settings)).unwrap_or_default();
    hex_prefix(&Sha256::digest(&canonical), 4)
}

fn hex_prefix(bytes: &[u8], n: usize) -> String {
    bytes.iter().take(n).map(|b| format!("{b:02x}")).collect()
}

/// A profile problem found when the configuration is loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("renditions.hls.ladder names {0:?}, which is not a [renditions.video] profile")]
    UnknownRung(String),
    #[error("renditions.video.{name}: {reason}")]
    BadVideo { name: String, reason: String },
    #[error("renditions: {0}")]
    Bad(String),
}

impl RenditionProfiles {
    pub fn validate(&self) -> Result<(), ProfileError> {
        for rung in &self.hls.ladder {
            if !self.video.contains_key(rung) {
                return Err(ProfileError::UnknownRung(rung.clone()));
            }
        }
        for (name, v) in &self.video {
            let bad =
                |reason: &str| ProfileError::BadVideo { name: name.clone(), reason: reason.into() };
            if v.long_side < 16 || v.short_side < 16 || v.short_side > v.long_side {
                return Err(bad(
                    "long_side and short_side must be at least 16, short_side at most long_side",
                ));
            }
            if !(50..=200_000).contains(&v.bitrate_kbps) {
                return Err(bad("bitrate_kbps must be within 50 and 200000"));
            }
            if !["high", "main", "baseline"].contains(&v.h264_profile.as_str()) {
                return Err(bad("h264_profile must be high, main or baseline"));
            }
        }
        if !(0.2..=20.0).contains(&self.gop_seconds) {
            return Err(ProfileError::Bad("gop_seconds must be within 0.2 and 20".into()));
        }
        if self.hls.segment_seconds == 0 || f64::from(self.hls.segment_seconds) < self.gop_seconds {
            return Err(ProfileError::Bad(
                "hls.segment_seconds must be at least gop_seconds".into(),
            ));
        }
        if self.storyboard.every_seconds <= 0.0
            || self.storyboard.columns == 0
            || self.storyboard.tile_width < 16
        {
            return Err(ProfileError::Bad(
                "storyboard needs every_seconds > 0, columns > 0, tile_width >= 16".into(),
            ));
        }
        if self.waveform.width == 0
            || self.waveform.height == 0
            || self.waveform.peaks_per_second == 0
        {
            return Err(ProfileError::Bad(
                "waveform width, height and peaks_per_second must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The settings that shape one named video encode's output.
    pub fn video_fingerprint(&self, name: &str) -> Option<String> {
        let v = self.video.get(name)?;
        Some(fingerprint(&(v, &self.x264_preset, self.gop_seconds, &self.aac)))
    }

    /// The settings that shape the HLS ladder: every rung's encode and the segmenting.
    pub fn hls_fingerprint(&self) -> String {
        let rungs: Vec<_> = self.hls.ladder.iter().map(|r| (r, self.video.get(r))).collect();
        fingerprint(&(&self.hls, rungs, &self.x264_preset, self.gop_seconds, &self.aac))
    }
}

impl RenditionProfiles {
    /// The renditions a master of `kind` gets, with each one's fingerprint. Waveforms only when
    /// the master has an audio track.
    pub fn outputs(
        &self,
        kind: crate::media_kind::MediaKind,
        has_audio: bool,
    ) -> Vec<(String, String)> {
        use crate::media_kind::MediaKind::*;
        let mut out = Vec::new();
        match kind {
            Video => {
                for (name, v) in &self.video {
                    if v.mp4
                        && let Some(fp) = self.video_fingerprint(name)
                    {
                        out.push((name.clone(), fp));
                    }
                }
                if !self.hls.ladder.is_empty() {
                    out.push(("hls".into(), self.hls_fingerprint()));
                }
                out.push(("poster".into(), fingerprint(&self.poster)));
                out.push(("storyboard".into(), fingerprint(&self.storyboard)));
            }
            Audio => {
                out.push(("preview".into(), fingerprint(&self.mp3)));
                out.push(("broadcast".into(), fingerprint(&self.wav)));
            }
            Image => {
                for w in &self.webp {
                    out.push((format!("webp-{}", w.long_side), fingerprint(w)));
                }
                out.push(("display".into(), fingerprint(&self.display)));
            }
            Document => {}
        }
        if has_audio && matches!(kind, Video | Audio) {
            out.push(("waveform".into(), fingerprint(&self.waveform)));
            out.push(("peaks".into(), fingerprint(&(&self.waveform, "peaks"))));
        }
        out
    }
}
