//! Many users on one client (issue 17), on the loopback server of
//! `benches/support`, with no rate limit (the server is not plex.tv):
//!
//! 1. `clone_memory`: heap bytes and allocations per `with_token` client,
//!    counted by this binary's allocator, against one client per user;
//! 2. `many_users`: 10,000 distinct users' `getUser` calls (64 at a time)
//!    through one client and `with_token`, against one client per user:
//!    calls per second, CPU time per call, connections opened;
//! 3. `callgrind_with_token`: instructions per `with_token`, if valgrind is
//!    installed (`PLEX_TV_BENCH_CALLGRIND=0` skips it).
//!
//! `cargo bench --bench many_users`; `cargo test --benches` runs it small.
//! BENCHMARKS.md has the figures.

#![recursion_limit = "256"]

#[allow(dead_code)]
mod support;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicIsize, AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use plex_tv::PlexTv;
use support::{identity, print_ratio, sdk_client, thread_cpu, Bodies, Server, Target};

/// Counts the bytes live on the heap and the allocations made.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; the counters
// are only read.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Distinct users per run.
const USERS: usize = 10_000;
/// Calls in flight at once.
const CONCURRENCY: usize = 64;
/// Runs of each way; the median is reported.
const ROUNDS: usize = 3;

/// A distinct 20-character token per user, like plex.tv's.
fn token(user: usize) -> String {
    format!("{user:020}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--callgrind-drive") {
        drive(&args[at + 1..]);
        return;
    }
    let cli = support::Args::parse();
    if cli.list {
        for name in ["clone_memory", "many_users", "callgrind_with_token"] {
            println!("{name}: custom");
        }
        return;
    }
    // `cargo test --benches` (no `--bench`): a quick run that checks the
    // bench works.
    let test_mode = cli.test_mode || !args.iter().any(|a| a == "--bench");
    let (users, rounds) = if test_mode { (200, 1) } else { (USERS, ROUNDS) };
    let server = Server::start(&Bodies::user_only());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    if cli.selects("clone_memory") {
        clone_memory(&server, users);
    }
    if cli.selects("many_users") {
        runtime.block_on(many_users(&server, users, rounds));
    }
    if cli.selects("callgrind_with_token") && !test_mode {
        callgrind_with_token();
    }
}

/// Heap bytes live and allocations made while `make` runs and its result
/// lives, minus `inline` bytes per item.
fn heap_per_item<T>(items: usize, make: impl FnOnce() -> Vec<T>) -> (f64, f64, Vec<T>) {
    let (live, allocations) = (
        LIVE.load(Ordering::Relaxed),
        ALLOCATIONS.load(Ordering::Relaxed),
    );
    let made = make();
    let bytes = LIVE.load(Ordering::Relaxed) - live - (made.capacity() * size_of::<T>()) as isize;
    let count = ALLOCATIONS.load(Ordering::Relaxed) - allocations - 1;
    (
        bytes as f64 / items as f64,
        count as f64 / items as f64,
        made,
    )
}

/// Case 1: what each user's client holds.
fn clone_memory(server: &Server, users: usize) {
    let base = server.base_url();
    let client = sdk_client(&base);
    // The tokens exist before: they are the users', not the client's.
    // Each is moved out of its slot, so that the list's own buffer stays.
    let mut tokens: Vec<String> = (0..users).map(token).collect();
    let (bytes, allocations, clones) = heap_per_item(users, || {
        let mut clones = Vec::with_capacity(users);
        clones.extend(
            tokens
                .iter_mut()
                .map(|token| client.with_token(std::mem::take(token))),
        );
        clones
    });
    println!(
        "clone_memory with_token: {} bytes inline + {bytes:.1} heap bytes and {allocations:.2} \
         allocations per client ({users} clients; the token's own 20-byte string moved in; \
         base URL {} bytes)",
        size_of::<PlexTv>(),
        base.len(),
    );
    drop(clones);

    let separate = users.min(1_000);
    let (own_bytes, own_allocations, own) = heap_per_item(separate, || {
        (0..separate)
            .map(|user| {
                PlexTv::builder()
                    .identity(identity())
                    .base_url(&base)
                    .token(token(user))
                    .build()
                    .expect("a client")
            })
            .collect()
    });
    println!(
        "clone_memory one client per user: {own_bytes:.0} heap bytes and {own_allocations:.0} \
         allocations per client ({separate} clients, before any request)"
    );
    drop(own);
    print_ratio(
        "clone_memory heap bytes per user, one client per user / with_token",
        own_bytes / bytes,
        Target::Info,
    );
}

/// One round: wall time, this thread's CPU time, connections opened.
struct Round {
    wall: Duration,
    cpu: Option<Duration>,
    connections: usize,
}

async fn timed(server: &Server, run: impl std::future::Future<Output = usize>) -> Round {
    let connections = server.connections();
    let cpu = thread_cpu();
    let start = Instant::now();
    let calls = run.await;
    let wall = start.elapsed();
    let cpu = thread_cpu()
        .zip(cpu)
        .map(|(end, start)| end.saturating_sub(start));
    assert!(calls > 0);
    Round {
        wall,
        cpu,
        connections: server.connections() - connections,
    }
}

/// Every user's `getUser`, 64 at a time, through `client_for(user)`.
async fn calls(users: usize, client_for: impl Fn(usize) -> PlexTv) -> usize {
    stream::iter(0..users)
        .map(|user| {
            let client = client_for(user);
            async move {
                let me = client.get_user().send().await.expect("getUser");
                std::hint::black_box(me.into_inner());
            }
        })
        .buffer_unordered(CONCURRENCY)
        .count()
        .await
}

/// Case 2: 10,000 users' calls, through one client and through one each.
async fn many_users(server: &Server, users: usize, rounds: usize) {
    let base = server.base_url();
    let shared = sdk_client(&base);
    // Warm the pool once, as a running service would have it.
    calls(CONCURRENCY, |user| shared.with_token(token(user))).await;
    let mut one = Vec::new();
    let mut each = Vec::new();
    for _ in 0..rounds {
        one.push(timed(server, calls(users, |user| shared.with_token(token(user)))).await);
        let own = |user| {
            PlexTv::builder()
                .identity(identity())
                .base_url(&base)
                .token(token(user))
                .build()
                .expect("a client")
        };
        each.push(timed(server, calls(users, own)).await);
    }
    let report = |name: &str, rounds: &mut Vec<Round>| -> f64 {
        rounds.sort_by_key(|round| round.wall);
        let median = &rounds[rounds.len() / 2];
        let per_second = users as f64 / median.wall.as_secs_f64();
        println!(
            "many_users {name}: {users} users in {:?}: {per_second:.0} calls/s, {:.1} µs CPU per \
             call, {} connections opened (median of {} rounds)",
            median.wall,
            median
                .cpu
                .map_or(f64::NAN, |cpu| cpu.as_secs_f64() * 1e6 / users as f64),
            median.connections,
            rounds.len(),
        );
        per_second
    };
    let one = report("one client, with_token per user", &mut one);
    let each = report("one client per user", &mut each);
    print_ratio(
        "many_users calls per second, one client / one client per user",
        one / each,
        Target::Info,
    );
}

/// The workload run under valgrind: `with_token N` makes N clients with
/// `with_token`; `tokens N` only makes their tokens. The difference is the
/// cost of `with_token` itself.
fn drive(args: &[String]) {
    let mode = args.first().map(String::as_str).unwrap_or("with_token");
    let users: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let client = sdk_client("http://127.0.0.1:9");
    let tokens: Vec<String> = (0..users).map(token).collect();
    let mut clones = Vec::with_capacity(users);
    match mode {
        "with_token" => clones.extend(tokens.into_iter().map(|token| client.with_token(token))),
        "tokens" => std::hint::black_box(tokens).clear(),
        other => panic!("unknown mode {other:?}: use with_token or tokens"),
    }
    // Dropping is not part of the count.
    std::mem::forget(std::hint::black_box(clones));
}

/// Case 3: instructions per `with_token`, by callgrind.
fn callgrind_with_token() {
    if std::env::var("PLEX_TV_BENCH_CALLGRIND").is_ok_and(|v| v == "0") {
        println!("callgrind_with_token: skipped (PLEX_TV_BENCH_CALLGRIND=0)");
        return;
    }
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output();
    if !valgrind.is_ok_and(|out| out.status.success()) {
        println!("callgrind_with_token: skipped (valgrind not found)");
        return;
    }
    const SHORT: usize = 1_000;
    const LONG: usize = 11_000;
    let exe = std::env::current_exe().expect("the bench's own path");
    let dir = std::env::temp_dir().join(format!("plex-tv-with-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let per_user = |mode: &str| -> Result<f64, String> {
        let short = support::callgrind::count(&exe, &dir, mode, SHORT)?;
        let long = support::callgrind::count(&exe, &dir, mode, LONG)?;
        Ok(long.saturating_sub(short) as f64 / (LONG - SHORT) as f64)
    };
    match (per_user("with_token"), per_user("tokens")) {
        (Ok(with_token), Ok(tokens)) => println!(
            "callgrind_with_token: {:.0} instructions per with_token ({with_token:.0} with \
             making the token, {tokens:.0} for the token alone)",
            with_token - tokens
        ),
        (Err(e), _) | (_, Err(e)) => println!("callgrind_with_token: failed: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
