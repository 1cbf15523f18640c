//! Frames sampled from a video for the models that look at pictures (OCR, labels): one decode
//! of the best video stream, a frame handed on every N seconds with its time and the
//! orientation that turns it upright (the stream's display matrix).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{codec, media};

use crate::error::OperatorError;
use crate::ffmpeg_init;
use crate::transcode::{exif_orientation, quarter_turns};

/// Calls `take(at_ms, frame, orientation)` for the first frame at or after 0, N, 2N… seconds.
/// Stops with `Cancelled` when `cancel` is raised, or with `take`'s error.
pub fn sample_video(
    path: &Path,
    every_seconds: f64,
    cancel: &AtomicBool,
    mut take: impl FnMut(u64, &VideoFrame, u16) -> Result<(), OperatorError>,
) -> Result<(), OperatorError> {
    let decode_err = |e: ffmpeg_next::Error| OperatorError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut input = ffmpeg_init::open_input(path)?;
    let stream =
        input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| OperatorError::NoPicture {
                path: path.to_path_buf(),
            })?;
    let (index, tb) = (stream.index(), stream.time_base());
    let start = if stream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
        0
    } else {
        stream.start_time()
    };
    let orientation = exif_orientation(quarter_turns(&stream));
    let mut decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(decode_err)?;
    let seconds = |ts: i64| {
        (ts - start) as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1))
    };
    let every = every_seconds.max(0.1);
    let mut next = 0.0;
    let mut frame = VideoFrame::empty();
    let mut offer = |frame: &VideoFrame, next: &mut f64| -> Result<(), OperatorError> {
        let t = frame.timestamp().map_or(*next, seconds);
        if t + 1e-6 < *next {
            return Ok(());
        }
        while *next <= t + 1e-6 {
            *next += every;
        }
        take((t.max(0.0) * 1000.0).round() as u64, frame, orientation)
    };
    for (s, packet) in input.packets() {
        if cancel.load(Ordering::Relaxed) {
            return Err(OperatorError::Cancelled);
        }
        if s.index() != index || decoder.send_packet(&packet).is_err() {
            continue;
        }
        while decoder.receive_frame(&mut frame).is_ok() {
            offer(&frame, &mut next)?;
        }
    }
    let _ = decoder.send_eof();
    while decoder.receive_frame(&mut frame).is_ok() {
        offer(&frame, &mut next)?;
    }
    Ok(())
}
