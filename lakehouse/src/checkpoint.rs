//! A durable checkpoint: the log offset below which every output is durable. Written atomically
//! (temp file, fsync, rename, fsync of the directory) so a crash leaves the old or the new value.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("checkpoint {path} holds {content:?}, not an offset")]
    Corrupt { path: PathBuf, content: String },
}

#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
}

impl Checkpoint {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Checkpoint { path: path.into() }
    }

    fn io(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io { path: self.path.clone(), source }
    }

    /// The committed offset; 0 when nothing was committed yet.
    pub fn load(&self) -> Result<u64, CheckpointError> {
        match fs::read_to_string(&self.path) {
            Ok(s) => s
                .trim()
                .parse()
                .map_err(|_| CheckpointError::Corrupt { path: self.path.clone(), content: s }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(self.io(e)),
        }
    }

    pub fn store(&self, offset: u64) -> Result<(), CheckpointError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        let tmp = self.path.with_extension("tmp");
        let mut f = fs::File::create(&tmp).map_err(|e| self.io(e))?;
        f.write_all(offset.to_string().as_bytes()).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| self.io(e))
    }
}
