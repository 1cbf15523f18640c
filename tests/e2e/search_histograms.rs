//! Date histograms and duration ranges mean what they say: over a random corpus (creation,
//! EXIF taken and embargo dates across decades, one before 1970; durations on both sides of
//! every range bound; some assets soft-deleted), the buckets a search returns for each
//! interval equal counts computed from the assets themselves, with and without a text query
//! and a filter; and each bucket's bounds, passed back as the field's range filter, find
//! exactly that bucket's assets.

use std::collections::BTreeMap;

use acervo_catalog::{
    AcervoConfig, Asset, AssetStatus, ImageExif, MediaKind, ReadScope, TechnicalMetadata,
};
use acervo_lakehouse::search::{
    DURATION_RANGES, DateBucket, DateInterval, SearchFilter, SearchRequest,
};
use acervo_lakehouse::{Catalog, SearchIndex};
use acervo_tests::Rng;
use chrono::{DateTime, TimeZone, Utc};

const N: u64 = 900;

/// A time between 1960 and 2030, to the millisecond.
fn random_time(rng: &mut Rng) -> DateTime<Utc> {
    let from = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap().timestamp_millis();
    let to = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap().timestamp_millis();
    let ms = from + (rng.next_u64() % (to - from) as u64) as i64;
    Utc.timestamp_millis_opt(ms).unwrap()
}

/// Durations bunched at the range bounds (a bound and the millisecond after it), else spread
/// over three hours.
fn random_duration_ms(rng: &mut Rng) -> u64 {
    let bounds: Vec<u64> = DURATION_RANGES.iter().filter_map(|(_, max)| *max).collect();
    match rng.below(3) {
        0 => bounds[rng.below(bounds.len())] + rng.below(2) as u64,
        _ => rng.next_u64() % 10_800_000,
    }
}

fn asset(rng: &mut Rng, i: u64) -> Asset {
    let kind = [MediaKind::Image, MediaKind::Video, MediaKind::Audio][rng.below(3)];
    let taken =
        (kind == MediaKind::Image && rng.below(4) > 0).then(|| random_time(rng).naive_utc());
    let duration = (kind != MediaKind::Image).then(|| random_duration_ms(rng) as f64 / 1000.0);
    let mut a = Asset {
        title: if rng.below(2) == 0 { format!("Pleno {i}") } else { format!("Archivo {i}") },
        kind,
        created_at: random_time(rng),
        status: if rng.below(10) == 0 { AssetStatus::Deleted } else { AssetStatus::Ready },
        technical: Some(TechnicalMetadata {
            duration_seconds: duration,
            exif: taken.map(|t| ImageExif { taken_at: Some(t), ..Default::default() }),
            ..Default::default()
        }),
        ..acervo_tests::catalog_row(i, "p")
    };
    if rng.below(3) == 0 {
        a.descriptive.embargo_until = Some(random_time(rng));
    }
    a
}

fn key(t: DateTime<Utc>, interval: DateInterval) -> String {
    let format = match interval {
        DateInterval::Day => "%Y-%m-%d",
        DateInterval::Month => "%Y-%m",
        DateInterval::Year => "%Y",
    };
    t.format(format).to_string()
}

fn dates(a: &Asset) -> [Option<DateTime<Utc>>; 3] {
    let taken = a.technical.as_ref().and_then(|t| t.exif.as_ref()).and_then(|e| e.taken_at);
    [Some(a.created_at), taken.map(|t| t.and_utc()), a.descriptive.embargo_until]
}

fn duration_ms(a: &Asset) -> Option<u64> {
    a.technical.as_ref().and_then(|t| t.duration_seconds).map(|s| (s * 1000.0).round() as u64)
}

fn as_counts(buckets: &[DateBucket]) -> BTreeMap<String, u64> {
    buckets.iter().map(|b| (b.key.clone(), b.count)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn date_histograms_and_duration_ranges_equal_counts_over_the_matching_assets() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(1204);
    let assets: Vec<Asset> = (0..N).map(|i| asset(&mut rng, i)).collect();
    let catalog = Catalog::open(dir.path().join("catalog"), 8).await.unwrap();
    catalog.append_assets(&assets).await.unwrap();
    let mut cfg = AcervoConfig::defaults();
    cfg.search.embedding_dim = 8;
    let index = SearchIndex::open(&dir.path().join("search"), &cfg.search, &catalog).await.unwrap();
    let scope = ReadScope::everything();

    let searches: [(&str, &str, SearchFilter); 3] = [
        ("everything", "", SearchFilter::default()),
        ("a word", "pleno", SearchFilter::default()),
        ("videos", "", SearchFilter { kind: Some(MediaKind::Video), ..Default::default() }),
    ];
    let mut checked_buckets = 0;
    for (what, q, filter) in &searches {
        let matching: Vec<&Asset> = assets
            .iter()
            .filter(|a| a.status != AssetStatus::Deleted)
            .filter(|a| q.is_empty() || a.title.starts_with("Pleno"))
            .filter(|a| filter.kind.is_none_or(|k| a.kind == k))
            .collect();
        for interval in [DateInterval::Day, DateInterval::Month, DateInterval::Year] {
            let req = SearchRequest {
                q: (*q).into(),
                filter: filter.clone(),
                interval,
                limit: 1,
                ..Default::default()
            };
            let res = index.search(&req, &scope).unwrap();
            assert_eq!(res.total, Some(matching.len() as u64), "{what}");
            let facets = res.facets.expect("facets asked for");
            assert_eq!(facets.interval, interval);
            for (i, (name, got)) in [
                ("created", &facets.created),
                ("taken", &facets.taken),
                ("embargo", &facets.embargo),
            ]
            .into_iter()
            .enumerate()
            {
                let mut expected: BTreeMap<String, u64> = BTreeMap::new();
                for a in &matching {
                    if let Some(t) = dates(a)[i] {
                        *expected.entry(key(t, interval)).or_default() += 1;
                    }
                }
                assert_eq!(as_counts(got), expected, "{name} by {interval:?} for {what}");
                assert!(
                    got.windows(2).all(|w| w[0].to <= w[1].from),
                    "{name} buckets oldest first, not overlapping"
                );
            }

            // Each month and year bucket's bounds, as a range filter, find its assets.
            if interval == DateInterval::Day {
                continue;
            }
            for (name, buckets) in [("created", &facets.created), ("taken", &facets.taken)] {
                for b in buckets.iter().step_by(7) {
                    let mut f = filter.clone();
                    if name == "created" {
                        (f.created_from, f.created_to) = (Some(b.from), Some(b.to));
                    } else {
                        (f.taken_from, f.taken_to) = (Some(b.from), Some(b.to));
                    }
                    let narrowed =
                        SearchRequest { q: (*q).into(), filter: f, limit: 1, ..req.clone() };
                    let n = index.search(&narrowed, &scope).unwrap().total;
                    assert_eq!(n, Some(b.count), "{name} bucket {} for {what}", b.key);
                    checked_buckets += 1;
                }
            }
        }

        // Durations: every range, with counts from the assets; its bounds as a filter.
        let req = SearchRequest {
            q: (*q).into(),
            filter: filter.clone(),
            limit: 1,
            ..Default::default()
        };
        let facets = index.search(&req, &scope).unwrap().facets.unwrap();
        assert_eq!(facets.duration.len(), DURATION_RANGES.len());
        let mut in_some_range = 0;
        for b in &facets.duration {
            let min_ms = (b.min_seconds * 1000.0).round() as u64;
            let max_ms = b.max_seconds.map(|s| (s * 1000.0).round() as u64);
            let expected = matching
                .iter()
                .filter_map(|a| duration_ms(a))
                .filter(|d| *d >= min_ms && max_ms.is_none_or(|m| *d <= m))
                .count() as u64;
            assert_eq!(b.count, expected, "duration {} for {what}", b.key);
            in_some_range += b.count;
            let f = SearchFilter {
                duration_min_ms: Some(min_ms),
                duration_max_ms: max_ms,
                ..filter.clone()
            };
            let narrowed = SearchRequest { filter: f, ..req.clone() };
            assert_eq!(index.search(&narrowed, &scope).unwrap().total, Some(b.count), "{}", b.key);
        }
        let with_duration = matching.iter().filter(|a| duration_ms(a).is_some()).count() as u64;
        assert_eq!(in_some_range, with_duration, "the ranges cover every duration once ({what})");
    }
    assert!(checked_buckets > 30, "only {checked_buckets} buckets checked");
}
