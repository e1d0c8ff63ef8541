//! The hand-written client layer: identity headers, tokens, hosts, the http guard, redaction, redirects, retries,
//! timeouts and the stored client identifier. Loopback only.

mod support;

use std::{
    collections::BTreeSet,
    sync::{Arc, Barrier},
    time::{Duration, Instant},
};

use plex_tv::{ClientIdentifier, ClientIdentity, Error, PlexTv, RetryPolicy, Token};
use support::{closed_port, json, reply_json, response, RawServer, Request, Step};

const TOKEN: &str = "tok-SECRET-0123456789abcdef";
const USER: &str = r#"{"id":1,"uuid":"u-1","username":"alice"}"#;

/// Every identity header, each set to a distinct value.
fn identity() -> ClientIdentity {
    ClientIdentity::new("Test App", "test-client-0001".parse().unwrap())
        .version("1.2.3")
        .platform("Linux")
        .platform_version("6.1")
        .device("PC")
        .device_name("Bench PC")
        .model("hosted")
        .vendor("Acme")
        .provides("controller")
        .language("en")
}

const IDENTITY_HEADERS: [(&str, &str); 11] = [
    ("X-Plex-Product", "Test App"),
    ("X-Plex-Client-Identifier", "test-client-0001"),
    ("X-Plex-Version", "1.2.3"),
    ("X-Plex-Platform", "Linux"),
    ("X-Plex-Platform-Version", "6.1"),
    ("X-Plex-Device", "PC"),
    ("X-Plex-Device-Name", "Bench PC"),
    ("X-Plex-Model", "hosted"),
    ("X-Plex-Device-Vendor", "Acme"),
    ("X-Plex-Provides", "controller"),
    ("X-Plex-Language", "en"),
];

/// Short delays so that retry tests stay fast.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(100))
        .jitter(false)
}

fn client_with(url: &str, retry: RetryPolicy) -> PlexTv {
    PlexTv::builder()
        .identity(identity())
        .base_url(url)
        .token(TOKEN)
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(1))
        .retry(retry)
        .build()
        .expect("a loopback client builds")
}

fn client(url: &str) -> PlexTv {
    client_with(url, fast_retries())
}

fn assert_identity(request: &Request) {
    for (name, value) in IDENTITY_HEADERS {
        assert_eq!(
            request.header(name).as_deref(),
            Some(value),
            "{name} on {} {}",
            request.method,
            request.target
        );
    }
}

/// Runs a future with a hard bound, so that a hang fails instead of blocking.
async fn bounded<F: std::future::Future>(secs: u64, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), future)
        .await
        .expect("the call finished within its bound")
}

#[tokio::test]
async fn a_partial_identity_sends_only_what_is_set() {
    let server = RawServer::always(reply_json(200, USER)).await;
    let c = PlexTv::builder()
        .identity(ClientIdentity::new("Bare", "bare-id".parse().unwrap()))
        .base_url(server.url())
        .build()
        .unwrap();
    bounded(5, c.get_user().send()).await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.header("X-Plex-Product").as_deref(), Some("Bare"));
    assert_eq!(
        request.header("X-Plex-Client-Identifier").as_deref(),
        Some("bare-id")
    );
    // The device name falls back to the product.
    assert_eq!(
        request.header("X-Plex-Device-Name").as_deref(),
        Some("Bare")
    );
    assert!(request.has_header("X-Plex-Platform"));
    for absent in [
        "X-Plex-Version",
        "X-Plex-Language",
        "X-Plex-Model",
        "X-Plex-Token",
    ] {
        assert!(!request.has_header(absent), "{absent} was not set");
    }
}

#[tokio::test]
async fn with_token_and_without_token_share_one_pool() {
    let server = RawServer::always(reply_json(200, USER)).await;
    let first = client(&server.url());
    let second = first.with_token("other-token");
    let anonymous = first.without_token();
    let again = anonymous.with_token(Token::new("third-token"));

    assert_eq!(first.token().map(Token::expose_secret), Some(TOKEN));
    assert_eq!(
        second.token().map(Token::expose_secret),
        Some("other-token")
    );
    assert!(anonymous.token().is_none());
    assert_eq!(second.identity(), first.identity());
    assert_eq!(second.base_url(), first.base_url());

    for c in [&first, &second, &anonymous, &again, &first.clone()] {
        bounded(5, c.get_user().send()).await.unwrap();
        // Give the connection time to go back to the pool.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tokens: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("X-Plex-Token"))
        .collect();
    assert_eq!(
        tokens,
        [
            Some(TOKEN.to_owned()),
            Some("other-token".to_owned()),
            None,
            Some("third-token".to_owned()),
            Some(TOKEN.to_owned()),
        ]
    );
    for request in server.requests() {
        assert_identity(&request);
    }
    // One keep-alive connection carried all five: the clients share the
    // reqwest client and its pool.
    assert_eq!(server.accepts(), 1, "connections opened");
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let build = |url: &str, allow: bool| {
        PlexTv::builder()
            .identity(identity())
            .base_url(url)
            .allow_insecure_http(allow)
            .build()
    };
    for url in [
        "http://plex.example.com",
        "http://192.168.1.10:32400",
        "http://10.0.0.1",
    ] {
        match build(url, false) {
            Err(Error::InvalidInput { message }) => {
                assert!(message.contains("allow_insecure_http"), "{message}")
            }
            other => panic!("{url}: expected InvalidInput, got {other:?}"),
        }
        assert!(build(url, true).is_ok(), "{url} with allow_insecure_http");
    }
    for url in [
        "http://127.0.0.1:1",
        "http://localhost:9",
        "http://[::1]:80",
        "https://plex.tv",
    ] {
        assert!(build(url, false).is_ok(), "{url}");
    }
    assert!(matches!(
        build("ftp://plex.tv", true),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        PlexTv::builder().base_url("https://plex.tv").build(),
        Err(Error::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn the_token_never_shows_in_debug_errors_or_traces() {
    let (buffer, _capture) = support::capture_traces();

    let builder = PlexTv::builder().identity(identity()).token(TOKEN);
    let token = Token::new(TOKEN);
    let mut shown = vec![
        format!("{builder:?}"),
        format!("{token:?}"),
        format!("{token}"),
        format!("{:?}", Some(&token)),
    ];

    let server = RawServer::start(|request, _| {
        let body: &[u8] = match request.path() {
            "/api/v2/user" => br#"{"errors":[{"code":1001,"message":"User could not be authenticated"}]}"#,
            "/api/v2/home" => {
                return reply_json(200, format!(r#"{{"id":"x","authToken":"{TOKEN}","note":"X-Plex-Token={TOKEN}"}}"#))
            }
            "/api/v2/friends" => {
                return vec![Step::Write(response(
                    502,
                    &[("Content-Type", "text/html")],
                    format!("<html><body>bad gateway for {TOKEN} <a href=\"/x?X-Plex-Token={TOKEN}\">retry</a></body></html>"),
                ))]
            }
            _ => br#"{"id":1,"uuid":"u"}"#,
        };
        vec![Step::Write(json(if request.path() == "/api/v2/user" { 401 } else { 200 }, body))]
    })
    .await;
    let c = client_with(&server.url(), RetryPolicy::none());
    shown.push(format!("{c:?}"));
    shown.push(format!("{:?}", c.with_token("x").with_token(TOKEN)));

    let unauthorized = Error::from(c.get_user().send().await.unwrap_err());
    assert!(
        matches!(unauthorized, Error::Unauthorized { .. }),
        "{unauthorized:?}"
    );
    let decode = Error::from(c.get_home().send().await.unwrap_err());
    match &decode {
        Error::Decode {
            path, body_start, ..
        } => {
            assert_eq!(path, "$.id");
            assert!(body_start.contains("<redacted>"), "{body_start}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    let api = Error::from(c.get_friends().send().await.unwrap_err());
    match &api {
        Error::Api { status, body, .. } => {
            assert_eq!(status.as_u16(), 502);
            assert!(
                body.as_deref().unwrap_or_default().contains("bad gateway"),
                "{body:?}"
            );
        }
        other => panic!("expected Api, got {other:?}"),
    }
    c.get_server().machine_identifier("m").send().await.unwrap();
    for error in [&unauthorized, &decode, &api] {
        shown.push(format!("{error:?}"));
        shown.push(format!("{error}"));
    }
    let logs = buffer.text();
    assert!(
        logs.contains("plex_tv.request"),
        "the subscriber saw the requests:\n{logs}"
    );
    shown.push(logs);
    for text in shown {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
        assert!(!text.contains("SECRET"), "part of the token leaked: {text}");
    }
}

#[tokio::test]
async fn cross_origin_redirects_drop_the_token_and_keep_the_identity() {
    let other = RawServer::always(reply_json(200, USER)).await;
    let target = format!("{}/elsewhere/user", other.url());
    let origin = RawServer::always(vec![Step::Write(response(
        302,
        &[("Location", target.as_str())],
        "",
    ))])
    .await;
    let c = client(&origin.url());
    let user = bounded(5, c.get_user().send()).await.unwrap();
    assert_eq!(user.username.as_deref(), Some("alice"));

    assert_eq!(
        origin.requests()[0].header("X-Plex-Token").as_deref(),
        Some(TOKEN)
    );
    let moved = &other.requests()[0];
    assert_eq!(moved.path(), "/elsewhere/user");
    assert!(
        !moved.has_header("X-Plex-Token"),
        "the token crossed origins"
    );
    assert_identity(moved);
    assert_eq!(moved.header("Accept").as_deref(), Some("application/json"));

    // localhost and 127.0.0.1 are different origins too.
    let by_name = format!("http://localhost:{}/api/v2/user", other.addr.port());
    let origin = RawServer::always(vec![Step::Write(response(
        307,
        &[("Location", &by_name)],
        "",
    ))])
    .await;
    bounded(5, client(&origin.url()).get_user().send())
        .await
        .unwrap();
    assert!(!other.requests()[1].has_header("X-Plex-Token"));
}

#[tokio::test]
async fn same_origin_redirects_keep_the_token() {
    let server = RawServer::start(|request, _| match request.path() {
        "/api/v2/user" => vec![Step::Write(response(
            301,
            &[("Location", "/api/v2/moved")],
            "",
        ))],
        _ => reply_json(200, USER),
    })
    .await;
    bounded(5, client(&server.url()).get_user().send())
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path(), "/api/v2/moved");
    assert_eq!(requests[1].header("X-Plex-Token").as_deref(), Some(TOKEN));
    assert_identity(&requests[1]);
}

#[tokio::test]
async fn a_redirect_that_leaves_and_comes_back_does_not_regain_the_token() {
    let home = RawServer::start(|request, _| match request.path() {
        "/api/v2/user" => vec![Step::Write(response(302, &[("Location", "/never")], ""))],
        _ => reply_json(200, USER),
    })
    .await;
    let back = format!("{}/back", home.url());
    let away = RawServer::always(vec![Step::Write(response(
        302,
        &[("Location", back.as_str())],
        "",
    ))])
    .await;
    let first = format!("{}/away", away.url());
    let start = RawServer::always(vec![Step::Write(response(
        302,
        &[("Location", first.as_str())],
        "",
    ))])
    .await;
    // start (token) -> away (no token) -> home/back: a third origin, no token.
    bounded(5, client(&start.url()).get_user().send())
        .await
        .unwrap();
    assert!(!away.requests()[0].has_header("X-Plex-Token"));
    assert!(!home.requests()[0].has_header("X-Plex-Token"));
}

#[tokio::test]
async fn retries_503_twice_then_succeeds() {
    let server = RawServer::start(|_, index| match index {
        0 | 1 => reply_json(503, "{}"),
        _ => reply_json(200, USER),
    })
    .await;
    let user = bounded(5, client(&server.url()).get_user().send())
        .await
        .unwrap();
    assert_eq!(user.id, 1);
    assert_eq!(server.hits(), 3);
    for request in server.requests() {
        assert_eq!(request.header("X-Plex-Token").as_deref(), Some(TOKEN));
        assert_identity(&request);
    }
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let server = RawServer::start(|_, index| match index {
        0 => vec![Step::Write(response(429, &[("Retry-After", "1")], ""))],
        _ => reply_json(200, USER),
    })
    .await;
    let started = Instant::now();
    bounded(10, client(&server.url()).get_user().send())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn posts_are_not_retried_after_a_server_error() {
    for status in [500, 502, 503, 504] {
        let server = RawServer::always(reply_json(status, "{}")).await;
        let error = Error::from(
            bounded(5, client(&server.url()).create_pin().strong(true).send())
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(&error, Error::Api { status: s, .. } if s.as_u16() == status),
            "{status}: {error:?}"
        );
        assert_eq!(server.hits(), 1, "POST after {status} was sent again");
    }
    // A 429 was turned away unprocessed: even a POST may be sent again.
    let server = RawServer::start(|_, index| match index {
        0 => reply_json(429, "{}"),
        _ => reply_json(201, r#"{"id":1,"code":"C"}"#),
    })
    .await;
    bounded(5, client(&server.url()).create_pin().send())
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_get_500_is_not_retried() {
    let server = RawServer::always(reply_json(
        500,
        r#"{"errors":[{"code":2000,"message":"boom"}]}"#,
    ))
    .await;
    let error = Error::from(
        bounded(5, client(&server.url()).get_user().send())
            .await
            .unwrap_err(),
    );
    match error {
        Error::Api {
            status,
            errors,
            body,
        } => {
            assert_eq!(status.as_u16(), 500);
            assert_eq!(errors[0].code, Some(2000));
            assert_eq!(body, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn retries_give_up_at_max_attempts() {
    let server = RawServer::always(reply_json(503, "<html>down</html>")).await;
    let c = client_with(&server.url(), fast_retries().max_attempts(3));
    let error = Error::from(bounded(5, c.get_user().send()).await.unwrap_err());
    assert!(
        matches!(&error, Error::Api { status, .. } if status.as_u16() == 503),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(server.hits(), 3);

    let server = RawServer::always(reply_json(429, "")).await;
    let c = client_with(&server.url(), fast_retries().max_attempts(3));
    let error = Error::from(bounded(5, c.get_user().send()).await.unwrap_err());
    assert!(
        matches!(error, Error::RateLimited { retry_after: None }),
        "{error:?}"
    );
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn retries_give_up_at_max_elapsed() {
    let server = RawServer::always(vec![Step::Write(response(
        429,
        &[("Retry-After", "1")],
        "",
    ))])
    .await;
    let c = client_with(
        &server.url(),
        fast_retries()
            .max_attempts(10)
            .max_elapsed(Duration::from_millis(1500)),
    );
    let started = Instant::now();
    let error = Error::from(bounded(10, c.get_user().send()).await.unwrap_err());
    let elapsed = started.elapsed();
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(1)),
        "{error:?}"
    );
    // Sent at 0 s and 1 s; a third send would start after 1.5 s.
    assert_eq!(server.hits(), 2);
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");

    let server = RawServer::always(reply_json(503, "")).await;
    let c = client_with(
        &server.url(),
        RetryPolicy::default()
            .jitter(false)
            .initial_delay(Duration::from_millis(300))
            .max_attempts(10)
            .max_elapsed(Duration::from_millis(600)),
    );
    let error = Error::from(bounded(10, c.get_user().send()).await.unwrap_err());
    assert!(
        matches!(&error, Error::Api { status, .. } if status.as_u16() == 503),
        "{error:?}"
    );
    // Sent at 0 and 300 ms; the next (600 ms later) would pass 600 ms. Both
    // sides have 300 ms of slack for a loaded machine.
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_huge_retry_after_gives_up_at_once_instead_of_sleeping_or_panicking() {
    for value in ["18446744073709551615", "999999999999"] {
        let server = RawServer::always(vec![Step::Write(response(
            429,
            &[("Retry-After", value)],
            "",
        ))])
        .await;
        let started = Instant::now();
        let error = Error::from(
            bounded(5, client(&server.url()).get_user().send())
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(
                error,
                Error::RateLimited {
                    retry_after: Some(_)
                }
            ),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(server.hits(), 1);
        let _ = error.to_string();
    }
    // An unbounded max_elapsed must not overflow either.
    let server = RawServer::start(|_, index| match index {
        0 => reply_json(503, ""),
        _ => reply_json(200, USER),
    })
    .await;
    let c = client_with(&server.url(), fast_retries().max_elapsed(Duration::MAX));
    bounded(5, c.get_user().send()).await.unwrap();
}

#[tokio::test]
async fn connection_refused_is_retried_then_ends_in_transport() {
    let (buffer, _capture) = support::capture_traces();
    let addr = closed_port().await;
    let c = client_with(&format!("http://{addr}"), fast_retries().max_attempts(3));
    let error = Error::from(bounded(5, c.get_user().send()).await.unwrap_err());
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(error.is_transient());
    let logs = buffer.text();
    assert_eq!(logs.matches("retrying").count(), 2, "{logs}");
    assert!(logs.contains("attempts=3"), "{logs}");
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_bound() {
    let server = RawServer::always(vec![Step::Hang]).await;
    let c = PlexTv::builder()
        .identity(identity())
        .base_url(server.url())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = Error::from(bounded(5, c.get_user().send()).await.unwrap_err());
    let elapsed = started.elapsed();
    assert!(matches!(error, Error::Timeout), "{error:?}");
    assert!(error.is_transient());
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    // A timeout is not retried: that would multiply the caller's bound.
    assert_eq!(server.hits(), 1);
}

/// A caller's own reqwest::Client, built without a timeout, still gets the
/// configured one.
#[tokio::test]
async fn a_custom_http_client_still_times_out_within_the_bound() {
    let server = RawServer::always(vec![Step::Hang]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let c = PlexTv::builder()
        .identity(identity())
        .base_url(server.url())
        .http_client(http)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = Error::from(bounded(5, c.get_user().send()).await.unwrap_err());
    assert!(matches!(error, Error::Timeout), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn client_identifier_is_stable_across_calls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/client-id");
    let first = ClientIdentifier::load_or_create(&path).unwrap();
    let again = ClientIdentifier::load_or_create(&path).unwrap();
    assert_eq!(first, again);
    assert_eq!(first.as_str().len(), 36);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim(), first.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    // No temporary files are left beside it.
    let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(entries, 1);
}

#[test]
fn racing_threads_agree_on_one_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("client-id"));
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                ClientIdentifier::load_or_create(&*path).unwrap()
            })
        })
        .collect();
    let ids: BTreeSet<_> = threads
        .into_iter()
        .map(|t| t.join().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let stored = std::fs::read_to_string(&*path).unwrap();
    assert_eq!(stored.trim(), ids.iter().next().unwrap());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn racing_tasks_agree_on_one_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("id");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let path = path.clone();
            tokio::task::spawn_blocking(move || ClientIdentifier::load_or_create(path).unwrap())
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap().as_str().to_owned());
    }
    assert_eq!(ids.len(), 1);
}

#[test]
fn bad_identifier_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>); 6] = [
        ("empty", Vec::new()),
        ("blank", b"  \n\t\n".to_vec()),
        ("garbage", vec![0xff, 0xfe, 0x00, 0x9c, 0x80]),
        ("spaces", b"two words\n".to_vec()),
        ("huge", vec![b'a'; 20 * 1024 * 1024]),
        ("nul", b"abc\0def".to_vec()),
    ];
    for (name, contents) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &contents).unwrap();
        match ClientIdentifier::load_or_create(&path) {
            Err(Error::InvalidInput { message }) => {
                assert!(message.contains(name), "{name}: {message}")
            }
            other => panic!("{name}: expected InvalidInput, got {other:?}"),
        }
        // The file is left alone.
        assert_eq!(
            std::fs::read(&path).unwrap().len(),
            contents.len(),
            "{name}"
        );
    }
    // A directory where the file should be.
    let path = dir.path().join("a-dir");
    std::fs::create_dir(&path).unwrap();
    assert!(matches!(
        ClientIdentifier::load_or_create(&path),
        Err(Error::Io { .. } | Error::InvalidInput { .. })
    ));
    // A parent that is a file.
    let file = dir.path().join("empty");
    assert!(matches!(
        ClientIdentifier::load_or_create(file.join("child")),
        Err(Error::Io { .. })
    ));
    // A hand-written identifier is read back as is.
    let path = dir.path().join("mine");
    std::fs::write(&path, "my-own-id\n").unwrap();
    assert_eq!(
        ClientIdentifier::load_or_create(&path).unwrap().as_str(),
        "my-own-id"
    );
}
