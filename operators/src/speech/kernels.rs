//! CPU kernels for decoding one token at a time, where every weight is read once per token and
//! memory bandwidth, not arithmetic, sets the pace: weights stay in half precision (as the
//! model file ships them, so nothing is lost) and are widened in registers (F16C) into f32
//! fused multiply-adds (AVX2/FMA), halving the bytes read per token. Rows are split across
//! cores. Machines without those instructions take a portable path.

use half::f16;
use rayon::prelude::*;

/// Rows handed to one task: large enough to amortise scheduling, small enough to balance.
const ROWS_PER_TASK: usize = 64;

/// A dense layer `y = W x + b` with `W` row-major (`out` rows of `inp`) in half precision.
pub struct HalfDense {
    w: Vec<f16>,
    b: Vec<f32>,
    pub out: usize,
    pub inp: usize,
}

impl HalfDense {
    /// `w` is row-major f32 (`out` × `inp`), rounded to f16 (exact for weights that came as f16).
    pub fn new(w: &[f32], b: Option<Vec<f32>>, out: usize, inp: usize) -> HalfDense {
        let w = w.iter().map(|v| f16::from_f32(*v)).collect();
        HalfDense { w, b: b.unwrap_or_else(|| vec![0.0; out]), out, inp }
    }

    /// Row `r` of `W`, widened to f32 (an embedding lookup, for tied weights).
    pub fn row(&self, r: usize) -> Vec<f32> {
        self.w[r * self.inp..(r + 1) * self.inp].iter().map(|v| v.to_f32()).collect()
    }

    /// `y = W x + b`.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        debug_assert_eq!(x.len(), self.inp);
        debug_assert_eq!(y.len(), self.out);
        let dot = dot_fn();
        y.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(|(chunk, ys)| {
            let first = chunk * ROWS_PER_TASK;
            for (i, yi) in ys.iter_mut().enumerate() {
                let r = first + i;
                *yi = dot(&self.w[r * self.inp..(r + 1) * self.inp], x) + self.b[r];
            }
        });
    }
}

type Dot = fn(&[f16], &[f32]) -> f32;

fn dot_fn() -> Dot {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
        {
            // SAFETY: the features it is compiled for were just detected.
            return |w, x| unsafe { dot_f16c(w, x) };
        }
    }
    dot_portable
}

fn dot_portable(w: &[f16], x: &[f32]) -> f32 {
    w.iter().zip(x).map(|(a, b)| a.to_f32() * b).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_f16c(w: &[f16], x: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = w.len().min(x.len());
    let (wp, xp) = (w.as_ptr() as *const u16, x.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    // SAFETY: every load reads 8 values at an index below n - 7.
    unsafe {
        while i + 32 <= n {
            for (k, a) in acc.iter_mut().enumerate() {
                let wv = _mm256_cvtph_ps(_mm_loadu_si128(wp.add(i + 8 * k) as *const __m128i));
                *a = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xp.add(i + 8 * k)), *a);
            }
            i += 32;
        }
        while i + 8 <= n {
            let wv = _mm256_cvtph_ps(_mm_loadu_si128(wp.add(i) as *const __m128i));
            acc[0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xp.add(i)), acc[0]);
            i += 8;
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), s);
        let mut total: f32 = lanes.iter().sum();
        while i < n {
            total += w[i].to_f32() * x[i];
            i += 1;
        }
        total
    }
}

/// f32 dot product (attention scores over cached keys).
pub fn dot32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `y += a * x`.
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Layer normalisation (eps 1e-5) into `out`.
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32]) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + 1e-5).sqrt();
    for (((o, v), g), b) in out.iter_mut().zip(x).zip(gamma).zip(beta) {
        *o = (v - mean) * inv * g + b;
    }
}

/// erf as a rational function of x (clamped to ±4, where erf is ±1 in f32): within 1e-7 of
/// the exact value, no exponential, no branch, so the compiler vectorises it.
#[inline]
fn erf(x: f32) -> f32 {
    const A: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const B: [f32; 5] =
        [-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = A[0];
    for c in &A[1..] {
        p = p * x2 + c;
    }
    let mut q = B[0];
    for c in &B[1..] {
        q = q * x2 + c;
    }
    x * p / q
}

/// GELU, `x Φ(x)` with the exact (erf) form Whisper uses, in place, across cores when large.
pub fn gelu(x: &mut [f32]) {
    let f = |c: &mut [f32]| {
        for v in c {
            *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
        }
    };
    if x.len() >= 1 << 16 {
        x.par_chunks_mut(1 << 14).for_each(f);
    } else {
        f(x);
    }
}

/// GELU of a tensor (f32), through `gelu`.
pub fn gelu_tensor(t: &candle_core::Tensor) -> candle_core::Result<candle_core::Tensor> {
    let shape = t.shape().clone();
    let mut v = t.flatten_all()?.to_vec1::<f32>()?;
    gelu(&mut v);
    candle_core::Tensor::from_vec(v, shape, t.device())
}

/// In-place softmax.
pub fn softmax(x: &mut [f32]) {
    let top = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - top).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}

/// In-place log-softmax.
pub fn log_softmax(x: &mut [f32]) {
    let top = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = top + x.iter().map(|v| (v - top).exp()).sum::<f32>().ln();
    for v in x.iter_mut() {
        *v -= lse;
    }
}
