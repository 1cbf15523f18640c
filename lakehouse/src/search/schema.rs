//! The tantivy schemas of the search index: one document per asset (its text in the field of
//! its language, exact filter and facet columns, the stored summary a result card needs) and
//! one per transcript segment (for "jump to the moment").

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, SchemaBuilder,
    TextFieldIndexing, TextOptions,
};

use super::analysis::Lang;

/// The asset fields searched together, with their weights (seed 001: title first).
///
/// They are indexed as one field per language, BM25F style: each word of a field counts
/// `weight` times in the term frequency and the length. One field per word keeps a query of
/// several words a plain intersection of term postings, which tantivy scores with block-max
/// pruning; a union over per-field postings per word cannot be pruned and was 2x slower than
/// tantivy itself at a million assets (benchmarks/search).
pub const TEXT_FIELDS: [(&str, u32); 7] = [
    ("title", 3),
    ("description", 2),
    ("tags", 2),
    ("transcript", 1),
    ("ocr", 1),
    ("labels", 1),
    // The descriptive fields' words: byline, credit, copyright, place, people, story…
    ("credits", 1),
];

/// The length BM25 sees for a field of `tokens` weighted tokens: tantivy stores lengths in
/// one byte, exactly up to 40 and coarser above.
pub fn bm25_length(tokens: u32) -> u32 {
    tantivy::fieldnorm::FieldNormReader::id_to_fieldnorm(
        tantivy::fieldnorm::FieldNormReader::fieldnorm_to_id(tokens),
    )
}

/// A text field indexed with `analyzer`: positions kept for phrase queries.
fn text(analyzer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analyzer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let opts = TextOptions::default().set_indexing_options(indexing);
    if stored { opts.set_stored() } else { opts }
}

pub fn field_name(base: &str, lang: Lang) -> String {
    format!("{base}_{}", lang.code())
}

#[derive(Clone)]
pub struct AssetFields {
    pub schema: Schema,
    pub id: Field,
    pub id_hi: Field,
    pub id_lo: Field,
    pub summary: Field,
    pub kind: Field,
    pub status: Field,
    pub project: Field,
    pub editorial_status: Field,
    pub collection: Field,
    pub category: Field,
    pub source: Field,
    pub licence: Field,
    pub language: Field,
    pub story: Field,
    pub person: Field,
    pub embargo_ms: Field,
    pub rights_ms: Field,
    pub tag: Field,
    pub label: Field,
    pub created_ms: Field,
    /// EXIF `DateTimeOriginal`, read as UTC.
    pub taken_ms: Field,
    pub duration_ms: Field,
    pub vord: Field,
    /// The weighted text of the asset, one field per language (a document fills only the
    /// field of its own language).
    pub text: Vec<(Lang, Field)>,
}

impl AssetFields {
    pub fn build() -> AssetFields {
        let mut b = SchemaBuilder::new();
        let id = b.add_text_field("id", STRING | STORED);
        let id_hi = b.add_u64_field("id_hi", FAST);
        let id_lo = b.add_u64_field("id_lo", FAST);
        let summary = b.add_bytes_field("summary", STORED);
        let kind = b.add_text_field("kind", STRING | FAST);
        let status = b.add_text_field("status", STRING | FAST);
        let project = b.add_text_field("project", STRING | FAST);
        let editorial_status = b.add_text_field("editorial_status", STRING | FAST);
        let collection = b.add_text_field("collection", STRING | FAST);
        let category = b.add_text_field("category", STRING | FAST);
        let source = b.add_text_field("source", STRING | FAST);
        let licence = b.add_text_field("licence", STRING | FAST);
        let language = b.add_text_field("language", STRING | FAST);
        let story = b.add_text_field("story", STRING | FAST);
        let person = b.add_text_field("person", STRING | FAST);
        let embargo_ms = b.add_i64_field("embargo_ms", INDEXED | FAST);
        let rights_ms = b.add_i64_field("rights_ms", INDEXED | FAST);
        let tag = b.add_text_field("tag", STRING | FAST);
        let label = b.add_text_field("label", STRING | FAST);
        let created_ms = b.add_i64_field("created_ms", INDEXED | FAST);
        let taken_ms = b.add_i64_field("taken_ms", INDEXED | FAST);
        let duration_ms = b.add_u64_field("duration_ms", INDEXED | FAST);
        let vord = b.add_u64_field("vord", FAST);
        let text_fields = Lang::ALL
            .iter()
            .map(|l| {
                (*l, b.add_text_field(&field_name("text", *l), text(l.weighted_analyzer(), false)))
            })
            .collect();
        AssetFields {
            schema: b.build(),
            id,
            id_hi,
            id_lo,
            summary,
            kind,
            status,
            project,
            editorial_status,
            collection,
            category,
            source,
            licence,
            language,
            story,
            person,
            embargo_ms,
            rights_ms,
            tag,
            label,
            created_ms,
            taken_ms,
            duration_ms,
            vord,
            text: text_fields,
        }
    }

    pub fn text_field(&self, lang: Lang) -> Option<Field> {
        self.text.iter().find(|(l, _)| *l == lang).map(|t| t.1)
    }
}

#[derive(Clone)]
pub struct SegmentFields {
    pub schema: Schema,
    pub asset_id: Field,
    pub start_ms: Field,
    pub end_ms: Field,
    /// Stored once (for snippets) in the field of the segment's language.
    pub text: Vec<(Lang, Field)>,
}

impl SegmentFields {
    pub fn build() -> SegmentFields {
        let mut b = SchemaBuilder::new();
        let asset_id = b.add_text_field("asset_id", STRING | STORED);
        let start_ms = b.add_u64_field("start_ms", STORED | FAST);
        let end_ms = b.add_u64_field("end_ms", STORED);
        let text_fields = Lang::ALL
            .iter()
            .map(|l| (*l, b.add_text_field(&field_name("text", *l), text(l.analyzer(), true))))
            .collect();
        SegmentFields { schema: b.build(), asset_id, start_ms, end_ms, text: text_fields }
    }
}
