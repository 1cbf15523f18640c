//! `acervo sql`: read-only SQL over the catalog, printed as a table.

use acervo_catalog::AcervoConfig;
use arrow::util::pretty::pretty_format_batches;

use crate::open;

pub async fn run(cfg: &AcervoConfig, query: &str) -> anyhow::Result<()> {
    let catalog = open::existing_catalog(cfg).await?;
    let batches = catalog.sql(query).await?;
    println!("{}", pretty_format_batches(&batches)?);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    eprintln!("{rows} row{}", if rows == 1 { "" } else { "s" });
    Ok(())
}
