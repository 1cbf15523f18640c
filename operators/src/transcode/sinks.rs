//! Packagers: an output container fed with already-encoded packets. The same packet of one
//! encode is written to several sinks (the progressive MP4 and the HLS rung of that size).

use std::path::{Path, PathBuf};

use ffmpeg_next::{Dictionary, Packet, Rational, encoder, format};

/// Which encoded streams a sink carries.
pub struct SinkStreams<'a> {
    /// (index of the video encode, its encoder, its time base)
    pub video: Option<(usize, &'a encoder::Video, Rational)>,
    pub audio: Option<(&'a encoder::Audio, Rational)>,
}

pub struct Sink {
    octx: format::context::Output,
    pub path: PathBuf,
    /// The video encode this sink takes packets from, and its output stream.
    pub video: Option<(usize, usize, Rational, Rational)>,
    audio: Option<(usize, Rational, Rational)>,
}

pub enum Container<'a> {
    /// Progressive MP4; `faststart` moves the index to the front.
    Mp4 { faststart: bool },
    /// An HLS media playlist of fMP4 segments of `segment_seconds`.
    HlsFmp4 { segment_seconds: u32, segment_dir: &'a Path },
    /// A plain audio file by muxer name (`mp3`, `wav`).
    Audio(&'static str),
}

impl Sink {
    pub fn open(
        path: &Path,
        container: Container,
        streams: SinkStreams,
    ) -> Result<Sink, ffmpeg_next::Error> {
        let (mut octx, options) = match container {
            Container::Mp4 { faststart } => {
                let mut o = Dictionary::new();
                if faststart {
                    o.set("movflags", "+faststart");
                }
                (format::output_as(&path, "mp4")?, o)
            }
            Container::HlsFmp4 { segment_seconds, segment_dir } => {
                let mut o = Dictionary::new();
                o.set("hls_time", &segment_seconds.to_string());
                o.set("hls_playlist_type", "vod");
                o.set("hls_segment_type", "fmp4");
                o.set("hls_fmp4_init_filename", "init.mp4");
                o.set("hls_segment_filename", &segment_dir.join("seg_%05d.m4s").to_string_lossy());
                o.set("hls_flags", "independent_segments");
                (format::output_as(&path, "hls")?, o)
            }
            Container::Audio(name) => (format::output_as(&path, name)?, Dictionary::new()),
        };
        let mut video = None;
        let mut audio = None;
        if let Some((encode, enc, tb)) = streams.video {
            let mut st = octx.add_stream_with(enc)?;
            st.set_time_base(tb);
            video = Some((encode, st.index(), tb));
        }
        if let Some((enc, tb)) = streams.audio {
            let mut st = octx.add_stream_with(enc)?;
            st.set_time_base(tb);
            audio = Some((st.index(), tb));
        }
        octx.write_header_with(options)?;
        // The muxer may have chosen other time bases for its streams.
        let video =
            video.map(|(e, i, tb)| (e, i, tb, octx.stream(i).map_or(tb, |s| s.time_base())));
        let audio = audio.map(|(i, tb)| (i, tb, octx.stream(i).map_or(tb, |s| s.time_base())));
        Ok(Sink { octx, path: path.to_path_buf(), video, audio })
    }

    pub fn write_video(&mut self, packet: &Packet) -> Result<(), ffmpeg_next::Error> {
        let Some((_, index, from, to)) = self.video else { return Ok(()) };
        self.write(packet, index, from, to)
    }

    pub fn write_audio(&mut self, packet: &Packet) -> Result<(), ffmpeg_next::Error> {
        let Some((index, from, to)) = self.audio else { return Ok(()) };
        self.write(packet, index, from, to)
    }

    fn write(
        &mut self,
        packet: &Packet,
        index: usize,
        from: Rational,
        to: Rational,
    ) -> Result<(), ffmpeg_next::Error> {
        let mut p = packet.clone();
        p.set_stream(index);
        p.rescale_ts(from, to);
        p.set_position(-1);
        p.write_interleaved(&mut self.octx)
    }

    pub fn finish(mut self) -> Result<PathBuf, ffmpeg_next::Error> {
        self.octx.write_trailer()?;
        Ok(self.path)
    }
}
