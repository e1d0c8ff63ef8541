//! Loading: a file or an http(s) URL, YAML or JSON, OpenAPI 3.0 or 3.1, with
//! every `$ref` to another file or to a non-schema component resolved.
//!
//! Schema references stay references: named component schemas are what keep
//! the generated Rust type names stable. A reference to a schema in another
//! file (`other.yaml#/components/schemas/Pet`) imports that schema under its
//! own name. Any other reference (parameters, responses, path items, parts of
//! files) is replaced by a copy of its target, so later stages only ever see
//! plain objects; the emptied component sections are dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use crate::shape::{self, MAX_NESTING};
use crate::RegenError;

/// How deep inlined references may nest before they are taken as a cycle.
const MAX_DEPTH: usize = 64;

/// Component sections whose references are inlined, then dropped.
const INLINED_SECTIONS: [&str; 8] = [
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "examples",
    "links",
    "callbacks",
    "pathItems",
];

/// Loads `source` (a path or an http(s) URL) and resolves its references.
/// The document's shape is checked before and after: every later stage may
/// rely on it (see `shape`).
pub fn load(source: &str) -> Result<Value, RegenError> {
    let url = location(source)?;
    let text = fetch(&url)?;
    let name = display(&url);
    let doc = parse(&text, &name)?;
    shape::check_root(&doc, &name)?;
    check_version(&doc, &name)?;
    shape::check(&doc, &name)?;
    let doc = resolve_document(doc, url)?;
    shape::check(&doc, &format!("{name} (with its references inlined)"))?;
    Ok(doc)
}

/// Parses YAML or JSON text into JSON values (YAML keys become strings).
pub fn parse(text: &str, location: &str) -> Result<Value, RegenError> {
    let parse_error = |reason: String| RegenError::Parse {
        location: location.into(),
        reason,
    };
    if text.trim_start().starts_with('{') {
        // serde_json stops at 128 levels of nesting, with an error.
        return serde_json::from_str(text).map_err(|e| parse_error(e.to_string()));
    }
    // serde_norway stops at 128 levels too, but only after libyaml has
    // scanned the text, which takes quadratic time in the nesting of `[`
    // and `{` (minutes for 100k levels): refuse such text before that.
    if flow_nesting_exceeds(text, MAX_FLOW_NESTING) {
        return Err(parse_error(format!(
            "its `[` and `{{` nest more than {MAX_FLOW_NESTING} levels deep"
        )));
    }
    let yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| parse_error(e.to_string()))?;
    yaml_to_json(yaml).map_err(parse_error)
}

/// Far above the 128 levels the YAML parser accepts, so only text that would
/// fail anyway is refused early.
const MAX_FLOW_NESTING: usize = 1024;

/// Whether YAML flow collections (`[...]`, `{...}`) nest more than `limit`
/// deep, by a linear scan. Quoted scalars and comments are skipped; brackets
/// in plain and block scalars are counted, so a real document is refused
/// only if its text has over `limit` unclosed brackets. This is a guard
/// against accidentally huge nesting, not an exact YAML lexer: text crafted
/// to fool it is still refused by the parser's own limit, only slowly.
fn flow_nesting_exceeds(text: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    // The last character outside quotes and comments that was not a space.
    let mut last = '\n';
    let mut after_space = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // Where a quoted scalar may begin.
        let token_start = after_space || matches!(last, '[' | '{' | ',');
        match c {
            '[' | '{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            '#' if after_space => {
                // A comment, to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                last = '\n';
                after_space = true;
                continue;
            }
            '"' if token_start => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' if token_start => {
                // `''` inside is an escaped quote.
                while let Some(c) = chars.next() {
                    if c == '\'' && chars.next_if_eq(&'\'').is_none() {
                        break;
                    }
                }
            }
            _ => {}
        }
        after_space = c.is_ascii_whitespace();
        if !after_space {
            last = c;
        }
    }
    false
}

fn location(source: &str) -> Result<Url, RegenError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return Url::parse(source).map_err(|e| RegenError::Fetch {
            url: source.into(),
            reason: format!("not a valid URL ({e})"),
        });
    }
    let absolute = std::path::absolute(source).map_err(|e| RegenError::Read {
        path: source.into(),
        source: e,
    })?;
    Url::from_file_path(&absolute).map_err(|()| RegenError::Read {
        path: absolute,
        source: std::io::Error::other("not a usable file path"),
    })
}

/// A location as a person would type it: a path for files, else the URL.
fn display(url: &Url) -> String {
    match url.to_file_path() {
        Ok(path) if url.scheme() == "file" => path.display().to_string(),
        _ => url.to_string(),
    }
}

fn fetch(url: &Url) -> Result<String, RegenError> {
    if url.scheme() == "file" {
        let path = url.to_file_path().unwrap_or_default();
        return std::fs::read_to_string(&path).map_err(|e| RegenError::Read { path, source: e });
    }
    let fetch_error = |reason: String| RegenError::Fetch {
        url: url.to_string(),
        reason,
    };
    // Bounded, so an unreachable host fails in seconds instead of hanging CI.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = agent
        .get(url.as_str())
        .call()
        .map_err(|e| fetch_error(e.to_string()))?;
    response
        .body_mut()
        .with_config()
        .limit(32 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| fetch_error(e.to_string()))
}

fn check_version(doc: &Value, location: &str) -> Result<(), RegenError> {
    if doc.get("swagger").is_some() {
        return Err(RegenError::Swagger2 {
            location: location.into(),
        });
    }
    let Some(version) = doc.get("openapi") else {
        return Err(RegenError::NotOpenApi {
            location: location.into(),
        });
    };
    let version = version
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| version.to_string());
    if version.starts_with("3.0.") || version.starts_with("3.1.") {
        Ok(())
    } else {
        Err(RegenError::UnsupportedVersion {
            location: location.into(),
            version,
        })
    }
}

fn yaml_to_json(value: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n)?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                map.insert(yaml_key(key)?, yaml_to_json(value)?);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

fn yaml_number(n: &serde_norway::Number) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        Ok(Value::from(i))
    } else if let Some(u) = n.as_u64() {
        Ok(Value::from(u))
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("the number {n} has no JSON form"))
    }
}

/// YAML allows any scalar as a key (`200:` is a number); OpenAPI means text.
fn yaml_key(key: serde_norway::Value) -> Result<String, String> {
    use serde_norway::Value as Y;
    match key {
        Y::String(s) => Ok(s),
        Y::Number(n) => Ok(n.to_string()),
        Y::Bool(b) => Ok(b.to_string()),
        Y::Null => Ok("null".into()),
        other => Err(format!("a mapping key is not a scalar: {other:?}")),
    }
}

fn resolve_document(mut doc: Value, url: Url) -> Result<Value, RegenError> {
    let mut resolver = Resolver::new(url.clone(), &doc);
    resolver.resolve(&mut doc, &url, 0, 0)?;
    let Resolver { new_schemas, .. } = resolver;
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for section in INLINED_SECTIONS {
            components.remove(section);
        }
    }
    if let (false, Some(root)) = (new_schemas.is_empty(), doc.as_object_mut()) {
        let components = root
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(components) = components.as_object_mut() {
            let schemas = components
                .entry("schemas")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(schemas) = schemas.as_object_mut() {
                schemas.extend(new_schemas);
            }
        }
    }
    Ok(doc)
}

enum Resolved {
    /// Keep a `$ref`, now to this local schema.
    Local(String),
    /// Replace the reference object by this value.
    Inline(Value),
}

struct Resolver {
    root: Url,
    /// Documents as loaded, before resolution, by location without fragment.
    docs: HashMap<Url, Value>,
    /// (document, pointer) of an external schema -> its local name.
    imported: HashMap<(Url, String), String>,
    new_schemas: BTreeMap<String, Value>,
    taken: BTreeSet<String>,
    /// The references being inlined, innermost last (for errors).
    inlining: Vec<String>,
}

impl Resolver {
    fn new(root: Url, doc: &Value) -> Resolver {
        let taken = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default();
        Resolver {
            docs: HashMap::from([(root.clone(), doc.clone())]),
            root,
            imported: HashMap::new(),
            new_schemas: BTreeMap::new(),
            taken,
            inlining: Vec::new(),
        }
    }

    /// `depth` counts nested references, `nesting` objects and arrays: both
    /// are bounded, so neither cycles nor deep inlining exhaust the stack.
    fn resolve(
        &mut self,
        value: &mut Value,
        base: &Url,
        depth: usize,
        nesting: usize,
    ) -> Result<(), RegenError> {
        if nesting > MAX_NESTING && (value.is_object() || value.is_array()) {
            return Err(RegenError::BrokenRef {
                reference: self.inlining.last().cloned().unwrap_or_default(),
                location: display(base),
                reason: format!(
                    "inlining it nests objects and arrays more than {MAX_NESTING} levels deep"
                ),
            });
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    match self.resolve_ref(&reference, base, depth, nesting)? {
                        Resolved::Local(local) => {
                            map.insert("$ref".into(), Value::String(local));
                        }
                        Resolved::Inline(target) => {
                            inline(value, target);
                            return Ok(());
                        }
                    }
                }
                for (key, child) in map.iter_mut() {
                    // Literal data never holds references.
                    if key != "example" && key != "$ref" {
                        self.resolve(child, base, depth, nesting + 1)?;
                    }
                }
                Ok(())
            }
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|v| self.resolve(v, base, depth, nesting + 1)),
            _ => Ok(()),
        }
    }

    fn resolve_ref(
        &mut self,
        reference: &str,
        base: &Url,
        depth: usize,
        nesting: usize,
    ) -> Result<Resolved, RegenError> {
        let broken = |reason: String| RegenError::BrokenRef {
            reference: reference.into(),
            location: display(base),
            reason,
        };
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let mut doc_url = base.join(file).map_err(|e| broken(e.to_string()))?;
        doc_url.set_fragment(None);
        let pointer = percent_encoding::percent_decode_str(fragment)
            .decode_utf8()
            .map_err(|e| broken(e.to_string()))?
            .into_owned();
        if depth > MAX_DEPTH {
            return Err(broken("the references form a cycle".into()));
        }
        if let Some(name) = component_schema_name(&pointer) {
            if doc_url == self.root {
                self.target(&doc_url, &pointer).map_err(broken)?;
                let local = if file.is_empty() {
                    reference.to_owned()
                } else {
                    format!("#{pointer}")
                };
                return Ok(Resolved::Local(local));
            }
            return self
                .import(doc_url, pointer, &name, depth, reference)
                .map_err(|e| match e {
                    Fail::Here(reason) => broken(reason),
                    Fail::Deeper(error) => error,
                });
        }
        let mut target = self.target(&doc_url, &pointer).map_err(broken)?;
        // The target takes the reference object's place, at its nesting.
        self.inlining.push(reference.to_owned());
        self.resolve(&mut target, &doc_url, depth + 1, nesting)?;
        self.inlining.pop();
        Ok(Resolved::Inline(target))
    }

    /// Copies a schema from another file into `components/schemas`.
    fn import(
        &mut self,
        doc: Url,
        pointer: String,
        name: &str,
        depth: usize,
        reference: &str,
    ) -> Result<Resolved, Fail> {
        let key = (doc.clone(), pointer.clone());
        if let Some(local) = self.imported.get(&key) {
            return Ok(Resolved::Local(schema_ref(local)));
        }
        let mut target = self.target(&doc, &pointer).map_err(Fail::Here)?;
        let local = unique_name(name, &self.taken);
        self.taken.insert(local.clone());
        self.imported.insert(key, local.clone());
        // An imported schema starts a fresh component, at the top.
        self.inlining.push(reference.to_owned());
        self.resolve(&mut target, &doc, depth + 1, 0)
            .map_err(Fail::Deeper)?;
        self.inlining.pop();
        self.new_schemas.insert(local.clone(), target);
        Ok(Resolved::Local(schema_ref(&local)))
    }

    fn target(&mut self, doc: &Url, pointer: &str) -> Result<Value, String> {
        if !self.docs.contains_key(doc) {
            let text = fetch(doc).map_err(|e| e.to_string())?;
            let parsed = parse(&text, &display(doc)).map_err(|e| e.to_string())?;
            self.docs.insert(doc.clone(), parsed);
        }
        self.docs
            .get(doc)
            .and_then(|d| d.pointer(pointer))
            .cloned()
            .ok_or_else(|| format!("{} has nothing at `{pointer}`", display(doc)))
    }
}

enum Fail {
    Here(String),
    Deeper(RegenError),
}

/// Replaces a reference object by its target; the reference's other keys
/// (a 3.1 `description` next to `$ref`, say) win over the target's.
fn inline(slot: &mut Value, target: Value) {
    let Value::Object(reference) = std::mem::replace(slot, target) else {
        return;
    };
    if let Value::Object(resolved) = slot {
        for (key, value) in reference {
            if key != "$ref" {
                resolved.insert(key, value);
            }
        }
    }
}

/// `Name` for a pointer of the form `/components/schemas/Name`.
fn component_schema_name(pointer: &str) -> Option<String> {
    let name = pointer.strip_prefix("/components/schemas/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.replace("~1", "/").replace("~0", "~"))
}

pub fn schema_ref(name: &str) -> String {
    format!(
        "#/components/schemas/{}",
        name.replace('~', "~0").replace('/', "~1")
    )
}

/// `name`, or `name2`, `name3`... whichever is free.
pub fn unique_name(name: &str, taken: &BTreeSet<String>) -> String {
    let mut candidate = name.to_owned();
    let mut n = 1u64;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{name}{n}");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_nesting_is_counted_outside_quotes_and_comments() {
        let deep = "[".repeat(2000);
        assert!(flow_nesting_exceeds(&deep, 1024));
        assert!(flow_nesting_exceeds(&format!("a: {{b: {deep}"), 1024));
        assert!(!flow_nesting_exceeds(&"[]".repeat(5000), 1024));
        assert!(!flow_nesting_exceeds(&format!("a: '{deep}'"), 1024));
        assert!(!flow_nesting_exceeds(&format!("a: 'it''s {deep}'"), 1024));
        assert!(!flow_nesting_exceeds(&format!("a: \"\\\" {deep}\""), 1024));
        assert!(!flow_nesting_exceeds(&format!("a: 1 # {deep}\nb: 2"), 1024));
        // A quote inside a word does not start a quoted scalar.
        assert!(flow_nesting_exceeds(&format!("a: don't\nb: {deep}"), 1024));
    }
}
