//! What a purge does to the tables: the purged assets' renditions and history rows go (their
//! tombstone row stays in `assets`), then every table is rewritten without its deleted rows and
//! its older versions are removed, so time travel finds nothing a purge removed.

use std::sync::{Arc, RwLock};

use acervo_catalog::AssetId;
use lance::Dataset;
use lance::dataset::optimize::{CompactionOptions, compact_files};

use super::catalog::{Catalog, CatalogError, lance_err};
use super::filter::quote;

/// What the rewrite removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Table versions removed.
    pub old_versions: u64,
    /// Bytes of data and manifest files removed.
    pub bytes: u64,
}

impl Catalog {
    /// Deletes the renditions and history rows of `ids`.
    pub async fn forget_rows(&self, ids: &[AssetId]) -> Result<(), CatalogError> {
        if ids.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = ids.iter().map(|id| quote(&id.to_string())).collect();
        let predicate = format!("asset_id IN ({})", list.join(", "));
        let _guard = self.write_lock.lock().await;
        for (slot, table) in [(&self.renditions, "renditions"), (&self.history, "history")] {
            let mut ds = (*Self::current(slot)).clone();
            ds.delete(&predicate).await.map_err(lance_err(table))?;
            Self::replace(slot, Arc::new(ds));
        }
        Ok(())
    }

    /// Rewrites every table's fragments that hold deleted rows and removes every version but
    /// the newest. The audit table is left alone: its rows hold no asset's text, it is never
    /// deleted from, and its chain is written by the trail's own handle.
    pub async fn compact_and_forget_versions(&self) -> Result<Forgotten, CatalogError> {
        let mut total = Forgotten::default();
        let tables: [(&RwLock<Arc<Dataset>>, &'static str); 6] = [
            (&self.assets, "assets"),
            (&self.renditions, "renditions"),
            (&self.segments, "segments"),
            (&self.embeddings, "embeddings"),
            (&self.frames, "frames"),
            (&self.history, "history"),
        ];
        for (slot, table) in tables {
            let _guard = self.write_lock.lock().await;
            let mut ds = (*Self::current(slot)).clone();
            let options = CompactionOptions {
                // Any deleted row is rewritten away, not only past the default 10 %.
                materialize_deletions_threshold: 0.0,
                ..CompactionOptions::default()
            };
            compact_files(&mut ds, options, None).await.map_err(lance_err(table))?;
            let stats = ds
                .cleanup_old_versions(chrono::Duration::zero(), None, None)
                .await
                .map_err(lance_err(table))?;
            total.old_versions += stats.old_versions;
            total.bytes += stats.bytes_removed;
            Self::replace(slot, Arc::new(ds));
        }
        Ok(total)
    }
}
