//! Merging a refreshed document into the committed one.
//!
//! The committed spec is the authority for what the crate already exposes:
//! an operation it has keeps its parameters, body, responses, operationId
//! and servers, and takes only upstream's summary and description. Nothing
//! has to restate that in the overlay. Operations only we describe stay as
//! they are, and so do the component schemas we already have: a refresh
//! cannot silently change a public type. New operations come in only once
//! admitted (see `admission`).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::select::METHODS;

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

/// The committed spec with the incoming document merged in: an operation
/// the committed spec has keeps everything of ours (parameters, body,
/// responses, operationId, servers) and takes upstream's summary and
/// description; an admitted new one comes in whole; component schemas are
/// the incoming ones (already completed with ours).
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
                    Some(ours) => take_texts(ours, &theirs),
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

/// The texts upstream may change in an operation the crate already has.
const UPSTREAM_TEXTS: [&str; 2] = ["summary", "description"];

/// Our operation, with upstream's non-empty summary and description.
fn take_texts(mut ours: Value, theirs: &Value) -> Value {
    if let Some(op) = ours.as_object_mut() {
        for key in UPSTREAM_TEXTS {
            let text = theirs.get(key).and_then(Value::as_str);
            if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
                op.insert(key.into(), json!(text));
            }
        }
    }
    ours
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

fn paths_of(doc: &Value) -> Map<String, Value> {
    doc.get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
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
