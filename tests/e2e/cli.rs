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
    // The histograms too: one asset created this month (or the last, at midnight), one duration.
    let line = |prefix: &str| out.lines().find(|l| l.starts_with(prefix)).map(str::to_string);
    assert!(line("created (by month): ").is_some_and(|l| l.ends_with("=1")), "{out}");
    assert!(line("duration: ").is_some_and(|l| l.matches('=').count() == 1), "{out}");
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
    assert_eq!(cfg["home"], std::path::absolute(&home).unwrap().to_str().unwrap(), "from the flag");
    assert!(!home.exists(), "printing the configuration creates no data directory");

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

/// Runs the CLI in `cwd` with extra variables; (exit code, stdout, stderr).
fn acervo_in(cwd: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(acervo_bin());
    cmd.args(args).current_dir(cwd).env("ACERVO_LOG", "error").env_remove("ACERVO_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn an_unknown_key_is_refused_naming_the_key_and_where_it_was_set() {
    let work = tempfile::tempdir().unwrap();
    let (code, _, err) =
        acervo_in(work.path(), &["config"], &[("ACERVO_DATAFLOW__MEDIA_QUEU", "3")]);
    assert_ne!(code, 0, "a typo in a variable was accepted");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("dataflow.media_queu") && err.contains("ACERVO_DATAFLOW__MEDIA_QUEU"),
        "{err}"
    );

    let file = work.path().join("acervo.toml");
    std::fs::write(&file, "[search]\nembeding_dim = 512\n").unwrap();
    let (code, _, err) =
        acervo_in(work.path(), &["config", "--config", file.to_str().unwrap()], &[]);
    assert_ne!(code, 0, "a typo in the file was accepted");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("search.embeding_dim") && err.contains(file.to_str().unwrap()), "{err}");

    // A named profile's fields are checked like any other section's.
    std::fs::write(&file, "[renditions.video.mobile]\nlong_side = 640\nshort_side = 360\nbitrate_kbps = 600\nh264_profile = \"main\"\nmp4 = true\nfaststart = true\nframerate = 25\n").unwrap();
    let (code, _, err) =
        acervo_in(work.path(), &["config", "--config", file.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("renditions.video.mobile.framerate"), "{err}");
}

#[test]
fn secrets_are_never_printed() {
    let work = tempfile::tempdir().unwrap();
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY";
    let (code, out, err) =
        acervo_in(work.path(), &["config"], &[("ACERVO_STORAGE__S3_SECRET_ACCESS_KEY", secret)]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(secret) && !err.contains(secret), "{out}");
    let cfg: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cfg["storage"]["s3_secret_access_key"], "<redacted>");
}

#[test]
fn commands_that_only_read_need_a_data_directory_and_never_make_one() {
    let work = tempfile::tempdir().unwrap();
    for args in [vec!["sql", "SELECT count(*) FROM assets"], vec!["verify"]] {
        let (code, out, err) = acervo_in(work.path(), &args, &[]);
        assert_ne!(code, 0, "{args:?} answered {out}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("acervo: no Acervo data directory at ") && err.contains("acervo-data"),
            "{err}"
        );
        assert!(!work.path().join("acervo-data").exists(), "{args:?} made a data directory");
    }
    let elsewhere = work.path().join("nowhere");
    let (code, _, err) =
        acervo_in(work.path(), &["sql", "SELECT 1", "--home", elsewhere.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(err.contains(elsewhere.to_str().unwrap()) && !elsewhere.exists(), "{err}");
}
