//! Relevance oracles for the search index, in process: on a generated corpus, the text results
//! and scores agree with a brute-force BM25F computed here (tantivy's BM25 formula over the
//! weighted fields, our analysis), and vector search agrees with a brute-force kNN (recall@10 >= 0.95 through the HNSW
//! graph, exact through a narrow prefilter).

use std::collections::{HashMap, HashSet};

use acervo_catalog::{AcervoConfig, Asset, AssetId, EmbeddingRow, MediaKind, NewVectors};
use acervo_lakehouse::search::{
    Mode, SearchFilter, SearchRequest, TEXT_FIELDS, analyze, bm25_length, normalise,
};
use acervo_lakehouse::{Catalog, SearchIndex};
use acervo_tests::Rng;

const ES: &[&str] = &[
    "camión",
    "camiones",
    "incendio",
    "incendios",
    "alcaldesa",
    "pleno",
    "ayuntamiento",
    "presupuesto",
    "vecinos",
    "huelga",
    "sanidad",
    "hospital",
    "elecciones",
    "partido",
    "fútbol",
    "estadio",
    "entrevista",
    "sequía",
    "embalse",
    "lluvia",
    "carretera",
    "accidente",
    "tráfico",
    "mercado",
    "precios",
    "vivienda",
    "alquiler",
    "universidad",
    "estudiantes",
    "museo",
    "exposición",
    "festival",
    "música",
    "tribunal",
    "sentencia",
    "investigación",
    "policía",
    "bomberos",
    "puerto",
    "pesca",
];
const EN: &[&str] = &[
    "truck",
    "trucks",
    "wildfire",
    "mayor",
    "council",
    "budget",
    "residents",
    "strike",
    "hospital",
    "elections",
    "football",
    "stadium",
    "interview",
    "drought",
    "reservoir",
    "road",
    "crash",
    "traffic",
    "market",
    "prices",
    "housing",
    "university",
    "students",
    "museum",
    "festival",
    "music",
    "court",
    "ruling",
    "police",
    "firefighters",
    "harbour",
    "fishing",
];
const GLUE_ES: &[&str] = &["el", "la", "de", "en", "los", "por", "con", "del", "las", "una"];
const GLUE_EN: &[&str] = &["the", "of", "in", "and", "with", "for", "on", "at", "a", "to"];

fn sentence(rng: &mut Rng, english: bool, n: usize) -> String {
    let (words, glue) = if english { (EN, GLUE_EN) } else { (ES, GLUE_ES) };
    (0..n)
        .map(
            |i| {
                if i % 2 == 1 {
                    glue[rng.below(glue.len())]
                } else {
                    words[rng.skewed(words.len())]
                }
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

fn asset(rng: &mut Rng, i: u64) -> Asset {
    let english = rng.below(3) == 0;
    let (words, _) = if english { (EN, GLUE_EN) } else { (ES, GLUE_ES) };
    let (title_len, desc_len) = (3 + rng.below(6), 8 + rng.below(20));
    let title = sentence(rng, english, title_len);
    let description = sentence(rng, english, desc_len);
    Asset {
        title,
        description,
        tags: Asset::clean_tags((0..1 + rng.below(3)).map(|_| words[rng.skewed(words.len())])),
        kind: [MediaKind::Video, MediaKind::Image, MediaKind::Audio][rng.below(3)],
        mime: "video/mp4".into(),
        master_key: format!("masters/{i}"),
        original_filename: format!("{i}.mp4"),
        ..acervo_tests::catalog_row(i, &format!("p{}", rng.below(3)))
    }
}

/// Each asset's text as the index should hold it: BM25F, every field's tokens counted with the
/// field's weight, in the field of the asset's language.
struct Doc {
    id: AssetId,
    lang: acervo_lakehouse::search::Lang,
    kind: MediaKind,
    project: String,
    tags: Vec<String>,
    tf: HashMap<String, f64>,
    len: f64,
}

fn bm25(tf: f64, dl: f64, avgdl: f64, df: f64, n: f64) -> f64 {
    let (k1, b) = (1.2, 0.75);
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    idf * (1.0 + k1) * tf / (tf + k1 * (1.0 - b + b * dl / avgdl))
}

/// The search index over the catalog in `dir` (built from its tables on first open).
/// `parallel_from_docs` 1: every search splits the segments over the cores.
async fn open(
    dir: &std::path::Path,
    dim: usize,
    exact_below: usize,
) -> std::sync::Arc<SearchIndex> {
    let mut cfg = AcervoConfig::defaults();
    cfg.search.embedding_dim = dim;
    cfg.search.exact_below = exact_below;
    cfg.search.parallel_from_docs = 1;
    let catalog = Catalog::open(dir.join("catalog"), dim).await.unwrap();
    SearchIndex::open(&dir.join("search"), &cfg.search, &catalog).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_results_and_scores_agree_with_brute_force_bm25() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(42);
    let assets: Vec<Asset> = (0..3000).map(|i| asset(&mut rng, i)).collect();
    {
        let catalog = Catalog::open(dir.path().join("catalog"), 8).await.unwrap();
        catalog.append_assets(&assets).await.unwrap();
    }
    let index = open(dir.path(), 8, 100).await;
    assert!(index.text_segments() >= 2, "several segments, so results merge across search threads");

    // The oracle's view: the same analysis, the fields weighted and summed.
    let weight: HashMap<&str, f64> = TEXT_FIELDS.iter().map(|(b, w)| (*b, f64::from(*w))).collect();
    let docs: Vec<Doc> = assets
        .iter()
        .map(|a| {
            let lang = index.language_of(a);
            let mut doc = Doc {
                id: a.id,
                lang,
                kind: a.kind,
                project: a.project.clone(),
                tags: a.tags.clone(),
                tf: HashMap::new(),
                len: 0.0,
            };
            for (base, text) in [
                ("title", a.title.clone()),
                ("description", a.description.clone()),
                ("tags", a.tags.join("\n")),
            ] {
                for t in analyze(lang, &text) {
                    *doc.tf.entry(t).or_default() += weight[base];
                    doc.len += weight[base];
                }
            }
            doc
        })
        .collect();
    assert!(
        docs.iter().any(|d| d.lang.code() == "en") && docs.iter().any(|d| d.lang.code() == "es"),
        "the corpus has both languages"
    );
    let n = docs.len() as f64;
    let mut total_tokens: HashMap<&str, f64> = HashMap::new();
    let mut df: HashMap<(&str, String), f64> = HashMap::new();
    for d in &docs {
        *total_tokens.entry(d.lang.code()).or_default() += d.len;
        for t in d.tf.keys() {
            *df.entry((d.lang.code(), t.clone())).or_default() += 1.0;
        }
    }
    let oracle = |q: &str, kind: Option<MediaKind>, tag: Option<&str>| -> Vec<(f64, AssetId)> {
        let mut out = Vec::new();
        'doc: for d in docs.iter().filter(|d| {
            kind.is_none_or(|k| d.kind == k) && tag.is_none_or(|t| d.tags.iter().any(|x| x == t))
        }) {
            let mut score = 0.0;
            for word in q.split_whitespace() {
                let term = analyze(d.lang, word).pop().unwrap();
                let Some(tf) = d.tf.get(&term) else { continue 'doc };
                let avgdl = total_tokens[d.lang.code()] / n;
                let dl = f64::from(bm25_length(d.len as u32));
                score += bm25(*tf, dl, avgdl, df[&(d.lang.code(), term.clone())], n);
            }
            out.push((score, d.id));
        }
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        out
    };

    let principal = acervo_catalog::ReadScope::everything();
    let mut queries: Vec<String> = Vec::new();
    for i in 0..60 {
        let list = if i % 3 == 0 { EN } else { ES };
        let words = 1 + i % 3;
        queries
            .push((0..words).map(|_| list[rng.skewed(list.len())]).collect::<Vec<_>>().join(" "));
    }
    let mut checked = 0;
    // Without facets the top 10 comes from the pruned pass alone; with them a second pass
    // counts every match; a filter is checked from its bitset, and a narrow one (a kind and the
    // most common tag: under a tenth) drives the counting pass through the words' postings.
    let mut tag_counts: HashMap<&str, usize> = HashMap::new();
    for a in &assets {
        for t in &a.tags {
            *tag_counts.entry(t.as_str()).or_default() += 1;
        }
    }
    let common_tag =
        tag_counts.iter().max_by_key(|(t, n)| (**n, *t)).map(|(t, _)| t.to_string()).unwrap();
    for q in &queries {
        for (facets, kind, tag) in [
            (false, None, None),
            (true, None, None),
            (true, Some(MediaKind::Video), None),
            (true, Some(MediaKind::Audio), Some(common_tag.as_str())),
        ] {
            let expected = oracle(q, kind, tag);
            let filter = SearchFilter {
                kind,
                tags: tag.map(|t| vec![t.to_string()]).unwrap_or_default(),
                ..Default::default()
            };
            let req = SearchRequest {
                q: q.clone(),
                limit: 10,
                facets,
                highlight: false,
                filter,
                ..Default::default()
            };
            let got = index.search(&req, &principal).unwrap();
            if facets {
                assert_eq!(
                    got.total,
                    Some(expected.len() as u64),
                    "query {q:?} kind {kind:?}: match count"
                );
                // Facets are counted over every match (whichever side drives the pass).
                let mut by_project: std::collections::BTreeMap<String, u64> =
                    std::collections::BTreeMap::new();
                for (_, id) in &expected {
                    let d = docs.iter().find(|d| d.id == *id).unwrap();
                    *by_project.entry(d.project.clone()).or_default() += 1;
                }
                assert_eq!(
                    got.facets.as_ref().map(|f| f.project.clone()),
                    Some(by_project),
                    "query {q:?} kind {kind:?}: project facet"
                );
            }
            assert_eq!(got.hits.len(), expected.len().min(10), "query {q:?} kind {kind:?}");
            for (rank, hit) in got.hits.iter().enumerate() {
                let want = expected.iter().find(|(_, id)| *id == hit.asset.id).map(|e| e.0);
                let want = want.unwrap_or_else(|| {
                    panic!(
                        "query {q:?} kind {kind:?}: {} is not a match for the oracle",
                        hit.asset.id
                    )
                });
                assert!(
                    (f64::from(hit.score) - want).abs() <= 1e-3 * want.max(1.0),
                    "query {q:?} rank {rank}: score {} vs oracle {want}",
                    hit.score
                );
                // The oracle's score at this rank equals ours: same ranking up to exact ties.
                assert!(
                    (expected[rank].0 - f64::from(hit.score)).abs() <= 1e-3 * want.max(1.0),
                    "query {q:?} rank {rank}: oracle ranks {:?} here",
                    expected[rank]
                );
            }
            checked += usize::from(!expected.is_empty() && kind.is_none() && !facets);
        }
    }
    assert!(checked >= 40, "most queries match something ({checked})");
    index.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_search_agrees_with_brute_force_knn() {
    const DIM: usize = 32;
    const N: usize = 6000;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    let centroids: Vec<Vec<f32>> = (0..60)
        .map(|_| {
            let mut v: Vec<f32> = (0..DIM).map(|_| rng.normal()).collect();
            normalise(&mut v);
            v
        })
        .collect();
    let near = |rng: &mut Rng, c: &[f32]| {
        let mut v: Vec<f32> = c.iter().map(|x| x + rng.normal() * 0.15).collect();
        normalise(&mut v);
        v
    };
    let assets: Vec<Asset> = (0..N as u64).map(|i| asset(&mut rng, i)).collect();
    let sets: Vec<NewVectors> = assets
        .iter()
        .enumerate()
        .map(|(i, a)| NewVectors {
            asset_id: a.id,
            vectors: vec![(None, near(&mut rng, &centroids[i % centroids.len()]))],
            model: None,
        })
        .collect();
    let rows: Vec<EmbeddingRow> = {
        let catalog = Catalog::open(dir.path().join("catalog"), DIM).await.unwrap();
        catalog.append_assets(&assets).await.unwrap();
        let named = catalog.append_embeddings(&sets).await.unwrap();
        named.into_iter().flat_map(|(_, rows)| rows).collect()
    };
    let index = open(dir.path(), DIM, 1000).await;
    // The background merger may have moved some already; after this every vector is in the graph.
    index.build_vector_graph(2).unwrap();
    assert_eq!(index.vectors().len(), N, "every vector is loaded");
    assert_eq!(index.vectors().tail_len(), 0, "every vector is in the graph");

    let principal = acervo_catalog::ReadScope::everything();
    let project_of: HashMap<AssetId, &str> =
        assets.iter().map(|a| (a.id, a.project.as_str())).collect();
    let exact = |q: &[f32], keep: &dyn Fn(AssetId) -> bool| -> Vec<AssetId> {
        let mut s: Vec<(f32, AssetId)> = rows
            .iter()
            .filter(|r| keep(r.asset_id))
            .map(|r| (r.vector.iter().zip(q).map(|(a, b)| a * b).sum(), r.asset_id))
            .collect();
        s.sort_by(|a, b| b.0.total_cmp(&a.0));
        s.into_iter().take(10).map(|x| x.1).collect()
    };
    let (mut recall, queries) = (0.0, 100);
    for i in 0..queries {
        let q = near(&mut rng, &centroids[(i * 7) % centroids.len()]);
        let truth: HashSet<AssetId> = exact(&q, &|_| true).into_iter().collect();
        let got = index
            .search(
                &SearchRequest {
                    mode: Mode::Vector,
                    vector: Some(q.clone()),
                    limit: 10,
                    facets: false,
                    ..Default::default()
                },
                &principal,
            )
            .unwrap();
        assert_eq!(got.hits.len(), 10);
        assert!(got.hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
        recall += got.hits.iter().filter(|h| truth.contains(&h.asset.id)).count() as f64 / 10.0;

        // A narrow prefilter (one project of three and one kind of three: a ninth, so answered
        // by the int8 scan and exact re-ranking, not the graph) gives the exact answer, and
        // never leaks other projects.
        let filter = SearchFilter {
            project: Some("p1".into()),
            kind: Some(MediaKind::Audio),
            ..Default::default()
        };
        let keep = |id: AssetId| {
            project_of[&id] == "p1"
                && assets.iter().find(|a| a.id == id).is_some_and(|a| a.kind == MediaKind::Audio)
        };
        let want = exact(&q, &keep);
        let got = index
            .search(
                &SearchRequest {
                    mode: Mode::Vector,
                    vector: Some(q),
                    filter,
                    limit: 10,
                    facets: false,
                    ..Default::default()
                },
                &principal,
            )
            .unwrap();
        let got_ids: Vec<AssetId> = got.hits.iter().map(|h| h.asset.id).collect();
        assert_eq!(got_ids, want, "filtered kNN is exact");
    }
    let recall = recall / queries as f64;
    assert!(recall >= 0.95, "recall@10 {recall}");

    // Hybrid (segments searched on both cores): the hit the vector list ranks first is the
    // vector-only search's first hit, and the text list takes part.
    let q = near(&mut rng, &centroids[3]);
    let alone = index
        .search(
            &SearchRequest {
                mode: Mode::Vector,
                vector: Some(q.clone()),
                limit: 10,
                facets: false,
                ..Default::default()
            },
            &principal,
        )
        .unwrap();
    let hybrid = index
        .search(
            &SearchRequest {
                mode: Mode::Hybrid,
                q: "festival".into(),
                vector: Some(q),
                limit: 100,
                facets: true,
                ..Default::default()
            },
            &principal,
        )
        .unwrap();
    let first = hybrid
        .hits
        .iter()
        .find(|h| h.vector_rank == Some(1))
        .expect("the vector list's first hit is in the fused page");
    assert_eq!(first.asset.id, alone.hits[0].asset.id);
    assert!(hybrid.hits.iter().any(|h| h.text_rank.is_some()), "the text list takes part");
    index.close().unwrap();
}
