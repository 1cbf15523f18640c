//! Thumbnails: for a video, the frame at 10 % of its duration (past a black lead-in, before
//! the end); for an image, the image itself, turned upright by its EXIF orientation. Either is
//! scaled so its longer side is at most 300 px (never enlarged) and encoded as JPEG.

use std::path::Path;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{Packet, Rational, codec, encoder, media};

use crate::error::OperatorError;
use crate::ffmpeg_init;
use crate::probe::{ProbeLimits, image_dimensions};

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 300;

#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Where in the file the thumbnail comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// A video: the frame at 10 % of `duration_seconds`.
    Video { duration_seconds: f64 },
    /// A still image, with its EXIF orientation (1 to 8) if it has one.
    Image { orientation: Option<u16> },
}

pub fn thumbnail(
    path: &Path,
    source: Source,
    limits: ProbeLimits,
) -> Result<Thumbnail, OperatorError> {
    let (picked, turns) = decode_picture(path, source, limits)?;
    let orientation = match source {
        Source::Image { orientation } => orientation.unwrap_or(1),
        // A phone video's display matrix turns it upright.
        Source::Video { .. } => crate::transcode::exif_orientation(turns),
    };
    encode_thumbnail(path, &picked, orientation)
}

/// Decodes the picture a thumbnail is taken from: the frame at 10 % of a video, or the image;
/// with the clockwise quarter turns its stream's display matrix asks for.
pub(crate) fn decode_picture(
    path: &Path,
    source: Source,
    limits: ProbeLimits,
) -> Result<(VideoFrame, u8), OperatorError> {
    if let Source::Image { .. } = source {
        image_dimensions(path, limits)?;
    }
    ffmpeg_init::ensure();
    let decode_err = |e: ffmpeg_next::Error| OperatorError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut input = ffmpeg_init::open_input(path)?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| OperatorError::NoPicture { path: path.to_path_buf() })?;
    let index = stream.index();
    let time_base = stream.time_base();
    let turns = crate::transcode::quarter_turns(&stream);
    let mut decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(decode_err)?;

    // The target timestamp, in the stream's time base; seek to the keyframe before it.
    let mut target = None;
    if let Source::Video { duration_seconds } = source {
        let at = duration_seconds * 0.10;
        if at > 0.0 {
            let at_us = (at * f64::from(ffmpeg_next::ffi::AV_TIME_BASE)) as i64;
            input.seek(at_us, ..at_us).map_err(decode_err)?;
            if time_base.numerator() > 0 {
                target = Some(
                    (at * f64::from(time_base.denominator()) / f64::from(time_base.numerator()))
                        as i64,
                );
            }
        }
    }

    let mut picked: Option<VideoFrame> = None;
    let mut frame = VideoFrame::empty();
    let wanted = |f: &VideoFrame| match (target, f.timestamp()) {
        (Some(t), Some(ts)) => ts >= t,
        _ => true,
    };
    'packets: for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        // A damaged packet is skipped; a later one may still decode.
        if decoder.send_packet(&packet).is_err() {
            continue;
        }
        while decoder.receive_frame(&mut frame).is_ok() {
            let done = wanted(&frame);
            picked = Some(frame.clone());
            if done {
                break 'packets;
            }
        }
    }
    if picked.as_ref().is_none_or(|f| !wanted(f)) {
        let _ = decoder.send_eof();
        while decoder.receive_frame(&mut frame).is_ok() {
            let done = wanted(&frame);
            picked = Some(frame.clone());
            if done {
                break;
            }
        }
    }
    picked.map(|p| (p, turns)).ok_or_else(|| OperatorError::NoPicture { path: path.to_path_buf() })
}

/// Fits `w`×`h` within the thumbnail box, keeping the aspect ratio and never enlarging.
fn fit(w: u32, h: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= THUMBNAIL_SIZE {
        return (w.max(1), h.max(1));
    }
    let scale = f64::from(THUMBNAIL_SIZE) / f64::from(longest);
    (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1))
}

fn encode_thumbnail(
    path: &Path,
    frame: &VideoFrame,
    orientation: u16,
) -> Result<Thumbnail, OperatorError> {
    let enc_err = |e: ffmpeg_next::Error| OperatorError::Encode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let (w, h) = fit(frame.width(), frame.height());
    let mut rgb = VideoFrame::new(Pixel::RGB24, w, h);
    scaling::Context::get(
        frame.format(),
        frame.width(),
        frame.height(),
        Pixel::RGB24,
        w,
        h,
        scaling::Flags::AREA,
    )
    .and_then(|mut s| s.run(frame, &mut rgb))
    .map_err(enc_err)?;
    let upright = orient(&rgb, orientation);
    let (ow, oh) = (upright.width(), upright.height());

    let codec = encoder::find(codec::Id::MJPEG).ok_or_else(|| OperatorError::Encode {
        path: path.to_path_buf(),
        reason: "this FFmpeg has no MJPEG encoder".into(),
    })?;
    let mut enc =
        codec::context::Context::new_with_codec(codec).encoder().video().map_err(enc_err)?;
    enc.set_width(ow);
    enc.set_height(oh);
    enc.set_format(Pixel::YUVJ420P);
    enc.set_time_base(Rational(1, 25));
    enc.set_bit_rate(4_000_000);
    let mut enc = enc.open_as(codec).map_err(enc_err)?;
    let mut yuv = VideoFrame::new(Pixel::YUVJ420P, ow, oh);
    scaling::Context::get(Pixel::RGB24, ow, oh, Pixel::YUVJ420P, ow, oh, scaling::Flags::BICUBIC)
        .and_then(|mut s| s.run(&upright, &mut yuv))
        .map_err(enc_err)?;
    yuv.set_pts(Some(0));
    enc.send_frame(&yuv).map_err(enc_err)?;
    enc.send_eof().map_err(enc_err)?;
    let mut packet = Packet::empty();
    enc.receive_packet(&mut packet).map_err(enc_err)?;
    let jpeg = packet.data().map(<[u8]>::to_vec).unwrap_or_default();
    if jpeg.is_empty() {
        return Err(OperatorError::Encode {
            path: path.to_path_buf(),
            reason: "the encoder produced no data".into(),
        });
    }
    Ok(Thumbnail { jpeg, width: ow, height: oh })
}

/// Applies an EXIF orientation (1 to 8) to an RGB24 frame.
pub(crate) fn orient(src: &VideoFrame, orientation: u16) -> VideoFrame {
    if !(2..=8).contains(&orientation) {
        return src.clone();
    }
    let (w, h) = (src.width() as usize, src.height() as usize);
    let transposed = orientation >= 5;
    let (dw, dh) = if transposed { (h, w) } else { (w, h) };
    let mut dst = VideoFrame::new(Pixel::RGB24, dw as u32, dh as u32);
    let (ss, ds) = (src.stride(0), dst.stride(0));
    let data = src.data(0).to_vec();
    let out = dst.data_mut(0);
    for y in 0..h {
        for x in 0..w {
            // Where the stored pixel (x, y) belongs in the upright picture.
            let (nx, ny) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (h - 1 - y, x),
                7 => (h - 1 - y, w - 1 - x),
                _ => (y, w - 1 - x), // 8
            };
            let s = y * ss + x * 3;
            let d = ny * ds + nx * 3;
            out[d..d + 3].copy_from_slice(&data[s..s + 3]);
        }
    }
    dst
}
