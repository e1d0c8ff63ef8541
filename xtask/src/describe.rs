//! Filling missing descriptions, so that every operation, parameter, body,
//! response, schema and property of the result is described (a rule of
//! `rules`). Upstream often leaves them out; the filler texts are derived
//! from names, so that they are the same on every run, and each fill is
//! noted for the report. A described document is left as it is.

use serde_json::{json, Map, Value};

use crate::rules::ref_name;
use crate::select::METHODS;

pub fn describe(doc: &mut Value, notes: &mut Vec<String>) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                if let Some(Value::Object(op)) = item.get_mut(method) {
                    let label = format!("{} {path}", method.to_uppercase());
                    if operation(op, &label) {
                        notes.push(format!("{label}: filled in missing descriptions"));
                    }
                }
            }
        }
    }
    let described: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|s| {
            s.iter()
                .filter(|(_, schema)| has_description(schema))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if let Value::Object(schema) = schema {
                if self::schema(name, schema, &described) {
                    notes.push(format!("schema {name}: filled in missing descriptions"));
                }
            }
        }
    }
}

fn has_description(value: &Value) -> bool {
    value
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

/// Sets `description` when it is missing or blank; whether it did.
fn fill(object: &mut Map<String, Value>, text: impl FnOnce() -> String) -> bool {
    let blank = object
        .get("description")
        .and_then(Value::as_str)
        .is_none_or(|d| d.trim().is_empty());
    if blank {
        object.insert("description".into(), json!(text()));
    }
    blank
}

fn operation(op: &mut Map<String, Value>, label: &str) -> bool {
    let mut filled = false;
    let id = op
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !op.get("summary").is_some_and(Value::is_string) {
        op.insert("summary".into(), json!(sentence(&id)));
        filled = true;
    }
    let summary = op
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    filled |= fill(op, || {
        if summary.trim().is_empty() {
            format!("`{label}`.")
        } else {
            format!("{}.", summary.trim_end_matches('.'))
        }
    });
    for parameter in op
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let location = parameter
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        filled |= fill(parameter, || format!("The `{name}` {location} parameter."));
    }
    if let Some(Value::Object(body)) = op.get_mut("requestBody") {
        filled |= fill(body, || "The request body.".into());
    }
    for (status, response) in op
        .get_mut("responses")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        if let Value::Object(response) = response {
            filled |= fill(response, || response_text(status));
        }
    }
    filled
}

fn response_text(status: &str) -> String {
    match status.chars().next() {
        Some('2') => "Success.".into(),
        Some('3') => "A redirect.".into(),
        Some('4') => "A client error.".into(),
        Some('5') => "A server error.".into(),
        _ => "The answer.".into(),
    }
}

fn schema(name: &str, schema: &mut Map<String, Value>, described: &[String]) -> bool {
    let mut filled = fill(schema, || format!("The `{name}` value."));
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (property, definition) in properties.iter_mut() {
            let Value::Object(definition) = definition else {
                continue;
            };
            // A bare $ref takes its description from the schema it names.
            let by_ref = ref_name(&Value::Object(definition.clone()))
                .is_some_and(|r| described.iter().any(|d| d == r));
            if definition.len() == 1 && definition.contains_key("$ref") && by_ref {
                continue;
            }
            if definition.len() == 1 && definition.contains_key("$ref") {
                // 3.0 ignores siblings of `$ref`: wrap it to describe it.
                let reference = Value::Object(std::mem::take(definition));
                definition.insert("allOf".into(), json!([reference]));
            }
            filled |= fill(definition, || format!("The `{property}` field."));
        }
    }
    filled
}

/// `getUserSettings` → `Get user settings`.
fn sentence(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        "An operation".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_come_from_ids() {
        assert_eq!(sentence("getUserSettings"), "Get user settings");
        assert_eq!(sentence("ping"), "Ping");
        assert_eq!(sentence(""), "An operation");
    }
}
