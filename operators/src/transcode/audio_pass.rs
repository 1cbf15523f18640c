//! The single pass over an audio master: one decode feeds the MP3 preview, the broadcast WAV
//! and the waveform.

use std::path::{Path, PathBuf};

use acervo_catalog::RenditionProfiles;
use ffmpeg_next::util::frame::audio::Audio as AudioFrame;
use ffmpeg_next::{Packet, codec, media};

use super::audio_chain::{AudioCodec, AudioEncode, normalize_layout};
use super::sinks::{Container, Sink, SinkStreams};
use super::video_pass::waveform_outputs;
use super::waveform::Peaks;
use super::{Control, Produced, fail};
use crate::error::OperatorError;
use crate::ffmpeg_init;

struct Output {
    profile: &'static str,
    encode: AudioEncode,
    sink: Sink,
    file: PathBuf,
    mime: &'static str,
}

pub fn audio_pass(
    path: &Path,
    out: &Path,
    profiles: &RenditionProfiles,
    duration: f64,
    ctl: &Control,
) -> Result<Vec<Produced>, OperatorError> {
    let mut input = ffmpeg_init::open_input(path)?;
    let stream = input
        .streams()
        .best(media::Type::Audio)
        .ok_or_else(|| OperatorError::NoMediaStream { path: path.to_path_buf() })?;
    let (index, tb) = (stream.index(), stream.time_base());
    let decode_err = |e: ffmpeg_next::Error| OperatorError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut dec = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().audio())
        .map_err(decode_err)?;
    let channels = dec.channels().clamp(1, 2);

    let mut outputs = Vec::new();
    let plan: [(&'static str, AudioCodec, &str, &'static str, &'static str, u32, u32); 2] = [
        (
            "preview",
            AudioCodec::Mp3,
            "mp3",
            "output.mp3",
            "audio/mpeg",
            profiles.mp3.bitrate_kbps,
            profiles.mp3.sample_rate,
        ),
        (
            "broadcast",
            AudioCodec::Pcm24,
            "wav",
            "output.wav",
            "audio/wav",
            profiles.wav.bitrate_kbps,
            profiles.wav.sample_rate,
        ),
    ];
    for (profile, codec, muxer, name, mime, kbps, rate) in plan {
        if !(ctl.wanted)(profile) {
            continue;
        }
        let encode =
            AudioEncode::open(codec, kbps, rate, channels, false).map_err(fail(path, profile))?;
        let dir = out.join(profile);
        std::fs::create_dir_all(&dir)
            .map_err(|source| OperatorError::Io { path: dir.clone(), source })?;
        let file = dir.join(name);
        let container =
            if muxer == "mp3" { Container::Audio("mp3") } else { Container::Audio("wav") };
        let sink = Sink::open(
            &file,
            container,
            SinkStreams { video: None, audio: Some((&encode.encoder, encode.time_base)) },
        )
        .map_err(fail(path, profile))?;
        outputs.push(Output { profile, encode, sink, file, mime });
    }
    let mut peaks = ((ctl.wanted)("waveform") || (ctl.wanted)("peaks"))
        .then(|| Peaks::new(profiles.waveform.peaks_per_second));

    let mut frame = AudioFrame::empty();
    let mut packets: Vec<Packet> = Vec::new();
    let mut reported = -1i32;
    let mut decoded = 0u64;
    let feed = |frame: &AudioFrame,
                outputs: &mut Vec<Output>,
                peaks: &mut Option<Peaks>,
                packets: &mut Vec<Packet>|
     -> Result<(), OperatorError> {
        for o in outputs.iter_mut() {
            o.encode.input.push(frame).map_err(fail(path, o.profile))?;
            o.encode.encode_queued(false, packets).map_err(fail(path, o.profile))?;
            for p in packets.drain(..) {
                o.sink.write_audio(&p).map_err(fail(path, o.profile))?;
            }
        }
        if let Some(p) = peaks.as_mut() {
            p.input.push(frame).map_err(fail(path, "waveform"))?;
            p.consume();
        }
        Ok(())
    };
    for (s, packet) in input.packets() {
        if ctl.cancelled() {
            return Err(OperatorError::Cancelled);
        }
        if s.index() != index || dec.send_packet(&packet).is_err() {
            continue;
        }
        while dec.receive_frame(&mut frame).is_ok() {
            normalize_layout(&mut frame);
            decoded += 1;
            feed(&frame, &mut outputs, &mut peaks, &mut packets)?;
        }
        if let (Some(pts), true) = (packet.pts(), duration > 0.0) {
            let pct = (pts as f64 * f64::from(tb) / duration * 100.0).clamp(0.0, 99.0) as i32;
            if pct > reported {
                reported = pct;
                (ctl.progress)(pct as f32 / 100.0);
            }
        }
    }
    let _ = dec.send_eof();
    while dec.receive_frame(&mut frame).is_ok() {
        decoded += 1;
        feed(&frame, &mut outputs, &mut peaks, &mut packets)?;
    }
    if decoded == 0 {
        return Err(OperatorError::Decode {
            path: path.to_path_buf(),
            reason: "no audio could be decoded".into(),
        });
    }
    let mut produced = Vec::new();
    for mut o in outputs {
        o.encode.input.flush().map_err(fail(path, o.profile))?;
        o.encode.encode_queued(true, &mut packets).map_err(fail(path, o.profile))?;
        for p in packets.drain(..) {
            o.sink.write_audio(&p).map_err(fail(path, o.profile))?;
        }
        let file = o.sink.finish().map_err(fail(path, o.profile))?;
        let rel = file.strip_prefix(out).unwrap_or(&o.file).to_path_buf();
        produced.push(Produced {
            profile: o.profile.into(),
            main: rel.clone(),
            files: vec![rel],
            mime: o.mime,
            width: None,
            height: None,
        });
    }
    if let Some(p) = peaks {
        produced.extend(waveform_outputs(out, path, p, profiles)?);
    }
    (ctl.progress)(1.0);
    Ok(produced)
}
