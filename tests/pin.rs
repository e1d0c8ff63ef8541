//! PIN sign-in against the fake plex.tv.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use plex_tv::{
    pin::{PendingPin, PinEvent, MIN_POLL_INTERVAL},
    testing::FakePlexTv,
    ClientIdentifier, ClientIdentity, Error, PlexTv,
};

const INTERVAL: Duration = MIN_POLL_INTERVAL;

fn client(fake: &FakePlexTv, identity: ClientIdentity) -> PlexTv {
    PlexTv::builder()
        .identity(identity)
        .base_url(fake.base_url())
        .build()
        .unwrap()
}

fn identity() -> ClientIdentity {
    ClientIdentity::new("PIN Test", ClientIdentifier::new_random()).version("1.0")
}

/// A strong PIN from the fake, polled at the fastest interval allowed.
async fn pending_pin(fake: &FakePlexTv) -> PendingPin {
    client(fake, identity())
        .pin_login()
        .poll_interval(INTERVAL)
        .start()
        .await
        .unwrap()
}

fn pin_polls(fake: &FakePlexTv) -> Vec<plex_tv::testing::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v2/pins/"))
        .collect()
}

#[tokio::test]
async fn approval_after_polls_signs_in_with_the_same_identifier() {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(3);
    let identity = identity();
    let id = identity.client_identifier().clone();
    let pin = client(&fake, identity)
        .pin_login()
        .poll_interval(INTERVAL)
        .start()
        .await
        .unwrap();
    assert_eq!(pin.code().len(), 25, "strong PINs are long");
    let signed_in = pin.wait().await.unwrap();

    assert_eq!(
        signed_in.token().unwrap().expose_secret(),
        fake.token().expose_secret()
    );
    let me = signed_in.get_user().send().await.unwrap();
    assert_eq!(me.username.as_deref(), Some("fake-user"));

    let requests = fake.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.client_identifier.as_deref() == Some(id.as_str())),
        "{requests:?}"
    );
    assert_eq!(pin_polls(&fake).len(), 3);
    assert!(!requests[0].had_token && requests.last().unwrap().had_token);
}

#[tokio::test]
async fn link_codes_are_four_characters_with_link_and_qr_urls() {
    let fake = FakePlexTv::start().await;
    let pin = client(&fake, identity())
        .pin_login()
        .link_code()
        .start()
        .await
        .unwrap();
    assert_eq!(pin.code().len(), 4);
    assert_eq!(pin.link_url().as_str(), "https://plex.tv/link");
    assert!(pin.qr_url().unwrap().as_str().ends_with(pin.code()));
    assert!(pin.expires_at().is_some());
    assert!(pin.time_left().unwrap() <= Duration::from_secs(900));
}

#[tokio::test]
async fn expiry_by_the_clock_sends_nothing_after_expires_at() {
    let fake = FakePlexTv::start().await;
    fake.pin_lifetime(Duration::from_secs(2));
    let started = Instant::now();
    let pin = pending_pin(&fake).await;
    let result = pin.wait().await;
    assert!(matches!(result, Err(Error::PinExpired)), "{result:?}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let expiry = fake.requests()[0].at + Duration::from_secs(2);
    assert!(
        fake.requests().iter().all(|r| r.at < expiry),
        "a request was sent after expiry"
    );
    // Nothing is sent after wait() returned either.
    let count = fake.requests().len();
    tokio::time::sleep(INTERVAL * 2).await;
    assert_eq!(fake.requests().len(), count);
}

#[tokio::test]
async fn a_404_ends_as_expired() {
    let fake = FakePlexTv::start().await;
    let pin = pending_pin(&fake).await;
    fake.expire(pin.id());
    assert!(matches!(pin.wait().await, Err(Error::PinExpired)));
    assert_eq!(pin_polls(&fake).len(), 1);
}

#[tokio::test]
async fn rate_limits_are_honoured() {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(1);
    let pin = pending_pin(&fake).await;
    fake.rate_limit(1, Some(2));
    let signed_in = pin.wait().await.unwrap();
    assert!(signed_in.token().is_some());
    let polls = pin_polls(&fake);
    assert_eq!(polls.len(), 2);
    let gap = polls[1].at - polls[0].at;
    assert!(
        gap >= Duration::from_secs(2),
        "waited only {gap:?} after Retry-After: 2"
    );
}

#[tokio::test]
async fn transient_failures_are_ridden_out() {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(1);
    let pin = pending_pin(&fake).await;
    fake.fail_polls(2, 500);
    let events: Vec<PinEvent> = pin.events().collect().await;
    let retries = events
        .iter()
        .filter(|e| matches!(e, PinEvent::Retrying { .. }))
        .count();
    assert_eq!(retries, 2, "{events:?}");
    assert!(
        matches!(events.last(), Some(PinEvent::Authorized(_))),
        "{events:?}"
    );
}

#[tokio::test]
async fn dropping_the_future_stops_polling() {
    let fake = FakePlexTv::start().await;
    let pin = pending_pin(&fake).await;
    let waited = tokio::time::timeout(INTERVAL * 3 + INTERVAL / 2, pin.wait()).await;
    assert!(waited.is_err(), "the PIN was never approved");
    let count = fake.requests().len();
    tokio::time::sleep(INTERVAL * 4).await;
    assert_eq!(
        fake.requests().len(),
        count,
        "requests were sent after the future was dropped"
    );
}

#[tokio::test]
async fn poll_count_follows_the_interval() {
    let fake = FakePlexTv::start().await;
    let pin = pending_pin(&fake).await;
    let started = Instant::now();
    let _ = tokio::time::timeout(Duration::from_millis(2600), pin.wait()).await;
    let expected = started.elapsed().as_secs_f64() / INTERVAL.as_secs_f64();
    let polls = pin_polls(&fake).len() as f64;
    assert!(
        (polls - expected).abs() <= 1.0,
        "{polls} polls in {expected:.2} intervals"
    );
}

#[tokio::test]
async fn timeout_ends_with_timed_out() {
    let fake = FakePlexTv::start().await;
    let limit = Duration::from_millis(1200);
    let pin = client(&fake, identity())
        .pin_login()
        .poll_interval(INTERVAL)
        .timeout(limit)
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let result = pin.wait().await;
    assert!(
        matches!(result, Err(Error::PinTimedOut(d)) if d == limit),
        "{result:?}"
    );
    assert!(started.elapsed() < limit + INTERVAL);
}

#[tokio::test]
async fn cancel_handle_stops_the_sign_in() {
    let fake = FakePlexTv::start().await;
    let pin = pending_pin(&fake).await;
    let handle = pin.cancel_handle();
    let waiting = tokio::spawn(pin.wait());
    tokio::time::sleep(INTERVAL + INTERVAL / 2).await;
    handle.cancel();
    let result = tokio::time::timeout(Duration::from_secs(1), waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
}

#[tokio::test]
async fn events_report_the_same_outcome_as_wait() {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(2);
    let pin = pending_pin(&fake).await;
    let events: Vec<PinEvent> = pin.events().collect().await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(
        events[0],
        PinEvent::Waiting { time_left: Some(_) }
    ));
    assert!(events[1].is_final());

    fake.pin_lifetime(Duration::from_secs(1));
    let pin = pending_pin(&fake).await;
    let last = pin.events().collect::<Vec<_>>().await.pop().unwrap();
    assert!(matches!(last.into_outcome(), Some(Err(Error::PinExpired))));
}

#[tokio::test]
async fn rejected_polls_end_the_sign_in() {
    let fake = FakePlexTv::start().await;
    let pin = pending_pin(&fake).await;
    fake.fail_polls(1, 403);
    let result = pin.wait().await;
    assert!(
        matches!(result, Err(Error::Api { status, .. }) if status == 403),
        "{result:?}"
    );
}

#[tokio::test]
async fn approve_link_code_approves_a_code_from_another_device() {
    let fake = FakePlexTv::start().await;
    let tv = client(&fake, identity());
    let pin = tv
        .pin_login()
        .link_code()
        .poll_interval(INTERVAL)
        .start()
        .await
        .unwrap();

    let phone = client(&fake, identity()).with_token(fake.token());
    phone
        .approve_link_code(&pin.code().to_lowercase())
        .await
        .unwrap();
    let signed_in = pin.wait().await.unwrap();
    assert_eq!(signed_in.token(), Some(&fake.token()));

    assert!(matches!(
        phone.approve_link_code("no such!").await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        phone.without_token().approve_link_code("ABCD").await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(
        matches!(phone.approve_link_code("ZZZZ").await, Err(Error::Api { status, .. }) if status == 404)
    );
}

#[tokio::test]
async fn auth_url_round_trips_awkward_values() {
    let fake = FakePlexTv::start().await;
    // Header values stay ASCII here (the fake server cannot read others);
    // the unit tests of auth_url cover non-ASCII identity values.
    let awkward = "Tom & Jerry's #1 +plus=eq?q/slash%41";
    let identity = ClientIdentity::new(awkward, "id-42".parse().unwrap())
        .version("2.0 beta & more")
        .platform("Linux #x")
        .platform_version("6.1")
        .device("PC")
        .device_name("Living room");
    let forward = "https://example.com/dönë 📺?a=1&b=#frag";
    let pin = client(&fake, identity)
        .pin_login()
        .forward_url(forward)
        .start()
        .await
        .unwrap();
    let url = pin.auth_url();
    let text = url.as_str();
    assert!(text.starts_with("https://app.plex.tv/auth#?"), "{text}");
    let with_state = forward.replace("#frag", &format!("&state={}#frag", pin.callback_state()));
    let fragment = url.fragment().unwrap().strip_prefix('?').unwrap();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    let expected = vec![
        ("clientID", "id-42"),
        ("code", pin.code()),
        ("context[device][product]", awkward),
        ("context[device][deviceName]", "Living room"),
        ("context[device][version]", "2.0 beta & more"),
        ("context[device][platform]", "Linux #x"),
        ("context[device][platformVersion]", "6.1"),
        ("context[device][device]", "PC"),
        // The callback state goes into the forward URL's query.
        ("forwardUrl", &with_state),
    ];
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(pairs, expected);
    assert!(
        !fragment.contains(' ') && !fragment.contains('+') && fragment.matches('#').count() == 0
    );
}

/// Values from the network or the caller that overflow `Instant` arithmetic
/// end the sign-in normally instead of panicking.
#[tokio::test]
async fn absurd_durations_do_not_panic() {
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST).path("/api/v2/pins");
            then.status(201)
                .header("content-type", "application/json")
                .body(
                    r#"{"id": 7, "code": "abcd", "expiresIn": 9223372036854775807,
                    "expiresAt": "9999-12-31T23:59:59Z", "authToken": null}"#,
                );
        })
        .await;
    let polls = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET).path("/api/v2/pins/7");
            then.status(429)
                .header("content-type", "application/json")
                .header("retry-after", "18446744073709551615")
                .body(r#"{"errors":[{"code":1003,"message":"slow down"}]}"#);
        })
        .await;
    let client = PlexTv::builder()
        .identity(identity())
        .base_url(server.base_url())
        .build()
        .unwrap();

    let pin = client
        .pin_login()
        .poll_interval(Duration::MAX)
        .timeout(Duration::MAX)
        .start()
        .await
        .unwrap();
    assert!(
        pin.time_left().is_none(),
        "an unrepresentable expiry is no expiry"
    );
    drop(pin);

    let limit = Duration::from_millis(1500);
    let pin = client
        .pin_login()
        .poll_interval(INTERVAL)
        .timeout(limit)
        .start()
        .await
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), pin.wait())
        .await
        .expect("ends by its timeout");
    assert!(
        matches!(result, Err(Error::PinTimedOut(d)) if d == limit),
        "{result:?}"
    );
    assert_eq!(
        polls.calls_async().await,
        1,
        "the 429's Retry-After is honoured (capped, then the timeout)"
    );
}

#[tokio::test]
async fn approve_link_code_sends_the_code_as_plex_sso() {
    let server = httpmock::MockServer::start_async().await;
    let link = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::PUT)
                .path("/api/v2/pins/link")
                .header("x-plex-product", "Plex SSO")
                .header("x-plex-token", "phone-token")
                .body("code=AB12");
            then.status(204);
        })
        .await;
    let client = PlexTv::builder()
        .identity(identity())
        .base_url(server.base_url())
        .build()
        .unwrap();
    client
        .with_token("phone-token")
        .approve_link_code(" ab12 ")
        .await
        .unwrap();
    link.assert_async().await;
    // The client itself keeps its own product name.
    assert_eq!(client.identity().product(), "PIN Test");
}

// ------------------------------------------------ web sign-in: resume, check

mod web {
    use std::time::Duration;

    use plex_tv::{
        pin::{PinState, PinStatus},
        testing::FakePlexTv,
        ClientIdentifier, ClientIdentity, DeviceKey, Error, PlexTv,
    };

    fn client(fake: &FakePlexTv, id: &str) -> PlexTv {
        PlexTv::builder()
            .identity(ClientIdentity::new(
                "Web App",
                id.parse::<ClientIdentifier>().unwrap(),
            ))
            .all_hosts_url(fake.base_url())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_pin_survives_a_restart_through_its_state() {
        let fake = FakePlexTv::start().await;
        let first = client(&fake, "web-app-1");
        let pin = first
            .pin_login()
            .forward_url("https://app.example/callback")
            .start()
            .await
            .unwrap();
        let saved = serde_json::to_string(&pin.state()).unwrap();
        assert!(!saved.contains(fake.token().expose_secret()));
        drop(pin);
        // Another process, the same identity.
        let second = client(&fake, "web-app-1");
        let state: PinState = serde_json::from_str(&saved).unwrap();
        let resumed = second.resume_pin(&state).unwrap();
        assert_eq!(resumed.state(), state, "resuming keeps everything");
        assert!(matches!(
            resumed.check().await.unwrap(),
            PinStatus::Waiting { .. }
        ));
        fake.approve(state.id);
        let PinStatus::SignedIn(signed_in) = resumed.check().await.unwrap() else {
            panic!("approved");
        };
        assert_eq!(signed_in.token(), Some(&fake.token()));
        // The forward URL carries the state the app checks on return.
        assert!(resumed.auth_url().as_str().contains(&state.callback_state));
        assert!(state.verify_callback(&state.callback_state).is_ok());
        assert!(state.verify_callback("").is_err());
    }

    #[tokio::test]
    async fn resuming_an_expired_pin_sends_nothing() {
        let fake = FakePlexTv::start().await;
        let client = client(&fake, "web-app-2");
        let mut state = client.pin_login().start().await.unwrap().state();
        state.expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
        let before = fake.requests().len();
        assert!(matches!(client.resume_pin(&state), Err(Error::PinExpired)));
        assert_eq!(fake.requests().len(), before);

        // A PIN that expires while resumed: check says so, without a request.
        fake.pin_lifetime(Duration::from_secs(1));
        let state = client.pin_login().start().await.unwrap().state();
        let resumed = client.resume_pin(&state).unwrap();
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let before = fake.requests().len();
        assert!(matches!(resumed.check().await.unwrap(), PinStatus::Expired));
        assert_eq!(fake.requests().len(), before);
    }

    #[tokio::test]
    async fn a_state_resumes_only_where_it_belongs() {
        let fake = FakePlexTv::start().await;
        let key = DeviceKey::generate();
        let client = client(&fake, "web-app-3");
        let classic = client.pin_login().start().await.unwrap().state();
        let other = PlexTv::builder()
            .identity(ClientIdentity::new(
                "Web App",
                ClientIdentifier::new_random(),
            ))
            .all_hosts_url(fake.base_url())
            .build()
            .unwrap();
        assert!(matches!(
            other.resume_pin(&classic),
            Err(Error::InvalidInput { .. })
        ));

        let jwt = client
            .pin_login()
            .device_key(key.clone())
            .start()
            .await
            .unwrap()
            .state();
        assert_eq!(jwt.device_key_id.as_deref(), Some(key.key_id()));
        assert!(matches!(
            client.resume_pin(&jwt),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            client.resume_device_pin(&jwt, DeviceKey::generate()),
            Err(Error::InvalidInput { .. })
        ));
        let resumed = client.resume_device_pin(&jwt, key.clone()).unwrap();
        fake.approve(jwt.id);
        let PinStatus::SignedIn(signed_in) = resumed.check().await.unwrap() else {
            panic!("approved");
        };
        assert_eq!(signed_in.device_key(), Some(&key));
    }
}
