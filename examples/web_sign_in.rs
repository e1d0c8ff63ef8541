//! "Sign in with Plex" in a web app, on axum.
//!
//! `GET /` shows the button; `GET /login` creates a PIN, keeps its
//! [`PinState`] under its callback state, and sends the browser to the
//! hosted sign-in page with a forward URL back to `/callback`;
//! `GET /callback?state=..` takes that state out of the store (so that a
//! replayed or forged callback finds nothing), resumes the PIN, checks it
//! once, and shows who signed in.
//!
//! ```sh
//! cargo run --example web_sign_in -- --demo   # offline, against a fake plex.tv
//! cargo run --example web_sign_in             # the real plex.tv
//! ```
//!
//! Add `--port N` to choose the port (default 8080; 0 picks a free one).

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use plex_tv::{
    pin::{PinState, PinStatus},
    testing::FakePlexTv,
    ClientIdentifier, ClientIdentity, PlexTv,
};
use tokio::{net::TcpListener, sync::Mutex};

/// What the app keeps: the client, and the pending sign-ins by callback
/// state (a web app with several processes would keep them in its session
/// store or a signed cookie: a `PinState` holds no secret).
pub struct App {
    client: PlexTv,
    base_url: String,
    pending: Mutex<HashMap<String, PinState>>,
}

/// The app's routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .with_state(app)
}

/// Serves the app on `listener` with `client`; returns when the server
/// stops.
pub async fn serve(listener: TcpListener, client: PlexTv) -> std::io::Result<()> {
    let base_url = format!("http://{}", listener.local_addr()?);
    let app = Arc::new(App {
        client,
        base_url,
        pending: Mutex::new(HashMap::new()),
    });
    axum::serve(listener, router(app)).await
}

/// A fake plex.tv and a client for it whose hosted sign-in page is the
/// fake's own, for `--demo` and the tests.
pub async fn demo_client() -> (FakePlexTv, PlexTv) {
    let fake = FakePlexTv::start().await;
    let client = PlexTv::builder()
        .identity(ClientIdentity::new(
            "Web Sign-in Demo",
            ClientIdentifier::new_random(),
        ))
        .all_hosts_url(fake.base_url())
        .auth_page_url(fake.auth_page_url())
        .build()
        .expect("a client for the fake builds");
    (fake, client)
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;margin:3em}} a.button{{background:#e5a00d;color:#000;\
         padding:.7em 1.5em;border-radius:4px;text-decoration:none}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn home() -> Html<String> {
    page(
        "My Plex companion",
        "<p><a class=\"button\" id=\"sign-in\" href=\"/login\">Sign in with Plex</a></p>",
    )
}

async fn login(State(app): State<Arc<App>>) -> Response {
    let forward = format!("{}/callback", app.base_url);
    match app.client.pin_login().forward_url(forward).start().await {
        Ok(pin) => {
            let url = pin.auth_url();
            app.pending
                .lock()
                .await
                .insert(pin.callback_state().to_owned(), pin.state());
            Redirect::to(url.as_str()).into_response()
        }
        Err(error) => failure(StatusCode::BAD_GATEWAY, &error.to_string()),
    }
}

#[derive(serde::Deserialize)]
struct Callback {
    state: Option<String>,
}

async fn callback(State(app): State<Arc<App>>, Query(query): Query<Callback>) -> Response {
    let Some(state_value) = query.state else {
        return failure(StatusCode::BAD_REQUEST, "The sign-in link has no state.");
    };
    // One use per state: a replay finds nothing.
    let Some(state) = app.pending.lock().await.remove(&state_value) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "Unknown or already used sign-in: start again.",
        );
    };
    if state.verify_callback(&state_value).is_err() {
        return failure(StatusCode::BAD_REQUEST, "This sign-in link is not valid.");
    }
    let pending = match app.client.resume_pin(&state) {
        Ok(pending) => pending,
        Err(error) => return failure(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    match pending.check().await {
        Ok(PinStatus::SignedIn(client)) => signed_in(&client).await,
        Ok(PinStatus::Waiting { .. }) => {
            // Not approved yet (the user came back early): keep the state.
            app.pending.lock().await.insert(state_value, state);
            page(
                "Waiting for Plex",
                "<p id=\"waiting\">Approve the sign-in on the Plex page, then reload this one.</p>",
            )
            .into_response()
        }
        Ok(_) => failure(StatusCode::GONE, "The sign-in expired: start again."),
        Err(error) => failure(StatusCode::BAD_GATEWAY, &error.to_string()),
    }
}

async fn signed_in(client: &PlexTv) -> Response {
    match client.get_user().send().await {
        Ok(user) => {
            let name = user
                .username
                .clone()
                .or(user.title.clone())
                .unwrap_or_default();
            // A real app would now keep the token (client.token()) in its
            // session store, never in a cookie the browser can read.
            page(
                "Signed in",
                &format!("<p id=\"signed-in\">Signed in as {}</p>", escape(&name)),
            )
            .into_response()
        }
        Err(error) => failure(
            StatusCode::BAD_GATEWAY,
            &plex_tv::Error::from(error).to_string(),
        ),
    }
}

fn failure(status: StatusCode, message: &str) -> Response {
    (
        status,
        page(
            "Sign-in failed",
            &format!("<p id=\"error\">{}</p>", escape(message)),
        ),
    )
        .into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let demo = args.iter().any(|a| a == "--demo");
    let port: u16 = match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).ok_or("--port needs a number")?.parse()?,
        None => 8080,
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let (_fake, client) = if demo {
        let (fake, client) = demo_client().await;
        (Some(fake), client)
    } else {
        let id = ClientIdentifier::load_or_create("web-sign-in-client-id")?;
        let client = PlexTv::builder()
            .identity(ClientIdentity::new("Web Sign-in Example", id))
            .build()?;
        (None, client)
    };
    println!("Open http://{}/ in a browser", listener.local_addr()?);
    if demo {
        println!("(a fake plex.tv plays the hosted sign-in page: click Approve there)");
    }
    serve(listener, client).await?;
    Ok(())
}
