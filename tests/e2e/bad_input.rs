//! Bad and hostile input: every refusal is a problem+json with the right 4xx, every broken
//! file becomes a failed asset with a reason, and the server keeps serving everyone else.

use std::time::Duration;

use acervo_tests::*;
use serde_json::Value;

async fn assert_problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string());
    assert!(!body["detail"].as_str().unwrap_or_default().is_empty(), "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_uploads_are_refused_or_failed_and_the_server_stays_up() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let server = Server::start(&dir.join("home")).unwrap();
    let c = client();

    // Zero bytes.
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let body = assert_problem(upload(&c, &server, &empty, "Empty", "").await.unwrap(), 422).await;
    assert!(body["detail"].as_str().unwrap().contains("empty"));

    // Text named .mp4.
    let text = dir.join("notes.mp4");
    std::fs::write(&text, "Minutes of the editorial meeting.\nNothing to see here.\n").unwrap();
    let body = assert_problem(upload(&c, &server, &text, "Notes", "").await.unwrap(), 415).await;
    assert!(body["detail"].as_str().unwrap().contains("text"), "{body}");

    // A path in the file name.
    let png = dir.join("ok.png");
    make_image(&png, 64, 48).unwrap();
    let body = assert_problem(
        upload_named(&c, &server, &png, "../../etc/passwd.png", "Sneaky", "").await.unwrap(),
        400,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("base name"), "{body}");

    // Unknown form fields, no file, not multipart.
    let form = reqwest::multipart::Form::new().text("colour", "red").part(
        "file",
        reqwest::multipart::Part::bytes(std::fs::read(&png).unwrap()).file_name("a.png"),
    );
    assert_problem(c.post(server.url("/api/v1/assets")).multipart(form).send().await.unwrap(), 400)
        .await;
    let form = reqwest::multipart::Form::new().text("title", "no file");
    assert_problem(c.post(server.url("/api/v1/assets")).multipart(form).send().await.unwrap(), 400)
        .await;
    assert_problem(c.post(server.url("/api/v1/assets")).body("hello").send().await.unwrap(), 400)
        .await;

    // Nothing refused left a master behind.
    let masters = server.home.join("objects/masters");
    assert!(
        !masters.exists() || std::fs::read_dir(&masters).unwrap().next().is_none(),
        "refused uploads left masters"
    );

    // A truncated MP4 (its index is at the end, as cameras write it) and a decompression bomb
    // are accepted, then fail with a reason.
    let full = dir.join("full.mp4");
    make_video(&full, 2, 320, 240, 500, false).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let truncated = dir.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let bomb = dir.join("bomb.png");
    png_with_header(&bomb, 40000, 40000).unwrap();
    let good = dir.join("good.png");
    make_image(&good, 320, 200).unwrap();

    let t_id = upload_ok(&c, &server, &truncated, "Truncated", "").await.unwrap();
    let b_id = upload_ok(&c, &server, &bomb, "Bomb", "").await.unwrap();
    let g_id = upload_ok(&c, &server, &good, "Good", "").await.unwrap();
    let t = wait_status(&c, &server, &t_id, &["failed", "ready"], Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(t["status"], "failed", "{t}");
    assert!(!t["status_reason"].as_str().unwrap_or_default().is_empty());
    assert_eq!(t["stages"]["probe"]["state"], "failed");
    assert_eq!(t["stages"]["thumbnail"]["state"], "skipped");
    let b = wait_status(&c, &server, &b_id, &["failed", "ready"], Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(b["status"], "failed", "{b}");
    assert!(b["status_reason"].as_str().unwrap().contains("40000x40000"), "{b}");
    // Reasons name the file as it was uploaded, never where the server keeps it.
    let home = server.home.to_str().unwrap();
    for (asset, name) in [(&b, "bomb.png"), (&t, "truncated.mp4")] {
        let reason = asset["status_reason"].as_str().unwrap();
        assert!(
            reason.contains(name) && !reason.contains(home) && !reason.contains("masters/"),
            "{reason}"
        );
        for (stage, st) in asset["stages"].as_object().unwrap() {
            let why = st["reason"].as_str().unwrap_or_default();
            assert!(!why.contains(home) && !why.contains("/objects/"), "{stage}: {why}");
        }
    }
    let g = wait_status(&c, &server, &g_id, &["failed", "ready"], Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(g["status"], "ready", "other assets are unaffected: {g}");
    let (_, job) = get_json(&c, &server.url(&format!("/api/v1/jobs/{b_id}"))).await.unwrap();
    assert_eq!(job["status"], "failed");
    assert!(job["status_reason"].as_str().unwrap().contains("pixels"));

    // The same content again in the same project: a conflict naming the existing asset.
    let body =
        assert_problem(upload(&c, &server, &good, "Good again", "").await.unwrap(), 409).await;
    assert_eq!(body["existing_id"], g_id.as_str());

    // JSON bodies: unknown fields, malformed JSON, wrong content type, empty edits.
    let url = server.url(&format!("/api/v1/assets/{g_id}"));
    let body = assert_problem(
        c.patch(&url)
            .json(&serde_json::json!({"title": "x", "colour": "red"}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("colour"), "{body}");
    assert_problem(
        c.patch(&url)
            .header("content-type", "application/json")
            .body("{\"title\":")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_problem(c.patch(&url).body("title=x").send().await.unwrap(), 415).await;
    assert_problem(c.patch(&url).json(&serde_json::json!({})).send().await.unwrap(), 422).await;
    assert_problem(
        c.patch(&url).json(&serde_json::json!({"title": "   "})).send().await.unwrap(),
        422,
    )
    .await;
    assert_problem(
        c.patch(&url).json(&serde_json::json!({"tags": "not-a-list"})).send().await.unwrap(),
        422,
    )
    .await;

    // Ids, routes and filters.
    assert_problem(c.get(server.url("/api/v1/assets/not-a-uuid")).send().await.unwrap(), 404).await;
    assert_problem(
        c.get(server.url("/api/v1/assets/01930000-0000-7000-8000-000000000000"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(c.get(server.url("/api/v1/nothing-here")).send().await.unwrap(), 404).await;
    assert_problem(c.put(server.url("/api/v1/assets")).send().await.unwrap(), 405).await;
    assert_problem(
        c.get(server.url("/api/v1/search?q=x&kind=hologram")).send().await.unwrap(),
        400,
    )
    .await;
    for bad in ["interval=week", "taken_from=yesterday"] {
        assert_problem(
            c.get(server.url(&format!("/api/v1/search?{bad}"))).send().await.unwrap(),
            400,
        )
        .await;
    }
    assert_problem(c.get(server.url("/api/v1/assets?limit=0")).send().await.unwrap(), 400).await;
    assert_problem(c.get(server.url("/api/v1/assets?limit=abc")).send().await.unwrap(), 400).await;
    assert_problem(
        c.get(server.url(&format!("/api/v1/assets/{g_id}/renditions/hologram")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    // Still up, still answering.
    let mut server = server;
    assert!(server.is_running());
    let (code, health) = get_json(&c, &server.url("/healthz")).await.unwrap();
    assert_eq!((code, health["status"].as_str()), (200, Some("ok")));
}

/// Executables and scripts are refused whatever they are named, by the content sniffed from
/// their bytes (`limits.allowed_types`), and nothing of them is kept; every answer tells the
/// browser not to sniff, frame or leak the referrer; an oversized JSON body is a 413.
#[tokio::test(flavor = "multi_thread")]
async fn executables_and_scripts_are_refused_by_their_content() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let server = Server::start(&dir.join("home")).unwrap();
    let c = client();
    let elf = dir.join("holidays.jpg");
    std::fs::copy("/bin/true", &elf).unwrap();
    let script = dir.join("clip.mp4");
    std::fs::write(&script, "#!/bin/sh\nrm -rf \"$HOME\"\n").unwrap();
    let named_txt = dir.join("notes.txt");
    std::fs::write(&named_txt, "#!/usr/bin/env python3\nprint('hi')\n").unwrap();
    for (path, what) in [
        (&elf, "application/x-executable"),
        (&script, "text/x-shellscript"),
        (&named_txt, "text/x-shellscript"),
    ] {
        let resp = upload(&c, &server, path, "Hostile", "").await.unwrap();
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let body = assert_problem(resp, 415).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains(what) && detail.contains("not accepted"),
            "{}: {detail}",
            path.display()
        );
    }
    let masters = walk(&dir.join("home/objects/masters"));
    assert!(masters.is_empty(), "refused uploads left masters: {masters:?}");
    // Plain text is still a document.
    let ok = dir.join("minutes.txt");
    std::fs::write(&ok, "Minutes of the meeting.\n").unwrap();
    upload_ok(&c, &server, &ok, "Minutes", "").await.unwrap();

    let resp = c.get(server.url("/api/v1/assets")).send().await.unwrap();
    for (h, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(resp.headers()[h], v, "{h}");
    }
    let big = format!("{{\"q\": \"{}\"}}", "a".repeat(11 * 1024 * 1024));
    let resp = c
        .post(server.url("/api/v1/search"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 413).await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
