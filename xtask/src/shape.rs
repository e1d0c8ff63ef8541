//! The shape of a document: before any stage looks inside it, every part the
//! pipeline reads must have the JSON type OpenAPI gives it (paths and
//! operations are objects, parameter lists are arrays, a `$ref` is a
//! string...). A document that does not is refused with the JSON pointer of
//! the first wrong value, instead of being half read or silently skipped.
//!
//! Only types are checked, not meaning: progenitor's validation judges the
//! result. Free-form data (examples, extensions, `x-` keys) is not looked
//! into, except for its nesting depth, which is bounded so that no stage can
//! run out of stack.

use serde_json::{Map, Value};

use crate::select::METHODS;
use crate::RegenError;

/// How deep objects and arrays may nest. Parsing stops at 128 levels; inlined
/// references can add to that, this caps the total.
pub const MAX_NESTING: usize = 256;

/// The first thing wrong with a document's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// RFC 6901 JSON pointer; empty for the root.
    pub pointer: String,
    pub what: String,
}

impl Problem {
    pub fn into_error(self, location: &str) -> RegenError {
        RegenError::Malformed {
            location: location.into(),
            pointer: self.pointer,
            what: self.what,
        }
    }
}

type Check<T = ()> = Result<T, Problem>;

/// Checks the whole document; `location` names it in the error.
pub fn check(doc: &Value, location: &str) -> Result<(), RegenError> {
    document(doc).map_err(|p| p.into_error(location))
}

/// Checks only that the document is an object whose `openapi` (or `swagger`)
/// field, if any, is a string: enough to tell which version it claims.
pub fn check_root(doc: &Value, location: &str) -> Result<(), RegenError> {
    root(doc).map(|_| ()).map_err(|p| p.into_error(location))
}

/// `pointer` extended by one key, escaped as RFC 6901 says.
pub fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(value: &Value, pointer: &str, expected: &str) -> Problem {
    Problem {
        pointer: pointer.into(),
        what: format!("expected {expected}, found {}", kind(value)),
    }
}

fn object<'a>(value: &'a Value, pointer: &str, expected: &str) -> Check<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| wrong(value, pointer, expected))
}

fn array<'a>(value: &'a Value, pointer: &str, expected: &str) -> Check<&'a [Value]> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| wrong(value, pointer, expected))
}

fn string(value: &Value, pointer: &str, expected: &str) -> Check {
    if value.is_string() {
        Ok(())
    } else {
        Err(wrong(value, pointer, expected))
    }
}

fn boolean(value: &Value, pointer: &str, expected: &str) -> Check {
    if value.is_boolean() {
        Ok(())
    } else {
        Err(wrong(value, pointer, expected))
    }
}

/// Runs `check` on `map[key]` if it is there.
fn field(
    map: &Map<String, Value>,
    pointer: &str,
    key: &str,
    check: impl FnOnce(&Value, &str) -> Check,
) -> Check {
    match map.get(key) {
        Some(value) => check(value, &child(pointer, key)),
        None => Ok(()),
    }
}

/// Like `field`, but the field must be there.
fn required(
    map: &Map<String, Value>,
    pointer: &str,
    key: &str,
    expected: &str,
    check: impl FnOnce(&Value, &str) -> Check,
) -> Check {
    match map.get(key) {
        Some(value) => check(value, &child(pointer, key)),
        None => Err(Problem {
            pointer: pointer.into(),
            what: format!("the required field `{key}` ({expected}) is missing"),
        }),
    }
}

/// An object whose every value (but `x-` extensions, when `extensions`)
/// passes `check`.
fn map_of(
    value: &Value,
    pointer: &str,
    expected: &str,
    extensions: bool,
    mut check: impl FnMut(&Value, &str) -> Check,
) -> Check {
    for (key, item) in object(value, pointer, expected)? {
        if extensions && key.starts_with("x-") {
            continue;
        }
        check(item, &child(pointer, key))?;
    }
    Ok(())
}

/// An array whose every element passes `check`.
fn list_of(
    value: &Value,
    pointer: &str,
    expected: &str,
    mut check: impl FnMut(&Value, &str) -> Check,
) -> Check {
    for (index, item) in array(value, pointer, expected)?.iter().enumerate() {
        check(item, &child(pointer, &index.to_string()))?;
    }
    Ok(())
}

fn strings(value: &Value, pointer: &str, expected: &str) -> Check {
    list_of(value, pointer, expected, |v, p| string(v, p, "a string"))
}

fn objects(value: &Value, pointer: &str, expected: &str) -> Check {
    list_of(value, pointer, expected, |v, p| {
        object(v, p, "an object").map(|_| ())
    })
}

/// A Reference Object (`$ref` a string; in 3.1 it may have a summary and
/// description beside it), or else whatever `check` accepts.
fn reference_or(value: &Value, pointer: &str, check: impl FnOnce(&Value, &str) -> Check) -> Check {
    match value.get("$ref") {
        Some(reference) => string(
            reference,
            &child(pointer, "$ref"),
            "a string (a reference such as `#/components/schemas/Name`)",
        ),
        None => check(value, pointer),
    }
}

fn root(doc: &Value) -> Check<&Map<String, Value>> {
    let root = object(
        doc,
        "",
        "an object with `openapi`, `info` and `paths` (an OpenAPI document)",
    )?;
    for key in ["openapi", "swagger"] {
        field(root, "", key, |v, p| {
            string(v, p, "a version string such as \"3.1.0\"")
        })?;
    }
    Ok(root)
}

fn document(doc: &Value) -> Check {
    nesting(doc)?;
    let root = root(doc)?;
    field(root, "", "info", |v, p| {
        let info = object(v, p, "an object (the API's title and version)")?;
        field(info, p, "title", |v, p| string(v, p, "a string"))?;
        field(info, p, "version", |v, p| {
            string(v, p, "a string (quote numbers: '1.0')")
        })
    })?;
    field(root, "", "servers", servers)?;
    field(root, "", "paths", |v, p| {
        map_of(v, p, "an object of path items by path", true, path_item)
    })?;
    field(root, "", "webhooks", |v, p| {
        map_of(v, p, "an object of path items by name", true, path_item)
    })?;
    field(root, "", "components", components)?;
    field(root, "", "security", |v, p| {
        objects(v, p, "an array of security requirement objects")
    })?;
    field(root, "", "tags", |v, p| {
        list_of(v, p, "an array of tag objects", |v, p| {
            let tag = object(v, p, "an object (a tag)")?;
            required(tag, p, "name", "a string", |v, p| string(v, p, "a string"))
        })
    })?;
    Ok(())
}

/// No object or array nests deeper than `MAX_NESTING`; checked without
/// recursion, since that is what it protects against.
fn nesting(doc: &Value) -> Check {
    let mut pending: Vec<(&Value, usize, String)> = vec![(doc, 0, String::new())];
    while let Some((value, depth, pointer)) = pending.pop() {
        let children: Box<dyn Iterator<Item = (String, &Value)>> = match value {
            Value::Object(map) => Box::new(map.iter().map(|(k, v)| (k.clone(), v))),
            Value::Array(items) => {
                Box::new(items.iter().enumerate().map(|(i, v)| (i.to_string(), v)))
            }
            _ => continue,
        };
        if depth >= MAX_NESTING {
            return Err(Problem {
                pointer,
                what: format!("objects and arrays nest more than {MAX_NESTING} levels deep"),
            });
        }
        for (key, item) in children {
            if item.is_object() || item.is_array() {
                pending.push((item, depth + 1, child(&pointer, &key)));
            }
        }
    }
    Ok(())
}

fn servers(value: &Value, pointer: &str) -> Check {
    list_of(value, pointer, "an array of server objects", |v, p| {
        let server = object(v, p, "an object (a server, with a `url`)")?;
        required(server, p, "url", "a string", |v, p| {
            string(v, p, "a string (the server's URL)")
        })?;
        field(server, p, "variables", |v, p| {
            map_of(
                v,
                p,
                "an object of server variables by name",
                false,
                |v, p| {
                    let variable = object(v, p, "an object (a server variable)")?;
                    field(variable, p, "default", |v, p| string(v, p, "a string"))
                },
            )
        })
    })
}

fn path_item(value: &Value, pointer: &str) -> Check {
    reference_or(value, pointer, |value, pointer| {
        let item = object(
            value,
            pointer,
            "an object (a path item: its operations by method)",
        )?;
        field(item, pointer, "servers", servers)?;
        field(item, pointer, "parameters", parameters)?;
        for method in METHODS {
            field(item, pointer, method, operation)?;
        }
        Ok(())
    })
}

fn operation(value: &Value, pointer: &str) -> Check {
    let op = object(
        value,
        pointer,
        "an object (an operation, with `responses` and `parameters`)",
    )?;
    field(op, pointer, "operationId", |v, p| string(v, p, "a string"))?;
    field(op, pointer, "tags", |v, p| {
        strings(v, p, "an array of tag names")
    })?;
    field(op, pointer, "parameters", parameters)?;
    field(op, pointer, "requestBody", |v, p| {
        reference_or(v, p, request_body)
    })?;
    field(op, pointer, "responses", responses)?;
    field(op, pointer, "servers", servers)?;
    field(op, pointer, "security", |v, p| {
        objects(v, p, "an array of security requirement objects")
    })?;
    field(op, pointer, "callbacks", |v, p| {
        map_of(v, p, "an object of callbacks by name", true, callback)
    })?;
    field(op, pointer, "deprecated", |v, p| {
        boolean(v, p, "true or false")
    })
}

fn callback(value: &Value, pointer: &str) -> Check {
    reference_or(value, pointer, |v, p| {
        map_of(
            v,
            p,
            "an object of path items by expression",
            true,
            path_item,
        )
    })
}

fn parameters(value: &Value, pointer: &str) -> Check {
    list_of(value, pointer, "an array of parameters", |v, p| {
        reference_or(v, p, parameter)
    })
}

fn parameter(value: &Value, pointer: &str) -> Check {
    let p = object(
        value,
        pointer,
        "an object (a parameter, with `name` and `in`)",
    )?;
    required(p, pointer, "name", "a string", |v, p| {
        string(v, p, "a string (the parameter's name)")
    })?;
    required(
        p,
        pointer,
        "in",
        "one of query, header, path, cookie",
        |v, p| match v {
            Value::Array(_) => strings(v, p, "a location or a list of locations"),
            _ => string(v, p, "a string: query, header, path or cookie"),
        },
    )?;
    field(p, pointer, "required", |v, p| {
        boolean(v, p, "true or false")
    })?;
    field(p, pointer, "style", |v, p| string(v, p, "a string"))?;
    field(p, pointer, "schema", schema)?;
    field(p, pointer, "content", content)
}

fn request_body(value: &Value, pointer: &str) -> Check {
    let body = object(value, pointer, "an object (a request body, with `content`)")?;
    field(body, pointer, "required", |v, p| {
        boolean(v, p, "true or false")
    })?;
    field(body, pointer, "content", content)
}

fn content(value: &Value, pointer: &str) -> Check {
    map_of(
        value,
        pointer,
        "an object of media types (such as application/json)",
        false,
        |v, p| {
            let media = object(v, p, "an object (a media type, with `schema`)")?;
            field(media, p, "schema", schema)?;
            field(media, p, "examples", |v, p| {
                object(v, p, "an object of examples by name").map(|_| ())
            })?;
            field(media, p, "encoding", |v, p| {
                map_of(v, p, "an object of encodings by property", false, |v, p| {
                    object(v, p, "an object (an encoding)").map(|_| ())
                })
            })
        },
    )
}

fn responses(value: &Value, pointer: &str) -> Check {
    map_of(
        value,
        pointer,
        "an object of responses by status code",
        true,
        |v, p| reference_or(v, p, response),
    )
}

fn response(value: &Value, pointer: &str) -> Check {
    let r = object(value, pointer, "an object (a response, with `description`)")?;
    field(r, pointer, "description", |v, p| string(v, p, "a string"))?;
    field(r, pointer, "content", content)?;
    field(r, pointer, "headers", |v, p| {
        map_of(v, p, "an object of headers by name", false, |v, p| {
            reference_or(v, p, header)
        })
    })?;
    field(r, pointer, "links", |v, p| {
        map_of(v, p, "an object of links by name", false, |v, p| {
            object(v, p, "an object (a link)").map(|_| ())
        })
    })
}

fn header(value: &Value, pointer: &str) -> Check {
    let h = object(value, pointer, "an object (a header)")?;
    field(h, pointer, "schema", schema)?;
    field(h, pointer, "content", content)
}

fn components(value: &Value, pointer: &str) -> Check {
    let c = object(
        value,
        pointer,
        "an object (components: `schemas`, `responses`, `parameters`...)",
    )?;
    field(c, pointer, "schemas", |v, p| {
        map_of(v, p, "an object of schemas by name", false, schema)
    })?;
    field(c, pointer, "responses", |v, p| {
        map_of(v, p, "an object of responses by name", false, |v, p| {
            reference_or(v, p, response)
        })
    })?;
    field(c, pointer, "parameters", |v, p| {
        map_of(v, p, "an object of parameters by name", false, |v, p| {
            reference_or(v, p, parameter)
        })
    })?;
    field(c, pointer, "requestBodies", |v, p| {
        map_of(
            v,
            p,
            "an object of request bodies by name",
            false,
            |v, p| reference_or(v, p, request_body),
        )
    })?;
    field(c, pointer, "headers", |v, p| {
        map_of(v, p, "an object of headers by name", false, |v, p| {
            reference_or(v, p, header)
        })
    })?;
    field(c, pointer, "pathItems", |v, p| {
        map_of(v, p, "an object of path items by name", false, path_item)
    })?;
    field(c, pointer, "callbacks", |v, p| {
        map_of(v, p, "an object of callbacks by name", false, callback)
    })?;
    for (section, expected) in [
        ("securitySchemes", "an object of security schemes by name"),
        ("examples", "an object of examples by name"),
        ("links", "an object of links by name"),
    ] {
        field(c, pointer, section, |v, p| {
            map_of(v, p, expected, false, |v, p| {
                reference_or(v, p, |v, p| object(v, p, "an object").map(|_| ()))
            })
        })?;
    }
    Ok(())
}

/// A schema: an object, or (3.1) `true`/`false`. Its subschemas are checked
/// too; the nesting bound keeps the recursion finite.
fn schema(value: &Value, pointer: &str) -> Check {
    if value.is_boolean() {
        return Ok(());
    }
    let s = object(value, pointer, "an object (a schema) or true/false")?;
    field(s, pointer, "$ref", |v, p| {
        string(
            v,
            p,
            "a string (a reference such as `#/components/schemas/Name`)",
        )
    })?;
    field(s, pointer, "type", |v, p| match v {
        Value::Array(_) => strings(v, p, "a type name or a list of type names"),
        _ => string(v, p, "a type name such as \"string\" or a list of them"),
    })?;
    field(s, pointer, "properties", |v, p| {
        map_of(v, p, "an object of schemas by property name", false, schema)
    })?;
    for key in ["items", "not", "additionalProperties"] {
        field(s, pointer, key, schema)?;
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        field(s, pointer, key, |v, p| {
            list_of(v, p, "an array of schemas", schema)
        })?;
    }
    field(s, pointer, "required", |v, p| {
        strings(v, p, "an array of property names")
    })?;
    field(s, pointer, "enum", |v, p| {
        array(v, p, "an array of values").map(|_| ())
    })?;
    field(s, pointer, "nullable", |v, p| {
        boolean(v, p, "true or false")
    })?;
    field(s, pointer, "discriminator", |v, p| {
        let d = object(v, p, "an object (a discriminator)")?;
        required(d, p, "propertyName", "a string", |v, p| {
            string(v, p, "a string")
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointers_are_escaped() {
        assert_eq!(child("/paths", "/pins/{id}"), "/paths/~1pins~1{id}");
        assert_eq!(child("", "a~b"), "/a~0b");
    }

    #[test]
    fn the_first_problem_is_named() {
        let doc = json!({"openapi": "3.0.3", "paths": {"/ping": {"get": []}}});
        assert_eq!(
            document(&doc),
            Err(Problem {
                pointer: "/paths/~1ping/get".into(),
                what: "expected an object (an operation, with `responses` and `parameters`), found an array".into()
            })
        );
    }

    #[test]
    fn extensions_are_free_form() {
        let doc = json!({"openapi": "3.0.3", "paths": {"x-note": [1], "/a": {"get": {"responses": {"x-n": 1}}}}});
        assert_eq!(document(&doc), Ok(()));
    }
}
