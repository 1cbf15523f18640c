//! The command line: ingest of folders with duplicates skipped, search, SQL, verify, and
//! one-line errors with a non-zero exit.

use std::time::{Duration, Instant};

use acervo_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn ingest_search_sql_and_verify() {
    let work = tempfile::tempdir().unwrap();
    let media = work.path().join("media");
    std::fs::create_dir_all(media.join("nested")).unwrap();
    make_image(&media.join("incendio.png"), 200, 100).unwrap();
    make_tone(&media.join("nested/entrevista.wav"), 350, 1).unwrap();
    make_image(&media.join("nested/portada.jpg"), 120, 90).unwrap();
    std::fs::copy(media.join("incendio.png"), media.join("incendio-copia.png")).unwrap();
    let home = work.path().join("home");
    let server = Server::start(&home).unwrap();
    let home_arg = home.to_str().unwrap();
    let media_arg = media.to_str().unwrap();

    let (code, out, err) =
        acervo(&["ingest", media_arg, "--server", &server.base, "--tags", "archivo"]).unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 ingested, 1 duplicates skipped, 0 failed"), "{out}");
    let (code, out, _) = acervo(&["ingest", media_arg, "--server", &server.base]).unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("0 ingested, 4 duplicates skipped, 0 failed"), "{out}");

    // Wait until the catalog holds all three, then read it from the CLI.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, out, _) = acervo(&[
            "sql",
            "SELECT count(*) AS n FROM assets WHERE status = 'ready'",
            "--home",
            home_arg,
        ])
        .unwrap();
        if out.contains("| 3 |") {
            break;
        }
        assert!(Instant::now() < deadline, "not all ready: {out}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, out, _) = acervo(&["search", "incendio", "--server", &server.base]).unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("incendio") && out.contains("1 matching"), "{out}");
    let (code, out, _) =
        acervo(&["search", "archivo", "--kind", "audio", "--server", &server.base]).unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("entrevista") && out.contains("1 matching"), "{out}");
    let (code, out, _) = acervo(&[
        "sql",
        "SELECT kind, count(*) AS n FROM assets GROUP BY kind ORDER BY kind",
        "--home",
        home_arg,
    ])
    .unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("| audio | 1 |") && out.contains("| image | 2 |"), "{out}");

    let (code, out, _) = acervo(&["verify", "--home", home_arg]).unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("verified 3 masters"), "{out}");

    // Bit rot in one master is found.
    let png = walk(&home.join("objects/masters"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let mut bytes = std::fs::read(&png).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&png, bytes).unwrap();
    let (code, out, err) = acervo(&["verify", "--home", home_arg]).unwrap();
    assert_eq!(code, 1);
    assert!(out.contains("MISMATCH") || err.contains("MISMATCH"), "{out}{err}");
    assert!(err.contains("1 of 3 masters do not match"), "{err}");

    // Errors: one line, non-zero.
    for args in [
        vec!["sql", "DROP TABLE assets", "--home", home_arg],
        vec!["sql", "SELECT nope FROM assets", "--home", home_arg],
        vec!["ingest", "/definitely/not/here", "--server", &server.base],
        vec!["search", "x", "--kind", "hologram", "--server", &server.base],
    ] {
        let (code, _, err) = acervo(&args).unwrap();
        assert_ne!(code, 0, "{args:?}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("acervo: "), "{err}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn configuration_layers_defaults_file_environment_and_flags() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("acervo.toml");
    std::fs::write(&file, "retention_days = 7\n[dataflow]\nmedia_threads = 3\n").unwrap();
    let home = work.path().join("data");
    let out = std::process::Command::new(acervo_bin())
        .args(["config", "--config", file.to_str().unwrap(), "--home", home.to_str().unwrap()])
        .env("ACERVO_DATAFLOW__WORKERS", "4")
        .env("ACERVO_ADDR", "127.0.0.1:9999")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cfg["retention_days"], 7, "from the file");
    assert_eq!(cfg["dataflow"]["media_threads"], 3, "from the file");
    assert_eq!(cfg["dataflow"]["workers"], 4, "from the environment");
    assert_eq!(cfg["addr"], "127.0.0.1:9999", "from the environment");
    assert_eq!(cfg["dataflow"]["media_queue"], 64, "from the embedded defaults");
    assert_eq!(cfg["home"], home.canonicalize().unwrap().to_str().unwrap(), "from the flag");

    // A bad value fails the start with one clear line that names the setting.
    let refused = |var: &str, value: &str| -> String {
        let out = std::process::Command::new(acervo_bin())
            .args(["config", "--home", home.to_str().unwrap()])
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} was accepted");
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let err = refused("ACERVO_DATAFLOW__WORKERS", "many");
    assert!(err.to_lowercase().contains("dataflow.workers"), "{err}");
    // Out of range, too.
    let err = refused("ACERVO_AI__SCENE_CHANGE", "10");
    assert!(err.contains("ai.scene_change = 10"), "{err}");
}
