//! Helpers shared by the integration tests: a client pointed at a mock
//! plex.tv, the fixtures, and the request checks every operation shares.

#![allow(dead_code)]

use std::path::PathBuf;

use httpmock::{MockServer, Then, When};

pub const PRODUCT: &str = "Test App";
pub const CLIENT_ID: &str = "test-client-id";
pub const VERSION: &str = "1.0.0";
pub const TOKEN: &str = "test-token";

/// A client for `server` with the test identity and token, and no retries.
pub fn client(server: &MockServer) -> plex_tv::PlexTv {
    plex_tv::PlexTv::builder()
        .identity(
            plex_tv::ClientIdentity::new(PRODUCT, CLIENT_ID.parse().unwrap()).version(VERSION),
        )
        .token(TOKEN)
        .retry(plex_tv::RetryPolicy::none())
        .base_url(server.base_url())
        .build()
        .unwrap()
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `X-Plex-Platform` value `ClientIdentity::new` picks on this OS.
pub fn platform() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

/// What every request must carry: `Accept: application/json`, the identity
/// headers, the token as a header (never in the URL), and no `api-version`.
pub fn plex_headers(when: When) -> When {
    when.header("accept", "application/json")
        .header("X-Plex-Product", PRODUCT)
        .header("X-Plex-Client-Identifier", CLIENT_ID)
        .header("X-Plex-Version", VERSION)
        .header("X-Plex-Platform", platform())
        // The device name falls back to the product name.
        .header("X-Plex-Device-Name", PRODUCT)
        .header("X-Plex-Token", TOKEN)
        .query_param_missing("X-Plex-Token")
        .header_missing("api-version")
}

/// A form body: its content type and its exact bytes.
pub fn form_body(when: When, body: &str) -> When {
    when.header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

/// A JSON answer with the body of `tests/fixtures/<name>`.
pub fn json_reply(then: Then, status: u16, name: &str) -> Then {
    then.status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(fixture(name))
}
