//! Secrets from the operating system's generator, their storage form (a SHA-256, for secrets
//! of 256 random bits, where a slow hash adds nothing) and comparisons that take the same time
//! whatever matches.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::IdentityError;

pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], IdentityError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out)
        .map_err(|_| IdentityError::Invalid("the system's random generator failed".into()))?;
    Ok(out)
}

/// 256 random bits, URL-safe.
pub(crate) fn token() -> Result<String, IdentityError> {
    Ok(URL_SAFE_NO_PAD.encode(bytes::<32>()?))
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()))
}

pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// A password a person can type from a printout: 20 characters from 56 unambiguous ones
/// (about 116 bits).
pub(crate) fn password() -> Result<String, IdentityError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let raw = bytes::<20>()?;
    // 256 is not a multiple of 56: the first 32 letters come up a little more often (under 1 %
    // of the entropy), which is no weakness for a one-time password.
    Ok(raw.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ_and_are_url_safe() {
        let (a, b) = (super::token().unwrap(), super::token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(super::password().unwrap().len(), 20);
    }
}
