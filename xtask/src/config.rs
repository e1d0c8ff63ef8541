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
    /// Operations served by these hosts are selected; others are skipped.
    /// The first is the default host, whose operations name no server.
    #[serde(default = "default_hosts")]
    pub hosts: Vec<String>,
    /// Whether the crate decodes XML answers; until it does, an operation
    /// whose success body is XML only cannot be admitted.
    #[serde(default)]
    pub xml: bool,
    /// The component schema that every error response is given.
    #[serde(default = "default_error_schema")]
    pub error_schema: String,
}

fn default_hosts() -> Vec<String> {
    vec!["plex.tv".into()]
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
        let config: Config = toml::from_str(&text).map_err(|e| RegenError::Config {
            path: path.into(),
            reason: e.to_string(),
        })?;
        if config.hosts.is_empty() {
            return Err(RegenError::Config {
                path: path.into(),
                reason: "`hosts` names no host".into(),
            });
        }
        Ok(config)
    }
}
