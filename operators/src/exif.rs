//! EXIF of photos: camera, date taken, GPS position and orientation.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use acervo_catalog::ImageExif;
use chrono::NaiveDate;
use exif::{In, Reader, Tag, Value};

/// The EXIF fields of `path`, or `None` when it carries no EXIF (most PNGs, stripped JPEGs).
/// Malformed EXIF is treated as absent: it must not fail the asset.
pub fn read_exif(path: &Path) -> Option<ImageExif> {
    let file = File::open(path).ok()?;
    let exif = Reader::new().read_from_container(&mut BufReader::new(file)).ok()?;
    let text = |tag: Tag| -> Option<String> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        match &field.value {
            Value::Ascii(parts) => {
                let s: String =
                    parts.iter().map(|p| String::from_utf8_lossy(p)).collect::<Vec<_>>().join(" ");
                let s = s.trim_matches(char::from(0)).trim().to_string();
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        }
    };
    let taken_at = exif
        .get_field(Tag::DateTimeOriginal, In::PRIMARY)
        .or_else(|| exif.get_field(Tag::DateTime, In::PRIMARY))
        .and_then(|f| match &f.value {
            Value::Ascii(parts) => parts.first().and_then(|p| exif::DateTime::from_ascii(p).ok()),
            _ => None,
        })
        .and_then(|d| {
            NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())?.and_hms_opt(
                d.hour.into(),
                d.minute.into(),
                d.second.into(),
            )
        });
    let coordinate = |value: Tag, reference: Tag| -> Option<f64> {
        let field = exif.get_field(value, In::PRIMARY)?;
        let degrees = match &field.value {
            Value::Rational(r) if r.len() >= 3 => {
                r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0
            }
            _ => return None,
        };
        let negative = matches!(text(reference).as_deref(), Some("S") | Some("W"));
        degrees.is_finite().then_some(if negative { -degrees } else { degrees })
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (1..=8).contains(o));
    let found = ImageExif {
        camera_make: text(Tag::Make),
        camera_model: text(Tag::Model),
        taken_at,
        gps_latitude: coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef),
        gps_longitude: coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef),
        orientation,
    };
    (found != ImageExif::default()).then_some(found)
}
