//! Masters and renditions on S3 (a real S3 server, s3s-fs, with SigV4): upload, processing,
//! ranged download and verify all work against the bucket, and the bytes in the bucket are the
//! original's. Wrong credentials are refused by the server and reported, not ignored.

use std::time::Duration;

use acervo_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn masters_and_renditions_live_in_s3() {
    let work = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&work.path().join("s3"), "dam-archive").unwrap();
    let env = s3.acervo_env("dam-archive", "acervo");
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let home = work.path().join("home");
    let server = Server::start_with(&home, &env_refs).unwrap();
    let c = client();

    let mp4 = work.path().join("rueda.mp4");
    make_video(&mp4, 3, 640, 360, 700, true).unwrap();
    let jpg = work.path().join("rueda.jpg");
    make_image(&jpg, 800, 600).unwrap();
    let video = upload_ok(&c, &server, &mp4, "Rueda de prensa", "s3").await.unwrap();
    let photo = upload_ok(&c, &server, &jpg, "Rueda de prensa foto", "s3").await.unwrap();
    for id in [&video, &photo] {
        let a = wait_status(&c, &server, id, &["ready", "failed"], Duration::from_secs(90))
            .await
            .unwrap();
        assert_eq!(a["status"], "ready", "{a}");
    }
    let v = get_json(&c, &server.url(&format!("/api/v1/assets/{video}"))).await.unwrap().1;
    assert!((v["technical"]["duration_seconds"].as_f64().unwrap() - 3.0).abs() < 0.05);

    // The master is in the bucket, at its content-addressed key, byte for byte.
    let key = v["master_key"].as_str().unwrap();
    let in_bucket = s3.root.join("dam-archive/acervo").join(key);
    assert_eq!(sha256_file(&in_bucket).unwrap(), sha256_file(&mp4).unwrap());
    assert!(!home.join("objects").exists(), "nothing went to local disk");
    let thumb_key = v["renditions"][0]["key"].as_str().unwrap();
    assert!(s3.root.join("dam-archive/acervo").join(thumb_key).is_file());

    // Ranged download through S3.
    let original = std::fs::read(&mp4).unwrap();
    let resp = c
        .get(server.url(&format!("/api/v1/assets/{video}/download")))
        .header("Range", "bytes=1000-2999")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(&resp.bytes().await.unwrap()[..], &original[1000..3000]);

    // verify re-hashes the masters in the bucket.
    let out = std::process::Command::new(acervo_bin())
        .args(["verify", "--home", home.to_str().unwrap()])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified 2 masters"));
    drop(server);

    // Wrong credentials: the upload is refused with a server error naming the store.
    let mut bad = env_refs.clone();
    bad.retain(|(k, _)| *k != "ACERVO_STORAGE__S3_SECRET_ACCESS_KEY");
    bad.push(("ACERVO_STORAGE__S3_SECRET_ACCESS_KEY", "wrong"));
    let server = Server::start_with(&work.path().join("home2"), &bad).unwrap();
    let resp = upload(&c, &server, &jpg, "Refused", "").await.unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}
