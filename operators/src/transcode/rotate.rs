//! Display rotation of videos: phones store landscape pictures with a display matrix that says
//! "turn me"; players (and the ffmpeg CLI) show them upright, so renditions are made upright.

use ffmpeg_next::codec::packet::side_data::Type as SideDataType;
use ffmpeg_next::format::stream::Stream;
use ffmpeg_next::util::frame::video::Video as VideoFrame;

/// Clockwise quarter turns (0 to 3) that show `stream` upright, from its display matrix.
pub fn quarter_turns(stream: &Stream) -> u8 {
    for sd in stream.side_data() {
        if sd.kind() != SideDataType::DisplayMatrix || sd.data().len() < 36 {
            continue;
        }
        let m: Vec<f64> = sd
            .data()
            .chunks_exact(4)
            .take(9)
            .map(|c| f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])) / 65536.0)
            .collect();
        let (s0, s1) = (m[0].hypot(m[3]), m[1].hypot(m[4]));
        if s0 == 0.0 || s1 == 0.0 {
            return 0;
        }
        // As FFmpeg's av_display_rotation_get, negated: the clockwise angle to display.
        let theta = (m[1] / s1).atan2(m[0] / s0).to_degrees();
        let turns = (theta / 90.0).round().rem_euclid(4.0);
        return turns as u8;
    }
    0
}

/// The EXIF orientation that turns a picture clockwise by `turns` quarters.
pub fn exif_orientation(turns: u8) -> u16 {
    match turns % 4 {
        1 => 6,
        2 => 3,
        3 => 8,
        _ => 1,
    }
}

/// Rotates a planar 8-bit picture (YUV 4:2:0) clockwise by `turns` quarters into `dst`, which
/// has the rotated size.
pub fn rotate_planar(src: &VideoFrame, dst: &mut VideoFrame, turns: u8) {
    for plane in 0..src.planes().min(dst.planes()) {
        let (sw, sh) = (src.plane_width(plane) as usize, src.plane_height(plane) as usize);
        let (ss, ds) = (src.stride(plane), dst.stride(plane));
        let s = src.data(plane);
        let d = dst.data_mut(plane);
        for y in 0..sh {
            let row = &s[y * ss..y * ss + sw];
            for (x, &v) in row.iter().enumerate() {
                let (nx, ny) = match turns % 4 {
                    1 => (sh - 1 - y, x),
                    2 => (sw - 1 - x, sh - 1 - y),
                    3 => (y, sw - 1 - x),
                    _ => (x, y),
                };
                d[ny * ds + nx] = v;
            }
        }
    }
}
