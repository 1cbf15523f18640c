//! Image labels: ImageNet classes with scores for pictures and video frames, from torchvision's
//! MobileNetV2 weights (a legacy `.pth`, read without torch by `pth`), run in candle
//! (`mobilenet`). Pictures are prepared as torchvision's reference evaluation does: shorter
//! side scaled to 256 (area averaging), centre 224×224 crop, ImageNet mean/std.
//!
//! Class names (`imagenet_classes.txt`) are torchvision's, as published in pytorch/hub. Each
//! label also gets a plain word for its group where one fits ("tabby" → "cat"), so an editor's
//! everyday word finds it.

pub(crate) mod mobilenet;
pub mod pth;

use std::path::{Path, PathBuf};

use candle_core::Device;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::video::Video as VideoFrame;

use crate::OperatorError;
use crate::probe::ProbeLimits;
use crate::thumbnail::{Source, decode_picture, orient};

const CLASSES: &str = include_str!("imagenet_classes.txt");
const SIDE: usize = 224;
const RESIZE: u32 = 256;

/// Plain words for groups of ImageNet classes (inclusive index ranges).
const GROUPS: &[(usize, usize, &str)] = &[
    (0, 6, "fish"),
    (7, 24, "bird"),
    (25, 32, "amphibian"),
    (33, 68, "reptile"),
    (80, 100, "bird"),
    (127, 146, "bird"),
    (151, 268, "dog"),
    (269, 280, "wild dog"),
    (281, 285, "cat"),
    (286, 293, "big cat"),
    (294, 297, "bear"),
    (300, 326, "insect"),
    (365, 382, "monkey"),
    (385, 386, "elephant"),
    (389, 397, "fish"),
];

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("label model {path}: {reason}")]
    Model { path: PathBuf, reason: String },
    #[error("running the label model: {0}")]
    Inference(String),
}

/// One class with its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub name: String,
    pub score: f32,
}

pub struct Labeller {
    model: mobilenet::MobileNetV2,
    classes: Vec<&'static str>,
    device: Device,
    /// Model name and version, recorded beside every label it gives.
    pub name: String,
}

/// The plain group word of an ImageNet class, if it has one.
pub fn group_of(class: usize) -> Option<&'static str> {
    GROUPS.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&class)).map(|(_, _, g)| *g)
}

impl Labeller {
    /// Loads MobileNetV2 from a torchvision checkpoint (`mobilenet_v2-b0353104.pth`).
    pub fn load(path: &Path, name: &str) -> Result<Labeller, LabelError> {
        let fail = |reason: String| LabelError::Model { path: path.to_path_buf(), reason };
        let device = Device::Cpu;
        let weights = pth::read(path, &device).map_err(|e| fail(e.to_string()))?;
        let model = mobilenet::MobileNetV2::load(&weights).map_err(fail)?;
        let classes: Vec<&'static str> = CLASSES.lines().collect();
        Ok(Labeller { model, classes, device, name: name.to_string() })
    }

    /// The `k` likeliest classes of each prepared picture (see `prepare`), best first.
    pub fn classify(
        &self,
        pictures: &[Vec<u8>],
        k: usize,
    ) -> Result<Vec<Vec<(usize, f32)>>, LabelError> {
        if pictures.is_empty() {
            return Ok(Vec::new());
        }
        // One picture per forward pass: on CPU each 1×1 convolution is already a large matrix
        // product per picture, and batching pictures measured slower (bench-ai).
        let mut rows = Vec::with_capacity(pictures.len());
        for p in pictures {
            let input = mobilenet::normalise(p, SIDE, &self.device)
                .and_then(|t| t.unsqueeze(0).map_err(|e| e.to_string()))
                .map_err(LabelError::Inference)?;
            let probs = self.model.forward(&input).map_err(LabelError::Inference)?;
            rows.extend(probs.to_vec2::<f32>().map_err(|e| LabelError::Inference(e.to_string()))?);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut ranked: Vec<(usize, f32)> = row.into_iter().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                ranked.truncate(k);
                ranked
            })
            .collect())
    }

    pub fn class_name(&self, class: usize) -> &str {
        self.classes.get(class).copied().unwrap_or("unknown")
    }

    /// Readable labels of classified pictures: every class scoring at least `min_score`
    /// (pooled over the pictures by their best score), plus the group words of those classes.
    pub fn labels(&self, ranked: &[Vec<(usize, f32)>], min_score: f32) -> Vec<Label> {
        let mut best: Vec<(usize, f32)> = Vec::new();
        for (class, score) in ranked.iter().flatten().copied().filter(|(_, s)| *s >= min_score) {
            match best.iter_mut().find(|(c, _)| *c == class) {
                Some(b) => b.1 = b.1.max(score),
                None => best.push((class, score)),
            }
        }
        best.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut out: Vec<Label> = best
            .iter()
            .map(|(c, s)| Label { name: self.class_name(*c).to_string(), score: *s })
            .collect();
        for (class, score) in &best {
            if let Some(g) = group_of(*class) {
                match out.iter_mut().find(|l| l.name == g) {
                    Some(l) => l.score = l.score.max(*score),
                    None => out.push(Label { name: g.to_string(), score: *score }),
                }
            }
        }
        out
    }
}

/// A decoded picture (from `path`, named in errors) as the model takes it: upright, shorter
/// side 256, centre 224×224, RGB.
pub fn prepare(
    frame: &VideoFrame,
    orientation: u16,
    path: &Path,
) -> Result<Vec<u8>, OperatorError> {
    prepare_square(frame, orientation, path, RESIZE, SIDE)
}

/// A decoded picture upright, its shorter side scaled to `resize`, the centre `side`×`side`
/// (RGB, row-major): the input of a picture model (MobileNetV2: 256 then 224; CLIP: its
/// image size for both).
pub fn prepare_square(
    frame: &VideoFrame,
    orientation: u16,
    path: &Path,
    resize: u32,
    side: usize,
) -> Result<Vec<u8>, OperatorError> {
    let bad = |e: ffmpeg_next::Error| OperatorError::Transcode {
        path: path.to_path_buf(),
        what: "label input".into(),
        reason: e.to_string(),
    };
    let (w, h) = (frame.width().max(1), frame.height().max(1));
    // The upright picture's sides: orientations 5–8 swap them.
    let (uw, uh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let scale = f64::from(resize.max(side as u32)) / f64::from(uw.min(uh));
    // Never below the crop, even for a thin strip or a 1×1 picture.
    let sw = ((f64::from(uw) * scale).round() as u32).max(side as u32);
    let sh = ((f64::from(uh) * scale).round() as u32).max(side as u32);
    // Scaled (in stored orientation) straight to RGB, then turned upright: `orient` takes RGB24.
    let (stored_w, stored_h) = if orientation >= 5 { (sh, sw) } else { (sw, sh) };
    let rgb = orient(
        &crate::transcode::scale_picture(frame, stored_w, stored_h, Pixel::RGB24).map_err(bad)?,
        orientation,
    );
    let (x0, y0) = ((sw as usize - side) / 2, (sh as usize - side) / 2);
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    let mut out = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        let row = (y0 + y) * stride + x0 * 3;
        out.extend_from_slice(
            data.get(row..row + side * 3).ok_or_else(|| bad(ffmpeg_next::Error::InvalidData))?,
        );
    }
    Ok(out)
}

/// A still image prepared for the model, upright by its EXIF orientation.
pub fn prepare_image(
    path: &Path,
    orientation: Option<u16>,
    limits: ProbeLimits,
) -> Result<Vec<u8>, OperatorError> {
    let (frame, _) = decode_picture(path, Source::Image { orientation }, limits)?;
    prepare(&frame, orientation.unwrap_or(1), path)
}

/// A still image as a square picture model takes it (see `prepare_square`).
pub fn prepare_image_square(
    path: &Path,
    orientation: Option<u16>,
    limits: ProbeLimits,
    side: usize,
) -> Result<Vec<u8>, OperatorError> {
    let (frame, _) = decode_picture(path, Source::Image { orientation }, limits)?;
    prepare_square(&frame, orientation.unwrap_or(1), path, side as u32, side)
}
