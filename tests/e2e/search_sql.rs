//! Search from SQL on a running server (`POST /api/v1/sql`): `search(query [, limit])` is a
//! table function that joins with the catalog tables, ranks exactly as `/api/v1/search` does,
//! aggregates like its facets, and answers mistakes and refused statements with problem details.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use acervo_tests::*;
use serde_json::{Value, json};

async fn sql(c: &reqwest::Client, server: &Server, query: &str) -> (u16, Value) {
    let resp =
        c.post(server.url("/api/v1/sql")).json(&json!({ "query": query })).send().await.unwrap();
    let status = resp.status().as_u16();
    if status != 200 {
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json"),
            "{query}"
        );
    }
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn api_search(c: &reqwest::Client, server: &Server, q: &str) -> Value {
    let url = reqwest::Url::parse_with_params(
        &server.url("/api/v1/search"),
        [("q", q), ("limit", "10"), ("highlight", "false")],
    )
    .unwrap();
    let (code, body) = get_json(c, url.as_str()).await.unwrap();
    assert_eq!(code, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_as_a_sql_table_function() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&work.path().join("home")).unwrap();
    let c = client();
    let fire_title = text_asset(&c, &server, "Incendio en el puerto", "incendios, puerto", "norte")
        .await
        .unwrap();
    let fire_tag =
        text_asset(&c, &server, "Bomberos trabajan de noche", "incendios", "sur").await.unwrap();
    let fire_both = text_asset(
        &c,
        &server,
        "Incendios forestales: el incendio de la sierra",
        "incendios",
        "sur",
    )
    .await
    .unwrap();
    text_asset(&c, &server, "Pleno municipal de marzo", "política", "norte").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while api_search(&c, &server, "").await["total"] != 4 {
        assert!(Instant::now() < deadline, "the four assets did not become searchable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Ranked as the search API ranks, joined with the assets table.
    let api = api_search(&c, &server, "incendio").await;
    let want: Vec<&str> = api["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["asset"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(want.len(), 3, "{api}");
    let mut found = want.clone();
    found.sort_unstable();
    let mut expected = vec![fire_title.as_str(), fire_tag.as_str(), fire_both.as_str()];
    expected.sort_unstable();
    assert_eq!(found, expected, "{api}");
    let (code, r) = sql(
        &c,
        &server,
        "SELECT s.rank, s.asset_id, s.score, a.title, a.project FROM search('incendio', 10) s \
         JOIN assets a ON a.id = s.asset_id ORDER BY s.rank",
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let rows = r["rows"].as_array().unwrap();
    let got: Vec<&str> = rows.iter().map(|row| row["asset_id"].as_str().unwrap()).collect();
    assert_eq!(got, want, "{r}");
    for (row, hit) in rows.iter().zip(api["hits"].as_array().unwrap()) {
        assert_eq!(row["title"], hit["asset"]["title"], "{row}");
        let (a, b) = (row["score"].as_f64().unwrap(), hit["score"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "score {a} vs {b}");
    }
    assert_eq!(rows.iter().map(|r| r["rank"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 2, 3]);
    let names: Vec<&str> =
        r["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["rank", "asset_id", "score", "title", "project"]);

    // Aggregated like the API's project facet; the limit is honoured.
    let (code, r) = sql(&c, &server, "SELECT a.project, count(*) AS n FROM search('incendio') s JOIN assets a ON a.id = s.asset_id GROUP BY a.project").await;
    assert_eq!(code, 200, "{r}");
    let counts: BTreeMap<String, u64> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["project"].as_str().unwrap().to_string(), row["n"].as_u64().unwrap()))
        .collect();
    let facet: BTreeMap<String, u64> = api["facets"]["project"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(counts, facet);
    let (code, r) = sql(&c, &server, "SELECT count(*) AS n FROM search('incendio', 2)").await;
    assert_eq!((code, r["rows"][0]["n"].as_u64()), (200, Some(2)), "{r}");
    // Words nobody used: no rows, not an error.
    let (code, r) = sql(&c, &server, "SELECT * FROM search('zzxqw')").await;
    assert_eq!((code, r["rows"].as_array().map(Vec::len)), (200, Some(0)), "{r}");

    // Mistakes and refused statements are the caller's: 400 with a detail, and nothing changes.
    for bad in [
        "SELECT * FROM search()",
        "SELECT * FROM search('incendio', 0)",
        "SELECT * FROM search(42)",
        "SELECT * FROM search('a', 1, 2)",
        "SELECT * FROM no_such_table",
        "SELEC 1",
        "DROP TABLE assets",
        "DELETE FROM assets",
    ] {
        let (code, r) = sql(&c, &server, bad).await;
        assert_eq!(code, 400, "{bad}: {r}");
        assert!(r["detail"].as_str().is_some_and(|d| !d.is_empty()), "{bad}: {r}");
    }
    let (code, r) = sql(&c, &server, "SELECT count(*) AS n FROM assets").await;
    assert_eq!((code, r["rows"][0]["n"].as_u64()), (200, Some(4)), "{r}");
}
