//! Acervo's end-to-end tests: one binary, split by topic.

mod ai_clip;
mod ai_embeddings;
mod ai_enrichment;
mod ai_labels;
mod ai_ocr;
mod ai_speech;
mod api_contract;
mod audit;
mod authz_matrix;
mod bad_input;
mod cli;
mod crash_recovery;
mod downloads;
mod event_log;
mod hls_browser;
mod identity;
mod identity_oidc;
mod media_pipeline;
mod read_scope;
mod rendition_jobs;
mod renditions;
mod s3_storage;
mod search_api;
mod search_relevance;
mod search_sql;
mod workflow;
