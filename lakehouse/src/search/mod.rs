//! Search beside the Lance tables: a tantivy text index (BM25F over weighted fields, one field
//! per language, Spanish and English analysis, phrases, prefixes, exact filters as cached
//! bitsets, exact facets from unpacked columns), a transcript-segment index for moments, and a
//! vector index (HNSW for broad searches, a sign-bit/int8/exact scan under narrow filters), fed
//! by the catalog writer and read through snapshots. Lance's own full-text index answered in
//! tens of milliseconds with facets at 100k assets; the goal is single-digit
//! milliseconds at a million (see benchmarks/search).

mod analysis;
mod collect;
mod execute;
mod facets;
mod filters;
mod histograms;
mod idset;
mod index;
mod kernels;
mod query;
mod request;
mod schema;
pub mod sql;
mod vectors;

pub use analysis::{Lang, analyze, detect};
pub use histograms::DURATION_RANGES;
pub use idset::OrdSet;
pub use index::{IndexBatch, SearchIndex, Snapshot};
pub use request::{
    AssetSummary, Cursor, DateBucket, DateInterval, DurationBucket, FACET_TOP, Facets, Highlights,
    Mode, Moment, MomentSource, SearchFilter, SearchHit, SearchRequest, SearchResponse,
};
pub use schema::{TEXT_FIELDS, bm25_length};
pub use vectors::{VectorHit, normalise};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadRequest(String),
    #[error("search index: {0}")]
    Index(String),
    #[error("vector index: {0}")]
    Vectors(String),
    #[error("search index directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Catalog(#[from] crate::tables::CatalogError),
}
