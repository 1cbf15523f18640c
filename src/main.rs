//! `acervo`: the command-line entry point. `serve` runs the API and the dataflow in one
//! process; `ingest` uploads files to and `search` asks a running server; `sql` and `verify`
//! work on the data directory directly.

// The layout of the CLI's async bodies (lance and DataFusion futures nested in them) goes
// deeper than rustc's default query depth of 128.
#![recursion_limit = "256"]

mod cli;
mod config;
mod open;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "acervo", version, about = "Digital asset management for newsrooms")]
struct Cli {
    /// Data directory (also ACERVO_HOME; default ./acervo-data).
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    /// A TOML configuration file layered over the defaults (also ACERVO_CONFIG).
    #[arg(long, global = true, env = "ACERVO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per run")]
enum Command {
    /// Run the API and the ingest dataflow.
    Serve {
        /// Address to listen on (also ACERVO_ADDR; default 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Upload files and folders to a running server; duplicates (same SHA-256) are skipped.
    Ingest(cli::ingest::IngestArgs),
    /// Search a running server: text, vector or hybrid, with filters and facets.
    Search(cli::search::SearchArgs),
    /// Run a read-only SQL query over the catalog (tables `assets`, `renditions`).
    Sql { query: String },
    /// Run a stage again where a model changed: `--stage enrich [--model NAME]` (asks a running
    /// server, shows progress until the assets are done).
    Reindex(cli::reindex::ReindexArgs),
    /// Purge the soft-deleted assets past their retention deadline (asks a running server;
    /// `--dry-run` lists them, legal holds are passed by).
    Purge(cli::purge::PurgeArgs),
    /// Re-hash every master and compare it with its recorded SHA-256.
    Verify,
    /// The audit trail: `acervo audit verify` checks its hash chain.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// The authorisation policy (Rego): `acervo policy show|check`.
    #[command(subcommand)]
    Policy(cli::policy::PolicyCommand),
    /// Print the effective configuration.
    Config,
    /// Sign in to a server; later commands that talk to it use the session.
    Login {
        /// The user to sign in as (the password is read from stdin, ACERVO_PASSWORD, or asked).
        #[arg(long, default_value = "admin")]
        user: String,
        #[command(flatten)]
        server: cli::admin::ServerArg,
    },
    /// End the session with a server.
    Logout {
        #[command(flatten)]
        server: cli::admin::ServerArg,
    },
    /// Users of a server: `acervo user add|list|disable|enable`.
    #[command(subcommand)]
    User(cli::admin::UserCommand),
    /// Projects of a server and their members: `acervo project add|list|member|remove-member`.
    #[command(subcommand)]
    Project(cli::admin::ProjectCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. }) {
        limit_openmp();
        acervo_operators::allocator::tune_for_inference();
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("acervo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Tesseract spreads each text line over OpenMP threads that spin while they wait. The server
/// already runs one OCR call per enrichment thread, beside encoders and other models, so those
/// threads only steal cores (a frame took seconds instead of 0.3 s next to an encode; one thread
/// per call also measured as fast alone). libgomp reads its limit once, as it loads, before
/// `main`: so the server starts itself again with the limit set, unless one is set already.
fn limit_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    // Only a failed exec returns: run on with OpenMP's defaults.
    eprintln!(
        "acervo: could not restart with OMP_THREAD_LIMIT=1 ({err}); OCR may compete for cores"
    );
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let serving = matches!(cli.command, Command::Serve { .. });
    init_tracing(if serving { "info,lance=warn,lance_index=warn" } else { "warn" });
    let addr = match &cli.command {
        Command::Serve { addr } => addr.clone(),
        _ => None,
    };
    let mut cfg = config::load(cli.config.as_deref(), cli.home.as_deref(), addr.as_deref())?;
    match cli.command {
        Command::Serve { .. } => config::create_home(&mut cfg)?,
        Command::Sql { .. } | Command::Verify | Command::Audit(_) => {
            config::require_home(&cfg)?;
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { .. } => cli::serve::run(cfg).await.map(|_| ExitCode::SUCCESS),
            Command::Ingest(args) => cli::ingest::run(args).await,
            Command::Search(args) => cli::search::run(args).await.map(|_| ExitCode::SUCCESS),
            Command::Purge(args) => cli::purge::run(args).await.map(|_| ExitCode::SUCCESS),
            Command::Reindex(args) => cli::reindex::run(args).await,
            Command::Sql { query } => cli::sql::run(&cfg, &query).await.map(|_| ExitCode::SUCCESS),
            Command::Verify => cli::verify::run(&cfg).await,
            Command::Audit(c) => cli::audit::run(&cfg, c).await,
            Command::Login { user, server } => {
                cli::session::login(&server.server, &user).await.map(|_| ExitCode::SUCCESS)
            }
            Command::Logout { server } => {
                cli::session::logout(&server.server).await.map(|_| ExitCode::SUCCESS)
            }
            Command::User(c) => cli::admin::user(c).await,
            Command::Project(c) => cli::admin::project(c).await,
            Command::Policy(c) => cli::policy::run(&cfg, c),
            Command::Config => {
                println!("{}", serde_json::to_string_pretty(&cfg)?);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

fn init_tracing(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ACERVO_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("ACERVO_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
