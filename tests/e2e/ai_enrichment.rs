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
    found["hits"].as_array().unwrap().iter().map(|h| h["asset"]["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ocr_text_is_searchable_and_text_queries_find_assets_by_meaning() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let video = dir.join("acto.mp4");
    let filter = format!("color=0x203050:size=1280x720:rate=25:duration=5,drawtext=fontfile={FONT}:text='PLAZA DE MAYO 2024':fontsize=72:x=(w-tw)/2:y=h-160:fontcolor=white:enable='gte(t,1)'");
    run_tool("ffmpeg", &["-v", "error", "-f", "lavfi", "-i", &filter, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", video.to_str().unwrap()]).unwrap();
    let sign = dir.join("cartel.png");
    let text = format!("color=white:size=1400x300,drawtext=fontfile={FONT}:text='Huelga general de transportes':fontsize=64:x=60:y=110:fontcolor=black");
    run_tool("ffmpeg", &["-v", "error", "-f", "lavfi", "-i", &text, "-frames:v", "1", sign.to_str().unwrap()]).unwrap();
    let fire = dir.join("fire.png");
    run_tool("ffmpeg", &["-v", "error", "-f", "lavfi", "-i", "color=orange:size=320x240", "-frames:v", "1", fire.to_str().unwrap()]).unwrap();
    let budget = dir.join("budget.png");
    run_tool("ffmpeg", &["-v", "error", "-f", "lavfi", "-i", "color=gray:size=320x240", "-frames:v", "1", budget.to_str().unwrap()]).unwrap();

    let server = Server::start_with(&dir.join("home"), &[("ACERVO_AI__OCR_EVERY_SECONDS", "1")]).unwrap();
    let c = client();
    let v = upload_ok(&c, &server, &video, "Acto en Buenos Aires", "").await.unwrap();
    let s = upload_ok(&c, &server, &sign, "Foto de la calle", "").await.unwrap();
    let f = upload_ok(&c, &server, &fire, "Firefighters put out a forest fire near the river", "").await.unwrap();
    let b = upload_ok(&c, &server, &budget, "The city council approves next year's budget", "").await.unwrap();
    let mut assets = Vec::new();
    for id in [&v, &s, &f, &b] {
        let a = wait_status(&c, &server, id, &["ready", "failed"], READY).await.unwrap();
        assert_eq!(a["status"], "ready", "{a}");
        assert_eq!(a["stages"]["enrich"]["state"], "done", "{a}");
        assets.push(a);
    }
    assert!(assets[0]["ocr_text"].as_str().unwrap().contains("PLAZA DE MAYO 2024"), "{}", assets[0]["ocr_text"]);
    assert!(assets[1]["ocr_text"].as_str().unwrap().contains("Huelga general de transportes"), "{}", assets[1]["ocr_text"]);

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
}
