//! One H.264 encode (libx264) of one picture size: its own scaler and encoder. Its packets go
//! to every sink that packages this rung.

use acervo_catalog::profiles::VideoProfile;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, color, encoder};

/// What every rung of one pass shares: the source's rate and colour, the GOP, the preset.
pub struct RungSettings<'a> {
    pub frame_rate: Rational,
    pub preset: &'a str,
    pub gop_frames: u32,
    pub colorspace: color::Space,
    pub primaries: color::Primaries,
    pub transfer: color::TransferCharacteristic,
}

pub struct Rung {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub encoder: encoder::Video,
    pub time_base: Rational,
    scaler: Option<(scaling::Context, Pixel, u32, u32)>,
    scaled: VideoFrame,
    /// Clockwise quarter turns from the stored picture to the displayed one, and the upright
    /// frame when there are any.
    turns: u8,
    upright: Option<VideoFrame>,
}

/// The x264 options of a profile, as the ffmpeg CLI takes them too (the benchmark's peers use
/// exactly these).
pub fn x264_params(p: &VideoProfile, gop_frames: u32) -> String {
    format!(
        "keyint={gop_frames}:min-keyint={gop_frames}:scenecut=0:vbv-maxrate={}:vbv-bufsize={}",
        p.bitrate_kbps * 3 / 2,
        p.bitrate_kbps * 2
    )
}

impl Rung {
    /// Opens the encode of an upright `width`×`height` picture; decoded frames are stored turned
    /// `turns` quarters counter-clockwise of that (a phone's display matrix).
    pub fn open(
        name: &str,
        p: &VideoProfile,
        width: u32,
        height: u32,
        turns: u8,
        s: &RungSettings,
    ) -> Result<Rung, ffmpeg_next::Error> {
        let codec = encoder::find_by_name("libx264").ok_or(ffmpeg_next::Error::EncoderNotFound)?;
        let mut ctx = codec::context::Context::new_with_codec(codec);
        // The MP4 and fMP4 muxers want SPS/PPS out of band.
        ctx.set_flags(codec::Flags::GLOBAL_HEADER);
        let mut enc = ctx.encoder().video()?;
        let time_base = Rational(s.frame_rate.denominator(), s.frame_rate.numerator());
        enc.set_width(width);
        enc.set_height(height);
        enc.set_format(Pixel::YUV420P);
        enc.set_time_base(time_base);
        enc.set_frame_rate(Some(s.frame_rate));
        enc.set_bit_rate(p.bitrate_kbps as usize * 1000);
        enc.set_gop(s.gop_frames);
        enc.set_colorspace(s.colorspace);
        enc.set_color_primaries(s.primaries);
        enc.set_color_transfer_characteristic(s.transfer);
        enc.set_color_range(color::Range::MPEG);
        let mut options = Dictionary::new();
        options.set("preset", s.preset);
        options.set("profile", &p.h264_profile);
        options.set("x264-params", &x264_params(p, s.gop_frames));
        let encoder = enc.open_as_with(codec, options)?;
        Ok(Rung {
            name: name.to_string(),
            width,
            height,
            encoder,
            time_base,
            scaler: None,
            scaled: if turns % 2 == 1 {
                VideoFrame::new(Pixel::YUV420P, height, width)
            } else {
                VideoFrame::new(Pixel::YUV420P, width, height)
            },
            turns: turns % 4,
            upright: (!turns.is_multiple_of(4))
                .then(|| VideoFrame::new(Pixel::YUV420P, width, height)),
        })
    }

    /// Scales `frame` to this rung's size and hands it to the encoder with `pts` (in the
    /// encoder's time base).
    pub fn send(&mut self, frame: &VideoFrame, pts: i64) -> Result<(), ffmpeg_next::Error> {
        let (fmt, fw, fh) = (frame.format(), frame.width(), frame.height());
        // A mid-stream change of size or format gets a new scaler.
        if self.scaler.as_ref().is_none_or(|(_, f, w, h)| (*f, *w, *h) != (fmt, fw, fh)) {
            // Bicubic, as FFmpeg's scale filter does by default.
            let (sw, sh) = (self.scaled.width(), self.scaled.height());
            let ctx = scaling::Context::get(
                fmt,
                fw,
                fh,
                Pixel::YUV420P,
                sw,
                sh,
                scaling::Flags::BICUBIC,
            )?;
            self.scaler = Some((ctx, fmt, fw, fh));
        }
        if let Some((ctx, ..)) = self.scaler.as_mut() {
            ctx.run(frame, &mut self.scaled)?;
        }
        let out = match self.upright.as_mut() {
            Some(upright) => {
                super::rotate::rotate_planar(&self.scaled, upright, self.turns);
                upright
            }
            None => &mut self.scaled,
        };
        out.set_pts(Some(pts));
        self.encoder.send_frame(out)
    }

    /// The encoder alone, to be closed elsewhere (its scaler and frames are freed here).
    pub fn into_encoder(self) -> encoder::Video {
        self.encoder
    }

    /// Moves every packet the encoder has ready into `out`.
    pub fn drain(&mut self, out: &mut Vec<Packet>) {
        loop {
            let mut packet = Packet::empty();
            if self.encoder.receive_packet(&mut packet).is_err() {
                return;
            }
            out.push(packet);
        }
    }

    /// The `avc1.PPCCLL` codecs string of this encode, from the SPS in its extradata.
    pub fn codecs(&self) -> Option<String> {
        let extradata = unsafe {
            let ctx = self.encoder.as_ptr();
            if (*ctx).extradata.is_null() || (*ctx).extradata_size <= 0 {
                return None;
            }
            std::slice::from_raw_parts((*ctx).extradata, (*ctx).extradata_size as usize)
        };
        super::playlist::avc_codecs_string(extradata)
    }
}
