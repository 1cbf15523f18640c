//! One-time FFmpeg initialisation, with its own logging kept quiet: errors reach the user
//! through typed results, not through FFmpeg's stderr. Also the plumbing every reading operator
//! shares: opening a file, and decoding one stream of it frame by frame.

use std::path::Path;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use ffmpeg_next::{codec, format};

use crate::OperatorError;

static INIT: Once = Once::new();

pub fn ensure() {
    INIT.call_once(|| {
        // Initialisation only registers components; a failure shows up as open errors later.
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}

/// Opens a media file for reading (initialising FFmpeg first); a file it cannot open is an
/// `Open` error naming it.
pub(crate) fn open_input(path: &Path) -> Result<format::context::Input, OperatorError> {
    ensure();
    format::input(&path)
        .map_err(|e| OperatorError::Open { path: path.to_path_buf(), reason: e.to_string() })
}

/// Feeds every packet of stream `index` to `decoder`, hands each decoded frame to `take`, then
/// drains the decoder. A damaged packet is skipped, as players do; stops with `Cancelled` when
/// `cancel` is raised, or with `take`'s error.
pub(crate) fn decode_stream<F>(
    input: &mut format::context::Input,
    index: usize,
    decoder: &mut codec::decoder::Opened,
    frame: &mut F,
    cancel: &AtomicBool,
    mut take: impl FnMut(&mut F) -> Result<(), OperatorError>,
) -> Result<(), OperatorError>
where
    F: std::ops::DerefMut<Target = ffmpeg_next::Frame>,
{
    for (s, packet) in input.packets() {
        if cancel.load(Ordering::Relaxed) {
            return Err(OperatorError::Cancelled);
        }
        if s.index() != index || decoder.send_packet(&packet).is_err() {
            continue;
        }
        while decoder.receive_frame(frame).is_ok() {
            take(frame)?;
        }
    }
    let _ = decoder.send_eof();
    while decoder.receive_frame(frame).is_ok() {
        take(frame)?;
    }
    Ok(())
}
