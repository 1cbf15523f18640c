//! One-time FFmpeg initialisation, with its own logging kept quiet: errors reach the user
//! through typed results, not through FFmpeg's stderr.

use std::sync::Once;

static INIT: Once = Once::new();

pub fn ensure() {
    INIT.call_once(|| {
        // Initialisation only registers components; a failure shows up as open errors later.
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}
