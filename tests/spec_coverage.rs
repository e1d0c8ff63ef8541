//! Checks of `openapi/plex-tv.json` itself: it keeps every rule of
//! `xtask/src/rules.rs` (the same functions `cargo xtask regen` refuses to
//! write a spec with), every operation has a test, and no hand-written
//! method hides an operation.

#[path = "../xtask/src/rules.rs"]
#[allow(dead_code)]
mod rules;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn manifest_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn spec() -> Value {
    let path = manifest_path("openapi/plex-tv.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the spec is JSON")
}

/// The `.rs` files under `dir`, in a stable order.
fn sources(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for path in std::fs::read_dir(&folder)
            .expect("a folder")
            .map(|e| e.unwrap().path())
        {
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("a source file"))
        .collect()
}

fn assert_none(violations: Vec<rules::Violation>) {
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
}

#[test]
fn the_spec_keeps_every_rule() {
    assert_none(rules::check(&spec()));
}

#[test]
fn the_rules_catch_what_they_are_about() {
    let mut broken = spec();
    let op = broken["paths"]["/api/v2/user"]["get"]
        .as_object_mut()
        .unwrap();
    op.remove("description");
    op["responses"].as_object_mut().unwrap().remove("5XX");
    broken["components"]["schemas"]["Pin"]["properties"]["id"]["format"] = "int32".into();
    let found: Vec<String> = rules::check(&broken)
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "described: GET /api/v2/user (getUser): no description",
        "error-responses: GET /api/v2/user (getUser): no 5XX response",
        "int64-ids: schema Pin.id: integer id without format int64",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} not in {found:?}"
        );
    }
}

#[test]
fn snake_case_matches_progenitor() {
    assert_eq!(rules::snake_case("getGeoIp"), "get_geo_ip");
    assert_eq!(rules::snake_case("createPin"), "create_pin");
    assert_eq!(rules::snake_case("ping"), "ping");
    assert_eq!(rules::snake_case("includeIPv6"), "include_i_pv6");
    assert_eq!(rules::snake_case("getHTTPServer"), "get_http_server");
    assert_eq!(rules::snake_case("getApiV2User"), "get_api_v2_user");
    // The generated methods, whose names build.rs takes from heck itself.
    for operation in plex_tv::spec::OPERATIONS {
        assert_eq!(rules::snake_case(operation.id), operation.name);
    }
}

#[test]
fn every_operation_has_a_test() {
    let tests = sources(&manifest_path("tests")).concat();
    let missing: Vec<String> = rules::operations(&spec())
        .iter()
        .map(|operation| format!("fn op_{}(", rules::snake_case(operation.id())))
        .filter(|needle| !tests.contains(needle.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "no test under tests/ for these operations; add `async fn op_<name>()` for each:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn operation_names_match_the_generated_client() {
    let path = PathBuf::from(env!("OUT_DIR")).join("plex_tv_generated.rs");
    let generated = std::fs::read_to_string(path).expect("the generated client");
    assert_none(rules::names_match_generated(&spec(), &generated));
}

#[test]
fn no_hand_written_method_hides_an_operation() {
    let hand_written = rules::hand_written_methods(&sources(&manifest_path("src")));
    for expected in [
        "pin_login",
        "with_token",
        "approve_link_code",
        "upgrade_to_jwt",
    ] {
        assert!(
            hand_written.contains(expected),
            "{expected} in {hand_written:?}"
        );
    }
    assert_none(rules::not_shadowed(&spec(), &hand_written));
    // And the check sees a method that would.
    let shadowing = rules::hand_written_methods(&[
        "impl PlexTv {\n    pub async fn link_pin(&self) {}\n}\n".to_owned(),
    ]);
    assert_eq!(rules::not_shadowed(&spec(), &shadowing).len(), 1);
}

#[test]
fn required_types_exist() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().expect("schemas");
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
