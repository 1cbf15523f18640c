//! The read scope is a filter, and it means what the policy says: over random principals
//! (global roles, memberships, names granted restricted collections) and random assets
//! (projects, editorial statuses, collections, some restricted), the assets each principal
//! lists, finds by text or by vector, and counts in totals and facets are exactly those the
//! policy's per-asset `allow` for `asset_read` lets it read. The filter is the policy's `scope`
//! rendered into the Lance predicate and the search index's query, so this checks the default
//! policy's two rules against each other and both renderings against them.

use std::collections::{BTreeMap, BTreeSet};

use acervo_catalog::{
    AcervoConfig, Action, Asset, AssetId, EditorialStatus, MediaKind, NewVectors, Principal,
    RestrictedCollection, Role,
};
use acervo_lakehouse::search::{Mode, SearchRequest, normalise};
use acervo_lakehouse::tables::AssetFilter;
use acervo_lakehouse::{Catalog, SearchIndex};
use acervo_policy::{Policy, Resource};
use acervo_tests::Rng;

const PROJECTS: [&str; 4] = ["p0", "p1", "p2", "p3"];
const NAMES: [&str; 3] = ["ana", "bob", "eva"];
const DIM: usize = 8;
const N: u64 = 600;

/// Collection `c{i}` is in project `p{i % 4}`; c0, c2, c5 are restricted.
fn collection_project(i: usize) -> &'static str {
    PROJECTS[i % PROJECTS.len()]
}

fn restricted() -> Vec<RestrictedCollection> {
    let grant = |i: usize, granted: &[&str]| RestrictedCollection {
        id: format!("c{i}"),
        project: collection_project(i).into(),
        granted: granted.iter().map(|g| g.to_string()).collect(),
    };
    vec![grant(0, &["ana"]), grant(2, &["bob", "eva"]), grant(5, &[])]
}

fn asset(rng: &mut Rng, i: u64) -> Asset {
    let p = rng.below(PROJECTS.len());
    let collections = (0..8)
        .filter(|c| collection_project(*c) == PROJECTS[p] && rng.below(3) == 0)
        .map(|c| format!("c{c}"))
        .collect();
    Asset {
        title: format!("pleno {i}"),
        kind: MediaKind::Image,
        mime: "image/jpeg".into(),
        project: PROJECTS[p].into(),
        editorial_status: EditorialStatus::ALL[rng.below(EditorialStatus::ALL.len())],
        collections,
        ..acervo_tests::catalog_row(i, PROJECTS[p])
    }
}

fn principal(rng: &mut Rng) -> Principal {
    let role = |rng: &mut Rng| Role::ALL[rng.below(Role::ALL.len())];
    // Mostly members; a fifth also hold a role everywhere (an OIDC realm role).
    let roles = if rng.below(5) == 0 { vec![role(rng)] } else { vec![] };
    let mut project_roles: BTreeMap<String, Vec<Role>> = BTreeMap::new();
    for p in PROJECTS {
        if rng.below(5) < 2 {
            project_roles.insert(p.into(), vec![role(rng)]);
        }
    }
    Principal { name: NAMES[rng.below(NAMES.len())].into(), roles, project_roles }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reader_sees_exactly_what_the_policy_allows_each_principal_to_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(2026);
    let assets: Vec<Asset> = (0..N).map(|i| asset(&mut rng, i)).collect();
    let vectors: Vec<NewVectors> = assets
        .iter()
        .map(|a| {
            let mut v: Vec<f32> = (0..DIM).map(|_| rng.unit()).collect();
            normalise(&mut v);
            NewVectors { asset_id: a.id, vectors: vec![(None, v)], model: None }
        })
        .collect();
    let catalog = Catalog::open(dir.path().join("catalog"), DIM).await.unwrap();
    catalog.append_assets(&assets).await.unwrap();
    catalog.append_embeddings(&vectors).await.unwrap();
    let mut cfg = AcervoConfig::defaults();
    cfg.search.embedding_dim = DIM;
    cfg.search.exact_below = 100_000; // exact kNN: the whole allowed set comes back
    let index = SearchIndex::open(&dir.path().join("search"), &cfg.search, &catalog).await.unwrap();

    let policy = Policy::embedded().unwrap();
    policy.set_directory(&restricted()).unwrap();
    let mut principals: Vec<Principal> = (0..60).map(|_| principal(&mut rng)).collect();
    principals.push(Principal::local_admin());
    let (mut nonempty, mut partial) = (0, 0);
    for p in &principals {
        let allowed: BTreeSet<AssetId> = assets
            .iter()
            .filter(|a| policy.allow_uncached(p, Action::AssetRead, &Resource::asset(a), None))
            .map(|a| a.id)
            .collect();
        let scope = policy.scope(p);
        for a in &assets {
            assert_eq!(
                scope.contains(&a.project, a.editorial_status, &a.collections),
                allowed.contains(&a.id),
                "the scope's meaning for {p:?} and {a:?}"
            );
        }
        nonempty += usize::from(!allowed.is_empty());
        partial += usize::from(!allowed.is_empty() && allowed.len() < assets.len());

        // Listings (the Lance predicate).
        let (listed, total) = catalog.list(&AssetFilter::default(), &scope, 1000, 0).await.unwrap();
        let listed: BTreeSet<AssetId> = listed.iter().map(|a| a.id).collect();
        assert_eq!(listed, allowed, "listing for {p:?}");
        assert_eq!(total, allowed.len(), "listing total for {p:?}");

        // Browse, text and vector search (the index's filter), totals and facets included.
        let q = |mode: Mode, text: &str, vector: Option<Vec<f32>>| SearchRequest {
            q: text.into(),
            mode,
            vector,
            limit: 1000,
            facets: true,
            ..Default::default()
        };
        let probe = vectors[0].vectors[0].1.clone();
        for (what, req) in [
            ("browse", q(Mode::Text, "", None)),
            ("text", q(Mode::Text, "pleno", None)),
            ("vector", q(Mode::Vector, "", Some(probe))),
        ] {
            let found = index.search(&req, &scope).unwrap();
            let ids: BTreeSet<AssetId> = found.hits.iter().map(|h| h.asset.id).collect();
            assert_eq!(ids, allowed, "{what} hits for {p:?}");
            if what != "vector" {
                assert_eq!(found.total, Some(allowed.len() as u64), "{what} total for {p:?}");
                let facets = found.facets.expect("facets asked for");
                let mut by_project: BTreeMap<String, u64> = BTreeMap::new();
                let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
                for a in assets.iter().filter(|a| allowed.contains(&a.id)) {
                    *by_project.entry(a.project.clone()).or_default() += 1;
                    *by_status.entry(a.editorial_status.to_string()).or_default() += 1;
                }
                assert_eq!(facets.project, by_project, "{what} project facet for {p:?}");
                assert_eq!(facets.editorial_status, by_status, "{what} status facet for {p:?}");
                let hidden: BTreeSet<&String> = scope.hidden_collections.iter().collect();
                assert!(
                    facets.collections.keys().all(|c| !hidden.contains(c)),
                    "no hidden collection is counted for {p:?}"
                );
            }
        }
    }
    // The draw covers the interesting cases: principals who read nothing, some and all.
    assert!(nonempty >= 20 && partial >= 20, "{nonempty} read something, {partial} part");
}
