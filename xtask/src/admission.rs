//! Stable admission: a refresh never adds public API under a name this
//! project did not choose.
//!
//! An operation the committed spec has is admitted as it is. Any other is a
//! *candidate*: before the overlay runs, its upstream operationId is set
//! aside (`x-upstream-operation-id`), so that only an overlay action that
//! names it (`update: {operationId: ...}`) admits it. Candidates the overlay
//! does not name are removed and reported, each with a suggested stable
//! name and an overlay entry ready to paste. Without a committed spec (the
//! first refresh of a new project) everything is admitted under upstream's
//! names.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::sanitize::derive_operation_id;
use crate::select::METHODS;
use crate::RegenError;

/// Where a candidate's upstream id waits for the overlay.
const UPSTREAM_ID: &str = "x-upstream-operation-id";

/// An upstream operation that is not part of the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub method: String,
    pub host: String,
    /// Its place in the spec: the full path on its host.
    pub path: String,
    pub upstream_id: Option<String>,
    pub suggested: String,
    /// Its success body is XML only, which the crate cannot decode yet.
    pub xml_only: bool,
}

impl Candidate {
    /// The overlay entry that admits it under the suggested name.
    pub fn overlay_entry(&self) -> String {
        let upstream = self
            .upstream_id
            .as_deref()
            .map(|id| format!(" (upstream `{id}`)"))
            .unwrap_or_default();
        format!(
            "- target: \"$.paths['{}'].{}\"\n  description: Admit {} https://{}{}{upstream}.\n  update:\n    operationId: {}\n",
            self.path.replace('\'', "\\'"),
            self.method.to_ascii_lowercase(),
            self.method,
            self.host,
            self.path,
            self.suggested
        )
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} https://{}{}", self.method, self.host, self.path)?;
        if let Some(id) = &self.upstream_id {
            write!(f, " (upstream `{id}`)")?;
        }
        write!(f, ": suggested name `{}`", self.suggested)?;
        if self.xml_only {
            write!(
                f,
                "; XML-only answer, not admissible until the crate decodes XML"
            )?;
        }
        Ok(())
    }
}

/// Sets candidates' upstream ids aside, before the overlay.
pub fn hold(doc: &mut Value, base: Option<&Value>) {
    let Some(base) = base else { return };
    for_each_operation(doc, |path, method, op| {
        if has_operation(base, path, method) {
            return;
        }
        if let Some(id) = op.remove("operationId") {
            op.insert(UPSTREAM_ID.into(), id);
        }
    });
}

/// After the overlay: keeps the candidates the overlay named (refusing an
/// XML-only one while `xml` decoding is off), removes the others and
/// returns them. Without a committed spec every operation counts as named,
/// but an XML-only one is reported rather than refused. `default_host` is the host of operations that name no
/// server.
pub fn settle(
    doc: &mut Value,
    base: Option<&Value>,
    default_host: &str,
    xml: bool,
) -> Result<Vec<Candidate>, RegenError> {
    let mut candidates = Vec::new();
    let mut refused = Vec::new();
    for_each_operation(doc, |path, method, op| {
        let held = op.remove(UPSTREAM_ID);
        let upstream_id = held
            .as_ref()
            .or_else(|| op.get("operationId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if base.is_some_and(|b| has_operation(b, path, method)) {
            return;
        }
        let xml_only = is_xml_only(op) && !xml;
        match (op.get("operationId").and_then(Value::as_str), base) {
            // Named by the overlay: admitted, unless the crate cannot
            // decode it.
            (Some(id), Some(_)) if xml_only => {
                refused.push(format!("{} {path} ({id})", method.to_uppercase()));
                return;
            }
            (Some(_), Some(_)) => return,
            // Without a committed spec, everything the crate can decode.
            (_, None) if !xml_only => return,
            _ => {}
        }
        let host = op
            .get("servers")
            .and_then(|servers| servers.pointer("/0/url"))
            .and_then(Value::as_str)
            .and_then(|url| url.split("://").nth(1))
            .map(|rest| rest.split(['/', ':']).next().unwrap_or(rest).to_owned())
            .unwrap_or_else(|| default_host.to_owned());
        candidates.push(Candidate {
            method: method.to_uppercase(),
            host,
            path: path.to_owned(),
            upstream_id,
            suggested: String::new(),
            xml_only,
        });
    });
    if !refused.is_empty() {
        return Err(RegenError::Rules(vec![format!(
            "xml-success: the overlay admits {}, whose success body is XML only; the crate \
             decodes JSON only (set `xml = true` in openapi/regen.toml once it decodes XML)",
            refused.join(", ")
        )]));
    }
    remove_candidates(doc, &candidates);
    // Names in use: the committed spec's and the admitted operations'.
    let mut taken = taken_names(doc);
    taken.extend(base.map(taken_names).unwrap_or_default());
    for candidate in &mut candidates {
        let method = candidate.method.to_ascii_lowercase();
        candidate.suggested = suggest(
            candidate.upstream_id.as_deref(),
            &method,
            &candidate.path,
            &taken,
        );
        taken.insert(candidate.suggested.clone());
    }
    Ok(candidates)
}

fn remove_candidates(doc: &mut Value, candidates: &[Candidate]) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for candidate in candidates {
        if let Some(item) = paths
            .get_mut(&candidate.path)
            .and_then(Value::as_object_mut)
        {
            item.remove(&candidate.method.to_ascii_lowercase());
        }
    }
    paths.retain(|_, item| {
        item.as_object()
            .is_some_and(|item| METHODS.iter().any(|m| item.contains_key(*m)))
    });
}

/// A stable name: upstream's if it is free, else upstream's with the API
/// version of a v1 path (`switchHomeUserV1`), else one derived from the
/// method and path.
fn suggest(upstream: Option<&str>, method: &str, path: &str, taken: &BTreeSet<String>) -> String {
    let free = |name: &str| !taken.contains(name);
    if let Some(id) = upstream.filter(|id| !id.is_empty()) {
        if free(id) {
            return id.to_owned();
        }
        let v1 = path.starts_with("/api/") && !path.starts_with("/api/v2/");
        let versioned = format!("{id}{}", if v1 { "V1" } else { "V2" });
        if free(&versioned) {
            return versioned;
        }
    }
    let derived = derive_operation_id(method, path);
    let mut name = derived.clone();
    let mut n = 2;
    while !free(&name) {
        name = format!("{derived}{n}");
        n += 1;
    }
    name
}

/// Every operationId in the document: the names the crate exposes, and
/// those the overlay just gave (held upstream ids are not taken).
fn taken_names(doc: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return names;
    };
    for item in paths.values() {
        for method in METHODS {
            if let Some(id) = item
                .get(method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
            {
                names.insert(id.to_owned());
            }
        }
    }
    names
}

/// Whether every success body offered is XML (and at least one is).
pub fn is_xml_only(op: &serde_json::Map<String, Value>) -> bool {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return false;
    };
    let mut xml = false;
    for (status, response) in responses {
        if !(status.starts_with('2') || status == "default") {
            continue;
        }
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            continue;
        };
        for media in content.keys() {
            let base = media.split(';').next().unwrap_or_default().trim();
            if base.ends_with("json") {
                return false;
            }
            xml |= base.ends_with("xml");
        }
    }
    xml
}

fn has_operation(doc: &Value, path: &str, method: &str) -> bool {
    doc.get("paths")
        .and_then(|p| p.get(path))
        .and_then(|item| item.get(method))
        .is_some()
}

fn for_each_operation(
    doc: &mut Value,
    mut f: impl FnMut(&str, &str, &mut serde_json::Map<String, Value>),
) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(Value::Object(op)) = item.get_mut(method) {
                f(path, method, op);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_avoid_taken_names() {
        let taken: BTreeSet<String> = ["getHomeUsers".to_owned()].into();
        assert_eq!(
            suggest(Some("getUsers"), "get", "/api/users", &taken),
            "getUsers"
        );
        assert_eq!(
            suggest(Some("getHomeUsers"), "get", "/api/home/users", &taken),
            "getHomeUsersV1"
        );
        assert_eq!(
            suggest(Some("getHomeUsers"), "get", "/api/v2/home/users/x", &taken),
            "getHomeUsersV2"
        );
        assert_eq!(suggest(None, "get", "/api/v2/ip", &taken), "getApiV2Ip");
    }
}
