//! bench-renditions: the full video rendition matrix of a generated 1080p clip, Acervo's single
//! pass against the ffmpeg CLI making the same outputs (a) by separate runs and (b) in one run
//! that decodes once and splits; and one rendition (web) against one ffmpeg run with the same
//! settings. Prints times, output sizes and SSIM/PSNR against the master.
//!
//! `bench-renditions [--seconds 60] [--dir DIR] [--preset medium]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use acervo_catalog::AcervoConfig;
use acervo_catalog::profiles::{RenditionProfiles, VideoProfile};
use acervo_operators::transcode::{Control, fit_box, video_pass, x264_params};
use anyhow::{Context, bail};

fn ffmpeg(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .context("running ffmpeg")?;
    if !out.status.success() {
        bail!("ffmpeg {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn du(path: &Path) -> u64 {
    if path.is_file() {
        return path.metadata().map_or(0, |m| m.len());
    }
    std::fs::read_dir(path).map_or(0, |rd| rd.flatten().map(|e| du(&e.path())).sum())
}

/// SSIM and PSNR (luma-weighted "All") of `output` against the master scaled to its size.
fn quality(output: &Path, master: &Path, w: u32, h: u32) -> anyhow::Result<(f64, f64)> {
    let graph = format!(
        "[1:v]scale={w}:{h}:flags=bicubic[r];[0:v]split[a][b];[r]split[r1][r2];[a][r1]ssim;[b][r2]psnr"
    );
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(output)
        .arg("-i")
        .arg(master)
        .args(["-lavfi", &graph, "-f", "null", "-"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let grab = |key: &str, after: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.contains(key))?;
        let v = line.split(after).nth(1)?.split_whitespace().next()?;
        v.parse().ok()
    };
    let ssim = grab("SSIM Y:", "All:").context("no SSIM in ffmpeg's output")?;
    let psnr = grab("PSNR y:", "average:").context("no PSNR in ffmpeg's output")?;
    Ok((ssim, psnr))
}

fn x264_args(p: &VideoProfile, preset: &str, gop: u32) -> Vec<String> {
    vec![
        "-c:v".into(),
        "libx264".into(),
        "-preset".into(),
        preset.into(),
        "-profile:v".into(),
        p.h264_profile.clone(),
        "-b:v".into(),
        format!("{}k", p.bitrate_kbps),
        "-x264-params".into(),
        // Exactly the options Acervo's encoder opens with.
        x264_params(p, gop),
        "-pix_fmt".into(),
        "yuv420p".into(),
    ]
}

const AAC: [&str; 6] = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"];

/// The ffmpeg CLI arguments of one output of the matrix (after its video/audio mapping).
fn output_args(
    name: &str,
    p: &VideoProfile,
    profiles: &RenditionProfiles,
    gop: u32,
    dir: &Path,
    hls: bool,
) -> Vec<String> {
    let mut a = x264_args(p, &profiles.x264_preset, gop);
    a.extend(AAC.iter().map(|s| s.to_string()));
    if hls {
        let d = dir.join("hls").join(name);
        let _ = std::fs::create_dir_all(&d);
        a.extend(
            [
                "-f",
                "hls",
                "-hls_time",
                &profiles.hls.segment_seconds.to_string(),
                "-hls_playlist_type",
                "vod",
                "-hls_segment_type",
                "fmp4",
                "-hls_fmp4_init_filename",
                "init.mp4",
                "-hls_segment_filename",
                &d.join("seg_%05d.m4s").to_string_lossy(),
            ]
            .map(String::from),
        );
        a.push(d.join("index.m3u8").to_string_lossy().into());
    } else {
        a.extend(["-movflags", "+faststart"].map(String::from));
        a.push(dir.join(format!("{name}.mp4")).to_string_lossy().into());
    }
    a
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opt =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u32 = opt("--seconds").map_or(Ok(60), |s| s.parse()).context("--seconds")?;
    let dir = PathBuf::from(opt("--dir").unwrap_or_else(|| "/tmp/bench-renditions".into()));
    let mut profiles = AcervoConfig::defaults().renditions;
    if let Some(p) = opt("--preset") {
        profiles.x264_preset = p;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let master = dir.join("master.mp4");
    // A camera-like master: 50 Mb/s H.264 of a moving pattern under light grain (so encoders
    // work for their bits), stereo AAC.
    println!("generating a {seconds} s 1080p25 master (50 Mb/s H.264, stereo AAC) …");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=1920x1080:rate=25:duration={seconds},noise=alls=6:allf=t"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-b:v",
        "50M",
        "-maxrate",
        "50M",
        "-bufsize",
        "100M",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        master.to_str().context("path")?,
    ])?;
    let gop = (25.0 * profiles.gop_seconds).round() as u32;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("x264 preset {}, GOP {gop} frames, {cores} cores", profiles.x264_preset);

    // Acervo: every video rendition in one pass.
    let acervo_dir = dir.join("acervo");
    std::fs::create_dir_all(&acervo_dir)?;
    let cancel = AtomicBool::new(false);
    let all = |_: &str| true;
    let ctl = Control { cancel: &cancel, progress: &|_| {}, wanted: &all };
    let t = Instant::now();
    let produced = video_pass(&master, &acervo_dir, &profiles, f64::from(seconds), &ctl)?;
    let acervo_full = t.elapsed().as_secs_f64();
    let names: Vec<_> = produced.iter().map(|p| p.profile.as_str()).collect();
    println!("acervo single pass: {acervo_full:.1} s ({})", names.join(", "));

    // (a) separate ffmpeg CLI runs, one per output.
    let sep_dir = dir.join("separate");
    std::fs::create_dir_all(&sep_dir)?;
    let m = master.to_string_lossy().to_string();
    let t = Instant::now();
    for (name, p) in &profiles.video {
        let (w, h) = fit_box(1920, 1080, p.long_side, p.short_side, true);
        let mut runs = Vec::new();
        if p.mp4 {
            runs.push(false);
        }
        if profiles.hls.ladder.contains(name) {
            runs.push(true);
        }
        for hls in runs {
            let mut a = vec!["-i".to_string(), m.clone(), "-vf".into(), format!("scale={w}:{h}")];
            a.extend(output_args(name, p, &profiles, gop, &sep_dir, hls));
            ffmpeg(&a.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
    }
    let still_runs = |d: &Path| -> anyhow::Result<()> {
        let at = format!("{}", f64::from(seconds) * 0.1);
        ffmpeg(&[
            "-ss",
            &at,
            "-i",
            &m,
            "-frames:v",
            "1",
            "-q:v",
            "3",
            &d.join("poster.jpg").to_string_lossy(),
        ])?;
        ffmpeg(&[
            "-i",
            &m,
            "-vf",
            "fps=1/2,scale=160:90,tile=10x3",
            "-frames:v",
            "1",
            "-q:v",
            "4",
            &d.join("storyboard.jpg").to_string_lossy(),
        ])?;
        ffmpeg(&[
            "-i",
            &m,
            "-filter_complex",
            "aformat=channel_layouts=mono,showwavespic=s=1800x280",
            "-frames:v",
            "1",
            &d.join("waveform.png").to_string_lossy(),
        ])
    };
    still_runs(&sep_dir)?;
    let separate = t.elapsed().as_secs_f64();
    println!("ffmpeg CLI, separate runs: {separate:.1} s");

    // (b) one ffmpeg CLI run: decode once, split to every output (each still encoded by itself).
    let one_dir = dir.join("one-run");
    std::fs::create_dir_all(&one_dir)?;
    let mut outputs: Vec<(String, VideoProfile, bool)> = Vec::new();
    for (name, p) in &profiles.video {
        if p.mp4 {
            outputs.push((name.clone(), p.clone(), false));
        }
        if profiles.hls.ladder.contains(name) {
            outputs.push((name.clone(), p.clone(), true));
        }
    }
    let n = outputs.len() + 2;
    let mut graph = format!("[0:v]split={n}");
    for i in 0..n {
        graph.push_str(&format!("[v{i}]"));
    }
    graph.push(';');
    for (i, (_, p, _)) in outputs.iter().enumerate() {
        let (w, h) = fit_box(1920, 1080, p.long_side, p.short_side, true);
        graph.push_str(&format!("[v{i}]scale={w}:{h}[o{i}];"));
    }
    let (pi, si) = (outputs.len(), outputs.len() + 1);
    graph.push_str(&format!(
        "[v{pi}]select='gte(t\\,{})',scale=1920:1080[poster];[v{si}]fps=1/2,scale=160:90,tile=10x3[sb];[0:a]aformat=channel_layouts=mono,showwavespic=s=1800x280[wave]",
        f64::from(seconds) * 0.1
    ));
    let mut a = vec!["-i".to_string(), m.clone(), "-filter_complex".into(), graph];
    for (i, (name, p, hls)) in outputs.iter().enumerate() {
        a.extend(["-map".into(), format!("[o{i}]"), "-map".into(), "0:a".into()]);
        a.extend(output_args(name, p, &profiles, gop, &one_dir, *hls));
    }
    a.extend(["-map", "[poster]", "-frames:v", "1", "-q:v", "3"].map(String::from));
    a.push(one_dir.join("poster.jpg").to_string_lossy().into());
    a.extend(["-map", "[sb]", "-frames:v", "1", "-q:v", "4"].map(String::from));
    a.push(one_dir.join("storyboard.jpg").to_string_lossy().into());
    a.extend(["-map", "[wave]", "-frames:v", "1"].map(String::from));
    a.push(one_dir.join("waveform.png").to_string_lossy().into());
    let t = Instant::now();
    ffmpeg(&a.iter().map(String::as_str).collect::<Vec<_>>())?;
    let one_run = t.elapsed().as_secs_f64();
    println!("ffmpeg CLI, one run split to every output: {one_run:.1} s");

    // (c) one rendition (web) against one ffmpeg run with the same settings.
    let web = profiles.video.get("web").context("no web profile")?.clone();
    let single_dir = dir.join("single");
    std::fs::create_dir_all(&single_dir)?;
    let only_web = |p: &str| p == "web";
    let ctl = Control { cancel: &cancel, progress: &|_| {}, wanted: &only_web };
    let t = Instant::now();
    video_pass(&master, &single_dir.join("acervo"), &profiles, f64::from(seconds), &ctl)?;
    let acervo_web = t.elapsed().as_secs_f64();
    let (w, h) = fit_box(1920, 1080, web.long_side, web.short_side, true);
    let mut a = vec!["-i".to_string(), m.clone(), "-vf".into(), format!("scale={w}:{h}")];
    a.extend(output_args("web", &web, &profiles, gop, &single_dir, false));
    let t = Instant::now();
    ffmpeg(&a.iter().map(String::as_str).collect::<Vec<_>>())?;
    let cli_web = t.elapsed().as_secs_f64();

    println!();
    println!(
        "## full video matrix of a {seconds} s 1080p25 clip ({cores} cores, preset {})",
        profiles.x264_preset
    );
    println!("| run | time (s) | Acervo ÷ run | goal |");
    println!("|---|---:|---:|---|");
    println!("| Acervo single pass (3 encodes, 5 packagings) | {acervo_full:.1} | 1.00 | |");
    println!(
        "| (a) ffmpeg CLI, separate runs (5 encodes + 3 stills) | {separate:.1} | {:.2} | ≤ 0.60 |",
        acervo_full / separate
    );
    println!(
        "| (b) ffmpeg CLI, one run, decode once + split (5 encodes) | {one_run:.1} | {:.2} | ≤ 0.75 |",
        acervo_full / one_run
    );
    println!(
        "| (c) web only: Acervo {acervo_web:.1} s vs ffmpeg CLI | {cli_web:.1} | {:.2} | ≤ 1.05 |",
        acervo_web / cli_web
    );
    println!();
    println!(
        "| output | Acervo size | Acervo SSIM / PSNR | ffmpeg (separate) size | ffmpeg SSIM / PSNR |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, p) in &profiles.video {
        if !p.mp4 {
            continue;
        }
        let (w, h) = fit_box(1920, 1080, p.long_side, p.short_side, true);
        let ours = acervo_dir.join(name).join("output.mp4");
        let theirs = sep_dir.join(format!("{name}.mp4"));
        let (qs, qp) = quality(&ours, &master, w, h)?;
        let (ts, tp) = quality(&theirs, &master, w, h)?;
        println!(
            "| {name} {w}x{h} {} kb/s | {:.1} MiB | {qs:.4} / {qp:.2} dB | {:.1} MiB | {ts:.4} / {tp:.2} dB |",
            p.bitrate_kbps,
            du(&ours) as f64 / 1048576.0,
            du(&theirs) as f64 / 1048576.0
        );
    }
    println!(
        "| HLS ladder (all rungs) | {:.1} MiB | | {:.1} MiB | |",
        du(&acervo_dir.join("hls")) as f64 / 1048576.0,
        du(&sep_dir.join("hls")) as f64 / 1048576.0
    );
    let (ws, wp) =
        quality(&single_dir.join("acervo").join("web").join("output.mp4"), &master, w, h)?;
    let (cs, cp) = quality(&single_dir.join("web.mp4"), &master, w, h)?;
    println!(
        "| (c) web alone | {ws:.4} / {wp:.2} dB (Acervo) | | {cs:.4} / {cp:.2} dB (ffmpeg) | |"
    );
    Ok(())
}
