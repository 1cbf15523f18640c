//! bench-hnsw-kinds: how the HNSW graph's stored scalar kind (f32, f16, bf16, i8) trades
//! build time, query latency and recall@10 on the search benchmark's embeddings, each search
//! re-ranked exactly as the vector store does (40 graph candidates, exact f32 dot products).
//! It picks the graph's kind; bench-search measures the chosen one against faiss.
//!
//! Usage: bench-hnsw-kinds [N] [--queries Q]

#[path = "search/corpus.rs"]
#[allow(dead_code)]
mod corpus;

use std::time::{Duration, Instant};

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

const DIM: usize = 512;
const SPREAD: f32 = 0.9;
const K: usize = 10;
const CANDIDATES: usize = 40;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a
        .get(1)
        .filter(|x| !x.starts_with("--"))
        .map(|x| x.parse())
        .transpose()?
        .unwrap_or(200_000);
    let nq: usize = a
        .iter()
        .position(|x| x == "--queries")
        .and_then(|i| a.get(i + 1))
        .map(|x| x.parse())
        .transpose()?
        .unwrap_or(1000);
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get());
    let cents = corpus::centroids(DIM);
    let mut rng = corpus::Rng::new(1);
    let data: Vec<Vec<f32>> =
        (0..n).map(|_| corpus::near(&cents[rng.below(cents.len())], &mut rng, SPREAD)).collect();
    let queries: Vec<Vec<f32>> =
        (0..nq).map(|_| corpus::near(&cents[rng.below(cents.len())], &mut rng, SPREAD)).collect();
    let truth: Vec<Vec<u64>> = queries
        .iter()
        .map(|q| {
            let mut s: Vec<(f32, u64)> =
                data.iter().enumerate().map(|(i, v)| (dot(q, v), i as u64)).collect();
            s.select_nth_unstable_by(K, |x, y| y.0.total_cmp(&x.0));
            s.truncate(K);
            s.into_iter().map(|x| x.1).collect()
        })
        .collect();
    println!(
        "bench-hnsw-kinds: {n} vectors, {DIM}-d, {nq} queries, M=16, efConstruction=128, {threads} threads"
    );
    println!(
        "{:<6} {:>9} {:>6} {:>8} {:>8} {:>8}",
        "kind", "build s", "ef", "recall", "p50 ms", "p95 ms"
    );
    for (name, kind) in [
        ("f32", ScalarKind::F32),
        ("f16", ScalarKind::F16),
        ("bf16", ScalarKind::BF16),
        ("i8", ScalarKind::I8),
    ] {
        let opts = IndexOptions {
            dimensions: DIM,
            metric: MetricKind::IP,
            quantization: kind,
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 64,
            multi: false,
        };
        let index = Index::new(&opts)?;
        index.reserve_capacity_and_threads(n, threads)?;
        let t = Instant::now();
        std::thread::scope(|s| {
            for part in 0..threads {
                let (index, data) = (&index, &data);
                s.spawn(move || {
                    for i in (part..n).step_by(threads) {
                        if let Err(e) = index.add(i as u64, &data[i]) {
                            eprintln!("add {i}: {e}");
                        }
                    }
                });
            }
        });
        let build = t.elapsed().as_secs_f64();
        for ef in [32, 48, 64, 96, 128, 192] {
            index.change_expansion_search(ef);
            let mut lat = Vec::with_capacity(nq);
            let mut hit = 0;
            for (q, want) in queries.iter().zip(&truth) {
                let t = Instant::now();
                let found = index.search(q, CANDIDATES)?;
                let mut ranked: Vec<(f32, u64)> =
                    found.keys.iter().map(|&k| (dot(q, &data[k as usize]), k)).collect();
                ranked.sort_unstable_by(|x, y| y.0.total_cmp(&x.0));
                ranked.truncate(K);
                lat.push(t.elapsed());
                hit += ranked.iter().filter(|(_, k)| want.contains(k)).count();
            }
            lat.sort_unstable();
            println!(
                "{name:<6} {build:>9.1} {ef:>6} {:>8.3} {:>8.2} {:>8.2}",
                hit as f64 / (nq * K) as f64,
                pct(&lat, 0.5),
                pct(&lat, 0.95)
            );
        }
    }
    Ok(())
}
