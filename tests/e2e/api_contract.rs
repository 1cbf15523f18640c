//! The API's self-description and operations endpoints.

use acervo_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn openapi_health_and_metrics() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(&work.path().join("home")).unwrap();
    let c = client();

    let (code, doc) = get_json(&c, &server.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(code, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/healthz", &["get"][..]),
        ("/metrics", &["get"]),
        ("/api/v1/openapi.json", &["get"]),
        ("/api/v1/assets", &["get", "post"]),
        ("/api/v1/assets/{id}", &["get", "patch", "delete"]),
        ("/api/v1/assets/{id}/download", &["get"]),
        ("/api/v1/assets/{id}/renditions/{profile}", &["get"]),
        ("/api/v1/assets/{id}/enrichment", &["put"]),
        ("/api/v1/assets/{id}/segments", &["get"]),
        ("/api/v1/search", &["get", "post"]),
        ("/api/v1/jobs/{id}", &["get"]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "the OpenAPI document lacks {m} {path}");
        }
    }
    assert!(
        paths["/api/v1/assets"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
    // Every search option is documented.
    let documented: Vec<&str> = paths["/api/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "q",
        "mode",
        "vector",
        "kind",
        "status",
        "project",
        "tags",
        "labels",
        "created_from",
        "created_to",
        "duration_min",
        "duration_max",
        "prefix",
        "limit",
        "search_after",
        "facets",
        "highlight",
    ] {
        assert!(
            documented.contains(&name),
            "GET /api/v1/search does not document {name}: {documented:?}"
        );
    }
    assert!(doc["components"]["schemas"]["Asset"].is_object());

    let (code, health) = get_json(&c, &server.url("/healthz")).await.unwrap();
    assert_eq!(code, 200);
    assert_eq!(health["log_end_offset"], 0);

    let png = work.path().join("a.png");
    make_image(&png, 32, 32).unwrap();
    upload_ok(&c, &server, &png, "Metric", "").await.unwrap();
    let text = c.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for name in [
        "acervo_http_requests_total",
        "acervo_dataflow_committed_offset",
        "acervo_log_end_offset",
        "acervo_media_queue_depth",
    ] {
        assert!(text.contains(name), "metrics lack {name}");
    }
    assert!(text.contains("route=\"/api/v1/assets\""), "{text}");
}
