//! The standard descriptive fields of an asset (seed 000 §4.2.1.4): who made it and who may use
//! it, until when, from when (embargo), where, who is shown, in which language and story. Each
//! is absent until someone sets it; `DescriptivePatch` is an edit of them (absent: kept, null:
//! cleared), checked before it enters the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Text fields are at most this many characters.
const MAX_TEXT: usize = 4000;
/// Keyword fields (filtered and counted as facets) at most this many, on one line.
const MAX_KEYWORD: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Descriptive {
    /// Keyword (a facet): news, sport, culture…
    #[serde(default)]
    pub category: Option<String>,
    /// The byline: who shot, recorded or wrote it.
    #[serde(default)]
    pub creator: Option<String>,
    #[serde(default)]
    pub credit: Option<String>,
    /// Keyword (a facet): the agency or archive it came from.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub copyright: Option<String>,
    /// Keyword (a facet): the licence's name (`CC-BY-4.0`, `rights-managed`…).
    #[serde(default)]
    pub licence: Option<String>,
    #[serde(default)]
    pub usage_terms: Option<String>,
    /// After this, it may no longer be used.
    #[serde(default)]
    pub rights_expire_at: Option<DateTime<Utc>>,
    /// Not to be published before this.
    #[serde(default)]
    pub embargo_until: Option<DateTime<Utc>>,
    /// Where: a place name (searchable) and coordinates.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// People shown or heard (keywords: a facet, and searchable).
    #[serde(default)]
    pub people: Vec<String>,
    /// Keyword (a facet): the language of its content, a BCP 47 tag (`es`, `en-GB`).
    #[serde(default)]
    pub language: Option<String>,
    /// Keyword (a facet): the story or slug it belongs to.
    #[serde(default)]
    pub story: Option<String>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A time, or null, with the field named when it is not RFC 3339 (a flattened struct loses the
/// path serde would give).
fn time_of<'de, D: Deserializer<'de>>(
    d: D,
    field: &str,
) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    raw.map(|s| {
        DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(|e| {
            serde::de::Error::custom(format!("{field}: {s:?} is not an RFC 3339 time ({e})"))
        })
    })
    .transpose()
    .map(Some)
}

fn rights_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
    time_of(d, "rights_expire_at")
}

fn embargo_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
    time_of(d, "embargo_until")
}

/// An edit of the descriptive fields: an absent field is kept, `null` clears it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DescriptivePatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub creator: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub credit: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub copyright: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub licence: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub usage_terms: Option<Option<String>>,
    /// RFC 3339.
    #[serde(default, deserialize_with = "rights_time", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub rights_expire_at: Option<Option<DateTime<Utc>>>,
    /// RFC 3339.
    #[serde(default, deserialize_with = "embargo_time", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub embargo_until: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub location: Option<Option<String>>,
    /// Degrees, -90..=90 (with `longitude`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    /// Degrees, -180..=180 (with `latitude`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    /// The whole list (null or [] clears it).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub people: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub story: Option<Option<String>>,
}

/// A descriptive value that cannot be stored, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BadDescriptive {
    pub field: &'static str,
    pub reason: String,
}

fn bad(field: &'static str, reason: impl Into<String>) -> BadDescriptive {
    BadDescriptive { field, reason: reason.into() }
}

/// Trimmed; empty means cleared.
fn text(
    field: &'static str,
    v: &Option<Option<String>>,
    max: usize,
    one_line: bool,
) -> Result<Option<Option<String>>, BadDescriptive> {
    let Some(v) = v else { return Ok(None) };
    let Some(s) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Some(None));
    };
    if s.chars().count() > max {
        return Err(bad(field, format!("at most {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && (one_line || !matches!(c, '\n' | '\t'))) {
        return Err(bad(
            field,
            if one_line { "one line of printable characters" } else { "printable characters" },
        ));
    }
    Ok(Some(Some(s.to_string())))
}

fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl DescriptivePatch {
    pub fn is_empty(&self) -> bool {
        *self == DescriptivePatch::default()
    }

    /// The patch as it will be stored (trimmed, blank meaning cleared), or the first field that
    /// cannot be: too long, a keyword over several lines, a language that is not a BCP 47 tag,
    /// coordinates out of range or one without the other.
    pub fn checked(&self) -> Result<DescriptivePatch, BadDescriptive> {
        let kw = |f, v| text(f, v, MAX_KEYWORD, true);
        let tx = |f, v| text(f, v, MAX_TEXT, false);
        let language = kw("language", &self.language)?;
        if let Some(Some(l)) = &language
            && !is_language_tag(l)
        {
            return Err(bad("language", format!("{l:?} is not a BCP 47 language tag (es, en-GB)")));
        }
        let coordinate = |field: &'static str, v: &Option<Option<f64>>, limit: f64| match v {
            Some(Some(x)) if !(x.is_finite() && x.abs() <= limit) => {
                Err(bad(field, format!("{x} is out of -{limit}..={limit}")))
            }
            other => Ok(*other),
        };
        let (latitude, longitude) = (
            coordinate("latitude", &self.latitude, 90.0)?,
            coordinate("longitude", &self.longitude, 180.0)?,
        );
        if latitude.is_some() != longitude.is_some() {
            return Err(bad("latitude", "latitude and longitude are set (or cleared) together"));
        }
        let people = match &self.people {
            None => None,
            Some(list) => {
                let cleaned = crate::Asset::clean_tags(list.iter().flatten().map(String::as_str));
                if let Some(p) = cleaned
                    .iter()
                    .find(|p| p.chars().count() > MAX_KEYWORD || p.chars().any(char::is_control))
                {
                    return Err(bad(
                        "people",
                        format!("{p:?}: one line of at most {MAX_KEYWORD} characters"),
                    ));
                }
                Some((!cleaned.is_empty()).then_some(cleaned))
            }
        };
        Ok(DescriptivePatch {
            category: kw("category", &self.category)?,
            creator: tx("creator", &self.creator)?,
            credit: tx("credit", &self.credit)?,
            source: kw("source", &self.source)?,
            copyright: tx("copyright", &self.copyright)?,
            licence: kw("licence", &self.licence)?,
            usage_terms: tx("usage_terms", &self.usage_terms)?,
            rights_expire_at: self.rights_expire_at,
            embargo_until: self.embargo_until,
            location: tx("location", &self.location)?,
            latitude,
            longitude,
            people,
            language,
            story: kw("story", &self.story)?,
        })
    }

    /// Applies the patch to `d`.
    pub fn apply(&self, d: &mut Descriptive) {
        fn set<T: Clone>(into: &mut Option<T>, v: &Option<Option<T>>) {
            if let Some(v) = v {
                *into = v.clone();
            }
        }
        set(&mut d.category, &self.category);
        set(&mut d.creator, &self.creator);
        set(&mut d.credit, &self.credit);
        set(&mut d.source, &self.source);
        set(&mut d.copyright, &self.copyright);
        set(&mut d.licence, &self.licence);
        set(&mut d.usage_terms, &self.usage_terms);
        set(&mut d.rights_expire_at, &self.rights_expire_at);
        set(&mut d.embargo_until, &self.embargo_until);
        set(&mut d.location, &self.location);
        set(&mut d.latitude, &self.latitude);
        set(&mut d.longitude, &self.longitude);
        set(&mut d.language, &self.language);
        set(&mut d.story, &self.story);
        if let Some(p) = &self.people {
            d.people = p.clone().unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_keeps_null_clears_and_blank_is_null() {
        let mut d = Descriptive {
            creator: Some("Ana".into()),
            story: Some("pleno".into()),
            ..Default::default()
        };
        let p: DescriptivePatch = serde_json::from_str(
            r#"{"creator": null, "credit": "  EFE ", "category": " ", "people": ["Ana", "Ana", " Luis "]}"#,
        )
        .unwrap();
        p.checked().unwrap().apply(&mut d);
        assert_eq!(d.creator, None);
        assert_eq!(d.credit.as_deref(), Some("EFE"));
        assert_eq!(d.category, None);
        assert_eq!(d.story.as_deref(), Some("pleno"), "absent: kept");
        assert_eq!(d.people, vec!["Ana".to_string(), "Luis".to_string()]);
        let round: DescriptivePatch =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(round, p, "a patch in the log reads back the same, nulls included");
    }

    #[test]
    fn bad_values_name_their_field() {
        let check = |json: &str| {
            serde_json::from_str::<DescriptivePatch>(json).unwrap().checked().unwrap_err().field
        };
        assert_eq!(check(r#"{"language": "Spanish"}"#), "language");
        assert_eq!(check(r#"{"latitude": 91, "longitude": 0}"#), "latitude");
        assert_eq!(check(r#"{"latitude": 40}"#), "latitude");
        assert_eq!(check(r#"{"story": "two\nlines"}"#), "story");
        assert!(
            serde_json::from_str::<DescriptivePatch>(
                r#"{"language": "es-ES", "latitude": 40.4, "longitude": -3.7}"#
            )
            .unwrap()
            .checked()
            .is_ok()
        );
    }
}
