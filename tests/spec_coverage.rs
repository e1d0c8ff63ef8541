//! Checks of `openapi/plex-tv.json` itself: every operation has a test in
//! `tests/` (mostly `tests/operations.rs`), and the document keeps the conventions the crate
//! relies on (OpenAPI 3.0, named response types, the shared error body,
//! descriptions everywhere).

use std::{collections::BTreeSet, path::PathBuf};

use serde_json::{Map, Value};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const SCHEMA_PREFIX: &str = "#/components/schemas/";

fn manifest_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn spec() -> Value {
    let path = manifest_path("openapi/plex-tv.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the spec is JSON")
}

/// Every operation: (method, path, operation object).
fn operations(spec: &Value) -> Vec<(String, String, Map<String, Value>)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let item = item.as_object().expect("a path item object");
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                out.push((
                    method.to_uppercase(),
                    path.clone(),
                    operation.as_object().expect("an operation object").clone(),
                ));
            }
        }
    }
    out
}

fn schemas(spec: &Value) -> &Map<String, Value> {
    spec["components"]["schemas"]
        .as_object()
        .expect("components.schemas")
}

/// lowerCamelCase to snake_case the way progenitor (heck) does it: a word
/// starts at an upper-case letter after a lower-case letter or digit, or at
/// the last upper-case letter of a run followed by a lower-case one
/// (`getGeoIp` → `get_geo_ip`, `includeIPv6` → `include_i_pv6`).
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let starts_word = previous.is_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_uppercase() && next_is_lower);
            if starts_word && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out.trim_end_matches('_').to_owned()
}

#[test]
fn snake_case_matches_progenitor() {
    assert_eq!(snake_case("getGeoIp"), "get_geo_ip");
    assert_eq!(snake_case("createPin"), "create_pin");
    assert_eq!(snake_case("ping"), "ping");
    assert_eq!(snake_case("includeIPv6"), "include_i_pv6");
    assert_eq!(snake_case("getHTTPServer"), "get_http_server");
    assert_eq!(snake_case("signIn"), "sign_in");
}

fn operation_ids(spec: &Value) -> Vec<String> {
    operations(spec)
        .iter()
        .map(|(method, path, operation)| {
            operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_owned()
        })
        .collect()
}

/// Every `tests/*.rs` file, concatenated: per-operation tests live in
/// `tests/operations.rs`, and in the test file of a feature's own endpoints.
fn test_sources() -> String {
    let dir = manifest_path("tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("a test file"))
        .collect()
}

#[test]
fn every_operation_has_a_test() {
    let tests = test_sources();
    let missing: Vec<String> = operation_ids(&spec())
        .iter()
        .map(|id| format!("fn op_{}(", snake_case(id)))
        .filter(|needle| !tests.contains(needle.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "no test under tests/ for these operations; add `async fn op_<name>()` for each:\n  {}",
        missing.join("\n  ")
    );
}

/// The names above are the ones progenitor gives the methods.
#[test]
fn operation_names_match_the_generated_client() {
    let Some(out_dir) = option_env!("OUT_DIR") else {
        eprintln!("OUT_DIR is not set for integration tests; skipped");
        return;
    };
    let generated = std::fs::read_to_string(PathBuf::from(out_dir).join("plex_tv_generated.rs"))
        .expect("the generated client");
    let missing: Vec<String> = operation_ids(&spec())
        .iter()
        .map(|id| format!("pub fn {}(&self)", snake_case(id)))
        .filter(|needle| !generated.contains(needle.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the generated client: {missing:?}"
    );
}

#[test]
fn operation_ids_are_unique() {
    let ids = operation_ids(&spec());
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate operationIds in {ids:?}");
}

#[test]
fn spec_is_openapi_3_0() {
    let spec = spec();
    let version = spec["openapi"].as_str().expect("an openapi version");
    assert!(
        version.starts_with("3.0."),
        "progenitor reads OpenAPI 3.0.x, the spec says {version}"
    );
    assert!(spec["info"]["title"].is_string());
    assert!(spec["info"]["version"].is_string());
}

#[test]
fn required_types_exist() {
    let spec = spec();
    let schemas = schemas(&spec);
    let missing: Vec<&str> = [
        "Pin",
        "User",
        "Resource",
        "ResourceConnection",
        "Friend",
        "Companion",
        "GeoLocation",
        "Home",
        "Webhook",
        "ClaimToken",
        "ErrorResponse",
    ]
    .into_iter()
    .filter(|name| !schemas.contains_key(*name))
    .collect();
    assert!(missing.is_empty(), "missing component schemas: {missing:?}");
}

/// The schema name a `{"$ref": "#/components/schemas/X"}` names, if it is one.
fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(SCHEMA_PREFIX)
}

#[test]
fn json_responses_use_named_schemas() {
    let spec = spec();
    let schemas = schemas(&spec);
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&spec) {
        let responses = operation["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path} has no responses");
        for (status, response) in responses {
            let Some(content) = response.get("content").and_then(Value::as_object) else {
                continue;
            };
            for (media, body) in content {
                let schema = &body["schema"];
                let named = ref_name(schema)
                    .or_else(|| (schema["type"] == "array").then(|| ref_name(&schema["items"]))?);
                match named {
                    Some(name) if schemas.contains_key(name) => {}
                    Some(name) => problems.push(format!(
                        "{method} {path} {status} {media}: $ref to unknown schema {name}"
                    )),
                    None => problems.push(format!(
                        "{method} {path} {status} {media}: inline schema {schema}; \
                         name it in components.schemas and $ref it"
                    )),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn error_responses_use_error_response() {
    let spec = spec();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&spec) {
        let responses = operation["responses"].as_object().expect("responses");
        for class in ["4XX", "5XX"] {
            if !responses.contains_key(class) {
                problems.push(format!("{method} {path}: no {class} response"));
            }
        }
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let schema = &response["content"]["application/json"]["schema"];
            if ref_name(schema) != Some("ErrorResponse") {
                problems.push(format!(
                    "{method} {path} {status}: the body must be application/json ErrorResponse, is {}",
                    response.get("content").unwrap_or(&Value::Null)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn has_description(value: &Value) -> bool {
    value
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

#[test]
fn operations_and_parameters_are_described() {
    let spec = spec();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&spec) {
        let operation = Value::Object(operation);
        if !has_description(&operation) {
            problems.push(format!("{method} {path}: no description"));
        }
        if !operation["summary"].is_string() {
            problems.push(format!("{method} {path}: no summary"));
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if !has_description(parameter) {
                problems.push(format!(
                    "{method} {path}: parameter {} has no description",
                    parameter["name"]
                ));
            }
        }
        if let Some(body) = operation.get("requestBody") {
            if !has_description(body) {
                problems.push(format!("{method} {path}: request body has no description"));
            }
        }
        for (status, response) in operation["responses"].as_object().into_iter().flatten() {
            if !has_description(response) {
                problems.push(format!("{method} {path} {status}: no description"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn schemas_and_properties_are_described() {
    let spec = spec();
    let mut problems = Vec::new();
    for (name, schema) in schemas(&spec) {
        if !has_description(schema) {
            problems.push(format!("{name}: no description"));
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (property, definition) in properties.into_iter().flatten() {
            // A bare $ref cannot carry a description in OpenAPI 3.0; the
            // referenced schema's description stands for it.
            let described = has_description(definition)
                || ref_name(definition).is_some_and(|r| has_description(&schemas(&spec)[r]));
            if !described {
                problems.push(format!("{name}.{property}: no description"));
            }
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            let required = required.as_str().expect("required names are strings");
            if !properties.is_some_and(|p| p.contains_key(required)) {
                problems.push(format!("{name}: required {required} is not a property"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_ref_resolves() {
    fn walk(value: &Value, at: &str, schemas: &Map<String, Value>, problems: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    match target.strip_prefix(SCHEMA_PREFIX) {
                        Some(name) if schemas.contains_key(name) => {}
                        _ => problems.push(format!("{at}: $ref {target} does not resolve")),
                    }
                }
                for (key, child) in map {
                    walk(child, &format!("{at}/{key}"), schemas, problems);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), schemas, problems);
                }
            }
            _ => {}
        }
    }
    let spec = spec();
    let mut problems = Vec::new();
    walk(&spec, "#", schemas(&spec), &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Ids can exceed 2^31: every integer called an id is 64-bit.
#[test]
fn ids_are_int64() {
    let spec = spec();
    let mut problems = Vec::new();
    let mut check = |at: String, name: &str, schema: &Value| {
        let id_like = name == "id" || name.ends_with("Id") || name.ends_with("ID");
        if id_like && schema["type"] == "integer" && schema["format"] != "int64" {
            problems.push(format!("{at}: integer id without format int64"));
        }
    };
    for (schema_name, schema) in schemas(&spec) {
        for (property, definition) in schema["properties"].as_object().into_iter().flatten() {
            check(format!("{schema_name}.{property}"), property, definition);
        }
    }
    for (method, path, operation) in operations(&spec) {
        for parameter in operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = parameter["name"].as_str().unwrap_or_default();
            check(
                format!("{method} {path} {name}"),
                name,
                &parameter["schema"],
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
