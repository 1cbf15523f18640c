//! Derived objects (renditions, on-demand outputs, job records): written from local files the
//! operators produced, each object whole or absent (local disk: staged and renamed; S3: a
//! multipart upload completes atomically), listed and removed by prefix.

use std::path::Path;

use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::masters::{MasterError, MasterStore};

const CHUNK: usize = 8 << 20;
/// Objects up to this size are written with one PUT.
const SINGLE_PUT_MAX: u64 = 32 << 20;

impl MasterStore {
    /// Uploads the local file `path` to `key`; returns its SHA-256 and size.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(String, u64), MasterError> {
        let io = |source| MasterError::Io { key: key.to_string(), source };
        let store_err = |source| MasterError::Store { key: key.to_string(), source };
        let mut file = tokio::fs::File::open(path).await.map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        if let Some(target) = self.objects().local_path(key) {
            // Copy beside the target, then rename: readers never see half a file.
            let parent = target.parent().map(Path::to_path_buf).unwrap_or_default();
            tokio::fs::create_dir_all(&parent).await.map_err(io)?;
            let tmp = parent.join(format!(".{}.partial", uuid::Uuid::now_v7()));
            let result = async {
                use tokio::io::AsyncWriteExt;
                let mut out = tokio::fs::File::create(&tmp).await?;
                loop {
                    let n = file.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    size += n as u64;
                    out.write_all(&buf[..n]).await?;
                }
                out.sync_all().await?;
                tokio::fs::rename(&tmp, &target).await
            }
            .await;
            if result.is_err() {
                let _ = tokio::fs::remove_file(&tmp).await;
            }
            result.map_err(io)?;
            return Ok((hex::encode(hasher.finalize()), size));
        }
        // Small objects (most renditions, HLS segments) go in one request; large ones in parts.
        let len = file.metadata().await.map_err(io)?.len();
        if len <= SINGLE_PUT_MAX {
            let mut bytes = Vec::with_capacity(len as usize);
            file.read_to_end(&mut bytes).await.map_err(io)?;
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let size = bytes.len() as u64;
            self.objects()
                .store
                .put(&ObjectPath::from(key), object_store::PutPayload::from(bytes))
                .await
                .map_err(store_err)?;
            return Ok((sha256, size));
        }
        let upload =
            self.objects().store.put_multipart(&ObjectPath::from(key)).await.map_err(store_err)?;
        let mut write = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        loop {
            let n = file.read(&mut buf).await.map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
            write.write(&buf[..n]);
        }
        write.finish().await.map_err(store_err)?;
        Ok((hex::encode(hasher.finalize()), size))
    }

    /// The size of the object at `key`, or `None` if there is none.
    pub async fn head(&self, key: &str) -> Result<Option<u64>, MasterError> {
        match self.objects().store.head(&ObjectPath::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(MasterError::Store { key: key.to_string(), source }),
        }
    }

    /// Every key under `prefix` (a folder, without the trailing slash).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, MasterError> {
        let mut listing = self.objects().store.list(Some(&ObjectPath::from(prefix)));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta =
                meta.map_err(|source| MasterError::Store { key: prefix.to_string(), source })?;
            keys.push(meta.location.to_string());
        }
        Ok(keys)
    }

    /// Removes objects under `prefix` written more than `age` ago (on-demand outputs past their
    /// expiry, as the seed's `ondemand/` lifecycle rule does on Ceph). Returns how many.
    pub async fn sweep_older(
        &self,
        prefix: &str,
        age: std::time::Duration,
    ) -> Result<usize, MasterError> {
        let store_err = |source| MasterError::Store { key: prefix.to_string(), source };
        let horizon = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or_default();
        let mut listing = self.objects().store.list(Some(&ObjectPath::from(prefix)));
        let mut stale = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(store_err)?;
            if meta.last_modified < horizon {
                stale.push(meta.location);
            }
        }
        for location in &stale {
            self.objects().store.delete(location).await.map_err(store_err)?;
        }
        Ok(stale.len())
    }
}
