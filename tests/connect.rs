//! `PlexTv::connect`: candidates in preference order, probed at once, the
//! best reachable one returned within its bounds. Loopback "servers" that
//! answer late, hang, refuse or fail the TLS handshake.

mod support;

use std::time::{Duration, Instant};

use plex_tv::{
    connect::{connection_candidates, Location, ProbeOutcome},
    types::Resource,
    ClientIdentifier, ClientIdentity, Error, PlexTv,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::{closed_port, json as json_response, RawServer, Step};

const MACHINE: &str = "0123456789abcdef0123456789abcdef01234567";
const SERVER_TOKEN: &str = "server-token-0123";

fn client() -> PlexTv {
    PlexTv::builder()
        .identity(ClientIdentity::new(
            "Connect Test",
            "connect-test-1".parse().unwrap(),
        ))
        .token("account-token")
        .build()
        .unwrap()
}

fn identity_body() -> String {
    json!({"MediaContainer": {"machineIdentifier": MACHINE}}).to_string()
}

/// A server that answers `/identity` after `delay`.
async fn answering_after(delay: Duration) -> RawServer {
    RawServer::start(move |_, _| {
        vec![
            Step::Sleep(delay),
            Step::Write(json_response(200, identity_body())),
        ]
    })
    .await
}

fn connection(url: &str, local: bool) -> Value {
    let parsed = reqwest::Url::parse(url).unwrap();
    json!({
        "protocol": parsed.scheme(), "address": parsed.host_str(), "port": parsed.port(),
        "uri": url, "local": local, "relay": false, "IPv6": false
    })
}

/// An owned resource whose connections are `urls`, best first (all local,
/// so that their order is plex.tv's), https only when `https_required`.
fn resource(connections: Vec<Value>) -> Resource {
    serde_json::from_value(json!({
        "name": "Box", "clientIdentifier": MACHINE, "provides": "server", "owned": true,
        "httpsRequired": false, "accessToken": SERVER_TOKEN, "connections": connections
    }))
    .unwrap()
}

#[tokio::test]
async fn a_worse_candidate_answering_first_does_not_win() {
    let best = answering_after(Duration::from_millis(700)).await;
    let worse = answering_after(Duration::ZERO).await;
    let resource = resource(vec![
        connection(&best.url(), true),
        connection(&worse.url(), true),
    ]);
    let started = Instant::now();
    let server = client().connect_to(&resource).send().await.unwrap();
    assert_eq!(server.url.as_str(), best.url());
    assert!(started.elapsed() >= Duration::from_millis(650));
    assert_eq!(server.token.unwrap().expose_secret(), SERVER_TOKEN);
    assert_eq!(server.attempts[0].outcome, ProbeOutcome::Reached);
}

#[tokio::test]
async fn a_hanging_better_candidate_is_given_up_after_the_probe_timeout() {
    let hanging = RawServer::start(|_, _| vec![Step::Hang]).await;
    let worse = answering_after(Duration::ZERO).await;
    let resource = resource(vec![
        connection(&hanging.url(), true),
        connection(&worse.url(), true),
    ]);
    let started = Instant::now();
    let server = client()
        .connect_to(&resource)
        .probe_timeout(Duration::from_millis(800))
        .send()
        .await
        .unwrap();
    assert_eq!(server.url.as_str(), worse.url());
    assert_eq!(server.attempts[0].outcome, ProbeOutcome::TimedOut);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn the_whole_search_is_bounded_and_returns_the_best_known() {
    let hanging = RawServer::start(|_, _| vec![Step::Hang]).await;
    let worse = answering_after(Duration::ZERO).await;
    let resource = resource(vec![
        connection(&hanging.url(), true),
        connection(&worse.url(), true),
    ]);
    let started = Instant::now();
    let server = client()
        .connect_to(&resource)
        .probe_timeout(Duration::from_secs(30))
        .timeout(Duration::from_millis(800))
        .send()
        .await
        .unwrap();
    assert_eq!(server.url.as_str(), worse.url());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A port that answers every connection with plain HTTP bytes at once,
/// whatever the client sends: a TLS client fails its handshake.
async fn not_a_tls_server() -> std::net::SocketAddr {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    addr
}

#[tokio::test]
async fn refused_bad_tls_wrong_server_and_errors_are_told_apart() {
    let refused = closed_port().await;
    // Plain bytes where a TLS server should answer.
    let not_tls = not_a_tls_server().await;
    let other = RawServer::start(|_, _| {
        vec![Step::Write(json_response(
            200,
            json!({"MediaContainer": {"machineIdentifier": "another"}}).to_string(),
        ))]
    })
    .await;
    let failing = RawServer::start(|_, _| vec![Step::Write(json_response(401, "{}"))]).await;
    let tls_url = format!("https://{not_tls}");
    let resource = resource(vec![
        connection(&format!("http://{refused}"), true),
        json!({"protocol": "https", "uri": tls_url, "local": true}),
        connection(&other.url(), true),
        connection(&failing.url(), true),
    ]);
    let started = Instant::now();
    let error = client()
        .connect_to(&resource)
        .probe_timeout(Duration::from_secs(3))
        .send()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(6));
    let Error::ServerUnreachable { attempts } = &error else {
        panic!("{error:?}");
    };
    let outcomes: Vec<(&str, &ProbeOutcome)> = attempts
        .iter()
        .map(|a| (a.candidate.url.as_str(), &a.outcome))
        .collect();
    // https first (local, in plex.tv's order), then http.
    assert_eq!(outcomes[0].1, &ProbeOutcome::Tls, "{outcomes:?}");
    assert_eq!(outcomes[1].1, &ProbeOutcome::Refused, "{outcomes:?}");
    assert_eq!(outcomes[2].1, &ProbeOutcome::WrongServer, "{outcomes:?}");
    assert_eq!(outcomes[3].1, &ProbeOutcome::Status(401), "{outcomes:?}");
    let shown = error.to_string();
    assert!(
        shown.contains("refused") && !shown.contains(SERVER_TOKEN),
        "{shown}"
    );
}

#[tokio::test]
async fn a_server_that_never_stops_sending_is_bounded() {
    // An endless body: the probe reads a bounded start of it and decides.
    let endless = RawServer::start(|_, _| {
        vec![Step::Trickle {
            head: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n".to_vec(),
            piece: vec![b' '; 16 * 1024],
            every: Duration::from_millis(1),
        }]
    })
    .await;
    let resource = resource(vec![connection(&endless.url(), true)]);
    let started = Instant::now();
    let server = client()
        .connect_to(&resource)
        .probe_timeout(Duration::from_secs(3))
        .send()
        .await
        .unwrap();
    // No machine identifier in a body of spaces: taken as it is.
    assert_eq!(server.url, endless.url());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn probes_carry_the_identity_and_the_server_token_and_follow_no_redirect() {
    let server = RawServer::start(|request, _| {
        if request.path() == "/identity" {
            vec![Step::Write(support::response(
                302,
                &[("Location", "http://127.0.0.2:9/steal")],
                "",
            ))]
        } else {
            vec![Step::Write(json_response(200, identity_body()))]
        }
    })
    .await;
    let resource = resource(vec![connection(&server.url(), true)]);
    let error = client().connect_to(&resource).send().await.unwrap_err();
    let Error::ServerUnreachable { attempts } = error else {
        panic!("expected unreachable");
    };
    assert_eq!(attempts[0].outcome, ProbeOutcome::Status(302));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "the redirect is not followed");
    let probe = &requests[0];
    assert_eq!(probe.path(), "/identity");
    assert_eq!(probe.header("X-Plex-Token").as_deref(), Some(SERVER_TOKEN));
    assert_eq!(
        probe.header("X-Plex-Client-Identifier").as_deref(),
        Some("connect-test-1")
    );
    assert_eq!(
        probe.header("X-Plex-Product").as_deref(),
        Some("Connect Test")
    );
}

#[tokio::test]
async fn connect_finds_the_server_among_the_resources() {
    let fake = plex_tv::testing::FakePlexTv::start().await;
    let media = fake.start_media_server(MACHINE).await;
    let client = PlexTv::builder()
        .identity(ClientIdentity::new("Test", ClientIdentifier::new_random()))
        .all_hosts_url(fake.base_url())
        .token(fake.token())
        .build()
        .unwrap();
    let server = client.connect(MACHINE).await.unwrap();
    assert_eq!(server.url.as_str(), media.url());
    assert!(matches!(
        client.connect("no-such-server").await,
        Err(Error::NoServerAccess { machine_identifier }) if machine_identifier == "no-such-server"
    ));
}

// ------------------------------------------------ preference order

fn arbitrary_connection() -> impl Strategy<Value = Value> {
    (any::<bool>(), any::<bool>(), any::<bool>(), 0u8..4, 1u16..4).prop_map(
        |(https, local, relay, host, port)| {
            let address = format!("10.0.0.{host}");
            let uri = if https {
                format!("https://10-0-0-{host}.abcdef.plex.direct:{port}")
            } else {
                format!("http://{address}:{port}")
            };
            json!({
                "protocol": if https { "https" } else { "http" }, "address": address,
                "port": port, "uri": uri, "local": local, "relay": relay
            })
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Local before remote before relay, https before http within each;
    /// plex.tv's order within a group; no local candidate for a server the
    /// caller does not own; no http when https is required; every https
    /// URL a connection's own `uri`; no URL twice.
    #[test]
    fn candidates_follow_the_preference_order(
        connections in proptest::collection::vec(arbitrary_connection(), 0..8),
        owned in any::<bool>(),
        https_required in any::<bool>(),
    ) {
        let resource: Resource = serde_json::from_value(json!({
            "name": "Box", "clientIdentifier": "m", "owned": owned,
            "httpsRequired": https_required, "connections": connections.clone()
        })).unwrap();
        let candidates = connection_candidates(&resource);
        let rank = |c: &plex_tv::connect::Candidate| (c.location, !c.secure);
        prop_assert!(candidates.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])));
        let uris: Vec<&str> = connections.iter().map(|c| c["uri"].as_str().unwrap()).collect();
        for (i, candidate) in candidates.iter().enumerate() {
            prop_assert!(owned || candidate.location != Location::Local);
            prop_assert!(!https_required || candidate.secure);
            prop_assert_eq!(candidate.secure, candidate.url.scheme() == "https");
            if candidate.secure {
                prop_assert!(uris.contains(&candidate.url.as_str().trim_end_matches('/')));
            }
            prop_assert!(!candidates[..i].iter().any(|c| c.url == candidate.url));
        }
        // Nothing usable is left out.
        let usable = connections.iter().filter(|c| owned || c["local"] != true).count();
        if usable > 0 && !https_required {
            prop_assert!(!candidates.is_empty());
        }
    }
}
