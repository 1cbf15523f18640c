//! `acervo serve`: the API and the ingest dataflow in one process, on one data directory.

use std::fs::File;
use std::sync::Arc;

use acervo_catalog::{AcervoConfig, ProjectSlug};
use acervo_dataflows::{Engine, EngineContext, JobRegistry, Metrics, Models};
use acervo_identity::{AdminPassword, Authenticator, FirstStart, IdentityStore, OidcVerifier};
use acervo_lakehouse::{Checkpoint, EventLog, SearchIndex};
use acervo_operators::ProbeLimits;
use acervo_query_api::{AppState, router};
use anyhow::Context;

use crate::open;

pub async fn run(cfg: AcervoConfig) -> anyhow::Result<()> {
    // One server per data directory: a second one would interleave writes to the log.
    let lock_path = cfg.home.join("acervo.lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    lock.try_lock()
        .map_err(|_| anyhow::anyhow!("another acervo server is using {}", cfg.home.display()))?;

    // A policy file that does not parse stops the start, before anything is opened.
    let policy = Arc::new(acervo_policy::Policy::load(cfg.policy.file_path(&cfg.home).as_deref())?);
    tracing::info!(policy = %policy.origin(), "authorisation policy loaded");
    // So is a TLS certificate that cannot be used.
    let tls = match cfg.http.tls_files(&cfg.home).map_err(anyhow::Error::msg)? {
        Some((cert, key)) => Some(crate::cli::tls::acceptor(&cert, &key)?),
        None => None,
    };
    let masters = open::masters(&cfg)?;
    // Uploads cut off by a crash or a dropped connection leave staging objects behind.
    match masters.sweep_staging(std::time::Duration::from_secs(24 * 3600)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed stale upload staging objects"),
        Err(e) => tracing::warn!(error = %e, "cannot sweep upload staging objects"),
    }
    // Rendition passes cut off by a crash leave their work folders behind; none runs yet.
    if let Ok(entries) = std::fs::read_dir(cfg.work_dir()) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("acervo-renditions-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let log: Arc<dyn EventLog> = open::log(&cfg)?;
    let catalog = open::catalog(&cfg).await?;
    let search = SearchIndex::open(&cfg.search_dir(), &cfg.search, &catalog)
        .await
        .context("search index")?;
    let authenticator = Arc::new(open_identity(&cfg, &catalog).await?);
    // Before accounts, every asset was the built-in `local-admin`'s: now the administrator's.
    let reassigned = catalog
        .reassign_owner("local-admin", acervo_catalog::ADMIN)
        .await
        .context("giving local-admin's assets to admin")?;
    if reassigned > 0 {
        tracing::info!(
            assets = reassigned,
            "assets of the built-in local-admin now belong to admin"
        );
    }
    policy.set_directory(&authenticator.store.restricted_collections())?;
    let policy_watch = watch_policy_file(&cfg, &policy, &authenticator.store);
    let audit = Arc::new(
        acervo_lakehouse::AuditTrail::open(&cfg.audit_dir(), Arc::clone(&catalog))
            .await
            .context("the audit trail")?,
    );
    let metrics = Arc::new(Metrics::new());
    // The models, loaded once: the enrichment stage runs them; the search API embeds query
    // text with the same sentence model. Without one, the server still runs and that part of
    // the enrichment is skipped (semantic search then needs vectors given).
    let models = {
        let (ai, dim) = (cfg.ai.clone(), cfg.search.embedding_dim);
        tokio::task::spawn_blocking(move || Models::load(&ai, dim)).await?
    };
    let text_model = models.text.clone();
    let ai_models = models.current();
    let jobs = Arc::new(JobRegistry::default());
    let engine = Arc::new(
        Engine::start(EngineContext {
            log: Arc::clone(&log),
            catalog: Arc::clone(&catalog),
            search: Arc::clone(&search),
            masters: masters.clone(),
            checkpoint: Checkpoint::new(cfg.checkpoint_path()),
            jobs: Arc::clone(&jobs),
            metrics: Arc::clone(&metrics),
            runtime: tokio::runtime::Handle::current(),
            config: cfg.dataflow.clone(),
            limits: ProbeLimits { max_image_pixels: cfg.limits.max_image_pixels },
            profiles: cfg.renditions.clone(),
            jobs_config: cfg.jobs.clone(),
            work_dir: cfg.work_dir(),
            models,
        })
        .context("starting the dataflow")?,
    );
    // The seed's `ondemand/` lifecycle rule: on-demand outputs and their records expire.
    let sweeper = {
        let (masters, hours) = (masters.clone(), cfg.jobs.ondemand_expiry_hours);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                match masters
                    .sweep_older("ondemand", std::time::Duration::from_secs(hours * 3600))
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "removed expired on-demand objects"),
                    Err(e) => tracing::warn!(error = %e, "cannot sweep on-demand objects"),
                }
            }
        })
    };
    let listener = tokio::net::TcpListener::bind(&cfg.addr)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.addr))?;
    let addr = listener.local_addr()?;
    let cfg = Arc::new(cfg);
    let mut state = AppState::new(
        Arc::clone(&cfg),
        catalog,
        Arc::clone(&search),
        log,
        masters,
        Arc::clone(&engine),
        jobs,
        metrics,
        authenticator,
        Arc::clone(&audit),
        policy,
    );
    state.text_model = text_model.ok();
    state.ai_models = ai_models;
    tracing::info!(%addr, home = %cfg.home.display(), objects = %cfg.objects_url(), "acervo is serving");
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("acervo listening on {scheme}://{addr} (data in {})", cfg.home.display());
    if cfg.auth.disabled {
        tracing::warn!(%addr, "authentication is disabled: every request acts as the administrator");
    }
    match tls {
        Some(acceptor) => {
            crate::cli::tls::serve(listener, acceptor, router(state), shutdown_signal())
                .await
                .context("HTTPS server")?
        }
        None => {
            let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("HTTP server")?;
        }
    }
    sweeper.abort();
    if let Some(w) = policy_watch {
        w.abort();
    }
    if let Err(e) = audit.flush().await {
        tracing::error!(error = %e, "the audit trail did not flush before the stop");
    }
    tokio::task::spawn_blocking(move || engine.stop()).await?.context("stopping the dataflow")?;
    tokio::task::spawn_blocking(move || search.close())
        .await?
        .context("saving the search index")?;
    drop(lock);
    Ok(())
}

/// The identity store, its first administrator, and the projects the catalog's assets name.
async fn open_identity(
    cfg: &AcervoConfig,
    catalog: &acervo_lakehouse::Catalog,
) -> anyhow::Result<Authenticator> {
    let dir = cfg.identity_dir();
    let store = {
        let (dir, auth) = (dir.clone(), cfg.auth.clone());
        tokio::task::spawn_blocking(move || IdentityStore::open(&dir, &auth)).await??
    };
    let password = match (
        std::env::var("ACERVO_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty()),
        std::env::var_os("ACERVO_ADMIN_PASSWORD_FILE"),
    ) {
        (Some(p), _) => AdminPassword::Given(p),
        (None, Some(file)) => {
            let text = std::fs::read_to_string(&file).with_context(|| {
                format!("ACERVO_ADMIN_PASSWORD_FILE: cannot read {}", file.to_string_lossy())
            })?;
            AdminPassword::Given(text.trim_end_matches(['\n', '\r']).to_string())
        }
        (None, None) => AdminPassword::Generate,
    };
    let store = Arc::new(store);
    // Uploads create their projects from now on: the catalog is scanned for the projects its
    // assets name only when the store is new (a data directory from before accounts existed).
    let new_store = store.is_empty();
    let first = {
        let store = Arc::clone(&store);
        tokio::task::spawn_blocking(move || acervo_identity::ensure_admin(&store, password))
            .await?
            .context("creating the first administrator")?
    };
    match first {
        FirstStart::Existing => {}
        FirstStart::Given => {
            tracing::info!("created the administrator 'admin' with the given password")
        }
        FirstStart::Generated { password, file } => {
            // Printed once, on stderr (stdout's first line is the listening address).
            eprintln!(
                "acervo: created the administrator 'admin' with the one-time password {password} (also in {}); change it at the first login",
                file.display()
            );
        }
    }
    if new_store {
        adopt_catalog_projects(&store, catalog).await?;
    }
    let oidc = (!cfg.auth.oidc.issuer.is_empty()).then(|| OidcVerifier::new(cfg.auth.oidc.clone()));
    Ok(Authenticator { store, oidc })
}

/// Reads a changed policy file again while serving; one that no longer parses is logged and
/// the running policy stays.
fn watch_policy_file(
    cfg: &AcervoConfig,
    policy: &Arc<acervo_policy::Policy>,
    store: &Arc<IdentityStore>,
) -> Option<tokio::task::JoinHandle<()>> {
    cfg.policy.file_path(&cfg.home)?;
    let (policy, store) = (Arc::clone(policy), Arc::clone(store));
    let every = std::time::Duration::from_secs(cfg.policy.reload_seconds.max(1));
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match policy.reload_if_changed(&store.restricted_collections()) {
                Ok(false) => {}
                Ok(true) => {
                    tracing::info!(policy = %policy.origin(), "policy file changed: reloaded")
                }
                Err(e) => {
                    tracing::error!(error = %e, "the changed policy file is refused; the running policy stays")
                }
            }
        }
    }))
}

/// Every project an asset names becomes a project (assets uploaded before projects existed).
async fn adopt_catalog_projects(
    store: &IdentityStore,
    catalog: &acervo_lakehouse::Catalog,
) -> anyhow::Result<()> {
    let named: Vec<ProjectSlug> = catalog
        .distinct_projects()
        .await
        .context("reading the catalog's projects")?
        .into_iter()
        .filter_map(|p| match p.parse::<ProjectSlug>() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "an asset's project is not a slug: only an administrator sees it");
                None
            }
        })
        .collect();
    let created = store.ensure_projects(&named)?;
    if created > 0 {
        tracing::info!(created, "projects created for the catalog's assets");
    }
    Ok(())
}

/// Ctrl-C or SIGTERM (what Kubernetes sends before it kills a pod).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}
