//! Downgrading to OpenAPI 3.0.3, the only version progenitor reads.
//!
//! Every rule is a no-op on a document that is already 3.0, so running the
//! pipeline over the committed spec changes nothing.

use serde_json::{json, Map, Value};

/// JSON Schema keywords that 3.0 does not know and that have no 3.0 form.
const DROPPED_KEYWORDS: [&str; 17] = [
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$dynamicRef",
    "$defs",
    "$comment",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "patternProperties",
];

pub fn downgrade(doc: &mut Value) {
    document(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.values_mut().for_each(schema);
    }
    if let Some(paths) = doc.get_mut("paths") {
        operations(paths);
    }
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        schemes
            .values_mut()
            .filter_map(Value::as_object_mut)
            .for_each(single_in);
    }
}

/// Document-level fields that only 3.1 has.
fn document(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    root.insert("openapi".into(), json!("3.0.3"));
    root.remove("webhooks");
    root.remove("jsonSchemaDialect");
    if let Some(info) = root.get_mut("info").and_then(Value::as_object_mut) {
        info.remove("summary");
        if let Some(license) = info.get_mut("license").and_then(Value::as_object_mut) {
            license.remove("identifier");
        }
    }
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("pathItems");
    }
    root.entry("paths").or_insert_with(|| json!({}));
}

/// Walks paths, operations, parameters, bodies and responses, downgrading
/// each schema found under a `schema` key.
fn operations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            single_in(map);
            number_id_parameter(map);
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "schema" => schema(child),
                    "example" | "examples" => {}
                    _ => operations(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(operations),
        _ => {}
    }
}

/// 3.1 files sometimes give `in` as a list; 3.0 takes one location.
fn single_in(map: &mut Map<String, Value>) {
    if let Some(first) = map
        .get("in")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .cloned()
    {
        map.insert("in".into(), first);
    }
}

/// One schema and, recursively, its subschemas.
pub fn schema(value: &mut Value) {
    let Value::Object(s) = value else {
        // 3.1 allows `true`/`false` schemas; `true` is "anything".
        if value.is_boolean() {
            *value = json!({});
        }
        return;
    };
    ref_with_siblings(s);
    type_list(s);
    nullable_format(s);
    examples(s);
    constant(s);
    exclusive_bounds(s);
    prefix_items(s);
    content_keywords(s);
    null_branch(s, "anyOf");
    null_branch(s, "oneOf");
    for keyword in DROPPED_KEYWORDS {
        s.remove(keyword);
    }
    s.remove("minContains");
    s.remove("maxContains");
    if matches!(s.get("items"), Some(Value::Bool(_))) {
        s.remove("items");
    }
    number_id_properties(s);
    subschemas(s);
}

fn subschemas(s: &mut Map<String, Value>) {
    for key in ["items", "not", "additionalProperties"] {
        if let Some(sub @ Value::Object(_)) = s.get_mut(key) {
            schema(sub);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = s.get_mut(key) {
            list.iter_mut().for_each(schema);
        }
    }
    if let Some(Value::Object(properties)) = s.get_mut("properties") {
        properties.values_mut().for_each(schema);
    }
}

/// In 3.1 the keywords next to `$ref` apply; in 3.0 they would be ignored.
/// `allOf` with the one reference keeps both meanings.
fn ref_with_siblings(s: &mut Map<String, Value>) {
    if s.len() < 2 {
        return;
    }
    let Some(reference) = s.remove("$ref") else {
        return;
    };
    let branch = json!({ "$ref": reference });
    match s.get_mut("allOf") {
        Some(Value::Array(all)) => all.insert(0, branch),
        _ => {
            s.insert("allOf".into(), json!([branch]));
        }
    }
}

/// `type: [string, "null"]` becomes `type: string, nullable: true`; several
/// non-null types become an `anyOf` of one type each.
fn type_list(s: &mut Map<String, Value>) {
    match s.get("type") {
        Some(Value::String(t)) if t == "null" => {
            s.remove("type");
            s.insert("nullable".into(), json!(true));
        }
        Some(Value::Array(list)) => {
            let types: Vec<Value> = list.clone();
            let nullable = types.iter().any(|t| t == "null");
            let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
            s.remove("type");
            match rest.as_slice() {
                [] => {}
                [one] => {
                    s.insert("type".into(), one.clone());
                }
                many if !s.contains_key("anyOf") => {
                    let branches = many.iter().map(|t| json!({ "type": t })).collect();
                    s.insert("anyOf".into(), Value::Array(branches));
                }
                _ => {}
            }
            if nullable {
                s.insert("nullable".into(), json!(true));
            }
        }
        _ => {}
    }
}

/// `format: nullable` is used upstream as if it were a type.
fn nullable_format(s: &mut Map<String, Value>) {
    if s.get("format").and_then(Value::as_str) == Some("nullable") {
        s.remove("format");
        s.insert("nullable".into(), json!(true));
    }
}

fn examples(s: &mut Map<String, Value>) {
    if let Some(list) = s.remove("examples") {
        if let (Some(first), false) = (
            list.as_array().and_then(|l| l.first()),
            s.contains_key("example"),
        ) {
            s.insert("example".into(), first.clone());
        }
    }
}

fn constant(s: &mut Map<String, Value>) {
    if let Some(value) = s.remove("const") {
        s.entry("enum").or_insert_with(|| json!([value]));
    }
}

/// 3.1's numeric `exclusiveMinimum: 5` is 3.0's `minimum: 5,
/// exclusiveMinimum: true`.
fn exclusive_bounds(s: &mut Map<String, Value>) {
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(bound) = s.get(exclusive).filter(|b| b.is_number()).cloned() {
            s.insert(inclusive.into(), bound);
            s.insert(exclusive.into(), json!(true));
        }
    }
}

/// Tuples have no 3.0 form; the closest is an array of any of the members.
fn prefix_items(s: &mut Map<String, Value>) {
    let Some(Value::Array(members)) = s.remove("prefixItems") else {
        return;
    };
    if s.contains_key("items") || members.is_empty() {
        return;
    }
    let mut distinct: Vec<Value> = Vec::new();
    for member in members {
        if !distinct.contains(&member) {
            distinct.push(member);
        }
    }
    let items = match <[Value; 1]>::try_from(distinct) {
        Ok([only]) => only,
        Err(distinct) => json!({ "anyOf": distinct }),
    };
    s.insert("items".into(), items);
}

/// `contentEncoding: base64` is 3.0's `format: byte`; binary media is
/// `format: binary`.
fn content_keywords(s: &mut Map<String, Value>) {
    let encoding = s.remove("contentEncoding");
    let media = s.remove("contentMediaType");
    if s.contains_key("format") || s.get("type").and_then(Value::as_str) != Some("string") {
        return;
    }
    if encoding.as_ref().and_then(Value::as_str) == Some("base64") {
        s.insert("format".into(), json!("byte"));
    } else if media.is_some() && encoding.is_none() {
        s.insert("format".into(), json!("binary"));
    }
}

/// `anyOf: [X, {type: "null"}]` is how 3.1 spells a nullable X.
fn null_branch(s: &mut Map<String, Value>, keyword: &str) {
    let Some(Value::Array(branches)) = s.get(keyword) else {
        return;
    };
    let is_null = |b: &Value| {
        b.get("type").and_then(Value::as_str) == Some("null")
            && b.as_object().is_some_and(|o| o.len() == 1)
    };
    if !branches.iter().any(is_null) {
        return;
    }
    let rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
    s.insert("nullable".into(), json!(true));
    match rest.as_slice() {
        [only] if only.get("$ref").is_some() => {
            s.remove(keyword);
            s.insert("allOf".into(), json!([only]));
        }
        [Value::Object(only)] if !only.keys().any(|k| s.contains_key(k)) => {
            s.remove(keyword);
            for (k, v) in only.clone() {
                s.insert(k, v);
            }
        }
        [] => {
            s.remove(keyword);
        }
        _ => {
            s.insert(keyword.into(), Value::Array(rest));
        }
    }
}

/// `id`, `fooId`, `fooID`, `foo_id`: identifiers, which plex.tv sends as
/// integers that can exceed 32 bits.
fn is_id_name(name: &str) -> bool {
    name == "id" || name.ends_with("Id") || name.ends_with("ID") || name.ends_with("_id")
}

/// Upstream types integer ids as `number`, which would make them `f64`, or
/// as plain or 32-bit integers, which plex.tv's ids outgrow: all become
/// 64-bit integers.
fn integer_id(schema: &mut Value) {
    let Some(s) = schema.as_object_mut() else {
        return;
    };
    let format = s.get("format").and_then(Value::as_str);
    let widen = match s.get("type").and_then(Value::as_str) {
        Some("number") => format.is_none(),
        Some("integer") => format.is_none_or(|f| f == "int32"),
        _ => false,
    };
    if widen {
        s.insert("type".into(), json!("integer"));
        s.insert("format".into(), json!("int64"));
    }
}

fn number_id_properties(s: &mut Map<String, Value>) {
    if let Some(Value::Object(properties)) = s.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if is_id_name(name) {
                integer_id(property);
            }
        }
    }
}

fn number_id_parameter(p: &mut Map<String, Value>) {
    let named_id = p
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(is_id_name);
    if named_id && p.contains_key("in") {
        if let Some(schema) = p.get_mut("schema") {
            integer_id(schema);
        }
    }
}
