//! Still pictures: scaling a decoded frame and encoding it as JPEG, WebP or PNG with FFmpeg's
//! encoders (one packet is one whole file for these codecs).

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder};

#[derive(Clone, Copy, Debug)]
pub enum StillFormat {
    /// qscale 2 (best) to 31.
    Jpeg {
        qscale: u32,
    },
    /// quality 0 to 100.
    WebP {
        quality: u32,
    },
    Png,
}

/// Scales `frame` to `w`×`h` in `format` (area averaging when shrinking).
pub fn scale(
    frame: &VideoFrame,
    w: u32,
    h: u32,
    format: Pixel,
) -> Result<VideoFrame, ffmpeg_next::Error> {
    let mut out = VideoFrame::new(format, w, h);
    let flags = if w < frame.width() { scaling::Flags::AREA } else { scaling::Flags::BICUBIC };
    let mut ctx =
        scaling::Context::get(frame.format(), frame.width(), frame.height(), format, w, h, flags)?;
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

/// Embeds an ICC colour profile in a JPEG as APP2 `ICC_PROFILE` segments (after SOI and a
/// JFIF APP0), so colour-managed viewers show the picture as the master's profile says.
/// FFmpeg 5.1's MJPEG encoder does not write profiles itself.
pub fn jpeg_with_icc(jpeg: &[u8], icc: &[u8]) -> Vec<u8> {
    const CHUNK: usize = 65_519;
    if icc.is_empty() || jpeg.len() < 4 || jpeg[..2] != [0xff, 0xd8] {
        return jpeg.to_vec();
    }
    let mut at = 2;
    if jpeg[2..4] == [0xff, 0xe0] && jpeg.len() >= 6 {
        at = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    }
    let chunks: Vec<&[u8]> = icc.chunks(CHUNK).collect();
    if chunks.len() > 255 || at > jpeg.len() {
        return jpeg.to_vec();
    }
    let mut out = Vec::with_capacity(jpeg.len() + icc.len() + chunks.len() * 18);
    out.extend_from_slice(&jpeg[..at]);
    for (i, chunk) in chunks.iter().enumerate() {
        out.extend_from_slice(&[0xff, 0xe2]);
        out.extend_from_slice(&((2 + 14 + chunk.len()) as u16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.push((i + 1) as u8);
        out.push(chunks.len() as u8);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}
