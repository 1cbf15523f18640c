//! `acervo search`: full-text search of the catalog, printed as a table with facet counts.

use acervo_catalog::{AcervoConfig, Principal};
use acervo_lakehouse::tables::{AssetFilter, SearchQuery};
use clap::Args;

use crate::open;

#[derive(Args)]
pub struct SearchArgs {
    /// Words to find in titles, descriptions and tags.
    query: String,
    /// video, audio, image or document.
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    project: Option<String>,
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub async fn run(cfg: &AcervoConfig, args: SearchArgs) -> anyhow::Result<()> {
    let filter = AssetFilter {
        kind: args.kind.as_deref().map(str::parse).transpose()?,
        status: args.status.as_deref().map(str::parse).transpose()?,
        project: args.project,
        sha256: None,
    };
    let catalog = open::catalog(cfg).await?;
    let query = SearchQuery { q: args.query, filter, limit: args.limit, offset: 0 };
    let results = catalog.search(&query, &Principal::local_admin()).await?;
    println!("{:<36}  {:<8}  {:<10}  {:>7}  TITLE", "ID", "KIND", "STATUS", "SCORE");
    for hit in &results.hits {
        let a = &hit.asset;
        let score = hit.score.map(|s| format!("{s:.3}")).unwrap_or_default();
        println!("{:<36}  {:<8}  {:<10}  {:>7}  {}", a.id, a.kind, a.status, score, a.title);
    }
    let facet = |m: &std::collections::BTreeMap<String, usize>| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    println!(
        "{} match{}; kind: {}; status: {}; project: {}",
        results.total,
        if results.total == 1 { "" } else { "es" },
        facet(&results.facets.kind),
        facet(&results.facets.status),
        facet(&results.facets.project)
    );
    Ok(())
}
