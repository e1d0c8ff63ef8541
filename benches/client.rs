//! The SDK against raw reqwest + serde_json, on a loopback server started
//! here that serves canned, realistic plex.tv bodies (issue 6).
//!
//! `cargo bench` runs, in order:
//! 1. `get_user`: one call, SDK vs raw reqwest + serde_json vs raw bytes:
//!    wall and CPU time per call;
//! 2. `throughput_64`: 64 concurrent `getUser` calls through one client;
//! 3. `decode` and `fetch`: 1,000 resources and 5,000 friends, decoded in
//!    memory and fetched over loopback, in MB/s;
//! 4. `pin_flow`: time from approval to `wait()` returning, polls per minute;
//! 5. `callgrind_get_user`: instructions per `getUser` call, if valgrind is
//!    installed (`PLEX_TV_BENCH_CALLGRIND=0` skips it).
//!
//! Each comparison ends with a `RATIO ...` line. The client runs on the
//! bench's main thread (a current-thread runtime) and the server on a thread
//! of its own, so CPU time and instruction counts are the client's alone.
//! BENCHMARKS.md has the figures and how to reproduce them.

#![recursion_limit = "256"]

mod support;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use futures_util::{future::join_all, FutureExt};
use plex_tv::{
    types::{ErrorResponse, Friend, Resource, User},
    PlexTv, ResponseValue,
};
use serde::de::DeserializeOwned;
use support::{
    print_ratio, raw_client, raw_get, raw_get_bytes, sdk_client, Args, Bodies, Recorder, Server,
    Target,
};
use tokio::runtime::Runtime;

/// Concurrent requests of the throughput bench.
const CONCURRENCY: usize = 64;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--callgrind-drive") {
        support::callgrind::drive(&args[at + 1..]);
        return;
    }
    let cli = Args::parse();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let bodies = Bodies::new();
    let server = Server::start(&bodies);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let report = !cli.test_mode && !cli.list;

    get_user(&mut criterion, &runtime, &server, report);
    throughput(&mut criterion, &runtime, &server, report);
    decode(&mut criterion, &bodies, report);
    fetch(&mut criterion, &runtime, &server, &bodies, report);
    criterion.final_summary();

    if cli.list {
        println!("pin_flow: custom");
        println!("callgrind_get_user: custom");
        return;
    }
    if cli.selects("pin_flow") {
        support::pin::run(cli.test_mode);
    }
    if cli.selects("callgrind_get_user") && !cli.test_mode {
        support::callgrind::report();
    }
}

/// Case 1: latency of one `getUser` call.
fn get_user(c: &mut Criterion, runtime: &Runtime, server: &Server, report: bool) {
    const SAMPLES: usize = 40;
    let base = server.base_url();
    let url = format!("{base}/api/v2/user");
    let sdk = sdk_client(&base);
    let raw = raw_client();
    // Both decode the same account, and the SDK's agrees with serde_json.
    let (via_sdk, via_raw) = runtime.block_on(async {
        let sdk = sdk
            .get_user()
            .send()
            .await
            .expect("SDK getUser")
            .into_inner();
        let raw: User = raw_get(&raw, &url).await;
        (sdk, raw)
    });
    assert_eq!(via_sdk, via_raw);
    let body_len = support::bodies::user().len();

    let (sdk_rec, raw_rec, bytes_rec) = (
        Recorder::default(),
        Recorder::default(),
        Recorder::default(),
    );
    let mut group = c.benchmark_group("get_user");
    group
        .sample_size(SAMPLES)
        .throughput(Throughput::Elements(1));
    group.bench_function("sdk", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (rec, sdk) = (&sdk_rec, &sdk);
            async move { rec.time(iters, move || sdk_get_user(sdk)).await }
        })
    });
    group.bench_function("raw_reqwest_serde", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (rec, raw, url) = (&raw_rec, &raw, url.as_str());
            async move { rec.time(iters, move || raw_get::<User>(raw, url)).await }
        })
    });
    group.bench_function("raw_reqwest_bytes", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (rec, raw, url) = (&bytes_rec, &raw, url.as_str());
            async move { rec.time(iters, move || raw_get_bytes(raw, url)).await }
        })
    });
    group.finish();

    if !report {
        return;
    }
    let (Some(sdk), Some(raw), bytes) = (
        sdk_rec.figures(SAMPLES),
        raw_rec.figures(SAMPLES),
        bytes_rec.figures(SAMPLES),
    ) else {
        return;
    };
    println!(
        "get_user per call ({} byte body): sdk {:?} wall / {:?} cpu; raw reqwest+serde {:?} wall / {:?} cpu{}",
        body_len,
        sdk.wall,
        sdk.cpu.unwrap_or_default(),
        raw.wall,
        raw.cpu.unwrap_or_default(),
        bytes.map_or(String::new(), |b| format!(
            "; raw bytes only {:?} wall / {:?} cpu",
            b.wall,
            b.cpu.unwrap_or_default()
        )),
    );
    print_ratio(
        "get_user latency (wall) sdk/raw",
        sdk.wall.as_secs_f64() / raw.wall.as_secs_f64(),
        Target::Info,
    );
    if let (Some(sdk_cpu), Some(raw_cpu)) = (sdk.cpu, raw.cpu) {
        print_ratio(
            "get_user cpu time sdk/raw",
            sdk_cpu.as_secs_f64() / raw_cpu.as_secs_f64(),
            Target::AtMost(1.05),
        );
    }
    if let Some(bytes) = bytes {
        print_ratio(
            "get_user latency (wall) sdk/raw_bytes",
            sdk.wall.as_secs_f64() / bytes.wall.as_secs_f64(),
            Target::Info,
        );
    }
}

async fn sdk_get_user(sdk: &PlexTv) -> User {
    sdk.get_user()
        .send()
        .await
        .expect("SDK getUser")
        .into_inner()
}

/// Case 2: 64 concurrent `getUser` calls through one client.
fn throughput(c: &mut Criterion, runtime: &Runtime, server: &Server, report: bool) {
    const SAMPLES: usize = 20;
    let base = server.base_url();
    let url = format!("{base}/api/v2/user");
    let sdk = sdk_client(&base);
    let raw = raw_client();
    let (sdk_rec, raw_rec) = (Recorder::default(), Recorder::default());

    let mut group = c.benchmark_group("throughput_64");
    group
        .sample_size(SAMPLES)
        .throughput(Throughput::Elements(CONCURRENCY as u64));
    group.bench_function("sdk", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (rec, sdk) = (&sdk_rec, &sdk);
            async move {
                rec.time(iters, move || {
                    join_all((0..CONCURRENCY).map(move |_| sdk_get_user(sdk)))
                })
                .await
            }
        })
    });
    group.bench_function("raw_reqwest_serde", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (rec, raw, url) = (&raw_rec, &raw, url.as_str());
            async move {
                rec.time(iters, move || {
                    join_all((0..CONCURRENCY).map(move |_| raw_get::<User>(raw, url)))
                })
                .await
            }
        })
    });
    group.finish();

    if let (true, Some(sdk), Some(raw)) =
        (report, sdk_rec.figures(SAMPLES), raw_rec.figures(SAMPLES))
    {
        let per_second = |f: support::Figures| CONCURRENCY as f64 / f.wall.as_secs_f64();
        println!(
            "throughput_64: sdk {:.0} req/s, raw {:.0} req/s",
            per_second(sdk),
            per_second(raw)
        );
        print_ratio(
            "throughput_64 sdk/raw (requests per second)",
            per_second(sdk) / per_second(raw),
            Target::AtLeast(0.95),
        );
    }
}

/// Case 3a: decoding large bodies in memory, the SDK's way (progenitor's
/// `ResponseValue::from_response`, as every generated `send()` does) vs
/// `serde_json::from_slice` into the same types.
fn decode(c: &mut Criterion, bodies: &Bodies, report: bool) {
    const SAMPLES: usize = 20;
    let cases = [
        ("resources_1000", &bodies.resources, Kind::Resources),
        ("friends_5000", &bodies.friends, Kind::Friends),
    ];
    let mut group = c.benchmark_group("decode");
    group.sample_size(SAMPLES).sampling_mode(SamplingMode::Flat);
    let mut results = Vec::new();
    for (name, body, kind) in cases {
        assert_eq!(kind.sdk_decode(body), kind.serde_decode(body));
        let (sdk_rec, serde_rec) = (Recorder::default(), Recorder::default());
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(BenchmarkId::new(name, "sdk"), |b| {
            b.iter_custom(|iters| sdk_rec.time_sync(iters, || kind.sdk_decode(body)))
        });
        group.bench_function(BenchmarkId::new(name, "serde_json"), |b| {
            b.iter_custom(|iters| serde_rec.time_sync(iters, || kind.serde_decode(body)))
        });
        results.push((name, body.len(), sdk_rec, serde_rec));
    }
    group.finish();
    if report {
        for (name, len, sdk, serde) in results {
            report_bytes("decode", name, len, &sdk, &serde, SAMPLES, 1.10);
        }
    }
}

/// Case 3b: the same bodies fetched over loopback and decoded: the SDK's
/// whole path (hooks, transport, body cap) vs raw reqwest + serde_json.
fn fetch(c: &mut Criterion, runtime: &Runtime, server: &Server, bodies: &Bodies, report: bool) {
    const SAMPLES: usize = 20;
    let base = server.base_url();
    let sdk = sdk_client(&base);
    let raw = raw_client();
    let cases = [
        ("resources_1000", bodies.resources.len(), Kind::Resources),
        ("friends_5000", bodies.friends.len(), Kind::Friends),
    ];
    let mut group = c.benchmark_group("fetch");
    group.sample_size(SAMPLES).sampling_mode(SamplingMode::Flat);
    let mut results = Vec::new();
    for (name, len, kind) in cases {
        let url = format!("{base}{}", kind.path());
        let (sdk_rec, raw_rec) = (Recorder::default(), Recorder::default());
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new(name, "sdk"), |b| {
            b.to_async(runtime).iter_custom(|iters| {
                let (rec, sdk) = (&sdk_rec, &sdk);
                async move { rec.time(iters, move || kind.sdk_fetch(sdk)).await }
            })
        });
        group.bench_function(BenchmarkId::new(name, "raw_reqwest_serde"), |b| {
            b.to_async(runtime).iter_custom(|iters| {
                let (rec, raw, url) = (&raw_rec, &raw, url.as_str());
                async move { rec.time(iters, move || kind.raw_fetch(raw, url)).await }
            })
        });
        results.push((name, len, sdk_rec, raw_rec));
    }
    group.finish();
    if report {
        for (name, len, sdk, raw) in results {
            report_bytes("fetch", name, len, &sdk, &raw, SAMPLES, 1.10);
        }
    }
}

fn report_bytes(
    group: &str,
    name: &str,
    len: usize,
    sdk: &Recorder,
    baseline: &Recorder,
    samples: usize,
    limit: f64,
) {
    let (Some(sdk), Some(baseline)) = (sdk.figures(samples), baseline.figures(samples)) else {
        return;
    };
    let mb_per_s = |d: Duration| len as f64 / 1e6 / d.as_secs_f64();
    println!(
        "{group}/{name} ({:.2} MB): sdk {:.0} MB/s, baseline {:.0} MB/s (wall); \
         cpu sdk {:.0} MB/s, baseline {:.0} MB/s",
        len as f64 / 1e6,
        mb_per_s(sdk.wall),
        mb_per_s(baseline.wall),
        sdk.cpu.map_or(f64::NAN, mb_per_s),
        baseline.cpu.map_or(f64::NAN, mb_per_s),
    );
    print_ratio(
        &format!("{group}/{name} time sdk/baseline (wall)"),
        sdk.wall.as_secs_f64() / baseline.wall.as_secs_f64(),
        Target::AtMost(limit),
    );
    if let (Some(sdk_cpu), Some(baseline_cpu)) = (sdk.cpu, baseline.cpu) {
        print_ratio(
            &format!("{group}/{name} cpu time sdk/baseline"),
            sdk_cpu.as_secs_f64() / baseline_cpu.as_secs_f64(),
            Target::AtMost(limit),
        );
    }
}

/// The two large list bodies.
#[derive(Clone, Copy)]
enum Kind {
    Resources,
    Friends,
}

/// A decoded list, compared between the two ways of decoding it.
#[derive(Debug, PartialEq)]
enum List {
    Resources(Vec<Resource>),
    Friends(Vec<Friend>),
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Resources => "/api/v2/resources",
            Kind::Friends => "/api/v2/friends",
        }
    }

    fn sdk_decode(self, body: &bytes::Bytes) -> List {
        match self {
            Kind::Resources => List::Resources(sdk_decode(body)),
            Kind::Friends => List::Friends(sdk_decode(body)),
        }
    }

    fn serde_decode(self, body: &bytes::Bytes) -> List {
        let decoded = match self {
            Kind::Resources => serde_json::from_slice(body).map(List::Resources),
            Kind::Friends => serde_json::from_slice(body).map(List::Friends),
        };
        decoded.expect("the body decodes")
    }

    async fn sdk_fetch(self, sdk: &PlexTv) -> List {
        match self {
            Kind::Resources => List::Resources(
                sdk.get_resources()
                    .send()
                    .await
                    .expect("SDK getResources")
                    .into_inner(),
            ),
            Kind::Friends => List::Friends(
                sdk.get_friends()
                    .send()
                    .await
                    .expect("SDK getFriends")
                    .into_inner(),
            ),
        }
    }

    async fn raw_fetch(self, raw: &reqwest::Client, url: &str) -> List {
        match self {
            Kind::Resources => List::Resources(raw_get(raw, url).await),
            Kind::Friends => List::Friends(raw_get(raw, url).await),
        }
    }
}

/// Decodes `body` the way generated operations do: a `reqwest::Response`
/// through progenitor's `ResponseValue::from_response`.
fn sdk_decode<T: DeserializeOwned>(body: &bytes::Bytes) -> T {
    let response = http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.clone())
        .expect("a valid response");
    ResponseValue::<T>::from_response::<ErrorResponse>(reqwest::Response::from(response))
        .now_or_never()
        .expect("an in-memory body is ready at once")
        .expect("the body decodes")
        .into_inner()
}
