//! A local copy of an asset's master for the operators, which read files: the stored file itself
//! on a local store, a temporary download otherwise (removed when the last stage using it is
//! done with it).

use std::path::{Path, PathBuf};

use acervo_catalog::Stage as StageName;
use acervo_lakehouse::{MasterError, keys};

use crate::context::StageContext;
use crate::stage::StageError;

#[derive(Debug)]
pub enum LocalMaster {
    InPlace(PathBuf),
    Downloaded(tempfile::TempPath),
}

impl LocalMaster {
    pub fn path(&self) -> &Path {
        match self {
            LocalMaster::InPlace(p) => p,
            LocalMaster::Downloaded(p) => p,
        }
    }
}

/// The master at `key`, readable as a local file; failures are `stage`'s.
pub fn fetch_master(
    ctx: &StageContext,
    stage: StageName,
    key: &str,
) -> Result<LocalMaster, StageError> {
    if let Some(path) = ctx.masters.objects().local_path(key) {
        return Ok(LocalMaster::InPlace(path));
    }
    let ext = keys::extension_of(key);
    let suffix = if ext.is_empty() { String::new() } else { format!(".{ext}") };
    let tmp = tempfile::Builder::new()
        .prefix("acervo-master-")
        .suffix(&suffix)
        .tempfile()
        .map_err(|e| {
            StageError::transient(stage, format!("cannot make room for a copy of the master: {e}"))
        })?
        .into_temp_path();
    ctx.runtime.block_on(ctx.masters.download_to(key, &tmp)).map_err(|e: MasterError| {
        StageError::from_error(stage, format!("reading the master: {e}"), e)
    })?;
    Ok(LocalMaster::Downloaded(tmp))
}
