//! Downloads: the bytes and SHA-256 of the original, byte ranges, ETag and conditional GETs.

use acervo_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn downloads_ranges_and_etags() {
    let work = tempfile::tempdir().unwrap();
    let mp4 = work.path().join("Pleno del Congreso (1ª parte).mp4");
    make_video(&mp4, 3, 640, 360, 300, true).unwrap();
    let original = std::fs::read(&mp4).unwrap();
    let size = original.len();
    let server = Server::start(&work.path().join("home")).unwrap();
    let c = client();
    let id = upload_ok(&c, &server, &mp4, "Pleno", "").await.unwrap();
    let url = server.url(&format!("/api/v1/assets/{id}/download"));

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", sha256(&original)));
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    let disposition = resp.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition
            .contains("filename*=UTF-8''Pleno%20del%20Congreso%20%281%C2%AA%20parte%29%2Emp4"),
        "{disposition}"
    );
    let body = resp.bytes().await.unwrap();
    assert_eq!(body.len(), size);
    assert_eq!(sha256(&body), sha256(&original));

    // One range.
    let resp = c.get(&url).header("Range", "bytes=100-1099").send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], format!("bytes 100-1099/{size}").as_str());
    assert_eq!(resp.headers()["content-length"], "1000");
    assert_eq!(&resp.bytes().await.unwrap()[..], &original[100..1100]);
    // The tail, and an open-ended range.
    let resp = c.get(&url).header("Range", "bytes=-500").send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(&resp.bytes().await.unwrap()[..], &original[size - 500..]);
    let resp = c.get(&url).header("Range", format!("bytes={}-", size - 10)).send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(&resp.bytes().await.unwrap()[..], &original[size - 10..]);
    // A range past the end.
    let resp = c.get(&url).header("Range", format!("bytes={size}-")).send().await.unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], format!("bytes */{size}").as_str());
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    // Conditional requests.
    let resp = c.get(&url).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 304);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = c.get(&url).header("If-None-Match", "\"something-else\"").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // If-Range with a stale ETag: the whole, current representation.
    let resp = c
        .get(&url)
        .header("Range", "bytes=0-9")
        .header("If-Range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().len(), size);
    let resp =
        c.get(&url).header("Range", "bytes=0-9").header("If-Range", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 206);

    // HEAD: headers only.
    let resp = c.head(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], size.to_string().as_str());
    assert!(resp.bytes().await.unwrap().is_empty());
}
