//! The vector index: every asset and frame embedding, L2-normalised, in an HNSW graph
//! (usearch) plus a flat tail of vectors not yet in the graph. New vectors are searchable at
//! once through the tail; a background thread moves them into the graph, so no search ever
//! waits for a rebuild. The `embeddings` table is the durable copy; the graph is saved now and
//! then and reconciled with the table on open.
//!
//! Keys: `vkey` names one vector, `ord` one asset (dense, shared by its vectors); both are the
//! `embeddings` table's, which mints them, and this store maps them. Filters arrive as a bitset
//! over ords computed by the text index.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use acervo_catalog::{AssetId, EmbeddingRow};
use smallvec::SmallVec;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::SearchError;
use super::idset::OrdSet;
use super::kernels::{dot_f32, dot_i8, hamming, prefetch};

#[derive(Clone, Copy, Debug)]
pub struct HnswParams {
    pub connectivity: usize,
    pub expansion_add: usize,
    pub expansion_search: usize,
    /// Filters keeping fewer vectors than this (or than a quarter of all) are answered by a
    /// scan instead of the graph.
    pub exact_below: usize,
}

/// A filter keeping less than 1/SCAN_FRACTION of the vectors is answered by a scan of the
/// int8 codes: a graph search under a filter visits about 1/selectivity times more nodes
/// (measured at a million 512-d vectors: 75 ms at 3 % selectivity, against 2.5 ms unfiltered)
/// while the scan costs in proportion to what passes.
const SCAN_FRACTION: usize = 4;
/// A filter keeping at least this share of the assets is applied to the graph's results
/// rather than during the walk.
const BROAD_FILTER: f64 = 0.9;
/// The scan keeps this many candidates (at least) for exact re-ranking.
const SCAN_CANDIDATES: usize = 256;
/// The sign-bit stage keeps this many candidates (at least) for the int8 stage.
const SCAN_BITS_CANDIDATES: usize = 2000;
/// How many vectors ahead the scan asks for codes (measured best at 2 on this machine).
const SCAN_PREFETCH: usize = 2;
/// How far ahead the ords' key lists are prefetched (one cache line each).
const KEYS_PREFETCH: usize = 8;

/// The `keep` keys of `keys` with the highest `score(data(key))` (all of them when fewer).
/// The data of a filtered set lies scattered over the store: without asking for the next
/// vectors' data early, every one waits out a memory round trip (2.5x slower, measured).
fn top_by<'a, T: 'a>(
    keys: &[u64],
    keep: usize,
    data: impl Fn(u64) -> &'a [T],
    score: impl Fn(&[T]) -> i32,
) -> Vec<u64> {
    if keys.len() <= keep {
        return keys.to_vec();
    }
    let mut heap: BinaryHeap<Reverse<(i32, u64)>> = BinaryHeap::with_capacity(keep + 1);
    for (i, &key) in keys.iter().enumerate() {
        if let Some(&next) = keys.get(i + SCAN_PREFETCH) {
            prefetch(data(next));
        }
        let s = score(data(key));
        if heap.len() < keep {
            heap.push(Reverse((s, key)));
        } else if heap.peek().is_some_and(|w| s > w.0.0) {
            heap.pop();
            heap.push(Reverse((s, key)));
        }
    }
    heap.into_iter().map(|r| r.0.1).collect()
}

/// One bit per component: set when positive (for the Hamming first stage of filtered scans).
fn sign_bits(v: &[f32], out: &mut [u64]) {
    out.iter_mut().for_each(|w| *w = 0);
    for (i, x) in v.iter().enumerate() {
        if *x > 0.0
            && let Some(w) = out.get_mut(i / 64)
        {
            *w |= 1 << (i % 64);
        }
    }
}

/// One nearest asset: its best-matching vector's similarity, and the frame time when that
/// vector is a frame.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorHit {
    pub asset: AssetId,
    pub ord: u32,
    /// Cosine similarity in [-1, 1].
    pub similarity: f32,
    pub at_ms: Option<u64>,
}

#[derive(Clone, Copy)]
struct KeyInfo {
    ord: u32,
    at_ms: Option<u64>,
    alive: bool,
}

#[derive(Default)]
struct Inner {
    /// By vkey (keys are dense); dead keys keep their slot.
    keys: Vec<KeyInfo>,
    /// By vkey, `dim` values each: the exact vectors (for the tail, exact search and re-ranking).
    vectors: Vec<f32>,
    /// By vkey, `dim` each: the vectors as int8 codes (`code_scale`), for filtered scans.
    codes: Vec<i8>,
    /// By vkey, `dim / 64` words each: the vectors' sign bits, the scans' first stage.
    bits: Vec<u64>,
    asset_ord: HashMap<AssetId, u32>,
    ord_asset: Vec<AssetId>,
    /// Live keys of each ord: most assets have one vector, kept inline so a filtered scan
    /// reads this list front to back instead of chasing a pointer per asset.
    ord_keys: Vec<SmallVec<[u64; 1]>>,
    /// Live keys not yet in the graph.
    tail: Vec<u64>,
    /// One past the highest key loaded: searches of a snapshot ignore keys added after it.
    next_vkey: u64,
}

pub struct VectorStore {
    dim: usize,
    params: HnswParams,
    inner: RwLock<Inner>,
    /// Reserving capacity needs exclusive access; adds and searches share it.
    graph: RwLock<Index>,
    path: PathBuf,
    wake: Arc<(Mutex<bool>, Condvar)>,
    stop: AtomicBool,
    dirty: AtomicBool,
    /// One merge at a time: two mergers would race to add the same keys.
    merging: Mutex<()>,
}

/// How the graph stores its vectors. Its results are re-ranked with the exact f32 vectors, so
/// the graph only has to find the right neighbourhood: int8 does that with a quarter of f32's
/// memory traffic. Measured on 200k benchmark embeddings (bench-hnsw-kinds), against f16: 2.2x
/// faster to build, about 2x faster to search, recall@10 after re-ranking no lower (0.989 vs
/// 0.979 at efSearch 32); f16 had no fast kernel on this CPU.
const GRAPH_KIND: ScalarKind = ScalarKind::I8;

fn index_options(dim: usize, p: &HnswParams) -> IndexOptions {
    IndexOptions {
        dimensions: dim,
        metric: MetricKind::IP,
        quantization: GRAPH_KIND,
        connectivity: p.connectivity,
        expansion_add: p.expansion_add,
        expansion_search: p.expansion_search,
        multi: false,
    }
}

fn usearch_err<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> SearchError {
    move |e| SearchError::Vectors(format!("{what}: {e}"))
}

/// Scales `v` to unit length so inner product is cosine similarity.
pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The int8 scale for unit vectors of `dim` components: components of real embeddings spread
/// about 1/sqrt(dim), so 127 is put at 8 of those (rarer outliers clip); small widths, whose
/// components can reach 1, keep the whole range.
fn code_scale(dim: usize) -> f32 {
    (127.0 * (dim as f32).sqrt() / 8.0).min(127.0)
}

fn encode(v: &[f32], scale: f32, out: &mut [i8]) {
    for (o, x) in out.iter_mut().zip(v) {
        *o = (x * scale).round().clamp(-127.0, 127.0) as i8;
    }
}

/// Threads usearch may run searches and adds on at once.
const GRAPH_THREADS: usize = 64;

impl VectorStore {
    pub fn new(dir: &Path, dim: usize, params: HnswParams) -> Result<VectorStore, SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| SearchError::Io { path: dir.to_path_buf(), source })?;
        let graph = Index::new(&index_options(dim, &params))
            .map_err(usearch_err("creating the HNSW index"))?;
        graph
            .reserve_capacity_and_threads(1024, GRAPH_THREADS)
            .map_err(usearch_err("reserving"))?;
        Ok(VectorStore {
            dim,
            params,
            inner: RwLock::new(Inner::default()),
            graph: RwLock::new(graph),
            path: dir.join("vectors.usearch"),
            wake: Arc::new((Mutex::new(false), Condvar::new())),
            stop: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
            merging: Mutex::new(()),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds rows read from the `embeddings` table at open (call per batch, then `attach_graph`).
    pub fn load_rows(&self, rows: Vec<EmbeddingRow>) {
        let mut inner = self.write();
        for row in rows {
            insert_row(&mut inner, self.dim, row);
        }
    }

    /// Reuses the saved graph for the keys it holds; every other loaded vector goes to the tail.
    pub fn attach_graph(&self) -> Result<(), SearchError> {
        let fresh = || {
            Index::new(&index_options(self.dim, &self.params))
                .map_err(usearch_err("creating the HNSW index"))
        };
        let mut graph = fresh()?;
        if self.path.exists() {
            match graph.load(&self.path.to_string_lossy()) {
                Ok(()) if graph.dimensions() == self.dim && graph.scalar_kind() == GRAPH_KIND => {}
                Ok(()) => {
                    tracing::warn!(path = %self.path.display(), "saved vector graph has another width or scalar kind; rebuilding it");
                    graph = fresh()?;
                }
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "saved vector graph unreadable; rebuilding it");
                    graph = fresh()?;
                }
            }
        }
        graph.change_expansion_search(self.params.expansion_search);
        let mut inner = self.write();
        let cap = (graph.size() + inner.keys.len()).max(1024);
        graph.reserve_capacity_and_threads(cap, GRAPH_THREADS).map_err(usearch_err("reserving"))?;
        // Saved keys that are no longer live are removed; saved keys past the table's last one
        // are overwritten when `merge_tail` adds a new vector under them.
        let mut tail = Vec::new();
        for key in 0..inner.keys.len() as u64 {
            let alive = inner.keys[key as usize].alive;
            let present = graph.contains(key);
            if alive && !present {
                tail.push(key);
            } else if !alive && present {
                graph.remove(key).map_err(usearch_err("removing a stale vector"))?;
            }
        }
        inner.tail = tail;
        *self.graph.write().unwrap_or_else(|p| p.into_inner()) = graph;
        drop(inner);
        self.kick();
        Ok(())
    }

    /// The ord of `asset`, when it has vectors.
    pub fn ord_of(&self, asset: &AssetId) -> Option<u32> {
        self.read().asset_ord.get(asset).copied()
    }

    /// Replaces the vectors of `asset` (rows as written to the table; empty removes them).
    pub fn replace(&self, asset: AssetId, rows: Vec<EmbeddingRow>) -> Result<(), SearchError> {
        let old: SmallVec<[u64; 1]> = {
            let mut inner = self.write();
            let old = match inner.asset_ord.get(&asset) {
                Some(&ord) => std::mem::take(&mut inner.ord_keys[ord as usize]),
                None => SmallVec::new(),
            };
            for &k in &old {
                if let Some(info) = inner.keys.get_mut(k as usize) {
                    info.alive = false;
                }
            }
            if !old.is_empty() {
                inner.tail.retain(|k| !old.contains(k));
            }
            for row in rows {
                insert_row(&mut inner, self.dim, row);
            }
            old
        };
        let graph = self.graph.read().unwrap_or_else(|p| p.into_inner());
        for k in old {
            if graph.contains(k) {
                graph.remove(k).map_err(usearch_err("removing a replaced vector"))?;
            }
        }
        drop(graph);
        self.dirty.store(true, Ordering::Relaxed);
        self.kick();
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.read().keys.iter().filter(|k| k.alive).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vectors waiting to enter the graph.
    pub fn tail_len(&self) -> usize {
        self.read().tail.len()
    }

    /// Keys below this existed when it was read (a snapshot's bound for stable paging).
    pub fn key_limit(&self) -> u64 {
        self.read().next_vkey
    }

    fn kick(&self) {
        let (lock, cv) = &*self.wake;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_one();
    }

    /// Moves up to `max` tail vectors into the graph using `threads` threads; returns how many.
    pub fn merge_tail(&self, max: usize, threads: usize) -> Result<usize, SearchError> {
        let _one = self.merging.lock().unwrap_or_else(|p| p.into_inner());
        let batch: Vec<(u64, Vec<f32>)> = {
            let inner = self.read();
            inner
                .tail
                .iter()
                .take(max)
                .map(|&k| {
                    (k, inner.vectors[k as usize * self.dim..(k as usize + 1) * self.dim].to_vec())
                })
                .collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        {
            let graph = self.graph.write().unwrap_or_else(|p| p.into_inner());
            let need = graph.size() + batch.len();
            if need > graph.capacity() {
                graph
                    .reserve_capacity_and_threads(need.max(graph.capacity() * 2), GRAPH_THREADS)
                    .map_err(usearch_err("reserving"))?;
            }
        }
        let graph = self.graph.read().unwrap_or_else(|p| p.into_inner());
        let failed = Mutex::new(None);
        let chunk = batch.len().div_ceil(threads.max(1));
        std::thread::scope(|s| {
            for part in batch.chunks(chunk) {
                let (graph, failed) = (&*graph, &failed);
                s.spawn(move || {
                    for (k, v) in part {
                        // A tail key is never in the graph with its current vector: whatever
                        // the graph holds under it is stale (a saved graph ahead of the table).
                        if graph.contains(*k)
                            && let Err(e) = graph.remove(*k)
                        {
                            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                            return;
                        }
                        if let Err(e) = graph.add(*k, v) {
                            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                            return;
                        }
                    }
                });
            }
        });
        drop(graph);
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(SearchError::Vectors(format!("adding to the HNSW graph: {e}")));
        }
        let moved: std::collections::HashSet<u64> = batch.iter().map(|(k, _)| *k).collect();
        let mut inner = self.write();
        inner.tail.retain(|k| !moved.contains(k));
        // A vector replaced while it was being added is dead: take it back out.
        let dead: Vec<u64> =
            moved.iter().copied().filter(|k| !inner.keys[*k as usize].alive).collect();
        drop(inner);
        let graph = self.graph.read().unwrap_or_else(|p| p.into_inner());
        for k in dead {
            graph.remove(k).map_err(usearch_err("removing a replaced vector"))?;
        }
        self.dirty.store(true, Ordering::Relaxed);
        Ok(batch.len())
    }

    /// Saves the graph (atomically: temporary file, then rename).
    pub fn save(&self) -> Result<(), SearchError> {
        if !self.dirty.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let tmp = self.path.with_extension("usearch.tmp");
        self.graph
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .save(&tmp.to_string_lossy())
            .map_err(usearch_err("saving the HNSW graph"))?;
        std::fs::rename(&tmp, &self.path)
            .map_err(|source| SearchError::Io { path: self.path.clone(), source })
    }

    /// Runs the background merger until `shutdown`: tail vectors enter the graph in batches,
    /// and the graph is saved when a merge round leaves the tail empty.
    pub fn spawn_merger(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let store = self.clone();
        std::thread::Builder::new()
            .name("acervo-hnsw".into())
            .spawn(move || {
                lower_priority();
                while !store.stop.load(Ordering::Relaxed) {
                    match store.merge_tail(4096, 1) {
                        Ok(0) => {
                            if let Err(e) = store.save() {
                                tracing::warn!(error = %e, "saving the vector graph failed");
                            }
                            let (lock, cv) = &*store.wake;
                            let mut woken = lock.lock().unwrap_or_else(|p| p.into_inner());
                            if !*woken {
                                woken = cv
                                    .wait_timeout(woken, std::time::Duration::from_secs(1))
                                    .unwrap_or_else(|p| p.into_inner())
                                    .0;
                            }
                            *woken = false;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "moving vectors into the graph failed");
                            std::thread::sleep(std::time::Duration::from_secs(1));
                        }
                    }
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the vector merger thread: {e}"))
    }

    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.kick();
    }

    /// The `k` nearest assets to `query` (normalised here) among `allowed` ords, with keys
    /// below `key_limit`. Exact when the filter is narrow; graph + tail otherwise, re-ranked
    /// with the exact vectors.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: &OrdSet,
        key_limit: u64,
    ) -> Result<Vec<VectorHit>, SearchError> {
        if query.len() != self.dim {
            return Err(SearchError::BadRequest(format!(
                "query vector has {} dimensions; this catalog uses {}",
                query.len(),
                self.dim
            )));
        }
        let mut q = query.to_vec();
        normalise(&mut q);
        let inner = self.read();
        let admit = |key: u64| -> bool {
            key < key_limit
                && inner.keys.get(key as usize).is_some_and(|i| i.alive && allowed.contains(i.ord))
        };
        let mut candidates: Vec<u64> = Vec::new();
        let live = inner.ord_keys.len().max(1);
        if allowed.len() < self.params.exact_below || allowed.len() * SCAN_FRACTION < live {
            // A narrow filter: every vector that passes is scored by its sign bits (one cache
            // line each), the best of those by their int8 codes, and the best of those exactly
            // below. With few vectors passing, every one reaches the exact stage.
            // The passing ords are sparse in a large array: their key lists are prefetched a
            // few ahead (reading them one miss at a time was a sixth of a hybrid search).
            let ords: Vec<u32> = allowed.iter().collect();
            let mut keys: Vec<u64> = Vec::with_capacity(ords.len());
            for (i, &ord) in ords.iter().enumerate() {
                if let Some(ahead) =
                    ords.get(i + KEYS_PREFETCH).and_then(|&o| inner.ord_keys.get(o as usize))
                {
                    prefetch(std::slice::from_ref(ahead));
                }
                if let Some(list) = inner.ord_keys.get(ord as usize) {
                    // Listed keys are live; only the snapshot bound is left to check.
                    keys.extend(list.iter().copied().filter(|k| *k < key_limit));
                }
            }
            let words = self.dim.div_ceil(64);
            let mut qbits = vec![0u64; words];
            sign_bits(&q, &mut qbits);
            let by_bits = top_by(
                &keys,
                (k * 20).max(SCAN_BITS_CANDIDATES),
                |key| &inner.bits[key as usize * words..(key as usize + 1) * words],
                |code| -(hamming(&qbits, code) as i32),
            );
            let mut qc = vec![0i8; self.dim];
            encode(&q, code_scale(self.dim), &mut qc);
            let by_codes = top_by(
                &by_bits,
                (k * 4).max(SCAN_CANDIDATES),
                |key| &inner.codes[key as usize * self.dim..(key as usize + 1) * self.dim],
                |code| dot_i8(&qc, code),
            );
            candidates.extend(by_codes);
        } else {
            // Frames share an asset: ask for more vectors than assets wanted.
            let want = (k * 4).max(40);
            let graph = self.graph.read().unwrap_or_else(|p| p.into_inner());
            if graph.size() > 0 {
                // A filter letting (nearly) everything through is checked on the results: the
                // predicate on every visited node costs two scattered reads each, half of an
                // unfiltered search's time (measured). Too few left: the filtered walk.
                let share = allowed.len() as f64 / live as f64;
                let mut found: Vec<u64> = Vec::new();
                if share >= BROAD_FILTER {
                    let more = ((want as f64 / share) * 1.1).ceil() as usize + 8;
                    let hits =
                        graph.search(&q, more).map_err(usearch_err("searching the HNSW graph"))?;
                    found = hits.keys.into_iter().filter(|k| admit(*k)).collect();
                }
                if found.len() < want.min(graph.size()) {
                    found = graph
                        .filtered_search(&q, want, admit)
                        .map_err(usearch_err("searching the HNSW graph"))?
                        .keys;
                }
                candidates.extend(found);
            }
            candidates.extend(inner.tail.iter().copied().filter(|k| admit(*k)));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: HashMap<u32, (f32, Option<u64>)> = HashMap::new();
        for key in candidates {
            let info = inner.keys[key as usize];
            let v = &inner.vectors[key as usize * self.dim..(key as usize + 1) * self.dim];
            let sim = dot_f32(&q, v);
            let e = best.entry(info.ord).or_insert((f32::NEG_INFINITY, None));
            if sim > e.0 {
                *e = (sim, info.at_ms);
            }
        }
        let mut hits: Vec<VectorHit> = best
            .into_iter()
            .map(|(ord, (similarity, at_ms))| VectorHit {
                asset: inner.ord_asset[ord as usize],
                ord,
                similarity,
                at_ms,
            })
            .collect();
        hits.sort_by(|a, b| {
            b.similarity.total_cmp(&a.similarity).then_with(|| b.asset.cmp(&a.asset))
        });
        hits.truncate(k);
        Ok(hits)
    }
}

fn insert_row(inner: &mut Inner, dim: usize, mut row: EmbeddingRow) {
    if row.vector.len() != dim {
        tracing::warn!(asset = %row.asset_id, got = row.vector.len(), dim, "embedding of the wrong width skipped");
        return;
    }
    normalise(&mut row.vector);
    // Ords come from the table; keep the mapping consistent with it.
    while inner.ord_asset.len() <= row.ord as usize {
        inner.ord_asset.push(row.asset_id);
        inner.ord_keys.push(SmallVec::new());
    }
    inner.ord_asset[row.ord as usize] = row.asset_id;
    inner.asset_ord.insert(row.asset_id, row.ord);
    let key = row.vkey as usize;
    if inner.keys.len() <= key {
        inner.keys.resize(key + 1, KeyInfo { ord: 0, at_ms: None, alive: false });
        inner.vectors.resize((key + 1) * dim, 0.0);
        inner.codes.resize((key + 1) * dim, 0);
        inner.bits.resize((key + 1) * dim.div_ceil(64), 0);
    }
    inner.keys[key] = KeyInfo { ord: row.ord, at_ms: row.at_ms, alive: true };
    inner.vectors[key * dim..(key + 1) * dim].copy_from_slice(&row.vector);
    encode(&row.vector, code_scale(dim), &mut inner.codes[key * dim..(key + 1) * dim]);
    let words = dim.div_ceil(64);
    sign_bits(&row.vector, &mut inner.bits[key * words..(key + 1) * words]);
    inner.ord_keys[row.ord as usize].push(row.vkey);
    inner.tail.push(row.vkey);
    inner.next_vkey = inner.next_vkey.max(row.vkey + 1);
}

/// Graph building is background work: on a busy machine it yields the cores to ingest and
/// queries (the tail stays searchable by scan meanwhile). Linux nice applies per thread.
fn lower_priority() {
    // SAFETY: plain system calls on the calling thread, no memory handed over.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19) };
    if rc != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "could not lower the vector merger's priority");
    }
}
