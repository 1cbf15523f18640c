//! Storyboards for scrubbing: a frame every N seconds, tiled into one JPEG sprite, with a WebVTT
//! track whose cues point at each tile (`output.jpg#xywh=x,y,w,h`, as video players read them).

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::video::Video as VideoFrame;

use super::stills::{StillFormat, encode, scale};

pub struct Storyboard {
    every: f64,
    next: f64,
    tile: (u32, u32),
    columns: u32,
    tiles: Vec<(f64, VideoFrame)>,
    /// Clockwise quarter turns that make decoded frames upright.
    turns: u8,
}

pub struct Sprite {
    pub jpeg: Vec<u8>,
    pub vtt: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl Storyboard {
    /// `source` is the upright picture size; decoded frames are turned by `turns` to it.
    pub fn new(
        every_seconds: f64,
        max_tiles: u32,
        duration: f64,
        tile_width: u32,
        columns: u32,
        source: (u32, u32),
        turns: u8,
    ) -> Storyboard {
        let every = every_seconds.max(duration / f64::from(max_tiles.max(1)));
        let tile_width = tile_width.min(source.0.max(2));
        let tile_height = ((f64::from(tile_width) * f64::from(source.1)
            / f64::from(source.0.max(1)))
        .round() as u32)
            .max(2);
        Storyboard {
            every,
            next: 0.0,
            tile: (tile_width, tile_height),
            columns: columns.max(1),
            tiles: Vec::new(),
            turns,
        }
    }

    /// Takes `frame` (at `t` seconds) as the next tile if its time has come.
    pub fn offer(&mut self, frame: &VideoFrame, t: f64) -> Result<(), ffmpeg_next::Error> {
        if t + 1e-6 < self.next {
            return Ok(());
        }
        let (w, h) = if self.turns % 2 == 1 { (self.tile.1, self.tile.0) } else { self.tile };
        let tile = scale(frame, w, h, Pixel::RGB24)?;
        self.tiles.push((
            t,
            crate::thumbnail::orient(&tile, super::rotate::exif_orientation(self.turns)),
        ));
        while self.next <= t + 1e-6 {
            self.next += self.every;
        }
        Ok(())
    }

    pub fn finish(self, duration: f64) -> Result<Option<Sprite>, ffmpeg_next::Error> {
        if self.tiles.is_empty() {
            return Ok(None);
        }
        let (tw, th) = self.tile;
        let n = self.tiles.len() as u32;
        let cols = n.min(self.columns);
        let rows = n.div_ceil(cols);
        let mut sprite = VideoFrame::new(Pixel::RGB24, tw * cols, th * rows);
        let stride = sprite.stride(0);
        sprite.data_mut(0).fill(0);
        let mut vtt = String::from("WEBVTT\n\n");
        for (i, (t, tile)) in self.tiles.iter().enumerate() {
            let (x, y) = ((i as u32 % cols) * tw, (i as u32 / cols) * th);
            let (ts, src) = (tile.stride(0), tile.data(0));
            let dst = sprite.data_mut(0);
            for row in 0..th as usize {
                let d = (y as usize + row) * stride + x as usize * 3;
                dst[d..d + tw as usize * 3]
                    .copy_from_slice(&src[row * ts..row * ts + tw as usize * 3]);
            }
            let end = self.tiles.get(i + 1).map_or(duration.max(*t), |(next, _)| *next);
            vtt.push_str(&format!(
                "{} --> {}\noutput.jpg#xywh={x},{y},{tw},{th}\n\n",
                cue_time(*t),
                cue_time(end)
            ));
        }
        let jpeg = encode(&sprite, StillFormat::Jpeg { qscale: 4 })?;
        Ok(Some(Sprite { jpeg, vtt: vtt.into_bytes(), width: tw * cols, height: th * rows }))
    }
}

fn cue_time(t: f64) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}
