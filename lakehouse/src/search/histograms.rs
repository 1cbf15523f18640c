//! The buckets of the date and duration facets: dates are counted by UTC day (a small
//! per-segment dictionary of the days present) and grouped into days, months or years when
//! the response is built; durations fall into fixed ranges an editor thinks in.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::request::{DateBucket, DateInterval, DurationBucket};

const MS_PER_DAY: i64 = 86_400_000;
/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i64 = 719_163;

/// The UTC day (days since 1970-01-01) of a time in milliseconds since the epoch.
pub fn day_of_ms(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_DAY)
}

fn date_of_day(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(day + UNIX_EPOCH_FROM_CE).ok()?)
}

/// The first day of the bucket `date` is in, and the first day of the next one.
fn bucket_of(date: NaiveDate, interval: DateInterval) -> Option<(NaiveDate, NaiveDate)> {
    match interval {
        DateInterval::Day => Some((date, date.succ_opt()?)),
        DateInterval::Month => {
            let first = date.with_day(1)?;
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
            };
            Some((first, next))
        }
        DateInterval::Year => Some((
            NaiveDate::from_ymd_opt(date.year(), 1, 1)?,
            NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?,
        )),
    }
}

fn key_of(first: NaiveDate, interval: DateInterval) -> String {
    match interval {
        DateInterval::Day => first.format("%Y-%m-%d").to_string(),
        DateInterval::Month => first.format("%Y-%m").to_string(),
        DateInterval::Year => first.format("%Y").to_string(),
    }
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Day counts grouped into the buckets of `interval`, oldest first. Days chrono cannot place
/// (beyond year 262 143) are left out.
pub fn date_buckets(days: &HashMap<i64, u64>, interval: DateInterval) -> Vec<DateBucket> {
    let mut by_first: std::collections::BTreeMap<NaiveDate, (NaiveDate, u64)> =
        std::collections::BTreeMap::new();
    for (&day, &n) in days {
        let Some((first, next)) = date_of_day(day).and_then(|d| bucket_of(d, interval)) else {
            continue;
        };
        by_first.entry(first).or_insert((next, 0)).1 += n;
    }
    by_first
        .into_iter()
        .map(|(first, (next, count))| DateBucket {
            key: key_of(first, interval),
            from: midnight(first),
            to: midnight(next),
            count,
        })
        .collect()
}

/// The duration ranges: key and the longest duration in it, in milliseconds (each range
/// starts one millisecond after the previous one ends).
pub const DURATION_RANGES: [(&str, Option<u64>); 6] = [
    ("under_30s", Some(30_000)),
    ("30s_to_2min", Some(120_000)),
    ("2_to_10min", Some(600_000)),
    ("10_to_30min", Some(1_800_000)),
    ("30min_to_1h", Some(3_600_000)),
    ("over_1h", None),
];

/// The index in `DURATION_RANGES` of a duration in milliseconds.
pub fn duration_range(ms: u64) -> usize {
    DURATION_RANGES
        .iter()
        .position(|(_, max)| max.is_none_or(|m| ms <= m))
        .unwrap_or(DURATION_RANGES.len() - 1)
}

/// Every duration range with its count.
pub fn duration_buckets(counts: &[u64]) -> Vec<DurationBucket> {
    let mut min_ms = 0;
    DURATION_RANGES
        .iter()
        .enumerate()
        .map(|(i, (key, max))| {
            let b = DurationBucket {
                key: (*key).into(),
                min_seconds: min_ms as f64 / 1000.0,
                max_seconds: max.map(|m| m as f64 / 1000.0),
                count: counts.get(i).copied().unwrap_or(0),
            };
            min_ms = max.map_or(0, |m| m + 1);
            b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::{TimeZone, Utc};

    use super::*;

    fn day(y: i32, m: u32, d: u32, h: u32) -> i64 {
        day_of_ms(Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp_millis())
    }

    #[test]
    fn days_group_into_calendar_months_and_years_in_utc() {
        let days = HashMap::from([
            (day(2024, 2, 29, 23), 2),
            (day(2024, 2, 1, 0), 1),
            (day(2024, 12, 31, 12), 4),
            (day(2025, 1, 1, 0), 8),
            (day(1969, 12, 31, 23), 16), // before the epoch: a negative day
        ]);
        let months = date_buckets(&days, DateInterval::Month);
        let got: Vec<(&str, u64)> = months.iter().map(|b| (b.key.as_str(), b.count)).collect();
        assert_eq!(got, [("1969-12", 16), ("2024-02", 3), ("2024-12", 4), ("2025-01", 8)]);
        assert_eq!(months[3].from, Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(months[2].to, months[3].from, "December ends where January starts");
        assert_eq!(months[1].to, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap());

        let years = date_buckets(&days, DateInterval::Year);
        let got: Vec<(&str, u64)> = years.iter().map(|b| (b.key.as_str(), b.count)).collect();
        assert_eq!(got, [("1969", 16), ("2024", 7), ("2025", 8)]);

        let by_day = date_buckets(&days, DateInterval::Day);
        assert_eq!(by_day[1].key, "2024-02-01");
        assert_eq!(by_day[2].key, "2024-02-29");
        assert_eq!(by_day[2].to, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn a_day_chrono_cannot_place_is_left_out_not_a_panic() {
        let days = HashMap::from([(i64::MAX / MS_PER_DAY, 1), (day(2020, 5, 5, 5), 1)]);
        assert_eq!(date_buckets(&days, DateInterval::Year).len(), 1);
    }

    #[test]
    fn duration_ranges_meet_without_gaps_and_the_bounds_belong_to_their_range() {
        assert_eq!(duration_range(0), 0);
        assert_eq!(duration_range(30_000), 0);
        assert_eq!(duration_range(30_001), 1);
        assert_eq!(duration_range(3_600_000), 4);
        assert_eq!(duration_range(3_600_001), 5);
        assert_eq!(duration_range(u64::MAX), 5);
        let b = duration_buckets(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(b.len(), DURATION_RANGES.len());
        assert_eq!((b[1].min_seconds, b[1].max_seconds), (30.001, Some(120.0)));
        assert_eq!((b[5].min_seconds, b[5].max_seconds, b[5].count), (3600.001, None, 6));
    }
}
