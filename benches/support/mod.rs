//! What every benchmark shares: a minimal plex.tv on loopback, the clients
//! under test, a per-thread CPU clock and a recorder of timings.

pub mod bodies;
pub mod callgrind;
pub mod pin;

use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{body::Incoming, header, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Sizes of the large bodies (issue 6: 1,000 resources, 5,000 friends).
pub const RESOURCES: usize = 1_000;
pub const FRIENDS: usize = 5_000;

const TOKEN: &str = "bench-token-0123456789abcdef";

/// The canned bodies, served by path.
pub struct Bodies {
    pub user: Bytes,
    pub resources: Bytes,
    pub friends: Bytes,
}

impl Bodies {
    pub fn new() -> Bodies {
        Bodies {
            user: Bytes::from(bodies::user()),
            resources: Bytes::from(bodies::resources(RESOURCES)),
            friends: Bytes::from(bodies::friends(FRIENDS)),
        }
    }

    /// The account only, for the callgrind driver: building the large
    /// bodies costs more instructions than the calls it counts.
    pub fn user_only() -> Bodies {
        Bodies {
            user: Bytes::from(bodies::user()),
            resources: Bytes::new(),
            friends: Bytes::new(),
        }
    }
}

/// A plex.tv on `127.0.0.1`, on a thread of its own with a single-threaded
/// runtime, so that its work is never counted as the client's (the CPU
/// clock and callgrind both count the client's thread only).
pub struct Server {
    addr: SocketAddr,
    /// Read by the many_users bench only.
    #[allow(dead_code)]
    connections: Arc<AtomicUsize>,
}

impl Server {
    pub fn start(bodies: &Bodies) -> Server {
        let routes: Arc<HashMap<&'static str, Bytes>> = Arc::new(HashMap::from([
            ("/api/v2/user", bodies.user.clone()),
            ("/api/v2/resources", bodies.resources.clone()),
            ("/api/v2/friends", bodies.friends.clone()),
        ]));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("server runtime");
                runtime.block_on(serve(listener, routes, accepted));
            })
            .expect("server thread");
        Server { addr, connections }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The connections accepted so far.
    #[allow(dead_code)]
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn serve(
    listener: std::net::TcpListener,
    routes: Arc<HashMap<&'static str, Bytes>>,
    accepted: Arc<AtomicUsize>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        accepted.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let routes = Arc::clone(&routes);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let body = routes.get(request.uri().path()).cloned();
                async move { Ok::<_, Infallible>(respond(body)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(body: Option<Bytes>) -> Response<Full<Bytes>> {
    let (status, body) = match body {
        Some(body) => (200, body),
        None => (
            404,
            Bytes::from_static(br#"{"errors":[{"code":1002,"message":"Not found","status":404}]}"#),
        ),
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Full::new(body))
        .expect("a valid response")
}

/// The identity both clients send.
pub fn identity() -> ClientIdentity {
    let id: ClientIdentifier = "bench-0f3c6d2e-7a41-4c1b-9a0e-5d2f8b6c1e47"
        .parse()
        .expect("a valid identifier");
    ClientIdentity::new("plex-tv bench", id)
        .version("0.1.0")
        .device_name("bench host")
}

/// The SDK client, as an application builds it.
pub fn sdk_client(base_url: &str) -> PlexTv {
    PlexTv::builder()
        .identity(identity())
        .token(TOKEN)
        .base_url(base_url)
        .build()
        .expect("the SDK client builds")
}

/// A plain `reqwest::Client` set up to send the same request as the SDK:
/// the same identity headers, token, `Accept`, user agent, timeouts and
/// redirect policy.
pub fn raw_client() -> reqwest::Client {
    raw_client_builder().build().expect("the raw client builds")
}

/// [`raw_client`] with reqwest's own retry layer off, as the SDK sets up its
/// client (its retry policy does the retrying): that layer copies every
/// request's headers.
pub fn raw_client_without_retry_layer() -> reqwest::Client {
    raw_client_builder()
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .build()
        .expect("the raw client builds")
}

fn raw_client_builder() -> reqwest::ClientBuilder {
    let mut headers = HeaderMap::new();
    for (name, value) in identity().headers() {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(value).expect("a header value"),
        );
    }
    let mut token = HeaderValue::from_static(TOKEN);
    token.set_sensitive(true);
    headers.insert("x-plex-token", token);
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("plex-tv-rust/", env!("CARGO_PKG_VERSION")))
}

/// One `GET` with raw reqwest, decoded with serde_json into `T`.
pub async fn raw_get<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    let bytes = raw_get_bytes(client, url).await;
    serde_json::from_slice(&bytes).expect("the body decodes")
}

/// One `GET` with raw reqwest, reading the body's bytes only.
pub async fn raw_get_bytes(client: &reqwest::Client, url: &str) -> Bytes {
    let response = client.get(url).send().await.expect("the request succeeds");
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.expect("the body arrives")
}

/// CPU time of the calling thread. Linux: `/proc/thread-self/schedstat`
/// (nanoseconds on the CPU); elsewhere `None`.
pub fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Timings of one benchmark, sample by sample, kept next to criterion's own
/// analysis so that the bench can print ratios between benchmarks.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Sample>>>);

#[derive(Clone, Copy)]
struct Sample {
    iters: u64,
    wall: Duration,
    cpu: Option<Duration>,
}

/// Per-iteration figures of a benchmark.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// Median over samples of wall time per iteration.
    pub wall: Duration,
    /// Median over samples of this thread's CPU time per iteration.
    pub cpu: Option<Duration>,
}

impl Recorder {
    pub fn record(&self, iters: u64, wall: Duration, cpu: Option<Duration>) {
        self.0.lock().unwrap().push(Sample { iters, wall, cpu });
    }

    /// Times `iters` runs of `run` on this thread, records them, and returns
    /// the wall time for criterion.
    pub async fn time<F, Fut>(&self, iters: u64, mut run: F) -> Duration
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future,
    {
        let cpu_start = thread_cpu();
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(run().await);
        }
        let wall = start.elapsed();
        let cpu = thread_cpu()
            .zip(cpu_start)
            .map(|(end, start)| end.saturating_sub(start));
        self.record(iters, wall, cpu);
        wall
    }

    /// Like [`time`](Self::time), for synchronous work.
    pub fn time_sync<R>(&self, iters: u64, mut run: impl FnMut() -> R) -> Duration {
        let cpu_start = thread_cpu();
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(run());
        }
        let wall = start.elapsed();
        let cpu = thread_cpu()
            .zip(cpu_start)
            .map(|(end, start)| end.saturating_sub(start));
        self.record(iters, wall, cpu);
        wall
    }

    /// The figures of the last `samples` samples: criterion warms up with
    /// the same routine first, and those runs come before them.
    pub fn figures(&self, samples: usize) -> Option<Figures> {
        let all = self.0.lock().unwrap();
        let last = &all[all.len().saturating_sub(samples)..];
        if last.is_empty() {
            return None;
        }
        let wall = median(last.iter().map(|s| s.wall.as_secs_f64() / s.iters as f64));
        let cpu: Option<Vec<f64>> = last
            .iter()
            .map(|s| s.cpu.map(|c| c.as_secs_f64() / s.iters as f64))
            .collect();
        Some(Figures {
            wall: Duration::from_secs_f64(wall),
            cpu: cpu.map(|c| Duration::from_secs_f64(median(c.into_iter()))),
        })
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Prints a ratio on a line of its own, with its target and verdict.
pub fn print_ratio(name: &str, ratio: f64, target: Target) {
    let verdict = match target {
        Target::AtMost(limit) if ratio <= limit => format!("target <= {limit:.2}: met"),
        Target::AtMost(limit) => format!("target <= {limit:.2}: MISSED"),
        Target::AtLeast(limit) if ratio >= limit => format!("target >= {limit:.2}: met"),
        Target::AtLeast(limit) => format!("target >= {limit:.2}: MISSED"),
        Target::Info => "for information".to_owned(),
    };
    println!("RATIO {name} = {ratio:.3} ({verdict})");
}

#[derive(Clone, Copy)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    Info,
}

/// Whether a benchmark or step named `name` passes the command line's
/// filter (criterion's positional argument), and whether this is
/// `cargo test --benches` (`--test`) or a listing (`--list`).
pub struct Args {
    filter: Option<String>,
    pub test_mode: bool,
    pub list: bool,
}

impl Args {
    pub fn parse() -> Args {
        // Criterion's options that take a value.
        const WITH_VALUE: &[&str] = &[
            "-c",
            "--color",
            "--colour",
            "-s",
            "--save-baseline",
            "-b",
            "--baseline",
            "--baseline-lenient",
            "--format",
            "--profile-time",
            "--load-baseline",
            "--sample-size",
            "--warm-up-time",
            "--measurement-time",
            "--nresamples",
            "--noise-threshold",
            "--confidence-level",
            "--significance-level",
            "--plotting-backend",
            "--output-format",
        ];
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut filter = None;
        let mut skip_next = false;
        for arg in &args {
            if skip_next {
                skip_next = false;
            } else if WITH_VALUE.contains(&arg.as_str()) {
                skip_next = true;
            } else if !arg.starts_with('-') && filter.is_none() {
                filter = Some(arg.clone());
            }
        }
        Args {
            filter,
            test_mode: args.iter().any(|a| a == "--test"),
            list: args.iter().any(|a| a == "--list"),
        }
    }

    pub fn selects(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }
}
