//! Every way `regen` can fail. Each message ends with what to do next, because
//! the person reading it is usually in the middle of a refresh.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RegenError {
    #[error("{0}\nusage: cargo xtask regen [--from <PATH|URL>] [--check] [--spec <PATH>] [--overlay <PATH>] [--config <PATH>]")]
    Usage(String),

    #[error("cannot read {path}: {source}. Check the path, or pass another file with --from.")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot fetch {url}: {reason}. Check the address and the network, or download the file and pass its path with --from.")]
    Fetch { url: String, reason: String },

    #[error("{location} is neither YAML nor JSON: {reason}. Pass an OpenAPI document.")]
    Parse { location: String, reason: String },

    #[error("{location} is not an OpenAPI document (it has no `openapi` field). Pass an OpenAPI 3.0 or 3.1 file.")]
    NotOpenApi { location: String },

    #[error("{location} is Swagger 2.0, which regen does not read. Convert it to OpenAPI 3 first (for example with swagger2openapi) and pass the result.")]
    Swagger2 { location: String },

    #[error("{location} declares OpenAPI {version}; regen reads 3.0.x and 3.1.x. Pass a document in one of those versions.")]
    UnsupportedVersion { location: String, version: String },

    #[error("{location} is malformed at `#{pointer}`: {what}. Correct that part of the file (the pointer is a JSON pointer into it, as in a `$ref`), then run regen again.")]
    Malformed {
        location: String,
        /// RFC 6901 JSON pointer to the offending value; empty for the root.
        pointer: String,
        /// What was expected there, and what was found.
        what: String,
    },

    #[error("broken $ref `{reference}` in {location}: {reason}. Fix the reference or the file it points to.")]
    BrokenRef {
        reference: String,
        location: String,
        reason: String,
    },

    #[error("config {path}: {reason}. Fix openapi/regen.toml.")]
    Config { path: PathBuf, reason: String },

    #[error("overlay {path}: {reason}. Fix the overlay file.")]
    Overlay { path: PathBuf, reason: String },

    #[error("overlay {path}, action {index} (`{target}`): the target matches nothing. Every action must match the committed spec and the refreshed one: fix the target or remove the action.")]
    OverlayUnmatched {
        path: PathBuf,
        index: usize,
        target: String,
    },

    #[error("the committed spec {path} is not valid JSON: {reason}. Restore it from git.")]
    BadSpec { path: PathBuf, reason: String },

    #[error("the result would break the build: {0}. Nothing was written; correct it in openapi/overlay.yaml.")]
    Invalid(String),

    #[error("the result breaks the spec rules (xtask/src/rules.rs):\n  {}\nNothing was written; correct it in openapi/overlay.yaml (or the committed spec).", .0.join("\n  "))]
    Rules(Vec<String>),

    #[error("cannot write {path}: {reason}. Nothing was changed.")]
    Write { path: PathBuf, reason: String },

    #[error("{path} is not what regen produces from it (diff above). Run `cargo xtask regen --from {path}` to rewrite it, or fix openapi/overlay.yaml.")]
    Drift { path: PathBuf, diff: String },
}
