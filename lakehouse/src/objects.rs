//! Opening the object store from a URL: `file:///dir` (the embedded default) or `s3://bucket`
//! (Ceph RGW or any S3, with endpoint and credentials from the configuration).

use std::path::PathBuf;
use std::sync::Arc;

use acervo_catalog::config::StorageConfig;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("unsupported object store URL {url:?}: expected file:///path or s3://bucket[/prefix]")]
    UnsupportedUrl { url: String },
    #[error("cannot create object store directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open object store {url}: {source}")]
    Open { url: String, source: object_store::Error },
    #[error("no object store at {path}")]
    Missing { path: PathBuf },
}

/// The object store plus, for local stores, the directory behind it (so media operators can
/// read masters in place instead of copying them).
#[derive(Clone, Debug)]
pub struct Objects {
    pub store: Arc<dyn ObjectStore>,
    pub local_root: Option<PathBuf>,
    pub url: String,
}

impl Objects {
    /// Opens the store at `url`, creating a local store's directory when it is missing.
    pub fn open(url: &str, cfg: &StorageConfig) -> Result<Objects, ObjectsError> {
        Self::open_with(url, cfg, true)
    }

    /// Opens an existing store to read it: a missing local directory is an error.
    pub fn open_existing(url: &str, cfg: &StorageConfig) -> Result<Objects, ObjectsError> {
        Self::open_with(url, cfg, false)
    }

    fn open_with(url: &str, cfg: &StorageConfig, create: bool) -> Result<Objects, ObjectsError> {
        if let Some(path) = url.strip_prefix("file://") {
            let root = PathBuf::from(path);
            if !create && !root.is_dir() {
                return Err(ObjectsError::Missing { path: root });
            }
            std::fs::create_dir_all(&root)
                .map_err(|source| ObjectsError::CreateDir { path: root.clone(), source })?;
            let fs = LocalFileSystem::new_with_prefix(&root)
                .map_err(|source| ObjectsError::Open { url: url.to_string(), source })?
                .with_automatic_cleanup(true);
            return Ok(Objects {
                store: Arc::new(fs),
                local_root: Some(root),
                url: url.to_string(),
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(ObjectsError::UnsupportedUrl { url: url.to_string() });
            }
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(&cfg.s3_region)
                .with_allow_http(cfg.s3_allow_http);
            if !cfg.s3_endpoint.is_empty() {
                // Ceph RGW and most S3-compatible servers want path-style requests.
                builder = builder
                    .with_endpoint(&cfg.s3_endpoint)
                    .with_virtual_hosted_style_request(false);
            }
            if !cfg.s3_access_key_id.is_empty() {
                builder = builder
                    .with_access_key_id(&cfg.s3_access_key_id)
                    .with_secret_access_key(cfg.s3_secret_access_key.expose());
            }
            let s3 = builder
                .build()
                .map_err(|source| ObjectsError::Open { url: url.to_string(), source })?;
            let store: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, ObjectPath::from(prefix.trim_matches('/'))))
            };
            return Ok(Objects { store, local_root: None, url: url.to_string() });
        }
        Err(ObjectsError::UnsupportedUrl { url: url.to_string() })
    }

    /// The local file behind a key, when the store is a local directory.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(key))
    }
}
