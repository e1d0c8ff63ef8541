//! Instructions per `getUser` call, counted by valgrind's callgrind: wall
//! time on shared machines moves 10-30% between runs, instruction counts
//! move 1-2%.
//!
//! The bench binary is its own driver: `client --callgrind-drive MODE N`
//! makes N calls (after a warm-up) on the main thread, with the server on
//! another thread. Callgrind runs with `--separate-threads=yes`, so the main
//! thread's count is the client's alone, and the difference between a run
//! of N1 and one of N2 calls, divided by N2 - N1, removes start-up costs.
//! `benches/callgrind.sh` does the same from the shell.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use plex_tv::types::User;

use super::{
    print_ratio, raw_client, raw_client_without_retry_layer, raw_get, raw_get_bytes, sdk_client,
    Bodies, Server, Target,
};

/// Calls before counting starts in each run (pool, connections, caches).
const WARM_UP: usize = 20;
/// The two run lengths whose difference is counted.
const SHORT: usize = 50;
const LONG: usize = 350;

/// The workload run under valgrind: `MODE N` with MODE `sdk`, `raw` (raw
/// reqwest + serde_json), `raw_no_retry_layer` (the same with reqwest's own
/// retry layer off, as the SDK sets its client) or `raw_bytes`.
pub fn drive(args: &[String]) {
    let mode = args.first().map(String::as_str).unwrap_or("sdk");
    let calls: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(LONG);
    let server = Server::start(&Bodies::user_only());
    let base = server.base_url();
    let url = format!("{base}/api/v2/user");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    runtime.block_on(async {
        match mode {
            "sdk" => {
                let sdk = sdk_client(&base);
                for _ in 0..WARM_UP + calls {
                    let user = sdk.get_user().send().await.expect("SDK getUser");
                    std::hint::black_box(user.into_inner());
                }
            }
            "raw" => {
                let raw = raw_client();
                for _ in 0..WARM_UP + calls {
                    std::hint::black_box(raw_get::<User>(&raw, &url).await);
                }
            }
            "raw_no_retry_layer" => {
                let raw = raw_client_without_retry_layer();
                for _ in 0..WARM_UP + calls {
                    std::hint::black_box(raw_get::<User>(&raw, &url).await);
                }
            }
            "raw_bytes" => {
                let raw = raw_client();
                for _ in 0..WARM_UP + calls {
                    std::hint::black_box(raw_get_bytes(&raw, &url).await);
                }
            }
            other => {
                panic!("unknown mode {other:?}: use sdk, raw, raw_no_retry_layer or raw_bytes")
            }
        }
    });
}

/// Runs the driver under callgrind for the SDK and raw reqwest, and prints
/// instructions per call and their ratio. Skipped without valgrind or with
/// `PLEX_TV_BENCH_CALLGRIND=0`.
pub fn report() {
    if std::env::var("PLEX_TV_BENCH_CALLGRIND").is_ok_and(|v| v == "0") {
        println!("callgrind_get_user: skipped (PLEX_TV_BENCH_CALLGRIND=0)");
        return;
    }
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !valgrind.is_ok_and(|out| out.status.success()) {
        println!("callgrind_get_user: skipped (valgrind not found)");
        return;
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    let dir = std::env::temp_dir().join(format!("plex-tv-callgrind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let mut per_call = Vec::new();
    for mode in ["sdk", "raw", "raw_no_retry_layer", "raw_bytes"] {
        let short = count(&exe, &dir, mode, SHORT);
        let long = count(&exe, &dir, mode, LONG);
        match (short, long) {
            (Ok(short), Ok(long)) => {
                let instructions = long.saturating_sub(short) as f64 / (LONG - SHORT) as f64;
                println!(
                    "callgrind_get_user {mode}: {instructions:.0} instructions per call \
                     (client thread; {SHORT} calls {short}, {LONG} calls {long})"
                );
                per_call.push((mode, instructions));
            }
            (Err(e), _) | (_, Err(e)) => {
                println!("callgrind_get_user {mode}: failed: {e}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let of = |name: &str| per_call.iter().find(|(m, _)| *m == name).map(|(_, i)| *i);
    if let (Some(sdk), Some(raw)) = (of("sdk"), of("raw")) {
        print_ratio(
            "get_user instructions per call sdk/raw",
            sdk / raw,
            Target::AtMost(1.05),
        );
        if let Some(same) = of("raw_no_retry_layer") {
            print_ratio(
                "get_user instructions per call sdk/raw_no_retry_layer",
                sdk / same,
                Target::AtMost(1.05),
            );
        }
        if let Some(bytes) = of("raw_bytes") {
            println!(
                "callgrind_get_user: SDK overhead over raw reqwest+serde {:.0} instructions per call; \
                 JSON decoding of the user {:.0}",
                sdk - raw,
                raw - bytes
            );
        }
    }
}

/// The instructions the main thread of `exe --callgrind-drive MODE N` ran.
pub fn count(exe: &Path, dir: &Path, mode: &str, calls: usize) -> Result<u64, String> {
    let out: PathBuf = dir.join(format!("cg.{mode}.{calls}"));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--separate-threads=yes")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["--callgrind-drive", mode, &calls.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("valgrind exited with {status}"));
    }
    // With --separate-threads, thread n's profile is `<file>-0n`; the main
    // thread (the client) is thread 1.
    let main_thread = PathBuf::from(format!("{}-01", out.display()));
    let text = std::fs::read_to_string(&main_thread)
        .map_err(|e| format!("cannot read {}: {e}", main_thread.display()))?;
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals in {}", main_thread.display()))
}
