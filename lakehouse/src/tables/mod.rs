//! The Lance catalog tables (`assets`, `renditions`, `segments`, `embeddings`, `frames`,
//! `audit`, `history`): upserts, a purge's rewrite, keyed by id, reads, and SQL through DataFusion. The tables are a materialised
//! view of the event log, written by the dataflow alone; `audit` is the audit trail's, appended
//! by it alone.

mod asset_rows;
mod audit_table;
mod catalog;
mod enrichment_tables;
mod filter;
mod history_table;
mod purge_tables;
mod vector_keys;

pub use asset_rows::{
    RowError, assets_to_batch, batch_to_assets, batch_to_renditions, renditions_to_batch,
};
pub use catalog::{Catalog, CatalogError, MasterRef};
pub use enrichment_tables::{batch_to_embeddings, batch_to_segments};
pub use filter::{AssetFilter, quote};
pub use purge_tables::Forgotten;
