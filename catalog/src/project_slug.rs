//! Projects are addressed by a slug: lower-case ASCII letters, digits and hyphens, starting with
//! a letter or digit, at most 64 characters (`informativos`, `deportes-2026`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectSlug(String);

/// Why a text is not a project slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a project slug (lower-case letters, digits and hyphens, at most 64, not starting with a hyphen)"
)]
pub struct BadProjectSlug(pub String);

impl ProjectSlug {
    pub const MAX_LEN: usize = 64;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProjectSlug {
    type Err = BadProjectSlug;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && !s.starts_with('-')
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(ProjectSlug(s.to_string())) } else { Err(BadProjectSlug(s.to_string())) }
    }
}

impl TryFrom<String> for ProjectSlug {
    type Error = BadProjectSlug;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ProjectSlug> for String {
    fn from(s: ProjectSlug) -> String {
        s.0
    }
}

impl fmt::Display for ProjectSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ProjectSlug;

    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        for good in ["informativos", "deportes-2026", "a", "2026"] {
            assert_eq!(good.parse::<ProjectSlug>().map(|s| s.to_string()), Ok(good.to_string()));
        }
        for bad in ["", "Informativos", "-x", "con espacio", "ñu", &"x".repeat(65)] {
            assert!(bad.parse::<ProjectSlug>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_refuses_a_bad_slug() {
        assert!(serde_json::from_str::<ProjectSlug>("\"Bad Slug\"").is_err());
        assert_eq!(serde_json::from_str::<ProjectSlug>("\"news\"").unwrap().as_str(), "news");
    }
}
