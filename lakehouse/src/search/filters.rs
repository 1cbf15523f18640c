//! Filter bitsets: the documents of one segment a filter lets through, computed once and cached
//! per (segment, filter), as Lucene's query cache does. A search then runs its text query alone
//! (a plain term intersection, pruned with block-max) and checks the filter per candidate in
//! O(1), instead of intersecting the text postings with the filter's at every document:
//! hybrid search with a project and kind filter spent most of its time there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::SegmentReader;
use tantivy::index::SegmentId;
use tantivy::query::Weight;

use super::SearchError;
use super::idset::OrdSet;

/// Filters kept per segment before the oldest are forgotten.
const PER_SEGMENT: usize = 128;

/// One segment's filters: key → bits, and the order keys arrived in (oldest dropped first).
type SegmentFilters = (HashMap<String, Arc<OrdSet>>, Vec<String>);

#[derive(Default)]
pub struct FilterCache {
    segments: Mutex<HashMap<SegmentId, SegmentFilters>>,
}

impl FilterCache {
    /// The bits of `key` (a canonical description of the filter) for `seg`, from `weight`
    /// (the filter's query) when not cached yet.
    pub fn get(
        &self,
        seg: &SegmentReader,
        key: &str,
        weight: &dyn Weight,
    ) -> Result<Arc<OrdSet>, SearchError> {
        let id = seg.segment_id();
        if let Some((map, _)) = self.segments.lock().unwrap_or_else(|p| p.into_inner()).get(&id)
            && let Some(bits) = map.get(key)
        {
            return Ok(bits.clone());
        }
        // The documents that pass (deletions are checked by the caller, per snapshot).
        let mut set = OrdSet::with_capacity(seg.max_doc() as usize);
        weight
            .for_each_no_score(seg, &mut |docs| docs.iter().for_each(|d| set.insert(*d)))
            .map_err(|e| SearchError::Index(format!("evaluating a filter: {e}")))?;
        let bits = Arc::new(set);
        let mut segments = self.segments.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = segments.entry(id).or_default();
        if map.insert(key.to_string(), bits.clone()).is_none() {
            order.push(key.to_string());
        }
        while order.len() > PER_SEGMENT {
            let old = order.remove(0);
            map.remove(&old);
        }
        Ok(bits)
    }

    /// Forgets segments not in `live` (after a commit or merge).
    pub fn retain(&self, live: &[SegmentId]) {
        self.segments.lock().unwrap_or_else(|p| p.into_inner()).retain(|id, _| live.contains(id));
    }
}
