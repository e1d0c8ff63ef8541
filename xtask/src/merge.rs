//! Merging a refreshed document into the committed one.
//!
//! An operation that upstream describes replaces ours field by field: what
//! upstream says wins, what it leaves unsaid (a response it does not list, a
//! parameter's description the overlay stripped) stays ours. Schemas are
//! replaced whole, never mixed. Operations only we describe stay as they
//! are, and so do the component schemas we already have: the overlay decides
//! what changes in them, so a refresh cannot silently change a public type.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::select::METHODS;

/// Renames upstream paths that are ours under other variable names
/// (`/pins/{pinID}` for our `/pins/{pinId}`), so that the overlay and the
/// merge see one spelling.
pub fn align(upstream: &mut Value, base: Option<&Value>) {
    let Some(base) = base else { return };
    let ours: Vec<String> = paths_of(base).keys().cloned().collect();
    let Some(paths) = upstream.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let renames: Vec<(String, String)> = paths
        .keys()
        .filter_map(|theirs| {
            let mine = ours
                .iter()
                .find(|p| *p != theirs && template(p) == template(theirs))?;
            Some((theirs.clone(), mine.clone()))
        })
        .collect();
    for (theirs, mine) in renames {
        if paths.contains_key(&mine) {
            continue;
        }
        let Some(mut item) = paths.remove(&theirs) else {
            continue;
        };
        for method in METHODS {
            if let Some(op) = item.get_mut(method) {
                rename_path_parameters(op, &theirs, &mine);
            }
        }
        paths.insert(mine, item);
    }
}

/// Adds to the incoming document what only the committed spec has: its
/// other operations, and its version of every component schema (ours are
/// public Rust types; upstream's same-named ones are reported, not taken).
/// The overlay then sees, and must match, the same operations whatever
/// upstream describes.
///
/// Documents of another shape (which `shape::check` refuses) are left as
/// they are.
pub fn complete(incoming: &mut Value, base: Option<&Value>, notes: &mut Vec<String>) {
    let Some(base) = base else { return };
    if let Some(paths) = paths_mut(incoming) {
        for (path, item) in paths_of(base) {
            let Some(slot) = paths
                .entry(path)
                .or_insert_with(|| json!({}))
                .as_object_mut()
            else {
                continue;
            };
            for method in METHODS {
                if let (Some(op), false) = (item.get(method), slot.contains_key(method)) {
                    slot.insert(method.into(), op.clone());
                }
            }
        }
    }
    let Some(ours) = base
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return;
    };
    let Some(schemas) = schemas_mut(incoming) else {
        return;
    };
    for (name, schema) in ours {
        if schemas.get(name).is_some_and(|theirs| theirs != schema) {
            notes.push(format!(
                "schema {name}: upstream's differs; ours is kept (change it in the overlay)"
            ));
        }
        schemas.insert(name.clone(), schema.clone());
    }
}

/// The committed spec with the incoming operations merged in and the
/// incoming schemas (already completed with ours) in place of its own.
pub fn merge(base: Option<&Value>, incoming: Value) -> Value {
    let Some(base) = base else { return incoming };
    let mut merged = base.clone();
    if let Some(paths) = paths_mut(&mut merged) {
        for (path, item) in paths_of(&incoming) {
            let Some(slot) = paths
                .entry(path.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
            else {
                continue;
            };
            for method in METHODS {
                let Some(theirs) = item.get(method).cloned() else {
                    continue;
                };
                let merged_op = match slot.remove(method) {
                    Some(ours) => merge_value(ours, theirs),
                    None => theirs,
                };
                slot.insert(method.into(), merged_op);
            }
        }
    }
    if let (Some(schemas), Some(slot)) = (
        incoming.pointer("/components/schemas"),
        schemas_mut(&mut merged),
    ) {
        *slot = schemas.as_object().cloned().unwrap_or_default();
    }
    merged
}

/// The document's `paths`, created if missing; `None` if the document or
/// its `paths` is not an object.
fn paths_mut(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    doc.as_object_mut()?
        .entry("paths")
        .or_insert_with(|| json!({}))
        .as_object_mut()
}

/// The document's `components/schemas`, created if missing; `None` if
/// something on the way is not an object.
pub(crate) fn schemas_mut(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    doc.as_object_mut()?
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()?
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
}

/// Upstream wins key by key; see the module comment.
fn merge_value(ours: Value, theirs: Value) -> Value {
    match (ours, theirs) {
        (Value::Object(mut ours), Value::Object(theirs)) => {
            for (key, their_value) in theirs {
                let value = match ours.remove(&key) {
                    Some(our_value) => merge_field(&key, our_value, their_value),
                    None => their_value,
                };
                ours.insert(key, value);
            }
            Value::Object(ours)
        }
        (_, theirs) => theirs,
    }
}

fn merge_field(key: &str, ours: Value, theirs: Value) -> Value {
    match key {
        // A schema is one type: mixing two would make a third.
        "schema" => theirs,
        "parameters" => merge_parameters(ours, theirs),
        _ => merge_value(ours, theirs),
    }
}

/// Upstream's parameter list, each merged with ours of the same name and
/// location.
fn merge_parameters(ours: Value, theirs: Value) -> Value {
    let (Value::Array(ours), Value::Array(theirs)) = (ours, theirs.clone()) else {
        return theirs;
    };
    let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
    let merged = theirs
        .into_iter()
        .map(
            |their| match ours.iter().find(|our| key(our) == key(&their)) {
                Some(our) => merge_value(our.clone(), their),
                None => their,
            },
        )
        .collect();
    Value::Array(merged)
}

fn paths_of(doc: &Value) -> Map<String, Value> {
    doc.get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A path with its variable names blanked: `/pins/{}`.
fn template(path: &str) -> String {
    let mut out = String::new();
    let mut in_variable = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_variable = true;
                out.push('{');
            }
            '}' => {
                in_variable = false;
                out.push('}');
            }
            _ if !in_variable => out.push(c),
            _ => {}
        }
    }
    out
}

fn variables(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|r| r.split_once('}'))
        .map(|(v, _)| v.to_owned())
        .collect()
}

fn rename_path_parameters(op: &mut Value, from_path: &str, to_path: &str) {
    let renames: Vec<(String, String)> = variables(from_path)
        .into_iter()
        .zip(variables(to_path))
        .collect();
    let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in parameters.iter_mut().filter_map(Value::as_object_mut) {
        if p.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let name = p.get("name").and_then(Value::as_str);
        if let Some((_, ours)) = renames.iter().find(|(theirs, _)| name == Some(theirs)) {
            p.insert("name".into(), json!(ours));
        }
    }
}

/// Drops component schemas that the committed spec did not have and that
/// nothing references any more (upstream's, replaced by the overlay).
pub fn prune(doc: &mut Value, base: Option<&Value>) {
    let keep: BTreeSet<String> = base
        .and_then(|b| b.pointer("/components/schemas"))
        .and_then(Value::as_object)
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut reachable = BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    collect_refs(doc.get("paths").unwrap_or(&Value::Null), &mut pending);
    pending.extend(keep.iter().cloned());
    while let Some(name) = pending.pop() {
        if reachable.insert(name.clone()) {
            if let Some(schema) = schemas.get(&name) {
                collect_refs(schema, &mut pending);
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| reachable.contains(name));
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.replace("~1", "/").replace("~0", "~"));
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
