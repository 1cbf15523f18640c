//! One-time FFmpeg initialisation, with its own logging kept quiet: errors reach the user
//! through typed results, not through FFmpeg's stderr.

use std::path::Path;
use std::sync::Once;

use ffmpeg_next::format;

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
    format::input(&path).map_err(|e| OperatorError::Open { path: path.to_path_buf(), reason: e.to_string() })
}
