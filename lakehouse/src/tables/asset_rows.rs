//! Conversion between catalog types and the Arrow rows of the `assets` and `renditions` tables.

use std::sync::Arc;

use acervo_catalog::schema::{ASSETS, RENDITIONS};
use acervo_catalog::{AiInfo, Asset, AssetId, ImageExif, Rendition, Stages, TechnicalMetadata};
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::ArrowError;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("building a record batch: {0}")]
    Arrow(#[from] ArrowError),
    #[error("catalog row has no column {0:?} of the expected type")]
    MissingColumn(&'static str),
    #[error("catalog row {row}: bad value in column {column:?}: {reason}")]
    BadValue { row: usize, column: &'static str, reason: String },
}

fn ts(values: impl Iterator<Item = Option<DateTime<Utc>>>) -> ArrayRef {
    Arc::new(
        TimestampMicrosecondArray::from(
            values.map(|v| v.map(|t| t.timestamp_micros())).collect::<Vec<_>>(),
        )
        .with_timezone("UTC"),
    )
}

fn exif(a: &Asset) -> Option<&ImageExif> {
    a.technical.as_ref().and_then(|t| t.exif.as_ref())
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn opt_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

pub(super) fn string_lists<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for list in lists {
        for v in list {
            b.values().append_value(v);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

pub(super) fn list_at(
    list: &arrow_array::ListArray,
    i: usize,
    column: &'static str,
) -> Result<Vec<String>, RowError> {
    let values = list.value(i);
    let values = values.as_string_opt::<i32>().ok_or(RowError::MissingColumn(column))?;
    Ok(values.iter().flatten().map(str::to_string).collect())
}

pub fn assets_to_batch(assets: &[Asset]) -> Result<RecordBatch, RowError> {
    let tech = |f: &dyn Fn(&TechnicalMetadata) -> Option<f64>| -> Vec<Option<f64>> {
        assets.iter().map(|a| a.technical.as_ref().and_then(f)).collect()
    };
    let tech_u32 = |f: &dyn Fn(&TechnicalMetadata) -> Option<u32>| -> ArrayRef {
        Arc::new(UInt32Array::from(
            assets.iter().map(|a| a.technical.as_ref().and_then(f)).collect::<Vec<_>>(),
        ))
    };
    let tech_str = |f: &dyn Fn(&TechnicalMetadata) -> Option<&str>| -> ArrayRef {
        opt_strings(assets.iter().map(|a| a.technical.as_ref().and_then(f)))
    };

    let tags = string_lists(assets.iter().map(|a| &a.tags));
    let labels = string_lists(assets.iter().map(|a| &a.labels));
    let stages: Vec<String> = assets
        .iter()
        .map(|a| serde_json::to_string(&a.stages).unwrap_or_else(|_| "{}".into()))
        .collect();
    let ai: Vec<Option<String>> = assets
        .iter()
        .map(|a| (!a.ai.is_empty()).then(|| serde_json::to_string(&a.ai).unwrap_or_default()))
        .collect();

    let columns: Vec<ArrayRef> = vec![
        strings(
            assets.iter().map(|a| a.id.to_string()).collect::<Vec<_>>().iter().map(String::as_str),
        ),
        strings(assets.iter().map(|a| a.title.as_str())),
        strings(assets.iter().map(|a| a.description.as_str())),
        tags,
        strings(assets.iter().map(|a| a.kind.as_str())),
        strings(assets.iter().map(|a| a.mime.as_str())),
        Arc::new(UInt64Array::from_iter_values(assets.iter().map(|a| a.size))),
        strings(assets.iter().map(|a| a.sha256.as_str())),
        strings(assets.iter().map(|a| a.master_key.as_str())),
        strings(assets.iter().map(|a| a.original_filename.as_str())),
        strings(assets.iter().map(|a| a.project.as_str())),
        strings(assets.iter().map(|a| a.owner.as_str())),
        strings(assets.iter().map(|a| a.status.as_str())),
        opt_strings(assets.iter().map(|a| a.status_reason.as_deref())),
        ts(assets.iter().map(|a| Some(a.created_at))),
        ts(assets.iter().map(|a| Some(a.updated_at))),
        ts(assets.iter().map(|a| a.deleted_at)),
        ts(assets.iter().map(|a| a.retention_until)),
        tech_str(&|t| t.container.as_deref()),
        Arc::new(Float64Array::from(tech(&|t| t.duration_seconds))),
        tech_u32(&|t| t.width),
        tech_u32(&|t| t.height),
        Arc::new(Float64Array::from(tech(&|t| t.fps))),
        tech_str(&|t| t.video_codec.as_deref()),
        tech_str(&|t| t.audio_codec.as_deref()),
        Arc::new(UInt64Array::from(
            assets.iter().map(|a| a.technical.as_ref().and_then(|t| t.bitrate)).collect::<Vec<_>>(),
        )),
        tech_u32(&|t| t.sample_rate),
        tech_u32(&|t| t.channels),
        opt_strings(assets.iter().map(|a| exif(a).and_then(|e| e.camera_make.as_deref()))),
        opt_strings(assets.iter().map(|a| exif(a).and_then(|e| e.camera_model.as_deref()))),
        Arc::new(TimestampMicrosecondArray::from(
            assets
                .iter()
                .map(|a| exif(a).and_then(|e| e.taken_at).map(|t| t.and_utc().timestamp_micros()))
                .collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            assets.iter().map(|a| exif(a).and_then(|e| e.gps_latitude)).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            assets.iter().map(|a| exif(a).and_then(|e| e.gps_longitude)).collect::<Vec<_>>(),
        )),
        Arc::new(UInt16Array::from(
            assets.iter().map(|a| exif(a).and_then(|e| e.orientation)).collect::<Vec<_>>(),
        )),
        strings(stages.iter().map(String::as_str)),
        labels,
        strings(assets.iter().map(|a| a.ocr_text.as_str())),
        strings(assets.iter().map(|a| a.transcript_text.as_str())),
        opt_strings(ai.iter().map(Option::as_deref)),
        strings(assets.iter().map(|a| a.editorial_status.as_str())),
        string_lists(assets.iter().map(|a| &a.collections)),
        opt_strings(assets.iter().map(|a| a.descriptive.category.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.creator.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.credit.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.source.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.copyright.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.licence.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.usage_terms.as_deref())),
        ts(assets.iter().map(|a| a.descriptive.rights_expire_at)),
        ts(assets.iter().map(|a| a.descriptive.embargo_until)),
        opt_strings(assets.iter().map(|a| a.descriptive.location.as_deref())),
        Arc::new(Float64Array::from(
            assets.iter().map(|a| a.descriptive.latitude).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            assets.iter().map(|a| a.descriptive.longitude).collect::<Vec<_>>(),
        )),
        string_lists(assets.iter().map(|a| &a.descriptive.people)),
        opt_strings(assets.iter().map(|a| a.descriptive.language.as_deref())),
        opt_strings(assets.iter().map(|a| a.descriptive.story.as_deref())),
        opt_strings(assets.iter().map(|a| a.legal_hold.as_ref().map(|h| h.by.as_str()))),
        ts(assets.iter().map(|a| a.legal_hold.as_ref().map(|h| h.at))),
        opt_strings(assets.iter().map(|a| a.legal_hold.as_ref().map(|h| h.reason.as_str()))),
    ];
    Ok(RecordBatch::try_new(ASSETS.clone(), columns)?)
}

/// Typed access to the columns of a batch read back from a table, by name.
struct Columns<'a>(&'a RecordBatch);

impl<'a> Columns<'a> {
    fn col(&self, name: &'static str) -> Result<&'a ArrayRef, RowError> {
        self.0.column_by_name(name).ok_or(RowError::MissingColumn(name))
    }
    fn str(&self, name: &'static str) -> Result<&'a StringArray, RowError> {
        self.col(name)?.as_string_opt::<i32>().ok_or(RowError::MissingColumn(name))
    }
    fn f64(&self, name: &'static str) -> Result<&'a Float64Array, RowError> {
        self.col(name)?.as_primitive_opt::<Float64Type>().ok_or(RowError::MissingColumn(name))
    }
    fn u32(&self, name: &'static str) -> Result<&'a UInt32Array, RowError> {
        self.col(name)?.as_primitive_opt::<UInt32Type>().ok_or(RowError::MissingColumn(name))
    }
    fn u64(&self, name: &'static str) -> Result<&'a UInt64Array, RowError> {
        self.col(name)?.as_primitive_opt::<UInt64Type>().ok_or(RowError::MissingColumn(name))
    }
    fn u16(&self, name: &'static str) -> Result<&'a UInt16Array, RowError> {
        self.col(name)?.as_primitive_opt::<UInt16Type>().ok_or(RowError::MissingColumn(name))
    }
    fn ts(&self, name: &'static str) -> Result<&'a TimestampMicrosecondArray, RowError> {
        self.col(name)?
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or(RowError::MissingColumn(name))
    }
}

fn opt<A: Array, T>(a: &A, i: usize, get: impl Fn(&A, usize) -> T) -> Option<T> {
    if a.is_null(i) { None } else { Some(get(a, i)) }
}

fn utc(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

pub fn batch_to_assets(batch: &RecordBatch) -> Result<Vec<Asset>, RowError> {
    let c = Columns(batch);
    let (id, title, description, kind, mime, sha256) = (
        c.str("id")?,
        c.str("title")?,
        c.str("description")?,
        c.str("kind")?,
        c.str("mime")?,
        c.str("sha256")?,
    );
    let (master_key, original_filename, project, owner, status, status_reason) = (
        c.str("master_key")?,
        c.str("original_filename")?,
        c.str("project")?,
        c.str("owner")?,
        c.str("status")?,
        c.str("status_reason")?,
    );
    let tags = c.col("tags")?.as_list_opt::<i32>().ok_or(RowError::MissingColumn("tags"))?;
    let labels = c.col("labels")?.as_list_opt::<i32>().ok_or(RowError::MissingColumn("labels"))?;
    let (ocr_text, transcript_text) = (c.str("ocr_text")?, c.str("transcript_text")?);
    let size = c.u64("size")?;
    let (created_at, updated_at, deleted_at, retention_until) =
        (c.ts("created_at")?, c.ts("updated_at")?, c.ts("deleted_at")?, c.ts("retention_until")?);
    let (container, duration, width, height, fps) = (
        c.str("container")?,
        c.f64("duration_seconds")?,
        c.u32("width")?,
        c.u32("height")?,
        c.f64("fps")?,
    );
    let (vcodec, acodec, bitrate, sample_rate, channels) = (
        c.str("video_codec")?,
        c.str("audio_codec")?,
        c.u64("bitrate")?,
        c.u32("sample_rate")?,
        c.u32("channels")?,
    );
    let (make, model, taken, lat, lon, orientation) = (
        c.str("exif_camera_make")?,
        c.str("exif_camera_model")?,
        c.ts("exif_taken_at")?,
        c.f64("exif_gps_latitude")?,
        c.f64("exif_gps_longitude")?,
        c.u16("exif_orientation")?,
    );
    let stages = c.str("stages")?;
    // Tables written before the column existed have none: no suggestion details.
    let ai = c.str("ai").ok();
    // Null in rows written before the workflow existed (read as draft, in no collection).
    let editorial = c.str("editorial_status").ok();
    let collections = c.col("collections").ok().and_then(|l| l.as_list_opt::<i32>());
    // A projection without them reads as nothing set.
    let d = Described::of(&c).ok();
    let hold = match (c.str("legal_hold_by"), c.ts("legal_hold_at"), c.str("legal_hold_reason")) {
        (Ok(by), Ok(at), Ok(reason)) => Some((by, at, reason)),
        _ => None,
    };

    let bad = |row: usize, column: &'static str, reason: String| RowError::BadValue {
        row,
        column,
        reason,
    };
    let s = |a: &StringArray, i: usize| a.value(i).to_string();
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let exif = ImageExif {
            camera_make: opt(make, i, s),
            camera_model: opt(model, i, s),
            taken_at: opt(taken, i, |a, i| a.value(i))
                .and_then(DateTime::from_timestamp_micros)
                .map(|t| t.naive_utc()),
            gps_latitude: opt(lat, i, |a, i| a.value(i)),
            gps_longitude: opt(lon, i, |a, i| a.value(i)),
            orientation: opt(orientation, i, |a, i| a.value(i)),
        };
        let has_exif = exif != ImageExif::default();
        let technical = TechnicalMetadata {
            container: opt(container, i, s),
            duration_seconds: opt(duration, i, |a, i| a.value(i)),
            width: opt(width, i, |a, i| a.value(i)),
            height: opt(height, i, |a, i| a.value(i)),
            fps: opt(fps, i, |a, i| a.value(i)),
            video_codec: opt(vcodec, i, s),
            audio_codec: opt(acodec, i, s),
            bitrate: opt(bitrate, i, |a, i| a.value(i)),
            sample_rate: opt(sample_rate, i, |a, i| a.value(i)),
            channels: opt(channels, i, |a, i| a.value(i)),
            exif: has_exif.then_some(exif),
        };
        let stages: Stages =
            serde_json::from_str(stages.value(i)).map_err(|e| bad(i, "stages", e.to_string()))?;
        out.push(Asset {
            id: id.value(i).parse::<AssetId>().map_err(|e| bad(i, "id", e.to_string()))?,
            title: s(title, i),
            description: s(description, i),
            tags: list_at(tags, i, "tags")?,
            kind: kind.value(i).parse().map_err(
                |e: acervo_catalog::media_kind::UnknownMediaKind| bad(i, "kind", e.to_string()),
            )?,
            mime: s(mime, i),
            size: size.value(i),
            sha256: s(sha256, i),
            master_key: s(master_key, i),
            original_filename: s(original_filename, i),
            project: s(project, i),
            owner: s(owner, i),
            status: status.value(i).parse().map_err(
                |e: acervo_catalog::status::UnknownStatus| bad(i, "status", e.to_string()),
            )?,
            status_reason: opt(status_reason, i, s),
            created_at: utc(created_at.value(i)),
            updated_at: utc(updated_at.value(i)),
            deleted_at: opt(deleted_at, i, |a, i| utc(a.value(i))),
            retention_until: opt(retention_until, i, |a, i| utc(a.value(i))),
            technical: (technical != TechnicalMetadata::default()).then_some(technical),
            stages,
            labels: list_at(labels, i, "labels")?,
            ocr_text: s(ocr_text, i),
            transcript_text: s(transcript_text, i),
            ai: match ai.and_then(|a| opt(a, i, s)) {
                Some(json) => {
                    serde_json::from_str(&json).map_err(|e| bad(i, "ai", e.to_string()))?
                }
                None => AiInfo::default(),
            },
            editorial_status: match editorial.and_then(|a| opt(a, i, s)) {
                Some(v) => v.parse().map_err(
                    |e: acervo_catalog::editorial_status::UnknownEditorialStatus| {
                        bad(i, "editorial_status", e.to_string())
                    },
                )?,
                None => Default::default(),
            },
            descriptive: d.as_ref().map(|d| d.at(i)).transpose()?.unwrap_or_default(),
            legal_hold: hold.and_then(|(by, at, reason)| {
                Some(acervo_catalog::LegalHold {
                    by: opt(by, i, s)?,
                    at: opt(at, i, |a, i| utc(a.value(i)))?,
                    reason: opt(reason, i, s)?,
                })
            }),
            collections: match collections {
                Some(l) if !l.is_null(i) => list_at(l, i, "collections")?,
                _ => Vec::new(),
            },
        });
    }
    Ok(out)
}

/// The descriptive columns of a batch (a table of an older Acervo gets them added as nulls when
/// it is opened).
struct Described<'a> {
    text: Vec<&'a StringArray>,
    rights: &'a TimestampMicrosecondArray,
    embargo: &'a TimestampMicrosecondArray,
    latitude: &'a Float64Array,
    longitude: &'a Float64Array,
    people: &'a arrow_array::ListArray,
}

/// The descriptive text columns, in the order `Described::at` reads them.
const DESCRIBED_TEXT: [&str; 10] = [
    "category",
    "creator",
    "credit",
    "source",
    "copyright",
    "licence",
    "usage_terms",
    "location",
    "language",
    "story",
];

impl<'a> Described<'a> {
    fn of(c: &Columns<'a>) -> Result<Self, RowError> {
        Ok(Described {
            text: DESCRIBED_TEXT.iter().map(|n| c.str(n)).collect::<Result<_, _>>()?,
            rights: c.ts("rights_expire_at")?,
            embargo: c.ts("embargo_until")?,
            latitude: c.f64("latitude")?,
            longitude: c.f64("longitude")?,
            people: c
                .col("people")?
                .as_list_opt::<i32>()
                .ok_or(RowError::MissingColumn("people"))?,
        })
    }

    fn at(&self, i: usize) -> Result<acervo_catalog::Descriptive, RowError> {
        let t = |k: usize| opt(self.text[k], i, |a, i| a.value(i).to_string());
        Ok(acervo_catalog::Descriptive {
            category: t(0),
            creator: t(1),
            credit: t(2),
            source: t(3),
            copyright: t(4),
            licence: t(5),
            usage_terms: t(6),
            location: t(7),
            language: t(8),
            story: t(9),
            rights_expire_at: opt(self.rights, i, |a, i| utc(a.value(i))),
            embargo_until: opt(self.embargo, i, |a, i| utc(a.value(i))),
            latitude: opt(self.latitude, i, |a, i| a.value(i)),
            longitude: opt(self.longitude, i, |a, i| a.value(i)),
            people: if self.people.is_null(i) {
                Vec::new()
            } else {
                list_at(self.people, i, "people")?
            },
        })
    }
}

pub fn renditions_to_batch(rs: &[Rendition]) -> Result<RecordBatch, RowError> {
    let ids: Vec<String> = rs.iter().map(|r| r.asset_id.to_string()).collect();
    let columns: Vec<ArrayRef> = vec![
        strings(ids.iter().map(String::as_str)),
        strings(rs.iter().map(|r| r.profile.as_str())),
        strings(rs.iter().map(|r| r.key.as_str())),
        strings(rs.iter().map(|r| r.mime.as_str())),
        Arc::new(UInt32Array::from(rs.iter().map(|r| r.width).collect::<Vec<_>>())),
        Arc::new(UInt32Array::from(rs.iter().map(|r| r.height).collect::<Vec<_>>())),
        Arc::new(UInt64Array::from_iter_values(rs.iter().map(|r| r.size))),
        strings(rs.iter().map(|r| r.sha256.as_str())),
        ts(rs.iter().map(|r| Some(r.created_at))),
    ];
    Ok(RecordBatch::try_new(RENDITIONS.clone(), columns)?)
}

pub fn batch_to_renditions(batch: &RecordBatch) -> Result<Vec<Rendition>, RowError> {
    let c = Columns(batch);
    let (asset_id, profile, key, mime, sha256) =
        (c.str("asset_id")?, c.str("profile")?, c.str("key")?, c.str("mime")?, c.str("sha256")?);
    let (width, height, size, created_at) =
        (c.u32("width")?, c.u32("height")?, c.u64("size")?, c.ts("created_at")?);
    (0..batch.num_rows())
        .map(|i| {
            Ok(Rendition {
                asset_id: asset_id.value(i).parse().map_err(|e: uuid::Error| {
                    RowError::BadValue { row: i, column: "asset_id", reason: e.to_string() }
                })?,
                profile: profile.value(i).to_string(),
                key: key.value(i).to_string(),
                mime: mime.value(i).to_string(),
                width: opt(width, i, |a, i| a.value(i)),
                height: opt(height, i, |a, i| a.value(i)),
                size: size.value(i),
                sha256: sha256.value(i).to_string(),
                created_at: utc(created_at.value(i)),
            })
        })
        .collect()
}
