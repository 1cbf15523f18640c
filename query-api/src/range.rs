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
