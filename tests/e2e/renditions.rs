//! The rendition matrix over real media: every profile of a 1080p clip checked with ffprobe
//! (codec, size, bitrate, duration), the HLS ladder fetched over HTTP and every segment decoded,
//! portrait video, EXIF-rotated and odd-sized images and a mono 8 kHz WAV sized right.

use std::path::Path;
use std::time::Duration;

use acervo_tests::*;
use serde_json::Value;

const READY: Duration = Duration::from_secs(300);

fn rendition<'a>(asset: &'a Value, profile: &str) -> &'a Value {
    asset["renditions"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["profile"] == profile))
        .unwrap_or_else(|| panic!("no {profile} rendition in {}", asset["renditions"]))
}

fn profiles(asset: &Value) -> Vec<String> {
    let mut p: Vec<String> = asset["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].as_str().unwrap().to_string())
        .collect();
    p.sort();
    p
}

async fn download(
    c: &reqwest::Client,
    server: &Server,
    url: &str,
    to: &Path,
) -> reqwest::header::HeaderMap {
    let resp = c.get(server.url(url)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    let headers = resp.headers().clone();
    std::fs::write(to, resp.bytes().await.unwrap()).unwrap();
    headers
}

fn video_stream(probe: &Value) -> &Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream")
}

fn audio_stream(probe: &Value) -> &Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .expect("an audio stream")
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn within(actual: f64, target: f64, share: f64) -> bool {
    (actual - target).abs() <= target * share
}

/// The raw H.264 elementary stream of a file's video (to compare encodes byte for byte).
fn h264_bitstream(path: &Path) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v", "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1080p_clip_gets_every_video_profile_with_the_right_codec_size_bitrate_and_duration() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let master = dir.join("pleno.mp4");
    make_grainy_video(&master, 20, 1920, 1080).unwrap();
    // ultrafast (the tests' default) uses no High-profile tools; veryfast does.
    let server =
        Server::start_with(&dir.join("home"), &[("ACERVO_RENDITIONS__X264_PRESET", "veryfast")])
            .unwrap();
    let c = client();
    let id = upload_ok(&c, &server, &master, "Pleno municipal", "pleno").await.unwrap();
    let asset = wait_status(&c, &server, &id, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(asset["status"], "ready", "{asset}");
    assert_eq!(
        profiles(&asset),
        ["hls", "peaks", "poster", "proxy", "storyboard", "thumbnail", "waveform", "web"]
            .map(String::from)
            .to_vec()
    );

    // Progressive MP4s: codec, profile, size, bitrate within 20 % of target, duration within 100 ms.
    for (profile, w, h, kbps, h264) in
        [("proxy", 1920, 1080, 5000.0, "High"), ("web", 1280, 720, 1500.0, "Main")]
    {
        let r = rendition(&asset, profile);
        assert!(r["key"].as_str().unwrap().starts_with(&format!("proxies/{id}/")), "{r}");
        let file = dir.join(format!("{profile}.mp4"));
        let headers = download(&c, &server, r["url"].as_str().unwrap(), &file).await;
        assert_eq!(headers["content-type"], "video/mp4");
        assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
        assert_eq!(sha256_file(&file).unwrap(), r["sha256"].as_str().unwrap());
        let probe = ffprobe(&file).unwrap();
        let v = video_stream(&probe);
        assert_eq!(v["codec_name"], "h264");
        assert_eq!(v["profile"], h264, "{profile}");
        assert_eq!(
            (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap()),
            (w, h),
            "{profile}"
        );
        let bitrate = num(&v["bit_rate"]) / 1000.0;
        assert!(within(bitrate, kbps, 0.2), "{profile}: {bitrate} kb/s for a target of {kbps}");
        let duration = num(&probe["format"]["duration"]);
        assert!((duration - 20.0).abs() <= 0.1, "{profile}: {duration} s");
        let a = audio_stream(&probe);
        assert_eq!(a["codec_name"], "aac");
        assert_eq!(a["sample_rate"], "48000");
    }
    // Range requests on a rendition.
    let resp = c
        .get(server.url(rendition(&asset, "web")["url"].as_str().unwrap()))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().len(), 100);

    // The HLS ladder: master playlist, three rungs, every segment decodes.
    let hls = rendition(&asset, "hls");
    let master_url = hls["url"].as_str().unwrap().to_string();
    assert!(master_url.ends_with("/hls/master.m3u8"), "{master_url}");
    let resp = c.get(server.url(&master_url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert!(resp.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let playlist = resp.text().await.unwrap();
    let variants: Vec<(&str, &str)> = playlist
        .lines()
        .zip(playlist.lines().skip(1))
        .filter(|(l, _)| l.starts_with("#EXT-X-STREAM-INF:"))
        .collect();
    assert_eq!(variants.len(), 3, "{playlist}");
    for (resolution, (inf, _)) in ["1920x1080", "1280x720", "640x360"].iter().zip(&variants) {
        assert!(inf.contains(&format!("RESOLUTION={resolution}")), "{inf}");
        assert!(inf.contains("CODECS=\"avc1.") && inf.contains("mp4a.40.2"), "{inf}");
        assert!(inf.contains("BANDWIDTH="), "{inf}");
    }
    let base = master_url.trim_end_matches("master.m3u8").to_string();
    let mut rung_streams = Vec::new();
    for (_, uri) in &variants {
        let rung_url = format!("{base}{uri}");
        let resp = c.get(server.url(&rung_url)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{rung_url}");
        let media = resp.text().await.unwrap();
        let rung_base = rung_url.rsplit_once('/').unwrap().0.to_string();
        let init = c.get(server.url(&format!("{rung_base}/init.mp4"))).send().await.unwrap();
        assert_eq!(init.status(), 200);
        let init = init.bytes().await.unwrap().to_vec();
        let mut whole = init.clone();
        let mut total = 0.0;
        let durations: Vec<f64> = media
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .map(|d| d.trim_end_matches(',').parse().unwrap())
            .collect();
        for (i, d) in durations.iter().enumerate() {
            total += d;
            if i + 1 < durations.len() {
                assert!((d - 6.0).abs() < 0.05, "segments are 6 s: {media}");
            }
        }
        assert!((total - 20.0).abs() <= 0.1, "{total} s in {media}");
        for seg in media.lines().filter(|l| l.ends_with(".m4s")) {
            let resp = c.get(server.url(&format!("{rung_base}/{seg}"))).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-type"], "video/iso.segment");
            let bytes = resp.bytes().await.unwrap();
            // Each segment decodes on its own after the init segment.
            let alone = dir.join("segment.mp4");
            let mut one = init.clone();
            one.extend_from_slice(&bytes);
            std::fs::write(&alone, &one).unwrap();
            run_tool(
                "ffmpeg",
                &["-v", "error", "-xerror", "-i", alone.to_str().unwrap(), "-f", "null", "-"],
            )
            .unwrap();
            whole.extend_from_slice(&bytes);
        }
        let joined = dir.join(format!("rung-{}.mp4", rung_streams.len()));
        std::fs::write(&joined, &whole).unwrap();
        rung_streams.push(joined);
    }
    // The 1080p and 720p rungs are the proxy and web encodes, packaged again.
    assert_eq!(h264_bitstream(&rung_streams[0]), h264_bitstream(&dir.join("proxy.mp4")));
    assert_eq!(h264_bitstream(&rung_streams[1]), h264_bitstream(&dir.join("web.mp4")));

    // Poster, storyboard (sprite + WebVTT), waveform and peaks.
    let poster = dir.join("poster.jpg");
    download(&c, &server, rendition(&asset, "poster")["url"].as_str().unwrap(), &poster).await;
    let p = ffprobe(&poster).unwrap();
    assert_eq!(
        (video_stream(&p)["width"].as_u64(), video_stream(&p)["height"].as_u64()),
        (Some(1920), Some(1080))
    );
    let vtt_url = rendition(&asset, "storyboard")["url"].as_str().unwrap().to_string();
    let resp = c.get(server.url(&vtt_url)).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/vtt");
    let vtt = resp.text().await.unwrap();
    assert!(vtt.starts_with("WEBVTT"));
    let cues: Vec<&str> = vtt.lines().filter(|l| l.contains("#xywh=")).collect();
    assert_eq!(cues.len(), 10, "a tile every 2 s of 20 s: {vtt}");
    let sprite = dir.join("sprite.jpg");
    let sprite_url =
        format!("{}/{}", vtt_url.rsplit_once('/').unwrap().0, cues[0].split('#').next().unwrap());
    download(&c, &server, &sprite_url, &sprite).await;
    let s = ffprobe(&sprite).unwrap();
    assert_eq!(
        (video_stream(&s)["width"].as_u64(), video_stream(&s)["height"].as_u64()),
        (Some(1600), Some(90))
    );
    let wave = dir.join("wave.png");
    download(&c, &server, rendition(&asset, "waveform")["url"].as_str().unwrap(), &wave).await;
    let w = ffprobe(&wave).unwrap();
    assert_eq!(
        (video_stream(&w)["width"].as_u64(), video_stream(&w)["height"].as_u64()),
        (Some(1800), Some(280))
    );
    let (_, peaks) = get_json(&c, &server.url(rendition(&asset, "peaks")["url"].as_str().unwrap()))
        .await
        .unwrap();
    let length = peaks["length"].as_u64().unwrap();
    assert!((398..=402).contains(&length), "20 peaks a second for 20 s: {length}");
    assert_eq!(peaks["data"].as_array().unwrap().len() as u64, length * 2);
    // A steady 440 Hz tone at FFmpeg's sine amplitude (1/8): every min/max pair near ∓16.
    let data: Vec<i64> =
        peaks["data"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    // (The first and last pairs hold the AAC encoder's ramp in and out.)
    assert!(
        data.chunks(2)
            .skip(2)
            .take(data.len() / 2 - 4)
            .all(|p| (-18..=-14).contains(&p[0]) && (14..=18).contains(&p[1])),
        "{:?}",
        &data[..40]
    );

    // The job view: every stage done.
    let (_, job) = get_json(&c, &server.url(&format!("/api/v1/jobs/{id}"))).await.unwrap();
    assert_eq!(job["kind"], "asset");
    assert!(job["stages"].as_array().unwrap().iter().all(|s| s["state"] == "done"), "{job}");
}

/// Mean grey level of a region of a decoded picture (x, y, w, h as shares of the picture).
fn mean_gray(path: &Path, region: (f64, f64, f64, f64)) -> f64 {
    let probe = ffprobe(path).unwrap();
    let (w, h) = (
        video_stream(&probe)["width"].as_u64().unwrap() as usize,
        video_stream(&probe)["height"].as_u64().unwrap() as usize,
    );
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    let (x0, y0) = ((region.0 * w as f64) as usize, (region.1 * h as f64) as usize);
    let (x1, y1) =
        (((region.0 + region.2) * w as f64) as usize, ((region.1 + region.3) * h as f64) as usize);
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += u64::from(out.stdout[y * w + x]);
        }
    }
    sum as f64 / ((x1 - x0) * (y1 - y0)) as f64
}

fn dims(path: &Path) -> (u64, u64) {
    let p = ffprobe(path).unwrap();
    let v = video_stream(&p);
    (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn portrait_video_rotated_and_odd_images_and_mono_8k_audio_are_sized_right() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let portrait = dir.join("vertical.mp4");
    make_video(&portrait, 3, 720, 1280, 440, true).unwrap();
    // A 4:3 photo stored sideways: white top half, black bottom half; EXIF orientation 6 says
    // "turn 90° clockwise to view", which puts the white half on the right.
    let photo = dir.join("foto.jpg");
    run_tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=white:size=1600x600",
            "-f",
            "lavfi",
            "-i",
            "color=black:size=1600x600",
            "-filter_complex",
            "[0][1]vstack",
            "-frames:v",
            "1",
            "-q:v",
            "2",
            photo.to_str().unwrap(),
        ],
    )
    .unwrap();
    tag_exif(&photo, "Nikon", "Z6", "2024:05:01 12:00:00", 6).unwrap();
    // A colour profile of its own (a minimal ICC header: display class, RGB, XYZ PCS; its bytes
    // must come through unchanged).
    let mut icc = vec![0u8; 132];
    icc[..4].copy_from_slice(&132u32.to_be_bytes());
    icc[8..12].copy_from_slice(&[4, 0x30, 0, 0]);
    icc[12..16].copy_from_slice(b"mntr");
    icc[16..20].copy_from_slice(b"RGB ");
    icc[20..24].copy_from_slice(b"XYZ ");
    icc[36..40].copy_from_slice(b"acsp");
    icc[44..48].copy_from_slice(b"ACRV");
    let icc_path = dir.join("camera.icc");
    std::fs::write(&icc_path, &icc).unwrap();
    run_tool(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            &format!("-ICC_Profile<={}", icc_path.display()),
            photo.to_str().unwrap(),
        ],
    )
    .unwrap();
    let odd = dir.join("odd.png");
    // (testsrc2 rounds sizes to even numbers: scale to the odd size afterwards.)
    run_tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=334x252:rate=1",
            "-vf",
            "scale=333:251",
            "-frames:v",
            "1",
            odd.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(dims(&odd), (333, 251));
    let radio = dir.join("radio.wav");
    make_tone_at(&radio, 440, 3, 8000).unwrap();
    // A phone video: stored landscape (white left half, black right half) with a display
    // matrix of 90° counter-clockwise (ffprobe: rotation=90), which players and the ffmpeg
    // CLI's autorotate show upright with the white half at the bottom.
    let phone_raw = dir.join("phone-raw.mp4");
    run_tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=white:size=640x720:rate=25:duration=3",
            "-f",
            "lavfi",
            "-i",
            "color=black:size=640x720:rate=25:duration=3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=3",
            "-filter_complex",
            "[0][1]hstack[v]",
            "-map",
            "[v]",
            "-map",
            "2:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            phone_raw.to_str().unwrap(),
        ],
    )
    .unwrap();
    let phone = dir.join("phone.mp4");
    run_tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            phone_raw.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            phone.to_str().unwrap(),
        ],
    )
    .unwrap();

    let server = Server::start(&dir.join("home")).unwrap();
    let c = client();
    let v = upload_ok(&c, &server, &portrait, "Vertical", "").await.unwrap();
    let p = upload_ok(&c, &server, &photo, "Foto girada", "").await.unwrap();
    let o = upload_ok(&c, &server, &odd, "Impar", "").await.unwrap();
    let a = upload_ok(&c, &server, &radio, "Radio 8k", "").await.unwrap();
    let m = upload_ok(&c, &server, &phone, "Móvil", "").await.unwrap();
    let mut assets = Vec::new();
    for id in [&v, &p, &o, &a, &m] {
        let asset = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(asset["status"], "ready", "{asset}");
        assets.push(asset);
    }

    // Portrait: the box fits its short side across; never enlarged.
    for (profile, size) in [("proxy", (720, 1280)), ("web", (720, 1280))] {
        let f = dir.join(format!("v-{profile}.mp4"));
        download(&c, &server, rendition(&assets[0], profile)["url"].as_str().unwrap(), &f).await;
        assert_eq!(dims(&f), size, "{profile}");
    }
    let master = c
        .get(server.url(rendition(&assets[0], "hls")["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        master.contains("RESOLUTION=720x1280") && master.contains("RESOLUTION=360x640"),
        "{master}"
    );
    let poster = dir.join("v-poster.jpg");
    download(&c, &server, rendition(&assets[0], "poster")["url"].as_str().unwrap(), &poster).await;
    assert_eq!(dims(&poster), (720, 1280));

    // The phone video is made upright, as players show it: 720x1280, white at the bottom.
    for profile in ["proxy", "web", "poster"] {
        let f = dir.join(format!("m-{profile}"));
        download(&c, &server, rendition(&assets[4], profile)["url"].as_str().unwrap(), &f).await;
        assert_eq!(dims(&f), (720, 1280), "{profile}");
        let (top, bottom) =
            (mean_gray(&f, (0.1, 0.05, 0.8, 0.35)), mean_gray(&f, (0.1, 0.6, 0.8, 0.35)));
        assert!(top < 40.0 && bottom > 215.0, "{profile}: top {top}, bottom {bottom}");
    }
    // The same as the ffmpeg CLI's own autorotated picture.
    let cli = dir.join("m-cli.png");
    run_tool(
        "ffmpeg",
        &["-v", "error", "-i", phone.to_str().unwrap(), "-frames:v", "1", cli.to_str().unwrap()],
    )
    .unwrap();
    assert_eq!(dims(&cli), (720, 1280));
    assert!(mean_gray(&cli, (0.1, 0.6, 0.8, 0.35)) > 215.0);
    let f = dir.join("m-thumb.jpg");
    download(&c, &server, rendition(&assets[4], "thumbnail")["url"].as_str().unwrap(), &f).await;
    assert_eq!(dims(&f), (169, 300));
    let master = c
        .get(server.url(rendition(&assets[4], "hls")["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(master.contains("RESOLUTION=360x640"), "{master}");

    // The rotated photo: upright (portrait), the white half on the right, at every size.
    assert_eq!(
        profiles(&assets[1]),
        ["display", "thumbnail", "webp-1200", "webp-300", "webp-800"].map(String::from).to_vec()
    );
    for (profile, size, ext) in [
        ("display", (1200, 1600), "jpg"),
        ("webp-300", (226, 300), "webp"),
        ("webp-800", (600, 800), "webp"),
        ("webp-1200", (900, 1200), "webp"),
    ] {
        let f = dir.join(format!("p-{profile}.{ext}"));
        let headers =
            download(&c, &server, rendition(&assets[1], profile)["url"].as_str().unwrap(), &f)
                .await;
        assert_eq!(headers["content-type"], if ext == "jpg" { "image/jpeg" } else { "image/webp" });
        assert_eq!(dims(&f), size, "{profile}");
        let (left, right) =
            (mean_gray(&f, (0.05, 0.1, 0.35, 0.8)), mean_gray(&f, (0.6, 0.1, 0.35, 0.8)));
        assert!(left < 40.0 && right > 215.0, "{profile}: left {left}, right {right}");
    }
    // Colour kept: the display JPEG carries the master's ICC profile, byte for byte.
    let display = dir.join("p-display.jpg");
    let out = std::process::Command::new("exiftool")
        .args(["-b", "-ICC_Profile"])
        .arg(&display)
        .output()
        .unwrap();
    assert_eq!(out.stdout, icc, "the display JPEG's ICC profile");

    // Odd sizes: aspect kept, no enlarging (WebP to even sides: FFmpeg's libwebp crops odd ones).
    for (profile, size) in
        [("webp-300", (300, 226)), ("webp-800", (332, 250)), ("display", (333, 251))]
    {
        let f = dir.join(format!("o-{profile}"));
        download(&c, &server, rendition(&assets[2], profile)["url"].as_str().unwrap(), &f).await;
        assert_eq!(dims(&f), size, "{profile}");
    }

    // Mono 8 kHz WAV: MP3 128 kb/s CBR preview, 24-bit 48 kHz broadcast WAV, waveform and peaks.
    assert_eq!(
        profiles(&assets[3]),
        ["broadcast", "peaks", "preview", "waveform"].map(String::from).to_vec()
    );
    let mp3 = dir.join("a.mp3");
    download(&c, &server, rendition(&assets[3], "preview")["url"].as_str().unwrap(), &mp3).await;
    let probe = ffprobe(&mp3).unwrap();
    let s = audio_stream(&probe);
    assert_eq!(s["codec_name"], "mp3");
    assert_eq!(s["channels"], 1);
    assert!(within(num(&s["bit_rate"]), 128_000.0, 0.02), "{s}");
    assert!((num(&probe["format"]["duration"]) - 3.0).abs() < 0.1);
    let wav = dir.join("a.wav");
    download(&c, &server, rendition(&assets[3], "broadcast")["url"].as_str().unwrap(), &wav).await;
    let probe = ffprobe(&wav).unwrap();
    let s = audio_stream(&probe);
    assert_eq!(
        (s["codec_name"].as_str(), s["sample_rate"].as_str(), s["channels"].as_u64()),
        (Some("pcm_s24le"), Some("48000"), Some(1))
    );
    assert!((num(&probe["format"]["duration"]) - 3.0).abs() < 0.05, "{probe}");
    let (_, peaks) =
        get_json(&c, &server.url(rendition(&assets[3], "peaks")["url"].as_str().unwrap()))
            .await
            .unwrap();
    assert_eq!(peaks["length"], 60);
}
