//! The enrichment stage end to end: OCR text of a captioned video and of a photo of a sign
//! lands on the assets and is searchable; asset vectors from the sentence model make a text
//! query in vector mode (embedded with the same model) find the asset by meaning.

use std::time::Duration;

use acervo_tests::*;
use serde_json::Value;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
const READY: Duration = Duration::from_secs(240);

async fn search(c: &reqwest::Client, server: &Server, query: &str) -> Value {
    let (code, body) = get_json(c, &server.url(&format!("/api/v1/search?{query}"))).await.unwrap();
    assert_eq!(code, 200, "{body}");
    body
}

fn ids(found: &Value) -> Vec<String> {
    found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["asset"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ocr_text_is_searchable_and_text_queries_find_assets_by_meaning() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let video = dir.join("acto.mp4");
    let filter = format!(
        "color=0x203050:size=1280x720:rate=25:duration=5,drawtext=fontfile={FONT}:text='PLAZA DE MAYO 2024':fontsize=72:x=(w-tw)/2:y=h-160:fontcolor=white:enable='gte(t,1)'"
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &filter,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ])
    .unwrap();
    let sign = dir.join("cartel.png");
    let text = format!(
        "color=white:size=1400x300,drawtext=fontfile={FONT}:text='Huelga general de transportes':fontsize=64:x=60:y=110:fontcolor=black"
    );
    ffmpeg(&["-f", "lavfi", "-i", &text, "-frames:v", "1", sign.to_str().unwrap()]).unwrap();
    let fire = dir.join("fire.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=orange:size=320x240",
        "-frames:v",
        "1",
        fire.to_str().unwrap(),
    ])
    .unwrap();
    let budget = dir.join("budget.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=gray:size=320x240",
        "-frames:v",
        "1",
        budget.to_str().unwrap(),
    ])
    .unwrap();

    let server =
        Server::start_with(&dir.join("home"), &[("ACERVO_AI__OCR_EVERY_SECONDS", "1")]).unwrap();
    let c = client();
    let v = upload_ok(&c, &server, &video, "Acto en Buenos Aires", "").await.unwrap();
    let s = upload_ok(&c, &server, &sign, "Foto de la calle", "").await.unwrap();
    let f = upload_ok(&c, &server, &fire, "Firefighters put out a forest fire near the river", "")
        .await
        .unwrap();
    let b = upload_ok(&c, &server, &budget, "The city council approves next year's budget", "")
        .await
        .unwrap();
    let mut assets = Vec::new();
    for id in [&v, &s, &f, &b] {
        let a = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(a["status"], "ready", "{a}");
        assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
        assets.push(a);
    }
    assert!(
        assets[0]["ocr_text"].as_str().unwrap().contains("PLAZA DE MAYO 2024"),
        "{}",
        assets[0]["ocr_text"]
    );
    assert!(
        assets[1]["ocr_text"].as_str().unwrap().contains("Huelga general de transportes"),
        "{}",
        assets[1]["ocr_text"]
    );

    // Frame-level results: OCR text and labels of each sampled second, with their models.
    let (code, frames) =
        get_json(&c, &server.url(&format!("/api/v1/assets/{v}/frames"))).await.unwrap();
    assert_eq!(code, 200, "{frames}");
    let frames = frames.as_array().unwrap().clone();
    assert_eq!(
        frames.iter().map(|f| f["at_ms"].as_u64().unwrap() / 1000).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4],
        "{frames:?}"
    );
    for f in &frames {
        let captioned = f["at_ms"].as_u64().unwrap() >= 1000;
        assert_eq!(
            f["ocr_text"].as_str().unwrap().contains("PLAZA DE MAYO 2024"),
            captioned,
            "{f}"
        );
        assert!(f["ocr_model"].as_str().unwrap().starts_with("tesseract"), "{f}");
        assert!(f["label_model"].as_str().unwrap().starts_with("mobilenet_v2@"), "{f}");
        assert!(
            f["labels"].as_array().unwrap().iter().all(|l| l["score"].as_f64().unwrap() >= 0.1),
            "{f}"
        );
    }

    let sql = c.post(server.url("/api/v1/sql")).json(&serde_json::json!({"query": format!("SELECT count(*) AS n FROM frames WHERE asset_id = '{v}' AND ocr_text LIKE '%MAYO%'")})).send().await.unwrap();
    let sql: Value = sql.json().await.unwrap();
    assert_eq!(sql["rows"][0]["n"], 4, "{sql}");
    // Every vector names the model that made it.
    let sql = c.post(server.url("/api/v1/sql")).json(&serde_json::json!({"query": format!("SELECT model FROM embeddings WHERE asset_id = '{v}'")})).send().await.unwrap();
    let sql: Value = sql.json().await.unwrap();
    let rows = sql["rows"].as_array().unwrap();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|r| r["model"].as_str().is_some_and(|m| m.starts_with("all-MiniLM-L6-v2@"))),
        "{sql}"
    );

    // OCR text is searchable: neither word is in a title.
    let found = wait_searchable(&c, &server, "mayo", &v, READY).await.unwrap();
    assert_eq!(ids(&found), vec![v.clone()], "{found}");
    let found = search(&c, &server, "q=huelga").await;
    assert_eq!(ids(&found), vec![s.clone()], "{found}");

    // Meaning, not words: "wildfire" shares no word with any title.
    let found = search(&c, &server, "mode=vector&q=wildfire&limit=4").await;
    assert_eq!(ids(&found).first(), Some(&f), "{found}");
    let found = search(&c, &server, "mode=vector&q=municipal%20finances&limit=4").await;
    assert_eq!(ids(&found).first(), Some(&b), "{found}");
    let budget_score = found["hits"][0]["score"].as_f64().unwrap();

    // An edited title moves the asset's vector with it.
    let r = c
        .patch(server.url(&format!("/api/v1/assets/{b}")))
        .json(&serde_json::json!({"title": "Kittens play with a ball of wool"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = std::time::Instant::now() + READY;
    loop {
        let found = search(&c, &server, "mode=vector&q=young%20cats%20playing&limit=4").await;
        if ids(&found).first() == Some(&b) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edited asset is not found by its new meaning: {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // …and away from its old meaning.
    let found = search(&c, &server, "mode=vector&q=municipal%20finances&limit=4").await;
    let hit = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["asset"]["id"] == b.as_str())
        .cloned()
        .unwrap();
    assert!(
        hit["score"].as_f64().unwrap() < budget_score - 0.1,
        "score {} before the edit, {} after: {found}",
        budget_score,
        hit["score"]
    );
}

/// Speech and labels through the whole pipeline: a spoken video gets a timed transcript whose
/// words are found at their moment; real photos get ImageNet labels, and a one-word query in
/// vector mode finds the photo by what is in it.
#[tokio::test(flavor = "multi_thread")]
async fn spoken_words_are_found_at_their_moment_and_photos_by_what_they_show() {
    use crate::ai_labels::photo;
    use crate::ai_speech::{AT_1, spoken_video};

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let video = dir.join("pleno.mp4");
    let at_2 = spoken_video(dir, &video);
    let server =
        Server::start_with(&dir.join("home"), &[("ACERVO_AI__SPEECH_MODEL_PATH", "whisper-base")])
            .unwrap();
    let c = client();
    let v = upload_ok(&c, &server, &video, "Pleno municipal", "").await.unwrap();
    let mut photos = Vec::new();
    for (i, name) in ["chelsea.png", "coffee.png", "motorcycle_left.png"].iter().enumerate() {
        // Neutral titles: only the pictures say what they show.
        photos.push(
            upload_ok(&c, &server, &photo(name), &format!("Foto {}", i + 1), "").await.unwrap(),
        );
    }
    // The enrichment runs on its own pool, after the probe, while the renditions encode.
    let job = server.url(&format!("/api/v1/jobs/{v}"));
    let mut overlapped = false;
    let deadline = std::time::Instant::now() + READY;
    while std::time::Instant::now() < deadline {
        let (_, j) = get_json(&c, &job).await.unwrap();
        let running = |stage: &str| {
            j["stages"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["stage"] == stage && s["state"] == "running")
        };
        if running("renditions") && running("enrich") {
            overlapped = true;
            break;
        }
        if j["stages"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["stage"] == "renditions" && s["state"] == "done"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(overlapped, "enrichment and renditions never ran at the same time");
    let a = wait_status(&c, &server, &v, &["ready", "failed"], READY).await.unwrap();
    assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
    let transcript = a["transcript_text"].as_str().unwrap().to_lowercase();
    assert!(transcript.contains("firefighters") && transcript.contains("budget"), "{a}");
    assert_eq!(a["ai"]["language"], "en", "{a}");
    assert!(a["ai"]["models"]["speech"].as_str().unwrap().starts_with("whisper-base"), "{a}");
    assert!(a["ai"]["models"]["embedding"].as_str().is_some(), "{a}");
    // Editorial fields stay the editor's.
    assert_eq!(a["title"], "Pleno municipal");
    assert_eq!(a["tags"], serde_json::json!([]));

    let (_, segments) =
        get_json(&c, &server.url(&format!("/api/v1/assets/{v}/segments"))).await.unwrap();
    assert!(
        segments
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["model"].as_str().unwrap().starts_with("whisper-base@")),
        "{segments}"
    );

    // A spoken word finds the asset and the moment it is said.
    let found = wait_searchable(&c, &server, "firefighters", &v, READY).await.unwrap();
    assert_eq!(ids(&found), vec![v.clone()], "{found}");
    let moment = found["hits"][0]["moments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["source"] == "transcript")
        .cloned()
        .unwrap_or_else(|| panic!("{found}"));
    let start = moment["start_ms"].as_u64().unwrap() as f64 / 1000.0;
    assert!((start - at_2).abs() <= 1.0, "said at {at_2:.2} s, moment at {start:.2} s: {found}");
    let found = search(&c, &server, "q=budget").await;
    let start = found["hits"][0]["moments"][0]["start_ms"].as_u64().unwrap() as f64 / 1000.0;
    assert!((start - AT_1).abs() <= 1.0, "said at {AT_1:.2} s, moment at {start:.2} s: {found}");

    let mut shown = Vec::new();
    for id in &photos {
        let a = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
        assert!(a["ai"]["models"]["labels"].as_str().unwrap().starts_with("mobilenet_v2"), "{a}");
        let scores = a["ai"]["label_scores"].as_array().unwrap();
        assert!(
            !scores.is_empty()
                && scores.iter().all(|l| (0.0..=1.0).contains(&l["score"].as_f64().unwrap())),
            "{a}"
        );
        shown.push(a);
    }
    let cat_labels: Vec<&str> =
        shown[0]["labels"].as_array().unwrap().iter().filter_map(|l| l.as_str()).collect();
    assert!(cat_labels.contains(&"cat"), "{cat_labels:?}");
    // Labels are searchable words; in vector mode "cat" also ranks the cat first.
    let found = search(&c, &server, "q=cat").await;
    assert_eq!(ids(&found).first(), Some(&photos[0]), "{found}");
    let found = search(&c, &server, "mode=vector&q=cat&limit=4").await;
    assert_eq!(ids(&found).first(), Some(&photos[0]), "{found}");

    // Labels are suggestions until an editor accepts one: then it is a tag (an event).
    let url = server.url(&format!("/api/v1/assets/{}", photos[0]));
    let (_, before) = get_json(&c, &url).await.unwrap();
    let cat = before["suggestions"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "cat")
        .cloned()
        .unwrap_or_else(|| panic!("{before}"));
    assert_eq!(cat["accepted"], false, "{before}");
    assert!(cat["score"].as_f64().unwrap() > 0.1, "{before}");
    assert_eq!(before["suggestions"]["models"]["labels"], before["ai"]["models"]["labels"]);
    let accept = |body: serde_json::Value| c.post(format!("{url}/ai/accept")).json(&body).send();
    let r = accept(serde_json::json!({"labels": ["cat"]})).await.unwrap();
    assert_eq!(r.status(), 200);
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["tags"], serde_json::json!(["cat"]), "{after}");
    assert!(
        after["suggestions"]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "cat" && l["accepted"] == true),
        "{after}"
    );
    // Only suggestions can be accepted; a wrong request is a problem, not a tag.
    let r = accept(serde_json::json!({"labels": ["dog"]})).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = accept(serde_json::json!({"labels": []})).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = accept(serde_json::json!({"tags": ["cat"]})).await.unwrap();
    assert_eq!(r.status(), 422);
    let (_, now) = get_json(&c, &url).await.unwrap();
    assert_eq!(now["tags"], serde_json::json!(["cat"]), "{now}");

    // A wrong suggestion is rejected: gone from the suggestions and from search, and a model
    // (here an import of the same labels) suggesting it again is not listened to.
    let names: Vec<String> = now["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    let wrong = names.iter().find(|l| *l != "cat").cloned().unwrap_or_else(|| panic!("{now}"));
    let r = c.post(format!("{url}/ai/reject")).json(&serde_json::json!({"labels": [wrong]})).send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 200);
    let after: Value = r.json().await.unwrap();
    let suggested = |a: &Value| -> Vec<String> {
        a["suggestions"]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        !suggested(&after).contains(&wrong) && suggested(&after).contains(&"cat".to_string()),
        "{after}"
    );
    assert!(!after["ai"]["label_scores"].to_string().contains(&format!("\"{wrong}\"")), "{after}");
    let again =
        c.put(format!("{url}/enrichment")).json(&serde_json::json!({"labels": names})).send();
    assert_eq!(again.await.unwrap().status(), 200);
    let (_, later) = get_json(&c, &url).await.unwrap();
    assert!(!suggested(&later).contains(&wrong), "suggested again: {later}");
    assert_eq!(later["tags"], serde_json::json!(["cat"]), "{later}");
    let r = c.post(format!("{url}/ai/reject")).json(&serde_json::json!({"labels": [wrong]})).send();
    assert_eq!(r.await.unwrap().status(), 422, "no longer a suggestion");

    // A video of the cat: each sampled frame is labelled on its own.
    let cat_video = dir.join("gato.mp4");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        photo("chelsea.png").to_str().unwrap(),
        "-t",
        "3",
        "-r",
        "25",
        "-vf",
        "scale=450:300",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        cat_video.to_str().unwrap(),
    ])
    .unwrap();
    let cv = upload_ok(&c, &server, &cat_video, "Vídeo 1", "").await.unwrap();
    // Each frame's labels are its own (a cat class in every frame), and the asset's pool them.
    let a = wait_status(&c, &server, &cv, &["ready", "failed"], READY).await.unwrap();
    let (_, frames) =
        get_json(&c, &server.url(&format!("/api/v1/assets/{cv}/frames"))).await.unwrap();
    let frames = frames.as_array().unwrap();
    assert!(!frames.is_empty(), "{a}");
    let cats = ["tabby", "tiger cat", "Egyptian cat"];
    for f in frames {
        let names: Vec<&str> =
            f["labels"].as_array().unwrap().iter().filter_map(|l| l["name"].as_str()).collect();
        assert!(names.iter().any(|n| cats.contains(n)), "{f}");
        assert!(
            names.iter().all(|n| a["labels"].as_array().unwrap().iter().any(|p| p == n)),
            "{names:?} not all in {}",
            a["labels"]
        );
    }
}

/// `acervo reindex --stage enrich --model NAME` reruns the enrichment only for the assets a
/// model's current version has not enriched: nothing while up to date, every affected asset
/// once the weights change, nothing again afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn reindex_reruns_enrichment_only_where_a_model_version_changed() {
    use crate::ai_labels::photo;

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let home = dir.join("home");
    let mut server = Server::start(&home).unwrap();
    let c = client();
    let cat = upload_ok(&c, &server, &photo("chelsea.png"), "Foto 1", "").await.unwrap();
    let cup = upload_ok(&c, &server, &photo("coffee.png"), "Foto 2", "").await.unwrap();
    let mut before = Vec::new();
    for id in [&cat, &cup] {
        let a = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
        before.push(a["ai"]["models"]["labels"].as_str().unwrap().to_string());
    }
    assert!(before[0].starts_with("mobilenet_v2@") && before[0] == before[1], "{before:?}");
    let reindex = |model: &str, base: String| {
        acervo(&["reindex", "--stage", "enrich", "--model", model, "--server", &base]).unwrap()
    };

    let (code, out, err) = reindex("mobilenet_v2", server.url(""));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 assets queued, 2 up to date"), "{out}");
    let (code, _, err) = reindex("resnet-9000", server.url(""));
    assert_ne!(code, 0);
    assert!(
        err.trim().lines().count() == 1 && err.contains("no model named \"resnet-9000\""),
        "{err}"
    );

    // New weights for the same model name: the checkpoint with a byte after its data, so the
    // network is the same but its SHA-256, the version, is not.
    server.stop().await;
    let mut weights =
        std::fs::read(acervo_catalog::AcervoConfig::defaults().ai.label_model_file().unwrap())
            .unwrap();
    weights.push(0);
    let newer = dir.join("mobilenet_v2-newer.pth");
    std::fs::write(&newer, weights).unwrap();
    let server =
        Server::start_with(&home, &[("ACERVO_AI__LABEL_MODEL_PATH", newer.to_str().unwrap())])
            .unwrap();
    let (code, out, err) = reindex("mobilenet_v2", server.url(""));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 assets queued, 0 up to date") && out.contains("reindexed"), "{out}");
    for id in [&cat, &cup] {
        let (_, a) = get_json(&c, &server.url(&format!("/api/v1/assets/{id}"))).await.unwrap();
        assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
        let now = a["ai"]["models"]["labels"].as_str().unwrap();
        assert!(now.starts_with("mobilenet_v2@") && now != before[0], "{now} vs {}", before[0]);
    }
    let (_, a) = get_json(&c, &server.url(&format!("/api/v1/assets/{cat}"))).await.unwrap();
    assert!(a["labels"].as_array().unwrap().iter().any(|l| l == "cat"), "{a}");
    let (code, out, _) = reindex("mobilenet_v2", server.url(""));
    assert_eq!(code, 0);
    assert!(out.contains("0 assets queued, 2 up to date"), "{out}");
}
