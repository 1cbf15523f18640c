//! Local logins per second with argon2id at the configured cost (19 MiB, 2 passes by default):
//! the store's `login` (throttle, hash check, a refresh family journaled with an fsync, the
//! access token signed), on 1 and on as many threads as cores; and the cost of authenticating a
//! request with the access token it returned, which every API call pays.
//!
//! Usage: bench-login [LOGINS] [--dir DIR]

use std::sync::Arc;
use std::time::Instant;

use acervo_catalog::AcervoConfig;
use acervo_identity::{Authenticator, IdentityStore, NewUser};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize =
        args.get(1).filter(|a| !a.starts_with("--")).map(|a| a.parse()).transpose()?.unwrap_or(200);
    let dir_arg = args.iter().position(|a| a == "--dir").and_then(|i| args.get(i + 1)).cloned();
    let tmp = tempfile::tempdir()?;
    let dir = dir_arg.map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
    let cfg = AcervoConfig::defaults();
    let mut auth = cfg.auth.clone();
    // The throttle counts failures only; these logins all succeed.
    auth.login_attempts_per_minute = usize::MAX / 16;
    let store = Arc::new(IdentityStore::open(&dir.join("identity"), &auth)?);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    for i in 0..cores {
        store.create_user(NewUser {
            name: format!("user{i}"),
            display_name: String::new(),
            password: Some("a password of some length".into()),
            roles: vec![],
            must_change_password: false,
        })?;
    }
    println!(
        "bench-login: argon2id m={} KiB t={} p=1, {n} logins per run, {cores} cores",
        auth.argon2_memory_kib, auth.argon2_iterations
    );
    let mut token = String::new();
    for threads in [1, cores] {
        let started = Instant::now();
        let per = n / threads;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || -> anyhow::Result<String> {
                    let mut last = String::new();
                    for _ in 0..per {
                        let pair = store
                            .login(&format!("user{t}"), "a password of some length", "127.0.0.1")
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        last = pair.access_token;
                    }
                    Ok(last)
                })
            })
            .collect();
        for h in handles {
            token = h.join().map_err(|_| anyhow::anyhow!("a login thread panicked"))??;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "logins, {threads} thread(s):     {:>8.1} /s ({:.1} ms each)",
            (per * threads) as f64 / secs,
            secs * 1e3 * threads as f64 / (per * threads) as f64
        );
    }
    let authenticator = Authenticator { store: Arc::clone(&store), oidc: None };
    let header = format!("Bearer {token}");
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let checks = 100_000;
    let started = Instant::now();
    runtime.block_on(async {
        for _ in 0..checks {
            authenticator.authenticate(Some(&header)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        anyhow::Ok(())
    })?;
    println!(
        "bearer check (local JWT + session + principal): {:.2} µs each",
        started.elapsed().as_secs_f64() * 1e6 / checks as f64
    );
    Ok(())
}
