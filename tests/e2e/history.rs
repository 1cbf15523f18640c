//! An asset's history: every change by whom and when, with the fields before and after, newest
//! first and paged, read from the `history` table the catalog writer keeps.

use std::time::{Duration, Instant};

use acervo_tests::{Server, get_json, newsroom, text_asset};
use anyhow::{Result, ensure};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_each_edit_with_who_and_the_fields_before_and_after() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let (_admin, people) = newsroom(&server, &[("ana", "editor"), ("luis", "editor")]).await?;
    let (ana, luis) = (&people[0], &people[1]);
    let id = text_asset(ana, &server, "Pleno municipal", "pleno", "news").await?;
    let url = |path: &str| server.url(&format!("/api/v1/assets/{id}{path}"));

    let r = ana.patch(url("")).json(&json!({"title": "Pleno extraordinario"})).send().await?;
    ensure!(r.status() == 200, "{}", r.status());
    let r = luis
        .patch(url(""))
        .json(&json!({"tags": ["pleno", "sevilla"], "creator": "Luis Gil"}))
        .send()
        .await?;
    ensure!(r.status() == 200, "{}", r.status());
    let r = ana
        .post(url("/editorial-status"))
        .json(&json!({"status": "in_review", "comment": "listo"}))
        .send()
        .await?;
    ensure!(r.status() == 200, "{}", r.status());

    // The catalog writer materialises the history with the rows: within moments.
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let (code, page) = get_json(ana, &url("/history")).await?;
        ensure!(code == 200, "{page}");
        if page["entries"].as_array().map_or(0, Vec::len) >= 4 {
            break page;
        }
        ensure!(Instant::now() < deadline, "history still {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let entries = page["entries"].as_array().cloned().unwrap_or_default();
    ensure!(entries.len() == 4, "one entry for the upload and one per edit: {page}");
    let who: Vec<&str> = entries.iter().filter_map(|e| e["principal"].as_str()).collect();
    ensure!(who == ["ana", "luis", "ana", "ana"], "newest first: {who:?}");
    let change: Vec<&str> = entries.iter().filter_map(|e| e["change"].as_str()).collect();
    ensure!(
        change
            == ["editorial_status_changed", "metadata_edited", "metadata_edited", "asset_ingested"],
        "{change:?}"
    );
    let [status, tags, title, created] = &entries[..] else { unreachable!() };
    ensure!(
        status["before"] == json!({"editorial_status": "draft"})
            && status["after"] == json!({"editorial_status": "in_review"}),
        "{status}"
    );
    ensure!(
        tags["before"] == json!({"tags": ["pleno"], "creator": null})
            && tags["after"] == json!({"tags": ["pleno", "sevilla"], "creator": "Luis Gil"}),
        "only the fields that changed: {tags}"
    );
    ensure!(
        title["before"] == json!({"title": "Pleno municipal"})
            && title["after"] == json!({"title": "Pleno extraordinario"}),
        "{title}"
    );
    ensure!(
        created["before"] == json!({}) && created["after"]["title"] == "Pleno municipal",
        "{created}"
    );
    let times: Vec<&str> = entries.iter().filter_map(|e| e["at"].as_str()).collect();
    ensure!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Pages of two: the second follows the first, and nothing after the last.
    let (_, first) = get_json(ana, &url("/history?limit=2")).await?;
    let before = first["next_before"].as_u64();
    ensure!(before.is_some() && first["entries"].as_array().map(Vec::len) == Some(2), "{first}");
    let (_, second) =
        get_json(ana, &url(&format!("/history?limit=2&before={}", before.unwrap_or(0)))).await?;
    let seqs = |p: &Value| -> Vec<u64> {
        p["entries"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["seq"].as_u64()).collect())
            .unwrap_or_default()
    };
    let all: Vec<u64> = entries.iter().filter_map(|e| e["seq"].as_u64()).collect();
    ensure!([seqs(&first), seqs(&second)].concat() == all, "{first} {second}");
    ensure!(second["next_before"].is_null(), "{second}");
    let (code, _) = get_json(ana, &url("/history?limit=0")).await?;
    ensure!(code == 400);
    Ok(())
}
