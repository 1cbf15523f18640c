//! Output picture sizes: the aspect ratio kept, never enlarged, even sides for 4:2:0 video.

/// Fits `w`×`h` within a box whose long side is `long` and short side `short`, whatever the
/// picture's orientation (a portrait picture fits `short` across and `long` down). Never
/// enlarges. With `even`, both sides are rounded to even numbers (H.264 4:2:0 needs them).
pub fn fit_box(w: u32, h: u32, long: u32, short: u32, even: bool) -> (u32, u32) {
    let (w, h) = (w.max(1), h.max(1));
    let (bw, bh) = if w >= h { (long, short) } else { (short, long) };
    let scale = (f64::from(bw) / f64::from(w)).min(f64::from(bh) / f64::from(h)).min(1.0);
    // Nearest even number, but never past the source side (that would enlarge it).
    let round = |v: f64, side: u32| -> u32 {
        if even {
            let r = (v / 2.0).round() as u32 * 2;
            (if r > side { r - 2 } else { r }).max(2)
        } else {
            (v.round() as u32).max(1)
        }
    };
    (round(f64::from(w) * scale, w), round(f64::from(h) * scale, h))
}
