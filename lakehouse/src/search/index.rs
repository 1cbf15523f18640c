//! The search index beside the Lance tables: a tantivy index of assets, one of transcript
//! segments, and the vector store. The catalog writer feeds it after each Lance write and
//! commits before acknowledging, so what the catalog shows is searchable at once. Each commit
//! is a numbered snapshot; recent snapshots are kept so `search_after` pages read one snapshot.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acervo_catalog::config::SearchConfig;
use acervo_catalog::{Asset, AssetId, EmbeddingRow, SegmentRow};
use futures::TryStreamExt;
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use super::SearchError;
use super::analysis::{self, Lang};
use super::facets::FacetCache;
use super::filters::FilterCache;
use super::idset::OrdSet;
use super::request::AssetSummary;
use super::schema::{AssetFields, SegmentFields, TEXT_FIELDS};
use super::vectors::{HnswParams, VectorStore};
use crate::tables::{Catalog, batch_to_assets, batch_to_embeddings, batch_to_segments};

/// Snapshots older than this are dropped (a cursor older than that reads the newest one).
const SNAPSHOT_TTL: Duration = Duration::from_secs(600);
const MAX_SNAPSHOTS: usize = 64;
/// Bumped when the document layout changes; a mismatch rebuilds the index from the tables.
const LAYOUT_VERSION: &str = "acervo-search-6";

/// One consistent view: both text indexes and the vector key bound, as of one commit.
#[derive(Clone)]
pub struct Snapshot {
    pub generation: u64,
    pub assets: Searcher,
    pub segments: Searcher,
    pub key_limit: u64,
    taken: Instant,
}

/// What one catalog write changes in the index.
#[derive(Default)]
pub struct IndexBatch {
    /// Assets as they now stand in the catalog (each replaces its previous document).
    pub assets: Vec<Asset>,
    /// Replaced transcript segments, per asset.
    pub segments: Vec<(AssetId, Vec<SegmentRow>)>,
    /// Replaced vectors, per asset, as the `embeddings` table named them.
    pub vectors: Vec<(AssetId, Vec<EmbeddingRow>)>,
}

pub(crate) struct TextIndex {
    pub(crate) index: Index,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
}

fn tantivy_err(what: &'static str) -> impl FnOnce(tantivy::TantivyError) -> SearchError {
    move |e| SearchError::Index(format!("{what}: {e}"))
}

impl TextIndex {
    fn open(
        dir: &Path,
        schema: tantivy::schema::Schema,
        heap: usize,
    ) -> Result<(TextIndex, bool), SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| SearchError::Io { path: dir.to_path_buf(), source })?;
        let marker = dir.join("LAYOUT");
        let layout_ok = std::fs::read_to_string(&marker).is_ok_and(|v| v.trim() == LAYOUT_VERSION);
        if !layout_ok {
            // Another layout (or none): start empty; the caller rebuilds from the tables.
            std::fs::remove_dir_all(dir)
                .map_err(|source| SearchError::Io { path: dir.to_path_buf(), source })?;
            std::fs::create_dir_all(dir)
                .map_err(|source| SearchError::Io { path: dir.to_path_buf(), source })?;
        }
        let mmap = MmapDirectory::open(dir)
            .map_err(|e| SearchError::Index(format!("opening {}: {e}", dir.display())))?;
        let index =
            Index::open_or_create(mmap, schema).map_err(tantivy_err("opening the text index"))?;
        analysis::register(index.tokenizers());
        // Indexing threads (each gets heap / threads); rebuilds use them all.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        let writer = index
            .writer_with_num_threads(threads, heap)
            .map_err(tantivy_err("opening the index writer"))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_err("opening a reader"))?;
        if !layout_ok {
            std::fs::write(&marker, LAYOUT_VERSION)
                .map_err(|source| SearchError::Io { path: marker.clone(), source })?;
        }
        Ok((TextIndex { index, writer: Mutex::new(writer), reader }, !layout_ok))
    }

    fn commit(&self) -> Result<(), SearchError> {
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .commit()
            .map_err(tantivy_err("committing the text index"))?;
        self.reader.reload().map_err(tantivy_err("reloading the text index"))
    }

    /// Merges every segment into one, dropping deleted documents (a purge's).
    fn merge_all(&self) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let ids = self.index.searchable_segment_ids().map_err(tantivy_err("listing segments"))?;
        if !ids.is_empty() {
            writer.merge(&ids).wait().map_err(tantivy_err("merging the text index"))?;
        }
        drop(writer);
        self.reader.reload().map_err(tantivy_err("reloading the text index"))
    }

    /// Removes the files neither the index nor a living searcher uses.
    fn collect_garbage(&self) -> Result<(), SearchError> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer
            .garbage_collect_files()
            .wait()
            .map_err(tantivy_err("removing unused index files"))?;
        Ok(())
    }
}

pub struct SearchIndex {
    pub(crate) fields: AssetFields,
    pub(crate) seg_fields: SegmentFields,
    pub(crate) assets: TextIndex,
    segments: TextIndex,
    vectors: Arc<VectorStore>,
    pub(crate) default_lang: Lang,
    generation: AtomicU64,
    snapshots: Mutex<VecDeque<Snapshot>>,
    /// Filter → ord set, for the newest snapshot (vector prefilters repeat a lot).
    pub(crate) ord_cache: Mutex<(u64, HashMap<String, Arc<OrdSet>>)>,
    pub(crate) facet_cache: FacetCache,
    pub(crate) filter_cache: FilterCache,
    pub(crate) parallel_from_docs: u64,
    merger: Mutex<Option<std::thread::JoinHandle<()>>>,
    dir: PathBuf,
    /// The assets of each committed write, as they now stand: what live views listen to.
    changes: tokio::sync::broadcast::Sender<Arc<Vec<Asset>>>,
}

/// Committed writes kept for a listener that falls behind (then it is told it lagged).
const CHANGES_KEPT: usize = 1024;

impl SearchIndex {
    /// Opens the index under `dir`, loads the vectors from the catalog, and rebuilds the text
    /// indexes from the catalog when they are new or of another layout.
    pub async fn open(
        dir: &Path,
        config: &SearchConfig,
        catalog: &Catalog,
    ) -> Result<Arc<SearchIndex>, SearchError> {
        let heap = config.writer_heap_mb.max(16) * 1024 * 1024;
        let fields = AssetFields::build();
        let seg_fields = SegmentFields::build();
        let (assets, fresh_a) = TextIndex::open(&dir.join("assets"), fields.schema.clone(), heap)?;
        let (segments, fresh_s) = TextIndex::open(
            &dir.join("segments"),
            seg_fields.schema.clone(),
            heap.min(64 * 1024 * 1024),
        )?;
        let params = HnswParams {
            connectivity: config.hnsw_connectivity,
            expansion_add: config.hnsw_expansion_add,
            expansion_search: config.hnsw_expansion_search,
            exact_below: config.exact_below,
        };
        let vectors =
            Arc::new(VectorStore::new(&dir.join("vectors"), catalog.embedding_dim(), params)?);
        let default_lang = Lang::parse(&config.default_language).ok_or_else(|| {
            SearchError::BadRequest(format!(
                "search.default_language {:?}: use es or en",
                config.default_language
            ))
        })?;
        let index = Arc::new(SearchIndex {
            fields,
            seg_fields,
            assets,
            segments,
            vectors,
            default_lang,
            generation: AtomicU64::new(0),
            snapshots: Mutex::new(VecDeque::new()),
            ord_cache: Mutex::new((u64::MAX, HashMap::new())),
            facet_cache: FacetCache::default(),
            filter_cache: FilterCache::default(),
            parallel_from_docs: config.parallel_from_docs,
            merger: Mutex::new(None),
            dir: dir.to_path_buf(),
            changes: tokio::sync::broadcast::channel(CHANGES_KEPT).0,
        });
        index.load_vectors(catalog).await?;
        let empty = index.assets.reader.searcher().num_docs() == 0;
        if fresh_a || fresh_s || empty {
            index.rebuild_text(catalog).await?;
        }
        index.snapshot();
        *index.merger.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(index.vectors.spawn_merger());
        Ok(index)
    }

    /// Segments of the asset text index in the newest snapshot.
    pub fn text_segments(&self) -> usize {
        self.snapshot_for(None).assets.segment_readers().len()
    }

    pub fn vectors(&self) -> &VectorStore {
        &self.vectors
    }

    async fn load_vectors(&self, catalog: &Catalog) -> Result<(), SearchError> {
        // Batch by batch: a million 512-d rows are 2 GB, and the store keeps its own copy.
        let mut n = 0;
        let mut stream = catalog.scan_table("embeddings").await?;
        while let Some(batch) = stream.try_next().await? {
            let rows = batch_to_embeddings(&batch).map_err(crate::tables::CatalogError::from)?;
            n += rows.len();
            self.vectors.load_rows(rows);
        }
        self.vectors.attach_graph()?;
        tracing::info!(vectors = n, tail = self.vectors.tail_len(), "vector index loaded");
        Ok(())
    }

    /// Re-reads every asset and segment from the catalog into empty text indexes.
    pub async fn rebuild_text(&self, catalog: &Catalog) -> Result<u64, SearchError> {
        let started = Instant::now();
        for t in [&self.assets, &self.segments] {
            t.writer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .delete_all_documents()
                .map_err(tantivy_err("clearing"))?;
        }
        let mut langs: HashMap<AssetId, Lang> = HashMap::new();
        let mut n = 0u64;
        let mut stream = catalog.scan_table("assets").await?;
        while let Some(batch) = stream.try_next().await? {
            let assets = batch_to_assets(&batch).map_err(crate::tables::CatalogError::from)?;
            n += assets.len() as u64;
            langs.extend(self.add_assets(&assets, false)?);
        }
        let mut stream = catalog.scan_table("segments").await?;
        while let Some(batch) = stream.try_next().await? {
            let rows = batch_to_segments(&batch).map_err(crate::tables::CatalogError::from)?;
            let writer = self.segments.writer.lock().unwrap_or_else(|p| p.into_inner());
            for r in &rows {
                let lang = langs.get(&r.asset_id).copied().unwrap_or(self.default_lang);
                writer
                    .add_document(self.segment_doc(r, lang))
                    .map_err(tantivy_err("indexing a segment"))?;
            }
        }
        self.assets.commit()?;
        self.segments.commit()?;
        tracing::info!(
            assets = n,
            seconds = started.elapsed().as_secs_f64(),
            "text index rebuilt from the catalog"
        );
        Ok(n)
    }

    /// Adds the documents of `assets`, built on every core (language detection and analysis
    /// dominate indexing); with `replace`, each asset's earlier document is deleted first.
    /// Returns each asset's language. `assets` holds one row per asset.
    fn add_assets(
        &self,
        assets: &[Asset],
        replace: bool,
    ) -> Result<Vec<(AssetId, Lang)>, SearchError> {
        let writer = self.assets.writer.lock().unwrap_or_else(|p| p.into_inner());
        let writer: &IndexWriter = &writer;
        if replace {
            // Deletes take effect on documents added before them: all of them go first.
            for a in assets {
                writer.delete_term(Term::from_field_text(self.fields.id, &a.id.to_string()));
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = assets.len().div_ceil(cores).max(1);
        let parts: Vec<Result<Vec<(AssetId, Lang)>, SearchError>> = std::thread::scope(|s| {
            let handles: Vec<_> = assets
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(part.len());
                        for a in part {
                            let lang = self.language_of(a);
                            writer
                                .add_document(self.asset_doc(a, lang)?)
                                .map_err(tantivy_err("indexing an asset"))?;
                            out.push((a.id, lang));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SearchError::Index("an indexing thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut langs = Vec::with_capacity(assets.len());
        for part in parts {
            langs.extend(part?);
        }
        Ok(langs)
    }

    pub fn language_of(&self, a: &Asset) -> Lang {
        let mut text = String::with_capacity(analysis::DETECT_SAMPLE + 64);
        for part in [&a.title, &a.description, &a.transcript_text] {
            if text.len() >= analysis::DETECT_SAMPLE {
                break;
            }
            text.push_str(part);
            text.push('\n');
        }
        analysis::detect(&text, self.default_lang)
    }

    fn asset_doc(&self, a: &Asset, lang: Lang) -> Result<TantivyDocument, SearchError> {
        let f = &self.fields;
        let mut d = TantivyDocument::new();
        d.add_text(f.id, a.id.to_string());
        let (hi, lo) = a.id.0.as_u64_pair();
        d.add_u64(f.id_hi, hi);
        d.add_u64(f.id_lo, lo);
        let summary = AssetSummary {
            id: a.id,
            title: a.title.clone(),
            description: a.description.clone(),
            tags: a.tags.clone(),
            labels: a.labels.clone(),
            kind: a.kind,
            status: a.status,
            project: a.project.clone(),
            editorial_status: a.editorial_status,
            collections: a.collections.clone(),
            created_at: a.created_at,
            duration_seconds: a.technical.as_ref().and_then(|t| t.duration_seconds),
            language: lang.code().into(),
        };
        let json = serde_json::to_vec(&summary)
            .map_err(|e| SearchError::Index(format!("encoding a summary: {e}")))?;
        d.add_bytes(f.summary, &json);
        d.add_text(f.kind, a.kind.as_str());
        d.add_text(f.status, a.status.as_str());
        d.add_text(f.project, &a.project);
        d.add_text(f.editorial_status, a.editorial_status.as_str());
        for c in &a.collections {
            d.add_text(f.collection, c);
        }
        let desc = &a.descriptive;
        for (field, value) in [
            (f.category, &desc.category),
            (f.source, &desc.source),
            (f.licence, &desc.licence),
            (f.language, &desc.language),
            (f.story, &desc.story),
        ] {
            if let Some(v) = value {
                d.add_text(field, v);
            }
        }
        for p in &desc.people {
            d.add_text(f.person, p);
        }
        if let Some(t) = desc.embargo_until {
            d.add_i64(f.embargo_ms, t.timestamp_millis());
        }
        if let Some(t) = desc.rights_expire_at {
            d.add_i64(f.rights_ms, t.timestamp_millis());
        }
        for t in &a.tags {
            d.add_text(f.tag, t);
        }
        for l in &a.labels {
            d.add_text(f.label, l);
        }
        d.add_i64(f.created_ms, a.created_at.timestamp_millis());
        if let Some(t) = a.technical.as_ref().and_then(|t| t.exif.as_ref()).and_then(|e| e.taken_at)
        {
            d.add_i64(f.taken_ms, t.and_utc().timestamp_millis());
        }
        if let Some(secs) = summary.duration_seconds {
            d.add_u64(f.duration_ms, (secs * 1000.0).round() as u64);
        }
        if let Some(ord) = self.vectors.ord_of(&a.id) {
            d.add_u64(f.vord, u64::from(ord));
        }
        let tags = a.tags.join("\n");
        let labels = a.labels.join("\n");
        let credits = [
            &desc.creator,
            &desc.credit,
            &desc.copyright,
            &desc.location,
            &desc.category,
            &desc.source,
            &desc.story,
            &desc.usage_terms,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .chain(desc.people.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n");
        let Some(field) = f.text_field(lang) else { return Ok(d) };
        for (base, weight) in TEXT_FIELDS {
            let text = match base {
                "title" => a.title.as_str(),
                "description" => a.description.as_str(),
                "tags" => tags.as_str(),
                "transcript" => a.transcript_text.as_str(),
                "ocr" => a.ocr_text.as_str(),
                "credits" => credits.as_str(),
                _ => labels.as_str(),
            };
            if !text.is_empty() {
                d.add_text(field, analysis::weighted(text, weight));
            }
        }
        Ok(d)
    }

    fn segment_doc(&self, r: &SegmentRow, lang: Lang) -> TantivyDocument {
        let f = &self.seg_fields;
        let mut d = TantivyDocument::new();
        d.add_text(f.asset_id, r.asset_id.to_string());
        d.add_u64(f.start_ms, r.start_ms);
        d.add_u64(f.end_ms, r.end_ms);
        if let Some((_, field)) = f.text.iter().find(|(l, _)| *l == lang) {
            d.add_text(*field, &r.text);
        }
        d
    }

    /// Applies one catalog write and commits, so it is searchable when this returns.
    pub fn apply(&self, batch: IndexBatch) -> Result<(), SearchError> {
        for (asset, rows) in batch.vectors {
            self.vectors.replace(asset, rows)?;
        }
        let langs: HashMap<AssetId, Lang> =
            self.add_assets(&batch.assets, true)?.into_iter().collect();
        let seg_changed = !batch.segments.is_empty();
        if seg_changed {
            let writer = self.segments.writer.lock().unwrap_or_else(|p| p.into_inner());
            for (asset, rows) in &batch.segments {
                writer.delete_term(Term::from_field_text(
                    self.seg_fields.asset_id,
                    &asset.to_string(),
                ));
                let lang = langs.get(asset).copied().unwrap_or(self.default_lang);
                for r in rows {
                    writer
                        .add_document(self.segment_doc(r, lang))
                        .map_err(tantivy_err("indexing a segment"))?;
                }
            }
        }
        if !batch.assets.is_empty() {
            self.assets.commit()?;
        }
        if seg_changed {
            self.segments.commit()?;
        }
        self.snapshot();
        if !batch.assets.is_empty() {
            // Nobody listening is not an error.
            let _ = self.changes.send(Arc::new(batch.assets));
        }
        Ok(())
    }

    /// The assets of every write committed from now on (searchable when received).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Vec<Asset>>> {
        self.changes.subscribe()
    }

    /// Records the current state as a new numbered snapshot.
    fn snapshot(&self) -> Snapshot {
        let snap = Snapshot {
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
            assets: self.assets.reader.searcher(),
            segments: self.segments.reader.searcher(),
            key_limit: self.vectors.key_limit(),
            taken: Instant::now(),
        };
        let mut snaps = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        snaps.push_back(snap.clone());
        while snaps.len() > MAX_SNAPSHOTS
            || snaps.front().is_some_and(|s| s.taken.elapsed() > SNAPSHOT_TTL && snaps.len() > 1)
        {
            snaps.pop_front();
        }
        // Facet columns of segments no kept snapshot reads (merged away) are dropped.
        let live: Vec<tantivy::index::SegmentId> = snaps
            .iter()
            .flat_map(|s| s.assets.segment_readers().iter().map(|r| r.segment_id()))
            .collect();
        self.facet_cache.retain(&live);
        self.filter_cache.retain(&live);
        snap
    }

    /// The snapshot a cursor was issued from, or the newest one.
    pub fn snapshot_for(&self, generation: Option<u64>) -> Snapshot {
        let snaps = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = generation
            && let Some(s) = snaps.iter().find(|s| s.generation == g)
        {
            return s.clone();
        }
        match snaps.back() {
            Some(s) => s.clone(),
            None => {
                drop(snaps);
                self.snapshot()
            }
        }
    }

    /// Moves every pending vector into the graph now (bulk loads; the merger does this in the
    /// background otherwise). Returns the vectors moved.
    pub fn build_vector_graph(&self, threads: usize) -> Result<usize, SearchError> {
        let mut n = 0;
        loop {
            let moved = self.vectors.merge_tail(100_000, threads)?;
            if moved == 0 {
                return Ok(n);
            }
            n += moved;
        }
    }

    /// After a purge: both text indexes merged down without their deleted documents, unused
    /// files removed, and the vector graph saved without the removed vectors.
    pub fn forget_deleted(&self) -> Result<(), SearchError> {
        self.assets.merge_all()?;
        self.segments.merge_all()?;
        // Older snapshots keep the merged-away segments alive: only the new one stays (a
        // cursor of an older page starts over on the newest data).
        self.snapshots.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.snapshot();
        self.assets.collect_garbage()?;
        self.segments.collect_garbage()?;
        self.vectors.save()
    }

    /// Stops the background merger and saves the vector graph.
    pub fn close(&self) -> Result<(), SearchError> {
        self.vectors.shutdown();
        if let Some(h) = self.merger.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
        self.vectors.save()
    }

    /// Bytes the index takes on disk (text indexes and the saved vector graph).
    pub fn disk_bytes(&self) -> u64 {
        crate::dir_bytes(&self.dir)
    }
}
