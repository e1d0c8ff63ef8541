//! Lenient decoding of every type in `openapi/plex-tv.json`: plex.tv omits
//! fields, sends `null` for documented values and adds new fields over time.
//!
//! The bodies are generated from the spec's component schemas, so a new
//! property is covered as soon as it is added; a new schema must be added to
//! the registry below (a test says so).

use std::collections::BTreeSet;

use plex_tv::types;
use serde_json::{json, Map, Value};

// `for_each_type!`: every type build.rs generates from the spec.
include!(concat!(env!("OUT_DIR"), "/plex_tv_types.rs"));

/// Maps each component schema to the Rust type the client decodes it into:
/// the generated ones, and those that are hand-written.
macro_rules! registry {
    ($($name:ident),* $(,)?) => {
        /// Decodes `text` as schema `name`'s Rust type and serializes the
        /// result back to JSON.
        fn decode(name: &str, text: &str) -> Result<Value, String> {
            $(if name == stringify!($name) {
                return round_trip::<types::$name>(text);
            })*
            match name {
                "AuthToken" => round_trip::<plex_tv::Token>(text),
                "WebhooksForm" => round_trip::<plex_tv::WebhookUrls>(text),
                "DiscoverItem" => round_trip::<plex_tv::DiscoverItem>(text),
                _ => Err(format!("no Rust type for schema {name}")),
            }
        }
    };
}

for_each_type!(registry);

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    text: &str,
) -> Result<Value, String> {
    let decoded = serde_json::from_str::<T>(text).map_err(|e| e.to_string())?;
    serde_json::to_value(&decoded).map_err(|e| e.to_string())
}

/// Schemas whose Rust type does not serialize back to the same object shape
/// (`WebhookUrls` writes `urls[]` pairs for the form encoder).
const NO_ROUND_TRIP: &[&str] = &["WebhooksForm"];

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/plex-tv.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the spec")).expect("JSON")
}

struct Spec {
    schemas: Map<String, Value>,
}

#[derive(Clone, Copy, PartialEq)]
enum Fill {
    /// Only required properties, recursively.
    Required,
    /// Every property, recursively.
    All,
}

impl Spec {
    fn load() -> Self {
        let spec = spec();
        Spec {
            schemas: spec["components"]["schemas"]
                .as_object()
                .expect("components.schemas")
                .clone(),
        }
    }

    /// A named schema, or the one a `$ref` (or single-entry `allOf`) names.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let name = target
                .strip_prefix("#/components/schemas/")
                .expect("a component $ref");
            return self.resolve(&self.schemas[name]);
        }
        if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return self.resolve(only);
        }
        schema
    }

    fn is_object(&self, schema: &Value) -> bool {
        let schema = self.resolve(schema);
        schema["type"] == "object" || schema.get("properties").is_some()
    }

    fn required(&self, schema: &Value) -> BTreeSet<String> {
        self.resolve(schema)["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect()
    }

    fn properties<'a>(
        &'a self,
        schema: &'a Value,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.resolve(schema)["properties"]
            .as_object()
            .into_iter()
            .flatten()
    }

    /// A value that fits `schema`, using its `example` where it has one (so
    /// the examples are checked too).
    fn sample(&self, schema: &Value, fill: Fill) -> Value {
        let schema_here = schema;
        let schema = self.resolve(schema);
        if self.is_object(schema) {
            let required = self.required(schema);
            let mut object = Map::new();
            for (name, property) in self.properties(schema) {
                if fill == Fill::All || required.contains(name) {
                    object.insert(name.clone(), self.sample(property, fill));
                }
            }
            if object.is_empty() && schema.get("properties").is_none() {
                // A free-form object.
                object.insert("anything".into(), json!(["goes", 1, null]));
            }
            return Value::Object(object);
        }
        // One of several shapes: the first one stands for them all.
        if let Some(first) = schema.get("oneOf").and_then(|shapes| shapes.get(0)) {
            return self.sample(first, fill);
        }
        let example = schema_here.get("example").or_else(|| schema.get("example"));
        if let Some(example) = example {
            return example.clone();
        }
        match schema["type"].as_str() {
            Some("array") => Value::Array(vec![self.sample(&schema["items"], fill)]),
            Some("integer") if schema["format"] == "int32" => json!(7),
            // Above 2^32: ids must be 64-bit.
            Some("integer") => json!(4_294_967_297_i64),
            Some("number") => json!(1.5),
            Some("boolean") => json!(true),
            Some("string") if schema["format"] == "date-time" => json!("2025-11-22T11:40:00Z"),
            Some("string") => json!("some text"),
            // Any JSON value.
            _ => json!("78701"),
        }
    }

    /// Every registered object schema.
    fn object_schemas(&self) -> Vec<(&String, &Value)> {
        self.schemas
            .iter()
            .filter(|(_, schema)| self.is_object(schema))
            .collect()
    }
}

fn text(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}

/// (a) Only the required fields.
#[test]
fn minimal_bodies_decode() {
    let spec = Spec::load();
    let mut failures = Vec::new();
    for (name, schema) in spec.schemas.iter() {
        let body = spec.sample(schema, Fill::Required);
        if let Err(e) = decode(name, &text(&body)) {
            failures.push(format!("{name} {body}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The Rust types require exactly what the spec requires: leaving out any
/// one required field fails.
#[test]
fn required_fields_are_required() {
    let spec = Spec::load();
    let mut failures = Vec::new();
    for (name, schema) in spec.object_schemas() {
        let body = spec.sample(schema, Fill::Required);
        for required in spec.required(schema) {
            let mut without = body.clone();
            without.as_object_mut().unwrap().remove(&required);
            if decode(name, &text(&without)).is_ok() {
                failures.push(format!("{name} decodes without required {required}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (b) Every optional field `null` (and required ones too where nullable).
#[test]
fn null_optional_fields_decode() {
    let spec = Spec::load();
    let mut failures = Vec::new();
    for (name, schema) in spec.object_schemas() {
        let required = spec.required(schema);
        let mut body = spec.sample(schema, Fill::Required);
        let object = body.as_object_mut().unwrap();
        for (property, definition) in spec.properties(schema) {
            if !required.contains(property) || definition["nullable"] == true {
                object.insert(property.clone(), Value::Null);
            }
        }
        match decode(name, &text(&body)) {
            Ok(back) if NO_ROUND_TRIP.contains(&name.as_str()) => drop(back),
            Ok(back) => {
                // Nulls decode as absent: nothing non-null appears.
                for (property, value) in back.as_object().into_iter().flatten() {
                    if !required.contains(property) && !value.is_null() {
                        failures.push(format!("{name}.{property}: null decoded as {value}"));
                    }
                }
            }
            Err(e) => failures.push(format!("{name} {body}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Adds fields plex.tv might add tomorrow to every object in `value`.
fn add_unknown_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                add_unknown_fields(child);
            }
            map.insert("someNewField".into(), json!("surprise"));
            map.insert(
                "anotherNewField".into(),
                json!({"nested": [1, {"deep": null}]}),
            );
            map.insert("newNullField".into(), Value::Null);
        }
        Value::Array(items) => items.iter_mut().for_each(add_unknown_fields),
        _ => {}
    }
}

/// (c) Unknown extra fields, at every level, around a body with every field.
#[test]
fn unknown_fields_are_ignored() {
    let spec = Spec::load();
    let mut failures = Vec::new();
    for (name, schema) in spec.object_schemas() {
        for fill in [Fill::Required, Fill::All] {
            let mut body = spec.sample(schema, fill);
            add_unknown_fields(&mut body);
            if let Err(e) = decode(name, &text(&body)) {
                failures.push(format!("{name} {body}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A body with every field (the spec's examples where it has them) decodes
/// and serializes back to the same JSON: every property reaches a Rust field
/// under its JSON name, with its value intact.
#[test]
fn full_bodies_round_trip() {
    let spec = Spec::load();
    let mut failures = Vec::new();
    for (name, schema) in spec.object_schemas() {
        if NO_ROUND_TRIP.contains(&name.as_str()) {
            continue;
        }
        let body = spec.sample(schema, Fill::All);
        match decode(name, &text(&body)) {
            Ok(back) if back == body => {}
            Ok(back) => failures.push(format!("{name}:\n  sent {body}\n  back {back}")),
            Err(e) => failures.push(format!("{name} {body}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn webhook_urls_decode_from_their_form_shape() {
    let urls: plex_tv::WebhookUrls =
        serde_json::from_str(r#"{"urls[]": ["https://example.com/a"], "extra": 1}"#).unwrap();
    assert_eq!(urls.urls(), ["https://example.com/a"]);
}

// Hand-written bodies in the shapes plex.tv is known to send.

#[test]
fn pin_before_and_after_approval() {
    let pending: types::Pin =
        serde_json::from_str(r#"{"id": 4294967296, "code": "ABCD", "authToken": null}"#).unwrap();
    assert_eq!(pending.id, 4_294_967_296_i64);
    assert_eq!(pending.code, "ABCD");
    assert!(pending.auth_token.is_none());
    assert!(pending.location.is_none());
    assert!(pending.created_at.is_none());

    // Some clients see an empty string before approval.
    let empty: types::Pin =
        serde_json::from_str(r#"{"id": 4294967296, "code": "ABCD", "authToken": ""}"#).unwrap();
    assert!(empty.auth_token.unwrap().is_empty());

    let approved: types::Pin = serde_json::from_str(
        r#"{"id": 4294967296, "code": "ABCD", "authToken": "FAKE-approved-token",
            "newRegistration": true, "location": {"postal_code": 12345}}"#,
    )
    .unwrap();
    assert_eq!(
        approved.auth_token.unwrap().expose_secret(),
        "FAKE-approved-token"
    );
    assert_eq!(approved.new_registration, Some(json!(true)));
    assert_eq!(approved.location.unwrap().postal_code, Some(json!(12345)));
}

#[test]
fn minimal_user_resource_and_connection() {
    let user: types::User =
        serde_json::from_str(r#"{"id": 4294967310, "uuid": "abc", "subscription": null}"#).unwrap();
    assert_eq!(user.id, 4_294_967_310);
    assert!(user.subscription.is_none());
    assert!(user.auth_token.is_none());

    let resource: types::Resource = serde_json::from_str(
        r#"{"name": "n", "clientIdentifier": "c", "connections": [{"uri": "http://10.0.0.2:32400"}]}"#,
    )
    .unwrap();
    let connection = &resource.connections.unwrap()[0];
    assert_eq!(connection.uri, "http://10.0.0.2:32400");
    assert_eq!(connection.port, None);
    assert_eq!(connection.i_pv6, None);
}

#[test]
fn error_body_without_status() {
    let body: types::ErrorResponse = serde_json::from_str(
        r#"{"errors": [{"code": 1001, "message": "User could not be authenticated"}]}"#,
    )
    .unwrap();
    let error = &body.errors.unwrap()[0];
    assert_eq!(error.code, Some(1001));
    assert_eq!(error.status, None);
    let empty: types::ErrorResponse = serde_json::from_str("{}").unwrap();
    assert!(empty.errors.is_none());
}
