//! `cargo xtask <task>`; the only task is `regen` (see `xtask::run`).

use std::path::Path;
use std::process::ExitCode;

use xtask::{Options, RegenError};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("regen") => {}
        Some("-h" | "--help") | None => {
            println!(
                "{}",
                RegenError::Usage("cargo xtask: project chores".into())
            );
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!(
                "error: {}",
                RegenError::Usage(format!("unknown task `{other}`"))
            );
            return ExitCode::from(2);
        }
    }
    // The workspace folder: the defaults are its openapi/ files.
    let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR")).parent() else {
        eprintln!("error: xtask is not inside the workspace folder; run it with `cargo xtask` from the workspace.");
        return ExitCode::FAILURE;
    };
    let options = match Options::parse(args, root) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match xtask::run(&options) {
        Ok(outcome) => {
            print!("{}", outcome.report);
            let verdict = match (options.check, outcome.written) {
                (true, _) => "up to date",
                (false, true) => "written",
                (false, false) => "unchanged",
            };
            println!("{}: {verdict}", options.spec.display());
            ExitCode::SUCCESS
        }
        Err(RegenError::Drift { path, diff }) => {
            print!("{diff}");
            eprintln!(
                "error: {}",
                RegenError::Drift {
                    path,
                    diff: String::new()
                }
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
