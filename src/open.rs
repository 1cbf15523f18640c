//! Opening the storage of a data directory: objects, masters, log and catalog.

use std::sync::Arc;

use acervo_catalog::AcervoConfig;
use acervo_lakehouse::{Catalog, MasterStore, Objects, SegmentLog};
use anyhow::Context;

pub fn masters(cfg: &AcervoConfig) -> anyhow::Result<MasterStore> {
    let objects = Objects::open(&cfg.objects_url(), &cfg.storage).context("object store")?;
    Ok(MasterStore::new(objects))
}

pub fn log(cfg: &AcervoConfig) -> anyhow::Result<Arc<SegmentLog>> {
    Ok(Arc::new(SegmentLog::open(cfg.log_dir()).context("event log")?))
}

/// The objects of an existing data directory, to read them.
pub fn existing_masters(cfg: &AcervoConfig) -> anyhow::Result<MasterStore> {
    let objects =
        Objects::open_existing(&cfg.objects_url(), &cfg.storage).context("object store")?;
    Ok(MasterStore::new(objects))
}

/// The catalog of an existing data directory, to read it (nothing is created or changed).
pub async fn existing_catalog(cfg: &AcervoConfig) -> anyhow::Result<Arc<Catalog>> {
    let catalog = Catalog::open_existing(cfg.catalog_dir(), cfg.search.embedding_dim)
        .await
        .context("catalog")?;
    Ok(Arc::new(catalog))
}

pub async fn catalog(cfg: &AcervoConfig) -> anyhow::Result<Arc<Catalog>> {
    Ok(Arc::new(
        Catalog::open(cfg.catalog_dir(), cfg.search.embedding_dim).await.context("catalog")?,
    ))
}
