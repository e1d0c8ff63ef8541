//! The web sign-in end to end: the example app of `examples/web_sign_in.rs`
//! against the fake plex.tv and its hosted page, in headless Chromium
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs),
//! driven through WebDriver. Then callbacks with a wrong or replayed state,
//! which the app must refuse. Loopback only.

#[path = "../examples/web_sign_in.rs"]
#[allow(dead_code)]
mod web_sign_in;

use std::{
    net::TcpListener as StdListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{wd::Capabilities, ClientBuilder, Locator};
use serde_json::json;

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver, or says why it cannot: it is required under CI,
/// where `.ci/run` installs it.
fn start_driver() -> Option<Driver> {
    let port = free_port();
    let spawned = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(child) => Some(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }),
        Err(error) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: chromedriver is not installed ({error}); `.ci/run` installs it");
            None
        }
        Err(error) => panic!("chromedriver is required under CI: {error}"),
    }
}

fn capabilities() -> Capabilities {
    let options = json!({
        "binary": "/usr/bin/chromium",
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=900,700"
        ]
    });
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    capabilities
}

async fn connect(driver: &Driver) -> fantoccini::Client {
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let started = Instant::now();
    loop {
        let attempt = ClientBuilder::new(connector.clone())
            .capabilities(capabilities())
            .connect(&driver.url)
            .await;
        match attempt {
            Ok(client) => return client,
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(error) => panic!("cannot start a Chromium session: {error}"),
        }
    }
}

/// The app on a loopback port, against a fake plex.tv.
async fn start_app() -> (plex_tv::testing::FakePlexTv, String) {
    let (fake, client) = web_sign_in::demo_client().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web_sign_in::serve(listener, client));
    (fake, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_from_the_browser() {
    let Some(driver) = start_driver() else {
        return;
    };
    let (fake, app) = start_app().await;
    let browser = connect(&driver).await;
    let result = async {
        browser.goto(&app).await?;
        browser.find(Locator::Id("sign-in")).await?.click().await?;
        // The fake's hosted page, with the PIN's code in its fragment.
        let approve = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("approve"))
            .await?;
        let hosted = browser.current_url().await?;
        assert!(
            hosted.as_str().starts_with(&fake.auth_page_url()),
            "{hosted}"
        );
        let screenshots = std::env::var_os("WEB_SIGN_IN_SCREENSHOT").is_some();
        if screenshots {
            std::fs::write("docs/web-sign-in-approve.png", browser.screenshot().await?).unwrap();
        }
        approve.click().await?;
        let signed_in = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("signed-in"))
            .await?;
        let text = signed_in.text().await?;
        let landed = browser.current_url().await?;
        if screenshots {
            std::fs::write("docs/web-sign-in.png", browser.screenshot().await?).unwrap();
        }
        Ok::<_, fantoccini::error::CmdError>((text, landed))
    }
    .await;
    let _ = browser.close().await;
    let (text, landed) = result.expect("the browser run");
    assert_eq!(text, "Signed in as fake-user");
    assert!(
        landed
            .as_str()
            .starts_with(&format!("{app}/callback?state=")),
        "{landed}"
    );

    // The same callback again (a replay) is refused: its state was used.
    let replay = reqwest::get(landed.as_str()).await.unwrap();
    assert_eq!(replay.status(), 400);
    assert!(replay.text().await.unwrap().contains("already used"));
}

#[tokio::test]
async fn callbacks_with_a_wrong_or_missing_state_are_refused() {
    let (fake, app) = start_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A sign-in starts: the app redirects to the hosted page.
    let login = http.get(format!("{app}/login")).send().await.unwrap();
    assert_eq!(login.status(), 303);
    let hosted = login.headers()["location"].to_str().unwrap().to_owned();
    assert!(hosted.starts_with(&fake.auth_page_url()), "{hosted}");
    fake.approve_all();

    for path in ["/callback?state=forged", "/callback", "/callback?state="] {
        let answer = http.get(format!("{app}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 400, "{path}");
        assert!(
            !answer.text().await.unwrap().contains("Signed in"),
            "{path}"
        );
    }
}
