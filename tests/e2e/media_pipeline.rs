//! Upload real media over HTTP and check what a user sees: the asset becomes ready with exact
//! technical metadata and EXIF, thumbnails decode at the right size (the video's is the frame
//! at 10 %), search by a title word finds it with facet counts, and edits and deletes show.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use acervo_tests::*;
use serde_json::Value;

const READY: Duration = Duration::from_secs(90);

/// Decodes an image fully with FFmpeg and returns (width, height, grey pixels) at its size.
fn decode_gray(path: &Path, scale: Option<(u32, u32)>) -> (u32, u32, Vec<u8>) {
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let dims = String::from_utf8_lossy(&probe.stdout).trim().to_string();
    let (w, h) = dims
        .split_once(',')
        .map(|(w, h)| (w.parse().unwrap(), h.parse().unwrap()))
        .unwrap_or_else(|| panic!("ffprobe: {dims:?}"));
    let mut args: Vec<String> =
        vec!["-v".into(), "error".into(), "-i".into(), path.display().to_string()];
    if let Some((sw, sh)) = scale {
        args.extend(["-vf".into(), format!("scale={sw}:{sh}")]);
    }
    args.extend(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"].map(String::from));
    let out = Command::new("ffmpeg").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "the image does not decode: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (w, h, out.stdout)
}

/// A frame of `video` at `at` seconds, scaled to w×h, as grey pixels.
fn frame_at(video: &Path, at: f64, w: u32, h: u32) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &at.to_string(), "-i"])
        .arg(video)
        .args([
            "-frames:v",
            "1",
            "-vf",
            &format!("scale={w}:{h}"),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (i32::from(*x) - i32::from(*y)).unsigned_abs() as f64).sum::<f64>()
        / a.len() as f64
}

fn close(v: &Value, expected: f64, tolerance: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() <= tolerance)
}

async fn fetch_to(client: &reqwest::Client, url: &str, path: &Path) {
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    std::fs::write(path, resp.bytes().await.unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn real_media_becomes_ready_with_exact_metadata_thumbnails_and_search() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (mp4, wav, mp3, png, jpg) = (
        dir.join("pleno.mp4"),
        dir.join("radio.wav"),
        dir.join("podcast.mp3"),
        dir.join("grafico.png"),
        dir.join("foto.jpg"),
    );
    make_mp4(&mp4, 10).unwrap();
    make_wav(&wav).unwrap();
    make_mp3(&mp3).unwrap();
    make_image(&png, 640, 480).unwrap();
    make_image(&jpg, 640, 480).unwrap();
    tag_exif(&jpg, "Canon", "EOS R5", "2024:03:15 10:30:00", 6).unwrap();

    let server = Server::start(&dir.join("home")).unwrap();
    let c = client();
    let video =
        upload_ok(&c, &server, &mp4, "Entrevista alcaldesa Valencia", "política, entrevista")
            .await
            .unwrap();
    let audio = upload_ok(&c, &server, &wav, "Boletín radio mañana", "radio").await.unwrap();
    let song = upload_ok(&c, &server, &mp3, "Podcast economía", "podcast").await.unwrap();
    let chart = upload_ok(&c, &server, &png, "Gráfico paro juvenil", "datos").await.unwrap();
    let photo = upload_ok(&c, &server, &jpg, "Foto manifestación Madrid", "foto").await.unwrap();

    // Video.
    let v = wait_status(&c, &server, &video, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["kind"], "video");
    assert_eq!(v["sha256"], sha256_file(&mp4).unwrap());
    assert_eq!(v["size"], std::fs::metadata(&mp4).unwrap().len());
    let t = &v["technical"];
    assert!(close(&t["duration_seconds"], 10.0, 0.05), "duration {}", t["duration_seconds"]);
    assert_eq!((t["width"].as_u64(), t["height"].as_u64()), (Some(1280), Some(720)));
    assert_eq!(t["video_codec"], "h264");
    assert_eq!(t["audio_codec"], "aac");
    assert_eq!(t["sample_rate"], 48000);
    assert_eq!(t["channels"], 2);
    assert!(close(&t["fps"], 25.0, 0.01), "fps {}", t["fps"]);
    assert!(t["container"].as_str().unwrap().contains("mp4"));
    assert!(t["bitrate"].as_u64().unwrap() > 0);

    // Audio.
    let a = wait_status(&c, &server, &audio, &["ready", "failed"], READY).await.unwrap();
    assert_eq!((a["status"].as_str(), a["kind"].as_str()), (Some("ready"), Some("audio")), "{a}");
    assert!(close(&a["technical"]["duration_seconds"], 5.0, 0.05));
    assert_eq!(a["technical"]["audio_codec"], "pcm_s16le");
    assert_eq!(a["technical"]["sample_rate"], 44100);
    assert_eq!(a["technical"]["channels"], 1);
    assert!(a["technical"]["video_codec"].is_null());
    let m = wait_status(&c, &server, &song, &["ready", "failed"], READY).await.unwrap();
    assert_eq!((m["status"].as_str(), m["kind"].as_str()), (Some("ready"), Some("audio")), "{m}");
    assert!(
        close(&m["technical"]["duration_seconds"], 4.0, 0.05),
        "mp3 duration {}",
        m["technical"]["duration_seconds"]
    );
    assert_eq!(m["technical"]["audio_codec"], "mp3");
    assert_eq!(m["technical"]["sample_rate"], 44100);
    assert_eq!(m["technical"]["channels"], 2);

    // Images and EXIF.
    let p = wait_status(&c, &server, &chart, &["ready", "failed"], READY).await.unwrap();
    assert_eq!((p["status"].as_str(), p["kind"].as_str()), (Some("ready"), Some("image")), "{p}");
    assert_eq!(
        (p["technical"]["width"].as_u64(), p["technical"]["height"].as_u64()),
        (Some(640), Some(480))
    );
    assert_eq!(p["technical"]["video_codec"], "png");
    assert!(p["technical"]["exif"].is_null());
    let j = wait_status(&c, &server, &photo, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(j["status"], "ready", "{j}");
    let exif = &j["technical"]["exif"];
    assert_eq!(exif["camera_make"], "Canon");
    assert_eq!(exif["camera_model"], "EOS R5");
    assert_eq!(exif["taken_at"], "2024-03-15T10:30:00");
    assert!(close(&exif["gps_latitude"], 40.4168, 1e-4), "{exif}");
    assert!(close(&exif["gps_longitude"], -3.7038, 1e-4), "{exif}");
    assert_eq!(exif["orientation"], 6);

    // Thumbnails decode at the right size.
    let thumb = dir.join("t.jpg");
    fetch_to(&c, &server.url(&format!("/api/v1/assets/{chart}/renditions/thumbnail")), &thumb)
        .await;
    let (w, h, _) = decode_gray(&thumb, None);
    assert_eq!((w, h), (300, 225));
    // The photo is stored sideways (orientation 6): its thumbnail is upright.
    fetch_to(&c, &server.url(&format!("/api/v1/assets/{photo}/renditions/thumbnail")), &thumb)
        .await;
    let (w, h, _) = decode_gray(&thumb, None);
    assert_eq!((w, h), (225, 300));
    // The video's poster frame is the frame at 10 % (1 s), not the first or a middle one.
    fetch_to(&c, &server.url(&format!("/api/v1/assets/{video}/renditions/thumbnail")), &thumb)
        .await;
    let (w, h, pixels) = decode_gray(&thumb, None);
    assert_eq!((w, h), (300, 169));
    let at = |s: f64| mean_abs_diff(&pixels, &frame_at(&mp4, s, w, h));
    let (d0, d1, d5) = (at(0.0), at(1.0), at(5.0));
    assert!(d1 < d0 && d1 < d5, "poster frame differences: 0 s {d0:.2}, 1 s {d1:.2}, 5 s {d5:.2}");
    let profiles = |a: &Value| -> Vec<String> {
        a["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["profile"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(profiles(&v).contains(&"thumbnail".to_string()), "{v}");
    let (_, a) = get_json(&c, &server.url(&format!("/api/v1/assets/{audio}"))).await.unwrap();
    assert!(!profiles(&a).contains(&"thumbnail".to_string()), "audio has no thumbnail: {a}");

    // Stage progress.
    let (code, job) = get_json(&c, &server.url(&format!("/api/v1/jobs/{video}"))).await.unwrap();
    assert_eq!(code, 200);
    assert_eq!(job["progress"], 1.0);
    let states: Vec<(&str, &str)> = job["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stage"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("ingest", "done"),
            ("probe", "done"),
            ("thumbnail", "done"),
            ("renditions", "done"),
            ("enrich", "done")
        ]
    );

    // Search by a title word, with facets.
    let found = wait_searchable(&c, &server, "alcaldesa", &video, READY).await.unwrap();
    assert_eq!(found["total"], 1);
    assert_eq!(found["facets"]["kind"]["video"], 1);
    assert_eq!(found["facets"]["status"]["ready"], 1);
    assert_eq!(found["facets"]["project"]["default"], 1);
    // Accents fold, tags are searched, OR joins alternatives, facets count every match.
    let all = wait_searchable(
        &c,
        &server,
        "grafico OR radio OR podcast OR foto OR entrevista",
        &photo,
        READY,
    )
    .await
    .unwrap();
    assert_eq!(all["total"], 5, "{all}");
    assert_eq!(all["facets"]["kind"]["audio"], 2);
    assert_eq!(all["facets"]["kind"]["image"], 2);
    let (_, images) =
        get_json(&c, &server.url("/api/v1/search?q=grafico%20OR%20foto&kind=image")).await.unwrap();
    assert_eq!(images["total"], 2);
    let (_, listed) = get_json(&c, &server.url("/api/v1/assets?kind=audio")).await.unwrap();
    assert_eq!(listed["total"], 2);

    // An edit is visible at once and then searchable by its new words.
    let resp = c
        .patch(server.url(&format!("/api/v1/assets/{chart}")))
        .json(&serde_json::json!({"title": "Desempleo juvenil en Andalucía", "tags": ["datos", "empleo"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let edited: Value = resp.json().await.unwrap();
    assert_eq!(edited["title"], "Desempleo juvenil en Andalucía");
    assert_eq!(edited["technical"]["width"], 640, "an edit keeps the technical metadata");
    wait_searchable(&c, &server, "andalucia", &chart, READY).await.unwrap();

    // A soft delete hides the asset from search and listings but keeps it readable.
    let resp = c.delete(server.url(&format!("/api/v1/assets/{song}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let deleted: Value = resp.json().await.unwrap();
    assert_eq!(deleted["status"], "deleted");
    assert!(deleted["retention_until"].is_string());
    let deadline = std::time::Instant::now() + READY;
    loop {
        let (_, s) = get_json(&c, &server.url("/api/v1/search?q=podcast")).await.unwrap();
        if s["total"] == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "deleted asset still found: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, _) =
        get_json(&c, &server.url(&format!("/api/v1/assets/{song}/download"))).await.unwrap();
    assert_eq!(code, 410);
    let resp = c
        .patch(server.url(&format!("/api/v1/assets/{song}")))
        .json(&serde_json::json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409, "a deleted asset cannot be edited");
    let (_, deleted_list) =
        get_json(&c, &server.url("/api/v1/assets?status=deleted")).await.unwrap();
    assert_eq!(deleted_list["total"], 1);
    assert_eq!(deleted_list["items"][0]["id"], song.as_str());
}
