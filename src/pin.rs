//! PIN sign-in: create a PIN, show it to the user, poll until they approve
//! it, and get back a signed-in [`PlexTv`].
//!
//! ```no_run
//! # async fn demo(client: plex_tv::PlexTv) -> Result<(), plex_tv::Error> {
//! let pin = client.pin_login().start().await?; // strong PIN by default
//! println!("Open {}", pin.auth_url()); // the hosted sign-in page
//! let signed_in = pin.wait().await?; // same identity, now with the token
//! let me = signed_in.get_user().send().await?;
//! # Ok(()) }
//! ```
//!
//! With a [`DeviceKey`], the same sign-in ends with a short-lived plex.tv
//! JWT bound to the key, which the signed-in client refreshes by itself:
//!
//! ```no_run
//! # async fn demo(client: plex_tv::PlexTv) -> Result<(), plex_tv::Error> {
//! let key = plex_tv::DeviceKey::load_or_create("device-key.pem")?;
//! let pin = client.pin_login().device_key(key).start().await?;
//! println!("Open {}", pin.auth_url());
//! let signed_in = pin.wait().await?; // its token is a verified plex.tv JWT
//! # Ok(()) }
//! ```
//!
//! Polling stops when the PIN is approved, expires (by its `expiresAt`, or a
//! 404), times out, is cancelled, or plex.tv rejects it; transient failures
//! (5xx, timeouts, broken connections) are ridden out with backoff and a 429
//! waits as long as plex.tv asks. Dropping the future or stream stops
//! polling at once.

use std::{
    pin::pin,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use futures_core::Stream;
use futures_util::StreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;
use url::Url;

mod web;

pub use web::{PinState, PinStatus};

use crate::{
    refresh,
    server_text::{display_text, Secrets},
    types, DeviceKey, Error, PlexTv, RetryPolicy,
};

/// The hosted sign-in page for strong PINs.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// use plex_tv::pin::AUTH_PAGE;
///
/// let pin = client.pin_login().start().await?;
/// assert!(pin.auth_url().as_str().starts_with(AUTH_PAGE));
/// # Ok(()) }
/// ```
pub const AUTH_PAGE: &str = "https://app.plex.tv/auth";

/// Where users type a 4-character link code.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// use plex_tv::pin::LINK_PAGE;
///
/// let pin = client.pin_login().link_code().start().await?;
/// println!("Go to {LINK_PAGE} and enter {}", pin.code());
/// assert_eq!(pin.link_url().as_str(), LINK_PAGE);
/// # Ok(()) }
/// ```
pub const LINK_PAGE: &str = "https://plex.tv/link";

/// The shortest poll interval accepted; plex.tv answers faster polling with
/// 429. A shorter interval is raised to it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// use plex_tv::pin::MIN_POLL_INTERVAL;
///
/// # fake.approve_after_polls(1);
/// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
/// let signed_in = pin.wait().await?;
/// # assert_eq!(signed_in.token(), Some(&fake.token()));
/// # Ok(()) }
/// ```
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The longest poll interval accepted: a PIN lives 15 to 30 minutes. A
/// longer interval is lowered to it.
///
/// ```
/// use std::time::Duration;
/// use plex_tv::pin::MAX_POLL_INTERVAL;
///
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .build()?;
/// // Polls every minute, not every ten.
/// let login = client.pin_login().poll_interval(Duration::from_secs(600));
/// assert_eq!(MAX_POLL_INTERVAL, Duration::from_secs(60));
/// # let _ = login;
/// # Ok::<(), plex_tv::Error>(())
/// ```
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// The longest wait a 429 can impose between polls.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30 * 60);

/// The longest pause between polls after repeated failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Characters left as they are in `auth_url` values: RFC 3986 unreserved.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl PlexTv {
    /// Starts configuring a PIN sign-in. No token is needed: the PIN is
    /// created and polled without one, with this client's identity.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// # fake.approve_after_polls(1);
    /// let pin = client.pin_login().start().await?;
    /// println!("Open {} to sign in", pin.auth_url());
    /// let signed_in = pin.wait().await?;
    /// let me = signed_in.get_user().send().await?;
    /// # assert_eq!(signed_in.token(), Some(&fake.token()));
    /// # let _ = me;
    /// # Ok(()) }
    /// ```
    pub fn pin_login(&self) -> PinLoginBuilder {
        PinLoginBuilder {
            client: self.without_token(),
            strong: true,
            forward_url: None,
            poll_interval: Duration::from_secs(1),
            timeout: None,
            device_key: None,
        }
    }

    /// The hosted sign-in page PIN sign-in points to.
    pub(crate) fn auth_page(&self) -> &str {
        let page = self.api().inner.settings.auth_page.as_deref();
        page.unwrap_or(AUTH_PAGE)
    }
}

/// Options of a PIN sign-in; [`start`](Self::start) creates the PIN.
///
/// ```no_run
/// # async fn demo(client: plex_tv::PlexTv) -> Result<(), plex_tv::Error> {
/// use std::time::Duration;
///
/// let pin = client
///     .pin_login()
///     .link_code() // a 4-character code for https://plex.tv/link
///     .poll_interval(Duration::from_secs(2))
///     .timeout(Duration::from_secs(300))
///     .start()
///     .await?;
/// println!("Go to {} and enter {}", pin.link_url(), pin.code());
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct PinLoginBuilder {
    client: PlexTv,
    strong: bool,
    forward_url: Option<String>,
    poll_interval: Duration,
    timeout: Option<Duration>,
    device_key: Option<DeviceKey>,
}

impl PinLoginBuilder {
    /// A strong PIN, for the hosted sign-in page (the default).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().strong().start().await?;
    /// // The long code travels inside the URL; users never type it.
    /// assert!(pin.auth_url().as_str().contains(pin.code()));
    /// # Ok(()) }
    /// ```
    pub fn strong(mut self) -> Self {
        self.strong = true;
        self
    }

    /// A 4-character code that the user types at <https://plex.tv/link>,
    /// for devices without a browser.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().link_code().start().await?;
    /// assert_eq!(pin.code().len(), 4);
    /// println!("Go to {} and enter {}", pin.link_url(), pin.code());
    /// # Ok(()) }
    /// ```
    pub fn link_code(mut self) -> Self {
        self.strong = false;
        self
    }

    /// Where the browser goes after signing in on the hosted page.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client
    ///     .pin_login()
    ///     .forward_url("https://example.com/signed-in")
    ///     .start()
    ///     .await?;
    /// assert!(pin.auth_url().as_str().contains("forwardUrl=https%3A%2F%2Fexample.com%2Fsigned-in"));
    /// # Ok(()) }
    /// ```
    pub fn forward_url(mut self, url: impl Into<String>) -> Self {
        self.forward_url = Some(url.into());
        self
    }

    /// How often to poll (default 1 s, from [`MIN_POLL_INTERVAL`] to
    /// [`MAX_POLL_INTERVAL`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// use std::time::Duration;
    ///
    /// # fake.approve_after_polls(1);
    /// let pin = client
    ///     .pin_login()
    ///     .poll_interval(Duration::from_millis(500))
    ///     .start()
    ///     .await?;
    /// let signed_in = pin.wait().await?;
    /// # let _ = signed_in;
    /// # Ok(()) }
    /// ```
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL);
        self
    }

    /// Give up after this long (default: when the PIN expires); the sign-in
    /// then ends with [`Error::PinTimedOut`], on time even while a poll is
    /// still waiting for plex.tv's answer (that request is dropped).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// use std::time::Duration;
    /// use plex_tv::Error;
    ///
    /// let pin = client
    ///     .pin_login()
    ///     .timeout(Duration::from_millis(300))
    ///     .start()
    ///     .await?;
    /// // Nobody approves it here.
    /// assert!(matches!(pin.wait().await, Err(Error::PinTimedOut(_))));
    /// # Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Signs in with a device key (JWT sign-in): the PIN carries the key's
    /// public JWK, polls prove possession of the key, and the signed-in
    /// client's token is a plex.tv JWT that it verifies and refreshes by
    /// itself. The requests go to `https://clients.plex.tv`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .clients_base_url(fake.base_url())
    /// #     .build()?;
    /// use plex_tv::{pin::MIN_POLL_INTERVAL, DeviceKey};
    ///
    /// # fake.approve_after_polls(1);
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("device-key.pem");
    /// let key = DeviceKey::load_or_create(path)?;
    /// let pin = client
    ///     .pin_login()
    ///     .device_key(key.clone())
    /// #   .poll_interval(MIN_POLL_INTERVAL)
    ///     .start()
    ///     .await?;
    /// let signed_in = pin.wait().await?;
    /// assert_eq!(signed_in.device_key(), Some(&key));
    /// # Ok(()) }
    /// ```
    pub fn device_key(mut self, key: DeviceKey) -> Self {
        self.device_key = Some(key);
        self
    }

    /// Creates the PIN on plex.tv.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().link_code().start().await?;
    /// println!("PIN {} expires at {:?}", pin.id(), pin.expires_at());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for settings that cannot work (a forward URL
    /// that is not a URL, say), [`Error::RateLimited`] when plex.tv limits PIN
    /// creation, and the errors of any request.
    pub async fn start(self) -> Result<PendingPin, Error> {
        let started = Instant::now();
        let pin = self.create().await?;
        let expires = expiry_instant(&pin, started);
        Ok(PendingPin {
            // Polls are retried here, with the PIN's own rules, not by the client.
            poller: self.client.with_retry(RetryPolicy::none()),
            client: self.client,
            pin,
            strong: self.strong,
            forward_url: self.forward_url,
            poll_interval: self.poll_interval,
            // A timeout too large to represent is no timeout at all.
            deadline: self
                .timeout
                .and_then(|t| Some((started.checked_add(t)?, t))),
            expires,
            cancel: CancellationToken::new(),
            device_key: self.device_key,
            callback_state: web::new_callback_state(),
        })
    }

    async fn create(&self) -> Result<types::Pin, Error> {
        let Some(key) = &self.device_key else {
            let created = self.client.create_pin().strong(self.strong).send().await?;
            return Ok(created.into_inner());
        };
        let body = types::DevicePinRequest {
            jwk: key.public_jwk(),
            // plex.tv's own clients omit `strong` for a link code.
            strong: self.strong.then_some(true),
        };
        let created = self.client.create_device_pin().body(body).send().await?;
        Ok(created.into_inner())
    }
}

/// `at + wait`, or a time so far ahead that the PIN's expiry comes first when
/// the sum cannot be represented (a `Retry-After` of 2^64 seconds, say).
fn later(at: Instant, wait: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    at.checked_add(wait)
        .or_else(|| at.checked_add(FAR))
        .unwrap_or(at)
}

/// When the PIN expires, as an `Instant`: from `expiresIn` when plex.tv sends
/// it (immune to clock skew), else from `expiresAt`.
fn expiry_instant(pin: &types::Pin, created: Instant) -> Option<Instant> {
    if let Some(seconds) = pin.expires_in.filter(|s| *s >= 0) {
        // An absurd `expiresIn` means no usable expiry, not a panic.
        return created.checked_add(Duration::from_secs(seconds as u64));
    }
    let left = pin.expires_at? - Utc::now();
    created.checked_add(left.to_std().unwrap_or(Duration::ZERO))
}

/// A PIN waiting for the user's approval, from
/// [`PinLoginBuilder::start`]: show it, then [`wait`](Self::wait) for the
/// approval or follow the [`events`](Self::events).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// let pin = client.pin_login().link_code().start().await?;
/// println!("Go to {} and enter {}", pin.link_url(), pin.code());
/// if let Some(qr) = pin.qr_url() {
///     println!("or scan the QR code at {qr}");
/// }
/// # fake.approve(pin.id());
/// let signed_in = pin.wait().await?;
/// # let _ = signed_in;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PendingPin {
    client: PlexTv,
    poller: PlexTv,
    pin: types::Pin,
    /// A strong PIN (the hosted page) or a link code.
    strong: bool,
    forward_url: Option<String>,
    poll_interval: Duration,
    deadline: Option<(Instant, Duration)>,
    expires: Option<Instant>,
    cancel: CancellationToken,
    device_key: Option<DeviceKey>,
    /// Binds a web app's callback to this PIN (see `callback_state`).
    callback_state: String,
}

impl PendingPin {
    /// The PIN's id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// assert_eq!(pin.id(), pin.pin().id);
    /// # Ok(()) }
    /// ```
    pub fn id(&self) -> i64 {
        self.pin.id
    }

    /// The code: show it for link codes; it is part of `auth_url` for strong PINs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().link_code().start().await?;
    /// println!("Enter {} at https://plex.tv/link", pin.code());
    /// # Ok(()) }
    /// ```
    pub fn code(&self) -> &str {
        &self.pin.code
    }

    /// When the PIN expires, as plex.tv reported it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// if let Some(at) = pin.expires_at() {
    ///     println!("sign in before {}", at.format("%H:%M"));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.pin.expires_at
    }

    /// How long until the PIN expires.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// let left = pin.time_left().expect("plex.tv says when");
    /// println!("{} minutes left to sign in", left.as_secs() / 60);
    /// # Ok(()) }
    /// ```
    pub fn time_left(&self) -> Option<Duration> {
        self.expires
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The PIN as plex.tv sent it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// assert_eq!(pin.pin().code, pin.code());
    /// # Ok(()) }
    /// ```
    pub fn pin(&self) -> &types::Pin {
        &self.pin
    }

    /// The hosted sign-in page for this PIN (strong PINs): `clientID`,
    /// `code`, every `context[device][...]` value of the identity and
    /// `forwardUrl`, each percent-encoded.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().forward_url("https://example.com/done").start().await?;
    /// assert!(pin.auth_url().as_str().starts_with("https://app.plex.tv/auth#?"));
    /// # Ok(()) }
    /// ```
    pub fn auth_url(&self) -> Url {
        let forward = self
            .forward_url
            .as_deref()
            .map(|url| web::with_state(url, &self.callback_state));
        auth_url(
            self.client.auth_page(),
            self.client.identity(),
            &self.pin.code,
            forward.as_deref(),
        )
    }

    /// Where the user types a link code: <https://plex.tv/link>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().link_code().start().await?;
    /// assert_eq!(pin.link_url().as_str(), "https://plex.tv/link");
    /// # Ok(()) }
    /// ```
    pub fn link_url(&self) -> Url {
        Url::parse(LINK_PAGE).expect("a valid constant URL")
    }

    /// The URL of a QR code image that leads to the link page (link codes):
    /// the one plex.tv sent, or plex.tv's usual one when it sent none.
    ///
    /// Only `https` URLs come out (and `http` ones on a loopback host, for
    /// tests): `None` when plex.tv sent a URL of another scheme
    /// (`javascript:`, `file:`, `data:`, plain `http` elsewhere), with
    /// credentials, or none that parses, since an app would show or fetch it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().link_code().start().await?;
    /// let qr = pin.qr_url().expect("a link code has a QR code");
    /// assert_eq!(qr.scheme(), "https");
    /// println!("scan {qr} to sign in");
    /// # Ok(()) }
    /// ```
    pub fn qr_url(&self) -> Option<Url> {
        let url = match &self.pin.qr {
            Some(qr) => Url::parse(qr).ok()?,
            None => {
                let mut url = Url::parse("https://plex.tv/api/v2/pins/qr/").ok()?;
                // The code is server text too: one path segment, encoded.
                url.path_segments_mut()
                    .ok()?
                    .pop_if_empty()
                    .push(&self.pin.code);
                url
            }
        };
        is_safe_to_show(&url).then_some(url)
    }

    /// A handle that stops the sign-in from elsewhere (a GUI's cancel
    /// button, say); [`wait`](Self::wait) then ends with [`Error::Cancelled`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// use plex_tv::Error;
    ///
    /// let pin = client.pin_login().start().await?;
    /// let handle = pin.cancel_handle();
    /// let on_cancel_clicked = move || handle.cancel();
    /// # on_cancel_clicked();
    /// assert!(matches!(pin.wait().await, Err(Error::Cancelled)));
    /// # Ok(()) }
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel.clone())
    }

    /// Polls until the PIN is approved, and returns the signed-in client:
    /// the same identity and settings, with the new token. Ends with an
    /// error when the PIN expires ([`Error::PinExpired`]), times out,
    /// is cancelled or rejected. The expiry and the timeout hold whatever
    /// the server does: a poll it never answers is dropped when either
    /// comes.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// # fake.approve_after_polls(1);
    /// let pin = client.pin_login().start().await?;
    /// println!("Open {}", pin.auth_url());
    /// let signed_in = pin.wait().await?;
    /// let token = signed_in.token().expect("signed in"); // store it
    /// # assert_eq!(token, &fake.token());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::PinExpired`] when the PIN expires unapproved,
    /// [`Error::PinTimedOut`] after the [`timeout`](PinLoginBuilder::timeout),
    /// [`Error::Cancelled`] through a [`CancelHandle`], and the errors of a poll
    /// that retrying does not mend (a refused token, a rejected device key).
    pub async fn wait(self) -> Result<PlexTv, Error> {
        let mut events = pin!(self.events());
        while let Some(event) = events.next().await {
            if let Some(outcome) = event.into_outcome() {
                return outcome;
            }
        }
        Err(Error::Cancelled)
    }

    /// The sign-in as a stream of [`PinEvent`]s, for UIs that show progress.
    /// It ends after the final event, which is the outcome `wait` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// use futures_util::StreamExt;
    /// use plex_tv::pin::{PinEvent, MIN_POLL_INTERVAL};
    ///
    /// # fake.approve_after_polls(2);
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// let mut events = std::pin::pin!(pin.events());
    /// while let Some(event) = events.next().await {
    ///     if let PinEvent::Waiting { time_left } = &event {
    ///         println!("waiting for approval, {time_left:?} left");
    ///     }
    ///     if let Some(outcome) = event.into_outcome() {
    ///         let signed_in = outcome?;
    ///         println!("signed in with {:?}", signed_in.token());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(self) -> impl Stream<Item = PinEvent> + Send {
        let next_poll = later(Instant::now(), self.poll_interval);
        futures_util::stream::unfold(Some((self, next_poll, 0u32)), |state| async move {
            let (pin, next_poll, failures) = state?;
            let (event, next) = pin.step(next_poll, failures).await;
            let state = next.map(|(when, failures)| (pin, when, failures));
            Some((event, state))
        })
    }

    /// Waits until `next_poll` and polls once. Returns the event, and when
    /// polling goes on, the time of the next poll and the failure count.
    async fn step(&self, next_poll: Instant, failures: u32) -> (PinEvent, Option<(Instant, u32)>) {
        if let Some((end_at, end)) = self.end().filter(|(at, _)| *at <= next_poll) {
            return match self.sleep_until(end_at).await {
                Some(cancelled) => (cancelled, None),
                None => (end, None),
            };
        }
        if let Some(cancelled) = self.sleep_until(next_poll).await {
            return (cancelled, None);
        }
        // The poll races the end too: a server that accepts the request and
        // never answers must not hold the sign-in past its timeout or the
        // PIN's expiry (the request's own timeout is far longer).
        let result = tokio::select! {
            result = self.poll() => result,
            () = self.cancel.cancelled() => return (PinEvent::Cancelled, None),
            end = self.reach_end() => return (end, None),
        };
        self.judge(result, failures)
    }

    /// Waits for the end of the sign-in by time (expiry or timeout); never
    /// returns when there is none.
    async fn reach_end(&self) -> PinEvent {
        match self.end() {
            Some((at, end)) => {
                tokio::time::sleep_until(at.into()).await;
                end
            }
            None => std::future::pending().await,
        }
    }

    /// Polls the PIN once: the signed-in client once it is approved.
    async fn poll(&self) -> Result<Option<PlexTv>, Error> {
        let Some(key) = &self.device_key else {
            let pin = self.poller.get_pin().pin_id(self.pin.id).send().await?;
            let token = pin.into_inner().auth_token.filter(|t| !t.is_empty());
            return Ok(token.map(|token| self.client.with_token(token)));
        };
        // A fresh nonce per poll: plex.tv may accept each nonce only once.
        let clients = self.poller.api();
        let jwt = refresh::signed_client_jwt(clients, key).await?;
        let pin = clients
            .get_device_pin()
            .pin_id(self.pin.id)
            .device_jwt(jwt.expose_secret())
            .send()
            .await?;
        let Some(token) = pin.into_inner().auth_token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        refresh::verify(clients, &token, key).await?;
        Ok(Some(self.client.with_device_key(key.clone(), Some(token))))
    }

    /// When and how the sign-in ends by time, if it does: the PIN's expiry
    /// or the timeout, whichever comes first (expiry on a tie). Both are
    /// known in advance, so no request is sent once either has passed.
    fn end(&self) -> Option<(Instant, PinEvent)> {
        let expiry = self.expires.map(|at| (at, PinEvent::Expired));
        let timeout = self
            .deadline
            .map(|(at, limit)| (at, PinEvent::TimedOut(limit)));
        match (expiry, timeout) {
            (Some(expiry), Some(timeout)) if timeout.0 < expiry.0 => Some(timeout),
            (Some(expiry), _) => Some(expiry),
            (None, timeout) => timeout,
        }
    }

    /// Sleeps until `at`, or returns `Cancelled` if cancelled first.
    async fn sleep_until(&self, at: Instant) -> Option<PinEvent> {
        tokio::select! {
            () = tokio::time::sleep_until(at.into()) => None,
            () = self.cancel.cancelled() => Some(PinEvent::Cancelled),
        }
    }

    /// Turns one poll's result into an event and the next poll's schedule.
    fn judge(
        &self,
        result: Result<Option<PlexTv>, Error>,
        failures: u32,
    ) -> (PinEvent, Option<(Instant, u32)>) {
        let now = Instant::now();
        match result {
            Ok(signed_in) => match signed_in {
                Some(client) => (PinEvent::Authorized(Box::new(client)), None),
                None => (
                    PinEvent::Waiting {
                        time_left: self.time_left(),
                    },
                    Some((later(now, self.poll_interval), 0)),
                ),
            },
            Err(Error::Api {
                status: StatusCode::NOT_FOUND,
                ..
            }) => (PinEvent::Expired, None),
            Err(Error::RateLimited { retry_after }) => {
                // No PIN outlives half an hour: a longer Retry-After is
                // capped, and the PIN's expiry ends the wait anyway.
                let wait = retry_after
                    .unwrap_or(self.backoff(failures))
                    .clamp(self.poll_interval, MAX_RATE_LIMIT_WAIT);
                (
                    PinEvent::Retrying {
                        retry_in: wait,
                        reason: "rate-limited by plex.tv".into(),
                    },
                    Some((later(now, wait), failures + 1)),
                )
            }
            Err(error) if error.is_transient() => {
                let wait = self.backoff(failures);
                (
                    PinEvent::Retrying {
                        retry_in: wait,
                        // UIs show it: bounded, and cleaned once more.
                        reason: display_text(&error.to_string(), &Secrets::known()),
                    },
                    Some((later(now, wait), failures + 1)),
                )
            }
            Err(error) => (PinEvent::Rejected(error), None),
        }
    }

    /// The pause after `failures` failed polls in a row: the poll interval,
    /// doubling per failure, at most 30 s.
    fn backoff(&self, failures: u32) -> Duration {
        self.poll_interval
            .saturating_mul(1 << failures.min(5))
            .min(MAX_BACKOFF)
    }
}

/// Whether a URL from plex.tv may be handed to an app to show or fetch:
/// `https`, or `http` on a loopback host, and no credentials.
fn is_safe_to_show(url: &Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let scheme_ok = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => loopback,
        _ => false,
    };
    scheme_ok && url.username().is_empty() && url.password().is_none()
}

/// Builds the hosted sign-in page URL.
pub(crate) fn auth_url(
    page: &str,
    identity: &crate::ClientIdentity,
    code: &str,
    forward_url: Option<&str>,
) -> Url {
    let mut pairs = vec![
        ("clientID".to_owned(), identity.client_identifier().as_str()),
        ("code".to_owned(), code),
    ];
    for (key, value) in identity.device_context() {
        pairs.push((format!("context[device][{key}]"), value));
    }
    if let Some(forward) = forward_url {
        pairs.push(("forwardUrl".to_owned(), forward));
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, VALUE)))
        .collect();
    Url::parse(&format!("{page}#?{}", query.join("&")))
        .expect("percent-encoded pairs form a valid URL")
}

/// Stops a pending sign-in from another task or a UI callback; get one
/// from [`PendingPin::cancel_handle`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// use plex_tv::Error;
///
/// let pin = client.pin_login().start().await?;
/// let handle = pin.cancel_handle();
/// tokio::spawn(async move {
///     // The user gave up.
///     handle.cancel();
/// });
/// assert!(matches!(pin.wait().await, Err(Error::Cancelled)));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct CancelHandle(CancellationToken);

impl CancelHandle {
    /// Stops polling; the sign-in ends with [`Error::Cancelled`]. Calling it
    /// again, or after the sign-in ended, does nothing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// let handle = pin.cancel_handle();
    /// handle.cancel();
    /// assert!(pin.wait().await.is_err());
    /// # Ok(()) }
    /// ```
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

/// Progress of a PIN sign-in, from [`PendingPin::events`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// use futures_util::StreamExt;
/// use plex_tv::pin::{PinEvent, MIN_POLL_INTERVAL};
///
/// # fake.approve_after_polls(1);
/// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
/// let mut events = std::pin::pin!(pin.events());
/// while let Some(event) = events.next().await {
///     match event {
///         PinEvent::Waiting { time_left } => println!("waiting, {time_left:?} left"),
///         PinEvent::Retrying { retry_in, reason } => println!("{reason}; retrying in {retry_in:?}"),
///         PinEvent::Authorized(signed_in) => println!("signed in: {:?}", signed_in.token()),
///         PinEvent::Expired | PinEvent::TimedOut(_) => println!("too late: start again"),
///         PinEvent::Cancelled => println!("cancelled"),
///         PinEvent::Rejected(error) => return Err(error),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PinEvent {
    /// The PIN is not approved yet.
    Waiting {
        /// Time until the PIN expires, if known.
        time_left: Option<Duration>,
    },
    /// A poll failed for a passing reason; polling goes on.
    Retrying {
        /// When the next poll is sent.
        retry_in: Duration,
        /// What went wrong, safe to show: no token, no control
        /// characters, at most 1 KiB.
        reason: String,
    },
    /// Final: the user approved the PIN; here is the signed-in client.
    Authorized(Box<PlexTv>),
    /// Final: the PIN expired.
    Expired,
    /// Final: the timeout set with [`PinLoginBuilder::timeout`] passed.
    TimedOut(Duration),
    /// Final: the sign-in was cancelled.
    Cancelled,
    /// Final: plex.tv rejected a poll (for example an unknown client).
    Rejected(Error),
}

impl PinEvent {
    /// Whether this event ends the sign-in.
    ///
    /// ```
    /// use plex_tv::pin::PinEvent;
    ///
    /// assert!(!PinEvent::Waiting { time_left: None }.is_final());
    /// assert!(PinEvent::Expired.is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        !matches!(self, PinEvent::Waiting { .. } | PinEvent::Retrying { .. })
    }

    /// The outcome, for final events: what [`PendingPin::wait`] returns.
    ///
    /// ```
    /// use plex_tv::{pin::PinEvent, Error};
    ///
    /// assert!(PinEvent::Waiting { time_left: None }.into_outcome().is_none());
    /// assert!(matches!(PinEvent::Expired.into_outcome(), Some(Err(Error::PinExpired))));
    /// ```
    ///
    /// # Errors
    /// The error of a final event other than [`PinEvent::Authorized`]: the
    /// errors of [`PendingPin::wait`] ([`PinEvent::Rejected`] carries its
    /// own).
    pub fn into_outcome(self) -> Option<Result<PlexTv, Error>> {
        match self {
            PinEvent::Waiting { .. } | PinEvent::Retrying { .. } => None,
            PinEvent::Authorized(client) => Some(Ok(*client)),
            PinEvent::Expired => Some(Err(Error::PinExpired)),
            PinEvent::TimedOut(limit) => Some(Err(Error::PinTimedOut(limit))),
            PinEvent::Cancelled => Some(Err(Error::Cancelled)),
            PinEvent::Rejected(error) => Some(Err(error)),
        }
    }
}

impl PlexTv {
    /// Approves a 4-character link code shown by another device, for this
    /// client's account (the phone side of [`PinLoginBuilder::link_code`]).
    /// Sent as product `Plex SSO`, like plex.tv's own apps.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// # let tv = client;
    /// # let pin = tv.pin_login().link_code().poll_interval(plex_tv::pin::MIN_POLL_INTERVAL).start().await?;
    /// # let code = pin.code().to_owned();
    /// # let signed_in = tv.with_token(fake.token());
    /// // On the phone, signed in; `code` is what the TV shows.
    /// signed_in.approve_link_code(&code).await?;
    /// # assert!(pin.wait().await.is_ok());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a code that is not letters and digits or
    /// a client without a token; plex.tv's answer otherwise (a 404 for an
    /// unknown or expired code).
    pub async fn approve_link_code(&self, code: &str) -> Result<(), Error> {
        let code = code.trim();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::invalid_input(format!(
                "{code:?} is not a link code; it is the 4 letters and digits the other device shows"
            )));
        }
        // A device-key client without a stored JWT obtains one on the way.
        if self.current_token().is_none() && self.device_key().is_none() {
            return Err(Error::invalid_input(
                "linking a code needs a signed-in client: set a token first",
            ));
        }
        let form = types::LinkPinForm {
            code: code.to_uppercase(),
        };
        // plex.tv's own apps link codes as "Plex SSO", whatever app runs them.
        let sso = reqwest::header::HeaderValue::from_static("Plex SSO");
        let linker = self.with_default_header(
            reqwest::header::HeaderName::from_static("x-plex-product"),
            sso,
        );
        linker.api().link_pin().body(form).send().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientIdentifier, ClientIdentity};

    #[test]
    fn auth_url_encodes_every_value() {
        let identity = ClientIdentity::new(
            "My App & Co #1",
            "id-1".parse::<ClientIdentifier>().unwrap(),
        )
        .version("1.0 beta")
        .device_name("Küche");
        let url = auth_url(
            AUTH_PAGE,
            &identity,
            "abc",
            Some("https://x.example/?a=1&b=2"),
        );
        let text = url.as_str();
        assert!(
            text.starts_with("https://app.plex.tv/auth#?clientID=id-1&code=abc&"),
            "{text}"
        );
        assert!(
            text.contains("context[device][product]=My%20App%20%26%20Co%20%231"),
            "{text}"
        );
        assert!(
            text.contains("context[device][deviceName]=K%C3%BCche"),
            "{text}"
        );
        assert!(
            text.ends_with("forwardUrl=https%3A%2F%2Fx.example%2F%3Fa%3D1%26b%3D2"),
            "{text}"
        );
    }
}
