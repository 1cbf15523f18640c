//! The HLS ladder in a real player: hls.js in Debian's headless Chromium (playwright-core)
//! loads the master playlist from the API, buffers a fragment of every rung and plays.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use acervo_tests::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn hls_js_in_chromium_plays_every_rung_of_the_ladder() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let clip = dir.join("ladder.mp4");
    make_video(&clip, 10, 1920, 1080, 440, true).unwrap();
    let server = Server::start(&dir.join("home")).unwrap();
    let c = client();
    let id = upload_ok(&c, &server, &clip, "Escalera", "").await.unwrap();
    let asset = wait_status(&c, &server, &id, &["ready", "failed"], Duration::from_secs(240))
        .await
        .unwrap();
    assert_eq!(asset["status"], "ready", "{asset}");
    let hls =
        asset["renditions"].as_array().unwrap().iter().find(|r| r["profile"] == "hls").unwrap();
    let master = hls["url"].as_str().unwrap();

    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let out = Command::new("node")
        .arg("hls_play.mjs")
        .arg(&server.base)
        .arg(master)
        .current_dir(&browser_dir)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "the player script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("player: {}", String::from_utf8_lossy(&out.stdout));
    let seen: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(seen["supported"], true, "MSE with H.264/AAC in this Chromium: {seen}");
    let levels: Vec<(u64, u64)> = seen["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["width"].as_u64().unwrap(), l["height"].as_u64().unwrap()))
        .collect();
    let mut sorted = levels.clone();
    sorted.sort();
    assert_eq!(sorted, vec![(640, 360), (1280, 720), (1920, 1080)], "{seen}");
    assert_eq!(
        seen["buffered"],
        serde_json::json!([0, 1, 2]),
        "every rung buffered a fragment: {seen}"
    );
    assert!(seen["currentTime"].as_f64().unwrap() >= 3.0, "playback advanced: {seen}");
    assert!(seen["videoWidth"].as_u64().unwrap() > 0, "{seen}");
    let fatal: Vec<&Value> = seen["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.as_str().is_some_and(|s| s.ends_with(":true")))
        .collect();
    assert!(fatal.is_empty(), "fatal player errors: {seen}");
}
