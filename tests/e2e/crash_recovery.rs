//! SIGKILL the server while 20 files are being ingested, restart it on the same data: every
//! asset that got a 201 is there exactly once, ready, with its SHA-256 verified and no
//! duplicate renditions.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use acervo_tests::*;
use serde_json::Value;

fn make_inputs(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for i in 0..7u32 {
        let p = dir.join(format!("clip{i}.mp4"));
        make_video(&p, 2, 320 + 16 * i, 240, 300 + 40 * i, true).unwrap();
        files.push(p);
    }
    for i in 0..7u32 {
        let p = dir.join(format!("photo{i}.{}", if i % 2 == 0 { "png" } else { "jpg" }));
        make_image(&p, 400 + 8 * i, 300).unwrap();
        files.push(p);
    }
    for i in 0..6u32 {
        let p = dir.join(format!("tone{i}.wav"));
        make_tone(&p, 200 + 100 * i, 2).unwrap();
        files.push(p);
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_ingest_loses_and_duplicates_nothing() {
    let work = tempfile::tempdir().unwrap();
    let inputs = make_inputs(work.path());
    assert_eq!(inputs.len(), 20);
    let home = work.path().join("home");
    let mut server = Server::start(&home).unwrap();
    let c = client();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(PathBuf, Option<String>)>();
    for (i, path) in inputs.iter().enumerate() {
        let (c, tx, path, url) =
            (c.clone(), tx.clone(), path.clone(), server.url("/api/v1/assets"));
        tokio::spawn(async move {
            let form =
                reqwest::multipart::Form::new().text("title", format!("Crash test {i}")).part(
                    "file",
                    reqwest::multipart::Part::bytes(std::fs::read(&path).unwrap())
                        .file_name(path.file_name().unwrap().to_string_lossy().into_owned()),
                );
            let id = match c.post(url).multipart(form).send().await {
                Ok(r) if r.status() == 201 => {
                    r.json::<Value>().await.ok().and_then(|v| v["id"].as_str().map(str::to_string))
                }
                _ => None,
            };
            let _ = tx.send((path, id));
        });
    }
    drop(tx);
    // Kill once a few uploads are acknowledged: the rest are mid-upload or mid-processing.
    let mut answers = Vec::new();
    while let Some(a) = rx.recv().await {
        answers.push(a);
        if answers.iter().filter(|(_, id)| id.is_some()).count() == 6 {
            server.kill();
        }
    }
    let acknowledged: HashMap<String, PathBuf> =
        answers.into_iter().filter_map(|(p, id)| id.map(|id| (id, p))).collect();
    assert!(acknowledged.len() >= 6, "only {} uploads were acknowledged", acknowledged.len());

    // Restart with two timely workers: media work is exchanged between them by asset.
    let server = Server::start_with(&home, &[("ACERVO_DATAFLOW__WORKERS", "2")]).unwrap();
    for (id, path) in &acknowledged {
        let a = wait_status(&c, &server, id, &["ready", "failed"], Duration::from_secs(120))
            .await
            .unwrap();
        assert_eq!(a["status"], "ready", "{a}");
        assert_eq!(a["sha256"], sha256_file(path).unwrap(), "{}", path.display());
    }
    // Exactly once each, and no rendition twice.
    let (_, page) = get_json(&c, &server.url("/api/v1/assets?limit=1000")).await.unwrap();
    let ids: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    for id in acknowledged.keys() {
        assert_eq!(ids.iter().filter(|x| *x == id).count(), 1, "asset {id}");
    }
    let mut by_sha: HashMap<&str, usize> = HashMap::new();
    for a in page["items"].as_array().unwrap() {
        *by_sha.entry(a["sha256"].as_str().unwrap()).or_default() += 1;
    }
    assert!(by_sha.values().all(|n| *n == 1), "the same content was ingested twice: {by_sha:?}");

    let home_arg = home.to_str().unwrap();
    let (code, out, err) =
        acervo(&["sql", "SELECT asset_id, profile, count(*) AS n FROM renditions GROUP BY asset_id, profile HAVING count(*) > 1", "--home", home_arg]).unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 rows"), "duplicate renditions: {out}");
    let (code, out, err) = acervo(&["verify", "--home", home_arg]).unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("all match"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_cleanly_with_the_checkpoint_at_the_end_of_the_log() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let mut server = Server::start(&home).unwrap();
    let c = client();
    let png = work.path().join("a.png");
    make_image(&png, 64, 64).unwrap();
    let id = upload_ok(&c, &server, &png, "Graceful", "").await.unwrap();
    wait_status(&c, &server, &id, &["ready"], Duration::from_secs(60)).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while get_json(&c, &server.url("/healthz")).await.unwrap().1["durable_offset"] != 1 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let checkpoint = std::fs::read_to_string(home.join("checkpoints/catalog.offset")).unwrap();
    assert_eq!(checkpoint.trim(), "1", "the checkpoint covers the one event in the log");
}

/// A stop lets what is being written land and stores the checkpoint after it: stopped right
/// after its work became visible, the server restarts with nothing to redo.
#[tokio::test(flavor = "multi_thread")]
async fn a_stop_right_after_the_work_shows_leaves_nothing_to_redo() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let photo = work.path().join("foto.png");
    make_image(&photo, 320, 240).unwrap();
    let c = client();
    let mut server = Server::start(&home).unwrap();
    let id = upload_ok(&c, &server, &photo, "Foto", "").await.unwrap();
    wait_status(&c, &server, &id, &["ready"], Duration::from_secs(120)).await.unwrap();
    let (_, health) = get_json(&c, &server.url("/healthz")).await.unwrap();
    server.terminate();
    let stored = std::fs::read_to_string(home.join("checkpoints/catalog.offset")).unwrap();
    assert_eq!(
        stored.trim().parse::<u64>().unwrap(),
        health["log_end_offset"].as_u64().unwrap(),
        "{health}"
    );

    let server = Server::start(&home).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Every stage run and every rendition made or reused counts here: none may have happened.
    let text = c.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let work: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("acervo_media_stage_total{") || l.starts_with("acervo_renditions_total{")
        })
        .filter(|l| {
            l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| v > 0.0)
        })
        .collect();
    assert!(work.is_empty(), "the restart redid work: {work:?}");
}
