//! Many users on one client: the shared rate limit, the shared pause after
//! a 429, and both within each request's timeout. Against the fake plex.tv
//! (and one delaying mock), on loopback; timing bounds are generous.

mod support;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use plex_tv::{
    pin::MIN_POLL_INTERVAL,
    testing::{FakePlexTv, RecordedRequest},
    ClientIdentifier, ClientIdentity, Error, PlexTv, PlexTvBuilder, RateLimit, RetryPolicy,
};

fn builder(fake: &FakePlexTv) -> PlexTvBuilder {
    PlexTv::builder()
        .identity(ClientIdentity::new(
            "Service",
            ClientIdentifier::new_random(),
        ))
        .base_url(fake.base_url())
}

async fn get_user(client: PlexTv) -> Result<(), Error> {
    client
        .get_user()
        .send()
        .await
        .map(drop)
        .map_err(Error::from)
}

/// Waits (a few seconds at most) until the client reports a pause.
async fn until_paused(client: &PlexTv) -> Instant {
    let start = Instant::now();
    loop {
        if let Some(until) = client.rate_limited_until() {
            return until;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no pause");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The 429s that came while an earlier 429's pause was still on: each is a
/// request that did not wait with the others.
fn unpaused_429s(requests: &[RecordedRequest], pause: Duration) -> usize {
    // Requests already on the wire when the first 429 came back.
    let slack = Duration::from_millis(100);
    let mut pause_ends: Option<Instant> = None;
    let mut extra = 0;
    for request in requests.iter().filter(|r| r.status == 429) {
        match pause_ends {
            Some(end) if request.at + slack < end => extra += 1,
            _ => pause_ends = Some(request.at + pause),
        }
    }
    extra
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_requests_from_a_hundred_clones_stay_within_the_limit() {
    // plex.tv's ~10 per second and a client limit below it, both scaled up
    // five-fold to keep the test short.
    let fake = FakePlexTv::start().await;
    fake.limit_per_second(Some(50), Some(1));
    let client = builder(&fake)
        .rate_limit("plex.tv", RateLimit::per_second(40).burst(10))
        .build()
        .unwrap();
    let users: Vec<PlexTv> = (0..100).map(|_| client.with_token(fake.token())).collect();
    let started = Instant::now();
    let calls = users
        .iter()
        .flat_map(|user| std::iter::repeat_n(user, 5))
        .map(|user| tokio::spawn(get_user(user.clone())));
    let results = join_all(calls).await;
    let elapsed = started.elapsed();

    let errors: Vec<_> = results
        .into_iter()
        .filter_map(|r| r.unwrap().err())
        .collect();
    assert!(
        errors.is_empty(),
        "{} errors: {:?}",
        errors.len(),
        errors.first()
    );
    let requests = fake.requests();
    let answered = requests.iter().filter(|r| r.status == 200).count();
    assert_eq!(answered, 500);
    assert_eq!(unpaused_429s(&requests, Duration::from_secs(1)), 0);
    // 10 at once, then 40 a second: the limit held them back.
    assert!(elapsed >= Duration::from_secs(12), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_limit_concurrent_requests_meet_a_429_storm() {
    // What the test above would see if the client did not keep to its
    // limit: requests already on their way when the first 429 comes back
    // cannot pause, and the fake turns them away together.
    let fake = FakePlexTv::start().await;
    fake.limit_per_second(Some(50), Some(1));
    let client = builder(&fake).retry(RetryPolicy::none()).build().unwrap();
    let calls = (0..100).map(|_| tokio::spawn(get_user(client.with_token(fake.token()))));
    let failed = join_all(calls)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(Err(Error::RateLimited { .. }))))
        .count();
    assert!(failed > 0);
    assert!(unpaused_429s(&fake.requests(), Duration::from_secs(1)) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_one_clone_pauses_the_others() {
    let fake = FakePlexTv::start().await;
    fake.rate_limit(1, Some(2)); // the next PIN request: 429, Retry-After: 2
    let client = builder(&fake).build().unwrap();
    let alice = client.without_token();
    let bob = client.with_token(fake.token());

    let pin = tokio::spawn(async move { alice.pin_login().start().await.map(|pin| pin.id()) });
    let until = until_paused(&bob).await;
    assert!(until > Instant::now() + Duration::from_secs(1));
    get_user(bob).await.unwrap();
    pin.await.unwrap().unwrap();

    let requests = fake.requests();
    let limited = requests.iter().find(|r| r.status == 429).unwrap().at;
    let user = requests
        .iter()
        .find(|r| r.path == "/api/v2/user")
        .unwrap()
        .at;
    let retried_pin = requests.iter().rfind(|r| r.path == "/api/v2/pins").unwrap();
    assert_eq!(retried_pin.status, 201);
    for later in [user, retried_pin.at] {
        let gap = later.duration_since(limited);
        assert!(gap >= Duration::from_millis(1900), "{gap:?}");
    }
    assert!(client.rate_limited_until().is_none(), "the pause is over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_retry_after_cannot_stall_the_client_beyond_max_elapsed() {
    let fake = FakePlexTv::start().await;
    fake.rate_limit(1, Some(u64::from(u32::MAX)));
    let bound = Duration::from_secs(1);
    let client = builder(&fake)
        .retry(RetryPolicy::default().max_elapsed(bound))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.pin_login().start().await.unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    let until = client.rate_limited_until().expect("a pause");
    assert!(until <= Instant::now() + bound, "bounded by max_elapsed");

    get_user(client.with_token(fake.token())).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_longer_than_the_timeout_fails_at_once_without_sending() {
    let fake = FakePlexTv::start().await;
    fake.rate_limit(1, Some(30));
    let client = builder(&fake)
        .timeout(Duration::from_secs(2))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(client.pin_login().start().await.is_err());
    let started = Instant::now();
    let error = get_user(client.with_token(fake.token())).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    match error {
        Error::RateLimited {
            retry_after: Some(wait),
        } => assert!(wait > Duration::from_secs(25), "{wait:?}"),
        other => panic!("{other:?}"),
    }
    assert!(fake.requests().iter().all(|r| r.path != "/api/v2/user"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permit_due_after_the_timeout_fails_at_once_without_sending() {
    let fake = FakePlexTv::start().await;
    let timeout = Duration::from_millis(500);
    let client = builder(&fake)
        .rate_limit("plex.tv", RateLimit::per_second(1).burst(1))
        .timeout(timeout)
        .build()
        .unwrap();
    let calls = (0..5).map(|_| {
        let user = client.with_token(fake.token());
        tokio::spawn(async move {
            let started = Instant::now();
            (get_user(user).await, started.elapsed())
        })
    });
    let results: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results.iter().filter(|(r, _)| r.is_ok()).count(), 1);
    for (result, elapsed) in &results {
        if let Err(error) = result {
            assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
        }
        // The next permit is a second away: nobody waited for it.
        assert!(*elapsed < Duration::from_millis(900), "{elapsed:?}");
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_permit_counts_against_the_timeout() {
    // A server that takes a second to answer; permits a second apart; a
    // timeout of 1.5 s. The second request waits a second for its permit,
    // then has half a second left: it times out, at about 1.5 s.
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/v2/user");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"id":1,"uuid":"u-1","username":"alice"}"#)
                .delay(Duration::from_secs(1));
        })
        .await;
    let client = PlexTv::builder()
        .identity(ClientIdentity::new(
            "Service",
            ClientIdentifier::new_random(),
        ))
        .base_url(server.base_url())
        .token("t")
        .rate_limit("plex.tv", RateLimit::per_second(1).burst(1))
        .timeout(Duration::from_millis(1500))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let first = tokio::spawn(get_user(client.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = tokio::spawn(get_user(client.clone()));
    first.await.unwrap().unwrap();
    let error = second.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::Timeout), "{error:?}");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1950), "{elapsed:?}");
}

#[tokio::test]
async fn pin_polls_keep_to_the_limit() {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(4);
    let client = builder(&fake)
        .rate_limit("plex.tv", RateLimit::per_second(1).burst(1))
        .build()
        .unwrap();
    let pin = client
        .pin_login()
        .poll_interval(MIN_POLL_INTERVAL)
        .start()
        .await
        .unwrap();
    pin.wait().await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 5, "one create, four polls");
    for pair in requests.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        // Polls every 500 ms, permits every second.
        assert!(gap >= Duration::from_millis(900), "{gap:?}");
    }
}

#[tokio::test]
async fn waits_and_pauses_are_traced_without_the_token() {
    let (logs, _guard) = support::capture_traces();
    let fake = FakePlexTv::start().await;
    let secret = "tok-SECRET-rate-limit-0123456789";
    fake.set_token(secret);
    let client = builder(&fake)
        .rate_limit("plex.tv", RateLimit::per_second(10).burst(1))
        .retry(RetryPolicy::none())
        .token(secret)
        .build()
        .unwrap();
    get_user(client.clone()).await.unwrap();
    get_user(client.clone()).await.unwrap(); // waits ~100 ms for a permit
    fake.limit_per_second(Some(0), Some(1)); // every request: 429
    let error = get_user(client.clone()).await.unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    let text = logs.text();
    assert!(text.contains("waited for the rate limit"), "{text}");
    assert!(text.contains("pausing every request"), "{text}");
    assert!(text.contains("host=\"plex.tv\""), "{text}");
    assert!(!text.contains(secret), "{text}");
}
