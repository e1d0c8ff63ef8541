//! Sign in to plex.tv with a PIN, the way a TV or terminal app would.
//!
//! ```text
//! cargo run --example login              # against plex.tv: open the printed URL
//! cargo run --example login -- --link    # a 4-character code for https://plex.tv/link
//! cargo run --example login -- --demo    # offline, against a fake plex.tv
//! cargo run --example login -- --jwt     # device-key sign-in: a short-lived, refreshing JWT
//! cargo run --example login -- --demo --jwt
//! ```
//!
//! The client identifier is kept in the user's config directory, so running
//! the example again does not register another device on the account. With
//! `--jwt` the device key is kept beside it (`device-key.pem`, owner-only).

use std::{path::PathBuf, time::Duration};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use plex_tv::{
    pin::PinEvent, testing::FakePlexTv, ClientIdentifier, ClientIdentity, DeviceKey, Error, PlexTv,
};
use qrcode::{render::unicode::Dense1x2, QrCode};

struct Options {
    demo: bool,
    link: bool,
    jwt: bool,
}

const USAGE: &str = "usage: login [--demo] [--link] [--jwt]";

fn options() -> Result<Options, String> {
    let mut options = Options {
        demo: false,
        link: false,
        jwt: false,
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--demo" => options.demo = true,
            "--link" => options.link = true,
            "--jwt" => options.jwt = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}; {USAGE}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(options).await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<(), Error> {
    let id = ClientIdentifier::load_or_create(config_dir().join("client-identifier"))?;
    let identity = ClientIdentity::new("plex-tv login example", id)
        .version(env!("CARGO_PKG_VERSION"))
        .device("PC");

    // The demo keeps its fake plex.tv alive until the end of `run`.
    let fake = if options.demo {
        Some(start_fake().await)
    } else {
        None
    };
    let mut builder = PlexTv::builder().identity(identity);
    if let Some(fake) = &fake {
        println!(
            "Demo mode: a fake plex.tv on {} approves the PIN in a few seconds.\n",
            fake.base_url()
        );
        builder = builder
            .base_url(fake.base_url())
            .clients_base_url(fake.base_url());
    }
    let client = builder.build()?;

    let mut login = client.pin_login();
    if options.jwt {
        // Kept beside the client identifier: the JWT is bound to this key.
        login = login.device_key(DeviceKey::load_or_create(
            config_dir().join("device-key.pem"),
        )?);
    }
    let pin = if options.link {
        login.link_code()
    } else {
        login
    }
    .start()
    .await?;
    if options.link {
        println!(
            "Go to {} and enter the code  {}\n",
            pin.link_url(),
            pin.code()
        );
        print_qr(pin.link_url().as_str());
    } else {
        println!("Open this page and sign in:\n\n  {}\n", pin.auth_url());
        print_qr(pin.auth_url().as_str());
    }

    let spinner = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let mut events = Box::pin(pin.events());
    let mut outcome = Err(Error::Cancelled);
    while let Some(event) = events.next().await {
        match &event {
            PinEvent::Waiting {
                time_left: Some(left),
            } => {
                spinner.set_message(format!("Waiting for approval, {} left", minutes(*left)));
            }
            PinEvent::Retrying { retry_in, reason } => {
                spinner.set_message(format!("{reason}; trying again in {}s", retry_in.as_secs()));
            }
            _ => {}
        }
        if let Some(result) = event.into_outcome() {
            outcome = result;
            break;
        }
    }
    spinner.finish_and_clear();

    let signed_in = outcome?;
    let me = signed_in.get_user().send().await?;
    let name = me
        .friendly_name
        .clone()
        .or(me.username.clone())
        .unwrap_or_else(|| me.uuid.clone());
    println!("Signed in as {name} (account {}).", me.id);
    match signed_in.device_key() {
        Some(key) => println!(
            "The token is a short-lived plex.tv JWT bound to device key {}; \
             the client refreshes it by itself. Store it securely, never in logs.",
            key.key_id()
        ),
        None => println!("The token is in hand; store it securely, never in logs."),
    }
    Ok(())
}

/// A fake plex.tv that approves every PIN at its third poll.
async fn start_fake() -> FakePlexTv {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(3);
    fake
}

/// Where the client identifier and the device key live: the user's config
/// directory, or the temporary directory where there is none.
fn config_dir() -> PathBuf {
    directories::ProjectDirs::from("tv", "plex-tv", "plex-tv-login")
        .map(|dirs| dirs.config_dir().to_path_buf())
        .unwrap_or_else(std::env::temp_dir)
}

fn print_qr(url: &str) {
    if let Ok(code) = QrCode::new(url.as_bytes()) {
        println!("{}", code.render::<Dense1x2>().quiet_zone(true).build());
    }
}

fn minutes(left: Duration) -> String {
    format!("{}:{:02}", left.as_secs() / 60, left.as_secs() % 60)
}
