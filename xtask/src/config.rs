//! `openapi/regen.toml`: where refreshes come from and the project's
//! conventions that the pipeline applies.

use std::path::Path;

use serde::Deserialize;

use crate::RegenError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Default `--from`: the upstream spec, a URL or a path.
    pub upstream: String,
    /// Operations served by this host are selected; others are skipped.
    #[serde(default = "default_host")]
    pub host: String,
    /// The component schema that every error response is given.
    #[serde(default = "default_error_schema")]
    pub error_schema: String,
}

fn default_host() -> String {
    "plex.tv".into()
}

fn default_error_schema() -> String {
    "ErrorResponse".into()
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, RegenError> {
        let text = std::fs::read_to_string(path).map_err(|e| RegenError::Config {
            path: path.into(),
            reason: format!("cannot read it ({e})"),
        })?;
        toml::from_str(&text).map_err(|e| RegenError::Config {
            path: path.into(),
            reason: e.to_string(),
        })
    }
}
