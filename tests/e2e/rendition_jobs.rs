//! Rendition jobs: re-runs reuse stored outputs and a changed profile lands on new keys;
//! cancellation mid-encode leaves nothing; a corrupt master fails once with a dead letter;
//! transient failures are retried with backoff; an on-demand job overtakes a batch backlog.

use std::path::Path;
use std::time::{Duration, Instant};

use acervo_tests::*;
use serde_json::Value;

const READY: Duration = Duration::from_secs(240);

fn keys_by_profile(asset: &Value) -> std::collections::BTreeMap<String, String> {
    asset["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["profile"].as_str().unwrap().to_string(), r["key"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Every file under `dir` (recursively), as paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

async fn reprocess(c: &reqwest::Client, server: &Server, id: &str) {
    let resp = c.post(server.url(&format!("/api/v1/assets/{id}/reprocess"))).send().await.unwrap();
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
}

async fn stage(c: &reqwest::Client, server: &Server, id: &str, name: &str) -> Value {
    let (_, job) = get_json(c, &server.url(&format!("/api/v1/jobs/{id}"))).await.unwrap();
    job["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["stage"] == name).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_reuses_stored_renditions_and_a_changed_profile_makes_new_keys() {
    let work = tempfile::tempdir().unwrap();
    let (dir, home) = (work.path(), work.path().join("home"));
    let clip = dir.join("clip.mp4");
    make_video(&clip, 3, 640, 360, 440, true).unwrap();
    let c = client();
    let mut server = Server::start(&home).unwrap();
    let id = upload_ok(&c, &server, &clip, "Clip", "").await.unwrap();
    let first = wait_status(&c, &server, &id, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(first["status"], "ready", "{first}");
    let made = metric(&c, &server, "acervo_renditions_total{outcome=\"made\"}").await;
    assert_eq!(made, 7.0, "proxy, web, hls, poster, storyboard, waveform, peaks");
    let objects_before = files_under(&home.join("objects").join("proxies"));

    // The same profiles: nothing is encoded again, every key is the same.
    reprocess(&c, &server, &id).await;
    let again = wait_status(&c, &server, &id, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(again["status"], "ready");
    assert_eq!(metric(&c, &server, "acervo_renditions_total{outcome=\"made\"}").await, 7.0);
    assert_eq!(metric(&c, &server, "acervo_renditions_total{outcome=\"reused\"}").await, 7.0);
    assert_eq!(keys_by_profile(&again), keys_by_profile(&first));
    assert_eq!(files_under(&home.join("objects").join("proxies")), objects_before);

    // A new web bitrate: only web (and the HLS ladder it is a rung of) get new keys; the old
    // objects stay where they were.
    server.stop().await;
    let server =
        Server::start_with(&home, &[("ACERVO_RENDITIONS__VIDEO__WEB__BITRATE_KBPS", "900")])
            .unwrap();
    reprocess(&c, &server, &id).await;
    let changed = wait_status(&c, &server, &id, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(changed["status"], "ready");
    let (old, new) = (keys_by_profile(&first), keys_by_profile(&changed));
    for (profile, key) in &old {
        if profile == "web" || profile == "hls" {
            assert_ne!(&new[profile], key, "{profile} must move to a new key");
        } else {
            assert_eq!(&new[profile], key, "{profile} must keep its key");
        }
        assert!(home.join("objects").join(key).is_file(), "old object {key} is still there");
    }
    assert_eq!(metric(&c, &server, "acervo_renditions_total{outcome=\"made\"}").await, 2.0);
    let web =
        changed["renditions"].as_array().unwrap().iter().find(|r| r["profile"] == "web").unwrap();
    let file = dir.join("web.mp4");
    std::fs::write(
        &file,
        c.get(server.url(web["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let kbps =
        ffprobe(&file).unwrap()["streams"][0]["bit_rate"].as_str().unwrap().parse::<f64>().unwrap()
            / 1000.0;
    assert!(kbps < 1100.0, "the new web rendition follows the new bitrate: {kbps} kb/s");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_mid_encode_stops_within_a_second_and_leaves_no_partial_object() {
    let work = tempfile::tempdir().unwrap();
    let (dir, home) = (work.path(), work.path().join("home"));
    let clip = dir.join("long.mp4");
    make_video(&clip, 40, 1920, 1080, 440, true).unwrap();
    let c = client();
    // A slow preset, so the encode is surely still running when the cancel arrives.
    let server = Server::start_with(&home, &[("ACERVO_RENDITIONS__X264_PRESET", "slow")]).unwrap();
    let id = upload_ok(&c, &server, &clip, "Largo", "").await.unwrap();
    let deadline = Instant::now() + READY;
    loop {
        let s = stage(&c, &server, &id, "renditions").await;
        if s["state"] == "running" && s["progress"].as_f64().unwrap_or(0.0) > 0.02 {
            break;
        }
        assert!(Instant::now() < deadline, "the renditions stage never ran: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, job) = get_json(&c, &server.url(&format!("/api/v1/jobs/{id}"))).await.unwrap();
    assert_eq!(job["cancellable"], true);
    // Progress is a Prometheus metric too, while the job runs.
    let text = c.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let progress: f64 = text
        .lines()
        .find(|l| {
            l.starts_with("acervo_job_progress_ratio{") && l.contains(&format!("job=\"{id}\""))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no progress metric for {id}"));
    assert!(progress > 0.0 && progress < 1.0, "{progress}");
    let asked = Instant::now();
    let resp = c.delete(server.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let asset =
        wait_status(&c, &server, &id, &["ready", "failed"], Duration::from_secs(30)).await.unwrap();
    let took = asked.elapsed();
    let s = stage(&c, &server, &id, "renditions").await;
    assert_eq!(s["state"], "cancelled", "{asset}");
    // The encode stops within a second; the catalog write after it takes a little longer.
    assert!(took < Duration::from_secs(3), "cancellation took {took:?}");
    assert_eq!(
        files_under(&home.join("objects").join("proxies")),
        Vec::<String>::new(),
        "no partial rendition"
    );
    assert_eq!(files_under(&home.join("work")), Vec::<String>::new(), "no leftover work files");
    // The cancellation is in the event log, with who asked for it.
    let log = std::fs::read_dir(home.join("log"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect::<Vec<_>>()
        .concat();
    let needle = format!("\"type\":\"cancel_requested\",\"id\":\"{id}\"");
    assert!(
        log.windows(needle.len()).any(|w| w == needle.as_bytes()),
        "no cancel_requested event for {id} in the log"
    );
    // Nothing left to cancel.
    let resp = c.delete(server.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_master_fails_once_with_a_dead_letter_and_transient_failures_are_retried() {
    let work = tempfile::tempdir().unwrap();
    let (dir, home) = (work.path(), work.path().join("home"));
    // A clip whose headers are fine but whose coded frames are zeros: it probes, never decodes.
    let broken = dir.join("broken.mp4");
    make_video(&broken, 2, 320, 240, 440, true).unwrap();
    let mut bytes = std::fs::read(&broken).unwrap();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap() + 4;
    bytes[mdat..].fill(0);
    std::fs::write(&broken, &bytes).unwrap();
    let c = client();
    let mut server = Server::start(&home).unwrap();
    let corrupt = upload_ok(&c, &server, &broken, "Roto", "").await.unwrap();
    let asset = wait_status(&c, &server, &corrupt, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(asset["status"], "failed", "{asset}");
    let reason = asset["status_reason"].as_str().unwrap();
    assert!(reason.contains("no video frame could be decoded"), "{reason}");
    let (_, letters) =
        get_json(&c, &server.url(&format!("/api/v1/dead-letters?asset_id={corrupt}")))
            .await
            .unwrap();
    let letters = letters.as_array().unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(
        (letters[0]["attempts"].as_u64(), letters[0]["permanent"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(
        metric(&c, &server, "acervo_job_retries_total{stage=\"renditions\"}").await,
        0.0,
        "no retry storm"
    );

    // The work folder blocked by a file: every attempt fails with an I/O error (transient).
    server.stop().await;
    let blocked = dir.join("work-blocked");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let sub = blocked.join("sub");
    let env = [
        ("ACERVO_DATAFLOW__WORK_DIR", sub.to_str().unwrap()),
        ("ACERVO_JOBS__MAX_ATTEMPTS", "3"),
        ("ACERVO_JOBS__INITIAL_BACKOFF_MS", "200"),
    ];
    let server = Server::start_with(&home, &env).unwrap();
    // A good clip while it is blocked: three attempts, then a dead letter.
    let clip = dir.join("good.mp4");
    make_video(&clip, 2, 320, 240, 550, true).unwrap();
    let good = upload_ok(&c, &server, &clip, "Bueno", "").await.unwrap();
    let asset = wait_status(&c, &server, &good, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(asset["status"], "failed", "{asset}");
    assert!(asset["status_reason"].as_str().unwrap().contains("after 3 attempts"), "{asset}");
    assert_eq!(metric(&c, &server, "acervo_job_retries_total{stage=\"renditions\"}").await, 2.0);
    let (_, letters) =
        get_json(&c, &server.url(&format!("/api/v1/dead-letters?asset_id={good}"))).await.unwrap();
    assert_eq!(
        (letters[0]["attempts"].as_u64(), letters[0]["permanent"].as_bool()),
        (Some(3), Some(false)),
        "{letters}"
    );

    // The cause goes away; a reprocess succeeds.
    std::fs::remove_file(&blocked).unwrap();
    let resp =
        c.post(server.url(&format!("/api/v1/assets/{good}/reprocess"))).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let asset = wait_status(&c, &server, &good, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(asset["status"], "ready", "{asset}");
    assert!(asset["renditions"].as_array().unwrap().iter().any(|r| r["profile"] == "proxy"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ondemand_clip_is_served_ahead_of_ten_batch_jobs_and_expires() {
    let work = tempfile::tempdir().unwrap();
    let (dir, home) = (work.path(), work.path().join("home"));
    let c = client();
    // One media thread: jobs run strictly one after another, as on a saturated worker.
    let server = Server::start_with(&home, &[("ACERVO_DATAFLOW__MEDIA_THREADS", "1")]).unwrap();
    let first = dir.join("first.mp4");
    make_video(&first, 6, 640, 360, 440, true).unwrap();
    let target = upload_ok(&c, &server, &first, "Rueda de prensa", "").await.unwrap();
    wait_status(&c, &server, &target, &["ready"], READY).await.unwrap();

    // Wrong requests are refused with problem details.
    let wav = dir.join("a.wav");
    make_wav(&wav).unwrap();
    let audio = upload_ok(&c, &server, &wav, "Audio", "").await.unwrap();
    for (id, body, status) in [
        (
            &audio,
            serde_json::json!({"long_side": 640, "short_side": 360, "bitrate_kbps": 500}),
            422,
        ),
        (&target, serde_json::json!({"long_side": 640, "short_side": 360, "bitrate_kbps": 5}), 422),
        (
            &target,
            serde_json::json!({"long_side": 640, "short_side": 360, "bitrate_kbps": 500, "start_seconds": 4, "end_seconds": 2}),
            422,
        ),
        (&target, serde_json::json!({"long_side": "wide"}), 422),
    ] {
        let resp = c
            .post(server.url(&format!("/api/v1/assets/{id}/ondemand")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }

    // Ten batch jobs queue up behind one thread, then the on-demand request arrives.
    let files: Vec<_> = (0..10)
        .map(|i| {
            let f = dir.join(format!("b{i}.mp4"));
            make_video(&f, 8, 960, 540, 300 + i * 20, true).unwrap();
            f
        })
        .collect();
    let mut batch = Vec::new();
    for (i, f) in files.iter().enumerate() {
        batch.push(upload_ok(&c, &server, f, &format!("Lote {i}"), "").await.unwrap());
    }
    let spec = serde_json::json!({"long_side": 320, "short_side": 180, "bitrate_kbps": 400, "start_seconds": 1.0, "end_seconds": 3.0});
    let resp = c
        .post(server.url(&format!("/api/v1/assets/{target}/ondemand")))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    let job_url = accepted["job_url"].as_str().unwrap().to_string();
    let deadline = Instant::now() + READY;
    let job = loop {
        let (_, job) = get_json(&c, &server.url(&job_url)).await.unwrap();
        if job["state"] == "done" || job["state"] == "failed" {
            break job;
        }
        assert!(Instant::now() < deadline, "the on-demand job never finished: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["lane"], "interactive");
    let mut ready_before = 0;
    for id in &batch {
        let (_, a) = get_json(&c, &server.url(&format!("/api/v1/assets/{id}"))).await.unwrap();
        if a["status"] == "ready" {
            ready_before += 1;
        }
    }
    // At most the batch job that held the thread when the request came finished first.
    assert!(ready_before <= 2, "{ready_before} batch jobs finished before the on-demand one");

    // The output: under ondemand/, the clip's length and size, with Range; it expires in 2 days.
    let key = job["output_key"].as_str().unwrap();
    assert!(key.starts_with(&format!("ondemand/{target}/")), "{key}");
    let expires =
        chrono::DateTime::parse_from_rfc3339(job["expires_at"].as_str().unwrap()).unwrap();
    let hours =
        (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((47.5..=48.0).contains(&hours), "{hours} h");
    let out = dir.join("clip.mp4");
    let resp = c.get(server.url(job["output_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    std::fs::write(&out, resp.bytes().await.unwrap()).unwrap();
    assert_eq!(sha256_file(&out).unwrap(), job["output_sha256"].as_str().unwrap());
    let probe = ffprobe(&out).unwrap();
    let v =
        probe["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(320), Some(180)));
    let duration: f64 = probe["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((duration - 2.0).abs() < 0.15, "{duration} s");
    let resp = c
        .get(server.url(job["output_url"].as_str().unwrap()))
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);

    // Every batch job still completes.
    for id in &batch {
        let a = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(a["status"], "ready", "{a}");
    }

    // Past its expiry the output is swept (here: an expiry of 0 h, swept at start) and the
    // job says so with 410.
    let mut server = server;
    server.stop().await;
    let server = Server::start_with(&home, &[("ACERVO_JOBS__ONDEMAND_EXPIRY_HOURS", "0")]).unwrap();
    let output_url = server.url(job["output_url"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    // The answer follows the record's expiry at once; the sweep removes the object soon after.
    loop {
        let status = c.get(&output_url).send().await.unwrap().status();
        let gone = !home.join("objects").join(key).exists();
        if (status == 410 || status == 404) && gone {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the expired output is still there (status {status}, object removed: {gone})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the asset's renditions stage is encoding (some progress made).
async fn wait_encoding(c: &reqwest::Client, server: &Server, id: &str) {
    let deadline = Instant::now() + READY;
    loop {
        let s = stage(c, server, id, "renditions").await;
        if s["state"] == "running" && s["progress"].as_f64().unwrap_or(0.0) > 0.02 {
            return;
        }
        assert!(Instant::now() < deadline, "the renditions stage never ran: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A cancel does not queue behind the work before it: the dataflow reads at most a window of
/// the log past what is durable, and a long encode holds that back, so here 10 000 ingests wait
/// in the log between the encode and the cancel. The cancel still reaches the encode at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_reaches_a_running_encode_with_ten_thousand_intents_queued_before_it() {
    let work = tempfile::tempdir().unwrap();
    let (dir, home) = (work.path(), work.path().join("home"));
    let clip = dir.join("long.mp4");
    make_video(&clip, 40, 1920, 1080, 440, true).unwrap();
    let c = client();
    let slow = [("ACERVO_RENDITIONS__X264_PRESET", "slow")];
    let mut server = Server::start_with(&home, &slow).unwrap();
    let id = upload_ok(&c, &server, &clip, "Largo", "").await.unwrap();
    wait_encoding(&c, &server, &id).await;
    // Cut off mid-encode; while the server is down a bulk import lands 10 000 ingests in the
    // log after it (one append, as an importer does).
    server.kill();
    {
        let log = acervo_lakehouse::SegmentLog::open(home.join("log")).unwrap();
        let events: Vec<Vec<u8>> = (0..10_000u64)
            .map(|i| {
                let env = acervo_catalog::EventEnvelope {
                    at: chrono::Utc::now(),
                    principal: "importer".into(),
                    event: acervo_catalog::Event::AssetIngested {
                        id: acervo_catalog::AssetId::new(),
                        title: format!("Nota {i}"),
                        description: String::new(),
                        tags: vec![],
                        kind: acervo_catalog::MediaKind::Document,
                        mime: "text/plain".into(),
                        size: 1,
                        sha256: format!("{i:064x}"),
                        master_key: format!("masters/imported/{i}"),
                        original_filename: format!("nota{i}.txt"),
                        project: "archivo".into(),
                        owner: "importer".into(),
                    },
                };
                serde_json::to_vec(&env).unwrap()
            })
            .collect();
        let records: Vec<acervo_lakehouse::NewRecord> =
            events.iter().map(|e| acervo_lakehouse::NewRecord::data(e)).collect();
        acervo_lakehouse::EventLog::append(&log, &records).unwrap();
    }
    // The restart replays the encode first; the ingests wait behind it.
    let server = Server::start_with(&home, &slow).unwrap();
    wait_encoding(&c, &server, &id).await;
    let (_, health) = get_json(&c, &server.url("/healthz")).await.unwrap();
    let behind =
        health["log_end_offset"].as_u64().unwrap() - health["durable_offset"].as_u64().unwrap();
    assert!(behind >= 10_000, "the ingests are queued behind the encode: {health}");

    let asked = Instant::now();
    let resp = c.delete(server.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    // The encode stops: its progress gauge goes when the pass ends.
    let gauge = format!("job=\"{id}\"");
    loop {
        let text = c.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
        if !text.lines().any(|l| l.starts_with("acervo_job_progress_ratio{") && l.contains(&gauge))
        {
            break;
        }
        assert!(asked.elapsed() < Duration::from_secs(10), "the encode is still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = asked.elapsed();
    let asset =
        wait_status(&c, &server, &id, &["ready", "failed"], Duration::from_secs(30)).await.unwrap();
    let took = asked.elapsed();
    assert_eq!(stage(&c, &server, &id, "renditions").await["state"], "cancelled", "{asset}");
    assert!(stopped < Duration::from_secs(1), "the encode stopped {stopped:?} after the cancel");
    assert!(
        took < Duration::from_secs(3),
        "the cancellation was shown {took:?} after it was asked"
    );
    assert_eq!(
        files_under(&home.join("objects").join("proxies")),
        Vec::<String>::new(),
        "no partial rendition"
    );
    // Then the backlog flows: every ingest is in the catalog.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, h) = get_json(&c, &server.url("/healthz")).await.unwrap();
        if h["durable_offset"] == h["log_end_offset"] {
            break;
        }
        assert!(Instant::now() < deadline, "the backlog did not drain: {h}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = reqwest::Url::parse_with_params(
        &server.url("/api/v1/assets"),
        &[("project", "archivo"), ("limit", "1")],
    )
    .unwrap();
    let (_, page) = get_json(&c, url.as_str()).await.unwrap();
    assert_eq!(page["total"], 10_000, "{page}");
}
