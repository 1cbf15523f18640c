//! `acervo verify`: re-hash every master and compare it with the SHA-256 the catalog recorded.

use std::process::ExitCode;

use acervo_catalog::AcervoConfig;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::open;

pub async fn run(cfg: &AcervoConfig) -> anyhow::Result<ExitCode> {
    let catalog = open::existing_catalog(cfg).await?;
    let masters = open::existing_masters(cfg)?;
    let refs = catalog.masters().await?;
    let total: u64 = refs.iter().map(|r| r.size).sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut bad = 0usize;
    let mut checks = futures::stream::iter(refs.into_iter().map(|r| {
        let masters = masters.clone();
        async move {
            let outcome = masters.rehash(&r.key).await;
            (r, outcome)
        }
    }))
    .buffer_unordered(4);
    let mut count = 0usize;
    while let Some((r, outcome)) = checks.next().await {
        count += 1;
        bar.inc(r.size);
        match outcome {
            Ok((sha, size)) if sha == r.sha256 && size == r.size => {}
            Ok((sha, size)) => {
                bad += 1;
                bar.suspend(|| {
                    println!(
                        "MISMATCH {} {}: sha256 {sha} ({size} bytes), catalog says {} ({} bytes)",
                        r.id, r.key, r.sha256, r.size
                    )
                });
            }
            Err(e) => {
                bad += 1;
                bar.suspend(|| println!("UNREADABLE {} {}: {e}", r.id, r.key));
            }
        }
    }
    bar.finish_and_clear();
    if bad == 0 {
        println!("verified {count} masters: all match their SHA-256");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("acervo: {bad} of {count} masters do not match their SHA-256");
        Ok(ExitCode::FAILURE)
    }
}
