//! Metadata-only ingest of N synthetic assets (default 100 000) through the whole spine:
//! event log → timely dataflow → Lance catalog + search index.
//!
//! Prints: log append rate, assets/s materialised, time until all are durable, time until the
//! last one is found by search, and search latency.
//!
//! Usage: bench-ingest-metadata [N] [--dir DIR]

use std::sync::Arc;
use std::time::{Duration, Instant};

use acervo_catalog::config::DataflowConfig;
use acervo_catalog::{AcervoConfig, AssetId, Event, EventEnvelope, MediaKind};
use acervo_dataflows::{Engine, EngineContext, JobRegistry, Metrics};
use acervo_lakehouse::search::SearchRequest;
use acervo_lakehouse::{
    Catalog, Checkpoint, EventLog, MasterStore, NewRecord, Objects, SearchIndex, SegmentLog,
};
use anyhow::Context;

const WORDS: &[&str] = &[
    "pleno",
    "congreso",
    "alcaldesa",
    "incendio",
    "entrevista",
    "elecciones",
    "mercado",
    "fútbol",
    "huelga",
    "sanidad",
    "educación",
    "vivienda",
    "turismo",
    "sequía",
    "tráfico",
    "cultura",
    "festival",
    "economía",
    "empleo",
    "tribunal",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir_arg = args.iter().position(|a| a == "--dir").and_then(|i| args.get(i + 1)).cloned();
    let tmp = tempfile::tempdir()?;
    let home = dir_arg.map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(n, &home))
}

async fn run(n: u64, home: &std::path::Path) -> anyhow::Result<()> {
    println!(
        "bench-ingest-metadata: {n} synthetic assets (kind document: metadata only) in {}",
        home.display()
    );
    let log = Arc::new(SegmentLog::open(home.join("log"))?);
    let cfg = AcervoConfig::defaults();
    let catalog = Arc::new(Catalog::open(home.join("catalog"), cfg.search.embedding_dim).await?);
    let search = SearchIndex::open(&home.join("search"), &cfg.search, &catalog).await?;
    let objects =
        Objects::open(&format!("file://{}", home.join("objects").display()), &Default::default())?;
    let engine = Engine::start(EngineContext {
        log: log.clone(),
        catalog: catalog.clone(),
        search: search.clone(),
        masters: MasterStore::new(objects),
        checkpoint: Checkpoint::new(home.join("checkpoints/catalog.offset")),
        jobs: Arc::new(JobRegistry::default()),
        metrics: Arc::new(Metrics::new()),
        runtime: tokio::runtime::Handle::current(),
        config: DataflowConfig {
            workers: 1,
            media_threads: 1,
            media_queue: 64,
            enrich_threads: 1,
            enrich_queue: 16,
            batch_records: 4096,
            work_dir: String::new(),
        },
        limits: Default::default(),
        profiles: acervo_catalog::AcervoConfig::defaults().renditions,
        jobs_config: acervo_catalog::AcervoConfig::defaults().jobs,
        work_dir: std::env::temp_dir().join("acervo-bench-work"),
        models: acervo_dataflows::Models::none(cfg.ai.clone()),
    })?;

    // Append in batches of 1 000 (one fsync each), as a bulk importer would.
    let start = Instant::now();
    let mut last_title = String::new();
    let mut appended = 0u64;
    while appended < n {
        let batch: Vec<Vec<u8>> = (appended..(appended + 1000).min(n))
            .map(|i| {
                let title = format!(
                    "{} {} {} nota {i}",
                    WORDS[(i % 20) as usize],
                    WORDS[((i / 20) % 20) as usize],
                    WORDS[((i / 400) % 20) as usize]
                );
                last_title = title.clone();
                let env = EventEnvelope {
                    at: chrono::Utc::now(),
                    principal: "bench".into(),
                    event: Event::AssetIngested {
                        id: AssetId::new(),
                        title,
                        description: format!(
                            "Descripción sintética del documento número {i} del archivo"
                        ),
                        tags: vec![WORDS[(i % 7) as usize].to_string(), "archivo".into()],
                        kind: MediaKind::Document,
                        mime: "application/pdf".into(),
                        size: 1000 + i,
                        sha256: format!("{i:064x}"),
                        master_key: format!("masters/synthetic/{i}"),
                        original_filename: format!("doc{i}.pdf"),
                        project: format!("project-{}", i % 5),
                        owner: "bench".into(),
                    },
                };
                serde_json::to_vec(&env).unwrap_or_default()
            })
            .collect();
        let refs: Vec<NewRecord> = batch.iter().map(|b| NewRecord::data(b)).collect();
        log.append(&refs)?;
        appended += batch.len() as u64;
    }
    let append_time = start.elapsed();

    // Progress while the dataflow materialises.
    let mut last_report = Instant::now();
    while engine.durable_offset() < n {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "  … {} / {n} durable after {:.1} s",
                engine.durable_offset(),
                start.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let durable_time = start.elapsed();

    // Searchable: the last asset's unique number is found by full-text search.
    let needle = last_title.rsplit(' ').next().context("title")?.to_string();
    let query = SearchRequest { q: format!("nota {needle}"), limit: 10, ..Default::default() };
    let principal = acervo_catalog::ReadScope::everything();
    loop {
        let r = search.search(&query, &principal)?;
        if r.hits.iter().any(|h| h.asset.title == last_title) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let searchable_time = start.elapsed();
    let rows = catalog.sql("SELECT count(*) AS n FROM assets").await?;
    let count =
        arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(rows[0].column(0))
            .value(0);
    anyhow::ensure!(count as u64 == n, "catalog holds {count} assets, expected {n}");

    // Search latency over the full catalog (word query with facets, top 20).
    let q = SearchRequest { q: "incendio sanidad".into(), limit: 20, ..Default::default() };
    let mut lat = Vec::new();
    let mut total = 0;
    for _ in 0..20 {
        let t = Instant::now();
        total = search.search(&q, &principal)?.total.unwrap_or(0);
        lat.push(t.elapsed());
    }
    lat.sort();
    engine.stop()?;
    search.close()?;

    println!(
        "log append:            {:>10.0} events/s ({:.2} s for {n})",
        n as f64 / append_time.as_secs_f64(),
        append_time.as_secs_f64()
    );
    println!(
        "materialised:          {:>10.0} assets/s ({:.2} s until all durable in Lance)",
        n as f64 / durable_time.as_secs_f64(),
        durable_time.as_secs_f64()
    );
    println!(
        "searchable:            {:>10.2} s until the last asset is found by full-text search",
        searchable_time.as_secs_f64()
    );
    println!("catalog rows:          {count:>10}");
    println!(
        "search 'incendio sanidad' ({total} matches, facets): median {:.1} ms, p95 {:.1} ms",
        lat[lat.len() / 2].as_secs_f64() * 1e3,
        lat[lat.len() * 95 / 100].as_secs_f64() * 1e3
    );
    Ok(())
}
