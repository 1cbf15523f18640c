//! Acervo's configuration: one typed struct. Defaults are embedded (`DEFAULTS_TOML`); the binary
//! layers a config file and `ACERVO_*` variables over them (`ACERVO_STORAGE__URL` sets
//! `storage.url`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The embedded defaults, the first layer of every configuration.
pub const DEFAULTS_TOML: &str = r#"
home = "./acervo-data"
addr = "127.0.0.1:8080"
retention_days = 30

[storage]
# Empty: objects live under {home}/objects. Otherwise file:///path or s3://bucket[/prefix].
url = ""
s3_endpoint = ""
s3_region = "us-east-1"
s3_access_key_id = ""
s3_secret_access_key = ""
s3_allow_http = false

[dataflow]
# Timely worker threads; 0 means one per core.
workers = 1
# Threads of the bounded blocking pool that runs probes and thumbnails; 0 means one per core.
media_threads = 0
# Jobs waiting for a media thread before the dataflow stops taking more from the log.
media_queue = 64
# Largest batch of log records the source hands the dataflow at once.
batch_records = 1024

[search]
# Width of asset and frame embeddings (512 fits CLIP ViT-B/32).
embedding_dim = 512
# HNSW graph degree and candidate-list sizes (build, query); recall@10 >= 0.95 measured with these.
hnsw_connectivity = 16
hnsw_expansion_add = 128
hnsw_expansion_search = 192
# Filters that keep fewer vectors than this (or than a quarter of all) are answered by scanning
# int8 codes and re-ranking the best exactly, instead of through the graph.
exact_below = 20000
# Indexes of at least this many assets are searched with their segments split over the cores.
parallel_from_docs = 200000
# Language of text too short or mixed to tell (es or en).
default_language = "es"
# Memory for the text index writer.
writer_heap_mb = 256

[limits]
max_upload_bytes = 1099511627776
# Images larger than this are refused by the operators (decompression bombs).
max_image_pixels = 268435456
"#;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AcervoConfig {
    pub home: PathBuf,
    pub addr: String,
    /// Days a soft-deleted asset's master is kept before it may be purged.
    pub retention_days: u32,
    pub storage: StorageConfig,
    pub dataflow: DataflowConfig,
    pub limits: LimitsConfig,
    pub search: SearchConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchConfig {
    pub embedding_dim: usize,
    pub hnsw_connectivity: usize,
    pub hnsw_expansion_add: usize,
    pub hnsw_expansion_search: usize,
    pub exact_below: usize,
    pub parallel_from_docs: u64,
    pub default_language: String,
    pub writer_heap_mb: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StorageConfig {
    pub url: String,
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
    pub s3_allow_http: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataflowConfig {
    pub workers: usize,
    pub media_threads: usize,
    pub media_queue: usize,
    pub batch_records: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimitsConfig {
    pub max_upload_bytes: u64,
    pub max_image_pixels: u64,
}

impl AcervoConfig {
    /// The embedded defaults alone (programs that take no config file: benchmarks, tools).
    pub fn defaults() -> AcervoConfig {
        // DEFAULTS_TOML is a constant of this crate; the binary parses it at every start.
        toml::from_str(DEFAULTS_TOML).unwrap_or_else(|e| panic!("embedded defaults do not parse: {e}"))
    }

    pub fn objects_url(&self) -> String {
        if self.storage.url.is_empty() {
            format!("file://{}", self.home.join("objects").display())
        } else {
            self.storage.url.clone()
        }
    }
    pub fn log_dir(&self) -> PathBuf {
        self.home.join("log")
    }
    pub fn catalog_dir(&self) -> PathBuf {
        self.home.join("catalog")
    }
    pub fn search_dir(&self) -> PathBuf {
        self.home.join("search")
    }
    pub fn checkpoint_path(&self) -> PathBuf {
        self.home.join("checkpoints").join("catalog.offset")
    }
}
