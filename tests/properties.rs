//! Property tests (issue 6), bounded so that the whole file runs in a few
//! seconds:
//!
//! * arbitrary JSON values and arbitrary bytes, fed to the decoder of every
//!   generated type (serde_json, and progenitor's `ResponseValue` path that
//!   every `send()` takes, with the error turned into `plex_tv::Error` and
//!   printed), give `Ok` or a typed error and never panic;
//! * every generated type round-trips serialize -> deserialize, for values
//!   generated from the type's own JSON schema;
//! * `auth_url()` round-trips arbitrary identity strings;
//! * `ClientIdentifier::load_or_create` handles arbitrary file contents
//!   (garbage, empty, huge) with an error or the identifier, never a panic.

use std::{collections::BTreeMap, sync::OnceLock};

use futures_util::FutureExt;
use percent_encoding::percent_decode_str;
use plex_tv::{types, ClientIdentifier, ClientIdentity, Error, PlexTv};
use proptest::{
    collection::vec,
    prelude::*,
    sample::select,
    strategy::Union,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Map, Value};

/// Cases per property and type: enough to find the usual decoder bugs,
/// few enough for CI.
const CASES: u32 = 96;

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures are reported with their minimal input; no files are left
        // behind in the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// One generated type, with the checks instantiated for it.
struct TypeCase {
    name: &'static str,
    schema: fn() -> Value,
    decode_json: fn(&Value),
    decode_bytes: fn(&[u8]),
    roundtrip: fn(&Value) -> Result<(), String>,
}

macro_rules! type_cases {
    ($($name:ident),* $(,)?) => {
        vec![$(TypeCase {
            name: stringify!($name),
            schema: || serde_json::to_value(schemars::schema_for!(types::$name)).expect("a schema"),
            decode_json: decode_json::<types::$name>,
            decode_bytes: decode_bytes::<types::$name>,
            roundtrip: roundtrip::<types::$name>,
        }),*]
    };
}

// `for_each_type!`: every type build.rs generates from the spec.
include!(concat!(env!("OUT_DIR"), "/plex_tv_types.rs"));

/// Every type generated from `components.schemas` (`AuthToken` and
/// `WebhooksForm` are replaced by the hand-written `Token` and
/// `WebhookUrls`), as build.rs lists them.
fn type_cases() -> Vec<TypeCase> {
    for_each_type!(type_cases)
}

// ---------------------------------------------------------------------
// Decoding never panics.

/// A value of `T` and of `Vec<T>` from arbitrary JSON, through serde_json.
fn decode_json<T: DeserializeOwned>(value: &Value) {
    let _ = serde_json::from_value::<T>(value.clone());
    let _ = serde_json::from_value::<Vec<T>>(value.clone());
}

/// A value of `T` and of `Vec<T>` from arbitrary bytes: through serde_json,
/// and the way generated operations decode a 200 (progenitor's
/// `ResponseValue::from_response`), with the error converted into
/// `plex_tv::Error` and printed, which quotes a redacted excerpt.
fn decode_bytes<T: DeserializeOwned>(bytes: &[u8]) {
    let _ = serde_json::from_slice::<T>(bytes);
    let _ = serde_json::from_slice::<Vec<T>>(bytes);
    sdk_decode::<T>(bytes);
    sdk_decode::<Vec<T>>(bytes);
}

fn sdk_decode<T: DeserializeOwned>(bytes: &[u8]) {
    let response = http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes.to_vec())
        .expect("a response");
    let decoded = plex_tv::ResponseValue::<T>::from_response::<types::ErrorResponse>(
        reqwest::Response::from(response),
    )
    .now_or_never()
    .expect("an in-memory body is ready at once");
    if let Err(error) = decoded {
        let error = Error::from(error);
        let shown = format!("{error} {error:?}");
        assert!(!shown.is_empty());
    }
}

/// Every field name of every schema: arbitrary objects use them as keys
/// most of the time, so that values reach the typed fields.
fn field_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = std::collections::BTreeSet::new();
        for case in type_cases() {
            collect_names(&(case.schema)(), &mut names);
        }
        names.into_iter().collect()
    })
}

fn collect_names(schema: &Value, names: &mut std::collections::BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                names.extend(properties.keys().cloned());
            }
            map.values().for_each(|v| collect_names(v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_names(v, names)),
        _ => {}
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => select(field_names()),
        1 => "\\PC{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "\\PC{0,16}".prop_map(Value::String),
        select(field_names()).prop_map(Value::String),
        (0i64..4_102_444_800).prop_map(|s| json!(timestamp(s))),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key.clone(), inner), 0..10)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Noise.
        vec(any::<u8>(), 0..256),
        // JSON, then cut short or with one byte changed: deep paths of the
        // decoder, and error offsets inside multi-byte characters.
        (
            arbitrary_json(),
            any::<prop::sample::Index>(),
            any::<u8>(),
            any::<bool>()
        )
            .prop_map(|(value, at, byte, cut)| {
                let mut bytes = serde_json::to_vec(&value).expect("serializable");
                if !bytes.is_empty() {
                    let at = at.index(bytes.len());
                    if cut {
                        bytes.truncate(at);
                    } else {
                        bytes[at] = byte;
                    }
                }
                bytes
            }),
        // Text that looks like an error page, with a token in it.
        "\\PC{0,64}".prop_map(|text| {
            format!("<html><body>{text} authToken=\"abc123\" {text}</body></html>").into_bytes()
        }),
    ]
}

#[test]
fn arbitrary_json_never_panics_any_decoder() {
    let cases = type_cases();
    let mut runner = TestRunner::new(config(CASES));
    runner
        .run(&arbitrary_json(), |value| {
            for case in &cases {
                (case.decode_json)(&value);
                (case.decode_bytes)(&serde_json::to_vec(&value).expect("serializable"));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_never_panic_any_decoder() {
    let cases = type_cases();
    let mut runner = TestRunner::new(config(CASES * 2));
    runner
        .run(&arbitrary_bytes(), |bytes| {
            for case in &cases {
                (case.decode_bytes)(&bytes);
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------
// Round trips, with values generated from each type's JSON schema.

/// Deserializes a schema-generated value (which must succeed: the schema
/// comes from the type), then checks serialize -> deserialize, as text and
/// as a `Value`.
fn roundtrip<T>(value: &Value) -> Result<(), String>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let decoded: T = serde_json::from_value(value.clone())
        .map_err(|e| format!("a value generated from the schema does not decode: {e}"))?;
    let text = serde_json::to_string(&decoded).map_err(|e| format!("serialize: {e}"))?;
    let again: T = serde_json::from_str(&text).map_err(|e| format!("decode {text}: {e}"))?;
    if again != decoded {
        return Err(format!(
            "text round trip changed it: {decoded:?} -> {again:?}"
        ));
    }
    let as_value = serde_json::to_value(&decoded).map_err(|e| format!("to_value: {e}"))?;
    let again: T = serde_json::from_value(as_value).map_err(|e| format!("from_value: {e}"))?;
    if again != decoded {
        return Err(format!(
            "value round trip changed it: {decoded:?} -> {again:?}"
        ));
    }
    Ok(())
}

#[test]
fn every_generated_type_round_trips() {
    for case in type_cases() {
        let root = (case.schema)();
        let definitions = root
            .get("definitions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let strategy = from_schema(&root, &definitions, 0);
        let mut runner = TestRunner::new(config(CASES / 2));
        let result = runner.run(&strategy, |value| {
            (case.roundtrip)(&value).map_err(TestCaseError::fail)
        });
        if let Err(error) = result {
            panic!("{}: {error}", case.name);
        }
    }
}

/// Values that match a (schemars) JSON schema. Optional properties come and
/// go, nullable ones are sometimes null, and an unknown property is added
/// now and then where the schema allows it.
fn from_schema(
    schema: &Value,
    definitions: &Map<String, Value>,
    depth: u32,
) -> BoxedStrategy<Value> {
    let Some(map) = schema.as_object() else {
        // `true` (anything) or a schema this generator does not know.
        return any_leaf();
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/definitions/");
        let target = definitions.get(name).cloned().unwrap_or(Value::Bool(true));
        return from_schema(&target, definitions, depth + 1);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = map.get(key).and_then(Value::as_array) {
            let options: Vec<_> = options
                .iter()
                .map(|option| from_schema(option, definitions, depth))
                .collect();
            return Union::new(options).boxed();
        }
    }
    if let Some(all) = map.get("allOf").and_then(Value::as_array) {
        if let [only] = all.as_slice() {
            return from_schema(only, definitions, depth);
        }
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        return select(values.clone()).boxed();
    }
    if let Some(value) = map.get("const") {
        return Just(value.clone()).boxed();
    }
    match map.get("type") {
        Some(Value::Array(kinds)) => {
            let options: Vec<_> = kinds
                .iter()
                .map(|kind| {
                    let mut single = map.clone();
                    single.insert("type".into(), kind.clone());
                    from_schema(&Value::Object(single), definitions, depth)
                })
                .collect();
            Union::new(options).boxed()
        }
        Some(Value::String(kind)) => of_type(kind, map, definitions, depth),
        _ => any_leaf(),
    }
}

fn of_type(
    kind: &str,
    schema: &Map<String, Value>,
    definitions: &Map<String, Value>,
    depth: u32,
) -> BoxedStrategy<Value> {
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let minimum = schema.get("minimum").and_then(Value::as_f64);
    match kind {
        "null" => Just(Value::Null).boxed(),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "integer" => match (format, minimum) {
            ("int32", Some(min)) if min >= 0.0 => (0..=i32::MAX).prop_map(|n| json!(n)).boxed(),
            ("int32", _) => any::<i32>().prop_map(|n| json!(n)).boxed(),
            ("uint32" | "uint", _) => any::<u32>().prop_map(|n| json!(n)).boxed(),
            ("uint64", _) => any::<u64>().prop_map(|n| json!(n)).boxed(),
            (_, Some(min)) if min >= 0.0 => (0..=i64::MAX).prop_map(|n| json!(n)).boxed(),
            _ => any::<i64>().prop_map(|n| json!(n)).boxed(),
        },
        // Eighths: exact in binary and in short decimal text, so the text
        // round trip compares equal without serde_json's float_roundtrip.
        "number" => any::<i32>().prop_map(|n| json!(f64::from(n) / 8.0)).boxed(),
        "string" => match format {
            "date-time" => (0i64..4_102_444_800, 0u32..1_000_000_000)
                .prop_map(|(seconds, nanos)| {
                    let at = chrono::DateTime::from_timestamp(seconds, nanos).expect("in range");
                    Value::String(at.to_rfc3339())
                })
                .boxed(),
            "uuid" => any::<u128>()
                .prop_map(|n| Value::String(uuid::Uuid::from_u128(n).to_string()))
                .boxed(),
            _ => "\\PC{0,24}".prop_map(Value::String).boxed(),
        },
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(Value::Bool(true));
            let max = if depth > 3 { 1 } else { 4 };
            vec(from_schema(&items, definitions, depth + 1), 0..max)
                .prop_map(Value::Array)
                .boxed()
        }
        "object" => object(schema, definitions, depth),
        _ => any_leaf(),
    }
}

fn object(
    schema: &Map<String, Value>,
    definitions: &Map<String, Value>,
    depth: u32,
) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let value = from_schema(property, definitions, depth + 1);
            let name = name.clone();
            let field = if required.contains(&name.as_str()) {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                proptest::option::of(value.prop_map(move |v| (name.clone(), v))).boxed()
            };
            fields.push(field);
        }
    }
    let extra = match schema.get("additionalProperties") {
        // A map type (`additionalProperties: {schema}`): a few entries.
        Some(Value::Object(values)) => {
            let values = from_schema(&Value::Object(values.clone()), definitions, depth + 1);
            vec(("\\PC{1,8}", values), 0..3).boxed()
        }
        // Closed (`deny_unknown_fields`): nothing else.
        Some(Value::Bool(false)) => Just(Vec::new()).boxed(),
        // Open: plex.tv adds fields over time, and they must be skipped.
        _ => proptest::option::of(any_leaf())
            .prop_map(|v| {
                v.map(|v| ("someFutureField".to_owned(), v))
                    .into_iter()
                    .collect()
            })
            .boxed(),
    };
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut object: Map<String, Value> = fields.into_iter().flatten().collect();
            object.extend(extra);
            Value::Object(object)
        })
        .boxed()
}

/// Any JSON leaf, for schemas that accept anything (`serde_json::Value`
/// fields). Numbers are kept exact for the text round trip.
fn any_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<i32>().prop_map(|n| json!(f64::from(n) / 8.0)),
        "\\PC{0,12}".prop_map(Value::String),
        vec(any::<i32>(), 0..3).prop_map(|v| json!(v)),
    ]
    .boxed()
}

fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .expect("in range")
        .to_rfc3339()
}

// ---------------------------------------------------------------------
// auth_url() round-trips the identity.

/// Header-safe text: no control characters (which the builder rejects,
/// checked separately), but spaces, `&`, `=`, `#`, `%`, `+` and any Unicode.
fn identity_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\\x00-\\x1f\\x7f]{0,24}",
        "[ &=#%+?/:\\[\\]a-zA-Z0-9]{0,24}",
    ]
}

#[derive(Debug, Clone)]
struct IdentityInput {
    product: String,
    id: String,
    version: Option<String>,
    device_name: Option<String>,
    platform: Option<String>,
    device: Option<String>,
    language: Option<String>,
    forward_url: Option<String>,
}

fn identity_input() -> impl Strategy<Value = IdentityInput> {
    (
        identity_text(),
        "[!-~]{1,64}",
        proptest::option::of(identity_text()),
        proptest::option::of(identity_text()),
        proptest::option::of(identity_text()),
        proptest::option::of(identity_text()),
        proptest::option::of(identity_text()),
        proptest::option::of(identity_text()),
    )
        .prop_map(
            |(product, id, version, device_name, platform, device, language, forward_url)| {
                IdentityInput {
                    product,
                    id,
                    version,
                    device_name,
                    platform,
                    device,
                    language,
                    forward_url,
                }
            },
        )
}

/// The context key of each identity header on the hosted sign-in page.
const CONTEXT_KEYS: &[(&str, &str)] = &[
    ("X-Plex-Product", "product"),
    ("X-Plex-Device-Name", "deviceName"),
    ("X-Plex-Version", "version"),
    ("X-Plex-Platform", "platform"),
    ("X-Plex-Platform-Version", "platformVersion"),
    ("X-Plex-Device", "device"),
    ("X-Plex-Model", "model"),
    ("X-Plex-Device-Vendor", "vendor"),
    ("X-Plex-Provides", "provides"),
    ("X-Plex-Language", "language"),
];

#[test]
fn auth_url_round_trips_arbitrary_identity_strings() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // Not `FakePlexTv`: httpmock answers 500 to the UTF-8 header values
    // (`X-Plex-Device-Name: Küche`) that the client sends and plex.tv takes.
    let base_url = runtime.block_on(pin_server());
    let mut runner = TestRunner::new(config(64));
    runner
        .run(&identity_input(), |input| {
            runtime.block_on(check_auth_url(&base_url, input))
        })
        .unwrap();
}

/// A loopback server that answers every request with a new strong PIN.
async fn pin_server() -> String {
    use hyper::{body::Incoming, service::service_fn, Request, Response};
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let mut next_id = 1000u64;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            next_id += 1;
            let id = next_id;
            let service = service_fn(move |_: Request<Incoming>| async move {
                let body = json!({
                    "id": id,
                    "code": format!("code{id}x"),
                    "product": "plex-tv properties",
                    "trusted": false,
                    "clientIdentifier": "ignored",
                    "expiresIn": 1800,
                    "createdAt": "2025-11-22T10:00:00Z",
                    "expiresAt": "2025-11-22T10:30:00Z",
                    "authToken": null,
                    "newRegistration": null
                });
                Response::builder()
                    .status(201)
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(bytes::Bytes::from(
                        body.to_string(),
                    )))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    format!("http://{address}")
}

async fn check_auth_url(base_url: &str, input: IdentityInput) -> Result<(), TestCaseError> {
    let id: ClientIdentifier = input
        .id
        .parse()
        .map_err(|e| TestCaseError::fail(format!("visible ASCII is an identifier: {e}")))?;
    let mut identity = ClientIdentity::new(input.product.clone(), id);
    if let Some(v) = &input.version {
        identity = identity.version(v.clone());
    }
    if let Some(v) = &input.device_name {
        identity = identity.device_name(v.clone());
    }
    if let Some(v) = &input.platform {
        identity = identity.platform(v.clone());
    }
    if let Some(v) = &input.device {
        identity = identity.device(v.clone());
    }
    if let Some(v) = &input.language {
        identity = identity.language(v.clone());
    }
    let built = PlexTv::builder()
        .identity(identity.clone())
        .base_url(base_url)
        .build();
    let client = match built {
        Ok(client) => client,
        // An all-blank product name is refused, with a typed error.
        Err(Error::InvalidInput { .. }) if input.product.trim().is_empty() => return Ok(()),
        Err(other) => return Err(TestCaseError::fail(format!("build failed: {other}"))),
    };
    let mut login = client.pin_login();
    if let Some(forward) = &input.forward_url {
        login = login.forward_url(forward.clone());
    }
    let pin = login
        .start()
        .await
        .map_err(|e| TestCaseError::fail(format!("start failed: {e}")))?;
    let url = pin.auth_url();

    // The URL survives printing and parsing.
    let reparsed = url::Url::parse(url.as_str())
        .map_err(|e| TestCaseError::fail(format!("{url} does not parse: {e}")))?;
    prop_assert_eq!(&reparsed, &url);
    prop_assert!(url.as_str().starts_with(plex_tv::pin::AUTH_PAGE));

    // Every value comes back exactly, under its key.
    let query = url
        .fragment()
        .and_then(|f| f.strip_prefix('?'))
        .ok_or_else(|| TestCaseError::fail(format!("no #? in {url}")))?;
    let mut found = BTreeMap::new();
    for pair in query.split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| TestCaseError::fail(format!("{pair:?} has no '='")))?;
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|e| TestCaseError::fail(format!("{value:?}: {e}")))?;
        prop_assert!(
            found.insert(key.to_owned(), value.into_owned()).is_none(),
            "{} appears twice",
            key
        );
    }
    let mut expected = BTreeMap::new();
    expected.insert("clientID".to_owned(), input.id.clone());
    expected.insert("code".to_owned(), pin.code().to_owned());
    for (header, value) in identity.headers() {
        if header == "X-Plex-Client-Identifier" {
            continue;
        }
        let (_, key) = CONTEXT_KEYS
            .iter()
            .find(|(name, _)| *name == header)
            .ok_or_else(|| TestCaseError::fail(format!("unknown header {header}")))?;
        expected.insert(format!("context[device][{key}]"), value.to_owned());
    }
    if let Some(forward) = input.forward_url {
        // The caller's URL as given, with the callback state in its query.
        let (base, fragment) = match forward.split_once('#') {
            Some((base, fragment)) => (base.to_owned(), Some(fragment.to_owned())),
            None => (forward.clone(), None),
        };
        let separator = match base.find('?') {
            None => "?",
            Some(_) if base.ends_with('?') || base.ends_with('&') => "",
            Some(_) => "&",
        };
        let mut with_state = format!("{base}{separator}state={}", pin.callback_state());
        if let Some(fragment) = fragment {
            with_state.push('#');
            with_state.push_str(&fragment);
        }
        expected.insert("forwardUrl".to_owned(), with_state);
    }
    prop_assert_eq!(found, expected);
    Ok(())
}

// ---------------------------------------------------------------------
// load_or_create and arbitrary file contents.

fn file_contents() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), 0..300),
        3 => "\\PC{0,80}".prop_map(String::into_bytes),
        // Identifiers with the whitespace editors leave around them.
        3 => ("[ \\t\\r\\n]{0,3}", "[!-~]{1,300}", "[ \\t\\r\\n]{0,3}")
            .prop_map(|(a, id, b)| format!("{a}{id}{b}").into_bytes()),
        1 => Just(Vec::new()),
        // Huge: 1 to 4 MiB, some of it a valid identifier character run.
        1 => (1usize..=4, any::<u8>()).prop_map(|(mib, byte)| [byte, b'a'].repeat(mib << 19)),
    ]
}

#[test]
fn load_or_create_survives_any_file_contents() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let mut runner = TestRunner::new(config(CASES));
    let n = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(&file_contents(), |contents| {
            let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = dir.path().join(format!("id-{n}"));
            std::fs::write(&path, &contents).expect("write the file");
            let result = ClientIdentifier::load_or_create(&path);
            let after = std::fs::read(&path).expect("the file is still there");
            prop_assert!(after == contents, "load_or_create changed an existing file");
            let text = std::str::from_utf8(&contents).ok().map(str::trim);
            let expected: Option<ClientIdentifier> = text.and_then(|t| t.parse().ok());
            match (result, expected) {
                (Ok(id), Some(expected)) => prop_assert_eq!(id, expected),
                (Ok(id), None) => {
                    return Err(TestCaseError::fail(format!(
                        "accepted {id:?} from contents that are not an identifier"
                    )))
                }
                (Err(Error::InvalidInput { .. }), None) => {}
                (Err(error), _) => {
                    return Err(TestCaseError::fail(format!("unexpected error: {error:?}")))
                }
            }
            std::fs::remove_file(&path).expect("clean up");
            Ok(())
        })
        .unwrap();
}

/// A file holding whitespace and then a 300-character "identifier" is not
/// an identifier: it must not be cut to a valid-looking prefix.
#[test]
fn a_long_identifier_after_whitespace_is_refused() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("client-id");
    std::fs::write(&path, format!("\n\n{}\n", "a".repeat(300))).expect("write");
    let result = ClientIdentifier::load_or_create(&path);
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
}

#[test]
fn load_or_create_makes_a_fresh_id_once_and_refuses_directories() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("nested/deeper/client-id");
    let first = ClientIdentifier::load_or_create(&path).expect("a fresh identifier");
    let again = ClientIdentifier::load_or_create(&path).expect("the same identifier");
    assert_eq!(first, again);
    assert_eq!(first.as_str().len(), 36);
    assert!(ClientIdentifier::load_or_create(dir.path()).is_err());
}
