//! Runs a search against one snapshot: text (BM25 with facets), vector (kNN with prefilter),
//! or hybrid (both lists fused by reciprocal rank fusion), then builds the page: summaries,
//! highlights, and the matching moments inside each asset.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use acervo_catalog::{AssetId, ReadScope};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, TermQuery, Weight};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use super::SearchError;
use super::analysis::Lang;
use super::collect::{Ranked, Want, collect, ords};
use super::idset::OrdSet;
use super::index::{SearchIndex, Snapshot};
use super::query::{explicit_filter_query, filter_query, text_queries};
use super::request::{
    AssetSummary, Cursor, Highlights, Mode, Moment, MomentSource, SearchHit, SearchRequest,
    SearchResponse,
};
use super::vectors::VectorHit;

/// Reciprocal rank fusion constant (Cormack et al.): damps the weight of the very first ranks.
const RRF_K: f32 = 60.0;
/// Each list contributes this many results to hybrid fusion (at least the page asked for).
const RANK_WINDOW: usize = 100;
/// Moments returned per asset.
const MOMENTS_PER_ASSET: usize = 3;
const SNIPPET_CHARS: usize = 200;

/// One ranked result before the page is built.
#[derive(Clone, Copy, Debug)]
struct Scored {
    id: AssetId,
    score: f32,
    text_rank: Option<usize>,
    vector_rank: Option<usize>,
    frame_ms: Option<u64>,
    /// Known for text hits; vector hits are looked up by id.
    doc: Option<DocAddress>,
}

fn idx_err(e: tantivy::TantivyError) -> SearchError {
    SearchError::Index(e.to_string())
}

impl SearchIndex {
    pub fn search(
        &self,
        req: &SearchRequest,
        read_scope: &ReadScope,
    ) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        if req.limit == 0 || req.limit > 1000 {
            return Err(SearchError::BadRequest(format!(
                "limit {} is out of range 1..=1000",
                req.limit
            )));
        }
        let snap = self.snapshot_for(req.search_after.map(|c| c.generation));
        let tokenizers = self.assets.index.tokenizers();
        let text = text_queries(&self.fields.text, tokenizers, &req.q, req.prefix);
        let filter = filter_query(&self.fields, &req.filter, read_scope);
        let after = req.search_after.as_ref();
        let want = req.limit + 1;
        let weights = |qs: &[Box<dyn Query>]| -> Result<Vec<Box<dyn Weight>>, SearchError> {
            qs.iter()
                .map(|q| {
                    q.weight(EnableScoring::enabled_from_searcher(&snap.assets)).map_err(idx_err)
                })
                .collect()
        };
        let text_only =
            |t: &[(Lang, Box<dyn Query>)]| t.iter().map(|(_, q)| q.box_clone()).collect::<Vec<_>>();
        let unscored = |q: &dyn Query| {
            q.weight(EnableScoring::disabled_from_searcher(&snap.assets)).map_err(idx_err)
        };
        let caches = (&self.facet_cache, &self.filter_cache);
        let scope = format!("{:?}|{}", req.filter, read_scope.cache_key());

        let (ranked, total, facets) = match req.mode {
            Mode::Text => {
                // "Not deleted" and the filter are checked while collecting (the filter from
                // its cached bitset), so the text query stays a prunable term intersection.
                let explicit = explicit_filter_query(&self.fields, &req.filter, read_scope, false);
                let skip_deleted = req.filter.status.is_none();
                let explicit_weight = explicit.as_deref().map(unscored).transpose()?;
                let key = format!("explicit|{scope}");
                let c = match (text.as_deref(), explicit_weight.as_deref()) {
                    (Some(t), f) => {
                        let filter = f.map(|w| (key.as_str(), w));
                        collect(
                            &snap.assets,
                            caches,
                            &weights(&text_only(t))?,
                            Want {
                                k: want,
                                after,
                                exhaustive: req.facets,
                                skip_deleted,
                                filter,
                                parallel_from_docs: self.parallel_from_docs,
                                interval: req.interval,
                            },
                        )?
                    }
                    (None, _) => {
                        let q: Box<dyn Query> =
                            explicit.unwrap_or_else(|| Box::new(tantivy::query::AllQuery));
                        collect(
                            &snap.assets,
                            caches,
                            &weights(&[q])?,
                            Want {
                                k: want,
                                after,
                                exhaustive: req.facets,
                                skip_deleted,
                                filter: None,
                                parallel_from_docs: self.parallel_from_docs,
                                interval: req.interval,
                            },
                        )?
                    }
                };
                let ranked = c.top.iter().map(scored_text).collect::<Vec<_>>();
                (ranked, c.total, c.facets)
            }
            Mode::Vector => {
                let vector = req
                    .vector
                    .as_deref()
                    .ok_or_else(|| SearchError::BadRequest("mode=vector needs a vector".into()))?;
                let allowed = self.allowed_ords(&snap, filter.as_ref(), &req.filter, read_scope)?;
                let hits = self.vector_after(&snap, vector, want, &allowed, after)?;
                let facets = if req.facets {
                    collect(
                        &snap.assets,
                        caches,
                        &weights(&[filter.box_clone()])?,
                        Want {
                            exhaustive: true,
                            parallel_from_docs: self.parallel_from_docs,
                            interval: req.interval,
                            ..Want::default()
                        },
                    )?
                    .facets
                } else {
                    None
                };
                let ranked = hits
                    .iter()
                    .enumerate()
                    .map(|(i, h)| scored_vector(h, i, h.similarity))
                    .collect();
                (ranked, Some(allowed.len() as u64), facets)
            }
            Mode::Hybrid => {
                let vector = req
                    .vector
                    .as_deref()
                    .ok_or_else(|| SearchError::BadRequest("mode=hybrid needs a vector".into()))?;
                let window = RANK_WINDOW.max(want);
                // The text list and the facets come from one collection: text, filtered by the
                // filter's cached bitset.
                let (text_list, facets) = match text.as_deref() {
                    Some(t) => {
                        let fw = unscored(filter.as_ref())?;
                        let key = format!("full|{scope}");
                        let c = collect(
                            &snap.assets,
                            caches,
                            &weights(&text_only(t))?,
                            Want {
                                k: window,
                                exhaustive: req.facets,
                                filter: Some((key.as_str(), fw.as_ref())),
                                parallel_from_docs: self.parallel_from_docs,
                                interval: req.interval,
                                ..Want::default()
                            },
                        )?;
                        (c.top, c.facets)
                    }
                    None if req.facets => (
                        Vec::new(),
                        collect(
                            &snap.assets,
                            caches,
                            &weights(&[filter.box_clone()])?,
                            Want {
                                exhaustive: true,
                                parallel_from_docs: self.parallel_from_docs,
                                interval: req.interval,
                                ..Want::default()
                            },
                        )?
                        .facets,
                    ),
                    None => (Vec::new(), None),
                };
                let allowed = self.allowed_ords(&snap, filter.as_ref(), &req.filter, read_scope)?;
                let vector_list =
                    self.vectors().search(vector, window, &allowed, snap.key_limit)?;
                let mut fused = fuse(&text_list, &vector_list);
                let total = fused.len() as u64;
                fused.retain(|s| after.is_none_or(|c| c.precedes(s.score, s.id)));
                fused.truncate(want);
                (fused, Some(total), facets)
            }
        };

        let more = ranked.len() > req.limit;
        let page = &ranked[..ranked.len().min(req.limit)];
        let next = if more {
            page.last().map(|last| {
                Cursor { generation: snap.generation, score: last.score, id: last.id }.encode()
            })
        } else {
            None
        };
        let hits = self.build_hits(&snap, page, text.as_deref(), req)?;
        Ok(SearchResponse {
            total,
            hits,
            facets,
            next,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Vector hits after the cursor: asks the index for more until a page fits.
    fn vector_after(
        &self,
        snap: &Snapshot,
        vector: &[f32],
        want: usize,
        allowed: &OrdSet,
        after: Option<&Cursor>,
    ) -> Result<Vec<VectorHit>, SearchError> {
        let mut n = want;
        loop {
            let hits = self.vectors().search(vector, n, allowed, snap.key_limit)?;
            let exhausted = hits.len() < n;
            let kept: Vec<VectorHit> = hits
                .into_iter()
                .filter(|h| after.is_none_or(|c| c.precedes(h.similarity, h.asset)))
                .collect();
            if kept.len() >= want || exhausted || n >= 10_000 {
                return Ok(kept.into_iter().take(want).collect());
            }
            n *= 4;
        }
    }

    /// The asset ords a filter lets through, cached per snapshot and filter.
    fn allowed_ords(
        &self,
        snap: &Snapshot,
        filter: &dyn Query,
        f: &super::request::SearchFilter,
        read_scope: &ReadScope,
    ) -> Result<Arc<OrdSet>, SearchError> {
        let key = format!("{f:?}|{}", read_scope.cache_key());
        {
            let cache = self.ord_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.0 == snap.generation
                && let Some(set) = cache.1.get(&key)
            {
                return Ok(set.clone());
            }
        }
        let weight =
            filter.weight(EnableScoring::disabled_from_searcher(&snap.assets)).map_err(idx_err)?;
        let set = Arc::new(ords(&snap.assets, weight.as_ref())?);
        let mut cache = self.ord_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != snap.generation {
            *cache = (snap.generation, HashMap::new());
        }
        if cache.1.len() < 256 {
            cache.1.insert(key, set.clone());
        }
        Ok(set)
    }

    fn build_hits(
        &self,
        snap: &Snapshot,
        page: &[Scored],
        text: Option<&[(Lang, Box<dyn Query>)]>,
        req: &SearchRequest,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let mut summaries = Vec::with_capacity(page.len());
        for s in page {
            match self.summary(&snap.assets, s.id, s.doc)? {
                Some(sum) => summaries.push((s, sum)),
                None => {
                    tracing::warn!(asset = %s.id, "search hit without a document in the snapshot; skipped")
                }
            }
        }
        let mut moments: HashMap<AssetId, Vec<Moment>> = HashMap::new();
        if !req.q.trim().is_empty() && !summaries.is_empty() {
            moments = self.transcript_moments(
                snap,
                &req.q,
                req.prefix,
                summaries.iter().map(|(s, _)| s.id),
            )?;
        }
        // One generator per language: title and description share the language's field.
        let mut gens: HashMap<Lang, SnippetGenerator> = HashMap::new();
        let mut hits = Vec::with_capacity(summaries.len());
        for (s, asset) in summaries {
            let mut highlights = Highlights::default();
            if req.highlight
                && let Some(q) = text
            {
                let lang = Lang::parse(&asset.language).unwrap_or(self.default_lang);
                highlights.title =
                    self.highlight(&mut gens, &snap.assets, q, lang, &asset.title)?;
                highlights.description =
                    self.highlight(&mut gens, &snap.assets, q, lang, &asset.description)?;
            }
            let mut m = moments.remove(&s.id).unwrap_or_default();
            if let Some(at) = s.frame_ms {
                m.insert(
                    0,
                    Moment {
                        start_ms: at,
                        end_ms: None,
                        snippet: String::new(),
                        source: MomentSource::Frame,
                        score: s.score,
                    },
                );
            }
            hits.push(SearchHit {
                asset,
                score: s.score,
                text_rank: s.text_rank,
                vector_rank: s.vector_rank,
                highlights,
                moments: m,
            });
        }
        Ok(hits)
    }

    fn highlight(
        &self,
        cache: &mut HashMap<Lang, SnippetGenerator>,
        searcher: &Searcher,
        queries: &[(Lang, Box<dyn Query>)],
        lang: Lang,
        text: &str,
    ) -> Result<Option<String>, SearchError> {
        if text.is_empty() {
            return Ok(None);
        }
        let Some(field) = self.fields.text_field(lang) else { return Ok(None) };
        let Some((_, q)) = queries.iter().find(|(l, _)| *l == lang) else { return Ok(None) };
        if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(lang) {
            let mut sg = SnippetGenerator::create(searcher, q.as_ref(), field).map_err(idx_err)?;
            sg.set_max_num_chars(SNIPPET_CHARS);
            e.insert(sg);
        }
        let snippet = cache[&lang].snippet(text);
        Ok((!snippet.highlighted().is_empty()).then(|| snippet.to_html()))
    }

    fn summary(
        &self,
        searcher: &Searcher,
        id: AssetId,
        doc: Option<DocAddress>,
    ) -> Result<Option<AssetSummary>, SearchError> {
        let addr = match doc {
            Some(a) => a,
            None => match doc_for_id(searcher, self.fields.id, &id.to_string())? {
                Some(a) => a,
                None => return Ok(None),
            },
        };
        let doc: TantivyDocument = searcher.doc(addr).map_err(idx_err)?;
        let bytes = doc
            .get_first(self.fields.summary)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| SearchError::Index(format!("document of {id} has no summary")))?;
        serde_json::from_slice(bytes)
            .map(Some)
            .map_err(|e| SearchError::Index(format!("summary of {id}: {e}")))
    }

    /// The best transcript segments of each asset in `ids` for the query text.
    fn transcript_moments(
        &self,
        snap: &Snapshot,
        q: &str,
        prefix: bool,
        ids: impl Iterator<Item = AssetId>,
    ) -> Result<HashMap<AssetId, Vec<Moment>>, SearchError> {
        let f = &self.seg_fields;
        let Some(per_lang) = text_queries(&f.text, self.assets.index.tokenizers(), q, prefix)
        else {
            return Ok(HashMap::new());
        };
        // Few candidate segments (those of the page's assets): one query over both languages.
        let text: Box<dyn Query> = Box::new(BooleanQuery::new(
            per_lang.into_iter().map(|(_, q)| (Occur::Should, q)).collect(),
        ));
        let ids: Vec<AssetId> = ids.collect();
        let any_id: Vec<(Occur, Box<dyn Query>)> = ids
            .iter()
            .map(|id| {
                let t = Term::from_field_text(f.asset_id, &id.to_string());
                (
                    Occur::Should,
                    Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                )
            })
            .collect();
        let query = BooleanQuery::new(vec![
            (Occur::Must, text.box_clone()),
            (Occur::Must, Box::new(BooleanQuery::new(any_id))),
        ]);
        let top = snap
            .segments
            .search(
                &query,
                &TopDocs::with_limit(ids.len() * MOMENTS_PER_ASSET * 4).order_by_score(),
            )
            .map_err(idx_err)?;
        let mut gens: BTreeMap<usize, SnippetGenerator> = BTreeMap::new();
        let mut out: HashMap<AssetId, Vec<Moment>> = HashMap::new();
        for (score, addr) in top {
            let doc: TantivyDocument = snap.segments.doc(addr).map_err(idx_err)?;
            let Some(asset) = doc
                .get_first(f.asset_id)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<AssetId>().ok())
            else {
                continue;
            };
            let list = out.entry(asset).or_default();
            if list.len() >= MOMENTS_PER_ASSET {
                continue;
            }
            let start_ms = doc.get_first(f.start_ms).and_then(|v| v.as_u64()).unwrap_or(0);
            let end_ms = doc.get_first(f.end_ms).and_then(|v| v.as_u64());
            let mut snippet = String::new();
            for (i, (_, field)) in f.text.iter().enumerate() {
                if let Some(t) = doc.get_first(*field).and_then(|v| v.as_str()) {
                    if let std::collections::btree_map::Entry::Vacant(e) = gens.entry(i) {
                        let mut sg = SnippetGenerator::create(&snap.segments, &text, *field)
                            .map_err(idx_err)?;
                        sg.set_max_num_chars(SNIPPET_CHARS);
                        e.insert(sg);
                    }
                    let s = gens[&i].snippet(t);
                    snippet = if s.is_empty() { html_escape(t) } else { s.to_html() };
                }
            }
            list.push(Moment {
                start_ms,
                end_ms,
                snippet,
                source: MomentSource::Transcript,
                score,
            });
        }
        Ok(out)
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The live document holding `id`, if any.
pub(crate) fn doc_for_id(
    searcher: &Searcher,
    field: tantivy::schema::Field,
    id: &str,
) -> Result<Option<DocAddress>, SearchError> {
    use tantivy::DocSet;
    let term = Term::from_field_text(field, id);
    for (seg_ord, seg) in searcher.segment_readers().iter().enumerate() {
        let inv = seg.inverted_index(field).map_err(idx_err)?;
        let Some(mut postings) = inv
            .read_postings(&term, IndexRecordOption::Basic)
            .map_err(|e| SearchError::Index(e.to_string()))?
        else {
            continue;
        };
        let alive = seg.alive_bitset();
        let mut doc = postings.doc();
        while doc != tantivy::TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                return Ok(Some(DocAddress::new(seg_ord as u32, doc)));
            }
            doc = postings.advance();
        }
    }
    Ok(None)
}

fn scored_text(r: &Ranked) -> Scored {
    Scored {
        id: r.id,
        score: r.score,
        text_rank: None,
        vector_rank: None,
        frame_ms: None,
        doc: Some(r.doc),
    }
}

fn scored_vector(h: &VectorHit, rank: usize, score: f32) -> Scored {
    Scored {
        id: h.asset,
        score,
        text_rank: None,
        vector_rank: Some(rank + 1),
        frame_ms: h.at_ms,
        doc: None,
    }
}

/// Reciprocal rank fusion: each list adds 1 / (k + rank); best fused score first, then newest.
fn fuse(text: &[Ranked], vector: &[VectorHit]) -> Vec<Scored> {
    let mut by_id: HashMap<AssetId, Scored> = HashMap::new();
    for (i, r) in text.iter().enumerate() {
        let e = by_id.entry(r.id).or_insert(Scored {
            id: r.id,
            score: 0.0,
            text_rank: None,
            vector_rank: None,
            frame_ms: None,
            doc: Some(r.doc),
        });
        e.score += 1.0 / (RRF_K + (i + 1) as f32);
        e.text_rank = Some(i + 1);
    }
    for (i, h) in vector.iter().enumerate() {
        let e = by_id.entry(h.asset).or_insert(Scored {
            id: h.asset,
            score: 0.0,
            text_rank: None,
            vector_rank: None,
            frame_ms: None,
            doc: None,
        });
        e.score += 1.0 / (RRF_K + (i + 1) as f32);
        e.vector_rank = Some(i + 1);
        e.frame_ms = h.at_ms;
    }
    let mut out: Vec<Scored> = by_id.into_values().collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| b.id.cmp(&a.id)));
    out
}

#[cfg(test)]
mod tests {
    use acervo_catalog::AssetId;
    use tantivy::DocAddress;

    use super::{RRF_K, fuse};
    use crate::search::VectorHit;
    use crate::search::collect::Ranked;

    fn ids(n: usize) -> Vec<AssetId> {
        let mut v: Vec<AssetId> = (0..n).map(|_| AssetId::new()).collect();
        v.sort();
        v
    }

    #[test]
    fn rank_fusion_adds_one_over_k_plus_rank_from_each_list() {
        let [a, b, c] = ids(3).try_into().unwrap();
        let text: Vec<Ranked> = [a, b]
            .iter()
            .enumerate()
            .map(|(i, id)| Ranked {
                score: 10.0 - i as f32,
                id: *id,
                doc: DocAddress::new(0, i as u32),
            })
            .collect();
        let hit = |asset, at_ms| VectorHit { asset, ord: 0, similarity: 0.9, at_ms };
        let vector = vec![hit(c, Some(1500)), hit(b, None)];
        let fused = fuse(&text, &vector);
        // b is second in both lists: 2 / (k + 2) beats a's and c's 1 / (k + 1).
        assert_eq!(fused.iter().map(|s| s.id).collect::<Vec<_>>()[0], b);
        let score = |id| fused.iter().find(|s| s.id == id).unwrap().score;
        assert!((score(b) - 2.0 / (RRF_K + 2.0)).abs() < 1e-6);
        assert!((score(a) - 1.0 / (RRF_K + 1.0)).abs() < 1e-6);
        // A tie (a and c, each first in one list) goes to the newer id.
        assert_eq!(fused[1].id, c.max(a));
        let from_vector = fused.iter().find(|s| s.id == c).unwrap();
        assert_eq!(
            (from_vector.vector_rank, from_vector.text_rank, from_vector.frame_ms),
            (Some(1), None, Some(1500))
        );
    }
}
