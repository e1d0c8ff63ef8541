//! Making a 3.0 document safe for progenitor 0.15, whose limits the rules
//! below work around: some constructs panic the build (two success types,
//! a `default` next to a success, a JSON body without a schema), one
//! silently generates the wrong type (inline success and error schemas). Each rule rewrites what it must and adds
//! a note for the report; none changes a document that already complies.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::load::{schema_ref, unique_name};
use crate::select::{push_down_parameters, METHODS};

/// Request body media types progenitor can send, in order of preference.
const BODY_TYPES: [&str; 5] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "text/plain",
    "text/x-markdown",
];

/// `base` is the committed spec: its operationIds stay with their own
/// operations, and a success schema it already lifted keeps its name.
pub fn sanitize(
    doc: &mut Value,
    base: Option<&Value>,
    error_schema: &str,
    notes: &mut Vec<String>,
) {
    // The client injects identity and token headers itself.
    if let Some(root) = doc.as_object_mut() {
        root.remove("security");
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("securitySchemes");
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut taken: BTreeSet<String> = schemas
        .as_object()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    let committed_schemas = base
        .and_then(|b| b.pointer("/components/schemas"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut lifted = BTreeMap::new();
    let reserved = reserved_ids(doc, base);
    let mut seen_ids: BTreeSet<String> = reserved.keys().cloned().collect();
    let mut needs_error_schema = false;

    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let shared = match item.remove("parameters") {
            Some(Value::Array(shared)) => shared,
            _ => Vec::new(),
        };
        for method in METHODS {
            let Some(Value::Object(op)) = item.get_mut(method) else {
                continue;
            };
            push_down_parameters(op, &shared);
            op.remove("security");
            let id = operation_id(op, method, path, &reserved, &mut seen_ids, notes);
            let label = format!("{id} ({} {path})", method.to_uppercase());
            parameters(op, path, &label, &schemas, notes);
            request_body(op, &label, notes);
            needs_error_schema |= responses(op, &label, error_schema, notes);
            lift_success_schema(op, &id, &committed_schemas, &mut taken, &mut lifted);
        }
    }
    // Only a document of another shape (which `shape::check` refuses) has
    // nowhere to put them.
    let Some(schemas) = crate::merge::schemas_mut(doc) else {
        return;
    };
    schemas.extend(lifted);
    if needs_error_schema && !schemas.contains_key(error_schema) {
        notes.push(format!("added a placeholder `{error_schema}` schema for error bodies; describe it in the overlay"));
        schemas.insert(
            error_schema.into(),
            json!({ "description": "An error body; its fields are not described.", "type": "object" }),
        );
    }
}

/// The committed spec's operationIds that their own operation (same method
/// and path) still has in `doc`, each with its `(method, path)`: no other
/// operation may take them, whatever the path order.
fn reserved_ids(doc: &Value, base: Option<&Value>) -> BTreeMap<String, (String, String)> {
    let mut reserved = BTreeMap::new();
    let Some(paths) = base.and_then(|b| b.get("paths")).and_then(Value::as_object) else {
        return reserved;
    };
    for (path, item) in paths {
        for method in METHODS {
            let ours = item
                .get(method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty());
            let Some(ours) = ours else { continue };
            let now = doc
                .get("paths")
                .and_then(|p| p.get(path))
                .and_then(|i| i.get(method))
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str);
            if now == Some(ours) {
                reserved
                    .entry(ours.to_owned())
                    .or_insert_with(|| (method.to_owned(), path.clone()));
            }
        }
    }
    reserved
}

/// Every operation needs a unique operationId; a missing one is derived from
/// the method and path so that it is the same on every run. `seen` starts
/// with the `reserved` ids, which only their own operation may keep.
fn operation_id(
    op: &mut Map<String, Value>,
    method: &str,
    path: &str,
    reserved: &BTreeMap<String, (String, String)>,
    seen: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
) -> String {
    let line = format!("{} {path}", method.to_uppercase());
    let current = op
        .get("operationId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty());
    let owner = current.and_then(|id| reserved.get(id));
    let id = match (current, owner) {
        (Some(id), Some((m, p))) if m == method && p == path => id.to_owned(),
        (Some(id), Some((m, p))) => {
            let derived = unique_name(&derive_operation_id(method, path), seen);
            notes.push(format!(
                "{line}: operationId `{id}` belongs to {} {p} in the committed spec; renamed to `{derived}`",
                m.to_uppercase()
            ));
            derived
        }
        (Some(id), None) if !seen.contains(id) => id.to_owned(),
        (Some(id), None) => {
            let derived = unique_name(&derive_operation_id(method, path), seen);
            notes.push(format!(
                "{line}: operationId `{id}` is already used; renamed to `{derived}`"
            ));
            derived
        }
        (None, _) => {
            let derived = unique_name(&derive_operation_id(method, path), seen);
            notes.push(format!("{line}: no operationId; derived `{derived}`"));
            derived
        }
    };
    seen.insert(id.clone());
    op.insert("operationId".into(), Value::String(id.clone()));
    id
}

/// `get /api/v2/user/{uuid}/settings` -> `getApiV2UserByUuidSettings`.
pub fn derive_operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(variable) => {
                id.push_str("By");
                id.push_str(&pascal_case(variable));
            }
            None => id.push_str(&pascal_case(segment)),
        }
    }
    id
}

/// `opt_outs` -> `OptOuts`, `getPin` -> `GetPin`.
pub fn pascal_case(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect::<String>()
        })
        .collect()
}

fn path_variables(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn parameters(
    op: &mut Map<String, Value>,
    path: &str,
    label: &str,
    schemas: &Value,
    notes: &mut Vec<String>,
) {
    let list = match op.remove("parameters") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let variables = path_variables(path);
    let mut kept: Vec<Value> = Vec::new();
    for parameter in list {
        let Value::Object(mut p) = parameter else {
            continue;
        };
        if let Some(reason) = parameter_problem(&mut p, &variables, schemas) {
            if !reason.is_empty() {
                let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
                notes.push(format!("{label}: parameter `{name}` removed: {reason}"));
            }
            continue;
        }
        kept.push(Value::Object(p));
    }
    for variable in variables {
        let declared = kept.iter().any(|p| {
            p.get("in").and_then(Value::as_str) == Some("path")
                && p.get("name").and_then(Value::as_str) == Some(variable.as_str())
        });
        if !declared {
            notes.push(format!(
                "{label}: path parameter `{variable}` was not declared; added as a string"
            ));
            kept.push(json!({ "in": "path", "name": variable, "required": true, "schema": { "type": "string" } }));
        }
    }
    if !kept.is_empty() {
        op.insert("parameters".into(), Value::Array(kept));
    }
}

/// Fixes what can be fixed in one parameter; `Some(reason)` means drop it
/// (an empty reason drops it silently: the identity headers).
fn parameter_problem(
    p: &mut Map<String, Value>,
    variables: &[String],
    schemas: &Value,
) -> Option<String> {
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let location = p
        .get("in")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let lower = name.to_ascii_lowercase();
    if location == "header" && (lower.starts_with("x-plex-") || lower == "accept") {
        return Some(String::new());
    }
    if !p.contains_key("schema") {
        let from_content = p
            .remove("content")
            .and_then(|c| c.as_object()?.values().next()?.get("schema").cloned());
        p.insert(
            "schema".into(),
            from_content.unwrap_or_else(|| json!({ "type": "string" })),
        );
    }
    p.remove("content");
    let style = p.get("style").and_then(Value::as_str).map(str::to_owned);
    let object = p
        .get("schema")
        .is_some_and(|schema| is_object(schema, schemas, 0));
    match location.as_str() {
        "cookie" => return Some("progenitor cannot send cookie parameters".into()),
        "path" if !variables.contains(&name) => {
            return Some("the path has no such variable".into())
        }
        "path" => {
            // Path parameters are always required; progenitor asserts it.
            p.insert("required".into(), json!(true));
        }
        "query" if style.as_deref().is_some_and(|s| s != "form") && object => {
            return Some(format!(
                "progenitor cannot send `style: {}` objects",
                style.unwrap_or_default()
            ));
        }
        "query" | "header" => {}
        other => return Some(format!("unknown location `{other}`")),
    }
    let default_style = if location == "query" {
        "form"
    } else {
        "simple"
    };
    if style.as_deref().is_some_and(|s| s != default_style) {
        p.remove("style");
    }
    let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
    if !required && object {
        return Some("progenitor cannot take an optional object parameter".into());
    }
    None
}

fn is_object(schema: &Value, schemas: &Value, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return schemas
            .get(name)
            .is_some_and(|s| is_object(s, schemas, depth + 1));
    }
    if let Some([only]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return is_object(only, schemas, depth + 1);
    }
    schema.get("type").and_then(Value::as_str) == Some("object")
        || schema.get("properties").is_some()
}

fn media_base(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media_type: &str) -> bool {
    media_base(media_type) == "application/json"
}

fn request_body(op: &mut Map<String, Value>, label: &str, notes: &mut Vec<String>) {
    let Some(Value::Object(body)) = op.get_mut("requestBody") else {
        return;
    };
    let content = body
        .get("content")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let chosen = BODY_TYPES
        .iter()
        .find_map(|wanted| content.iter().find(|(key, _)| media_base(key) == *wanted));
    let Some((key, media)) = chosen else {
        let offered: Vec<&str> = content.keys().map(String::as_str).collect();
        notes.push(format!(
            "{label}: request body removed: progenitor cannot send {}",
            offered.join(", ")
        ));
        op.remove("requestBody");
        return;
    };
    let mut media = media.as_object().cloned().unwrap_or_default();
    media.remove("encoding");
    let fixed_schema = match media_base(key).as_str() {
        "application/octet-stream" => Some(json!({ "format": "binary", "type": "string" })),
        "text/plain" | "text/x-markdown" => Some(json!({ "type": "string" })),
        _ => None,
    };
    if let Some(schema) = fixed_schema {
        media.insert("schema".into(), schema);
    } else if !media.contains_key("schema") {
        notes.push(format!(
            "{label}: request body removed: its {key} content has no schema"
        ));
        op.remove("requestBody");
        return;
    }
    if content.len() > 1 {
        notes.push(format!(
            "{label}: request body keeps {key} of {} media types",
            content.len()
        ));
    }
    let key = key.clone();
    body.insert("content".into(), json!({ key: media }));
}

fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

/// Returns whether the operation has error responses (which all get the
/// shared error schema).
fn responses(
    op: &mut Map<String, Value>,
    label: &str,
    error_schema: &str,
    notes: &mut Vec<String>,
) -> bool {
    let Some(Value::Object(responses)) = op.get_mut("responses") else {
        return false;
    };
    // `default` counts as both success and error: next to anything else it
    // gives progenitor two types for one slot. With no 2xx beside it and a
    // body of its own, it is the success response: it becomes `200`.
    if responses.len() > 1 {
        if let Some(default) = responses.remove("default") {
            let has_body = default
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| !c.is_empty());
            if has_body && !responses.keys().any(|s| is_success(s)) {
                notes.push(format!("{label}: `default` response becomes `200`"));
                responses.insert("200".into(), default);
            } else {
                notes.push(format!("{label}: `default` response removed"));
            }
        }
    }
    // Every operation can fail like every other: plex.tv answers errors in
    // one shape, whatever upstream lists.
    for (class, text) in [
        (
            "4XX",
            "A client error: a bad request, a missing or rejected token, rate limiting.",
        ),
        (
            "5XX",
            "plex.tv is failing or unavailable; the body may be an HTML page.",
        ),
    ] {
        if !responses.contains_key(class) {
            notes.push(format!("{label}: added a {class} response"));
            responses.insert(class.into(), json!({ "description": text }));
        }
    }
    let mut has_errors = false;
    for (status, response) in responses.iter_mut() {
        let Value::Object(response) = response else {
            continue;
        };
        if !response.contains_key("description") {
            response.insert("description".into(), json!(""));
        }
        if is_error(status) {
            has_errors = true;
            response.insert(
                "content".into(),
                json!({ "application/json": { "schema": { "$ref": schema_ref(error_schema) } } }),
            );
        } else {
            one_media_type(response, &format!("{label} {status}"), notes);
        }
    }
    one_success_type(responses, label, notes);
    has_errors
}

/// Progenitor reads one body per response: JSON if there is JSON, else the
/// first other type as raw bytes.
fn one_media_type(response: &mut Map<String, Value>, label: &str, notes: &mut Vec<String>) {
    let Some(Value::Object(content)) = response.get("content") else {
        return;
    };
    let json = content
        .iter()
        .find(|(k, v)| is_json(k) && v.get("schema").is_some());
    let chosen = json.or_else(|| content.iter().find(|(k, _)| !is_json(k)));
    let Some((key, media)) = chosen else {
        if !content.is_empty() {
            notes.push(format!("{label}: JSON body without a schema is ignored"));
        }
        response.remove("content");
        return;
    };
    if content.len() > 1 {
        notes.push(format!(
            "{label}: keeps {key} of {} media types",
            content.len()
        ));
    }
    let mut media = media.as_object().cloned().unwrap_or_default();
    media.remove("encoding");
    let key = key.clone();
    response.insert("content".into(), json!({ key: media }));
}

/// What type progenitor makes of a response body.
fn body_kind(response: &Value) -> Value {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Value::Null;
    };
    match content.iter().next() {
        Some((key, media)) if is_json(key) => media.get("schema").cloned().unwrap_or(Value::Null),
        Some(_) => json!("raw"),
        None => Value::Null,
    }
}

/// All success responses must decode into one type: keep the first with a
/// JSON body (else the first) and those of the same type.
fn one_success_type(responses: &mut Map<String, Value>, label: &str, notes: &mut Vec<String>) {
    let success: Vec<String> = responses
        .keys()
        .filter(|s| is_success(s))
        .cloned()
        .collect();
    let Some(first) = success.first() else { return };
    let kind_of = |status: &str| responses.get(status).map(body_kind).unwrap_or(Value::Null);
    let chosen = success
        .iter()
        .find(|s| {
            responses
                .get(s.as_str())
                .and_then(|r| r.get("content"))
                .is_some_and(|c| c.as_object().is_some_and(|c| c.keys().any(|k| is_json(k))))
        })
        .unwrap_or(first);
    let kind = kind_of(chosen);
    let differing: Vec<&String> = success.iter().filter(|s| kind_of(s) != kind).collect();
    for status in differing {
        responses.remove(status);
        notes.push(format!(
            "{label}: success response {status} removed: its body differs from {chosen}'s"
        ));
    }
}

/// A schema whose Rust type needs no generated name: a reference, a plain
/// scalar, or an array of such.
fn is_named(schema: &Value) -> bool {
    let Some(s) = schema.as_object() else {
        return false;
    };
    if s.contains_key("$ref") {
        return s.len() == 1;
    }
    let scalar = ["string", "integer", "number", "boolean"];
    if s.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| scalar.contains(&t))
    {
        return !s.contains_key("enum");
    }
    s.get("type").and_then(Value::as_str) == Some("array")
        && s.get("items").is_some_and(is_named)
        && s.keys()
            .all(|k| matches!(k.as_str(), "type" | "items" | "description"))
}

/// Progenitor names an inline success schema and an inline error schema
/// alike (`{OperationId}Response`) and the error one silently wins; giving
/// the success schema a component name avoids that and keeps names stable.
///
/// A name the committed spec already gives this very schema is reused, so
/// that refreshing from the same upstream keeps the type (and the bytes).
fn lift_success_schema(
    op: &mut Map<String, Value>,
    id: &str,
    committed: &Map<String, Value>,
    taken: &mut BTreeSet<String>,
    lifted: &mut BTreeMap<String, Value>,
) {
    let Some(Value::Object(responses)) = op.get_mut("responses") else {
        return;
    };
    let mut done: Option<(Value, Value)> = None;
    for (status, response) in responses.iter_mut() {
        if !(is_success(status) || status == "default") {
            continue;
        }
        let Some(Value::Object(content)) = response.get_mut("content") else {
            continue;
        };
        for (key, media) in content.iter_mut() {
            let Some(schema) = media.get_mut("schema").filter(|_| is_json(key)) else {
                continue;
            };
            if is_named(schema) {
                continue;
            }
            let reference = match &done {
                Some((original, reference)) if original == schema => reference.clone(),
                _ => {
                    let wanted = format!("{}Response", pascal_case(id));
                    let reusable =
                        committed.get(&wanted) == Some(&*schema) && !lifted.contains_key(&wanted);
                    let name = if reusable {
                        wanted
                    } else {
                        unique_name(&wanted, taken)
                    };
                    taken.insert(name.clone());
                    lifted.insert(name.clone(), schema.clone());
                    let reference = json!({ "$ref": schema_ref(&name) });
                    done = Some((schema.clone(), reference.clone()));
                    reference
                }
            };
            *schema = reference;
        }
    }
}
