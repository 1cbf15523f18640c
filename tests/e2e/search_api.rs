//! Search through the API on a running server: Spanish analysis ("camión" finds "camiones" and
//! "camion"), phrases and prefixes, filters that never leak other projects, facets equal to SQL
//! GROUP BY over the filtered set, transcript moments with timestamps, labels, vector and hybrid
//! modes over imported embeddings, search_after pages that cover a result exactly once while
//! assets keep arriving, and bad requests answered with problem details.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use acervo_lakehouse::Catalog;
use acervo_tests::*;
use serde_json::{Value, json};

const DIM: usize = 384;
const WAIT: Duration = Duration::from_secs(60);

async fn doc(
    c: &reqwest::Client,
    server: &Server,
    title: &str,
    tags: &str,
    project: &str,
) -> String {
    text_asset(c, server, title, tags, project).await.unwrap()
}

async fn search(c: &reqwest::Client, server: &Server, params: &[(&str, &str)]) -> Value {
    let url = reqwest::Url::parse_with_params(&server.url("/api/v1/search"), params).unwrap();
    let (code, body) = get_json(c, url.as_str()).await.unwrap();
    assert_eq!(code, 200, "{params:?}: {body}");
    body
}

fn ids(v: &Value) -> HashSet<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["asset"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A unit vector along axis `i`, tilted slightly towards axis `j`.
fn axis(i: usize, j: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[i] = 1.0;
    v[j] += tilt;
    v
}

async fn enrich(c: &reqwest::Client, server: &Server, id: &str, body: Value) -> reqwest::Response {
    c.put(server.url(&format!("/api/v1/assets/{id}/enrichment"))).json(&body).send().await.unwrap()
}

async fn problem(resp: reqwest::Response, status: u16) {
    assert_eq!(resp.status().as_u16(), status);
    assert!(
        resp.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json")
    );
    let body: Value = resp.json().await.unwrap();
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_api_end_to_end() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&work.path().join("home")).unwrap();
    let c = client();

    let a = doc(&c, &server, "Camiones en la autopista", "tráfico, carretera", "norte").await;
    let b = doc(&c, &server, "Un camion averiado en el puerto", "tráfico", "norte").await;
    let cc = doc(&c, &server, "Camión de bomberos en la plaza", "bomberos", "sur").await;
    let d = doc(&c, &server, "Truck crash on the highway near the harbour", "traffic", "sur").await;
    let e = doc(&c, &server, "Pleno municipal de marzo", "política", "norte").await;
    let f = doc(&c, &server, "Rueda de prensa de la alcaldesa", "política, prensa", "centro").await;
    until("all six are searchable", async || search(&c, &server, &[("q", "")]).await["total"] == 6)
        .await;

    // Spanish analysis: accents fold and plurals stem, whichever form is typed.
    for q in ["camión", "camion", "camiones", "CAMIÓN"] {
        let r = search(&c, &server, &[("q", q)]).await;
        assert_eq!(ids(&r), HashSet::from([a.clone(), b.clone(), cc.clone()]), "{q}: {r}");
    }
    // English is stemmed as English.
    let r = search(&c, &server, &[("q", "trucks")]).await;
    assert_eq!(ids(&r), HashSet::from([d.clone()]), "{r}");
    // Title matches outrank tag-only ones; highlights mark the words.
    let r = search(&c, &server, &[("q", "bomberos")]).await;
    assert_eq!(r["hits"][0]["asset"]["id"], cc.as_str());
    assert!(
        r["hits"][0]["highlights"]["title"].as_str().unwrap().contains("<b>bomberos</b>"),
        "{r}"
    );
    // Phrases, prefixes, exclusions.
    assert_eq!(
        ids(&search(&c, &server, &[("q", "\"camión de bomberos\"")]).await),
        HashSet::from([cc.clone()])
    );
    assert_eq!(ids(&search(&c, &server, &[("q", "\"bomberos de camión\"")]).await), HashSet::new());
    assert_eq!(
        ids(&search(&c, &server, &[("q", "cami"), ("prefix", "true")]).await),
        HashSet::from([a.clone(), b.clone(), cc.clone()])
    );
    assert_eq!(
        ids(&search(&c, &server, &[("q", "camión -bomberos")]).await),
        HashSet::from([a.clone(), b.clone()])
    );
    // Exact tag filter: "tráfico" as a tag, not as a word.
    assert_eq!(
        ids(&search(&c, &server, &[("q", ""), ("tags", "tráfico")]).await),
        HashSet::from([a.clone(), b.clone()])
    );
    assert_eq!(
        ids(&search(&c, &server, &[("q", ""), ("tags", "tráfico,carretera")]).await),
        HashSet::from([a.clone()])
    );

    // Filters never leak other projects, and facets count only what the filter lets through.
    let r = search(&c, &server, &[("q", "camión"), ("project", "norte")]).await;
    assert_eq!(ids(&r), HashSet::from([a.clone(), b.clone()]));
    assert_eq!(r["facets"]["project"], json!({"norte": 2}), "{r}");
    assert_eq!(r["total"], 2);

    // Facets equal GROUP BY over the same filtered set, computed with SQL on the tables.
    let catalog = Catalog::open(server.home.join("catalog"), DIM).await.unwrap();
    let r = search(&c, &server, &[("q", ""), ("project", "norte"), ("facets", "true")]).await;
    for (facet, sql) in [
        (
            "kind",
            "SELECT kind AS v, count(*) AS n FROM assets WHERE project = 'norte' AND status <> 'deleted' GROUP BY kind",
        ),
        (
            "status",
            "SELECT status AS v, count(*) AS n FROM assets WHERE project = 'norte' AND status <> 'deleted' GROUP BY status",
        ),
        (
            "tags",
            "SELECT t AS v, count(*) AS n FROM (SELECT unnest(tags) AS t FROM assets WHERE project = 'norte' AND status <> 'deleted') GROUP BY t",
        ),
    ] {
        let batches = catalog.sql(sql).await.unwrap();
        let mut want = BTreeMap::new();
        for b in &batches {
            let v = arrow_strings(b.column(0));
            let n = b.column(1).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap();
            for (i, v) in v.into_iter().enumerate() {
                want.insert(v, json!(n.value(i)));
            }
        }
        let got: BTreeMap<String, Value> = r["facets"][facet]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(got, want, "facet {facet}");
    }
    // The creation-date histogram by day equals GROUP BY the UTC day.
    let r = search(&c, &server, &[("q", ""), ("project", "norte"), ("interval", "day")]).await;
    let batches = catalog
        .sql("SELECT to_char(created_at, '%Y-%m-%d') AS v, count(*) AS n FROM assets WHERE project = 'norte' AND status <> 'deleted' GROUP BY 1")
        .await
        .unwrap();
    let mut want = BTreeMap::new();
    for b in &batches {
        let n = b.column(1).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap();
        for (i, v) in arrow_strings(b.column(0)).into_iter().enumerate() {
            want.insert(v, json!(n.value(i)));
        }
    }
    let got: BTreeMap<String, Value> = r["facets"]["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap().to_string(), b["count"].clone()))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "created by day: {r}");
    assert_eq!(r["facets"]["interval"], "day");

    // Transcript moments: the matching segment's timestamps and a highlighted snippet.
    let transcript = json!({
        "transcript": [
            {"start_ms": 0, "end_ms": 4000, "text": "Buenos días y bienvenidos al pleno"},
            {"start_ms": 4000, "end_ms": 9000, "text": "Hoy debatimos el presupuesto y la sequía"},
            {"start_ms": 9000, "end_ms": 15000, "text": "La alcaldesa anuncia restricciones de agua para el verano"}
        ],
        "labels": ["persona", "micrófono"],
        "embedding": axis(5, 6, 0.1)
    });
    let resp = enrich(&c, &server, &e, transcript).await;
    assert_eq!(resp.status(), 200);
    let mut hit = Value::Null;
    until("the transcript is searchable", async || {
        let r = search(&c, &server, &[("q", "restricciones agua")]).await;
        hit = r["hits"][0].clone();
        hit["asset"]["id"] == e.as_str()
    })
    .await;
    let m = &hit["moments"][0];
    assert_eq!(
        (m["start_ms"].as_u64(), m["end_ms"].as_u64(), m["source"].as_str()),
        (Some(9000), Some(15000), Some("transcript")),
        "{hit}"
    );
    assert!(m["snippet"].as_str().unwrap().contains("<b>restricciones</b>"), "{hit}");
    let r = search(&c, &server, &[("q", "presupuesto")]).await;
    assert_eq!(r["hits"][0]["moments"][0]["start_ms"], 4000, "{r}");
    let (_, segs) =
        get_json(&c, &server.url(&format!("/api/v1/assets/{e}/segments"))).await.unwrap();
    assert_eq!(
        segs.as_array()
            .unwrap()
            .iter()
            .map(|s| s["start_ms"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![0, 4000, 9000]
    );
    // Labels: searchable words, exact filters and a facet.
    let r = search(&c, &server, &[("q", ""), ("labels", "persona")]).await;
    assert_eq!(ids(&r), HashSet::from([e.clone()]));
    assert_eq!(r["facets"]["labels"]["persona"], 1);

    // Vectors: nearest first; hybrid fuses the text and vector lists.
    for (id, v) in [
        (&a, axis(1, 2, 0.0)),
        (&b, axis(1, 2, 0.5)),
        (&cc, axis(2, 3, 0.0)),
        (&d, axis(3, 4, 0.0)),
        (&f, axis(7, 8, 0.0)),
    ] {
        assert_eq!(enrich(&c, &server, id, json!({"embedding": v})).await.status(), 200);
    }
    let near_d = axis(3, 4, 0.2);
    let body = json!({"mode": "vector", "vector": near_d, "limit": 3});
    let mut r = Value::Null;
    until("vectors are searchable", async || {
        r = c
            .post(server.url("/api/v1/search"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["hits"].as_array().is_some_and(|h| h.len() == 3)
            && r["hits"][0]["asset"]["id"] == d.as_str()
    })
    .await;
    assert!(r["hits"][0]["score"].as_f64().unwrap() > 0.9, "{r}");
    let vector_text = near_d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
    let r =
        search(&c, &server, &[("mode", "vector"), ("vector", &vector_text), ("project", "norte")])
            .await;
    assert!(ids(&r).iter().all(|id| [&a, &b, &e].contains(&id)), "vector prefilter leaks: {r}");
    let r = c
        .post(server.url("/api/v1/search"))
        .json(&json!({"mode": "hybrid", "q": "camión", "vector": near_d, "limit": 10}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let got = ids(&r);
    assert!(
        got.contains(&d) && got.contains(&a) && got.contains(&cc),
        "hybrid has both lists: {r}"
    );
    let top = &r["hits"][0];
    assert!(
        top["text_rank"].is_u64() && top["vector_rank"].is_u64(),
        "the best fused hit is in both lists: {r}"
    );

    // search_after: pages cover the result exactly once while new matching assets arrive.
    for i in 0..25 {
        doc(&c, &server, &format!("Archivo histórico número {i}"), "archivo", "archivo").await;
    }
    until("the archive is searchable", async || {
        search(&c, &server, &[("q", "archivo")]).await["total"] == 25
    })
    .await;
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("q", "archivo".to_string()), ("limit", "7".to_string())];
        if let Some(a) = &after {
            params.push(("search_after", a.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = search(&c, &server, &p).await;
        total.get_or_insert(r["total"].as_u64().unwrap());
        seen.extend(ids(&r));
        pages += 1;
        // New matches arrive between pages; the cursor keeps reading the first page's snapshot.
        doc(&c, &server, &format!("Archivo nuevo {pages}"), "archivo", "archivo").await;
        match r["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "a page repeated a hit");
    assert_eq!(seen.len() as u64, total.unwrap(), "pages cover the result");
    assert_eq!(pages, 4);

    // A deleted asset leaves search.
    assert_eq!(
        c.delete(server.url(&format!("/api/v1/assets/{b}"))).send().await.unwrap().status(),
        200
    );
    until("the deleted asset leaves search", async || {
        !ids(&search(&c, &server, &[("q", "camión")]).await).contains(&b)
    })
    .await;

    // Bad requests: problem details, never a 500.
    for params in [
        vec![("q", "x"), ("mode", "sideways")],
        vec![("q", "x"), ("limit", "0")],
        vec![("q", "x"), ("search_after", "not-a-cursor")],
        vec![("mode", "vector"), ("vector", "1,2,3")],
        vec![("mode", "vector")],
        vec![("q", "x"), ("created_from", "yesterday")],
        vec![("q", "x"), ("duration_min", "-4")],
    ] {
        let url = reqwest::Url::parse_with_params(&server.url("/api/v1/search"), &params).unwrap();
        problem(c.get(url).send().await.unwrap(), 400).await;
    }
    problem(enrich(&c, &server, &a, json!({"embedding": [1.0, 2.0]})).await, 422).await;
    problem(enrich(&c, &server, &a, json!({})).await, 422).await;
    problem(
        enrich(
            &c,
            &server,
            &a,
            json!({"transcript": [{"start_ms": 10, "end_ms": 5, "text": "x"}]}),
        )
        .await,
        422,
    )
    .await;
    problem(enrich(&c, &server, &b, json!({"labels": ["x"]})).await, 409).await;
}

fn arrow_strings(col: &arrow::array::ArrayRef) -> Vec<String> {
    use arrow::array::AsArray;
    match col.data_type() {
        arrow::datatypes::DataType::Utf8View => {
            col.as_string_view().iter().map(|s| s.unwrap_or_default().to_string()).collect()
        }
        _ => col.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()).collect(),
    }
}

/// The search index survives a SIGKILL: text, transcript moments and vectors are found after a
/// restart (vectors are reloaded from the `embeddings` table and reconciled with the saved graph).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_survives_a_sigkill() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    let mut server = Server::start(&home).unwrap();
    let c = client();
    let a = doc(&c, &server, "Inundación en el valle", "clima", "norte").await;
    let b = doc(&c, &server, "Riada en la costa", "clima", "sur").await;
    let body = json!({"embedding": axis(10, 11, 0.0), "transcript": [{"start_ms": 2000, "end_ms": 5000, "text": "el agua llega al pueblo"}]});
    assert_eq!(enrich(&c, &server, &a, body).await.status(), 200);
    assert_eq!(
        enrich(&c, &server, &b, json!({"embedding": axis(20, 21, 0.0)})).await.status(),
        200
    );
    let query = json!({"mode": "vector", "vector": axis(10, 11, 0.1), "limit": 1});
    let query_b = json!({"mode": "vector", "vector": axis(20, 21, 0.1), "limit": 1});
    for (q, id) in [(&query, &a), (&query_b, &b)] {
        until("the vector is searchable", async || {
            let r: Value = c
                .post(server.url("/api/v1/search"))
                .json(q)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["hits"][0]["asset"]["id"] == id.as_str()
        })
        .await;
    }
    server.kill();

    // What was searchable before the kill is searchable as soon as the server is back.
    let server = Server::start(&home).unwrap();
    let r: Value = c
        .post(server.url("/api/v1/search"))
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["hits"][0]["asset"]["id"], a.as_str(), "{r}");
    let r: Value = c
        .post(server.url("/api/v1/search"))
        .json(&query_b)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["hits"][0]["asset"]["id"], b.as_str(), "{r}");
    let r = search(&c, &server, &[("q", "pueblo")]).await;
    assert_eq!(r["hits"][0]["asset"]["id"], a.as_str(), "{r}");
    assert_eq!(r["hits"][0]["moments"][0]["start_ms"], 2000, "{r}");
    assert_eq!(search(&c, &server, &[("q", "")]).await["total"], 2);
}
