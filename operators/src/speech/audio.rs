//! A master's sound as the speech model hears it: the best audio stream decoded and resampled
//! to 16 kHz mono f32.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use ffmpeg_next::util::frame::audio::Audio as AudioFrame;
use ffmpeg_next::{codec, media};

use crate::OperatorError;
use crate::ffmpeg_init;
use crate::transcode::{Resampled, normalize_layout};

use super::mel::SAMPLE_RATE;

/// The samples of `path`'s audio, or `None` when it has no audio stream.
pub fn decode_16k_mono(
    path: &Path,
    cancel: &AtomicBool,
) -> Result<Option<Vec<f32>>, OperatorError> {
    let decode_err = |e: ffmpeg_next::Error| OperatorError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut input = ffmpeg_init::open_input(path)?;
    let Some(stream) = input.streams().best(media::Type::Audio) else {
        return Ok(None);
    };
    let index = stream.index();
    let mut decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().audio())
        .map_err(decode_err)?;
    let mut out = Resampled::new(SAMPLE_RATE as u32, 1);
    let mut frame = AudioFrame::empty();
    let take = |frame: &mut AudioFrame, out: &mut Resampled| -> Result<(), OperatorError> {
        normalize_layout(frame);
        out.push(frame).map_err(decode_err)
    };
    ffmpeg_init::decode_stream(&mut input, index, &mut decoder, &mut frame, cancel, |f| {
        take(f, &mut out)
    })?;
    out.flush().map_err(decode_err)?;
    Ok(Some(out.queue.swap_remove(0)))
}
