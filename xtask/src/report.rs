//! The refresh report: what a reviewer needs to judge the diff.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::{select::METHODS, Candidate};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub operations_added: Vec<String>,
    pub operations_removed: Vec<String>,
    pub operations_changed: Vec<String>,
    pub schemas_added: Vec<String>,
    pub schemas_removed: Vec<String>,
    pub schemas_changed: Vec<String>,
    /// Operations on other hosts, left out.
    pub skipped: Vec<String>,
    /// What the downgrade, merge and sanitize steps rewrote.
    pub notes: Vec<String>,
    /// Upstream operations not admitted (see `admission`).
    pub candidates: Vec<Candidate>,
}

impl Report {
    pub fn compare(
        old: Option<&Value>,
        new: &Value,
        skipped: Vec<String>,
        notes: Vec<String>,
        candidates: Vec<Candidate>,
    ) -> Report {
        let empty = Value::Null;
        let old = old.unwrap_or(&empty);
        let (old_ops, new_ops) = (operations(old), operations(new));
        let (old_schemas, new_schemas) = (schemas(old), schemas(new));
        let (added, removed, changed) = changes(&old_ops, &new_ops);
        let id = |ops: &BTreeMap<String, Value>, key: &str| {
            ops.get(key)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let operations_added = added
            .iter()
            .map(|k| format!("{k} ({})", id(&new_ops, k)))
            .collect();
        let operations_removed = removed
            .iter()
            .map(|k| format!("{k} ({})", id(&old_ops, k)))
            .collect();
        let operations_changed = changed
            .iter()
            .map(|k| match (id(&old_ops, k), id(&new_ops, k)) {
                (old, new) if old == new => format!("{k} ({new})"),
                (old, new) => format!("{k} ({old} -> {new})"),
            })
            .collect();
        let (schemas_added, schemas_removed, schemas_changed) = changes(&old_schemas, &new_schemas);
        Report {
            operations_added,
            operations_removed,
            operations_changed,
            schemas_added,
            schemas_removed,
            schemas_changed,
            skipped,
            notes,
            candidates,
        }
    }

    pub fn is_unchanged(&self) -> bool {
        self.operations_added.is_empty()
            && self.operations_removed.is_empty()
            && self.operations_changed.is_empty()
            && self.schemas_added.is_empty()
            && self.schemas_removed.is_empty()
            && self.schemas_changed.is_empty()
    }
}

/// Operations by `METHOD /path`.
fn operations(doc: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.insert(format!("{} {path}", method.to_uppercase()), op.clone());
            }
        }
    }
    out
}

fn schemas(doc: &Value) -> BTreeMap<String, Value> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Whether a skipped line names a plex.tv host (one the crate may want to
/// select some day), rather than the media server.
fn on_plex_tv(line: &str) -> bool {
    line.rsplit_once("(served by ")
        .is_some_and(|(_, servers)| servers.contains("plex.tv") && !servers.contains("plex.direct"))
        || !line.contains("(served by ")
}

type Changes = (Vec<String>, Vec<String>, Vec<String>);

fn changes(old: &BTreeMap<String, Value>, new: &BTreeMap<String, Value>) -> Changes {
    let added = new
        .keys()
        .filter(|k| !old.contains_key(*k))
        .cloned()
        .collect();
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k.clone())
        .collect();
    (added, removed, changed)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sections = [
            ("operations added", &self.operations_added),
            ("operations removed", &self.operations_removed),
            ("operations changed", &self.operations_changed),
            ("schemas added", &self.schemas_added),
            ("schemas removed", &self.schemas_removed),
            ("schemas changed", &self.schemas_changed),
            (
                "operations skipped on other plex.tv hosts",
                &self
                    .skipped
                    .iter()
                    .filter(|s| on_plex_tv(s))
                    .cloned()
                    .collect(),
            ),
            ("rewrites", &self.notes),
        ];
        for (title, items) in sections {
            writeln!(f, "{title}: {}", items.len())?;
            for item in items {
                writeln!(f, "  {item}")?;
            }
        }
        let elsewhere = self.skipped.iter().filter(|s| !on_plex_tv(s)).count();
        writeln!(
            f,
            "operations skipped on other servers (the media server, ...): {elsewhere}"
        )?;
        writeln!(
            f,
            "candidates (upstream operations not admitted; an overlay entry admits one): {}",
            self.candidates.len()
        )?;
        for candidate in &self.candidates {
            writeln!(f, "  {candidate}")?;
        }
        let admissible: Vec<&Candidate> = self.candidates.iter().filter(|c| !c.xml_only).collect();
        if !admissible.is_empty() {
            writeln!(f, "overlay entries to admit them (paste under `actions:` in openapi/overlay.yaml, rename as you like):")?;
            for candidate in admissible {
                for line in candidate.overlay_entry().lines() {
                    writeln!(f, "  {line}")?;
                }
            }
        }
        Ok(())
    }
}
