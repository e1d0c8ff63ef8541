//! Types that drop nothing: every fixture in `tests/fixtures/` decodes into
//! the generated type its operation returns and serializes back with every
//! field that carried data, so that the fixtures (what plex.tv sends) and
//! the spec's schemas cannot drift apart. A field the types do not know is
//! silently dropped by serde; here it fails the test, named by its path.

use std::collections::BTreeSet;
use std::path::PathBuf;

use plex_tv::types;
use serde_json::Value;

/// Maps each fixture file to the Rust type its operation decodes it into.
macro_rules! fixtures {
    ($($file:literal => $ty:ty),* $(,)?) => {
        const LISTED: &[&str] = &[$($file),*];

        /// Decodes fixture `file` (its text) and serializes it back.
        fn round_trip(file: &str, text: &str) -> Result<Value, String> {
            match file {
                $($file => {
                    let decoded: $ty = serde_json::from_str(text)
                        .map_err(|e| format!("{file} does not decode as {}: {e}", stringify!($ty)))?;
                    serde_json::to_value(&decoded).map_err(|e| format!("{file}: {e}"))
                })*
                _ => Err(format!(
                    "{file} has no entry in the table of tests/fidelity.rs: add the type its operation returns"
                )),
            }
        }
    };
}

fixtures! {
    "claim_token.json" => types::ClaimToken,
    "companions.json" => Vec<types::Companion>,
    "devices.json" => types::Devices,
    "discover_item.json" => types::DiscoverResponse,
    "discover_search.json" => types::DiscoverResponse,
    "friend.json" => types::Friend,
    "friend_invited.json" => types::Friend,
    "invites_received.json" => Vec<types::SharingInvite>,
    "invites_sent.json" => Vec<types::SharingInvite>,
    "server_sections.json" => types::Server,
    "shared_server.json" => types::SharedServer,
    "shares_accepted.json" => Vec<types::SharedServer>,
    "sharing_settings.json" => types::SharingSettings,
    "user_state.json" => types::DiscoverResponse,
    "watchlist.json" => types::DiscoverResponse,
    "error_1000.json" => types::ErrorResponse,
    "error_1001.json" => types::ErrorResponse,
    "error_1029.json" => types::ErrorResponse,
    "error_404.json" => types::ErrorResponse,
    "features.json" => Vec<types::FeatureFlag>,
    "friends.json" => Vec<types::Friend>,
    "geoip.json" => types::GeoLocation,
    "home.json" => types::Home,
    "home_users.json" => types::HomeUsersResponse,
    "opt_outs.json" => types::OptOuts,
    "pin_approved.json" => types::Pin,
    "pin_link_code.json" => types::Pin,
    "pin_pending.json" => types::Pin,
    "privacy.json" => types::Privacy,
    "resources.json" => Vec<types::Resource>,
    "server.json" => types::Server,
    "user.json" => types::User,
    "user_settings.json" => Vec<types::UserSetting>,
    "user_switched.json" => types::User,
    "webhooks.json" => Vec<types::Webhook>,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Null, `""`, `[]` and `{}`: a type may drop them or write them back.
fn carries_no_data(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Numbers are equal by value (`15` and `15.0`), integers exactly.
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i128(), b.as_i128()) {
        (Some(a), Some(b)) => a == b,
        _ => a.as_f64() == b.as_f64(),
    }
}

/// Two RFC 3339 date-times naming the same instant: a decoded date is
/// written back in one canonical form (`…:00.000Z` becomes `…:00Z`).
fn same_instant(a: &str, b: &str) -> bool {
    let parse = |text| chrono::DateTime::parse_from_rfc3339(text).ok();
    matches!((parse(a), parse(b)), (Some(a), Some(b)) if a == b)
}

/// Every path under `path` where `original` carried data that `back` has
/// lost or changed, with what was there and what came back.
fn losses(path: &str, original: &Value, back: Option<&Value>, found: &mut Vec<String>) {
    if carries_no_data(original) {
        return;
    }
    let Some(back) = back else {
        found.push(format!("{path} is lost (was {original})"));
        return;
    };
    match (original, back) {
        (Value::Object(fields), Value::Object(back_fields)) => {
            for (name, value) in fields {
                losses(
                    &format!("{path}.{name}"),
                    value,
                    back_fields.get(name),
                    found,
                );
            }
        }
        (Value::Array(items), Value::Array(back_items)) if items.len() == back_items.len() => {
            for (index, (item, back_item)) in items.iter().zip(back_items).enumerate() {
                losses(&format!("{path}[{index}]"), item, Some(back_item), found);
            }
        }
        (Value::Number(a), Value::Number(b)) if same_number(a, b) => {}
        (Value::String(a), Value::String(b)) if a == b || same_instant(a, b) => {}
        (Value::Bool(a), Value::Bool(b)) if a == b => {}
        _ => found.push(format!("{path} changed: {original} became {back}")),
    }
}

#[test]
fn every_fixture_has_an_entry() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let listed: BTreeSet<String> = LISTED.iter().map(|name| name.to_string()).collect();
    let unlisted: Vec<&String> = on_disk.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty(),
        "fixtures without an entry in the table of tests/fidelity.rs: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "table entries without a fixture: {missing:?}"
    );
}

#[test]
fn every_fixture_round_trips_without_losing_a_field() {
    let mut found = Vec::new();
    for file in LISTED {
        let path = fixtures_dir().join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let original: Value = serde_json::from_str(&text).expect("fixtures are JSON");
        match round_trip(file, &text) {
            Ok(back) => losses(&format!("{file}: $"), &original, Some(&back), &mut found),
            Err(error) => found.push(error),
        }
    }
    assert!(
        found.is_empty(),
        "the generated types drop or change what plex.tv sends (type the fields in openapi/plex-tv.json):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_file_without_an_entry_is_an_error() {
    let error = round_trip("new_endpoint.json", "{}").unwrap_err();
    assert!(error.contains("no entry"), "{error}");
}

/// The comparison itself: what it reports and what it lets pass.
#[test]
fn losses_name_the_path_of_what_was_dropped_or_changed() {
    let original = serde_json::json!({
        "id": 4294967310_i64,
        "kept": {"deep": [1, 2, {"x": true}]},
        "lost": {"a": 1},
        "nested": {"gone": "value", "here": "value"},
        "number": 15,
        "shortened": [1, 2],
        "changed": "yes",
        "date": "2025-11-22T11:40:00.000Z",
        "moved": "2025-11-22T11:40:00Z",
        "flag": false,
        "nothing": null,
        "blank": "",
        "none": [],
        "empty": {}
    });
    let back = serde_json::json!({
        "id": 4294967310_i64,
        "kept": {"deep": [1, 2, {"x": true}]},
        "nested": {"here": "value"},
        "number": 15.0,
        "shortened": [1],
        "changed": "no",
        "date": "2025-11-22T12:40:00+01:00",
        "moved": "2025-11-22T11:40:01Z",
        "flag": 0
    });
    let mut found = Vec::new();
    losses("$", &original, Some(&back), &mut found);
    found.sort();
    assert_eq!(
        found,
        [
            "$.changed changed: \"yes\" became \"no\"",
            "$.flag changed: false became 0",
            "$.lost is lost (was {\"a\":1})",
            "$.moved changed: \"2025-11-22T11:40:00Z\" became \"2025-11-22T11:40:01Z\"",
            "$.nested.gone is lost (was \"value\")",
            "$.shortened changed: [1,2] became [1]",
        ]
    );

    let mut none = Vec::new();
    losses("$", &original, Some(&original), &mut none);
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn large_integers_are_compared_exactly() {
    let mut found = Vec::new();
    let big = serde_json::json!(9_007_199_254_740_993_i64); // 2^53 + 1
    let near = serde_json::json!(9_007_199_254_740_992_i64);
    losses("$", &big, Some(&near), &mut found);
    assert_eq!(found.len(), 1, "{found:?}");
}
