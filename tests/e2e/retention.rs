//! Retention: a legal hold, placed by an archivist with its reason, keeps an asset from being
//! deleted (the refusal says who held it and why) until it is released; editors cannot place
//! or lift one; the hold is in the asset, its history and the audit trail.

use acervo_tests::{Server, get_json, newsroom, text_asset, wait_status};
use anyhow::{Result, ensure};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_legal_hold_blocks_deletion_until_an_archivist_releases_it() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let (admin, people) = newsroom(&server, &[("ana", "editor"), ("arc", "archivist")]).await?;
    let (ana, arc) = (&people[0], &people[1]);
    let id = text_asset(ana, &server, "Juicio oral", "tribunales", "news").await?;
    wait_status(ana, &server, &id, &["ready"], std::time::Duration::from_secs(60)).await?;
    let url = |path: &str| server.url(&format!("/api/v1/assets/{id}{path}"));

    // Only an archivist (or an administrator) holds.
    let r = ana.put(url("/legal-hold")).json(&json!({"reason": "mía"})).send().await?;
    ensure!(r.status() == 403, "an editor placing a hold: {}", r.status());
    for bad in [json!({"reason": "  "}), json!({"reason": "x".repeat(501)}), json!({})] {
        let r = arc.put(url("/legal-hold")).json(&bad).send().await?;
        ensure!(r.status() == 422, "{bad}: {}", r.status());
    }
    let r = arc.put(url("/legal-hold")).json(&json!({"reason": " Causa 41/2026 "})).send().await?;
    ensure!(r.status() == 200, "{}", r.status());
    let held: serde_json::Value = r.json().await?;
    ensure!(held["legal_hold"]["by"] == "arc", "{held}");
    ensure!(held["legal_hold"]["reason"] == "Causa 41/2026", "trimmed: {held}");

    // The delete is refused with who and why; nothing changes.
    let r = ana.delete(url("")).send().await?;
    ensure!(r.status() == 409, "deleting a held asset: {}", r.status());
    let problem: serde_json::Value = r.json().await?;
    let detail = problem["detail"].as_str().unwrap_or_default();
    ensure!(detail.contains("arc") && detail.contains("Causa 41/2026"), "{problem}");
    let (_, asset) = get_json(ana, &url("")).await?;
    ensure!(asset["status"] == "ready", "{asset}");
    let r = ana.delete(url("/legal-hold")).send().await?;
    ensure!(r.status() == 403, "an editor lifting a hold: {}", r.status());

    // Released, the asset can be deleted.
    let r = arc.delete(url("/legal-hold")).send().await?;
    ensure!(r.status() == 200, "{}", r.status());
    let released: serde_json::Value = r.json().await?;
    ensure!(released["legal_hold"].is_null(), "{released}");
    let r = ana.delete(url("")).send().await?;
    ensure!(r.status() == 200, "{}", r.status());
    let (_, asset) = get_json(ana, &url("")).await?;
    ensure!(asset["status"] == "deleted", "{asset}");

    // The history shows both moves of the hold, by the archivist (the catalog writer
    // materialises it with the rows: within moments).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let page = loop {
        let (_, page) = get_json(ana, &url("/history?limit=3")).await?;
        if page["entries"][0]["change"] == "asset_deleted" {
            break page;
        }
        ensure!(std::time::Instant::now() < deadline, "history still {page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let entries = page["entries"].as_array().cloned().unwrap_or_default();
    let changes: Vec<(&str, &str)> = entries
        .iter()
        .filter_map(|e| Some((e["change"].as_str()?, e["principal"].as_str()?)))
        .collect();
    ensure!(
        changes
            == [
                ("asset_deleted", "ana"),
                ("legal_hold_changed", "arc"),
                ("legal_hold_changed", "arc")
            ],
        "{page}"
    );
    ensure!(entries[2]["after"]["legal_hold"]["reason"] == "Causa 41/2026", "{page}");
    ensure!(entries[1]["after"]["legal_hold"].is_null(), "{page}");

    // Both are in the audit trail.
    let r = admin
        .get(server.url("/api/v1/audit"))
        .query(&[("who", "arc"), ("resource", &format!("/api/v1/assets/{id}/legal-hold"))])
        .send()
        .await?;
    ensure!(r.status() == 200, "{}", r.status());
    let audit: serde_json::Value = r.json().await?;
    let rows: Vec<(&str, u64)> = audit["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["action"].as_str()?, r["status"].as_u64()?)))
        .collect();
    for method in ["PUT", "DELETE"] {
        let action = format!("{method} /api/v1/assets/{{id}}/legal-hold");
        ensure!(rows.contains(&(action.as_str(), 200)), "{action} not in {audit}");
    }
    Ok(())
}
