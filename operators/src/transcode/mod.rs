//! Renditions (seed 001 §4.3.10): one pass over a master makes every rendition of its kind.
//!
//! - `video_pass`: one decode feeds one H.264 encode per picture size (proxy, web, HLS-only
//!   rungs), one AAC encode, the poster, the storyboard and the waveform; each encode's packets
//!   are packaged many times (progressive MP4 and that rung's HLS fMP4 playlist), never encoded
//!   twice;
//! - `audio_pass`: one decode feeds the MP3 preview, the broadcast WAV, the waveform PNG and peaks;
//! - `image_pass`: one decode, turned upright by EXIF, feeds the WebP sizes and the display JPEG.
//!
//! Every pass writes into a local directory, one sub-directory per profile; the caller commits
//! them to the object store. It checks a cancel flag between packets and reports progress from
//! decoded timestamps.

mod audio_chain;
mod audio_pass;
mod geometry;
mod h264;
mod image_pass;
mod playlist;
mod rotate;
mod sinks;
mod stills;
mod storyboard;
mod video_pass;
mod waveform;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) use audio_chain::{Resampled, normalize_layout};
pub use audio_pass::audio_pass;
pub use geometry::fit_box;
pub use h264::x264_params;
pub use image_pass::image_pass;
pub use playlist::avc_codecs_string;
pub use rotate::{exif_orientation, quarter_turns};
pub use stills::scale as scale_picture;
pub use video_pass::{video_clip_pass, video_pass};

/// One rendition a pass made: its files, relative to the pass's output directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Produced {
    /// Profile name: `proxy`, `web`, `hls`, `poster`, `storyboard`, `waveform`, `peaks`,
    /// `preview`, `broadcast`, `webp-300`, `display`.
    pub profile: String,
    /// The file a download of this rendition serves (`master.m3u8` for HLS).
    pub main: PathBuf,
    /// Every file of the rendition, `main` included, relative to the output directory.
    pub files: Vec<PathBuf>,
    pub mime: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// How a pass is steered from outside: which profiles to make, when to stop, where to report.
pub struct Control<'a> {
    pub cancel: &'a AtomicBool,
    /// Called with 0.0..=1.0 as decoding advances.
    pub progress: &'a (dyn Fn(f32) + Sync),
    /// Profiles to make; the others are already stored and are skipped.
    pub wanted: &'a dyn Fn(&str) -> bool,
}

impl Control<'_> {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Maps an FFmpeg error while making `what` of `path` to a typed operator error. Borrows until
/// an error happens: it is on every frame's path.
pub(crate) fn fail<'a>(
    path: &'a std::path::Path,
    what: &'a str,
) -> impl Fn(ffmpeg_next::Error) -> crate::OperatorError + 'a {
    move |e| crate::OperatorError::Transcode {
        path: path.to_path_buf(),
        what: what.to_string(),
        reason: e.to_string(),
    }
}

/// Maps a local I/O error on `path` to a typed (transient) operator error.
pub(crate) fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> crate::OperatorError {
    let path = path.to_path_buf();
    move |source| crate::OperatorError::Io { path: path.clone(), source }
}
