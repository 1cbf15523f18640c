//! Retention: a legal hold, placed by an archivist with its reason, keeps an asset from being
//! deleted (the refusal says who held it and why) until it is released; editors cannot place
//! or lift one; the hold is in the asset, its history and the audit trail. A deleted asset is
//! restored whole; past its deadline a purge leaves a textless tombstone and no copy of the
//! asset in the object store, the tables (older versions included) or the index's segments,
//! and passes a held asset by.

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

    // Restored (before any purge) it is back as it was, and found again.
    let r = ana.post(url("/restore")).send().await?;
    ensure!(r.status() == 403, "an editor restoring: {}", r.status());
    let r = arc.post(url("/restore")).send().await?;
    ensure!(r.status() == 200, "{}", r.status());
    let back: serde_json::Value = r.json().await?;
    ensure!(back["status"] == "ready" && back["deleted_at"].is_null(), "{back}");
    ensure!(back["title"] == "Juicio oral", "{back}");
    acervo_tests::wait_searchable(ana, &server, "juicio", &id, std::time::Duration::from_secs(30))
        .await?;
    let r = arc.post(url("/restore")).send().await?;
    ensure!(r.status() == 409, "restoring what is not deleted: {}", r.status());

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

/// Every file under `dir` that `keep` keeps.
fn files_under(
    dir: &std::path::Path,
    keep: &dyn Fn(&std::path::Path) -> bool,
) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                found.push(p);
            }
        }
    }
    found
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    files_under(dir, &|p| {
        std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
    })
}

/// Files under `dir` whose path names `id` (the object store's keys carry the asset id).
fn objects_of(dir: &std::path::Path, id: &str) -> Vec<std::path::PathBuf> {
    files_under(dir, &|p| p.to_string_lossy().contains(id))
}

/// Every stored document of asset `id` in the search index's segments, deleted ones included
/// (a replaced document stays in its segment until a merge drops it).
fn stored_versions(search: &std::path::Path, id: &str) -> Result<Vec<String>> {
    use tantivy::schema::Value;
    let index = tantivy::Index::open_in_dir(search.join("assets"))?;
    let id_field = index.schema().get_field("id")?;
    let summary = index.schema().get_field("summary")?;
    let mut found = Vec::new();
    for segment in index.searchable_segments()? {
        let reader = tantivy::SegmentReader::open(&segment)?;
        let store = reader.get_store_reader(1)?;
        for doc in store.iter::<tantivy::TantivyDocument>(None) {
            let doc = doc?;
            if doc.get_first(id_field).and_then(|v| v.as_str()) == Some(id) {
                let bytes = doc.get_first(summary).and_then(|v| v.as_bytes()).unwrap_or_default();
                found.push(String::from_utf8_lossy(bytes).into_owned());
            }
        }
    }
    Ok(found)
}

/// Table versions kept: the manifests under each Lance table's `_versions`.
fn manifests(catalog: &std::path::Path, table: &str) -> usize {
    std::fs::read_dir(catalog.join(format!("{table}.lance")).join("_versions"))
        .map(|d| {
            d.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".manifest")).count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_past_the_deadline_leaves_a_tombstone_and_no_copy_of_the_asset_anywhere()
-> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[("ACERVO_RETENTION_DAYS", "0")])?;
    let (admin, people) = newsroom(&server, &[("ana", "editor"), ("arc", "archivist")]).await?;
    let (ana, arc) = (&people[0], &people[1]);
    let photo = home.path().join("plaza.png");
    acervo_tests::make_image(&photo, 640, 360)?;
    let form = |title: &str| {
        reqwest::multipart::Form::new()
            .text("title", title.to_string())
            .text("project", "news")
            .part(
                "file",
                reqwest::multipart::Part::bytes(std::fs::read(&photo).unwrap_or_default())
                    .file_name("plaza.png"),
            )
    };
    let r = ana
        .post(server.url("/api/v1/assets"))
        .multipart(form("Zarzuelaxq7 en la plaza"))
        .send()
        .await?;
    ensure!(r.status() == 201, "{}", r.status());
    let gone = r.json::<serde_json::Value>().await?["id"].as_str().unwrap_or_default().to_string();
    wait_status(ana, &server, &gone, &["ready"], std::time::Duration::from_secs(120)).await?;
    let kept = text_asset(ana, &server, "Operetaxq7 en el juzgado", "", "news").await?;
    wait_status(ana, &server, &kept, &["ready"], std::time::Duration::from_secs(60)).await?;
    let (catalog, search) = (home.path().join("catalog"), home.path().join("search"));
    ensure!(objects_of(home.path(), &gone).len() >= 2, "a master and its renditions");
    ensure!(!files_holding(&catalog, b"Zarzuelaxq7").is_empty(), "the catalog holds the title");

    for id in [&gone, &kept] {
        let r = ana.delete(server.url(&format!("/api/v1/assets/{id}"))).send().await?;
        ensure!(r.status() == 200, "{}", r.status());
    }
    let r = arc
        .put(server.url(&format!("/api/v1/assets/{kept}/legal-hold")))
        .json(&json!({"reason": "Causa 9/2026"}))
        .send()
        .await?;
    ensure!(r.status() == 200, "a hold on a deleted asset: {}", r.status());

    let before = stored_versions(&search, &gone)?;
    // A soft delete drops the document from search, but its bytes stay in their segment.
    ensure!(before.iter().any(|d| d.contains("Zarzuelaxq7")), "the index keeps it: {before:?}");

    // Editors do not purge; a dry run lists and changes nothing.
    let r = ana.post(server.url("/api/v1/purge")).json(&json!({"dry_run": true})).send().await?;
    ensure!(r.status() == 403, "{}", r.status());
    // The purge reads the catalog, which the deletes and the hold reach within moments.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let dry = loop {
        let r =
            arc.post(server.url("/api/v1/purge")).json(&json!({"dry_run": true})).send().await?;
        ensure!(r.status() == 200, "{}", r.status());
        let dry: serde_json::Value = r.json().await?;
        let n = |k: &str| dry[k].as_array().map_or(0, Vec::len);
        if n("due") + n("held") == 2 && dry["held"][0]["held"].is_string() {
            break dry;
        }
        ensure!(std::time::Instant::now() < deadline, "{dry}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    ensure!(
        dry["due"].as_array().map(Vec::len) == Some(1) && dry["due"][0]["id"] == gone.as_str(),
        "{dry}"
    );
    ensure!(
        dry["held"][0]["id"] == kept.as_str() && dry["held"][0]["held"] == "Causa 9/2026",
        "{dry}"
    );
    ensure!(objects_of(home.path(), &gone).len() >= 2, "a dry run removes nothing");

    // The same from the command line, with each one's token.
    let cli = |user: &str, args: &[&str]| -> Result<(i32, String, String)> {
        let rt = tokio::runtime::Handle::current();
        let (code, body) = tokio::task::block_in_place(|| {
            rt.block_on(acervo_tests::login(&server, user, &format!("{user}-password-1")))
        })?;
        ensure!(code == 200, "{body}");
        let out = std::process::Command::new(acervo_tests::acervo_bin())
            .args(args)
            .args(["--server", &server.base])
            .env("ACERVO_TOKEN", body["access_token"].as_str().unwrap_or_default())
            .env("ACERVO_LOG", "error")
            .output()?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        ))
    };
    let (code, out, err) = cli("arc", &["purge", "--dry-run"])?;
    ensure!(code == 0, "{err}");
    ensure!(out.contains(&format!("would purge  {gone}")), "{out}");
    ensure!(out.contains(&format!("held    {kept}")) && out.contains("(Causa 9/2026)"), "{out}");
    let (code, _, err) = cli("ana", &["purge", "--dry-run"])?;
    ensure!(code != 0 && err.trim().lines().count() == 1 && err.contains("403"), "{code} {err}");

    let r = arc.post(server.url("/api/v1/purge")).json(&json!({})).send().await?;
    ensure!(r.status() == 200, "{}", r.status());
    let report: serde_json::Value = r.json().await?;
    ensure!(
        report["due"][0]["id"] == gone.as_str() && report["objects_removed"].as_u64() >= Some(2),
        "{report}"
    );

    // The tombstone: the row stays, with nothing of the asset's text.
    let (code, tomb) = get_json(&admin, &server.url(&format!("/api/v1/assets/{gone}"))).await?;
    ensure!(code == 200 && tomb["status"] == "purged" && tomb["title"] == "", "{tomb}");
    ensure!(tomb["sha256"].as_str().is_some_and(|s| s.len() == 64), "the hash stays: {tomb}");
    // No object, no table version, no index segment keeps it.
    let left = objects_of(home.path(), &gone);
    let left: Vec<_> =
        left.iter().filter(|p| !p.starts_with(&catalog) && !p.starts_with(&search)).collect();
    ensure!(left.is_empty(), "objects left: {left:?}");
    let holding = files_holding(&catalog, b"Zarzuelaxq7");
    ensure!(holding.is_empty(), "catalog files still holding the title: {holding:?}");
    let docs = stored_versions(&search, &gone)?;
    ensure!(docs.iter().all(|d| !d.contains("Zarzuelaxq7")), "segments still holding it: {docs:?}");
    for table in ["assets", "renditions", "segments", "embeddings", "frames", "history"] {
        let dir = catalog.join(format!("{table}.lance")).join("_versions");
        let names: Vec<_> = std::fs::read_dir(&dir)?.flatten().map(|e| e.file_name()).collect();
        ensure!(manifests(&catalog, table) == 1, "{table} keeps {names:?}");
    }
    let (_, history) =
        get_json(&admin, &server.url(&format!("/api/v1/assets/{gone}/history"))).await?;
    let entries = history["entries"].as_array().cloned().unwrap_or_default();
    ensure!(entries.len() == 1 && entries[0]["after"] == json!({"status": "purged"}), "{history}");

    // The held asset is whole: its row, its master, its words.
    let (_, held) = get_json(&admin, &server.url(&format!("/api/v1/assets/{kept}"))).await?;
    ensure!(held["status"] == "deleted" && held["title"] == "Operetaxq7 en el juzgado", "{held}");
    ensure!(!objects_of(home.path(), &kept).is_empty(), "the held master is kept");
    ensure!(!files_holding(&catalog, b"Operetaxq7").is_empty());
    Ok(())
}
