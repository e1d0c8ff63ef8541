//! The rules every committed spec keeps, in one place: regen refuses to
//! write a spec that breaks one (naming the rule and the operation), and
//! the crate's tests (`tests/spec_coverage.rs`, which includes this file)
//! check the committed spec with the same functions.
//!
//! Self-contained on purpose (std and serde_json only), so that both crates
//! can compile it.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// The schema every error response carries.
pub const ERROR_SCHEMA: &str = "ErrorResponse";

/// One broken rule: which rule, and where (`METHOD /path (operationId)`, a
/// schema, ...) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub at: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.at)
    }
}

/// An operation: method (upper case), path, the operation object.
pub struct Operation<'a> {
    pub method: String,
    pub path: &'a str,
    pub op: &'a Map<String, Value>,
}

impl Operation<'_> {
    pub fn id(&self) -> &str {
        self.op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("(no operationId)")
    }

    fn label(&self) -> String {
        format!("{} {} ({})", self.method, self.path, self.id())
    }
}

pub fn operations(spec: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method).and_then(Value::as_object) {
                out.push(Operation {
                    method: method.to_uppercase(),
                    path,
                    op,
                });
            }
        }
    }
    out
}

fn schemas(spec: &Value) -> Map<String, Value> {
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The schema name a `{"$ref": "#/components/schemas/X"}` names, if it is one.
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(SCHEMA_PREFIX)
}

fn has_description(value: &Value) -> bool {
    value
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

/// snake_case the way progenitor names methods (heck 0.5's algorithm):
/// words split at non-alphanumerics, before an upper-case letter that
/// follows a lower-case one (digits keep the case before them), and before
/// the last upper-case letter of a run that a lower-case one follows
/// (`getGeoIp` → `get_geo_ip`, `includeIPv6` → `include_i_pv6`,
/// `getApiV2B` → `get_api_v2b`).
pub fn snake_case(name: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Boundary,
        Lower,
        Upper,
    }
    let mut words: Vec<&str> = Vec::new();
    for word in name.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        let mut init = 0;
        let mut mode = Mode::Boundary;
        for (k, &(i, c)) in chars.iter().enumerate() {
            let Some(&(next_i, next)) = chars.get(k + 1) else {
                break;
            };
            let next_mode = if c.is_lowercase() {
                Mode::Lower
            } else if c.is_uppercase() {
                Mode::Upper
            } else {
                mode
            };
            if next_mode == Mode::Lower && next.is_uppercase() {
                words.push(&word[init..next_i]);
                init = next_i;
                mode = Mode::Boundary;
            } else if mode == Mode::Upper && c.is_uppercase() && next.is_lowercase() {
                words.push(&word[init..i]);
                init = i;
                mode = Mode::Boundary;
            } else {
                mode = next_mode;
            }
        }
        words.push(&word[init..]);
    }
    words
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// Every rule that needs only the document.
pub fn check(spec: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    openapi_3_0(spec, &mut out);
    operation_ids(spec, &mut out);
    one_server(spec, &mut out);
    named_schemas(spec, &mut out);
    error_responses(spec, &mut out);
    operations_described(spec, &mut out);
    schemas_described(spec, &mut out);
    refs_resolve(spec, &mut out);
    ids_are_int64(spec, &mut out);
    out
}

fn violation(out: &mut Vec<Violation>, rule: &'static str, at: String) {
    out.push(Violation { rule, at });
}

fn openapi_3_0(spec: &Value, out: &mut Vec<Violation>) {
    let version = spec.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.0.") {
        violation(
            out,
            "openapi-3.0",
            format!("the document says {version:?}; progenitor reads 3.0.x"),
        );
    }
    for key in ["title", "version"] {
        if !spec
            .pointer(&format!("/info/{key}"))
            .is_some_and(Value::is_string)
        {
            violation(out, "openapi-3.0", format!("info.{key} is missing"));
        }
    }
}

fn operation_ids(spec: &Value, out: &mut Vec<Violation>) {
    let mut seen = BTreeSet::new();
    for operation in operations(spec) {
        match operation.op.get("operationId").and_then(Value::as_str) {
            None | Some("") => {
                violation(out, "operation-id", format!("{}: none", operation.label()))
            }
            Some(id) => {
                if !seen.insert(snake_case(id)) {
                    violation(
                        out,
                        "operation-id",
                        format!("{}: used twice", operation.label()),
                    );
                }
            }
        }
    }
}

/// Each operation is sent to one server: the document's first, or the one
/// it (or its path) names; an absolute https URL.
fn one_server(spec: &Value, out: &mut Vec<Violation>) {
    let check_list = |servers: &Value, at: String, out: &mut Vec<Violation>| {
        let Some(list) = servers.as_array() else {
            return;
        };
        if list.len() != 1 {
            violation(
                out,
                "one-server",
                format!("{at}: {} servers; name exactly one", list.len()),
            );
        }
        for server in list {
            let url = server.get("url").and_then(Value::as_str).unwrap_or("");
            if !url.starts_with("https://") || url.contains('{') {
                violation(
                    out,
                    "one-server",
                    format!("{at}: server {url:?} is not a plain https URL"),
                );
            }
        }
    };
    match spec.get("servers") {
        Some(servers) => check_list(servers, "the document".into(), out),
        None => violation(
            out,
            "one-server",
            "the document names no default server".into(),
        ),
    }
    for operation in operations(spec) {
        if let Some(servers) = operation.op.get("servers") {
            check_list(servers, operation.label(), out);
        }
    }
}

fn named_schemas(spec: &Value, out: &mut Vec<Violation>) {
    let schemas = schemas(spec);
    for operation in operations(spec) {
        let responses = operation.op.get("responses").and_then(Value::as_object);
        if responses.is_none_or(Map::is_empty) {
            violation(
                out,
                "named-schemas",
                format!("{}: no responses", operation.label()),
            );
        }
        for (status, response) in responses.into_iter().flatten() {
            let Some(content) = response.get("content").and_then(Value::as_object) else {
                continue;
            };
            for (media, body) in content {
                let schema = body.get("schema").unwrap_or(&Value::Null);
                match named_type(schema) {
                    Some(Some(name)) if schemas.contains_key(name) => {}
                    Some(None) => {}
                    Some(Some(name)) => violation(
                        out,
                        "named-schemas",
                        format!("{} {status} {media}: $ref to unknown schema {name}", operation.label()),
                    ),
                    None => violation(
                        out,
                        "named-schemas",
                        format!(
                            "{} {status} {media}: inline schema; name it in components.schemas and $ref it",
                            operation.label()
                        ),
                    ),
                }
            }
        }
    }
}

/// Whether a body's Rust type needs no name of progenitor's making: a
/// reference (`Some(Some(name))`), a plain scalar, or an array of either
/// (`Some(None)` for scalars). Inline objects and enums are `None`: they
/// get generated names, and an inline success and error schema would even
/// share one.
fn named_type(schema: &Value) -> Option<Option<&str>> {
    if let Some(name) = ref_name(schema) {
        return Some(Some(name));
    }
    let kind = schema.get("type").and_then(Value::as_str)?;
    match kind {
        "string" | "integer" | "number" | "boolean" if schema.get("enum").is_none() => Some(None),
        "array" => named_type(schema.get("items")?),
        _ => None,
    }
}

fn error_responses(spec: &Value, out: &mut Vec<Violation>) {
    for operation in operations(spec) {
        let empty = Map::new();
        let responses = operation
            .op
            .get("responses")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for class in ["4XX", "5XX"] {
            if !responses.contains_key(class) {
                violation(
                    out,
                    "error-responses",
                    format!("{}: no {class} response", operation.label()),
                );
            }
        }
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let schema = response.pointer("/content/application~1json/schema");
            if schema.and_then(ref_name) != Some(ERROR_SCHEMA) {
                violation(
                    out,
                    "error-responses",
                    format!(
                        "{} {status}: the body must be application/json {ERROR_SCHEMA}",
                        operation.label()
                    ),
                );
            }
        }
    }
}

fn operations_described(spec: &Value, out: &mut Vec<Violation>) {
    for operation in operations(spec) {
        let op = Value::Object(operation.op.clone());
        let label = operation.label();
        if !has_description(&op) {
            violation(out, "described", format!("{label}: no description"));
        }
        if !op.get("summary").is_some_and(Value::is_string) {
            violation(out, "described", format!("{label}: no summary"));
        }
        for parameter in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !has_description(parameter) {
                let name = parameter.get("name").unwrap_or(&Value::Null);
                violation(
                    out,
                    "described",
                    format!("{label}: parameter {name} has no description"),
                );
            }
        }
        if op
            .get("requestBody")
            .is_some_and(|body| !has_description(body))
        {
            violation(
                out,
                "described",
                format!("{label}: the request body has no description"),
            );
        }
        for (status, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !has_description(response) {
                violation(
                    out,
                    "described",
                    format!("{label} {status}: no description"),
                );
            }
        }
    }
}

fn schemas_described(spec: &Value, out: &mut Vec<Violation>) {
    let schemas = schemas(spec);
    for (name, schema) in &schemas {
        if !has_description(schema) {
            violation(out, "described", format!("schema {name}: no description"));
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (property, definition) in properties.into_iter().flatten() {
            // A bare $ref cannot carry a description in OpenAPI 3.0; the
            // referenced schema's description stands for it.
            let described = has_description(definition)
                || ref_name(definition)
                    .and_then(|r| schemas.get(r))
                    .is_some_and(has_description);
            if !described {
                violation(
                    out,
                    "described",
                    format!("schema {name}.{property}: no description"),
                );
            }
        }
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let required = required.as_str().unwrap_or_default();
            if !properties.is_some_and(|p| p.contains_key(required)) {
                violation(
                    out,
                    "described",
                    format!("schema {name}: required {required} is not a property"),
                );
            }
        }
    }
}

fn refs_resolve(spec: &Value, out: &mut Vec<Violation>) {
    fn walk(value: &Value, at: &str, schemas: &Map<String, Value>, out: &mut Vec<Violation>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let resolves = target
                        .strip_prefix(SCHEMA_PREFIX)
                        .is_some_and(|name| schemas.contains_key(name));
                    if !resolves {
                        violation(
                            out,
                            "refs-resolve",
                            format!("{at}: $ref {target} does not resolve"),
                        );
                    }
                }
                for (key, child) in map {
                    walk(child, &format!("{at}/{key}"), schemas, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), schemas, out);
                }
            }
            _ => {}
        }
    }
    walk(spec, "#", &schemas(spec), out);
}

/// Ids can exceed 2^31: every integer called an id is 64-bit.
fn ids_are_int64(spec: &Value, out: &mut Vec<Violation>) {
    let check = |at: String, name: &str, schema: &Value, out: &mut Vec<Violation>| {
        let id_like = name == "id" || name.ends_with("Id") || name.ends_with("ID");
        let integer = schema.get("type") == Some(&Value::from("integer"));
        if id_like && integer && schema.get("format") != Some(&Value::from("int64")) {
            violation(
                out,
                "int64-ids",
                format!("{at}: integer id without format int64"),
            );
        }
    };
    for (name, schema) in &schemas(spec) {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (property, definition) in properties.into_iter().flatten() {
            check(
                format!("schema {name}.{property}"),
                property,
                definition,
                out,
            );
        }
    }
    for operation in operations(spec) {
        let parameters = operation.op.get("parameters").and_then(Value::as_array);
        for parameter in parameters.into_iter().flatten() {
            let name = parameter
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let schema = parameter.get("schema").unwrap_or(&Value::Null);
            check(
                format!("{} parameter {name}", operation.label()),
                name,
                schema,
                out,
            );
        }
    }
}

/// The names after every `pub fn ` in generated code (pretty-printed or a
/// token stream's text, where a space follows the name).
pub fn generated_functions(generated: &str) -> BTreeSet<String> {
    generated
        .split("pub fn ")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

/// Every operation's generated method is in the generated client's code.
pub fn names_match_generated(spec: &Value, generated: &str) -> Vec<Violation> {
    let functions = generated_functions(generated);
    let mut out = Vec::new();
    for operation in operations(spec) {
        let name = snake_case(operation.id());
        if !functions.contains(&name) {
            violation(
                &mut out,
                "generated-names",
                format!(
                    "{}: the generated client has no `pub fn {name}`",
                    operation.label()
                ),
            );
        }
    }
    out
}

/// The names of the methods that `impl PlexTv` blocks in `sources` define
/// (the hand-written layer, read as text).
pub fn hand_written_methods(sources: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for source in sources {
        let mut depth = 0usize;
        let mut in_impl = None;
        for line in source.lines() {
            let trimmed = line.trim_start();
            if in_impl.is_none() && trimmed.starts_with("impl PlexTv {") {
                in_impl = Some(depth);
            }
            if in_impl.is_some() {
                let rest = trimmed
                    .strip_prefix("pub async fn ")
                    .or_else(|| trimmed.strip_prefix("pub fn "));
                if let Some(name) = rest.and_then(|r| r.split(['(', '<']).next()) {
                    names.insert(name.trim().to_owned());
                }
            }
            depth += line.matches('{').count();
            depth = depth.saturating_sub(line.matches('}').count());
            if in_impl.is_some_and(|at| depth <= at) {
                in_impl = None;
            }
        }
    }
    names
}

/// No hand-written `PlexTv` method takes an operation's generated name:
/// `PlexTv` dereferences to the generated client, so such a method would
/// silently hide the operation.
pub fn not_shadowed(spec: &Value, hand_written: &BTreeSet<String>) -> Vec<Violation> {
    let mut out = Vec::new();
    for operation in operations(spec) {
        let name = snake_case(operation.id());
        if hand_written.contains(&name) {
            violation(
                &mut out,
                "not-shadowed",
                format!(
                    "{}: a hand-written `PlexTv::{name}` hides it; give one of them another name",
                    operation.label()
                ),
            );
        }
    }
    out
}
