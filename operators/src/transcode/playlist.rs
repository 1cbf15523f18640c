//! HLS master playlists: one variant per rung, with the bandwidth measured from its segments
//! and the codecs read from the encodes, so players (hls.js) can pick a rung before loading it.

use std::path::Path;

/// `avc1.PPCCLL` from an H.264 SPS found in Annex-B or avcC extradata.
pub fn avc_codecs_string(extradata: &[u8]) -> Option<String> {
    // avcC: version 1, then profile, compatibility, level.
    if extradata.len() >= 4 && extradata[0] == 1 {
        return Some(format!("avc1.{:02x}{:02x}{:02x}", extradata[1], extradata[2], extradata[3]));
    }
    let mut i = 0;
    while i + 3 < extradata.len() {
        if extradata[i..i + 3] == [0, 0, 1] {
            let nal = i + 3;
            if extradata[nal] & 0x1f == 7 && nal + 3 < extradata.len() {
                return Some(format!(
                    "avc1.{:02x}{:02x}{:02x}",
                    extradata[nal + 1],
                    extradata[nal + 2],
                    extradata[nal + 3]
                ));
            }
            i = nal;
        } else {
            i += 1;
        }
    }
    None
}

/// A rung as the master playlist lists it.
pub struct Variant {
    /// The media playlist, relative to the master.
    pub uri: String,
    pub width: u32,
    pub height: u32,
    pub codecs: String,
    pub frame_rate: f64,
}

/// Peak and average bits per second of a media playlist's segments.
pub fn measure(playlist: &Path) -> std::io::Result<(u64, u64)> {
    let text = std::fs::read_to_string(playlist)?;
    let dir = playlist.parent().unwrap_or(Path::new("."));
    let (mut peak, mut bits, mut seconds) = (0f64, 0f64, 0f64);
    let mut duration = None;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration = d.split(',').next().and_then(|v| v.trim().parse::<f64>().ok());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let size = std::fs::metadata(dir.join(line.trim()))?.len() as f64 * 8.0;
            if let Some(d) = duration.take().filter(|d| *d > 0.0) {
                peak = peak.max(size / d);
                bits += size;
                seconds += d;
            }
        }
    }
    let average = if seconds > 0.0 { bits / seconds } else { 0.0 };
    Ok((peak.ceil() as u64, average.ceil() as u64))
}

/// Writes the master playlist listing `variants` (each with its measured bandwidth).
pub fn write_master(path: &Path, variants: &[(Variant, u64, u64)]) -> std::io::Result<()> {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (v, peak, average) in variants {
        out.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={}x{},CODECS=\"{}\",FRAME-RATE={:.3}\n{}\n",
            v.width, v.height, v.codecs, v.frame_rate, v.uri
        ));
    }
    std::fs::write(path, out)
}
