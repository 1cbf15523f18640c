//! bench-search: one million synthetic assets (see corpus.rs), bulk-loaded into the Lance
//! tables, indexed for search, then queried: text, filtered text, facets, vector and hybrid, at
//! 1 and 8 concurrent clients. Prints p50/p95/p99 latency and QPS, time until searchable,
//! vector graph build time and recall@10 against brute force, index size and peak RSS. With
//! `--peers` it exports the same corpus and queries and runs PostgreSQL (GIN tsvector),
//! tantivy (Python bindings) and faiss (HNSW) on them in the same run (benchmarks/peers).
//!
//! Usage: bench-search [N] [--dir DIR] [--queries Q] [--peers] [--reuse] [--only WORKLOAD] [--ef N]
//! [--projects P] [--scoped K]
//! (`--scoped K` runs the text and hybrid workloads also as an editor and as a viewer of K of the
//! P projects.)
//! (`--reuse` queries the index a previous run left in DIR: the query figures only;
//! `--only WORKLOAD` runs one workload, e.g. under `perf record`; `--rebuild` with `--reuse`
//! rebuilds the text index from the tables and times it.)

mod corpus;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acervo_catalog::{AcervoConfig, MediaKind, NewVectors, ReadScope};
use acervo_lakehouse::search::{IndexBatch, Mode, SearchFilter, SearchRequest};
use acervo_lakehouse::{Catalog, SearchIndex};
use anyhow::Context;
use chrono::{TimeZone, Utc};
use corpus::{Rng, Vocab};

const DIM: usize = 512;
/// Embeddings spread around their topic centroid (0 = on it; 1 = as far again as its norm).
const SPREAD: f32 = 0.9;

struct Args {
    n: u64,
    dir: Option<PathBuf>,
    queries: usize,
    peers: bool,
    /// Query an index a previous run left in `--dir` instead of building one.
    reuse: bool,
    /// Run this workload alone (to profile it).
    only: Option<String>,
    /// With `reuse`: rebuild the text index from the tables (to time or profile it).
    rebuild: bool,
    /// HNSW efSearch instead of the configured one (to compare at equal recall).
    ef: Option<usize>,
    /// Projects the assets are spread over (Zipf 0.8).
    projects: usize,
    /// Also run the text and hybrid workloads as a principal who is a member of this many
    /// projects (0: not), next to the administrator's.
    scoped: usize,
}

fn args() -> anyhow::Result<Args> {
    let a: Vec<String> = std::env::args().collect();
    let flag = |name: &str| a.iter().position(|x| x == name).and_then(|i| a.get(i + 1)).cloned();
    Ok(Args {
        n: a.get(1)
            .filter(|x| !x.starts_with("--"))
            .map(|x| x.parse())
            .transpose()?
            .unwrap_or(1_000_000),
        dir: flag("--dir").map(PathBuf::from),
        queries: flag("--queries").map(|q| q.parse()).transpose()?.unwrap_or(1000),
        peers: a.iter().any(|x| x == "--peers"),
        reuse: a.iter().any(|x| x == "--reuse"),
        only: flag("--only"),
        rebuild: a.iter().any(|x| x == "--rebuild"),
        ef: flag("--ef").map(|e| e.parse()).transpose()?,
        projects: flag("--projects").map(|p| p.parse()).transpose()?.unwrap_or(corpus::PROJECTS),
        scoped: flag("--scoped").map(|p| p.parse()).transpose()?.unwrap_or(0),
    })
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let tmp = tempfile::tempdir()?;
    let home = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&home)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(&args, &home))
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The query workload, shared with the peers.
#[derive(serde::Serialize)]
struct Query {
    lang: &'static str,
    text: String,
    kind: &'static str,
    project: String,
    vector: Vec<f32>,
}

fn queries(v: &Vocab, n: usize) -> Vec<Query> {
    let mut rng = Rng::new(99);
    let cents = corpus::centroids(DIM);
    let head = corpus::Zipf::new(2000, 1.0);
    (0..n)
        .map(|_| {
            let english = rng.unit() < 0.3;
            let list = if english { &v.en } else { &v.es };
            let words = 1 + rng.below(3);
            let text = (0..words)
                .map(|_| list[head.sample(&mut rng)].clone())
                .collect::<Vec<_>>()
                .join(" ");
            let project = format!("proyecto-{:02}", rng.below(5));
            let vector = corpus::near(&cents[rng.below(cents.len())], &mut rng, SPREAD);
            Query { lang: if english { "en" } else { "es" }, text, kind: "video", project, vector }
        })
        .collect()
}

async fn run(args: &Args, home: &Path) -> anyhow::Result<()> {
    let n = args.n;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "bench-search: {n} assets, {DIM}-d embeddings, {} queries per workload, {cores} cores, data in {}",
        args.queries,
        home.display()
    );
    let mut cfg = AcervoConfig::defaults();
    if let Some(ef) = args.ef {
        cfg.search.hnsw_expansion_search = ef;
    }
    let catalog = Arc::new(Catalog::open(home.join("catalog"), DIM).await?);
    let vocab = corpus::vocab(20_000, args.projects);
    let cents = corpus::centroids(DIM);
    let epoch = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).single().context("epoch")?;

    // 1. The search index opens first, as in a running server (on an empty catalog it is empty;
    //    with --reuse it loads what a previous run left).
    let t = Instant::now();
    let search = SearchIndex::open(&home.join("search"), &cfg.search, &catalog).await?;
    let open_time = t.elapsed();
    if args.reuse && args.rebuild {
        let t = Instant::now();
        search.rebuild_text(&catalog).await?;
        println!(
            "text index rebuild:         {:>8.1} s (from the Lance tables, on an open index)",
            t.elapsed().as_secs_f64()
        );
    }

    // 2. Bulk load, as an import job through the catalog writer: each batch is written to the
    //    Lance tables, then handed to the search index, which indexes it on its own thread
    //    while the next batch is written (a bounded queue between the two stages).
    let export = (args.peers && !args.reuse).then(|| home.join("peers"));
    let mut corpus_out = match &export {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            Some((
                std::io::BufWriter::new(std::fs::File::create(d.join("corpus.tsv"))?),
                std::io::BufWriter::new(std::fs::File::create(d.join("vectors.f32"))?),
            ))
        }
        None => None,
    };
    let started = Instant::now();
    let mut rng = Rng::new(1);
    let mut last_title = String::new();
    let (mut segs_total, mut loaded) = (0usize, if args.reuse { n } else { 0u64 });
    const BATCH: u64 = 50_000;
    let (to_index, batches) = std::sync::mpsc::sync_channel::<IndexBatch>(1);
    let indexer = {
        let search = Arc::clone(&search);
        std::thread::spawn(move || -> anyhow::Result<Duration> {
            let mut busy = Duration::ZERO;
            for batch in batches {
                let t = Instant::now();
                search.apply(batch)?;
                busy += t.elapsed();
            }
            Ok(busy)
        })
    };
    while loaded < n {
        let mut assets = Vec::new();
        let mut segments = Vec::new();
        let mut vectors = Vec::new();
        for i in loaded..(loaded + BATCH).min(n) {
            let g = corpus::asset(&vocab, &mut rng, i, epoch);
            let v = corpus::near(&cents[g.topic], &mut rng, SPREAD);
            if let Some((tsv, vecs)) = corpus_out.as_mut() {
                let lang = "-";
                let clean = |s: &str| s.replace(['\t', '\n'], " ");
                writeln!(
                    tsv,
                    "{}\t{lang}\t{}\t{}\t{}\t{}\t{}\t{}",
                    g.asset.id,
                    clean(&g.asset.title),
                    clean(&g.asset.description),
                    g.asset.tags.join(" "),
                    g.asset.kind.as_str(),
                    g.asset.project,
                    g.asset.status.as_str()
                )?;
                for x in &v {
                    vecs.write_all(&x.to_le_bytes())?;
                }
            }
            vectors.push(NewVectors {
                asset_id: g.asset.id,
                vectors: vec![(None, v)],
                model: None,
            });
            if !g.segments.is_empty() {
                segments.push((g.asset.id, g.segments));
            }
            last_title = g.asset.title.clone();
            assets.push(g.asset);
        }
        let seg_rows: Vec<_> = segments.iter().flat_map(|(_, rows)| rows.iter().cloned()).collect();
        segs_total += seg_rows.len();
        catalog.append_assets(&assets).await?;
        catalog.append_segments(&seg_rows).await?;
        // The table names the vectors (their ords and keys); the index maps them.
        let vectors = catalog.append_embeddings(&vectors).await?;
        loaded += assets.len() as u64;
        if to_index.send(IndexBatch { assets, segments, vectors }).is_err() {
            break; // the indexer stopped: its error is reported below
        }
        eprintln!("  … loaded {loaded} / {n} ({:.1} s)", started.elapsed().as_secs_f64());
    }
    drop(corpus_out);
    drop(to_index);
    let load_time = started.elapsed();
    let index_busy =
        indexer.join().map_err(|_| anyhow::anyhow!("the indexer thread panicked"))??;
    let principal = ReadScope::everything();
    if !args.reuse {
        let probe = SearchRequest {
            q: format!("\"{last_title}\""),
            limit: 5,
            facets: false,
            ..Default::default()
        };
        let found = search.search(&probe, &principal)?;
        anyhow::ensure!(
            found.hits.iter().any(|h| h.asset.title == last_title),
            "the last asset is not searchable"
        );
    }
    let searchable = started.elapsed();
    if !args.reuse {
        eprintln!(
            "  … searchable {:.1} s after the load ({:.1} s after the start)",
            (searchable - load_time).as_secs_f64(),
            searchable.as_secs_f64()
        );
    }

    // 3. The HNSW graph over every vector (the background merger would do this over time).
    let tail_at_load = search.vectors().tail_len();
    let t = Instant::now();
    search.build_vector_graph(cores)?;
    let graph_time = t.elapsed();
    let graphed = search.vectors().len();

    let qs = queries(&vocab, args.queries);
    if let Some(d) = &export {
        std::fs::write(d.join("queries.json"), serde_json::to_vec(&qs)?)?;
    }

    // 4. Recall@10 of the vector index against brute force (excluding deleted assets, as search does).
    let (recall, recall_filtered) =
        vector_recall(&catalog, &search, &qs[..qs.len().min(200)]).await?;

    println!();
    println!(
        "index open:                 {:>8.1} s (vectors loaded, saved graph attached; text rebuilt only on a new layout)",
        open_time.as_secs_f64()
    );
    if !args.reuse {
        println!(
            "bulk load into Lance:       {:>8.1} s ({n} assets, {segs_total} transcript segments, {n} vectors; indexed alongside)",
            load_time.as_secs_f64()
        );
        println!(
            "searchable after the load:  {:>8.1} s (the index's last batch committed; {:.1} s indexing in all)",
            (searchable - load_time).as_secs_f64(),
            index_busy.as_secs_f64()
        );
        println!(
            "searchable after start:     {:>8.1} s (load + index; vectors by flat scan until the graph is built)",
            searchable.as_secs_f64()
        );
    }
    println!(
        "HNSW graph build:           {:>8.1} s (after the load: {tail_at_load} of {graphed} vectors not yet in the graph, M={}, efConstruction={})",
        graph_time.as_secs_f64(),
        cfg.search.hnsw_connectivity,
        cfg.search.hnsw_expansion_add
    );
    println!(
        "vector recall@10:           {:>8.3} (efSearch={}, 200 queries vs brute force)",
        recall, cfg.search.hnsw_expansion_search
    );
    println!(
        "filtered recall@10:         {:>8.3} (kind + project filter: sign-bit, int8, exact scan stages)",
        recall_filtered
    );
    println!(
        "index size on disk:         {:>8.0} MiB search index + {:.0} MiB Lance tables",
        search.disk_bytes() as f64 / 1048576.0,
        acervo_lakehouse::dir_bytes(&home.join("catalog")) as f64 / 1048576.0
    );

    // 5. Latency and throughput per workload.
    println!();
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "workload", "clients", "p50 ms", "p95 ms", "p99 ms", "QPS", "avg hits"
    );
    let filter = |q: &Query| SearchFilter {
        kind: Some(MediaKind::Video),
        project: Some(q.project.clone()),
        ..Default::default()
    };
    type Make = Box<dyn Fn(&Query) -> SearchRequest + Send + Sync>;
    let workloads: Vec<(&str, Make)> = vec![
        (
            "text",
            Box::new(|q: &Query| SearchRequest {
                q: q.text.clone(),
                limit: 10,
                facets: false,
                highlight: false,
                ..Default::default()
            }),
        ),
        (
            "text+filter",
            Box::new(move |q: &Query| SearchRequest {
                q: q.text.clone(),
                filter: filter(q),
                limit: 10,
                facets: false,
                highlight: false,
                ..Default::default()
            }),
        ),
        (
            "text+facets",
            Box::new(|q: &Query| SearchRequest {
                q: q.text.clone(),
                limit: 10,
                facets: true,
                highlight: false,
                ..Default::default()
            }),
        ),
        (
            "vector",
            Box::new(|q: &Query| SearchRequest {
                mode: Mode::Vector,
                vector: Some(q.vector.clone()),
                limit: 10,
                facets: false,
                highlight: false,
                ..Default::default()
            }),
        ),
        (
            "hybrid",
            Box::new(move |q: &Query| SearchRequest {
                q: q.text.clone(),
                mode: Mode::Hybrid,
                vector: Some(q.vector.clone()),
                filter: filter(q),
                limit: 10,
                facets: true,
                highlight: true,
                ..Default::default()
            }),
        ),
    ];
    // A newsroom member: editor in `scoped` projects (the five the filtered queries name, and
    // more spread over the rest), so every search is filtered to what it may read; and a viewer
    // of the same projects, who reads their published assets only.
    let members = if args.scoped > 0 {
        let step = (args.projects / args.scoped.max(1)).max(1);
        let mut projects = std::collections::BTreeSet::new();
        for p in (0..5).chain((0..args.projects).step_by(step)) {
            if projects.len() == args.scoped.min(args.projects) {
                break;
            }
            projects.insert(p);
        }
        let policy = acervo_policy::Policy::embedded()?;
        let scope_of = |role: acervo_catalog::Role| {
            let member = acervo_catalog::Principal {
                name: "member".into(),
                roles: vec![],
                project_roles: projects
                    .iter()
                    .map(|p| (format!("proyecto-{p:02}"), vec![role]))
                    .collect(),
            };
            // Its read scope, as the server's default policy yields it.
            (*policy.scope(&member)).clone()
        };
        vec![
            ("scoped", scope_of(acervo_catalog::Role::Editor)),
            ("viewer", scope_of(acervo_catalog::Role::Viewer)),
        ]
    } else {
        Vec::new()
    };
    let mut runs: Vec<(String, &Make, &ReadScope)> = Vec::new();
    for (name, make) in
        workloads.iter().filter(|(name, _)| args.only.as_deref().is_none_or(|o| o == *name))
    {
        runs.push((name.to_string(), make, &principal));
        if *name == "text" || *name == "hybrid" {
            for (who, scope) in &members {
                runs.push((format!("{name} {who}"), make, scope));
            }
        }
    }
    for (name, make, principal) in runs {
        let reqs: Vec<SearchRequest> = qs.iter().map(make).collect();
        for clients in [1usize, 8] {
            let (lat, wall, hits) = measure(&search, principal, &reqs, clients)?;
            let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;
            println!(
                "{:<16} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.0} {:>10.1}",
                name,
                clients,
                pct(0.50),
                pct(0.95),
                pct(0.99),
                lat.len() as f64 / wall.as_secs_f64(),
                hits as f64 / lat.len() as f64
            );
        }
    }
    // The vector index alone, ids only, no filter: what faiss's row measures (the `vector`
    // workload also reads each hit's summary and groups frames per asset).
    if args.only.as_deref().is_none_or(|o| o == "vector-index") {
        let mut everyone = acervo_lakehouse::search::OrdSet::default();
        for ord in 0..search.vectors().len() as u32 {
            everyone.insert(ord);
        }
        let limit = search.vectors().key_limit();
        for r in qs.iter().take(50) {
            search.vectors().search(&r.vector, 10, &everyone, limit)?;
        }
        let mut lat = Vec::with_capacity(qs.len());
        let start = Instant::now();
        for r in &qs {
            let t = Instant::now();
            search.vectors().search(&r.vector, 10, &everyone, limit)?;
            lat.push(t.elapsed());
        }
        let wall = start.elapsed();
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;
        println!(
            "{:<16} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.0} {:>10.1}",
            "vector-index",
            1,
            pct(0.50),
            pct(0.95),
            pct(0.99),
            lat.len() as f64 / wall.as_secs_f64(),
            10.0
        );
    }
    println!();
    println!("peak RSS:                   {:>8.0} MiB", peak_rss_mib());
    search.close()?;

    if let Some(d) = export {
        println!();
        println!("peers on the same corpus and queries (benchmarks/peers/search_peers.py):");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/search_peers.py");
        let status = std::process::Command::new("python3")
            .arg(script)
            .arg(&d)
            .arg(n.to_string())
            .status()
            .context("running the peers")?;
        anyhow::ensure!(status.success(), "the peers script failed");
    }
    Ok(())
}

/// Runs every request once, spread over `clients` threads; latencies sorted.
fn measure(
    search: &Arc<SearchIndex>,
    principal: &ReadScope,
    reqs: &[SearchRequest],
    clients: usize,
) -> anyhow::Result<(Vec<Duration>, Duration, usize)> {
    // Warm-up: the first touches of the mmap'd index are page faults, not search.
    for r in reqs.iter().take(50) {
        search.search(r, principal)?;
    }
    let start = Instant::now();
    let per = reqs.len().div_ceil(clients);
    let results: Vec<anyhow::Result<(Vec<Duration>, usize)>> = std::thread::scope(|s| {
        let handles: Vec<_> = reqs
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    let mut lat = Vec::with_capacity(part.len());
                    let mut hits = 0;
                    for r in part {
                        let t = Instant::now();
                        hits += search.search(r, principal)?.hits.len();
                        lat.push(t.elapsed());
                    }
                    Ok((lat, hits))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("client thread panicked"))))
            .collect()
    });
    let wall = start.elapsed();
    let mut all = Vec::new();
    let mut hits = 0;
    for r in results {
        let (l, h) = r?;
        all.extend(l);
        hits += h;
    }
    all.sort();
    Ok((all, wall, hits))
}

/// Inner product with eight independent sums, so it vectorises.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>()
        + a.chunks_exact(8)
            .remainder()
            .iter()
            .zip(b.chunks_exact(8).remainder())
            .map(|(x, y)| x * y)
            .sum::<f32>()
}

/// Mean recall@10 of `mode=vector` against an exact scan of the embeddings table: without a
/// filter (the HNSW graph) and with the workloads' filter (kind and project: the filtered scan).
async fn vector_recall(
    catalog: &Catalog,
    search: &Arc<SearchIndex>,
    qs: &[Query],
) -> anyhow::Result<(f64, f64)> {
    use futures::TryStreamExt;
    // Deleted assets are not searchable; the oracle leaves them out too.
    let rows =
        catalog.sql("SELECT id, kind, project FROM assets WHERE status <> 'deleted'").await?;
    let mut meta: std::collections::HashMap<String, (String, String)> =
        std::collections::HashMap::new();
    for b in &rows {
        let (ids, kinds, projects) = (
            arrow::array::AsArray::as_string::<i32>(b.column(0)),
            arrow::array::AsArray::as_string::<i32>(b.column(1)),
            arrow::array::AsArray::as_string::<i32>(b.column(2)),
        );
        for i in 0..b.num_rows() {
            meta.insert(
                ids.value(i).to_string(),
                (kinds.value(i).to_string(), projects.value(i).to_string()),
            );
        }
    }
    let mut vecs: Vec<(acervo_catalog::AssetId, Vec<f32>, bool, String)> = Vec::new();
    let mut stream = catalog.scan_table("embeddings").await?;
    while let Some(b) = stream.try_next().await? {
        for r in acervo_lakehouse::tables::batch_to_embeddings(&b)? {
            if let Some((kind, project)) = meta.get(&r.asset_id.to_string()) {
                vecs.push((r.asset_id, r.vector, kind == "video", project.clone()));
            }
        }
    }
    drop(meta);
    let principal = ReadScope::everything();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let per = qs.len().div_ceil(cores);
    let vecs = &vecs;
    let sums: Vec<anyhow::Result<(f64, f64)>> = std::thread::scope(|s| {
        let hs: Vec<_> = qs
            .chunks(per)
            .map(|part| {
                let principal = principal.clone();
                s.spawn(move || {
                    let (mut sum, mut sum_filtered) = (0.0, 0.0);
                    for q in part {
                        let truth = |keep: &dyn Fn(bool, &str) -> bool| -> std::collections::HashSet<acervo_catalog::AssetId> {
                            let mut scored: Vec<(f32, acervo_catalog::AssetId)> = vecs.iter().filter(|(_, _, video, p)| keep(*video, p)).map(|(id, v, _, _)| (dot(v, &q.vector), *id)).collect();
                            let n = scored.len().min(10);
                            if n > 0 {
                                scored.select_nth_unstable_by(n - 1, |a, b| b.0.total_cmp(&a.0));
                            }
                            scored[..n].iter().map(|x| x.1).collect()
                        };
                        let all = truth(&|_, _| true);
                        let req = SearchRequest { mode: Mode::Vector, vector: Some(q.vector.clone()), limit: 10, facets: false, highlight: false, ..Default::default() };
                        sum += search.search(&req, &principal)?.hits.iter().filter(|h| all.contains(&h.asset.id)).count() as f64 / 10.0;
                        let filtered = truth(&|video, p| video && p == q.project);
                        let filter = SearchFilter { kind: Some(MediaKind::Video), project: Some(q.project.clone()), ..Default::default() };
                        let req = SearchRequest { filter, ..req };
                        let got = search.search(&req, &principal)?;
                        sum_filtered += got.hits.iter().filter(|h| filtered.contains(&h.asset.id)).count() as f64 / filtered.len().max(1) as f64;
                    }
                    Ok((sum, sum_filtered))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("recall thread panicked"))))
            .collect()
    });
    let (mut total, mut total_filtered) = (0.0, 0.0);
    for s in sums {
        let (a, b) = s?;
        total += a;
        total_filtered += b;
    }
    Ok((total / qs.len() as f64, total_filtered / qs.len() as f64))
}
