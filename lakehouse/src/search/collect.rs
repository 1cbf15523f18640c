//! Passes over the documents a query matches: the best `k` after a cursor (score, then id),
//! optionally the exact total and facet counts, or the set of vector ords that pass.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use acervo_catalog::AssetId;
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, DocSet, Searcher, SegmentReader, TERMINATED};
use uuid::Uuid;

use super::SearchError;
use super::facets::{FacetCache, FacetTotals};
use super::filters::FilterCache;
use super::histograms::{date_buckets, duration_buckets};
use super::idset::OrdSet;
use super::request::{Cursor, DateInterval, FACET_TOP, Facets};

/// A candidate in the top-k heap. Ordered so the heap's top is the worst kept candidate.
#[derive(Clone, Copy, Debug)]
pub struct Ranked {
    pub score: f32,
    pub id: AssetId,
    pub doc: DocAddress,
}

impl PartialEq for Ranked {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked {
    /// "Less" is better: higher score, then higher id (newer).
    fn cmp(&self, o: &Self) -> Ordering {
        o.score.total_cmp(&self.score).then_with(|| o.id.cmp(&self.id))
    }
}

fn id_of(hi: &Column<u64>, lo: &Column<u64>, doc: DocId) -> AssetId {
    let (h, l) = (hi.first(doc).unwrap_or(0), lo.first(doc).unwrap_or(0));
    AssetId(Uuid::from_u64_pair(h, l))
}

pub struct Collected {
    /// Best first.
    pub top: Vec<Ranked>,
    pub total: Option<u64>,
    pub facets: Option<Facets>,
}

fn ff_err(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(format!("reading a fast field: {e}"))
}

/// What to collect.
#[derive(Clone, Copy, Default)]
pub struct Want<'a> {
    /// The best `k` after `after`.
    pub k: usize,
    pub after: Option<&'a Cursor>,
    /// Visit every match for the exact total and facet counts.
    pub exhaustive: bool,
    /// Drop soft-deleted documents here rather than in the query.
    pub skip_deleted: bool,
    /// A filter checked per candidate from its cached bitset: (cache key, filter query).
    pub filter: Option<(&'a str, &'a dyn Weight)>,
    /// Split the segments over the cores from this many documents (0: never).
    pub parallel_from_docs: u64,
    /// The width of the date histograms' buckets.
    pub interval: DateInterval,
}

/// Runs `weights` (whose match sets are disjoint: one query per language) over every segment
/// of `searcher`: the best `k` after the cursor with block-max pruning, and with `exhaustive`
/// a second, unscored pass over every match for the exact total and facet counts (cheaper
/// than scoring every match). With `skip_deleted`, soft-deleted documents are dropped here
/// rather than by the query, and so is the filter, so a bare text query stays prunable.
pub fn collect(
    searcher: &Searcher,
    caches: (&FacetCache, &FilterCache),
    weights: &[Box<dyn Weight>],
    want: Want<'_>,
) -> Result<Collected, SearchError> {
    let segments: Vec<(usize, &SegmentReader)> =
        searcher.segment_readers().iter().enumerate().collect();
    let docs: u64 = segments.iter().map(|(_, s)| u64::from(s.max_doc())).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Big indexes: segments are split over the cores (a search is mostly CPU over mmap'd
    // postings); small ones stay on the caller's thread, where a spawn would cost more.
    let parts: Vec<Result<Partial, SearchError>> = if want.parallel_from_docs > 0
        && docs >= want.parallel_from_docs
        && cores > 1
        && segments.len() > 1
    {
        let per = segments.len().div_ceil(cores);
        std::thread::scope(|s| {
            let handles: Vec<_> = segments
                .chunks(per)
                .map(|part| s.spawn(move || collect_segments(part, caches, weights, want)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SearchError::Index("a search thread panicked".into()))
                    })
                })
                .collect()
        })
    } else {
        vec![collect_segments(&segments, caches, weights, want)]
    };
    let mut all = Partial::new(want.k);
    for part in parts {
        let part = part?;
        all.total += part.total;
        all.facets.add(part.facets);
        for r in part.heap {
            keep_best(&mut all.heap, r, want.k);
        }
    }
    let mut top = all.heap.into_vec();
    top.sort();
    let exhaustive = want.exhaustive;
    let facets = exhaustive.then(|| {
        let FacetTotals { terms, days, durations } = all.facets;
        let mut it = terms.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let mut days = days.into_iter();
        let mut histogram = || date_buckets(&days.next().unwrap_or_default(), want.interval);
        Facets {
            kind: next().into_iter().collect(),
            status: next().into_iter().collect(),
            project: next().into_iter().collect(),
            editorial_status: next().into_iter().collect(),
            collections: top_n(next()),
            tags: top_n(next()),
            labels: top_n(next()),
            category: next().into_iter().collect(),
            source: top_n(next()),
            licence: next().into_iter().collect(),
            language: next().into_iter().collect(),
            story: top_n(next()),
            people: top_n(next()),
            interval: want.interval,
            created: histogram(),
            taken: histogram(),
            embargo: histogram(),
            duration: duration_buckets(&durations),
        }
    });
    Ok(Collected { top, total: exhaustive.then_some(all.total), facets })
}

/// What one thread collected over its segments.
struct Partial {
    heap: BinaryHeap<Ranked>,
    total: u64,
    facets: FacetTotals,
}

impl Partial {
    fn new(k: usize) -> Partial {
        Partial { heap: BinaryHeap::with_capacity(k + 1), total: 0, facets: FacetTotals::default() }
    }
}

/// Keeps `r` if it is among the best `k` of `heap` (whose top is the worst kept).
fn keep_best(heap: &mut BinaryHeap<Ranked>, r: Ranked, k: usize) {
    if heap.len() < k {
        heap.push(r);
    } else if heap.peek().is_some_and(|worst| r < *worst) {
        heap.pop();
        heap.push(r);
    }
}

fn collect_segments(
    segments: &[(usize, &SegmentReader)],
    caches: (&FacetCache, &FilterCache),
    weights: &[Box<dyn Weight>],
    want: Want<'_>,
) -> Result<Partial, SearchError> {
    let Want { k, after, exhaustive, skip_deleted, filter, .. } = want;
    let (facet_cache, filter_cache) = caches;
    let mut out = Partial::new(k);
    for &(seg_ord, seg) in segments {
        let ff = seg.fast_fields();
        let hi = ff.u64("id_hi").map_err(ff_err)?;
        let lo = ff.u64("id_lo").map_err(ff_err)?;
        let alive = seg.alive_bitset();
        // The status ord of "deleted" in this segment's dictionary, when any document has it.
        let status = if skip_deleted { ff.str("status").map_err(ff_err)? } else { None };
        let deleted_ord = match &status {
            Some(col) => col.dictionary().term_ord(b"deleted").map_err(ff_err)?,
            None => None,
        };
        let bits = match filter {
            Some((key, weight)) => Some(filter_cache.get(seg, key, weight)?),
            None => None,
        };
        // Filtered out, or soft-deleted when that is checked here.
        let excluded = |doc: DocId| -> bool {
            bits.as_ref().is_some_and(|b| !b.contains(doc))
                || match (&status, deleted_ord) {
                    (Some(col), Some(d)) => col.ords().first(doc) == Some(d),
                    _ => false,
                }
        };
        if k > 0 {
            for weight in weights {
                let heap = &mut out.heap;
                let threshold = heap
                    .peek()
                    .filter(|_| heap.len() == k)
                    .map_or(f32::MIN, |w| w.score.next_down());
                weight
                    .for_each_pruning(threshold, seg, &mut |doc, score| {
                        if alive.is_none_or(|a| a.is_alive(doc))
                            && !excluded(doc)
                            && !(heap.len() == k && heap.peek().is_some_and(|w| score < w.score))
                        {
                            let id = id_of(&hi, &lo, doc);
                            if after.is_none_or(|c| c.precedes(score, id)) {
                                keep_best(
                                    heap,
                                    Ranked { score, id, doc: DocAddress::new(seg_ord as u32, doc) },
                                    k,
                                );
                            }
                        }
                        // Ties with the worst kept score may still win on id: prune strictly below.
                        if heap.len() == k {
                            heap.peek().map_or(f32::MIN, |w| w.score.next_down())
                        } else {
                            f32::MIN
                        }
                    })
                    .map_err(|e| SearchError::Index(e.to_string()))?;
            }
        }
        if exhaustive {
            let fc = facet_cache.get(seg)?;
            let mut counts = fc.counts();
            let visible = |d: DocId| alive.is_none_or(|a| a.is_alive(d)) && !excluded(d);
            let mut docs: Vec<DocId> = Vec::new();
            for weight in weights {
                // A narrow filter drives: its documents are sought in the query's postings (a
                // skip-list seek each) instead of walking every posting of a frequent word
                // only to drop most of them.
                let driver = match &bits {
                    Some(b) => {
                        let scorer = weight
                            .scorer(seg, 1.0)
                            .map_err(|e| SearchError::Index(e.to_string()))?;
                        ((b.len() as u64).saturating_mul(FILTER_DRIVES_BELOW)
                            < u64::from(scorer.size_hint()))
                        .then_some((b, scorer))
                    }
                    None => None,
                };
                if let Some((b, mut scorer)) = driver {
                    docs.clear();
                    for d in b.iter() {
                        let mut at = scorer.doc();
                        if at < d {
                            at = scorer.seek(d);
                        }
                        if at == TERMINATED {
                            break;
                        }
                        if at == d && visible(d) {
                            docs.push(d);
                        }
                    }
                    out.total += docs.len() as u64;
                    fc.count(&docs, &mut counts);
                } else {
                    weight
                        .for_each_no_score(seg, &mut |block| {
                            docs.clear();
                            docs.extend(block.iter().copied().filter(|d| visible(*d)));
                            out.total += docs.len() as u64;
                            fc.count(&docs, &mut counts);
                        })
                        .map_err(|e| SearchError::Index(e.to_string()))?;
                }
            }
            fc.merge_into(&counts, &mut out.facets);
        }
    }
    Ok(out)
}

/// The filter drives the exhaustive pass when the query's postings are this many times larger.
const FILTER_DRIVES_BELOW: u64 = 4;

fn top_n(map: HashMap<String, u64>) -> std::collections::BTreeMap<String, u64> {
    let mut v: Vec<(String, u64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(FACET_TOP);
    v.into_iter().collect()
}

/// The vector ords of every document `weight` matches (a filter, for vector search).
pub fn ords(searcher: &Searcher, weight: &dyn Weight) -> Result<OrdSet, SearchError> {
    let mut set = OrdSet::default();
    for seg in searcher.segment_readers() {
        let vord = seg.fast_fields().u64("vord").map_err(ff_err)?;
        let alive = seg.alive_bitset();
        weight
            .for_each_no_score(seg, &mut |docs| {
                for &doc in docs {
                    if alive.is_none_or(|a| a.is_alive(doc))
                        && let Some(o) = vord.first(doc)
                    {
                        set.insert(o as u32);
                    }
                }
            })
            .map_err(|e| SearchError::Index(e.to_string()))?;
    }
    Ok(set)
}
