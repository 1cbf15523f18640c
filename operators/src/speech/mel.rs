//! Whisper's input: the log-mel spectrogram of 16 kHz mono audio, computed as OpenAI's
//! `log_mel_spectrogram` does — 400-sample Hann frames every 160 samples (centred, reflect
//! padded), power spectrum, Slaney mel filterbank (librosa's default), log10 clamped to 8
//! below the loudest value, scaled to about [-1, 1].

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

pub const SAMPLE_RATE: usize = 16_000;
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
/// Frames in one 30 s window.
pub const WINDOW_FRAMES: usize = 3000;

/// Hz → mel on the Slaney scale: linear below 1 kHz, logarithmic above.
fn hz_to_mel(f: f64) -> f64 {
    let (f_sp, min_log_hz, min_log_mel, logstep) =
        (200.0 / 3.0, 1000.0, 15.0, (6.4f64).ln() / 27.0);
    if f >= min_log_hz { min_log_mel + (f / min_log_hz).ln() / logstep } else { f / f_sp }
}

fn mel_to_hz(m: f64) -> f64 {
    let (f_sp, min_log_hz, min_log_mel, logstep) =
        (200.0 / 3.0, 1000.0, 15.0, (6.4f64).ln() / 27.0);
    if m >= min_log_mel { min_log_hz * ((m - min_log_mel) * logstep).exp() } else { f_sp * m }
}

/// `n_mels` triangular filters over the `N_FFT / 2 + 1` bins, area-normalised ("slaney"),
/// row-major: what `librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels)` returns.
pub fn filterbank(n_mels: usize) -> Vec<f32> {
    let bins = N_FFT / 2 + 1;
    let fmax = SAMPLE_RATE as f64 / 2.0;
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(fmax));
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let freqs: Vec<f64> = (0..bins).map(|k| k as f64 * SAMPLE_RATE as f64 / N_FFT as f64).collect();
    let mut out = vec![0f32; n_mels * bins];
    for m in 0..n_mels {
        let (left, centre, right) = (points[m], points[m + 1], points[m + 2]);
        let norm = 2.0 / (right - left);
        for (k, f) in freqs.iter().enumerate() {
            let rising = (f - left) / (centre - left);
            let falling = (right - f) / (right - centre);
            out[m * bins + k] = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    out
}

/// Computes log-mel spectrograms; holds the FFT plan, window and filterbank.
pub struct MelSpectrogram {
    n_mels: usize,
    filters: Vec<f32>,
    window: Vec<f32>,
    fft: Arc<dyn Fft<f32>>,
}

impl MelSpectrogram {
    pub fn new(n_mels: usize) -> MelSpectrogram {
        // Periodic Hann, as torch.hann_window(400).
        let window = (0..N_FFT)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()) as f32
            })
            .collect();
        let fft = FftPlanner::new().plan_fft_forward(N_FFT);
        MelSpectrogram { n_mels, filters: filterbank(n_mels), window, fft }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// `samples.len() / HOP` frames, mel-major (`n_mels` rows of `frames` values).
    pub fn compute(&self, samples: &[f32]) -> (Vec<f32>, usize) {
        let frames = samples.len() / HOP;
        let bins = N_FFT / 2 + 1;
        let half = N_FFT / 2;
        let n = samples.len() as isize;
        // Reflect padding around each end (torch.stft's center=True).
        let at = |i: isize| -> f32 {
            if n == 0 {
                return 0.0;
            }
            let mut j = i;
            if j < 0 {
                j = -j;
            }
            if j >= n {
                j = 2 * (n - 1) - j;
            }
            samples.get(j.clamp(0, n - 1) as usize).copied().unwrap_or(0.0)
        };
        let mut mel = vec![0f32; self.n_mels * frames];
        let mut buf = vec![Complex::new(0f32, 0f32); N_FFT];
        let mut scratch = vec![Complex::new(0f32, 0f32); self.fft.get_inplace_scratch_len()];
        let mut power = vec![0f32; bins];
        for f in 0..frames {
            let start = (f * HOP) as isize - half as isize;
            for (k, slot) in buf.iter_mut().enumerate() {
                *slot = Complex::new(at(start + k as isize) * self.window[k], 0.0);
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buf) {
                *p = c.norm_sqr();
            }
            for m in 0..self.n_mels {
                let row = &self.filters[m * bins..(m + 1) * bins];
                let e: f32 = row.iter().zip(&power).map(|(w, p)| w * p).sum();
                mel[m * frames + f] = e.max(1e-10).log10();
            }
        }
        let top = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in &mut mel {
            *v = ((*v).max(top - 8.0) + 4.0) / 4.0;
        }
        (mel, frames)
    }
}
