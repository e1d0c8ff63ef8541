//! No token, no control character and no unbounded text reaches an error,
//! whatever a server sends; the PIN wait keeps its deadline while a poll
//! hangs; URLs from plex.tv and base URL errors hold no surprises. Every
//! case runs against a scripted server on loopback.

mod support;

use std::{
    error::Error as _,
    sync::OnceLock,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use plex_tv::{pin::PinEvent, ClientIdentity, Error, PlexTv, RetryPolicy};
use proptest::{
    prelude::*,
    sample::select,
    test_runner::{Config, TestCaseError, TestRunner},
};
use support::{json, response, RawServer, Step};

const TOKEN: &str = "tok-LEAKY-0a1b2c3d4e5f";
/// The bound on any error's `Display`, in bytes.
const DISPLAY_BOUND: usize = 1024;

fn identity() -> ClientIdentity {
    ClientIdentity::new("Leak Test", "leak-test-id".parse().unwrap())
}

fn client_with(url: &str, token: &str) -> PlexTv {
    PlexTv::builder()
        .identity(identity())
        .base_url(url)
        .token(token)
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn client(url: &str) -> PlexTv {
    client_with(url, TOKEN)
}

async fn get_user(client: &PlexTv) -> Error {
    client
        .get_user()
        .send()
        .await
        .map_err(Error::from)
        .expect_err("the script answers with an error")
}

/// Display, Debug and every `source()` of `error`, one after the other.
fn everything_shown(error: &Error) -> String {
    let mut shown = format!("{error}\n{error:?}");
    let mut source = error.source();
    while let Some(inner) = source {
        shown.push_str(&format!("\n{inner}\n{inner:?}"));
        source = inner.source();
    }
    shown
}

fn assert_clean(error: &Error, token: &str) {
    let shown = everything_shown(error);
    assert!(!shown.contains(token), "the token leaked: {shown}");
    let display = error.to_string();
    assert!(
        display.len() <= DISPLAY_BOUND,
        "{} bytes: {display}",
        display.len()
    );
    assert!(
        !display
            .chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
        "a control character: {display:?}"
    );
}

fn reply(bytes: Vec<u8>) -> Vec<Step> {
    vec![Step::Write(bytes)]
}

fn plex_errors(code: i64, message: &str, status: u16) -> String {
    serde_json::json!({"errors": [{"code": code, "message": message, "status": status}]})
        .to_string()
}

#[tokio::test]
async fn plex_tv_error_messages_lose_the_token_at_every_status() {
    for (status, code) in [(401, 1001), (401, 1029), (400, 1000), (500, 2000), (503, 0)] {
        let message = format!("User {TOKEN} could not be authenticated (token={TOKEN})");
        let server =
            RawServer::always(reply(json(status, plex_errors(code, &message, status)))).await;
        let error = get_user(&client(&server.url())).await;
        match (code, &error) {
            (1029, Error::TwoFactorRequired { errors })
            | (1001, Error::Unauthorized { errors }) => {
                let kept = errors[0].message.as_deref().unwrap();
                assert!(kept.starts_with("User <redacted> could not"), "{kept}");
            }
            (_, Error::Api { errors, .. }) => {
                assert_eq!(errors[0].code, Some(code));
                assert!(
                    error.to_string().contains("User <redacted> could not"),
                    "{error}"
                );
            }
            _ => panic!("{status}/{code}: {error:?}"),
        }
        assert_clean(&error, TOKEN);
    }
}

#[tokio::test]
async fn the_token_is_removed_however_the_body_spells_it() {
    let json_escaped: String = TOKEN
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let percent: String = TOKEN.bytes().map(|b| format!("%{b:02x}")).collect();
    let half = TOKEN.len() / 2;
    let split = format!(
        "{}\\u{:04x}{}",
        &TOKEN[..half],
        TOKEN.as_bytes()[half],
        &TOKEN[half + 1..]
    );
    let bodies = [
        // Decoded by serde: the message holds the token itself.
        json(
            500,
            format!(r#"{{"errors":[{{"code":1,"message":"a {json_escaped} b"}}]}}"#),
        ),
        json(
            500,
            format!(r#"{{"errors":[{{"code":1,"message":"a {split} b"}}]}}"#),
        ),
        // Not the usual shape, and cut short: quoted as written.
        json(502, format!(r#"{{"error":"a {json_escaped} b"#)),
        json(502, format!(r#"{{"{split}":1"#)),
        response(
            502,
            &[("Content-Type", "text/html")],
            format!("<a href=\"/x?X-Plex-Token={percent}\">{percent}</a>"),
        ),
        response(
            502,
            &[("Content-Type", "text/html")],
            format!("<p>&#116;{}</p>", &TOKEN[1..]),
        ),
    ];
    for body in bodies {
        let server = RawServer::always(reply(body.clone())).await;
        let error = get_user(&client(&server.url())).await;
        assert!(matches!(error, Error::Api { .. }), "{error:?}");
        assert_clean(&error, TOKEN);
        let shown = everything_shown(&error);
        for spelled in [&json_escaped, &percent, &split] {
            assert!(!shown.contains(spelled.as_str()), "{shown}");
        }
    }
}

#[tokio::test]
async fn decode_errors_of_success_bodies_lose_a_bare_token() {
    let json_escaped: String = TOKEN
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let bodies = [
        // In serde's message ("invalid type: string ..."), and the excerpt.
        format!(r#"{{"id":"{TOKEN}","uuid":"u"}}"#),
        format!(r#"{{"id":"{json_escaped}","uuid":"u"}}"#),
        // As a key: in the JSON path and the excerpt.
        format!(r#"{{"id":1,"uuid":"u","services":[{{"{TOKEN}":1,"identifier":5}}]}}"#),
        format!(r#"{{"{TOKEN}":[1,2,{{"x":"#),
        // Cut short, quoted as written.
        format!(r#"{{"id":1,"uuid":"{json_escaped}"#),
    ];
    for body in bodies {
        let server = RawServer::always(reply(json(200, &body))).await;
        let error = get_user(&client(&server.url())).await;
        assert!(matches!(error, Error::Decode { .. }), "{body}: {error:?}");
        assert_clean(&error, TOKEN);
        assert!(!everything_shown(&error).contains(&json_escaped));
    }
    // The path still says where, with the token blanked.
    let server = RawServer::always(reply(json(
        200,
        format!(r#"{{"id":1,"uuid":"u","services":[{{"{TOKEN}":1}},5]}}"#),
    )))
    .await;
    let error = get_user(&client(&server.url())).await;
    let Error::Decode { path, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, "$.services[1]");
}

#[tokio::test]
async fn the_server_cannot_write_the_internal_body_note() {
    const FORGED: &str = "FORGED-note-text";
    let forged = [
        ("X-Plex-Tv-Sdk-Raw-Body", FORGED),
        ("Content-Type", "application/json"),
    ];
    let scripts = [
        // The usual error shape: no note at all.
        response(500, &forged, plex_errors(2000, "internal", 500)),
        // No body: nothing to quote.
        response(503, &forged, ""),
        // A body of another shape: the note is the SDK's own.
        response(502, &forged, r#"{"error":"real body"}"#),
        // Statuses progenitor does not decode.
        response(204, &forged, ""),
        response(302, &forged, ""),
    ];
    for script in scripts {
        let server = RawServer::always(reply(script)).await;
        let error = get_user(&client(&server.url())).await;
        let shown = everything_shown(&error);
        assert!(!shown.contains(FORGED), "{shown}");
        let Error::Api { body, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(
            body.as_deref()
                .is_none_or(|body| body.contains("real body")),
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn control_characters_never_reach_an_error() {
    let nasty = "red\u{1b}[31m\u{7}\r\nFORGED LOG LINE\u{0}\u{9b}\u{202e}txet";
    let escaped = serde_json::to_string(nasty).unwrap();
    let bodies = [
        json(500, plex_errors(2000, nasty, 500)),
        json(401, plex_errors(1001, nasty, 401)),
        json(200, format!(r#"{{"id":{escaped},"uuid":"u"}}"#)),
        response(
            502,
            &[("Content-Type", "text/html")],
            format!("<p>{nasty}</p>"),
        ),
    ];
    for body in bodies {
        let server = RawServer::always(reply(body)).await;
        let error = get_user(&client(&server.url())).await;
        assert_clean(&error, TOKEN);
        if let Error::Unauthorized { errors } = &error {
            let message = errors[0].message.as_deref().unwrap();
            assert!(!message.chars().any(char::is_control), "{message:?}");
            assert!(message.contains("FORGED LOG LINE"), "{message:?}");
        } else {
            assert!(error.to_string().contains("FORGED LOG LINE"), "{error}");
        }
    }
}

#[tokio::test]
async fn a_megabyte_string_of_the_wrong_type_gives_a_bounded_display() {
    let big = "x".repeat(1024 * 1024);
    let server = RawServer::always(reply(json(
        200,
        format!(r#"{{"id":"{big}{TOKEN}","uuid":"u"}}"#),
    )))
    .await;
    let error = get_user(&client(&server.url())).await;
    let Error::Decode {
        path,
        message,
        body_start,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(path, "$.id");
    assert!(
        message.starts_with("invalid type: string \"xxx"),
        "{message}"
    );
    assert!(message.chars().count() <= 201 && body_start.chars().count() <= 201);
    assert_clean(&error, TOKEN);
}

#[tokio::test]
async fn many_error_entries_give_a_bounded_display() {
    let errors: Vec<_> = (0..1400)
        // Within the 64 KiB of an error body that are read.
        .map(|i| match i {
            0 => serde_json::json!({"code": 5000, "message": format!("error number 0 {TOKEN}")}),
            _ => serde_json::json!({"code": 5000 + i, "message": format!("error number {i}")}),
        })
        .collect();
    let body = serde_json::json!({ "errors": errors }).to_string();
    let server = RawServer::always(reply(json(500, body))).await;
    let error = get_user(&client(&server.url())).await;
    let Error::Api { errors, .. } = &error else {
        panic!("{error:?}")
    };
    // Nothing is dropped from the errors themselves...
    assert_eq!(errors.len(), 1400);
    // ...but the message says how many it does not show.
    let shown = error.to_string();
    assert!(
        shown.contains("error number 0 <redacted> (code 5000)"),
        "{shown}"
    );
    let more: usize = shown
        .rsplit_once("… and ")
        .and_then(|(_, rest)| rest.strip_suffix(" more"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count: {shown}"));
    let listed = shown.matches("error number").count();
    assert_eq!(listed + more, 1400, "{shown}");
    assert_clean(&error, TOKEN);
}

// ---- PIN sign-in ----

fn pin_json(expires_in: i64, qr: Option<&str>) -> String {
    let mut pin = serde_json::json!({
        "id": 77, "code": "ABCD", "product": "Leak Test", "trusted": false,
        "clientIdentifier": "leak-test-id", "expiresIn": expires_in,
        "createdAt": "2025-11-22T10:00:00Z", "expiresAt": "2025-11-22T10:30:00Z",
        "authToken": null, "newRegistration": null
    });
    if let Some(qr) = qr {
        pin["qr"] = qr.into();
    }
    pin.to_string()
}

/// Creates PINs with `expires_in`; then every poll gets `poll`.
async fn pin_server(expires_in: i64, qr: Option<&str>, poll: Vec<Step>) -> RawServer {
    let pin = pin_json(expires_in, qr);
    RawServer::start(move |request, _| {
        if request.method == "POST" {
            reply(json(201, &pin))
        } else {
            poll.clone()
        }
    })
    .await
}

/// A client with the default 30 s request timeout: only the PIN's own
/// bounds can end a hanging poll early.
fn pin_client(url: &str) -> PlexTv {
    PlexTv::builder()
        .identity(identity())
        .base_url(url)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_ends_the_wait_while_a_poll_hangs() {
    let server = pin_server(1800, None, vec![Step::Hang]).await;
    let pin = pin_client(&server.url())
        .pin_login()
        .poll_interval(plex_tv::pin::MIN_POLL_INTERVAL)
        .timeout(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(20), pin.wait())
        .await
        .expect("bounded");
    let took = started.elapsed();
    assert!(
        matches!(outcome, Err(Error::PinTimedOut(limit)) if limit == Duration::from_secs(2)),
        "{outcome:?}"
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(server.hits() >= 2, "the poll was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expiry_ends_the_events_while_a_poll_hangs() {
    let server = pin_server(3, None, vec![Step::Hang]).await;
    let pin = pin_client(&server.url())
        .pin_login()
        .poll_interval(plex_tv::pin::MIN_POLL_INTERVAL)
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let events: Vec<PinEvent> =
        tokio::time::timeout(Duration::from_secs(20), pin.events().collect())
            .await
            .expect("bounded");
    let took = started.elapsed();
    assert!(
        matches!(events.last(), Some(PinEvent::Expired)),
        "{events:?}"
    );
    assert!(
        took >= Duration::from_millis(2000) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[tokio::test]
async fn retrying_reasons_lose_the_token_and_control_characters() {
    let message = format!("upstream \u{1b}[2J{TOKEN} is down");
    let server = pin_server(
        1800,
        None,
        reply(json(503, plex_errors(2000, &message, 503))),
    )
    .await;
    // The PIN is polled with the client's token header left out, but plex.tv
    // may still quote any token the process holds.
    let holder = client(&server.url());
    let pin = holder
        .pin_login()
        .poll_interval(plex_tv::pin::MIN_POLL_INTERVAL)
        .start()
        .await
        .unwrap();
    let mut events = std::pin::pin!(pin.events());
    let reason = loop {
        match events.next().await.expect("an event") {
            PinEvent::Retrying { reason, .. } => break reason,
            PinEvent::Waiting { .. } => {}
            other => panic!("{other:?}"),
        }
    };
    assert!(
        reason.contains("upstream") && reason.contains("<redacted>"),
        "{reason}"
    );
    assert!(
        !reason.contains(TOKEN) && !reason.chars().any(char::is_control),
        "{reason:?}"
    );
    assert!(reason.len() <= DISPLAY_BOUND);
}

#[tokio::test]
async fn qr_urls_are_https_or_loopback_http_only() {
    let cases: [(Option<&str>, Option<&str>); 10] = [
        (Some("javascript:alert(document.cookie)"), None),
        (Some("file:///etc/passwd"), None),
        (Some("data:text/html,<script>alert(1)</script>"), None),
        (Some("http://evil.example/qr.png"), None),
        (Some("https://user:pw@plex.tv/qr.png"), None),
        (Some("not a url"), None),
        (
            Some("https://plex.tv/api/v2/pins/qr/ABCD"),
            Some("https://plex.tv/api/v2/pins/qr/ABCD"),
        ),
        (Some("http://127.0.0.1:9/qr"), Some("http://127.0.0.1:9/qr")),
        (Some("http://localhost/qr"), Some("http://localhost/qr")),
        (None, Some("https://plex.tv/api/v2/pins/qr/ABCD")),
    ];
    for (sent, expected) in cases {
        let server = pin_server(1800, sent, vec![Step::Hang]).await;
        let pin = pin_client(&server.url())
            .pin_login()
            .link_code()
            .start()
            .await
            .unwrap();
        assert_eq!(
            pin.qr_url().as_ref().map(|u| u.as_str()),
            expected,
            "{sent:?}"
        );
    }
}

#[test]
fn base_url_errors_do_not_repeat_the_secrets_in_them() {
    for (url, secret) in [
        ("https://alice:hunter2-pw@plex.tv", "hunter2-pw"),
        ("https://:hunter2-pw@plex.tv", "hunter2-pw"),
        ("https://hunter2-user@plex.tv", "hunter2-user"),
        ("https://plex.tv/?X-Plex-Token=hunter2-tok", "hunter2-tok"),
        ("https://plex.tv/#hunter2-frag", "hunter2-frag"),
        (
            "https://alice:hunter2-pw@plex.tv:99999999/?X-Plex-Token=hunter2-tok",
            "hunter2",
        ),
        ("https://alice:hunter2-pw@[::1/", "hunter2"),
        // A token passed as the base URL by mistake.
        ("hunter2-token-by-mistake", "hunter2"),
    ] {
        let error = PlexTv::builder()
            .identity(identity())
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(secret), "{url}: {shown}");
        assert!(
            shown.contains("plex.tv") || shown.contains("::1"),
            "{url}: {shown}"
        );
    }
}

// ---- the property ----

/// How a token is written into a body.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    Bare,
    /// Some characters as JSON `\u00XX` escapes (the mask picks which).
    JsonEscaped(u64),
    /// Some characters percent-encoded.
    Percent(u64),
    /// Some characters as HTML character references.
    Html(u64),
}

fn spell(token: &str, spelling: Spelling) -> String {
    let pick = |mask: u64, i: usize| mask >> (i % 64) & 1 == 1;
    token
        .bytes()
        .enumerate()
        .map(|(i, b)| match spelling {
            Spelling::JsonEscaped(mask) if pick(mask, i) => format!("\\u{:04x}", b),
            Spelling::Percent(mask) if pick(mask, i) => format!("%{b:02X}"),
            Spelling::Html(mask) if pick(mask, i) => format!("&#{b};"),
            _ => char::from(b).to_string(),
        })
        .collect()
}

/// Where the token goes.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// plex.tv's error shape, inside a message.
    ErrorMessage,
    /// As the value of a field of the wrong type.
    WrongType,
    /// As a JSON key.
    Key,
    /// In a body cut short.
    Truncated,
    /// In a text page.
    Page,
}

fn body(shape: Shape, token: &str, noise: &str) -> String {
    let noise = serde_json::to_string(noise).unwrap();
    let noise = &noise[1..noise.len() - 1];
    match shape {
        Shape::ErrorMessage => format!(
            r#"{{"errors":[{{"code":1001,"message":"{noise} {token} {noise}","status":401}}]}}"#
        ),
        Shape::WrongType => format!(r#"{{"id":"{noise}{token}","uuid":"{noise}"}}"#),
        Shape::Key => format!(
            r#"{{"id":1,"uuid":"u","services":[{{"{token}":{{"{noise}":[1,"{token}"]}}}}],"x":"#
        ),
        Shape::Truncated => format!(r#"{{"id":1,"uuid":"{noise}{token}{noise}"#),
        Shape::Page => {
            format!("<html>{noise}<a href=\"/?X-Plex-Token={token}\">{token}</a>{noise}</html>")
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

#[test]
fn no_error_shows_the_token_whatever_the_body() {
    let strategy = (
        "[A-Za-z0-9_-]{12,40}",
        select(vec![
            200u16, 201, 400, 401, 403, 404, 429, 500, 502, 503, 599,
        ]),
        prop_oneof![
            Just(Shape::ErrorMessage),
            Just(Shape::WrongType),
            Just(Shape::Key),
            Just(Shape::Truncated),
            Just(Shape::Page)
        ],
        prop_oneof![
            Just(Spelling::Bare),
            any::<u64>().prop_map(Spelling::JsonEscaped),
            any::<u64>().prop_map(Spelling::Percent),
            any::<u64>().prop_map(Spelling::Html)
        ],
        // Text around the token: anything, control characters included.
        prop_oneof![
            ".{0,40}",
            "[\\x00-\\x1f\\u{7f}-\\u{9f}\\u{202a}-\\u{202e} a-z]{0,40}",
            Just("y".repeat(3000))
        ],
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &strategy,
            |(token, status, shape, spelling, noise, html)| {
                let token = format!("tk{token}");
                let text = body(shape, &spell(&token, spelling), &noise);
                let content_type = if html {
                    "text/html"
                } else {
                    "application/json"
                };
                let bytes = response(status, &[("Content-Type", content_type)], &text);
                let error = runtime().block_on(async {
                    let server = RawServer::always(reply(bytes)).await;
                    let client = client_with(&server.url(), &token);
                    client.get_user().send().await.map_err(Error::from).err()
                });
                let Some(error) = error else {
                    return Ok(());
                };
                let shown = everything_shown(&error);
                prop_assert!(
                    !shown.contains(&token),
                    "{status} {shape:?} {spelling:?}: {shown}"
                );
                // Removed before any cut: not even its start shows.
                prop_assert!(
                    !shown.contains(&token[..12]),
                    "{status} {shape:?} {spelling:?}: {shown}"
                );
                let display = error.to_string();
                prop_assert!(
                    display.len() <= DISPLAY_BOUND,
                    "{} bytes: {display}",
                    display.len()
                );
                prop_assert!(!display.chars().any(char::is_control), "{display:?}");
                Ok::<(), TestCaseError>(())
            },
        )
        .unwrap();
}

#[tokio::test]
async fn a_device_jwt_quoted_back_in_a_poll_answer_is_removed() {
    // Echoes the client JWT of each poll (sent in the query) where the PIN's
    // id should be: a decode error of a 200 whose request is no longer known.
    let pin = pin_json(1800, None);
    let server = RawServer::start(move |request, _| {
        if request.method == "POST" {
            return reply(json(201, &pin));
        }
        if request.path() == "/api/v2/auth/nonce" {
            return reply(json(200, r#"{"nonce":"n-1"}"#));
        }
        let jwt = request
            .target
            .split_once("deviceJWT=")
            .map(|(_, jwt)| jwt.split('&').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        reply(json(200, format!(r#"{{"id":"{jwt}","code":"ABCD"}}"#)))
    })
    .await;
    let client = PlexTv::builder()
        .identity(identity())
        .base_url(server.url())
        .clients_base_url(server.url())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = plex_tv::DeviceKey::load_or_create(dir.path().join("key.pem")).unwrap();
    let pin = client
        .pin_login()
        .device_key(key)
        .poll_interval(plex_tv::pin::MIN_POLL_INTERVAL)
        .start()
        .await
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(20), pin.wait())
        .await
        .expect("bounded");
    let error = outcome.expect_err("the answer does not decode");
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    let jwt = server
        .requests()
        .iter()
        .find_map(|r| {
            r.target
                .split_once("deviceJWT=")
                .map(|(_, jwt)| jwt.to_owned())
        })
        .expect("a poll carried a JWT");
    assert!(jwt.len() > 100, "{jwt}");
    assert_clean(&error, &jwt);
    // Longer than a piece of text: not even its start shows.
    assert!(!everything_shown(&error).contains(&jwt[..40]));
}
