//! Loading the configuration: embedded defaults, then a TOML file, then `ACERVO_*` variables
//! (`ACERVO_STORAGE__URL` → `storage.url`), then command-line flags.

use std::path::Path;

use acervo_catalog::AcervoConfig;
use acervo_catalog::config::DEFAULTS_TOML;
use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

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
    figment = figment.merge(Env::prefixed("ACERVO_").split("__").ignore(&[
        "log",
        "log_format",
        "config",
    ]));
    if let Some(h) = home {
        figment = figment.merge(Serialized::default("home", h));
    }
    if let Some(a) = addr {
        figment = figment.merge(Serialized::default("addr", a));
    }
    let mut cfg: AcervoConfig = figment.extract().context("invalid configuration")?;
    cfg.renditions.validate().context("invalid configuration")?;
    cfg.ai.validate().context("invalid configuration")?;
    std::fs::create_dir_all(&cfg.home)
        .with_context(|| format!("cannot create the data directory {}", cfg.home.display()))?;
    cfg.home = cfg
        .home
        .canonicalize()
        .with_context(|| format!("data directory {}", cfg.home.display()))?;
    Ok(cfg)
}
