//! HTTP Range (RFC 9110 §14): one byte range per request. Several ranges are answered with the
//! whole representation, which the RFC allows.

/// What to send for a Range header against a representation of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    Full,
    /// Inclusive start, exclusive end.
    Partial(u64, u64),
    Unsatisfiable,
}

pub fn answer(header: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = header.map(str::trim).and_then(|h| h.strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.parse::<u64>(), last.parse::<u64>()) {
        // bytes=-N: the last N bytes.
        _ if first.is_empty() => match last.parse::<u64>() {
            Ok(0) | Err(_) => RangeAnswer::Unsatisfiable,
            Ok(n) => RangeAnswer::Partial(size.saturating_sub(n), size),
        },
        (Ok(a), _) if a >= size => RangeAnswer::Unsatisfiable,
        (Ok(a), Ok(b)) if b >= a => RangeAnswer::Partial(a, (b + 1).min(size)),
        (Ok(a), Err(_)) if last.is_empty() => RangeAnswer::Partial(a, size),
        // Syntactically invalid ranges are ignored.
        _ => RangeAnswer::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::RangeAnswer::{Full, Partial, Unsatisfiable};
    use super::answer;

    #[test]
    fn a_first_last_range_is_inclusive_and_clipped_to_the_size() {
        assert_eq!(answer(Some("bytes=0-9"), 100), Partial(0, 10));
        assert_eq!(answer(Some("bytes=90-200"), 100), Partial(90, 100));
        assert_eq!(answer(Some("bytes= 5 - 5 "), 100), Partial(5, 6));
        assert_eq!(answer(Some("bytes=50-"), 100), Partial(50, 100));
    }

    #[test]
    fn a_suffix_range_is_the_last_bytes() {
        assert_eq!(answer(Some("bytes=-10"), 100), Partial(90, 100));
        assert_eq!(answer(Some("bytes=-500"), 100), Partial(0, 100));
        assert_eq!(answer(Some("bytes=-0"), 100), Unsatisfiable);
    }

    #[test]
    fn a_range_past_the_end_cannot_be_satisfied() {
        assert_eq!(answer(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(answer(Some("bytes=100-120"), 100), Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-0"), 0), Unsatisfiable);
    }

    #[test]
    fn anything_else_gets_the_whole_representation() {
        for h in [
            None,
            Some("items=0-1"),
            Some("bytes=9-3"),
            Some("bytes=a-b"),
            Some("bytes=0-1,5-6"),
            Some("bytes="),
        ] {
            assert_eq!(answer(h, 100), Full, "{h:?}");
        }
    }
}
