//! Waveforms: min/max peaks of the audio at a fixed rate, saved as peaks JSON in the
//! audiowaveform format (what wavesurfer.js and peaks.js read) and drawn as a PNG.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::video::Video as VideoFrame;

use super::audio_chain::Resampled;
use super::stills::{StillFormat, encode};

/// The sample rate waveforms are computed at: plenty for peaks, cheap to resample to.
pub const WAVEFORM_RATE: u32 = 8000;

pub struct Peaks {
    pub input: Resampled,
    per_peak: usize,
    /// (min, max) per bucket, -1.0..=1.0.
    peaks: Vec<(f32, f32)>,
    current: (f32, f32, usize),
}

impl Peaks {
    pub fn new(peaks_per_second: u32) -> Peaks {
        let per_peak = (WAVEFORM_RATE / peaks_per_second.max(1)).max(1) as usize;
        Peaks {
            input: Resampled::new(WAVEFORM_RATE, 1),
            per_peak,
            peaks: Vec::new(),
            current: (0.0, 0.0, 0),
        }
    }

    /// Folds the queued samples into peaks.
    pub fn consume(&mut self) {
        let Some(q) = self.input.queue.first_mut() else { return };
        for &s in q.iter() {
            let (lo, hi, n) = &mut self.current;
            *lo = lo.min(s);
            *hi = hi.max(s);
            *n += 1;
            if *n == self.per_peak {
                self.peaks.push((*lo, *hi));
                self.current = (0.0, 0.0, 0);
            }
        }
        q.clear();
    }

    pub fn finish(mut self) -> Vec<(f32, f32)> {
        self.consume();
        if self.current.2 > 0 {
            self.peaks.push((self.current.0, self.current.1));
        }
        self.peaks
    }

    pub fn samples_per_peak(&self) -> usize {
        self.per_peak
    }
}

/// The audiowaveform JSON (version 2, 8-bit) of `peaks`.
pub fn peaks_json(peaks: &[(f32, f32)], samples_per_pixel: usize) -> Vec<u8> {
    let q = |v: f32| (v.clamp(-1.0, 1.0) * 127.0).round() as i32;
    let mut data = String::with_capacity(peaks.len() * 10);
    for (i, (lo, hi)) in peaks.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        data.push_str(&format!("{},{}", q(*lo), q(*hi)));
    }
    format!(
        "{{\"version\":2,\"channels\":1,\"sample_rate\":{WAVEFORM_RATE},\"samples_per_pixel\":{samples_per_pixel},\"bits\":8,\"length\":{},\"data\":[{data}]}}",
        peaks.len()
    )
    .into_bytes()
}

/// Draws `peaks` as a `width`×`height` PNG: one column per slice of the peaks, the band between
/// its minimum and maximum filled, on a transparent background.
pub fn waveform_png(
    peaks: &[(f32, f32)],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, ffmpeg_next::Error> {
    let mut frame = VideoFrame::new(Pixel::RGBA, width, height);
    let stride = frame.stride(0);
    let data = frame.data_mut(0);
    data.fill(0);
    let mid = f64::from(height - 1) / 2.0;
    for x in 0..width as usize {
        let from = x * peaks.len() / width as usize;
        let to = ((x + 1) * peaks.len() / width as usize).max(from + 1).min(peaks.len());
        let (lo, hi) = peaks[from.min(peaks.len())..to]
            .iter()
            .fold((0.0f32, 0.0f32), |(a, b), (l, h)| (a.min(*l), b.max(*h)));
        let top = (mid - f64::from(hi) * mid).round().clamp(0.0, f64::from(height - 1)) as usize;
        let bottom = (mid - f64::from(lo) * mid).round().clamp(0.0, f64::from(height - 1)) as usize;
        for y in top..=bottom {
            let at = y * stride + x * 4;
            data[at..at + 4].copy_from_slice(&[0x1f, 0x6f, 0xd0, 0xff]);
        }
    }
    encode(&frame, StillFormat::Png)
}
