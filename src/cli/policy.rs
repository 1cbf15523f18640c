//! `acervo policy show` prints the embedded default policy (to start a `policy.file` from);
//! `acervo policy check` loads the configured file (or one named) as `acervo serve` would.

use std::path::PathBuf;
use std::process::ExitCode;

use acervo_catalog::AcervoConfig;
use acervo_policy::{DEFAULT_POLICY, Policy};

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the embedded default policy (Rego).
    Show,
    /// Load a policy file (default: the configured `policy.file`) and report whether it parses.
    Check { file: Option<PathBuf> },
}

pub fn run(cfg: &AcervoConfig, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Show => {
            print!("{DEFAULT_POLICY}");
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Check { file } => {
            let file = file.or_else(|| cfg.policy.file_path(&cfg.home));
            let policy = Policy::load(file.as_deref())?;
            println!("policy {} loads: rules allow and scope are defined", policy.origin());
            Ok(ExitCode::SUCCESS)
        }
    }
}
