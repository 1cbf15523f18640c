//! Filter bitsets: the documents of one segment a filter lets through, computed once and cached
//! per (segment, filter), as Lucene's query cache does. A search then runs its text query alone
//! (a plain term intersection, pruned with block-max) and checks the filter per candidate in
//! O(1), instead of intersecting the text postings with the filter's at every document:
//! hybrid search with a project and kind filter spent most of its time there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::{DocId, SegmentReader};

use super::SearchError;

/// Filters kept per segment before the oldest are forgotten.
const PER_SEGMENT: usize = 128;

/// The documents of one segment that pass one filter (deletions are checked separately).
pub struct DocBits {
    words: Vec<u64>,
    count: u64,
}

impl DocBits {
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The documents, ascending.
    pub fn iter(&self) -> impl Iterator<Item = DocId> + '_ {
        self.words.iter().enumerate().flat_map(|(w, bits)| {
            let mut rest = *bits;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros();
                    rest &= rest - 1;
                    (w * 64) as DocId + b
                })
            })
        })
    }

    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        self.words.get(doc as usize / 64).is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }
}

/// One segment's filters: key → bits, and the order keys arrived in (oldest dropped first).
type SegmentFilters = (HashMap<String, Arc<DocBits>>, Vec<String>);

#[derive(Default)]
pub struct FilterCache {
    segments: Mutex<HashMap<SegmentId, SegmentFilters>>,
}

impl FilterCache {
    /// The bits of `key` (a canonical description of the filter) for `seg`, from `weight`
    /// (the filter's query) when not cached yet.
    pub fn get(&self, seg: &SegmentReader, key: &str, weight: &dyn Weight) -> Result<Arc<DocBits>, SearchError> {
        let id = seg.segment_id();
        if let Some((map, _)) = self.segments.lock().unwrap_or_else(|p| p.into_inner()).get(&id)
            && let Some(bits) = map.get(key)
        {
            return Ok(bits.clone());
        }
        let mut words = vec![0u64; (seg.max_doc() as usize).div_ceil(64)];
        weight
            .for_each_no_score(seg, &mut |docs| {
                for &d in docs {
                    if let Some(w) = words.get_mut(d as usize / 64) {
                        *w |= 1 << (d % 64);
                    }
                }
            })
            .map_err(|e| SearchError::Index(format!("evaluating a filter: {e}")))?;
        let count = words.iter().map(|w| u64::from(w.count_ones())).sum();
        let bits = Arc::new(DocBits { words, count });
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
