//! Technical metadata of a master: container, duration, dimensions, frame rate, codecs, bit
//! rate, sample rate and channels through FFmpeg; for images, dimensions read from the header
//! first (so a decompression bomb is refused before anything decodes it) and EXIF.

use std::path::Path;

use acervo_catalog::{MediaKind, TechnicalMetadata};
use ffmpeg_next::{codec, media};

use crate::error::OperatorError;
use crate::exif::read_exif;
use crate::ffmpeg_init::open_input;

#[derive(Clone, Copy, Debug)]
pub struct ProbeLimits {
    pub max_image_pixels: u64,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        ProbeLimits { max_image_pixels: 256 << 20 }
    }
}

/// Width and height from the image header, refused when over the pixel limit.
pub fn image_dimensions(path: &Path, limits: ProbeLimits) -> Result<(u32, u32), OperatorError> {
    let size = imagesize::size(path).map_err(|e| OperatorError::ImageHeader {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 || width.saturating_mul(height) > limits.max_image_pixels {
        return Err(OperatorError::TooManyPixels {
            path: path.to_path_buf(),
            width,
            height,
            limit: limits.max_image_pixels,
        });
    }
    Ok((width as u32, height as u32))
}

fn codec_name(id: codec::Id) -> Option<String> {
    (id != codec::Id::None).then(|| id.name().to_string())
}

/// Probes `path`, a master of the given kind.
pub fn probe(
    path: &Path,
    kind: MediaKind,
    limits: ProbeLimits,
) -> Result<TechnicalMetadata, OperatorError> {
    if kind == MediaKind::Image {
        return probe_image(path, limits);
    }
    let input = open_input(path)?;
    let mut tech = TechnicalMetadata {
        container: Some(input.format().name().to_string()),
        ..Default::default()
    };
    if input.duration() > 0 {
        tech.duration_seconds =
            Some(input.duration() as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE));
    }
    if input.bit_rate() > 0 {
        tech.bitrate = Some(input.bit_rate() as u64);
    }
    if let Some(stream) = input.streams().best(media::Type::Video) {
        let params = stream.parameters();
        tech.video_codec = codec_name(params.id());
        let decoder = codec::context::Context::from_parameters(params)
            .and_then(|c| c.decoder().video())
            .map_err(|e| OperatorError::Decode {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        tech.width = Some(decoder.width()).filter(|w| *w > 0);
        tech.height = Some(decoder.height()).filter(|h| *h > 0);
        let rate = stream.avg_frame_rate();
        if rate.numerator() > 0 && rate.denominator() > 0 {
            tech.fps = Some(f64::from(rate));
        }
    }
    if let Some(stream) = input.streams().best(media::Type::Audio) {
        let params = stream.parameters();
        tech.audio_codec = codec_name(params.id());
        let decoder = codec::context::Context::from_parameters(params)
            .and_then(|c| c.decoder().audio())
            .map_err(|e| OperatorError::Decode {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        tech.sample_rate = Some(decoder.rate()).filter(|r| *r > 0);
        tech.channels = Some(u32::from(decoder.channels())).filter(|c| *c > 0);
    }
    if tech.video_codec.is_none() && tech.audio_codec.is_none() {
        return Err(OperatorError::NoMediaStream { path: path.to_path_buf() });
    }
    Ok(tech)
}

fn probe_image(path: &Path, limits: ProbeLimits) -> Result<TechnicalMetadata, OperatorError> {
    let (width, height) = image_dimensions(path, limits)?;
    let input = open_input(path)?;
    let codec =
        input.streams().best(media::Type::Video).and_then(|s| codec_name(s.parameters().id()));
    Ok(TechnicalMetadata {
        container: Some(input.format().name().to_string()),
        width: Some(width),
        height: Some(height),
        video_codec: codec,
        exif: read_exif(path),
        ..Default::default()
    })
}
