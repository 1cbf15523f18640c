//! The single pass over a video master: decoded once, each picture size encoded once, each
//! encode packaged as many times as profiles ask (MP4 and HLS), audio encoded once to AAC and
//! muxed into all of them; poster, storyboard and waveform taken from the same decoded frames.

use std::path::{Path, PathBuf};

use acervo_catalog::RenditionProfiles;
use ffmpeg_next::codec::threading;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::audio::Audio as AudioFrame;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{Packet, Rational, codec, media};

use super::audio_chain::{AudioCodec, AudioEncode, normalize_layout};
use super::geometry::fit_box;
use super::h264::{Rung, RungSettings};
use super::playlist::{Variant, measure, write_master};
use super::rotate::{exif_orientation, quarter_turns};
use super::sinks::{Container, Sink, SinkStreams};
use super::stills::{StillFormat, encode, scale};
use super::storyboard::Storyboard;
use super::waveform::{Peaks, peaks_json, waveform_png};
use super::{Control, Produced, fail, io};
use crate::error::OperatorError;
use crate::ffmpeg_init;

/// Where poster frames are taken: past a black lead-in, before the end (as thumbnails).
const POSTER_AT: f64 = 0.10;

/// The poster: the first frame at or past its time, or the last one if the master ends sooner.
struct Poster {
    at: f64,
    /// Upright size, and the clockwise quarter turns from decoded frames to upright.
    size: (u32, u32),
    turns: u8,
    taken: Option<VideoFrame>,
    before: Option<VideoFrame>,
}

impl Poster {
    /// `frame` scaled to the poster size and turned upright, as RGB.
    fn upright(&self, frame: &VideoFrame) -> Result<VideoFrame, ffmpeg_next::Error> {
        let (w, h) = if self.turns % 2 == 1 { (self.size.1, self.size.0) } else { self.size };
        let rgb = scale(frame, w, h, Pixel::RGB24)?;
        Ok(crate::thumbnail::orient(&rgb, exif_orientation(self.turns)))
    }
}

struct Pass<'a> {
    path: &'a Path,
    out: &'a Path,
    rungs: Vec<Rung>,
    sinks: Vec<Sink>,
    aac: Option<AudioEncode>,
    peaks: Option<Peaks>,
    poster: Option<Poster>,
    storyboard: Option<Storyboard>,
    fps: Rational,
    /// Length of the clip being made (infinite: the whole master); frames past it end the pass.
    clip_length: f64,
    past_end: bool,
    last_pts: Option<i64>,
    frames: u64,
    audio_started: bool,
    packets: Vec<Packet>,
}

fn seconds(ts: i64, tb: Rational) -> f64 {
    ts as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1))
}

fn valid_rate(r: Rational) -> Option<Rational> {
    (r.numerator() > 0 && r.denominator() > 0 && f64::from(r) < 1000.0).then_some(r)
}

/// The HLS directory name of a rung: its short side (`1080p`).
fn rung_label(w: u32, h: u32) -> String {
    format!("{}p", w.min(h))
}

/// Makes the wanted video renditions of `path` under `out`. `duration` (from the probe) drives
/// progress, the poster time and the storyboard interval.
pub fn video_pass(
    path: &Path,
    out: &Path,
    profiles: &RenditionProfiles,
    duration: f64,
    ctl: &Control,
) -> Result<Vec<Produced>, OperatorError> {
    video_clip_pass(path, out, profiles, duration, None, ctl)
}

/// `video_pass` over the time range `clip` (start, end) of the master, in seconds: outputs
/// start at zero at `start` (from the keyframe before it, frames before it dropped).
pub fn video_clip_pass(
    path: &Path,
    out: &Path,
    profiles: &RenditionProfiles,
    duration: f64,
    clip: Option<(f64, f64)>,
    ctl: &Control,
) -> Result<Vec<Produced>, OperatorError> {
    let decode_err = |e: ffmpeg_next::Error| OperatorError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut input = ffmpeg_init::open_input(path)?;
    let vstream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| OperatorError::NoPicture { path: path.to_path_buf() })?;
    let (v_index, v_tb) = (vstream.index(), vstream.time_base());
    let fps = valid_rate(vstream.avg_frame_rate())
        .or_else(|| valid_rate(vstream.rate()))
        .unwrap_or(Rational(25, 1));
    let v_start = if vstream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
        0.0
    } else {
        seconds(vstream.start_time(), v_tb)
    };
    let mut vctx =
        codec::context::Context::from_parameters(vstream.parameters()).map_err(decode_err)?;
    vctx.set_threading(threading::Config {
        kind: threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let mut vdec = vctx.decoder().video().map_err(decode_err)?;
    if vdec.width() == 0 || vdec.height() == 0 {
        return Err(OperatorError::NoPicture { path: path.to_path_buf() });
    }
    // Sizes are of the upright picture; frames are turned to it as they are encoded.
    let turns = quarter_turns(&vstream);
    let (src_w, src_h) =
        if turns % 2 == 1 { (vdec.height(), vdec.width()) } else { (vdec.width(), vdec.height()) };

    let astream = input.streams().best(media::Type::Audio);
    let mut audio = None;
    let mut a_start = v_start;
    if let Some(a) = astream {
        let a_tb = a.time_base();
        if a.start_time() != ffmpeg_next::ffi::AV_NOPTS_VALUE {
            a_start = seconds(a.start_time(), a_tb);
        }
        let adec = codec::context::Context::from_parameters(a.parameters())
            .and_then(|c| c.decoder().audio())
            .map_err(decode_err)?;
        audio = Some((a.index(), a_tb, adec));
    }
    // One time origin for both streams keeps them in sync when one starts later.
    let (clip_start, clip_end) = clip.unwrap_or((0.0, f64::INFINITY));
    let origin = v_start.min(a_start) + clip_start;
    let duration =
        if clip.is_some() { (clip_end.min(duration) - clip_start).max(0.0) } else { duration };
    if clip_start > 0.0 {
        let at = ((v_start.min(a_start) + clip_start) * f64::from(ffmpeg_next::ffi::AV_TIME_BASE))
            as i64;
        input.seek(at, ..at).map_err(decode_err)?;
    }
    let clip_length = clip_end - clip_start;

    let hls_wanted = (ctl.wanted)("hls") && !profiles.hls.ladder.is_empty();
    let settings = RungSettings {
        frame_rate: fps,
        preset: &profiles.x264_preset,
        gop_frames: ((f64::from(fps) * profiles.gop_seconds).round() as u32).max(1),
        colorspace: vdec.color_space(),
        primaries: vdec.color_primaries(),
        transfer: vdec.color_transfer_characteristic(),
    };
    let mut rungs = Vec::new();
    for (name, p) in &profiles.video {
        let mp4 = p.mp4 && (ctl.wanted)(name);
        let hls = hls_wanted && profiles.hls.ladder.contains(name);
        if !mp4 && !hls {
            continue;
        }
        let (w, h) = fit_box(src_w, src_h, p.long_side, p.short_side, true);
        rungs.push((
            Rung::open(name, p, w, h, turns, &settings)
                .map_err(fail(path, &format!("{name} encoder")))?,
            mp4,
            hls,
        ));
    }

    let needs_aac = !rungs.is_empty();
    let mut aac = None;
    if let (Some((_, _, adec)), true) = (&audio, needs_aac) {
        let channels = adec.channels().clamp(1, 2);
        aac = Some(
            AudioEncode::open(
                AudioCodec::Aac,
                profiles.aac.bitrate_kbps,
                profiles.aac.sample_rate,
                channels,
                true,
            )
            .map_err(fail(path, "AAC encoder"))?,
        );
    }

    let mut sinks = Vec::new();
    let mut ladder = Vec::new();
    for (i, (rung, mp4, hls)) in rungs.iter().enumerate() {
        let audio_streams = aac.as_ref().map(|a| (&a.encoder, a.time_base));
        if *mp4 {
            let dir = out.join(&rung.name);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let faststart = profiles.video.get(&rung.name).is_some_and(|p| p.faststart);
            let sink = Sink::open(
                &dir.join("output.mp4"),
                Container::Mp4 { faststart },
                SinkStreams {
                    video: Some((i, &rung.encoder, rung.time_base)),
                    audio: audio_streams,
                },
            )
            .map_err(fail(path, &format!("{} MP4", rung.name)))?;
            sinks.push(sink);
        }
        if *hls {
            let mut label = rung_label(rung.width, rung.height);
            if ladder.iter().any(|(l, _)| *l == label) {
                label = format!("{label}-{}", rung.name);
            }
            let dir = out.join("hls").join(&label);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let sink = Sink::open(
                &dir.join("index.m3u8"),
                Container::HlsFmp4 {
                    segment_seconds: profiles.hls.segment_seconds,
                    segment_dir: &dir,
                },
                SinkStreams {
                    video: Some((i, &rung.encoder, rung.time_base)),
                    audio: audio_streams,
                },
            )
            .map_err(fail(path, &format!("{} HLS rung", rung.name)))?;
            sinks.push(sink);
            ladder.push((label, i));
        }
    }
    // The ladder in the order the profile lists it.
    ladder.sort_by_key(|(_, i)| profiles.hls.ladder.iter().position(|n| *n == rungs[*i].0.name));

    let poster = (ctl.wanted)("poster").then(|| {
        let size =
            fit_box(src_w, src_h, profiles.poster.long_side, profiles.poster.short_side, false);
        Poster { at: duration * POSTER_AT, size, turns, taken: None, before: None }
    });
    let storyboard = (ctl.wanted)("storyboard").then(|| {
        let s = &profiles.storyboard;
        Storyboard::new(
            s.every_seconds,
            s.max_tiles,
            duration,
            s.tile_width,
            s.columns,
            (src_w, src_h),
            turns,
        )
    });
    let peaks = (audio.is_some() && ((ctl.wanted)("waveform") || (ctl.wanted)("peaks")))
        .then(|| Peaks::new(profiles.waveform.peaks_per_second));

    let mut pass = Pass {
        path,
        out,
        rungs: rungs.into_iter().map(|(r, _, _)| r).collect(),
        sinks,
        aac,
        peaks,
        poster,
        storyboard,
        fps,
        clip_length,
        past_end: false,
        last_pts: None,
        frames: 0,
        audio_started: false,
        packets: Vec::new(),
    };

    let mut frame = VideoFrame::empty();
    let mut aframe = AudioFrame::empty();
    let mut reported = -1i32;
    let mut bad_packets = 0u64;
    for (stream, packet) in input.packets() {
        if ctl.cancelled() {
            return Err(pass.abandon());
        }
        if pass.past_end {
            break;
        }
        let si = stream.index();
        if si == v_index {
            if vdec.send_packet(&packet).is_err() {
                bad_packets += 1;
                continue;
            }
            while vdec.receive_frame(&mut frame).is_ok() {
                match pass.video_frame(&frame, v_tb, origin, ctl) {
                    Err(OperatorError::Cancelled) => return Err(pass.abandon()),
                    other => other?,
                }
            }
            if let (Some(pts), true) = (packet.pts(), duration > 0.0) {
                let pct =
                    ((seconds(pts, v_tb) - v_start) / duration * 100.0).clamp(0.0, 99.0) as i32;
                if pct > reported {
                    reported = pct;
                    (ctl.progress)(pct as f32 / 100.0);
                }
            }
        } else if let Some((a_index, a_tb, adec)) = audio.as_mut()
            && si == *a_index
        {
            if adec.send_packet(&packet).is_err() {
                bad_packets += 1;
                continue;
            }
            while adec.receive_frame(&mut aframe).is_ok() {
                normalize_layout(&mut aframe);
                pass.audio_frame(&aframe, *a_tb, origin)?;
            }
        }
    }
    let _ = vdec.send_eof();
    while vdec.receive_frame(&mut frame).is_ok() {
        match pass.video_frame(&frame, v_tb, origin, ctl) {
            Err(OperatorError::Cancelled) => return Err(pass.abandon()),
            other => other?,
        }
    }
    if let Some((_, a_tb, adec)) = audio.as_mut() {
        let _ = adec.send_eof();
        while adec.receive_frame(&mut aframe).is_ok() {
            normalize_layout(&mut aframe);
            pass.audio_frame(&aframe, *a_tb, origin)?;
        }
    }
    if pass.frames == 0 {
        return Err(OperatorError::Decode {
            path: path.to_path_buf(),
            reason: format!("no video frame could be decoded ({bad_packets} damaged packets)"),
        });
    }
    if ctl.cancelled() {
        return Err(pass.abandon());
    }
    let produced = pass.finish(profiles, &ladder, duration)?;
    (ctl.progress)(1.0);
    Ok(produced)
}

impl Pass<'_> {
    /// Stops the pass for a cancel. Closing an x264 encoder waits for the frames its threads
    /// are encoding (a third of a second at 1080p on the slow preset, more under load): the
    /// encoders are closed on a thread of their own, so the cancel is answered at once.
    fn abandon(self) -> OperatorError {
        let encoders: Vec<_> = self.rungs.into_iter().map(Rung::into_encoder).collect();
        let reaper =
            std::thread::Builder::new().name("acervo-reaper".into()).spawn(move || drop(encoders));
        if let Err(e) = reaper {
            tracing::warn!(error = %e, "cannot start a thread to close cancelled encoders");
        }
        OperatorError::Cancelled
    }

    fn video_frame(
        &mut self,
        frame: &VideoFrame,
        tb: Rational,
        origin: f64,
        ctl: &Control,
    ) -> Result<(), OperatorError> {
        let t = frame
            .timestamp()
            .map_or(self.frames as f64 / f64::from(self.fps), |ts| seconds(ts, tb) - origin);
        if t < -1e-6 {
            return Ok(()); // before the clip (decoded from the keyframe before it)
        }
        if t >= self.clip_length - 1e-6 {
            self.past_end = true;
            return Ok(());
        }
        let pts = (t * f64::from(self.fps)).round() as i64;
        // Frames closer than one output frame apart are dropped, as FFmpeg's vfr sync does.
        if self.last_pts.is_some_and(|last| pts <= last) {
            return Ok(());
        }
        self.last_pts = Some(pts);
        self.frames += 1;
        for i in 0..self.rungs.len() {
            // Each rung's encode of a big frame takes a while on a slow preset.
            if ctl.cancelled() {
                return Err(OperatorError::Cancelled);
            }
            let rung = &mut self.rungs[i];
            let path = self.path;
            rung.send(frame, pts).map_err(|e| fail(path, &format!("{} encode", rung.name))(e))?;
            rung.drain(&mut self.packets);
            self.write_video(i)?;
        }
        if let Some(p) = self.poster.as_mut()
            && p.taken.is_none()
        {
            if t >= p.at {
                p.taken = Some(p.upright(frame).map_err(fail(self.path, "poster"))?);
                p.before = None;
            } else {
                p.before = Some(frame.clone());
            }
        }
        if let Some(sb) = self.storyboard.as_mut() {
            sb.offer(frame, t).map_err(fail(self.path, "storyboard"))?;
        }
        Ok(())
    }

    fn write_video(&mut self, rung: usize) -> Result<(), OperatorError> {
        for packet in self.packets.drain(..) {
            for sink in self.sinks.iter_mut().filter(|s| s.video.is_some_and(|v| v.0 == rung)) {
                sink.write_video(&packet)
                    .map_err(|e| fail(self.path, &crate::error::output_name(&sink.path))(e))?;
            }
        }
        Ok(())
    }

    fn write_audio(&mut self) -> Result<(), OperatorError> {
        for packet in self.packets.drain(..) {
            for sink in self.sinks.iter_mut() {
                sink.write_audio(&packet)
                    .map_err(|e| fail(self.path, &crate::error::output_name(&sink.path))(e))?;
            }
        }
        Ok(())
    }

    fn audio_frame(
        &mut self,
        frame: &AudioFrame,
        tb: Rational,
        origin: f64,
    ) -> Result<(), OperatorError> {
        let t = frame.timestamp().map_or(0.0, |ts| seconds(ts, tb) - origin);
        let length = frame.samples() as f64 / f64::from(frame.rate().max(1));
        // Whole frames outside the clip are dropped (an error of at most one frame, ~21 ms).
        if t + length <= 0.0 || t >= self.clip_length {
            return Ok(());
        }
        if let Some(aac) = self.aac.as_mut() {
            if !self.audio_started {
                self.audio_started = true;
                aac.start_at((t * f64::from(aac.time_base.denominator())).round() as i64);
            }
            aac.input.push(frame).map_err(fail(self.path, "audio resampling"))?;
            aac.encode_queued(false, &mut self.packets).map_err(fail(self.path, "AAC encode"))?;
            self.write_audio()?;
        }
        if let Some(p) = self.peaks.as_mut() {
            p.input.push(frame).map_err(fail(self.path, "waveform"))?;
            p.consume();
        }
        Ok(())
    }

    fn finish(
        mut self,
        profiles: &RenditionProfiles,
        ladder: &[(String, usize)],
        duration: f64,
    ) -> Result<Vec<Produced>, OperatorError> {
        let path = self.path;
        for i in 0..self.rungs.len() {
            let rung = &mut self.rungs[i];
            rung.encoder.send_eof().map_err(fail(path, &format!("{} encode", rung.name)))?;
            rung.drain(&mut self.packets);
            self.write_video(i)?;
        }
        if let Some(mut aac) = self.aac.take() {
            aac.input.flush().map_err(fail(path, "audio resampling"))?;
            aac.encode_queued(true, &mut self.packets).map_err(fail(path, "AAC encode"))?;
            self.write_audio()?;
        }
        let mut produced = Vec::new();
        let out = self.out;
        for sink in std::mem::take(&mut self.sinks) {
            let rung = sink.video.map(|v| v.0);
            let file = sink.finish().map_err(fail(path, "closing an output"))?;
            let rel = file.strip_prefix(out).unwrap_or(&file).to_path_buf();
            if rel.starts_with("hls") {
                continue;
            }
            let r = rung.map(|i| &self.rungs[i]);
            produced.push(Produced {
                profile: r.map_or_else(String::new, |r| r.name.clone()),
                main: rel.clone(),
                files: vec![rel],
                mime: "video/mp4",
                width: r.map(|r| r.width),
                height: r.map(|r| r.height),
            });
        }
        if !ladder.is_empty() {
            let dir = out.join("hls");
            let mut variants = Vec::new();
            for (label, i) in ladder {
                let rung = &self.rungs[*i];
                let playlist = dir.join(label).join("index.m3u8");
                let (peak, average) = measure(&playlist).map_err(io(&playlist))?;
                let video = rung.codecs().unwrap_or_else(|| "avc1.640028".into());
                let codecs = if profiles.aac.bitrate_kbps > 0 && self.audio_started {
                    format!("{video},mp4a.40.2")
                } else {
                    video
                };
                let uri = format!("{label}/index.m3u8");
                variants.push((
                    Variant {
                        uri,
                        width: rung.width,
                        height: rung.height,
                        codecs,
                        frame_rate: f64::from(self.fps),
                    },
                    peak,
                    average,
                ));
            }
            let master = dir.join("master.m3u8");
            write_master(&master, &variants).map_err(io(&master))?;
            let mut files = Vec::new();
            collect_files(out, &dir, &mut files).map_err(io(&dir))?;
            let top = &self.rungs[ladder[0].1];
            produced.push(Produced {
                profile: "hls".into(),
                main: PathBuf::from("hls/master.m3u8"),
                files,
                mime: "application/vnd.apple.mpegurl",
                width: Some(top.width),
                height: Some(top.height),
            });
        }
        let poster = match self.poster.take() {
            Some(Poster { taken: Some(f), .. }) => Some(f),
            Some(p @ Poster { before: Some(_), .. }) => {
                p.before.as_ref().map(|f| p.upright(f)).transpose().map_err(fail(path, "poster"))?
            }
            _ => None,
        };
        if let Some(frame) = poster {
            let quality = profiles.poster.quality;
            let jpeg = encode(&frame, StillFormat::Jpeg { qscale: quality })
                .map_err(fail(path, "poster"))?;
            produced.push(write_one(
                out,
                "poster",
                "output.jpg",
                &jpeg,
                "image/jpeg",
                Some((frame.width(), frame.height())),
            )?);
        }
        if let Some(sb) = self.storyboard.take()
            && let Some(sprite) = sb.finish(duration).map_err(fail(path, "storyboard"))?
        {
            let mut p = write_one(
                out,
                "storyboard",
                "output.jpg",
                &sprite.jpeg,
                "image/jpeg",
                Some((sprite.width, sprite.height)),
            )?;
            let vtt = out.join("storyboard").join("output.vtt");
            std::fs::write(&vtt, &sprite.vtt).map_err(io(&vtt))?;
            p.files.push(PathBuf::from("storyboard/output.vtt"));
            produced.push(p);
        }
        if let Some(peaks) = self.peaks.take() {
            produced.extend(waveform_outputs(out, path, peaks, profiles)?);
        }
        Ok(produced)
    }
}

/// The waveform PNG and peaks JSON of an audio track.
pub(super) fn waveform_outputs(
    out: &Path,
    path: &Path,
    mut peaks: Peaks,
    profiles: &RenditionProfiles,
) -> Result<Vec<Produced>, OperatorError> {
    peaks.input.flush().map_err(fail(path, "waveform"))?;
    let per = peaks.samples_per_peak();
    let values = peaks.finish();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let w = &profiles.waveform;
    let png = waveform_png(&values, w.width, w.height).map_err(fail(path, "waveform"))?;
    Ok(vec![
        write_one(out, "waveform", "output.png", &png, "image/png", Some((w.width, w.height)))?,
        write_one(
            out,
            "peaks",
            "output.json",
            &peaks_json(&values, per),
            "application/json",
            None,
        )?,
    ])
}

/// Writes a single-file rendition `{profile}/{name}`.
pub(super) fn write_one(
    out: &Path,
    profile: &str,
    name: &str,
    bytes: &[u8],
    mime: &'static str,
    size: Option<(u32, u32)>,
) -> Result<Produced, OperatorError> {
    let dir = out.join(profile);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let file = dir.join(name);
    std::fs::write(&file, bytes).map_err(io(&file))?;
    let rel = PathBuf::from(profile).join(name);
    Ok(Produced {
        profile: profile.into(),
        main: rel.clone(),
        files: vec![rel],
        mime,
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
    })
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if e.file_type()?.is_dir() {
            collect_files(root, &p, out)?;
        } else {
            out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
        }
    }
    Ok(())
}
