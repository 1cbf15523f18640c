//! The catalog handle: both Lance datasets, the single-writer lock, and index upkeep.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use acervo_catalog::schema::{ASSETS, AUDIT, FRAMES, HISTORY, RENDITIONS, SEGMENTS, embeddings};
use acervo_catalog::{Asset, AssetId, Classify, ErrorKind, ReadScope, Rendition};
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use datafusion::execution::context::{SQLOptions, SessionContext};
use futures::TryStreamExt;
use lance::Dataset;
use lance::datafusion::LanceTableProvider;
use lance::dataset::scanner::ColumnOrdering;
use lance::dataset::{
    MergeInsertBuilder, WhenMatched, WhenNotMatched, WhenNotMatchedBySource, WriteMode, WriteParams,
};

use super::asset_rows::{
    RowError, assets_to_batch, batch_to_assets, batch_to_renditions, renditions_to_batch,
};
use super::filter::{AssetFilter, quote};
use super::vector_keys::VectorKeys;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog table {table}: {source}")]
    Lance { table: &'static str, source: lance::Error },
    #[error("catalog rows: {0}")]
    Rows(#[from] RowError),
    #[error("SQL: {0}")]
    Sql(#[from] datafusion::error::DataFusionError),
    #[error("cannot create catalog directory {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("no catalog at {path} (is the data directory right?)")]
    Missing { path: PathBuf },
}

impl Classify for CatalogError {
    /// Reads and commits of the tables fail on storage: worth another try. Rows or SQL that do
    /// not fit, or a catalog that is not there, stay wrong.
    fn kind(&self) -> ErrorKind {
        match self {
            CatalogError::Lance { .. } | CatalogError::Dir { .. } => ErrorKind::Transient,
            CatalogError::Rows(_) | CatalogError::Sql(_) | CatalogError::Missing { .. } => {
                ErrorKind::Permanent
            }
        }
    }
}

pub(crate) fn lance_err(table: &'static str) -> impl FnOnce(lance::Error) -> CatalogError {
    move |source| CatalogError::Lance { table, source }
}

/// Where a master lives and what it should hash to (for `acervo verify`).
#[derive(Debug, Clone)]
pub struct MasterRef {
    pub id: AssetId,
    pub key: String,
    pub sha256: String,
    pub size: u64,
}

pub struct Catalog {
    dir: PathBuf,
    pub(crate) assets: RwLock<Arc<Dataset>>,
    pub(crate) renditions: RwLock<Arc<Dataset>>,
    pub(crate) segments: RwLock<Arc<Dataset>>,
    pub(crate) embeddings: RwLock<Arc<Dataset>>,
    pub(crate) frames: RwLock<Arc<Dataset>>,
    pub(crate) audit: RwLock<Arc<Dataset>>,
    /// The audit table has one writer of its own (the trail), apart from the dataflow's.
    pub(crate) audit_lock: tokio::sync::Mutex<()>,
    pub(crate) history: RwLock<Arc<Dataset>>,
    pub(crate) embedding_dim: usize,
    /// Lance commits from one process are serialised here: the dataflow is the only writer.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    /// The names the `embeddings` table gives its rows (minted under `write_lock`).
    pub(crate) vector_keys: std::sync::Mutex<VectorKeys>,
}

async fn open_or_create(
    uri: &str,
    schema: SchemaRef,
    table: &'static str,
) -> Result<Dataset, CatalogError> {
    match Dataset::open(uri).await {
        Ok(ds) => add_missing_columns(ds, &schema, table).await,
        Err(lance::Error::DatasetNotFound { .. }) => {
            let empty = RecordBatchIterator::new(
                Vec::<Result<RecordBatch, arrow_schema::ArrowError>>::new(),
                schema,
            );
            let params = WriteParams { mode: WriteMode::Create, ..Default::default() };
            Dataset::write(empty, uri, Some(params)).await.map_err(lance_err(table))
        }
        Err(e) => Err(lance_err(table)(e)),
    }
}

/// A table written by an older Acervo lacks the nullable columns added since: they are added
/// (all null, a metadata-only change), so old rows read as "nothing known" and new writes fit.
async fn add_missing_columns(
    mut ds: Dataset,
    schema: &SchemaRef,
    table: &'static str,
) -> Result<Dataset, CatalogError> {
    let have: arrow_schema::Schema = ds.schema().into();
    let missing: Vec<arrow_schema::Field> = schema
        .fields()
        .iter()
        .filter(|f| have.field_with_name(f.name()).is_err() && f.is_nullable())
        .map(|f| f.as_ref().clone())
        .collect();
    if !missing.is_empty() {
        tracing::info!(table, columns = ?missing.iter().map(|f| f.name()).collect::<Vec<_>>(), "adding new columns to an older table");
        let added = Arc::new(arrow_schema::Schema::new(missing));
        ds.add_columns(lance::dataset::NewColumnTransform::AllNulls(added), None, None)
            .await
            .map_err(lance_err(table))?;
    }
    Ok(ds)
}

impl Catalog {
    /// Opens (creating when missing) the tables under `dir`; `embedding_dim` is the width of
    /// the `embeddings` vectors.
    pub async fn open(
        dir: impl AsRef<Path>,
        embedding_dim: usize,
    ) -> Result<Catalog, CatalogError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|source| CatalogError::Dir { path: dir.clone(), source })?;
        let assets = open_or_create(&uri(&dir, "assets"), ASSETS.clone(), "assets").await?;
        let renditions =
            open_or_create(&uri(&dir, "renditions"), RENDITIONS.clone(), "renditions").await?;
        let segments = open_or_create(&uri(&dir, "segments"), SEGMENTS.clone(), "segments").await?;
        let embeddings =
            open_or_create(&uri(&dir, "embeddings"), embeddings(embedding_dim), "embeddings")
                .await?;
        let frames = open_or_create(&uri(&dir, "frames"), FRAMES.clone(), "frames").await?;
        let audit = open_or_create(&uri(&dir, "audit"), AUDIT.clone(), "audit").await?;
        let history = open_or_create(&uri(&dir, "history"), HISTORY.clone(), "history").await?;
        Self::with_tables(
            dir,
            [assets, renditions, segments, embeddings, frames, audit, history],
            embedding_dim,
        )
        .await
    }

    /// Opens the tables under `dir` to read them, changing nothing on disk (the CLI's queries):
    /// a missing catalog is an error, not a new empty one.
    pub async fn open_existing(
        dir: impl AsRef<Path>,
        embedding_dim: usize,
    ) -> Result<Catalog, CatalogError> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(CatalogError::Missing { path: dir });
        }
        let mut tables = Vec::new();
        for name in TABLES {
            match Dataset::open(&uri(&dir, name)).await {
                Ok(ds) => tables.push(ds),
                // Catalogs written before the history existed get an empty one: an empty table
                // changes no answer.
                Err(lance::Error::DatasetNotFound { .. }) if name == "history" => {
                    tables.push(open_or_create(&uri(&dir, name), HISTORY.clone(), "history").await?)
                }
                Err(lance::Error::DatasetNotFound { .. }) => {
                    return Err(CatalogError::Missing { path: dir.join(format!("{name}.lance")) });
                }
                Err(e) => return Err(lance_err(name)(e)),
            }
        }
        let tables: [Dataset; 7] =
            tables.try_into().map_err(|_| CatalogError::Missing { path: dir.clone() })?;
        Self::with_tables(dir, tables, embedding_dim).await
    }

    async fn with_tables(
        dir: PathBuf,
        [assets, renditions, segments, embeddings, frames, audit, history]: [Dataset; 7],
        embedding_dim: usize,
    ) -> Result<Catalog, CatalogError> {
        let vector_keys = stored_vector_keys(&embeddings).await?;
        Ok(Catalog {
            dir,
            assets: RwLock::new(Arc::new(assets)),
            renditions: RwLock::new(Arc::new(renditions)),
            segments: RwLock::new(Arc::new(segments)),
            embeddings: RwLock::new(Arc::new(embeddings)),
            frames: RwLock::new(Arc::new(frames)),
            audit: RwLock::new(Arc::new(audit)),
            audit_lock: tokio::sync::Mutex::new(()),
            history: RwLock::new(Arc::new(history)),
            embedding_dim,
            write_lock: tokio::sync::Mutex::new(()),
            vector_keys: std::sync::Mutex::new(vector_keys),
        })
    }

    pub fn embedding_dim(&self) -> usize {
        self.embedding_dim
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn assets_ds(&self) -> Arc<Dataset> {
        self.assets.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn renditions_ds(&self) -> Arc<Dataset> {
        self.renditions.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Picks up commits made by another process (a server writing while the CLI reads).
    pub async fn refresh(&self) -> Result<(), CatalogError> {
        for (name, slot) in self.tables() {
            let ds = Dataset::open(&uri(&self.dir, name)).await.map_err(lance_err(name))?;
            *slot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ds);
        }
        Ok(())
    }

    fn tables(&self) -> [(&'static str, &RwLock<Arc<Dataset>>); 7] {
        [
            ("assets", &self.assets),
            ("renditions", &self.renditions),
            ("segments", &self.segments),
            ("embeddings", &self.embeddings),
            ("frames", &self.frames),
            ("audit", &self.audit),
            ("history", &self.history),
        ]
    }

    pub(crate) fn current(slot: &RwLock<Arc<Dataset>>) -> Arc<Dataset> {
        slot.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn replace(slot: &RwLock<Arc<Dataset>>, ds: Arc<Dataset>) {
        *slot.write().unwrap_or_else(|p| p.into_inner()) = ds;
    }

    /// Inserts or replaces assets by id.
    pub async fn upsert_assets(&self, assets: &[Asset]) -> Result<(), CatalogError> {
        if assets.is_empty() {
            return Ok(());
        }
        let batch = assets_to_batch(assets)?;
        let _guard = self.write_lock.lock().await;
        let ds = upsert_on(self.assets_ds(), &["id"], batch, "assets").await?;
        *self.assets.write().unwrap_or_else(|p| p.into_inner()) = ds;
        Ok(())
    }

    /// Inserts or replaces renditions by (asset_id, profile).
    pub async fn upsert_renditions(&self, renditions: &[Rendition]) -> Result<(), CatalogError> {
        if renditions.is_empty() {
            return Ok(());
        }
        let batch = renditions_to_batch(renditions)?;
        let _guard = self.write_lock.lock().await;
        let ds =
            upsert_on(self.renditions_ds(), &["asset_id", "profile"], batch, "renditions").await?;
        *self.renditions.write().unwrap_or_else(|p| p.into_inner()) = ds;
        Ok(())
    }

    pub async fn get_assets(
        &self,
        ids: &[AssetId],
    ) -> Result<HashMap<AssetId, Asset>, CatalogError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = ids.iter().map(|id| quote(&id.to_string())).collect();
        let assets = self.scan_assets(&format!("id IN ({})", list.join(", ")), None, None).await?;
        Ok(assets.into_iter().map(|a| (a.id, a)).collect())
    }

    pub async fn get_asset(&self, id: AssetId) -> Result<Option<Asset>, CatalogError> {
        Ok(self.get_assets(&[id]).await?.remove(&id))
    }

    /// Assets matching `filter` within `scope`, newest first, with the total count.
    pub async fn list(
        &self,
        filter: &AssetFilter,
        scope: &ReadScope,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Asset>, usize), CatalogError> {
        let predicate = filter.to_sql(scope);
        let total = self
            .assets_ds()
            .count_rows(Some(predicate.clone()))
            .await
            .map_err(lance_err("assets"))?;
        let assets = self.scan_assets(&predicate, Some(limit), Some(offset)).await?;
        Ok((assets, total))
    }

    /// The assets owned by `from` become `to`'s; how many did. (Catalogs written before
    /// accounts existed name the built-in `local-admin` as owner.)
    pub async fn reassign_owner(&self, from: &str, to: &str) -> Result<usize, CatalogError> {
        let mut assets = self.scan_assets(&format!("owner = {}", quote(from)), None, None).await?;
        for a in &mut assets {
            a.owner = to.to_string();
        }
        if !assets.is_empty() {
            self.upsert_assets(&assets).await?;
        }
        Ok(assets.len())
    }

    /// How many assets (soft-deleted ones included) are in the collection `id`.
    pub async fn count_in_collection(&self, id: &str) -> Result<usize, CatalogError> {
        self.assets_ds()
            .count_rows(Some(format!("array_has(collections, {})", quote(id))))
            .await
            .map_err(lance_err("assets"))
    }

    /// A live asset in `project` whose master has this hash.
    pub async fn find_by_sha256(
        &self,
        sha256: &str,
        project: &str,
    ) -> Result<Option<Asset>, CatalogError> {
        let predicate = format!(
            "sha256 = {} AND project = {} AND status <> 'deleted'",
            quote(sha256),
            quote(project)
        );
        Ok(self.scan_assets(&predicate, Some(1), None).await?.into_iter().next())
    }

    async fn scan_assets(
        &self,
        predicate: &str,
        limit: Option<usize>,
        offset: Option<usize>,
    ) -> Result<Vec<Asset>, CatalogError> {
        let ds = self.assets_ds();
        let mut scan = ds.scan();
        scan.filter(predicate).map_err(lance_err("assets"))?;
        if limit.is_some() || offset.is_some() {
            scan.order_by(Some(vec![ColumnOrdering::desc_nulls_last("id".into())]))
                .map_err(lance_err("assets"))?;
            scan.limit(limit.map(|l| l as i64), offset.map(|o| o as i64))
                .map_err(lance_err("assets"))?;
        }
        rows(&scan, "assets", batch_to_assets).await
    }

    pub async fn renditions_of(&self, id: AssetId) -> Result<Vec<Rendition>, CatalogError> {
        let ds = self.renditions_ds();
        let mut scan = ds.scan();
        scan.filter(&format!("asset_id = {}", quote(&id.to_string())))
            .map_err(lance_err("renditions"))?;
        let mut out = rows(&scan, "renditions", batch_to_renditions).await?;
        out.sort_by(|a, b| a.profile.cmp(&b.profile));
        Ok(out)
    }

    /// Every master the catalog references, deleted ones included (they are retained).
    pub async fn masters(&self) -> Result<Vec<MasterRef>, CatalogError> {
        let assets = self.scan_assets("true", None, None).await?;
        Ok(assets
            .into_iter()
            .map(|a| MasterRef { id: a.id, key: a.master_key, sha256: a.sha256, size: a.size })
            .collect())
    }

    /// Every project some asset names, deleted ones included.
    pub async fn distinct_projects(&self) -> Result<Vec<String>, CatalogError> {
        let batches = self.sql("SELECT DISTINCT project FROM assets ORDER BY project").await?;
        let mut out = Vec::new();
        for b in &batches {
            // The column's string layout is DataFusion's choice (Utf8, Utf8View): cast to one.
            let strings = arrow::compute::cast(b.column(0), &arrow_schema::DataType::Utf8)
                .map_err(|e| CatalogError::Sql(e.into()))?;
            let strings = arrow_array::cast::AsArray::as_string::<i32>(strings.as_ref());
            out.extend(strings.iter().flatten().map(str::to_string));
        }
        Ok(out)
    }

    /// A DataFusion session with every catalog table registered.
    pub fn session(&self) -> Result<SessionContext, CatalogError> {
        let ctx = SessionContext::new();
        for (name, slot) in self.tables() {
            ctx.register_table(
                name,
                Arc::new(LanceTableProvider::new(Self::current(slot), false, false)),
            )?;
        }
        Ok(ctx)
    }

    /// Runs a read-only SQL query over the catalog.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>, CatalogError> {
        self.sql_with(query, |_| {}).await
    }

    /// Runs a read-only SQL query over the catalog, in a session `extend` may add functions
    /// to (the search index's `search()`).
    pub async fn sql_with(
        &self,
        query: &str,
        extend: impl FnOnce(&SessionContext),
    ) -> Result<Vec<RecordBatch>, CatalogError> {
        let ctx = self.session()?;
        extend(&ctx);
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = ctx.sql_with_options(query, options).await?;
        Ok(df.collect().await?)
    }
}

/// The catalog's tables, in the order `with_tables` takes them.
const TABLES: [&str; 7] =
    ["assets", "renditions", "segments", "embeddings", "frames", "audit", "history"];

/// The names the `embeddings` table holds (its ords and keys), read at open.
async fn stored_vector_keys(ds: &Dataset) -> Result<VectorKeys, CatalogError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{UInt32Type, UInt64Type};
    let mut keys = VectorKeys::default();
    let mut scan = ds.scan();
    scan.project(&["asset_id", "ord", "vkey"]).map_err(lance_err("embeddings"))?;
    let mut stream = scan.try_into_stream().await.map_err(lance_err("embeddings"))?;
    while let Some(b) = stream.try_next().await.map_err(lance_err("embeddings"))? {
        let missing = |c| CatalogError::Rows(RowError::MissingColumn(c));
        let ids = b.column(0).as_string_opt::<i32>().ok_or_else(|| missing("asset_id"))?;
        let ords = b.column(1).as_primitive_opt::<UInt32Type>().ok_or_else(|| missing("ord"))?;
        let vkeys = b.column(2).as_primitive_opt::<UInt64Type>().ok_or_else(|| missing("vkey"))?;
        for i in 0..b.num_rows() {
            let id = ids.value(i).parse().map_err(|e: uuid::Error| RowError::BadValue {
                row: i,
                column: "asset_id",
                reason: e.to_string(),
            })?;
            keys.saw(id, ords.value(i), vkeys.value(i));
        }
    }
    Ok(keys)
}

/// Runs a scan and converts every batch it yields.
pub(crate) async fn rows<T>(
    scan: &lance::dataset::scanner::Scanner,
    table: &'static str,
    convert: fn(&RecordBatch) -> Result<Vec<T>, RowError>,
) -> Result<Vec<T>, CatalogError> {
    let batches: Vec<RecordBatch> = scan
        .try_into_stream()
        .await
        .map_err(lance_err(table))?
        .try_collect()
        .await
        .map_err(lance_err(table))?;
    let mut out = Vec::new();
    for b in &batches {
        out.extend(convert(b)?);
    }
    Ok(out)
}

pub(crate) fn uri(dir: &Path, table: &str) -> String {
    dir.join(format!("{table}.lance")).to_string_lossy().into_owned()
}

async fn upsert_on(
    ds: Arc<Dataset>,
    keys: &[&str],
    batch: RecordBatch,
    table: &'static str,
) -> Result<Arc<Dataset>, CatalogError> {
    replace_on(ds, keys, batch, None, table).await
}

/// Merge-insert by `keys`; with `delete_if`, target rows that the batch does not match and
/// that satisfy the predicate are deleted in the same commit (replacing a set of rows).
pub(crate) async fn replace_on(
    ds: Arc<Dataset>,
    keys: &[&str],
    batch: RecordBatch,
    delete_if: Option<&str>,
    table: &'static str,
) -> Result<Arc<Dataset>, CatalogError> {
    let by_source = match delete_if {
        Some(predicate) => {
            WhenNotMatchedBySource::delete_if(&ds, predicate).map_err(lance_err(table))?
        }
        None => WhenNotMatchedBySource::Keep,
    };
    let mut builder = MergeInsertBuilder::try_new(ds, keys.iter().map(|k| k.to_string()).collect())
        .map_err(lance_err(table))?;
    // The builder's default for matched rows is to keep them: an upsert must replace them.
    builder
        .when_matched(WhenMatched::UpdateAll)
        .when_not_matched(WhenNotMatched::InsertAll)
        .when_not_matched_by_source(by_source);
    let job = builder.try_build().map_err(lance_err(table))?;
    let (ds, _stats) = job.execute_batches(vec![batch]).await.map_err(lance_err(table))?;
    Ok(ds)
}
