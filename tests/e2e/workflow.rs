//! The editorial workflow and collections through a running server with accounts: a viewer
//! finds only published assets (hits, totals, facets, listings, direct reads), each move is the
//! policy's to allow; a restricted collection hides its assets from members not granted it and
//! shows them once granted; a policy file replaces the default, is read again when changed, and
//! one that does not parse stops the start in one line.

use std::time::Duration;

use acervo_tests::{
    Server, acervo_bin, get_json, newsroom, text_asset, wait_searchable, wait_status,
};
use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

async fn move_to(c: &reqwest::Client, server: &Server, id: &str, to: &str) -> Result<(u16, Value)> {
    let r = c
        .post(server.url(&format!("/api/v1/assets/{id}/editorial-status")))
        .json(&json!({"status": to, "comment": "matrix"}))
        .send()
        .await?;
    let code = r.status().as_u16();
    Ok((code, r.json().await.unwrap_or(Value::Null)))
}

fn hit_ids(r: &Value) -> Vec<String> {
    r["hits"]
        .as_array()
        .map(|h| h.iter().filter_map(|x| x["asset"]["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_finds_only_what_was_published_and_each_move_is_the_policys() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let (_admin, s) =
        newsroom(&server, &[("vera", "viewer"), ("eddie", "editor"), ("pat", "producer")]).await?;
    let (vera, eddie, pat) = (&s[0], &s[1], &s[2]);
    let story = text_asset(eddie, &server, "Pleno del ayuntamiento", "", "news").await?;
    let draft = text_asset(eddie, &server, "Pleno: borrador", "", "news").await?;
    for id in [&story, &draft] {
        wait_status(eddie, &server, id, &["ready"], Duration::from_secs(30)).await?;
        wait_searchable(eddie, &server, "pleno", id, Duration::from_secs(30)).await?;
    }
    let (code, a) = get_json(eddie, &server.url(&format!("/api/v1/assets/{story}"))).await?;
    ensure!(code == 200 && a["editorial_status"] == "draft", "{a}");

    // Nothing is published: the viewer is told nothing, not even a count.
    let (code, r) = get_json(vera, &server.url("/api/v1/search?q=pleno")).await?;
    ensure!(code == 200 && r["total"] == 0 && hit_ids(&r).is_empty(), "{r}");
    ensure!(
        r["facets"]["project"] == json!({}) && r["facets"]["editorial_status"] == json!({}),
        "{r}"
    );
    let (code, _) = get_json(vera, &server.url(&format!("/api/v1/assets/{story}"))).await?;
    ensure!(code == 404, "a draft answered the viewer {code}");
    let (_, list) = get_json(vera, &server.url("/api/v1/assets")).await?;
    ensure!(list["total"] == 0, "{list}");

    // The moves: the editor submits; approval and publication are the producer's.
    ensure!(move_to(eddie, &server, &story, "in_review").await?.0 == 200);
    let (code, p) = move_to(eddie, &server, &story, "approved").await?;
    ensure!(
        code == 403 && p["detail"].as_str().is_some_and(|d| d.contains("in_review")),
        "{code} {p}"
    );
    let (code, p) = move_to(eddie, &server, &draft, "published").await?;
    ensure!(
        code == 409 && p["detail"].as_str().is_some_and(|d| d.contains("in_review")),
        "{code} {p}"
    );
    let (code, p) = move_to(vera, &server, &story, "approved").await?;
    ensure!(code == 404, "the viewer moved a draft it cannot see: {code} {p}");
    let (code, p) = move_to(pat, &server, &story, "nonsense").await?;
    ensure!(code == 422, "{code} {p}");
    ensure!(move_to(pat, &server, &story, "approved").await?.0 == 200);
    let (code, a) = move_to(pat, &server, &story, "published").await?;
    ensure!(code == 200 && a["editorial_status"] == "published", "{code} {a}");

    // Published: the viewer finds it, and only it.
    let r = wait_searchable(vera, &server, "pleno", &story, Duration::from_secs(30)).await?;
    ensure!(hit_ids(&r) == [story.clone()] && r["total"] == 1, "{r}");
    ensure!(r["facets"]["editorial_status"] == json!({"published": 1}), "{r}");
    let (_, list) = get_json(vera, &server.url("/api/v1/assets")).await?;
    ensure!(list["total"] == 1 && list["items"][0]["id"] == story.as_str(), "{list}");
    let (code, _) = get_json(vera, &server.url(&format!("/api/v1/assets/{draft}"))).await?;
    ensure!(code == 404);
    // The editor filters by editorial status.
    let (_, r) =
        get_json(eddie, &server.url("/api/v1/search?q=pleno&editorial_status=draft")).await?;
    ensure!(hit_ids(&r) == [draft.clone()], "{r}");
    let (code, _) = get_json(eddie, &server.url("/api/v1/search?editorial_status=gone")).await?;
    ensure!(code == 400);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restricted_collection_hides_its_assets_from_members_not_granted_it() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let (admin, s) =
        newsroom(&server, &[("eddie", "editor"), ("ed", "editor"), ("pat", "producer")]).await?;
    let (eddie, ed, pat) = (&s[0], &s[1], &s[2]);
    let create = |c: &reqwest::Client, body: Value| {
        c.post(server.url("/api/v1/collections")).json(&body).send()
    };
    let r =
        create(eddie, json!({"project": "news", "name": "Secreto", "restricted": true})).await?;
    ensure!(r.status() == 403, "an editor restricted a collection: {}", r.status());
    let r = create(pat, json!({"project": "news", "name": "Investigación", "restricted": true}))
        .await?;
    ensure!(r.status() == 201);
    let secret: Value = r.json().await?;
    let sid = secret["id"].as_str().context("id")?.to_string();
    ensure!(secret["granted"] == json!(["pat"]), "its creator is granted it: {secret}");
    let r = create(pat, json!({"project": "news", "name": "Fuentes", "parent": sid})).await?;
    ensure!(r.status() == 201);
    let child: Value = r.json().await?;
    ensure!(child["effectively_restricted"] == true && child["restricted"] == false, "{child}");
    let cid = child["id"].as_str().context("id")?.to_string();

    let leak = text_asset(eddie, &server, "Documento filtrado", "", "news").await?;
    let open = text_asset(eddie, &server, "Documento público", "", "news").await?;
    for id in [&leak, &open] {
        wait_searchable(eddie, &server, "documento", id, Duration::from_secs(30)).await?;
    }
    // Hidden from eddie: it cannot even address the collection.
    let add = |c: &reqwest::Client, col: &str, id: &str| {
        c.post(server.url(&format!("/api/v1/collections/{col}/assets")))
            .json(&json!({"add": [id]}))
            .send()
    };
    ensure!(add(eddie, &sid, &leak).await?.status() == 404);
    let r = add(pat, &cid, &leak).await?;
    ensure!(r.status() == 200, "{}", r.status());

    let sees = |c: &reqwest::Client| {
        let (c, server, leak) = (c.clone(), &server, leak.clone());
        async move {
            let (code, _) = get_json(&c, &server.url(&format!("/api/v1/assets/{leak}"))).await?;
            let (_, r) = get_json(&c, &server.url("/api/v1/search?q=documento")).await?;
            let (_, list) = get_json(&c, &server.url("/api/v1/assets")).await?;
            let (_, cols) = get_json(&c, &server.url("/api/v1/collections")).await?;
            let n = cols.as_array().map_or(0, Vec::len);
            let found = hit_ids(&r).contains(&leak);
            // All readers agree: the direct read, search (hits and total), the listing.
            ensure!(
                (code == 200) == found
                    && r["total"] == list["total"]
                    && (found == (r["total"] == 2)),
                "readers disagree: {code} {r} {list}"
            );
            Ok::<(bool, usize), anyhow::Error>((found, n))
        }
    };
    // Once in the collection, the asset is gone for those not granted it, in every reader.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        // The direct read shows the change at once; search and listings once it is in the
        // catalog.
        let (_, r) = get_json(eddie, &server.url("/api/v1/search?q=documento")).await?;
        if !hit_ids(&r).contains(&leak) || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(sees(eddie).await? == (false, 0), "eddie still sees the leak");
    ensure!(sees(ed).await? == (false, 0));
    ensure!(sees(pat).await? == (true, 2));
    ensure!(sees(&admin).await?.0);

    // Granted the parent, eddie sees the asset of the nested one; ed still does not.
    let r = pat.put(server.url(&format!("/api/v1/collections/{sid}/grants/eddie"))).send().await?;
    ensure!(r.status() == 200);
    ensure!(sees(eddie).await? == (true, 2));
    ensure!(sees(ed).await? == (false, 0));
    let r =
        pat.delete(server.url(&format!("/api/v1/collections/{sid}/grants/eddie"))).send().await?;
    ensure!(r.status() == 200);
    ensure!(sees(eddie).await? == (false, 0), "the grant taken back");
    // Lifting the restriction shows it to every member.
    let r = pat
        .patch(server.url(&format!("/api/v1/collections/{sid}")))
        .json(&json!({"restricted": false}))
        .send()
        .await?;
    ensure!(r.status() == 200);
    ensure!(sees(ed).await? == (true, 2));

    // Collections stay a tree with their assets accounted for.
    let r = pat
        .patch(server.url(&format!("/api/v1/collections/{sid}")))
        .json(&json!({"parent": cid}))
        .send()
        .await?;
    ensure!(r.status() == 422, "a cycle: {}", r.status());
    ensure!(
        pat.delete(server.url(&format!("/api/v1/collections/{cid}"))).send().await?.status() == 409
    );
    ensure!(
        pat.delete(server.url(&format!("/api/v1/collections/{sid}"))).send().await?.status() == 409
    );
    let r = pat
        .post(server.url(&format!("/api/v1/collections/{cid}/assets")))
        .json(&json!({"remove": [leak]}))
        .send()
        .await?;
    ensure!(r.status() == 200);
    let (_, a) = get_json(pat, &server.url(&format!("/api/v1/assets/{leak}"))).await?;
    ensure!(a["collections"] == json!([]), "{a}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_file_replaces_the_default_and_is_read_again_when_it_changes() -> Result<()> {
    let home = tempfile::tempdir()?;
    let policy = home.path().join("newsroom.rego");
    // A broken file stops the start, in one line naming the file and the line.
    std::fs::write(&policy, "package acervo\n\nimport rego.v1\n\nallow if {\n  input.action ==\n")?;
    let out = std::process::Command::new(acervo_bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--home"])
        .arg(home.path())
        .env("ACERVO_POLICY__FILE", &policy)
        .env("ACERVO_LOG", "error")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success(), "it served with a broken policy: {stderr}");
    ensure!(stderr.trim().lines().count() == 1, "not one line: {stderr}");
    ensure!(stderr.contains("newsroom.rego:") && stderr.contains("does not parse"), "{stderr}");

    // This newsroom lets viewers read drafts too.
    let (code, default, _) = acervo_tests::acervo(&["policy", "show"])?;
    ensure!(code == 0 && default.contains("package acervo"));
    let lenient = default.replace("reads(\"viewer\", \"published\")", "reads(\"viewer\", _)");
    ensure!(lenient != default);
    std::fs::write(&policy, &lenient)?;
    let policy_path = policy.display().to_string();
    let server = Server::start_with_auth(
        &home.path().join("data"),
        &[("ACERVO_POLICY__FILE", policy_path.as_str()), ("ACERVO_POLICY__RELOAD_SECONDS", "1")],
    )?;
    let (_admin, s) = newsroom(&server, &[("vera", "viewer"), ("eddie", "editor")]).await?;
    let (vera, eddie) = (&s[0], &s[1]);
    let id = text_asset(eddie, &server, "Borrador", "", "news").await?;
    wait_status(eddie, &server, &id, &["ready"], Duration::from_secs(30)).await?;
    let (code, _) = get_json(vera, &server.url(&format!("/api/v1/assets/{id}"))).await?;
    ensure!(code == 200, "the file's policy: a viewer reads a draft ({code})");
    // Back to the default, while serving: within a reload the draft is hidden again.
    std::fs::write(&policy, &default)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (code, _) = get_json(vera, &server.url(&format!("/api/v1/assets/{id}"))).await?;
        if code == 404 {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the changed policy was not read again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Reads an event stream into a shared text, in the background.
fn listen(c: &reqwest::Client, server: &Server) -> std::sync::Arc<std::sync::Mutex<String>> {
    use futures::StreamExt;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (c, url, out) = (c.clone(), server.url("/api/v1/events"), seen.clone());
    tokio::spawn(async move {
        let Ok(r) = c.get(url).send().await else { return };
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/event-stream")
        );
        let mut body = r.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            out.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    seen
}

async fn wait_for(seen: &std::sync::Arc<std::sync::Mutex<String>>, what: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.contains(what) {
        ensure!(std::time::Instant::now() < deadline, "no event with {what:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn live_changes_reach_only_those_who_may_see_them() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let (admin, s) = newsroom(&server, &[("vera", "viewer"), ("eddie", "editor")]).await?;
    let (vera, eddie) = (&s[0], &s[1]);
    let (to_vera, to_eddie) = (listen(vera, &server), listen(eddie, &server));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = text_asset(eddie, &server, "Pleno en directo", "", "news").await?;
    // The editor sees the new asset arrive (as an `assets` event naming it, ready).
    wait_for(&to_eddie, &id).await?;
    let text = to_eddie.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    ensure!(
        text.contains("event: assets") && text.contains("\"editorial_status\":\"draft\""),
        "{text}"
    );
    // A draft is not the viewer's to see: once published, it is.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ensure!(
        !to_vera.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.contains(&id),
        "the viewer heard of a draft"
    );
    acervo_tests::publish(&admin, &server, &id).await?;
    wait_for(&to_vera, &id).await?;
    wait_for(&to_vera, "\"editorial_status\":\"published\"").await?;
    Ok(())
}
