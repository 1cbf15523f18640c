//! The master store: masters stream in with constant memory, are hashed (SHA-256) while they
//! stream, and land at their content-addressed key only when complete and durable. A failed or
//! refused upload leaves nothing behind but a cleaned staging object.

use std::io::Write;
use std::path::PathBuf;

use acervo_catalog::AssetId;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::keys;
use crate::objects::Objects;

/// How much of the head of a master is kept for content sniffing.
pub const HEAD_BYTES: usize = 8192;
const CHUNK: usize = 8 << 20;
/// Size of the blocks handed to the disk writer.
const WRITE_BLOCK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    #[error("the upload is empty")]
    Empty,
    #[error("the upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("reading the upload failed after {received} bytes: {reason}")]
    Body { received: u64, reason: String },
    #[error("writing {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("object store, key {key}: {source}")]
    Store { key: String, source: object_store::Error },
}

impl acervo_catalog::Classify for MasterError {
    /// What the upload itself is (empty, too large, cut off) stays so; the store failing, or
    /// the disk under it, may pass. A missing object does not come back by retrying.
    fn kind(&self) -> acervo_catalog::ErrorKind {
        use acervo_catalog::ErrorKind::{Permanent, Transient};
        match self {
            MasterError::Empty | MasterError::TooLarge { .. } | MasterError::Body { .. } => {
                Permanent
            }
            MasterError::Store { source: object_store::Error::NotFound { .. }, .. } => Permanent,
            MasterError::Io { .. } | MasterError::Store { .. } => Transient,
        }
    }
}

/// A master that is stored, durable, at its content-addressed key.
#[derive(Debug, Clone)]
pub struct StoredMaster {
    pub key: String,
    pub sha256: String,
    pub size: u64,
    /// The first bytes of the file, for content sniffing.
    pub head: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct MasterStore {
    objects: Objects,
}

/// Hash, size and head of a stream as it goes by.
struct Tally {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    limit: u64,
}

impl Tally {
    fn new(limit: u64) -> Self {
        Tally { hasher: Sha256::new(), size: 0, head: Vec::with_capacity(HEAD_BYTES), limit }
    }
    fn feed(&mut self, chunk: &[u8]) -> Result<(), MasterError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(MasterError::TooLarge { limit: self.limit });
        }
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        Ok(())
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` to disk now, so the fsync that
/// makes the master durable finds little left to flush. Advisory: errors are ignored, and the
/// final fsync is what guarantees durability.
fn start_writeback(file: &std::fs::File, offset: i64, len: i64) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the lifetime of `file`; the call only schedules I/O.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

impl MasterStore {
    pub fn new(objects: Objects) -> Self {
        MasterStore { objects }
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// Streams `body` to staging, then moves it to `masters/{asset}/{sha256}/source.{ext}`.
    /// Returns only once the master is durable at its final key.
    pub async fn store<S, E>(
        &self,
        asset: AssetId,
        ext: &str,
        body: S,
        limit: u64,
    ) -> Result<StoredMaster, MasterError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let staging = keys::upload_staging(&asset.to_string());
        let result = match &self.objects.local_root {
            Some(root) => self.store_local(root.clone(), &staging, asset, ext, body, limit).await,
            None => self.store_remote(&staging, asset, ext, body, limit).await,
        };
        if result.is_err() {
            self.discard(&staging).await;
        }
        result
    }

    async fn discard(&self, key: &str) {
        if let Some(path) = self.objects.local_path(key) {
            let _ = tokio::fs::remove_file(path).await;
        } else {
            let _ = self.objects.store.delete(&ObjectPath::from(key)).await;
        }
    }

    /// Local disk: write the staging file, fsync it, rename it into place, fsync the directory.
    async fn store_local<S, E>(
        &self,
        root: PathBuf,
        staging: &str,
        asset: AssetId,
        ext: &str,
        mut body: S,
        limit: u64,
    ) -> Result<StoredMaster, MasterError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let staging_path = root.join(staging);
        let io = |key: &str| {
            let key = key.to_string();
            move |source| MasterError::Io { key, source }
        };
        if let Some(dir) = staging_path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io(staging))?;
        }
        let file = std::fs::File::create(&staging_path).map_err(io(staging))?;
        // Writes go to a dedicated thread in blocks of WRITE_BLOCK through a small bounded
        // channel: the request task hashes while the disk writes, memory stays bounded by the
        // channel depth, and the many small chunks of an HTTP body cost one hand-over per block.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(4);
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut file = file;
            let mut written = 0i64;
            for block in rx {
                file.write_all(&block)?;
                start_writeback(&file, written, block.len() as i64);
                written += block.len() as i64;
            }
            file.sync_all()
        });
        let mut tally = Tally::new(limit);
        let mut failure = None;
        let mut block = bytes::BytesMut::with_capacity(WRITE_BLOCK);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    failure =
                        Some(MasterError::Body { received: tally.size, reason: e.to_string() });
                    break;
                }
            };
            if let Err(e) = tally.feed(&chunk) {
                failure = Some(e);
                break;
            }
            block.extend_from_slice(&chunk);
            if block.len() >= WRITE_BLOCK && tx.send(block.split().freeze()).is_err() {
                break; // the writer failed; its error is reported below
            }
        }
        if failure.is_none() && !block.is_empty() {
            let _ = tx.send(block.freeze());
        }
        drop(tx);
        let written = writer.await.map_err(|e| MasterError::Io {
            key: staging.to_string(),
            source: std::io::Error::other(e),
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        written.map_err(io(staging))?;
        if tally.size == 0 {
            return Err(MasterError::Empty);
        }
        let sha256 = hex::encode(tally.hasher.finalize());
        let key = keys::master(asset, &sha256, ext);
        let final_path = root.join(&key);
        let dir = final_path.parent().map(PathBuf::from).unwrap_or_else(|| root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(io(&key))?;
        tokio::fs::rename(&staging_path, &final_path).await.map_err(io(&key))?;
        let sync_key = key.clone();
        tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
            .await
            .map_err(|e| MasterError::Io {
                key: sync_key.clone(),
                source: std::io::Error::other(e),
            })?
            .map_err(io(&sync_key))?;
        Ok(StoredMaster { key, sha256, size: tally.size, head: tally.head })
    }

    /// Object storage: a multipart upload to staging, then a server-side rename.
    async fn store_remote<S, E>(
        &self,
        staging: &str,
        asset: AssetId,
        ext: &str,
        mut body: S,
        limit: u64,
    ) -> Result<StoredMaster, MasterError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let store_err = |key: &str| {
            let key = key.to_string();
            move |source| MasterError::Store { key, source }
        };
        let staging_path = ObjectPath::from(staging);
        let upload =
            self.objects.store.put_multipart(&staging_path).await.map_err(store_err(staging))?;
        let mut write = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut tally = Tally::new(limit);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = write.abort().await;
                    return Err(MasterError::Body { received: tally.size, reason: e.to_string() });
                }
            };
            if let Err(e) = tally.feed(&chunk) {
                let _ = write.abort().await;
                return Err(e);
            }
            write.wait_for_capacity(4).await.map_err(store_err(staging))?;
            write.put(chunk);
        }
        if tally.size == 0 {
            let _ = write.abort().await;
            return Err(MasterError::Empty);
        }
        write.finish().await.map_err(store_err(staging))?;
        let sha256 = hex::encode(tally.hasher.finalize());
        let key = keys::master(asset, &sha256, ext);
        self.objects
            .store
            .rename(&staging_path, &ObjectPath::from(key.as_str()))
            .await
            .map_err(store_err(&key))?;
        Ok(StoredMaster { key, sha256, size: tally.size, head: tally.head })
    }

    /// Re-hashes a stored object; returns its SHA-256 and size.
    pub async fn rehash(&self, key: &str) -> Result<(String, u64), MasterError> {
        let store_err = |source| MasterError::Store { key: key.to_string(), source };
        let got = self.objects.store.get(&ObjectPath::from(key)).await.map_err(store_err)?;
        let mut stream = got.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(store_err)?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hex::encode(hasher.finalize()), size))
    }

    /// Writes a small derived object (a thumbnail) at `key`.
    pub async fn put_small(&self, key: &str, bytes: Vec<u8>) -> Result<(), MasterError> {
        self.objects
            .store
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|source| MasterError::Store { key: key.to_string(), source })
    }
}

impl MasterStore {
    /// The object at `key`, or `None` if there is none.
    pub async fn get_if_exists(&self, key: &str) -> Result<Option<Bytes>, MasterError> {
        let store_err = |source| MasterError::Store { key: key.to_string(), source };
        match self.objects.store.get(&ObjectPath::from(key)).await {
            Ok(got) => Ok(Some(got.bytes().await.map_err(store_err)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Streams the object at `key` into the local file `path`.
    pub async fn download_to(&self, key: &str, path: &std::path::Path) -> Result<(), MasterError> {
        use tokio::io::AsyncWriteExt;
        let store_err = |source| MasterError::Store { key: key.to_string(), source };
        let io = |source| MasterError::Io { key: key.to_string(), source };
        let got = self.objects.store.get(&ObjectPath::from(key)).await.map_err(store_err)?;
        let mut stream = got.into_stream();
        let mut file = tokio::fs::File::create(path).await.map_err(io)?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk.map_err(store_err)?).await.map_err(io)?;
        }
        file.flush().await.map_err(io)
    }
}

/// A stream of an object's bytes.
pub type ByteStream = futures::stream::BoxStream<'static, Result<Bytes, MasterError>>;

impl MasterStore {
    /// Removes the object at `key` (a master refused after it was stored).
    pub async fn delete(&self, key: &str) -> Result<(), MasterError> {
        self.objects
            .store
            .delete(&ObjectPath::from(key))
            .await
            .map_err(|source| MasterError::Store { key: key.to_string(), source })
    }

    /// Streams the object at `key`, or the bytes `range` of it.
    pub async fn read(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<ByteStream, MasterError> {
        let options =
            object_store::GetOptions { range: range.map(Into::into), ..Default::default() };
        let owned = key.to_string();
        let got = self
            .objects
            .store
            .get_opts(&ObjectPath::from(key), options)
            .await
            .map_err(|source| MasterError::Store { key: owned.clone(), source })?;
        Ok(got
            .into_stream()
            .map(move |r| r.map_err(|source| MasterError::Store { key: owned.clone(), source }))
            .boxed())
    }
}

impl MasterStore {
    /// Removes staging objects (`uploads/…`) left by uploads that never finished (a crash, a
    /// dropped connection) and are older than `age`. Returns how many were removed.
    pub async fn sweep_staging(&self, age: std::time::Duration) -> Result<usize, MasterError> {
        self.sweep_older("uploads", age).await
    }
}
