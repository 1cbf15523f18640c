//! The standard descriptive fields (byline, credit, source, rights, embargo, place, people,
//! language, story): set and cleared by PATCH, returned by GET, searchable as text, filtered and
//! counted as facets where they are keywords or dates, readable in SQL; bad values are 422
//! problems naming the field.

use std::time::{Duration, Instant};

use acervo_tests::{Server, client, get_json, text_asset, wait_searchable};
use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

fn hits(r: &Value) -> Vec<String> {
    r["hits"]
        .as_array()
        .map(|h| h.iter().filter_map(|x| x["asset"]["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Searches until the answer satisfies `ok` (the catalog writer indexes edits within moments).
async fn search_until(
    c: &reqwest::Client,
    server: &Server,
    query: &str,
    ok: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, r) = get_json(c, &server.url(&format!("/api/v1/search?{query}"))).await?;
        if code == 200 && ok(&r) {
            return Ok(r);
        }
        ensure!(Instant::now() < deadline, "search {query}: last answer {code} {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn descriptive_fields_are_edited_found_filtered_counted_and_queried() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start(home.path())?;
    let c = client();
    let a = text_asset(&c, &server, "Pleno municipal", "", "news").await?;
    let b = text_asset(&c, &server, "Final de copa", "", "news").await?;
    let n = text_asset(&c, &server, "Nota sin ficha", "", "news").await?;
    for id in [&a, &b, &n] {
        wait_searchable(&c, &server, "nota", id, Duration::from_secs(30)).await?;
    }
    let patch = |id: &str, body: Value| {
        c.patch(server.url(&format!("/api/v1/assets/{id}"))).json(&body).send()
    };
    let r = patch(&a, json!({
        "creator": "Ana Pérez", "credit": "EFE / Ana Pérez", "category": "politics", "source": "EFE",
        "copyright": "© EFE 2026", "licence": "rights-managed", "usage_terms": "Solo prensa escrita",
        "embargo_until": "2027-01-01T10:00:00Z", "rights_expire_at": "2030-01-01T00:00:00Z",
        "location": "Sevilla", "latitude": 37.39, "longitude": -5.98, "people": ["Juanma Moreno", " "],
        "language": "es", "story": "pleno-sevilla"
    })).await?;
    ensure!(r.status() == 200, "{}", r.status());
    let shown: Value = r.json().await?;
    ensure!(
        shown["creator"] == "Ana Pérez" && shown["people"] == json!(["Juanma Moreno"]),
        "{shown}"
    );
    ensure!(
        shown["embargo_until"] == "2027-01-01T10:00:00Z" && shown["latitude"] == 37.39,
        "{shown}"
    );
    let r = patch(&b, json!({"category": "sport", "people": ["Luis Enrique"], "language": "es"}))
        .await?;
    ensure!(r.status() == 200);

    // Text: the place and the byline are words of the asset (accents folded).
    let r = search_until(&c, &server, "q=sevilla", |r| hits(r) == [a.clone()]).await?;
    ensure!(r["total"] == 1, "{r}");
    search_until(&c, &server, "q=perez", |r| hits(r) == [a.clone()]).await?;
    // Keywords and dates filter exactly; facets count them.
    search_until(&c, &server, "category=politics", |r| hits(r) == [a.clone()]).await?;
    search_until(&c, &server, "person=Luis%20Enrique", |r| hits(r) == [b.clone()]).await?;
    search_until(&c, &server, "embargo_from=2026-12-31T00:00:00Z", |r| hits(r) == [a.clone()])
        .await?;
    search_until(&c, &server, "rights_expire_to=2029-01-01T00:00:00Z", |r| hits(r).is_empty())
        .await?;
    let r = search_until(&c, &server, "q=", |r| {
        r["facets"]["category"] == json!({"politics": 1, "sport": 1})
    })
    .await?;
    ensure!(
        r["facets"]["language"] == json!({"es": 2})
            && r["facets"]["story"] == json!({"pleno-sevilla": 1}),
        "{r}"
    );
    ensure!(r["facets"]["people"] == json!({"Juanma Moreno": 1, "Luis Enrique": 1}), "{r}");

    // SQL sees the columns.
    let r = c
        .post(server.url("/api/v1/sql"))
        .json(&json!({"query": "SELECT id, creator, licence, embargo_until FROM assets WHERE category = 'politics'"}))
        .send()
        .await?;
    let sql: Value = r.json().await?;
    let rows = sql["rows"].as_array().context("rows")?;
    ensure!(
        rows.len() == 1
            && rows[0]["creator"] == "Ana Pérez"
            && rows[0]["licence"] == "rights-managed",
        "{sql}"
    );

    // null clears one field; the rest stay.
    let r = patch(&a, json!({"creator": null, "people": []})).await?;
    let shown: Value = r.json().await?;
    ensure!(
        shown["creator"].is_null()
            && shown["people"] == json!([])
            && shown["credit"] == "EFE / Ana Pérez",
        "{shown}"
    );
    ensure!(shown["title"] == "Pleno municipal", "{shown}");

    // Bad values: 422 naming the field; nothing changes.
    for (body, field) in [
        (json!({"language": "Spanish"}), "language"),
        (json!({"latitude": 91, "longitude": 0}), "latitude"),
        (json!({"latitude": 40}), "latitude"),
        (json!({"story": "dos\nlíneas"}), "story"),
        (json!({"embargo_until": "mañana"}), "embargo_until"),
        (json!({"bogus": 1}), "bogus"),
        // A title cannot be cleared (null would otherwise read as "keep").
        (json!({"title": null}), "null"),
        (json!({}), "nothing to change"),
    ] {
        let r = patch(&a, body.clone()).await?;
        let status = r.status();
        let p: Value = r.json().await?;
        ensure!(
            status == 422 && p["detail"].as_str().is_some_and(|d| d.contains(field)),
            "{body}: {status} {p}"
        );
    }
    let (_, now) = get_json(&c, &server.url(&format!("/api/v1/assets/{a}"))).await?;
    ensure!(now["language"] == "es" && now["latitude"] == 37.39, "{now}");
    let (_, plain) = get_json(&c, &server.url(&format!("/api/v1/assets/{n}"))).await?;
    ensure!(plain["category"].is_null() && plain["people"] == json!([]), "{plain}");
    Ok(())
}
