//! Arrow schemas of the catalog tables. The Lance tables are written with exactly these, so
//! pylance, DuckDB or Polars read them without Acervo.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn tags() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

/// `assets`: one row per asset, keyed by `id`.
pub static ASSETS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("description", DataType::Utf8, false),
        Field::new("tags", tags(), false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("mime", DataType::Utf8, false),
        Field::new("size", DataType::UInt64, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("master_key", DataType::Utf8, false),
        Field::new("original_filename", DataType::Utf8, false),
        Field::new("project", DataType::Utf8, false),
        Field::new("owner", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("status_reason", DataType::Utf8, true),
        Field::new("created_at", ts(), false),
        Field::new("updated_at", ts(), false),
        Field::new("deleted_at", ts(), true),
        Field::new("retention_until", ts(), true),
        Field::new("container", DataType::Utf8, true),
        Field::new("duration_seconds", DataType::Float64, true),
        Field::new("width", DataType::UInt32, true),
        Field::new("height", DataType::UInt32, true),
        Field::new("fps", DataType::Float64, true),
        Field::new("video_codec", DataType::Utf8, true),
        Field::new("audio_codec", DataType::Utf8, true),
        Field::new("bitrate", DataType::UInt64, true),
        Field::new("sample_rate", DataType::UInt32, true),
        Field::new("channels", DataType::UInt32, true),
        Field::new("exif_camera_make", DataType::Utf8, true),
        Field::new("exif_camera_model", DataType::Utf8, true),
        Field::new("exif_taken_at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("exif_gps_latitude", DataType::Float64, true),
        Field::new("exif_gps_longitude", DataType::Float64, true),
        Field::new("exif_orientation", DataType::UInt16, true),
        // Stage states as JSON ({"probe":{"state":"done"},…}): their shape grows with new stages.
        Field::new("stages", DataType::Utf8, false),
        Field::new("labels", tags(), false),
        Field::new("ocr_text", DataType::Utf8, false),
        Field::new("transcript_text", DataType::Utf8, false),
        // Suggestion details as JSON (label scores, language, model per part); null when none.
        Field::new("ai", DataType::Utf8, true),
        // Null in rows written before the workflow existed: read as `draft`.
        Field::new("editorial_status", DataType::Utf8, true),
        Field::new("collections", tags(), true),
        // The descriptive fields (`Descriptive`), null until set.
        Field::new("category", DataType::Utf8, true),
        Field::new("creator", DataType::Utf8, true),
        Field::new("credit", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("copyright", DataType::Utf8, true),
        Field::new("licence", DataType::Utf8, true),
        Field::new("usage_terms", DataType::Utf8, true),
        Field::new("rights_expire_at", ts(), true),
        Field::new("embargo_until", ts(), true),
        Field::new("location", DataType::Utf8, true),
        Field::new("latitude", DataType::Float64, true),
        Field::new("longitude", DataType::Float64, true),
        Field::new("people", tags(), true),
        Field::new("language", DataType::Utf8, true),
        Field::new("story", DataType::Utf8, true),
        // A legal hold (`LegalHold`): all three null when there is none.
        Field::new("legal_hold_by", DataType::Utf8, true),
        Field::new("legal_hold_at", ts(), true),
        Field::new("legal_hold_reason", DataType::Utf8, true),
    ]))
});

/// `renditions`: one row per (asset_id, profile).
pub static RENDITIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("asset_id", DataType::Utf8, false),
        Field::new("profile", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, false),
        Field::new("mime", DataType::Utf8, false),
        Field::new("width", DataType::UInt32, true),
        Field::new("height", DataType::UInt32, true),
        Field::new("size", DataType::UInt64, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("created_at", ts(), false),
    ]))
});

/// `segments`: timed transcript pieces, many per asset; an asset's set is replaced as a whole.
pub static SEGMENTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("asset_id", DataType::Utf8, false),
        Field::new("start_ms", DataType::UInt64, false),
        Field::new("end_ms", DataType::UInt64, false),
        Field::new("text", DataType::Utf8, false),
        // The speech model (name@version); null for imported transcripts.
        Field::new("model", DataType::Utf8, true),
    ]))
});

/// `frames`: what the picture models found in each sampled video frame; an asset's set is
/// replaced as a whole.
pub static FRAMES: LazyLock<SchemaRef> = LazyLock::new(|| {
    let scores = DataType::List(Arc::new(Field::new("item", DataType::Float32, true)));
    Arc::new(Schema::new(vec![
        Field::new("asset_id", DataType::Utf8, false),
        Field::new("at_ms", DataType::UInt64, false),
        Field::new("ocr_text", DataType::Utf8, false),
        Field::new("labels", tags(), false),
        // The score of each label, in the same order.
        Field::new("label_scores", scores, false),
        Field::new("ocr_model", DataType::Utf8, true),
        Field::new("label_model", DataType::Utf8, true),
    ]))
});

/// `audit`: who did what to which resource, when, from where, and how it ended; append-only,
/// each row chained to the one before by its hash (`audit::AuditRow`).
pub static AUDIT: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("seq", DataType::UInt64, false),
        Field::new("at", ts(), false),
        Field::new("who", DataType::Utf8, false),
        Field::new("action", DataType::Utf8, false),
        Field::new("resource", DataType::Utf8, false),
        Field::new("result", DataType::Utf8, false),
        Field::new("status", DataType::UInt16, true),
        Field::new("client_ip", DataType::Utf8, false),
        Field::new("user_agent", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("prev_hash", DataType::Utf8, false),
        Field::new("hash", DataType::Utf8, false),
    ]))
});

/// `history`: one row per intent that changed an asset, keyed by its log offset `seq`; the
/// fields before and after as JSON objects (`history::HistoryEntry`).
pub static HISTORY: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("asset_id", DataType::Utf8, false),
        Field::new("seq", DataType::UInt64, false),
        Field::new("at", ts(), false),
        Field::new("principal", DataType::Utf8, false),
        Field::new("change", DataType::Utf8, false),
        Field::new("before", DataType::Utf8, false),
        Field::new("after", DataType::Utf8, false),
    ]))
});

/// `embeddings`: asset vectors (`at_ms` null) and frame vectors, L2-normalised, `dim` wide.
pub fn embeddings(dim: usize) -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    Arc::new(Schema::new(vec![
        Field::new("asset_id", DataType::Utf8, false),
        Field::new("ord", DataType::UInt32, false),
        Field::new("vkey", DataType::UInt64, false),
        Field::new("at_ms", DataType::UInt64, true),
        Field::new("vector", DataType::FixedSizeList(item, dim as i32), false),
        // The text model that made the vector (name@version); null for vectors imported as is.
        Field::new("model", DataType::Utf8, true),
    ]))
}
