//! Loading the configuration: embedded defaults, then a TOML file, then `ACERVO_*` variables
//! (`ACERVO_STORAGE__URL` → `storage.url`), then command-line flags. A key the defaults do not
//! have is an error naming the key and where it came from (a typo must not be dropped
//! silently). Loading has no side effects: the server creates its data directory, commands
//! that only read require it.

use std::path::{Path, PathBuf};

use acervo_catalog::AcervoConfig;
use acervo_catalog::config::DEFAULTS_TOML;
use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Value};

/// `ACERVO_*` variables that are not configuration keys: the log settings, the config file
/// itself, the first administrator's password (read once by `acervo serve`, never kept in the
/// configuration), the CLI's server, token and passwords, and the test suite's own (the binary
/// under test, the S3 test server).
const NOT_KEYS: &[&str] = &[
    "log",
    "log_format",
    "config",
    "admin_password",
    "admin_password_file",
    "server",
    "token",
    "password",
    "new_password",
    "bin",
    "s3s_fs",
];

/// Sections whose entries are named by the user: each entry has the fields of the named one.
const NAMED_SECTIONS: &[(&str, &str)] = &[("renditions.video", "proxy")];

pub fn load(
    file: Option<&Path>,
    home: Option<&Path>,
    addr: Option<&str>,
) -> anyhow::Result<AcervoConfig> {
    let mut figment = Figment::from(Toml::string(DEFAULTS_TOML));
    if let Some(f) = file {
        anyhow::ensure!(f.is_file(), "configuration file {} does not exist", f.display());
        figment = figment.merge(Toml::file(f));
    }
    figment = figment.merge(Env::prefixed("ACERVO_").split("__").ignore(NOT_KEYS));
    if let Some(h) = home {
        figment = figment.merge(Serialized::default("home", h));
    }
    if let Some(a) = addr {
        figment = figment.merge(Serialized::default("addr", a));
    }
    refuse_unknown_keys(&figment)?;
    let mut cfg: AcervoConfig = figment.extract().context("invalid configuration")?;
    cfg.renditions.validate().context("invalid configuration")?;
    cfg.ai.validate().context("invalid configuration")?;
    check_auth(&cfg).context("invalid configuration")?;
    cfg.home = std::path::absolute(&cfg.home)
        .with_context(|| format!("data directory {}", cfg.home.display()))?;
    Ok(cfg)
}

/// Authentication may be off only where nobody else can connect, and an OpenID provider's
/// tokens are accepted only for a named audience.
fn check_auth(cfg: &AcervoConfig) -> anyhow::Result<()> {
    if cfg.auth.disabled {
        let loopback = cfg
            .addr
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip().is_loopback())
            .unwrap_or_else(|_| cfg.addr.starts_with("localhost:"));
        anyhow::ensure!(
            loopback,
            "auth.disabled = true is accepted only on a loopback address, not {}: turn authentication on or listen on 127.0.0.1",
            cfg.addr
        );
    }
    let oidc = &cfg.auth.oidc;
    if !oidc.issuer.is_empty() {
        anyhow::ensure!(
            !oidc.audience.is_empty(),
            "auth.oidc.issuer is set but auth.oidc.audience is empty: name the audience its tokens must carry"
        );
    }
    anyhow::ensure!(
        (1..=1440).contains(&cfg.auth.access_token_minutes),
        "auth.access_token_minutes must be between 1 and 1440, not {}",
        cfg.auth.access_token_minutes
    );
    Ok(())
}

/// Creates the data directory (the server owns it).
pub fn create_home(cfg: &mut AcervoConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cfg.home)
        .with_context(|| format!("cannot create the data directory {}", cfg.home.display()))?;
    cfg.home = cfg
        .home
        .canonicalize()
        .with_context(|| format!("data directory {}", cfg.home.display()))?;
    Ok(())
}

/// Fails unless the data directory exists (commands that only read never make one).
pub fn require_home(cfg: &AcervoConfig) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        cfg.home.join("catalog").is_dir(),
        "no Acervo data directory at {} (set --home or ACERVO_HOME to the server's)",
        cfg.home.display()
    );
    Ok(cfg.home.clone())
}

fn refuse_unknown_keys(figment: &Figment) -> anyhow::Result<()> {
    let known: Dict =
        Figment::from(Toml::string(DEFAULTS_TOML)).extract().context("embedded defaults")?;
    let given: Dict = figment.extract().context("invalid configuration")?;
    let mut unknown = Vec::new();
    walk("", &given, &known, &mut unknown);
    let Some(key) = unknown.first() else { return Ok(()) };
    let source = figment
        .find_metadata(key)
        .map(|md| match &md.source {
            Some(figment::Source::File(f)) => format!("in {}", f.display()),
            // The variable as it was set: `ACERVO_`, then the sections joined by `__`.
            _ if md.name.contains("environment") => {
                let name: Vec<String> = key.split('.').map(str::to_uppercase).collect();
                format!("from the environment variable ACERVO_{}", name.join("__"))
            }
            _ => format!("from {}", md.name),
        })
        .unwrap_or_else(|| "source unknown".into());
    let more = match unknown.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    anyhow::bail!("unknown configuration key {key} ({source}){more}")
}

/// Collects the keys of `given` that `known` does not have, as dotted paths.
fn walk(prefix: &str, given: &Dict, known: &Dict, unknown: &mut Vec<String>) {
    for (k, v) in given {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        let Some(expected) = known.get(k) else {
            unknown.push(path);
            continue;
        };
        if let (Value::Dict(_, inner), Value::Dict(_, known_inner)) = (v, expected) {
            match NAMED_SECTIONS.iter().find(|(section, _)| *section == path) {
                Some((_, model)) => {
                    let Some(Value::Dict(_, fields)) = known_inner.get(*model) else { continue };
                    for (name, entry) in inner {
                        if let Value::Dict(_, entry) = entry {
                            walk(&format!("{path}.{name}"), entry, fields, unknown);
                        }
                    }
                }
                None => walk(&path, inner, known_inner, unknown),
            }
        }
    }
}
