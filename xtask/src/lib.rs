//! `cargo xtask regen`: refreshes `openapi/plex-tv.json` from the community
//! spec (or any OpenAPI 3.0/3.1 file or URL) through a fixed pipeline:
//!
//! load → select (the operations of the configured hosts, each placed where
//! the committed spec keeps it) → downgrade (to 3.0.3) → hold (candidates'
//! upstream names set aside) → complete (our other operations) → merge
//! (into the committed spec, ours winning) → overlay (the project's
//! corrections and names) → settle (admit what the overlay named, report
//! the other candidates) → sanitize (progenitor-safe) → describe (missing
//! descriptions filled) → prune → rules and validate (progenitor) → write.
//!
//! `--check` runs the same pipeline over the committed spec itself, which must
//! come out byte for byte unchanged.

pub mod admission;
pub mod config;
pub mod describe;
pub mod downgrade;
pub mod error;
pub mod load;
pub mod merge;
pub mod overlay;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod select;
pub mod shape;
pub mod validate;
pub mod write;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use admission::Candidate;
pub use config::Config;
pub use error::RegenError;
pub use overlay::Overlay;
pub use report::Report;

/// What `cargo xtask regen` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Input path or URL; `None` means the upstream in the config.
    pub from: Option<String>,
    pub check: bool,
    pub spec: PathBuf,
    pub overlay: PathBuf,
    pub config: PathBuf,
    /// The hand-written layer, checked for methods that would hide an
    /// operation (see `rules::not_shadowed`).
    pub src: PathBuf,
}

impl Options {
    /// The project's files under `root` (the workspace folder).
    pub fn defaults(root: &Path) -> Options {
        let openapi = root.join("openapi");
        Options {
            from: None,
            check: false,
            spec: openapi.join("plex-tv.json"),
            overlay: openapi.join("overlay.yaml"),
            config: openapi.join("regen.toml"),
            src: root.join("src"),
        }
    }

    /// Parses the arguments after `regen`.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        root: &Path,
    ) -> Result<Options, RegenError> {
        let mut options = Options::defaults(root);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| RegenError::Usage(format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--check" => options.check = true,
                "--from" => options.from = Some(value()?),
                "--spec" => options.spec = value()?.into(),
                "--overlay" => options.overlay = value()?.into(),
                "--config" => options.config = value()?.into(),
                other => return Err(RegenError::Usage(format!("unknown argument `{other}`"))),
            }
        }
        if options.check && options.from.is_some() {
            return Err(RegenError::Usage(
                "--check reads the committed spec; it takes no --from".into(),
            ));
        }
        Ok(options)
    }
}

/// The pipeline's result before it is written.
#[derive(Debug, Clone)]
pub struct Regenerated {
    pub doc: Value,
    pub skipped: Vec<String>,
    pub notes: Vec<String>,
    /// Upstream operations that were not admitted.
    pub candidates: Vec<Candidate>,
}

/// Everything between loading and writing, on values: no files touched.
/// Both documents must have the shape `shape::check` accepts (`load::load`
/// already checked the input); a document that does not is an error, as is
/// an overlay that leaves the document malformed.
pub fn pipeline(
    mut input: Value,
    base: Option<&Value>,
    overlay: &Overlay,
    config: &Config,
) -> Result<Regenerated, RegenError> {
    shape::check(&input, "the input document")?;
    if let Some(base) = base {
        shape::check(base, "the committed spec")?;
    }
    let mut notes = Vec::new();
    let skipped = select::select(&mut input, &config.hosts, base);
    downgrade::downgrade(&mut input);
    admission::hold(&mut input, base);
    merge::complete(&mut input, base, &mut notes);
    let mut doc = merge::merge(base, input);
    // The overlay runs on the merged document: its corrections hold for
    // the operations the crate has as for those it admits, and the names it
    // gives are what admits a candidate.
    overlay.apply(&mut doc)?;
    shape::check(&doc, "the document after the overlay").map_err(|e| match e {
        RegenError::Malformed { pointer, what, .. } => RegenError::Overlay {
            path: overlay.path.clone(),
            reason: format!("its actions leave the document malformed at `#{pointer}`: {what}"),
        },
        other => other,
    })?;
    let default_host = config.hosts.first().map_or("plex.tv", String::as_str);
    let candidates = admission::settle(&mut doc, base, default_host, config.xml)?;
    sanitize::sanitize(&mut doc, base, &config.error_schema, &mut notes);
    merge::prune(&mut doc, base);
    describe::describe(&mut doc, &mut notes);
    let violations = rules::check(&doc);
    if !violations.is_empty() {
        return Err(RegenError::Rules(
            violations.iter().map(ToString::to_string).collect(),
        ));
    }
    validate::validate(&doc)?;
    Ok(Regenerated {
        doc,
        skipped,
        notes,
        candidates,
    })
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    /// Whether the spec file was (re)written.
    pub written: bool,
}

/// Runs `regen` with `options`: the whole tool, files included.
pub fn run(options: &Options) -> Result<Outcome, RegenError> {
    let config = Config::load(&options.config)?;
    let overlay = Overlay::load(&options.overlay)?;
    let committed = read_committed(&options.spec)?;
    if options.check && committed.is_none() {
        return Err(RegenError::Read {
            path: options.spec.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "there is no committed spec to check",
            ),
        });
    }
    let base = committed.as_ref().map(|(_, doc)| doc);
    let source = match (&options.from, options.check) {
        (_, true) => options.spec.display().to_string(),
        (Some(from), false) => from.clone(),
        (None, false) => config.upstream.clone(),
    };
    let input = load::load(&source)?;
    let result = pipeline(input, base, &overlay, &config)?;
    check_shadowing(&result.doc, &options.src)?;
    let text = write::render(&result.doc);
    let report = Report::compare(
        base,
        &result.doc,
        result.skipped,
        result.notes,
        result.candidates,
    );
    let old_text = committed.as_ref().map(|(text, _)| text.as_str());
    if options.check {
        if old_text != Some(text.as_str()) {
            let name = options.spec.display().to_string();
            return Err(RegenError::Drift {
                diff: write::diff(old_text.unwrap_or_default(), &text, &name),
                path: options.spec.clone(),
            });
        }
        return Ok(Outcome {
            report,
            written: false,
        });
    }
    let written = old_text != Some(text.as_str());
    if written {
        write::write_atomic(&options.spec, &text)?;
    }
    Ok(Outcome { report, written })
}

/// Refuses a spec in which a hand-written `PlexTv` method (in the `.rs`
/// files under `src`, when it exists) takes an operation's name.
fn check_shadowing(doc: &Value, src: &Path) -> Result<(), RegenError> {
    let mut sources = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.extend(std::fs::read_to_string(&path).ok());
            }
        }
    }
    let violations = rules::not_shadowed(doc, &rules::hand_written_methods(&sources));
    if violations.is_empty() {
        Ok(())
    } else {
        Err(RegenError::Rules(
            violations.iter().map(ToString::to_string).collect(),
        ))
    }
}

/// The committed spec's text and value, if the file exists.
fn read_committed(path: &Path) -> Result<Option<(String, Value)>, RegenError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RegenError::Read {
                path: path.into(),
                source: e,
            })
        }
    };
    let doc = serde_json::from_str(&text).map_err(|e| RegenError::BadSpec {
        path: path.into(),
        reason: e.to_string(),
    })?;
    shape::check(&doc, &path.display().to_string())?;
    Ok(Some((text, doc)))
}
