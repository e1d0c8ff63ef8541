//! A hostile plex.tv: malformed, lying, huge, slow and broken answers, each
//! of which must end in the right typed `plex_tv::Error` within the
//! timeout: never a panic, never a hang. Loopback only.

mod support;

use std::time::{Duration, Instant};

use plex_tv::{types, Error, PlexTv, RetryPolicy};
use support::{json, response, RawServer, Step};

const TOKEN: &str = "tok-HOSTILE-9f8e7d6c5b4a";
const USER: &str = r#"{"id":1,"uuid":"u-1","username":"alice"}"#;
/// The client timeout of cases that expect `Timeout`; they must end near it.
const TIMEOUT: Duration = Duration::from_secs(1);
/// The client timeout of the other cases: generous, so that a loaded
/// machine (2 cores, other builds) does not turn a slow parse into a
/// timeout.
const RELAXED_TIMEOUT: Duration = Duration::from_secs(5);
/// How late a case may end after its client timeout, on a loaded machine.
const SLACK: Duration = Duration::from_millis(2500);
/// The hard bound on any one case.
const CASE_BOUND: Duration = Duration::from_secs(10);

/// Which operation a case calls.
#[derive(Clone, Copy, Debug)]
enum Op {
    GetUser,
    GetFriends,
    GetPin,
    Ping,
    SignIn,
    CreatePin,
}

async fn call(client: &PlexTv, op: Op) -> Result<(), Error> {
    let api = client.api();
    match op {
        Op::GetUser => api.get_user().send().await.map(drop),
        Op::GetFriends => api.get_friends().send().await.map(drop),
        Op::GetPin => api
            .get_pin()
            .pin_id(1_234_567_890_123_i64)
            .send()
            .await
            .map(drop),
        Op::Ping => api.ping().send().await.map(drop),
        Op::SignIn => api
            .sign_in()
            .body(types::SignInForm {
                login: "alice".into(),
                password: "pw".into(),
                remember_me: None,
                verification_code: None,
            })
            .send()
            .await
            .map(drop),
        Op::CreatePin => api.create_pin().strong(true).send().await.map(drop),
    }
    .map_err(Error::from)
}

/// The outcome a case must end in.
#[derive(Debug)]
enum Expect {
    Ok,
    /// A decode error at this JSON path.
    Decode(&'static str),
    /// A decode error whose path starts with this.
    DecodeUnder(&'static str),
    /// `Api` with this status; the body excerpt contains the text, or is
    /// `None` when the text is empty.
    Api(u16, &'static str),
    /// `Api` with this status and the first error's code.
    ApiCode(u16, i64),
    Unauthorized,
    TwoFactor,
    /// `RateLimited` with no `Retry-After`, or one within this range of
    /// seconds.
    RateLimited(Option<(u64, u64)>),
    Timeout,
    Transport,
    TooLarge(u64),
}

struct Case {
    name: &'static str,
    op: Op,
    script: Vec<Step>,
    /// `max_response_size`, when the default is not wanted.
    max_size: Option<u64>,
    expect: Expect,
}

fn case(name: &'static str, op: Op, script: Vec<Step>, expect: Expect) -> Case {
    Case {
        name,
        op,
        script,
        max_size: None,
        expect,
    }
}

fn write(bytes: impl Into<Vec<u8>>) -> Vec<Step> {
    vec![Step::Write(bytes.into())]
}

fn json_200(body: impl AsRef<[u8]>) -> Vec<Step> {
    write(json(200, body))
}

fn raw(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn html_page(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>\
         <p>nginx</p></body></html>"
    )
}

fn table() -> Vec<Case> {
    use Expect::*;
    use Op::*;
    // Far enough ahead that the time the table takes to run does not matter.
    let http_date_in_600s =
        httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(600));
    let mut gzip = raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 23\r\n\r\n");
    gzip.extend_from_slice(&[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56, 0xca, 0x4c, 0x51,
        0xb2, 0x32, 0xac, 0x05, 0x00, 0x5b, 0x3e, 0x91,
    ]);
    let mut invalid_utf8 = raw(r#"{"id":1,"uuid":""#);
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#""}"#);
    let mut big_header = raw("HTTP/1.1 200 OK\r\nX-Big: ");
    big_header.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    big_header.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");

    let mut cases = vec![
        // Bodies that do not decode.
        case("truncated json", GetUser, json_200(r#"{"id":1,"uuid":"ab"#), Decode("$.uuid")),
        case("string for an int64 id", GetUser, json_200(r#"{"id":"12","uuid":"u"}"#), Decode("$.id")),
        case("object where an array is expected", GetFriends, json_200(r#"{"id":1}"#), Decode("$")),
        case("array where an object is expected", GetUser, json_200(format!("[{USER}]")), Decode("$")),
        case("null body", GetUser, json_200("null"), Decode("$")),
        case("empty 200", GetUser, json_200(""), Decode("$")),
        case(
            "xml with 200",
            GetUser,
            write(response(
                200,
                &[("Content-Type", "text/xml")],
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><user id="1" authToken="{TOKEN}" username="alice"/>"#),
            )),
            Decode("$"),
        ),
        case("invalid utf-8 in a string", GetUser, json_200(invalid_utf8), Decode("$.uuid")),
        case(
            "number beyond int64",
            GetUser,
            json_200(r#"{"id":123456789012345678901234567890,"uuid":"u"}"#),
            Decode("$.id"),
        ),
        case(
            "wrong type deep inside",
            GetUser,
            json_200(r#"{"id":1,"uuid":"u","services":[{"identifier":"a"},{"identifier":5}]}"#),
            Decode("$.services[1].identifier"),
        ),
        case("100k nested arrays", GetFriends, json_200("[".repeat(100_000)), DecodeUnder("$")),
        case("100k nested objects", GetUser, json_200(r#"{"a":"#.repeat(100_000)), DecodeUnder("$.a.a.a")),
        case("gzip without asking for it", GetUser, write(gzip), Decode("$")),
        case(
            "content-length shorter than the body",
            GetUser,
            write(raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 6\r\n\r\n{\"id\":1,\"uuid\":\"u\"}")),
            Decode("$.id"),
        ),
        case(
            "byte order mark",
            GetUser,
            json_200(format!("\u{feff}{USER}")),
            Decode("$"),
        ),
        case(
            "token in a body that does not decode",
            GetUser,
            json_200(format!(r#"{{"id":1,"uuid":7,"authToken":"{TOKEN}"}}"#)),
            Decode("$.uuid"),
        ),
        case(
            "a token where an int64 is expected",
            GetUser,
            json_200(format!(r#"{{"id":1,"uuid":"u","services":[{{"token":{{"x":"{TOKEN}"}}}}]}}"#)),
            Decode("$.services[0].token"),
        ),
        case("204 for a json operation", GetUser, write(response(204, &[], "")), Api(204, "")),
        // Error statuses.
        case(
            "html 502 page",
            GetUser,
            write(response(502, &[("Content-Type", "text/html")], html_page("502 Bad Gateway"))),
            Api(502, "502 Bad Gateway"),
        ),
        case(
            "html 404 page",
            GetPin,
            write(response(404, &[("Content-Type", "text/html")], html_page("404 Not Found"))),
            Api(404, "404 Not Found"),
        ),
        case("404 without a body", GetPin, write(response(404, &[], "")), Api(404, "")),
        case(
            "html 503 echoing the token",
            GetUser,
            write(response(
                503,
                &[("Content-Type", "text/html")],
                format!("<html><body>upstream {TOKEN} failed</body></html>"),
            )),
            Api(503, "upstream <redacted> failed"),
        ),
        case(
            "huge html 500 page",
            GetUser,
            write(response(500, &[("Content-Type", "text/html")], "<p>oops</p>".repeat(200_000))),
            Api(500, "<p>oops</p>"),
        ),
        case("401 without a body", GetUser, write(response(401, &[], "")), Unauthorized),
        case(
            "401 code 1001",
            GetUser,
            write(json(401, r#"{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}"#)),
            Unauthorized,
        ),
        case(
            "401 code 1029 on sign-in",
            SignIn,
            write(json(401, r#"{"errors":[{"code":1029,"message":"Please enter the verification code"}]}"#)),
            TwoFactor,
        ),
        case("error body of the wrong shape", GetUser, write(json(400, r#"{"error":"nope"}"#)), Api(400, "nope")),
        case("errors that are not a list", GetUser, write(json(500, r#"{"errors":"down"}"#)), Api(500, "down")),
        case(
            "usual error body",
            GetUser,
            write(json(500, r#"{"errors":[{"code":2000,"message":"internal"}]}"#)),
            ApiCode(500, 2000),
        ),
        case("unknown status 599", GetUser, write(json(599, "{}")), Api(599, "{}")),
        case("status 999", GetUser, write(json(999, "{}")), Api(999, "{}")),
        case("429 without retry-after", GetUser, write(response(429, &[], "")), RateLimited(None)),
        case(
            "429 with an http-date retry-after",
            GetUser,
            write(response(429, &[("Retry-After", http_date_in_600s.as_str())], "")),
            RateLimited(Some((540, 600))),
        ),
        case(
            "429 with a garbage retry-after",
            GetUser,
            write(response(429, &[("Retry-After", "soon")], "")),
            RateLimited(None),
        ),
        case(
            "429 with an absurd retry-after",
            CreatePin,
            write(response(429, &[("Retry-After", "18446744073709551615")], "")),
            RateLimited(Some((u64::MAX, u64::MAX))),
        ),
        // Redirects that go nowhere.
        case(
            "redirect to itself",
            GetUser,
            write(response(302, &[("Location", "/api/v2/user")], "")),
            Api(302, ""),
        ),
        case(
            "redirect to a non-http scheme",
            GetUser,
            write(response(302, &[("Location", "file:///etc/passwd")], "")),
            Api(302, ""),
        ),
        case("redirect without a location", GetUser, write(response(301, &[], "")), Api(301, "")),
        case(
            "redirect to an unparsable location",
            GetUser,
            write(response(307, &[("Location", "http://[::1")], "")),
            Api(307, ""),
        ),
        // Broken connections and protocol garbage.
        case("closed before any response", GetUser, vec![Step::Close], Transport),
        case("reset before any response", GetUser, vec![Step::Reset], Transport),
        case(
            "reset mid-body",
            GetUser,
            vec![
                Step::Write(raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"id\":1,")),
                Step::Sleep(Duration::from_millis(50)),
                Step::Reset,
            ],
            Transport,
        ),
        case(
            "content-length longer than the body, then close",
            GetUser,
            vec![Step::Write(raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":1}")), Step::Close],
            Transport,
        ),
        case(
            "error body cut short",
            GetUser,
            vec![Step::Write(raw("HTTP/1.1 500 Oops\r\nContent-Length: 100\r\n\r\n<html>")), Step::Close],
            Transport,
        ),
        case("not http at all", GetUser, vec![Step::Write(raw("SSH-2.0-OpenSSH_9.6\r\n\r\n")), Step::Close], Transport),
        case(
            "header with a NUL byte",
            GetUser,
            write(raw("HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\nContent-Length: 2\r\n\r\n{}")),
            Transport,
        ),
        case("a 1 MiB header", GetUser, write(big_header), Transport),
        case(
            "malformed chunk size",
            GetUser,
            vec![
                Step::Write(raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n")),
                Step::Close,
            ],
            Transport,
        ),
        // Slow and endless answers.
        case("accepts and never answers", GetUser, vec![Step::Hang], Timeout),
        case(
            "headers then silence",
            GetUser,
            vec![Step::Write(raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\"")), Step::Hang],
            Timeout,
        ),
        case(
            "http/1.0 without a length, never closed",
            GetUser,
            vec![Step::Write(raw("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":1,")), Step::Hang],
            Timeout,
        ),
        case(
            "a body that never ends, trickling",
            GetUser,
            vec![Step::Trickle {
                head: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                piece: raw("[1,"),
                every: Duration::from_millis(100),
            }],
            Timeout,
        ),
        case(
            "an error body that never ends",
            GetUser,
            vec![Step::Trickle {
                head: raw("HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n"),
                piece: raw("<p>"),
                every: Duration::from_millis(100),
            }],
            Timeout,
        ),
        case(
            "slow headers",
            GetUser,
            vec![Step::Write(raw("HTTP/1.1 200 OK\r\n")), Step::Sleep(Duration::from_secs(5))],
            Timeout,
        ),
        // Tolerated: odd but valid answers.
        case(
            "http/1.0 without a length, closed",
            GetUser,
            vec![Step::Write(raw(&format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{USER}"))), Step::Close],
            Ok,
        ),
        case(
            "100 continue first",
            GetUser,
            write([raw("HTTP/1.1 100 Continue\r\n\r\n"), json(200, USER)].concat()),
            Ok,
        ),
        case(
            "chunked in one-byte chunks",
            GetUser,
            write({
                let mut out = raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for b in USER.bytes() {
                    out.extend_from_slice(b"1\r\n");
                    out.push(b);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            }),
            Ok,
        ),
        case("ping with a garbage body", Ping, json_200("<html>not json</html>"), Ok),
        case(
            "unknown fields and nulls",
            GetUser,
            json_200(r#"{"id":1,"uuid":"u","brandNew":{"x":[1,2]},"email":null,"locale":null}"#),
            Ok,
        ),
        case(
            "pin id beyond 2^32",
            CreatePin,
            write(json(201, r#"{"id":98765432109,"code":"ABCD","authToken":null}"#)),
            Ok,
        ),
    ];

    // Too large.
    let mut declared = Case {
        name: "50 MB declared, small limit",
        op: GetUser,
        script: vec![Step::Stream {
            head: raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"),
            total: 50 * 1024 * 1024,
            fill: b' ',
        }],
        max_size: Some(64 * 1024),
        expect: TooLarge(64 * 1024),
    };
    cases.push(declared);
    declared = Case {
        name: "endless chunked stream, small limit",
        op: GetFriends,
        script: vec![Step::Trickle {
            head: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            piece: vec![b' '; 16 * 1024],
            every: Duration::from_millis(1),
        }],
        max_size: Some(100_000),
        expect: TooLarge(100_000),
    };
    cases.push(declared);
    cases.push(Case {
        name: "error body larger than the limit still reports the status",
        op: GetUser,
        script: write(response(503, &[], "x".repeat(200_000))),
        max_size: Some(1_000),
        expect: Api(503, "xxxx"),
    });
    cases
}

fn client(url: &str, max_size: Option<u64>) -> PlexTv {
    client_timing_out_after(url, max_size, RELAXED_TIMEOUT)
}

fn client_timing_out_after(url: &str, max_size: Option<u64>, timeout: Duration) -> PlexTv {
    let mut builder = PlexTv::builder()
        .identity(plex_tv::ClientIdentity::new(
            "Hostile Test",
            "hostile-id".parse().unwrap(),
        ))
        .base_url(url)
        .token(TOKEN)
        .timeout(timeout)
        .connect_timeout(timeout)
        .retry(RetryPolicy::none());
    if let Some(size) = max_size {
        builder = builder.max_response_size(size);
    }
    builder.build().unwrap()
}

/// Checks one outcome; returns what is wrong, if anything.
fn check(expect: &Expect, outcome: &Result<(), Error>) -> Result<(), String> {
    let error = match (expect, outcome) {
        (Expect::Ok, Ok(())) => return Ok(()),
        (_, Ok(())) => return Err("succeeded".into()),
        (_, Err(error)) => error,
    };
    let good = match (expect, error) {
        (Expect::Decode(want), Error::Decode { path, .. }) => path == want,
        (Expect::DecodeUnder(want), Error::Decode { path, .. }) => {
            path.starts_with(want) && path.len() < 2_000
        }
        (
            Expect::Api(want, text),
            Error::Api {
                status,
                errors,
                body,
            },
        ) => {
            status.as_u16() == *want
                && errors.is_empty()
                && match body {
                    None => text.is_empty(),
                    Some(body) => {
                        !text.is_empty() && body.contains(text) && body.chars().count() <= 201
                    }
                }
        }
        (
            Expect::ApiCode(want, code),
            Error::Api {
                status,
                errors,
                body,
            },
        ) => {
            status.as_u16() == *want
                && errors.first().and_then(|e| e.code) == Some(*code)
                && body.is_none()
        }
        (Expect::Unauthorized, Error::Unauthorized { .. }) => true,
        (Expect::TwoFactor, Error::TwoFactorRequired { errors }) => !errors.is_empty(),
        (Expect::RateLimited(None), Error::RateLimited { retry_after: None }) => true,
        (
            Expect::RateLimited(Some((low, high))),
            Error::RateLimited {
                retry_after: Some(d),
            },
        ) => (*low..=*high).contains(&d.as_secs()),
        (Expect::Timeout, Error::Timeout) => true,
        (Expect::Transport, Error::Transport { .. }) => true,
        (Expect::TooLarge(want), Error::ResponseTooLarge { limit }) => limit == want,
        _ => false,
    };
    if !good {
        return Err(format!("expected {expect:?}"));
    }
    // Every error explains itself without the token.
    let (shown, debug) = (error.to_string(), format!("{error:?}"));
    if shown.contains(TOKEN) || debug.contains(TOKEN) {
        return Err("the token leaked".into());
    }
    if let Error::Decode {
        path,
        message,
        body_start,
    } = error
    {
        if !path.starts_with('$') || message.is_empty() || body_start.is_empty() {
            return Err("a decode error without path, message or body start".into());
        }
        if !shown.contains(path.as_str()) || !shown.contains(body_start.as_str()) {
            return Err("the message does not name the path and body start".into());
        }
        if body_start.chars().count() > 201 {
            return Err("the body start is not bounded".into());
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_plex_tv_gets_typed_errors() {
    let cases = table();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    let started = Instant::now();
    // Eight cases at a time: fast, and still well within every bound.
    for chunk in cases.chunks(8) {
        let runs = chunk.iter().map(|case| async move {
            let server = RawServer::always(case.script.clone()).await;
            let timeout = match case.expect {
                Expect::Timeout => TIMEOUT,
                _ => RELAXED_TIMEOUT,
            };
            let client = client_timing_out_after(&server.url(), case.max_size, timeout);
            let started = Instant::now();
            let outcome = tokio::time::timeout(CASE_BOUND, call(&client, case.op)).await;
            let elapsed = started.elapsed();
            // Shown when the test fails (or with --nocapture).
            let summary: String = format!("{outcome:?}").chars().take(300).collect();
            println!("{:<55} {:>6} ms  {summary}", case.name, elapsed.as_millis());
            let verdict = match &outcome {
                Err(_) => Err(format!("hung past {CASE_BOUND:?}")),
                Ok(outcome) => check(&case.expect, outcome),
            };
            // Whatever the server does, the client gives up near its timeout.
            let verdict = verdict.and_then(|()| {
                if elapsed > timeout + SLACK {
                    Err(format!("took {elapsed:?}"))
                } else {
                    Ok(())
                }
            });
            verdict.map_err(|why| {
                let got: String = format!("{outcome:?}").chars().take(600).collect();
                format!("{}: {why}; got {got}", case.name)
            })
        });
        for verdict in futures_util::future::join_all(runs).await {
            if let Err(failure) = verdict {
                failures.push(failure);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(started.elapsed() < Duration::from_secs(40));
}

#[tokio::test]
async fn decode_errors_name_the_path_and_quote_a_redacted_body_start() {
    let body = format!(r#"{{"authToken":"{TOKEN}","id":"not-a-number","uuid":"u"}}"#);
    let server = RawServer::always(json_200(body)).await;
    let error = call(&client(&server.url(), None), Op::GetUser)
        .await
        .unwrap_err();
    let Error::Decode {
        path,
        message,
        body_start,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(path, "$.id");
    assert!(message.contains("expected i64"), "{message}");
    assert!(
        body_start.starts_with(r#"{"authToken":"<redacted>""#),
        "{body_start}"
    );
    assert!(body_start.contains("not-a-number"));
    let shown = error.to_string();
    assert!(
        shown.contains("$.id") && shown.contains("<redacted>"),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN) && !format!("{error:?}").contains(TOKEN));

    // A token-shaped value where another type is expected is not quoted.
    let body = format!(r#"{{"id":1,"uuid":"u","services":[{{"token":["{TOKEN}"]}}]}}"#);
    let server = RawServer::always(json_200(body)).await;
    let error = call(&client(&server.url(), None), Op::GetUser)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Decode { path, .. } if path == "$.services[0].token"),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains(TOKEN), "{error:?}");
}

#[tokio::test]
async fn api_errors_quote_html_bodies_without_the_token() {
    let page = format!(
        "<html><body><h1>502 Bad Gateway</h1><a href=\"https://plex.tv/x?X-Plex-Token={TOKEN}\">again</a> {TOKEN}</body></html>"
    );
    let server =
        RawServer::always(write(response(502, &[("Content-Type", "text/html")], page))).await;
    let error = call(&client(&server.url(), None), Op::GetUser)
        .await
        .unwrap_err();
    match &error {
        Error::Api { status, body, .. } => {
            assert_eq!(status.as_u16(), 502);
            let body = body.as_deref().unwrap();
            assert!(
                body.starts_with("<html><body><h1>502 Bad Gateway</h1>"),
                "{body}"
            );
            assert!(!body.contains(TOKEN), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("502 Bad Gateway"));
    assert!(error.is_transient());
}

/// A real 50 MB body, streamed: the client stops at its default 32 MiB limit
/// and hangs up, and the server notices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_50_mb_body_is_cut_off_at_the_default_limit() {
    for head in [
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n",
    ] {
        let server = RawServer::always(vec![Step::Stream {
            head: raw(head),
            total: 50 * 1024 * 1024,
            fill: b'[',
        }])
        .await;
        let client = PlexTv::builder()
            .identity(plex_tv::ClientIdentity::new(
                "Big",
                "big-id".parse().unwrap(),
            ))
            .base_url(server.url())
            .timeout(Duration::from_secs(20))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(25), call(&client, Op::GetUser))
            .await
            .expect("bounded");
        assert!(
            matches!(outcome, Err(Error::ResponseTooLarge { limit }) if limit == 32 * 1024 * 1024),
            "{outcome:?}"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while !server.client_hung_up() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(server.client_hung_up(), "the server kept streaming");
        assert!(
            server.streamed() < 50 * 1024 * 1024,
            "{}",
            server.streamed()
        );
    }
}

#[tokio::test]
async fn a_redirect_loop_stops_after_ten_hops() {
    let server = RawServer::always(write(response(302, &[("Location", "/api/v2/user")], ""))).await;
    let error = call(&client(&server.url(), None), Op::GetUser)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Api { status, .. } if status.as_u16() == 302),
        "{error:?}"
    );
    // The first request and ten redirects.
    assert_eq!(server.hits(), 11);
    for request in server.requests() {
        assert_eq!(request.header("X-Plex-Token").as_deref(), Some(TOKEN));
    }
}

#[tokio::test]
async fn a_lying_server_does_not_break_the_next_request() {
    // The first answer declares fewer bytes than it sends; the extra bytes
    // must not be read as the next response.
    let server = RawServer::start(|_, index| match index {
        0 => vec![Step::Write(raw(
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n{\"id\":1,\"uuid\":\"u\"}HTTP/1.1 200 OK\r\n\r\n",
        ))],
        _ => json_200(USER),
    })
    .await;
    let client = client(&server.url(), None);
    assert!(matches!(
        call(&client, Op::GetUser).await,
        Err(Error::Decode { .. })
    ));
    let second = tokio::time::timeout(CASE_BOUND, call(&client, Op::GetUser))
        .await
        .expect("bounded");
    // Either a clean answer on a new connection, or a typed error.
    assert!(
        matches!(
            second,
            Ok(()) | Err(Error::Transport { .. } | Error::Decode { .. })
        ),
        "{second:?}"
    );
}
