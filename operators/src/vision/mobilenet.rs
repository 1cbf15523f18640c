//! torchvision's MobileNetV2 (width 1.0, ImageNet-1k) in candle, from its state dict. Batch
//! norms are folded into the convolutions at load (inference only); 1×1 convolutions are
//! matrix products; the 3×3 depthwise convolutions run as direct loops (a plane per core),
//! since a grouped convolution with one group per channel would be hundreds of tiny products.

use std::collections::HashMap;

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig};
use rayon::prelude::*;

type Result<T> = std::result::Result<T, String>;

fn ce(e: candle_core::Error) -> String {
    e.to_string()
}

/// (expansion, output channels, repeats, first stride): the paper's table 2.
const SETTINGS: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// A convolution's weight and bias with its batch norm folded in.
struct Folded {
    weight: Tensor,
    bias: Tensor,
}

fn fold(w: &HashMap<String, Tensor>, conv: &str, bn: &str) -> Result<Folded> {
    let get = |n: String| w.get(&n).cloned().ok_or_else(|| format!("the checkpoint has no {n}"));
    let weight = get(format!("{conv}.weight"))?;
    let gamma = get(format!("{bn}.weight"))?;
    let beta = get(format!("{bn}.bias"))?;
    let mean = get(format!("{bn}.running_mean"))?;
    let var = get(format!("{bn}.running_var"))?;
    let f = || -> candle_core::Result<Folded> {
        let scale = (gamma / (var + 1e-5)?.sqrt()?)?;
        let bias = (beta - (&mean * &scale)?)?;
        let out = weight.dim(0)?;
        let weight = weight.broadcast_mul(&scale.reshape((out, 1, 1, 1))?)?;
        Ok(Folded { weight, bias })
    };
    f().map_err(ce)
}

fn relu6(x: &Tensor) -> candle_core::Result<Tensor> {
    x.clamp(0f32, 6f32)
}

/// A 1×1 convolution as a matrix product: (b, c, h, w) → (b, o, h, w).
struct Pointwise {
    weight: Tensor, // (o, c)
    bias: Tensor,   // (o, 1)
}

impl Pointwise {
    fn new(f: Folded) -> Result<Pointwise> {
        let (o, c) = (f.weight.dim(0).map_err(ce)?, f.weight.dim(1).map_err(ce)?);
        Ok(Pointwise {
            weight: f.weight.reshape((o, c)).map_err(ce)?,
            bias: f.bias.reshape((o, 1)).map_err(ce)?,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let o = self.weight.dim(0)?;
        let flat = x.reshape((b, c, h * w))?;
        let y = self.weight.broadcast_left(b)?.matmul(&flat)?.broadcast_add(&self.bias)?;
        y.reshape((b, o, h, w))
    }
}

/// A 3×3 depthwise convolution (padding 1) with a folded bias.
struct Depthwise {
    weight: Vec<f32>, // (c, 9)
    bias: Vec<f32>,
    stride: usize,
}

impl Depthwise {
    fn new(f: Folded, stride: usize) -> Result<Depthwise> {
        let weight = f.weight.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(ce)?;
        let bias = f.bias.to_vec1::<f32>().map_err(ce)?;
        if weight.len() != bias.len() * 9 {
            return Err("a depthwise convolution is not 3×3".into());
        }
        Ok(Depthwise { weight, bias, stride })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let s = self.stride;
        let (oh, ow) = ((h + 2 - 3) / s + 1, (w + 2 - 3) / s + 1);
        let input = x.flatten_all()?.to_vec1::<f32>()?;
        let mut out = vec![0f32; b * c * oh * ow];
        // One plane (an image's channel) per task; within a plane, whole output rows at a time
        // so the inner loops are plain slice arithmetic the compiler vectorises.
        out.par_chunks_mut(oh * ow).enumerate().for_each(|(plane, dst)| {
            let ch = plane % c;
            let src = &input[plane * h * w..(plane + 1) * h * w];
            let k = &self.weight[ch * 9..ch * 9 + 9];
            dst.fill(self.bias[ch]);
            for (oy, drow) in dst.chunks_exact_mut(ow).enumerate() {
                for ky in 0..3 {
                    let iy = (oy * s + ky) as isize - 1;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let row = &src[iy as usize * w..(iy as usize + 1) * w];
                    let (k0, k1, k2) = (k[ky * 3], k[ky * 3 + 1], k[ky * 3 + 2]);
                    if s == 1 {
                        // Output x reads input x-1, x, x+1.
                        drow.iter_mut().zip(row).for_each(|(d, r)| *d += k1 * r);
                        drow[1..].iter_mut().zip(&row[..w - 1]).for_each(|(d, r)| *d += k0 * r);
                        drow[..ow - 1].iter_mut().zip(&row[1..]).for_each(|(d, r)| *d += k2 * r);
                    } else {
                        // Output x reads input 2x-1, 2x, 2x+1.
                        for (ox, d) in drow.iter_mut().enumerate() {
                            let ix = ox * 2;
                            let left = if ix >= 1 { row[ix - 1] } else { 0.0 };
                            let right = row.get(ix + 1).copied().unwrap_or(0.0);
                            *d += k0 * left + k1 * row[ix] + k2 * right;
                        }
                    }
                }
            }
        });
        Tensor::from_vec(out, (b, c, oh, ow), x.device())
    }
}

struct Block {
    expand: Option<Pointwise>,
    depthwise: Depthwise,
    project: Pointwise,
    residual: bool,
}

impl Block {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        if let Some(e) = &self.expand {
            h = relu6(&e.forward(&h)?)?;
        }
        h = relu6(&self.depthwise.forward(&h)?)?;
        h = self.project.forward(&h)?;
        if self.residual { x + h } else { Ok(h) }
    }
}

pub struct MobileNetV2 {
    stem: Conv2d,
    blocks: Vec<Block>,
    head: Pointwise,
    classifier: candle_nn::Linear,
}

impl MobileNetV2 {
    pub fn load(w: &HashMap<String, Tensor>) -> Result<MobileNetV2> {
        let stem = fold(w, "features.0.0", "features.0.1")?;
        let stem = Conv2d::new(
            stem.weight,
            Some(stem.bias),
            Conv2dConfig { padding: 1, stride: 2, dilation: 1, groups: 1, cudnn_fwd_algo: None },
        );
        let mut blocks = Vec::new();
        let (mut input, mut index) = (32, 1);
        for (t, c, n, s) in SETTINGS {
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                let p = format!("features.{index}.conv");
                let (expand, dw, proj, bn) = if t == 1 {
                    (None, format!("{p}.0"), format!("{p}.1"), format!("{p}.2"))
                } else {
                    (
                        Some(Pointwise::new(fold(w, &format!("{p}.0.0"), &format!("{p}.0.1"))?)?),
                        format!("{p}.1"),
                        format!("{p}.2"),
                        format!("{p}.3"),
                    )
                };
                let depthwise =
                    Depthwise::new(fold(w, &format!("{dw}.0"), &format!("{dw}.1"))?, stride)?;
                let project = Pointwise::new(fold(w, &proj, &bn)?)?;
                blocks.push(Block {
                    expand,
                    depthwise,
                    project,
                    residual: stride == 1 && input == c,
                });
                input = c;
                index += 1;
            }
        }
        let head = Pointwise::new(fold(
            w,
            &format!("features.{index}.0"),
            &format!("features.{index}.1"),
        )?)?;
        let get = |n: &str| w.get(n).cloned().ok_or_else(|| format!("the checkpoint has no {n}"));
        let classifier =
            candle_nn::Linear::new(get("classifier.1.weight")?, Some(get("classifier.1.bias")?));
        Ok(MobileNetV2 { stem, blocks, head, classifier })
    }

    /// Class probabilities for normalised pictures `(batch, 3, 224, 224)` → `(batch, 1000)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let f = || -> candle_core::Result<Tensor> {
            let mut h = relu6(&self.stem.forward(x)?)?;
            for b in &self.blocks {
                h = b.forward(&h)?;
            }
            h = relu6(&self.head.forward(&h)?)?;
            let pooled = h.mean(D::Minus1)?.mean(D::Minus1)?;
            let logits = self.classifier.forward(&pooled)?;
            candle_nn::ops::softmax_last_dim(&logits)?.to_dtype(DType::F32)
        };
        f().map_err(ce)
    }
}

/// ImageNet's normalisation of an RGB picture already cut to `side`×`side`, as (3, side, side).
pub fn normalise(rgb: &[u8], side: usize, device: &Device) -> Result<Tensor> {
    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
    const STD: [f32; 3] = [0.229, 0.224, 0.225];
    if rgb.len() != side * side * 3 {
        return Err(format!("expected {side}×{side} RGB, got {} bytes", rgb.len()));
    }
    let mut planar = vec![0f32; 3 * side * side];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            planar[c * side * side + i] = (f32::from(px[c]) / 255.0 - MEAN[c]) / STD[c];
        }
    }
    Tensor::from_vec(planar, (3, side, side), device).map_err(ce)
}
