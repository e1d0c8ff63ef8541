//! Case 4: the PIN flow against `plex_tv::testing::FakePlexTv`.
//!
//! * Detection: PINs are approved at different points of the poll cycle;
//!   the time from `approve()` on the server to `wait()` returning must stay
//!   within one poll interval plus one round trip.
//! * Polling rate: a PIN nobody approves is waited on for a while, and the
//!   polls it receives are scaled to requests per minute.
//!
//! The trials run concurrently (each has its own PIN), so the whole case
//! takes about as long as the polling-rate window.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use plex_tv::{testing::FakePlexTv, PlexTv};

use super::{identity, print_ratio, Target};

/// Where in the poll cycle each trial approves, as a fraction of the
/// interval after the first poll was due.
const PHASES: [f64; 6] = [0.02, 0.2, 0.4, 0.6, 0.8, 0.98];

pub fn run(quick: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("PIN runtime");
    runtime.block_on(measure(quick));
}

async fn measure(quick: bool) {
    let fake = FakePlexTv::start().await;
    let client = PlexTv::builder()
        .identity(identity())
        .base_url(fake.base_url())
        .build()
        .expect("the SDK client builds");
    // The default interval (1 s), set explicitly so that the bounds below hold.
    let interval = Duration::from_secs(1);
    let rtt = round_trip(&client).await;
    let phases: &[f64] = if quick { &PHASES[..1] } else { &PHASES };
    let window = if quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(12)
    };

    let trials = join_all(
        phases
            .iter()
            .map(|&phase| detect(&client, &fake, interval, phase)),
    );
    let (latencies, rate) = tokio::join!(trials, polling_rate(&client, &fake, interval, window));

    let bound = interval + rtt;
    println!(
        "pin_flow: poll interval {interval:?}, round trip {rtt:?}, bound {bound:?}; \
         approval-to-wait() per phase:"
    );
    for (phase, latency) in phases.iter().zip(&latencies) {
        println!("  approved {phase:.2} of an interval after a poll was due: {latency:?}");
    }
    let worst = latencies.iter().max().copied().unwrap_or_default();
    let mean = latencies.iter().sum::<Duration>() / latencies.len().max(1) as u32;
    println!("pin_flow: worst {worst:?}, mean {mean:?}");
    print_ratio(
        "pin_flow worst detection / (poll interval + round trip)",
        worst.as_secs_f64() / bound.as_secs_f64(),
        Target::AtMost(1.0),
    );
    let expected = 60.0 / interval.as_secs_f64();
    println!(
        "pin_flow: {rate:.1} requests per minute of waiting ({expected:.0} expected at one poll per {interval:?})"
    );
    print_ratio(
        "pin_flow requests per minute / (60 s / poll interval)",
        rate / expected,
        Target::AtMost(1.0),
    );
}

/// The median time of one poll (`GET /api/v2/pins/{id}`) on the fake.
async fn round_trip(client: &PlexTv) -> Duration {
    let pin = client.pin_login().start().await.expect("a PIN");
    let mut times = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        client
            .get_pin()
            .pin_id(pin.id())
            .send()
            .await
            .expect("a poll");
        times.push(start.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// One sign-in approved `phase` of an interval after the first poll was
/// due; returns the time from approval to `wait()` returning.
async fn detect(client: &PlexTv, fake: &FakePlexTv, interval: Duration, phase: f64) -> Duration {
    let pending = client
        .pin_login()
        .poll_interval(interval)
        .start()
        .await
        .expect("a PIN");
    let started = Instant::now();
    let id = pending.id();
    let waiter = tokio::spawn(async move {
        let outcome = pending.wait().await;
        (outcome, Instant::now())
    });
    tokio::time::sleep_until((started + interval + interval.mul_f64(phase)).into()).await;
    let approved = Instant::now();
    fake.approve(id);
    let (outcome, done) = waiter.await.expect("the waiting task");
    let signed_in = outcome.expect("the sign-in succeeds");
    assert!(signed_in.token().is_some());
    done - approved
}

/// Waits on a PIN nobody approves for `window`; returns polls per minute.
async fn polling_rate(
    client: &PlexTv,
    fake: &FakePlexTv,
    interval: Duration,
    window: Duration,
) -> f64 {
    let pending = client
        .pin_login()
        .poll_interval(interval)
        .start()
        .await
        .expect("a PIN");
    let id = pending.id();
    let before = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/pins/{id}")))
        .count();
    let waited = tokio::time::timeout(window, pending.wait()).await;
    assert!(waited.is_err(), "nobody approved this PIN");
    let polls = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/pins/{id}")))
        .count()
        - before;
    assert_eq!(polls as u32, fake.polls(id));
    polls as f64 * 60.0 / window.as_secs_f64()
}
