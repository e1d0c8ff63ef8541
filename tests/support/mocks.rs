//! Mock plex.tv hosts for per-operation tests, the fixtures, and the
//! request checks every operation shares.
//!
//! [`Mocks`] runs one mock server per host of the spec (plex.tv,
//! clients.plex.tv, ...) and a client that sends each host's operations to
//! its own server. [`Mocks::on`] takes an operation id and sets the method,
//! the path template and the host from the spec, and the identity headers
//! every request must carry: an operation sent to the wrong host, with the
//! wrong method or path, or without its headers, misses its mock.

use std::{collections::BTreeMap, path::PathBuf};

use httpmock::{Mock, MockServer, Then, When};
use plex_tv::spec;

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

/// One mock server per host of the spec, and a client for them.
pub struct Mocks {
    servers: BTreeMap<&'static str, MockServer>,
}

impl Mocks {
    pub async fn start() -> Mocks {
        let mut servers = BTreeMap::new();
        for server in spec::servers() {
            let host = host_of(server);
            if !servers.contains_key(host) {
                servers.insert(host, MockServer::start_async().await);
            }
        }
        Mocks { servers }
    }

    /// The mock server playing `host` (`plex.tv`, `clients.plex.tv`, ...).
    pub fn host(&self, host: &str) -> &MockServer {
        &self.servers[host]
    }

    /// The mock server that operation `id` goes to.
    pub fn server_of(&self, id: &str) -> &MockServer {
        self.host(host_of(operation(id).server))
    }

    /// A builder whose every host is its mock server, with the test
    /// identity and token, and no retries.
    pub fn builder(&self) -> plex_tv::PlexTvBuilder {
        let mut builder = plex_tv::PlexTv::builder()
            .identity(
                plex_tv::ClientIdentity::new(PRODUCT, CLIENT_ID.parse().unwrap()).version(VERSION),
            )
            .token(TOKEN)
            .retry(plex_tv::RetryPolicy::none());
        for (host, server) in &self.servers {
            builder = builder.host_url(host, server.base_url());
        }
        builder
    }

    pub fn client(&self) -> plex_tv::PlexTv {
        self.builder().build().unwrap()
    }

    /// A mock for operation `id` on its own host: its method, a path that
    /// fits its template, and [`plex_headers`]; `config` adds the rest.
    pub async fn on<F>(&self, id: &str, config: F) -> Mock<'_>
    where
        F: FnOnce(When, Then),
    {
        let operation = operation(id);
        let method: httpmock::Method = operation.method.parse().expect("an HTTP method");
        let path = path_pattern(operation);
        self.server_of(id)
            .mock_async(move |when, then| {
                config(
                    plex_headers(when.method(method).path_matches(path.as_str())),
                    then,
                )
            })
            .await
    }
}

pub fn operation(id: &str) -> &'static spec::Operation {
    spec::operation(id).unwrap_or_else(|| panic!("{id} is not an operation of the spec"))
}

/// The host of a server URL.
pub fn host_of(server: &str) -> &str {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    rest.split(['/', ':']).next().unwrap_or(rest)
}

/// The server's own path followed by the operation's path, as a regular
/// expression in which each `{variable}` is one non-empty segment.
pub fn path_pattern(operation: &spec::Operation) -> String {
    let rest = operation
        .server
        .split_once("://")
        .map_or(operation.server, |(_, rest)| rest);
    let prefix = rest.find('/').map_or("", |slash| &rest[slash..]);
    let mut pattern = String::from("^");
    for (i, part) in format!("{prefix}{}", operation.path).split('{').enumerate() {
        let literal = if i == 0 {
            part
        } else {
            pattern.push_str("[^/]+");
            part.split_once('}').map_or("", |(_, rest)| rest)
        };
        pattern.push_str(&regex_escape(literal));
    }
    pattern.push('$');
    pattern
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}
