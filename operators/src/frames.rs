//! Frames sampled from a video for the models that look at pictures (OCR, labels): one decode
//! of the best video stream, a frame handed on every N seconds and at every scene change, with
//! its time and the orientation that turns it upright (the stream's display matrix).
//!
//! A scene change is a frame that differs from the last one handed on by more than a set
//! share of full scale, on average over the colour channels of a 64×36 thumbnail (colour, not
//! grey: two shots can be as bright and still be different): a cut, or a pan or dissolve that
//! has moved far enough. A caption appearing on the same shot is not one (it is a
//! small part of the picture); the every-N-seconds rule reads those.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{codec, media};

use crate::error::OperatorError;
use crate::ffmpeg_init;
use crate::transcode::{exif_orientation, quarter_turns};

/// Which frames are handed on.
#[derive(Clone, Copy, Debug)]
pub struct Sampling {
    /// The first frame at or after 0, N, 2N… seconds.
    pub every_seconds: f64,
    /// And any frame whose mean colour difference from the last one handed on is at least this
    /// share of full scale (0.0 to 1.0; 0 turns scene changes off).
    pub scene_change: f64,
}

impl Sampling {
    pub fn every(seconds: f64) -> Sampling {
        Sampling { every_seconds: seconds, scene_change: 0.0 }
    }
}

/// Scene changes closer than this to the last frame handed on are not taken (a flash, a fast
/// cut sequence).
const MIN_SCENE_GAP: f64 = 0.5;
const THUMB_W: u32 = 64;
const THUMB_H: u32 = 36;

/// A colour thumbnail of each frame, to compare pictures cheaply.
struct SceneWatch {
    scaler: Option<(scaling::Context, Pixel, u32, u32)>,
    thumb: VideoFrame,
    last: Vec<u8>,
}

impl SceneWatch {
    fn new() -> SceneWatch {
        SceneWatch {
            scaler: None,
            thumb: VideoFrame::new(Pixel::RGB24, THUMB_W, THUMB_H),
            last: Vec::new(),
        }
    }

    /// The thumbnail of `frame`, RGB row by row.
    fn thumbnail(&mut self, frame: &VideoFrame) -> Result<Vec<u8>, ffmpeg_next::Error> {
        let (f, w, h) = (frame.format(), frame.width(), frame.height());
        if !matches!(&self.scaler, Some((_, pf, pw, ph)) if *pf == f && *pw == w && *ph == h) {
            let ctx = scaling::Context::get(
                f,
                w,
                h,
                Pixel::RGB24,
                THUMB_W,
                THUMB_H,
                scaling::Flags::AREA,
            )?;
            self.scaler = Some((ctx, f, w, h));
        }
        if let Some((ctx, ..)) = self.scaler.as_mut() {
            ctx.run(frame, &mut self.thumb)?;
        }
        let stride = self.thumb.stride(0);
        let data = self.thumb.data(0);
        let row = THUMB_W as usize * 3;
        Ok((0..THUMB_H as usize)
            .flat_map(|y| data[y * stride..y * stride + row].iter().copied())
            .collect())
    }

    /// Mean absolute difference from the last frame handed on, 0.0 to 1.0 (1.0 when none
    /// was handed on yet).
    fn change(&self, thumb: &[u8]) -> f64 {
        if self.last.len() != thumb.len() || thumb.is_empty() {
            return 1.0;
        }
        let total: u64 = self.last.iter().zip(thumb).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        total as f64 / (thumb.len() as f64 * 255.0)
    }
}

/// Calls `take(at_ms, frame, orientation)` for the frames `sampling` picks (see `Sampling`).
/// Stops with `Cancelled` when `cancel` is raised, or with `take`'s error.
pub fn sample_video(
    path: &Path,
    sampling: Sampling,
    cancel: &AtomicBool,
    mut take: impl FnMut(u64, &VideoFrame, u16) -> Result<(), OperatorError>,
) -> Result<(), OperatorError> {
    let decode_err = |e: ffmpeg_next::Error| OperatorError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut input = ffmpeg_init::open_input(path)?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| OperatorError::NoPicture { path: path.to_path_buf() })?;
    let (index, tb) = (stream.index(), stream.time_base());
    let start = if stream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
        0
    } else {
        stream.start_time()
    };
    let orientation = exif_orientation(quarter_turns(&stream));
    // Threads as the ffmpeg CLI has them: a frame is only looked at every few seconds, so
    // decoding is most of the work.
    let mut decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|mut c| {
            c.set_threading(codec::threading::Config {
                kind: codec::threading::Type::Frame,
                count: 0,
                ..Default::default()
            });
            c.decoder().video()
        })
        .map_err(decode_err)?;
    let seconds = |ts: i64| {
        (ts - start) as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1))
    };
    let every = sampling.every_seconds.max(0.1);
    let mut next = 0.0;
    let mut last_taken = f64::NEG_INFINITY;
    let mut watch = (sampling.scene_change > 0.0).then(SceneWatch::new);
    let mut frame = VideoFrame::empty();
    let mut offer = |frame: &VideoFrame, next: &mut f64| -> Result<(), OperatorError> {
        let t = frame.timestamp().map_or(*next, seconds);
        let due = t + 1e-6 >= *next;
        let thumb = match watch.as_mut() {
            Some(w) if due || t - last_taken >= MIN_SCENE_GAP => {
                Some(w.thumbnail(frame).map_err(decode_err)?)
            }
            _ => None,
        };
        let cut = match (&watch, &thumb) {
            (Some(w), Some(g)) => w.change(g) >= sampling.scene_change,
            _ => false,
        };
        if !due && !cut {
            return Ok(());
        }
        while *next <= t + 1e-6 {
            *next += every;
        }
        if let (Some(w), Some(g)) = (watch.as_mut(), thumb) {
            w.last = g;
        }
        last_taken = t;
        take((t.max(0.0) * 1000.0).round() as u64, frame, orientation)
    };
    ffmpeg_init::decode_stream(&mut input, index, &mut decoder, &mut frame, cancel, |f| {
        offer(f, &mut next)
    })
}
