//! Audio after the decoder: each consumer (an AAC, MP3 or PCM encode, the waveform) resamples
//! the decoded frames once to what it needs and cuts them into the frame size it takes.

use ffmpeg_next::format::Sample;
use ffmpeg_next::format::sample::Type as SampleType;
use ffmpeg_next::software::resampling;
use ffmpeg_next::util::frame::audio::Audio as AudioFrame;
use ffmpeg_next::{ChannelLayout, Dictionary, Packet, Rational, codec, encoder};

/// Gives a decoded frame that declares no channel layout (PCM in WAV often does not) the
/// default one for its channel count: the resampler refuses frames whose layout differs from
/// the one it was set up with.
pub fn normalize_layout(frame: &mut AudioFrame) {
    let l = frame.channel_layout();
    if l.is_empty() || l.channels() != i32::from(frame.channels()) {
        frame.set_channel_layout(ChannelLayout::default(i32::from(frame.channels())));
    }
}

/// The layout a decoded frame declares, or the default one for its channel count.
fn layout_of(frame: &AudioFrame) -> ChannelLayout {
    let l = frame.channel_layout();
    if l.is_empty() || l.channels() != i32::from(frame.channels()) {
        ChannelLayout::default(i32::from(frame.channels()))
    } else {
        l
    }
}

/// Decoded audio converted to planar f32 at one rate and layout, queued per channel.
pub struct Resampled {
    rate: u32,
    layout: ChannelLayout,
    resampler: Option<(resampling::Context, Sample, ChannelLayout, u32)>,
    /// One queue per channel.
    pub queue: Vec<Vec<f32>>,
}

impl Resampled {
    pub fn new(rate: u32, channels: u16) -> Resampled {
        let layout = ChannelLayout::default(i32::from(channels.max(1)));
        Resampled {
            rate,
            layout,
            resampler: None,
            queue: vec![Vec::new(); usize::from(channels.max(1))],
        }
    }

    pub fn push(&mut self, frame: &AudioFrame) -> Result<(), ffmpeg_next::Error> {
        let (fmt, layout, rate) = (frame.format(), layout_of(frame), frame.rate());
        if self.resampler.as_ref().is_none_or(|(_, f, l, r)| (*f, *l, *r) != (fmt, layout, rate)) {
            self.flush()?;
            let ctx = resampling::Context::get(
                fmt,
                layout,
                rate,
                Sample::F32(SampleType::Planar),
                self.layout,
                self.rate,
            )?;
            self.resampler = Some((ctx, fmt, layout, rate));
        }
        let capacity =
            (frame.samples() as u64 * u64::from(self.rate) / u64::from(rate.max(1))) as usize + 256;
        let mut out = AudioFrame::new(Sample::F32(SampleType::Planar), capacity, self.layout);
        out.set_rate(self.rate);
        if let Some((ctx, ..)) = self.resampler.as_mut() {
            ctx.run(frame, &mut out)?;
        }
        self.take(&out);
        Ok(())
    }

    /// Drains what the resampler still holds (at the end, or before its input changes).
    pub fn flush(&mut self) -> Result<(), ffmpeg_next::Error> {
        let Some((mut ctx, ..)) = self.resampler.take() else { return Ok(()) };
        loop {
            let mut out = AudioFrame::new(Sample::F32(SampleType::Planar), 4096, self.layout);
            out.set_rate(self.rate);
            ctx.flush(&mut out)?;
            if out.samples() == 0 {
                return Ok(());
            }
            self.take(&out);
        }
    }

    fn take(&mut self, out: &AudioFrame) {
        let n = out.samples();
        for (c, q) in self.queue.iter_mut().enumerate() {
            q.extend_from_slice(&out.plane::<f32>(c)[..n]);
        }
    }

    pub fn queued(&self) -> usize {
        self.queue.first().map_or(0, Vec::len)
    }
}

/// The audio codecs the renditions use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioCodec {
    Aac,
    Mp3,
    /// PCM signed 24-bit little-endian (broadcast WAV).
    Pcm24,
}

/// One audio encode fed from its own `Resampled` queue.
pub struct AudioEncode {
    pub encoder: encoder::Audio,
    pub input: Resampled,
    pub time_base: Rational,
    codec: AudioCodec,
    frame_size: usize,
    next_pts: i64,
}

impl AudioEncode {
    pub fn open(
        codec: AudioCodec,
        bitrate_kbps: u32,
        rate: u32,
        channels: u16,
        global_header: bool,
    ) -> Result<AudioEncode, ffmpeg_next::Error> {
        let found = match codec {
            AudioCodec::Aac => encoder::find(codec::Id::AAC),
            AudioCodec::Mp3 => encoder::find_by_name("libmp3lame"),
            AudioCodec::Pcm24 => encoder::find(codec::Id::PCM_S24LE),
        }
        .ok_or(ffmpeg_next::Error::EncoderNotFound)?;
        let mut ctx = codec::context::Context::new_with_codec(found);
        if global_header {
            ctx.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut enc = ctx.encoder().audio()?;
        let channels = channels.clamp(1, 2);
        enc.set_rate(rate as i32);
        enc.set_channel_layout(ChannelLayout::default(i32::from(channels)));
        enc.set_channels(i32::from(channels));
        enc.set_format(match codec {
            AudioCodec::Pcm24 => Sample::I32(SampleType::Packed),
            _ => Sample::F32(SampleType::Planar),
        });
        let time_base = Rational(1, rate as i32);
        enc.set_time_base(time_base);
        if codec != AudioCodec::Pcm24 {
            enc.set_bit_rate(bitrate_kbps as usize * 1000);
        }
        let mut options = Dictionary::new();
        if codec == AudioCodec::Mp3 {
            // Constant bitrate, as the seed's preview profile asks.
            options.set("abr", "0");
        }
        let encoder = enc.open_as_with(found, options)?;
        let frame_size = match encoder.frame_size() {
            0 => 1024,
            n => n as usize,
        };
        Ok(AudioEncode {
            encoder,
            input: Resampled::new(rate, channels),
            time_base,
            codec,
            frame_size,
            next_pts: 0,
        })
    }

    /// Starts the track at `pts` samples (audio that begins after the video).
    pub fn start_at(&mut self, pts: i64) {
        self.next_pts = pts.max(0);
    }

    /// Encodes every whole frame queued (and, with `last`, the remainder), moving packets to `out`.
    pub fn encode_queued(
        &mut self,
        last: bool,
        out: &mut Vec<Packet>,
    ) -> Result<(), ffmpeg_next::Error> {
        let channels = self.input.queue.len();
        let layout = ChannelLayout::default(channels as i32);
        let mut done = 0;
        let queued = self.input.queued();
        while queued - done >= self.frame_size || (last && queued > done) {
            let n = self.frame_size.min(queued - done);
            let mut frame = match self.codec {
                AudioCodec::Pcm24 => {
                    let mut f = AudioFrame::new(Sample::I32(SampleType::Packed), n, layout);
                    let data = f.data_mut(0);
                    for i in 0..n {
                        for c in 0..channels {
                            let v = f64::from(self.input.queue[c][done + i]).clamp(-1.0, 1.0);
                            let at = (i * channels + c) * 4;
                            data[at..at + 4]
                                .copy_from_slice(&((v * 2_147_483_647.0) as i32).to_le_bytes());
                        }
                    }
                    f
                }
                _ => {
                    let mut f = AudioFrame::new(Sample::F32(SampleType::Planar), n, layout);
                    for c in 0..channels {
                        f.plane_mut::<f32>(c)[..n]
                            .copy_from_slice(&self.input.queue[c][done..done + n]);
                    }
                    f
                }
            };
            frame.set_rate(self.input.rate);
            frame.set_pts(Some(self.next_pts));
            self.next_pts += n as i64;
            self.encoder.send_frame(&frame)?;
            self.drain(out);
            done += n;
        }
        for q in &mut self.input.queue {
            q.drain(..done);
        }
        if last {
            self.encoder.send_eof()?;
            self.drain(out);
        }
        Ok(())
    }

    fn drain(&mut self, out: &mut Vec<Packet>) {
        loop {
            let mut p = Packet::empty();
            if self.encoder.receive_packet(&mut p).is_err() {
                return;
            }
            out.push(p);
        }
    }
}
