//! `acervo audit verify`: walks the `audit` table in sequence order, recomputes each row's hash
//! and its link to the row before, compares the last row with the chain's head (kept outside the
//! table, in `$ACERVO_HOME/audit/head`), and names every row that does not fit.

use std::process::ExitCode;

use acervo_catalog::AcervoConfig;
use acervo_lakehouse::audit_trail::read_head;

use crate::open;

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check the audit trail's hash chain; exits 1 naming each broken row.
    Verify,
}

pub async fn run(cfg: &AcervoConfig, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify => verify(cfg).await,
    }
}

async fn verify(cfg: &AcervoConfig) -> anyhow::Result<ExitCode> {
    let catalog = open::existing_catalog(cfg).await?;
    let head = read_head(&cfg.audit_dir())?;
    let rows = catalog.audit_rows("true").await?;
    match acervo_catalog::verify_chain(rows, head.as_ref().map(|(s, h)| (*s, h.as_str()))) {
        Ok(n) => {
            println!("audit trail intact: {n} rows, chained to its head");
            Ok(ExitCode::SUCCESS)
        }
        Err(breaks) => {
            for b in &breaks {
                println!("BROKEN {b}");
            }
            eprintln!("acervo: the audit trail is broken in {} place(s)", breaks.len());
            Ok(ExitCode::FAILURE)
        }
    }
}
