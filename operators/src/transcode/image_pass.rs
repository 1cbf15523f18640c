//! The image renditions: one decode, each size scaled from it and turned upright by its EXIF
//! orientation, encoded as WebP (`webp-{long side}`) and as the display JPEG (which keeps the
//! master's ICC colour profile).

use std::path::Path;

use acervo_catalog::RenditionProfiles;
use ffmpeg_next::format::Pixel;

use super::geometry::fit_box;
use super::stills::{StillFormat, encode, jpeg_with_icc, scale};
use super::video_pass::write_one;
use super::{Control, Produced};
use crate::error::OperatorError;
use crate::probe::ProbeLimits;
use crate::thumbnail::{Source, decode_picture, orient};

pub fn image_pass(
    path: &Path,
    out: &Path,
    profiles: &RenditionProfiles,
    orientation: Option<u16>,
    limits: ProbeLimits,
    ctl: &Control,
) -> Result<Vec<Produced>, OperatorError> {
    let (frame, _) = decode_picture(path, Source::Image { orientation }, limits)?;
    // The master's colour profile (JPEG APP2, PNG iCCP), kept in the display JPEG.
    let icc = frame
        .side_data(ffmpeg_next::util::frame::side_data::Type::IccProfile)
        .map(|sd| sd.data().to_vec());
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: ffmpeg_next::Error| OperatorError::Transcode {
            path: path.to_path_buf(),
            what: what.clone(),
            reason: e.to_string(),
        }
    };
    let mut plan: Vec<(String, u32, u32, StillFormat, &'static str, &'static str)> = profiles
        .webp
        .iter()
        .map(|p| {
            (
                format!("webp-{}", p.long_side),
                p.long_side,
                p.short_side,
                StillFormat::WebP { quality: p.quality },
                "output.webp",
                "image/webp",
            )
        })
        .collect();
    let d = &profiles.display;
    plan.push((
        "display".into(),
        d.long_side,
        d.short_side,
        StillFormat::Jpeg { qscale: d.quality },
        "output.jpg",
        "image/jpeg",
    ));
    let mut produced = Vec::new();
    let total = plan.len();
    for (i, (profile, long, short, format, name, mime)) in plan.into_iter().enumerate() {
        if ctl.cancelled() {
            return Err(OperatorError::Cancelled);
        }
        if !(ctl.wanted)(&profile) {
            continue;
        }
        // FFmpeg's libwebp encoder crops odd sides of lossy pictures: WebP sizes are scaled to
        // even sides instead (the aspect ratio within one pixel), the JPEG keeps odd ones.
        let even = matches!(format, StillFormat::WebP { .. });
        let (w, h) = fit_box(frame.width(), frame.height(), long, short, even);
        let scaled = scale(&frame, w, h, Pixel::RGB24).map_err(fail(&profile))?;
        let upright = orient(&scaled, orientation.unwrap_or(1));
        let mut bytes = encode(&upright, format).map_err(fail(&profile))?;
        if let (StillFormat::Jpeg { .. }, Some(icc)) = (format, icc.as_deref()) {
            bytes = jpeg_with_icc(&bytes, icc);
        }
        produced.push(write_one(
            out,
            &profile,
            name,
            &bytes,
            mime,
            Some((upright.width(), upright.height())),
        )?);
        (ctl.progress)((i + 1) as f32 / total as f32);
    }
    Ok(produced)
}
