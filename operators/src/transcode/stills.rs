//! Still pictures: scaling a decoded frame and encoding it as JPEG, WebP or PNG with FFmpeg's
//! encoders (one packet is one whole file for these codecs).

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder};

#[derive(Clone, Copy, Debug)]
pub enum StillFormat {
    /// qscale 2 (best) to 31.
    Jpeg { qscale: u32 },
    /// quality 0 to 100.
    WebP { quality: u32 },
    Png,
}

/// Scales `frame` to `w`×`h` in `format` (area averaging when shrinking).
pub fn scale(frame: &VideoFrame, w: u32, h: u32, format: Pixel) -> Result<VideoFrame, ffmpeg_next::Error> {
    let mut out = VideoFrame::new(format, w, h);
    let flags = if w < frame.width() { scaling::Flags::AREA } else { scaling::Flags::BICUBIC };
    let mut ctx = scaling::Context::get(frame.format(), frame.width(), frame.height(), format, w, h, flags)?;
    ctx.run(frame, &mut out)?;
    Ok(out)
}

/// Encodes an RGB24 (or RGBA for PNG) picture into one file's bytes.
pub fn encode(rgb: &VideoFrame, format: StillFormat) -> Result<Vec<u8>, ffmpeg_next::Error> {
    let (id, pixel) = match format {
        StillFormat::Jpeg { .. } => (codec::Id::MJPEG, Pixel::YUVJ420P),
        StillFormat::WebP { .. } => (codec::Id::WEBP, Pixel::YUV420P),
        StillFormat::Png => (codec::Id::PNG, rgb.format()),
    };
    let codec = match format {
        StillFormat::WebP { .. } => encoder::find_by_name("libwebp"),
        _ => encoder::find(id),
    }
    .ok_or(ffmpeg_next::Error::EncoderNotFound)?;
    let (w, h) = (rgb.width(), rgb.height());
    let mut enc = codec::context::Context::new_with_codec(codec).encoder().video()?;
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(pixel);
    enc.set_time_base(Rational(1, 25));
    let mut options = Dictionary::new();
    let mut quality = None;
    match format {
        StillFormat::Jpeg { qscale } => {
            let lambda = qscale.clamp(2, 31) as i32 * ffmpeg_next::ffi::FF_QP2LAMBDA;
            enc.set_flags(codec::Flags::QSCALE);
            enc.set_global_quality(lambda);
            quality = Some(lambda);
        }
        StillFormat::WebP { quality: q } => options.set("quality", &q.min(100).to_string()),
        StillFormat::Png => {}
    }
    let mut enc = enc.open_as_with(codec, options)?;
    let mut picture = if pixel == rgb.format() { rgb.clone() } else { scale(rgb, w, h, pixel)? };
    picture.set_pts(Some(0));
    if let Some(q) = quality {
        // The MJPEG encoder takes its quantiser from the frame when QSCALE is set.
        unsafe { (*picture.as_mut_ptr()).quality = q };
    }
    enc.send_frame(&picture)?;
    enc.send_eof()?;
    let mut packet = Packet::empty();
    enc.receive_packet(&mut packet)?;
    let bytes = packet.data().map(<[u8]>::to_vec).unwrap_or_default();
    if bytes.is_empty() {
        return Err(ffmpeg_next::Error::InvalidData);
    }
    Ok(bytes)
}
