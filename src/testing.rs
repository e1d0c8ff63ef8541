//! A fake plex.tv on loopback, for testing Plex apps offline.
//!
//! Enabled by the `testing` feature. [`FakePlexTv`] serves the PIN sign-in
//! endpoints with real-looking responses, the account and the resources,
//! and lets a test decide what happens: approve a PIN after some polls or on
//! demand, let it expire, rate-limit it, or fail polls with an outage.
//!
//! It also plays `https://clients.plex.tv` for device-key (JWT) sign-in:
//! nonces, device key registration, client JWT exchange and its own
//! published Ed25519 signing keys, which it can rotate, and JWTs as
//! short-lived as a test needs (see [`FakePlexTv::jwt_lifetime`]). Point
//! both [`base_url`](crate::PlexTvBuilder::base_url) and
//! [`clients_base_url`](crate::PlexTvBuilder::clients_base_url) at it.
//!
//! Keep the identity's values ASCII in tests that use it: the mock server
//! underneath (httpmock) answers 500 to header values it cannot read as
//! text, such as a device name `Küche`, which plex.tv itself accepts.
//!
//! ```
//! use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), plex_tv::Error> {
//! let fake = FakePlexTv::start().await;
//! fake.approve_after_polls(2);
//!
//! let client = PlexTv::builder()
//!     .identity(ClientIdentity::new("Test", ClientIdentifier::new_random()))
//!     .base_url(fake.base_url())
//!     .build()?;
//! let pin = client.pin_login().start().await?;
//! let signed_in = pin.wait().await?;
//! let me = signed_in.get_user().send().await?;
//! assert_eq!(me.username.as_deref(), Some("fake-user"));
//! # Ok(()) }
//! ```

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use chrono::Utc;
use httpmock::{HttpMockRequest, HttpMockResponse, Method::*, MockServer};
use serde_json::{json, Value};

use crate::Token;

mod auth_page;
mod discover;
mod home;
mod jwt;
mod sharing;

pub use home::FakeMediaServer;

/// The token that approved PINs carry, unless changed with [`FakePlexTv::set_token`].
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
/// use plex_tv::testing::FAKE_TOKEN;
///
/// fake.approve_after_polls(1);
/// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
/// let signed_in = pin.wait().await?;
/// assert_eq!(signed_in.token().unwrap().expose_secret(), FAKE_TOKEN);
/// # Ok(()) }
/// ```
pub const FAKE_TOKEN: &str = "fake-plex-token-0123456789";

/// The machine identifier of the server the fake's signed-in account owns
/// and shares (also in its resources).
pub const FAKE_SERVER: &str = sharing::MACHINE;

/// A request the fake server received, from [`FakePlexTv::requests`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .base_url(fake.base_url())
/// #     .build()?;
/// client.with_token(fake.token()).get_user().send().await?;
///
/// let request = fake.requests().pop().expect("one request");
/// assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", "/api/v2/user"));
/// assert!(request.had_token);
/// assert_eq!(request.client_identifier.as_deref(), Some(client.identity().client_identifier().as_str()));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// When it arrived.
    pub at: Instant,
    /// The method, for example `GET`.
    pub method: String,
    /// The path, for example `/api/v2/pins/1000`.
    pub path: String,
    /// Its `X-Plex-Client-Identifier`.
    pub client_identifier: Option<String>,
    /// Whether it carried an `X-Plex-Token`.
    pub had_token: bool,
    /// The status the fake answered with (`429` when rate-limited).
    pub status: u16,
}

/// A fake plex.tv. Dropping it stops the server.
///
/// Each test starts its own, points a client at it and decides when PINs
/// are approved:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// use plex_tv::{pin::MIN_POLL_INTERVAL, testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
///
/// let fake = FakePlexTv::start().await;
/// let client = PlexTv::builder()
///     .identity(ClientIdentity::new("Test", ClientIdentifier::new_random()))
///     .base_url(fake.base_url())
///     .clients_base_url(fake.base_url())
///     .build()?;
///
/// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
/// fake.approve(pin.id()); // the user signs in
/// let signed_in = pin.wait().await?;
/// assert_eq!(signed_in.token(), Some(&fake.token()));
/// # Ok(()) }
/// ```
pub struct FakePlexTv {
    server: MockServer,
    state: Arc<Mutex<State>>,
    /// The media servers of `start_media_server`, kept alive with the fake.
    media_servers: Mutex<Vec<Arc<MockServer>>>,
}

struct State {
    token: String,
    next_pin_id: i64,
    pins: BTreeMap<i64, FakePin>,
    approve_after: Option<u32>,
    pin_lifetime: Duration,
    rate_limited: u32,
    retry_after: Option<u64>,
    per_second: Option<PerSecond>,
    failing: u32,
    failure_status: u16,
    user: Value,
    resources: Value,
    requests: Vec<RecordedRequest>,
    jwt: jwt::JwtState,
    home: home::HomeState,
    discover: discover::DiscoverState,
    sharing: sharing::SharingState,
}

struct FakePin {
    code: String,
    client_identifier: String,
    created: Instant,
    created_at: chrono::DateTime<Utc>,
    lifetime: Duration,
    polls: u32,
    approve_after: Option<u32>,
    approved: bool,
    expired: bool,
    /// The device's public JWK, for a JWT sign-in.
    jwk: Option<Value>,
}

impl FakePin {
    fn is_expired(&self) -> bool {
        self.expired || self.created.elapsed() >= self.lifetime
    }
}

impl FakePlexTv {
    /// Starts a fake plex.tv on a loopback port.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = plex_tv::testing::FakePlexTv::start().await;
    /// assert!(fake.pin_ids().is_empty());
    /// # }
    /// ```
    pub async fn start() -> FakePlexTv {
        let fake = FakePlexTv {
            server: MockServer::start_async().await,
            state: Arc::new(Mutex::new(State::new())),
            media_servers: Mutex::new(Vec::new()),
        };
        fake.install().await;
        fake.install_discover().await;
        fake
    }

    /// The URL to pass to [`PlexTvBuilder::base_url`](crate::PlexTvBuilder::base_url)
    /// (and [`clients_base_url`](crate::PlexTvBuilder::clients_base_url)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// assert!(fake.base_url().starts_with("http://127.0.0.1:"));
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("Test", ClientIdentifier::new_random()))
    ///     .base_url(fake.base_url())
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The token approved PINs hand out, which the account endpoints accept.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// // A client that is already signed in, without a PIN sign-in.
    /// let signed_in = client.with_token(fake.token());
    /// let me = signed_in.get_user().send().await?;
    /// assert_eq!(me.username.as_deref(), Some("fake-user"));
    /// # Ok(()) }
    /// ```
    pub fn token(&self) -> Token {
        Token::new(self.state().token.clone())
    }

    /// Changes the token that approvals hand out and endpoints accept.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// fake.set_token("token-from-my-keyring");
    /// let signed_in = client.with_token("token-from-my-keyring");
    /// assert!(signed_in.get_user().send().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn set_token(&self, token: impl Into<String>) {
        self.state().token = token.into();
    }

    /// PINs created from now on are approved at their `polls`-th poll.
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
    /// fake.approve_after_polls(1);
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// let id = pin.id();
    /// pin.wait().await?;
    /// assert_eq!(fake.polls(id), 1);
    /// # Ok(()) }
    /// ```
    pub fn approve_after_polls(&self, polls: u32) {
        self.state().approve_after = Some(polls.max(1));
    }

    /// Approves a PIN now, as if the user signed in.
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
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// fake.approve(pin.id());
    /// let signed_in = pin.wait().await?;
    /// # let _ = signed_in;
    /// # Ok(()) }
    /// ```
    pub fn approve(&self, pin_id: i64) {
        if let Some(pin) = self.state().pins.get_mut(&pin_id) {
            pin.approved = true;
        }
    }

    /// Approves every PIN created so far.
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
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// fake.approve_all();
    /// assert!(pin.wait().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn approve_all(&self) {
        self.state()
            .pins
            .values_mut()
            .for_each(|pin| pin.approved = true);
    }

    /// Expires a PIN now: later polls answer 404.
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
    /// use plex_tv::Error;
    ///
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// fake.expire(pin.id());
    /// assert!(matches!(pin.wait().await, Err(Error::PinExpired)));
    /// # Ok(()) }
    /// ```
    pub fn expire(&self, pin_id: i64) {
        if let Some(pin) = self.state().pins.get_mut(&pin_id) {
            pin.expired = true;
        }
    }

    /// PINs created from now on expire after `lifetime` (default 30 min);
    /// `expiresIn` and `expiresAt` say so.
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
    /// use std::time::Duration;
    /// use plex_tv::Error;
    ///
    /// fake.pin_lifetime(Duration::from_secs(1));
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// assert!(pin.time_left().unwrap() <= Duration::from_secs(1));
    /// assert!(matches!(pin.wait().await, Err(Error::PinExpired)));
    /// # Ok(()) }
    /// ```
    pub fn pin_lifetime(&self, lifetime: Duration) {
        self.state().pin_lifetime = lifetime;
    }

    /// The next `count` PIN requests are answered 429, with `Retry-After`
    /// in seconds when given.
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
    /// use plex_tv::{Error, PlexTv, RetryPolicy};
    ///
    /// fake.rate_limit(1, Some(30));
    /// let impatient = PlexTv::builder()
    ///     .identity(client.identity().clone())
    ///     .base_url(fake.base_url())
    ///     .retry(RetryPolicy::none())
    ///     .build()?;
    /// let error = impatient.pin_login().start().await.unwrap_err();
    /// assert!(matches!(error, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)));
    /// # Ok(()) }
    /// ```
    pub fn rate_limit(&self, count: u32, retry_after: Option<u64>) {
        let mut state = self.state();
        state.rate_limited = count;
        state.retry_after = retry_after;
    }

    /// Limits every route to `requests` per second, as plex.tv does: a
    /// request that would make more than `requests` in the last second is
    /// answered 429 with code 1003 ("API rate limit exceeded"), and
    /// `Retry-After` in seconds when given; it does not count towards the
    /// limit. `None` lifts the limit. [`requests`](Self::requests) tells
    /// which ones were turned away ([`RecordedRequest::status`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv, RetryPolicy};
    ///
    /// let fake = FakePlexTv::start().await;
    /// fake.limit_per_second(Some(2), Some(1));
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My Service", ClientIdentifier::new_random()))
    ///     .base_url(fake.base_url())
    ///     .token(fake.token())
    ///     .all_hosts_rate_limit(None) // no limit of the client's own
    ///     .retry(RetryPolicy::none())
    ///     .build()?;
    /// let results = futures_util::future::join_all((0..3).map(|_| client.get_user().send())).await;
    /// let limited = results.into_iter().filter(|result| result.is_err()).count();
    /// assert_eq!(limited, 1);
    /// assert_eq!(fake.requests().iter().filter(|r| r.status == 429).count(), 1);
    /// # Ok(()) }
    /// ```
    pub fn limit_per_second(&self, requests: Option<u32>, retry_after: Option<u64>) {
        self.state().per_second = requests.map(|requests| PerSecond {
            requests,
            retry_after,
            accepted: VecDeque::new(),
        });
    }

    /// The next `count` PIN polls fail with `status` (500, 503, ...) and an
    /// HTML page, as plex.tv does during an outage.
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
    /// fake.fail_polls(1, 503);
    /// fake.approve_after_polls(1);
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// // The sign-in rides out the outage.
    /// assert!(pin.wait().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn fail_polls(&self, count: u32, status: u16) {
        let mut state = self.state();
        state.failing = count;
        state.failure_status = status;
    }

    /// Replaces the account that `GET /api/v2/user` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// fake.set_user(serde_json::json!({"id": 1, "uuid": "a1b2c3", "username": "alice"}));
    /// let me = client.with_token(fake.token()).get_user().send().await?;
    /// assert_eq!(me.username.as_deref(), Some("alice"));
    /// # Ok(()) }
    /// ```
    pub fn set_user(&self, user: Value) {
        self.state().user = user;
    }

    /// Replaces the list that `GET /api/v2/resources` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// fake.set_resources(serde_json::json!([]));
    /// let resources = client.with_token(fake.token()).get_resources().send().await?;
    /// assert!(resources.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn set_resources(&self, resources: Value) {
        self.state().resources = resources;
    }

    /// The ids of the PINs created so far.
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
    /// assert_eq!(fake.pin_ids(), [pin.id()]);
    /// # Ok(()) }
    /// ```
    pub fn pin_ids(&self) -> Vec<i64> {
        self.state().pins.keys().copied().collect()
    }

    /// How often a PIN has been polled.
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
    /// fake.approve_after_polls(1);
    /// let pin = client.pin_login().poll_interval(MIN_POLL_INTERVAL).start().await?;
    /// let id = pin.id();
    /// assert_eq!(fake.polls(id), 0);
    /// pin.wait().await?;
    /// assert_eq!(fake.polls(id), 1);
    /// # Ok(()) }
    /// ```
    pub fn polls(&self, pin_id: i64) -> u32 {
        self.state().pins.get(&pin_id).map_or(0, |pin| pin.polls)
    }

    /// Every request received so far, in order.
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
    /// let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    /// assert_eq!(paths, ["/api/v2/pins"]);
    /// # let _ = pin;
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// Adds another plex.tv account (a friend, an invitee) and returns its
    /// token, for a second client. The signed-in account owns the fake's
    /// server ([`FAKE_SERVER`]) with three libraries, `Movies`, `TV Shows`
    /// and `Music`; shares it creates appear as pending invitations for
    /// the invitee, who can accept them with this token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// let bob = client.with_token(fake.add_user("bob", "bob@example.com"));
    /// let invites = bob.list_received_pending_invites().send().await?;
    /// assert!(invites.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn add_user(&self, username: &str, email: &str) -> Token {
        Token::new(self.state().sharing.add_user(username, email))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn media_servers(&self) -> MutexGuard<'_, Vec<Arc<MockServer>>> {
        self.media_servers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn install(&self) {
        let routes: [(httpmock::Method, &str, Handler); 18] = [
            (POST, "/api/v2/pins", create_pin),
            (PUT, "/api/v2/pins/link", link_pin),
            (GET, "/api/v2/pins/", poll_pin),
            (GET, "/api/v2/user", get_user),
            (GET, "/api/v2/resources", get_resources),
            (GET, "/api/v2/auth/nonce", jwt::nonce),
            (POST, "/api/v2/auth/jwk", jwt::register_key),
            (POST, "/api/v2/auth/token", jwt::exchange),
            (GET, "/api/v2/auth/keys", jwt::keys),
            (GET, "/api/v2/home/users", home::list),
            (POST, "/api/v2/home/users/", home::post),
            (POST, "/api/home/users", home::invite),
            (GET, "/api/home/users", home::list_v1),
            (DELETE, "/api/home/users/", home::remove),
            (GET, "/api/v2/devices", home::devices),
            (DELETE, "/devices/", home::delete_device),
            (GET, "/auth", auth_page::page),
            (POST, "/auth/approve", auth_page::approve),
        ];
        for (method, path, handler) in routes {
            let state = Arc::clone(&self.state);
            self.server
                .mock_async(move |when, then| {
                    let when = when.method(method);
                    let when = if path.ends_with('/') {
                        when.path_prefix(path).path_excludes("/link")
                    } else {
                        when.path(path)
                    };
                    let _ = when;
                    then.respond_with(move |request| {
                        let mut state = lock(&state);
                        state.record(request);
                        let response = state
                            .over_rate()
                            .unwrap_or_else(|| handler(&mut state, request));
                        if let Some(last) = state.requests.last_mut() {
                            last.status = response.status.unwrap_or(200);
                        }
                        response
                    });
                })
                .await;
        }
        sharing::install(&self.server, &self.state).await;
    }
}

impl std::fmt::Debug for FakePlexTv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePlexTv")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

type Handler = fn(&mut State, &HttpMockRequest) -> HttpMockResponse;

/// A poisoned lock only means a test panicked elsewhere; the state is still usable.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    fn new() -> Self {
        State {
            token: FAKE_TOKEN.into(),
            next_pin_id: 4_294_967_296,
            pins: BTreeMap::new(),
            approve_after: None,
            pin_lifetime: Duration::from_secs(1800),
            rate_limited: 0,
            retry_after: None,
            per_second: None,
            failing: 0,
            failure_status: 503,
            user: default_user(),
            resources: default_resources(),
            requests: Vec::new(),
            jwt: jwt::JwtState::new(),
            home: home::HomeState::new(),
            discover: discover::DiscoverState::new(),
            sharing: sharing::SharingState::new(),
        }
    }

    fn record(&mut self, request: &HttpMockRequest) {
        let headers = request.headers();
        self.requests.push(RecordedRequest {
            at: Instant::now(),
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            client_identifier: header(&headers, "x-plex-client-identifier"),
            had_token: headers.contains_key("x-plex-token"),
            status: 0,
        });
    }

    /// Answers 429 to a request past the per-second limit, if one is set.
    fn over_rate(&mut self) -> Option<HttpMockResponse> {
        let limit = self.per_second.as_mut()?;
        let now = Instant::now();
        while limit
            .accepted
            .front()
            .is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1))
        {
            limit.accepted.pop_front();
        }
        if limit.accepted.len() < limit.requests as usize {
            limit.accepted.push_back(now);
            return None;
        }
        Some(too_many_requests(limit.retry_after))
    }

    /// The classic token, or a plex.tv JWT this fake issued that is neither
    /// expired nor revoked.
    fn authorized(&self, request: &HttpMockRequest) -> bool {
        let token = header(&request.headers(), "x-plex-token");
        token.as_deref() == Some(self.token.as_str())
            || token.is_some_and(|token| {
                self.jwt.accepts(&token) || self.home.by_token(&token).is_some()
            })
    }

    /// Answers 429 while a rate limit is set.
    fn rate_limited(&mut self) -> Option<HttpMockResponse> {
        if self.rate_limited == 0 {
            return None;
        }
        self.rate_limited -= 1;
        Some(too_many_requests(self.retry_after))
    }
}

/// A limit of [`FakePlexTv::limit_per_second`]: the requests it let through
/// in the last second.
struct PerSecond {
    requests: u32,
    retry_after: Option<u64>,
    accepted: VecDeque<Instant>,
}

/// plex.tv's 429: code 1003, `Retry-After` in seconds when given.
fn too_many_requests(retry_after: Option<u64>) -> HttpMockResponse {
    let mut response = HttpMockResponse::builder()
        .status(429)
        .header("content-type", "application/json");
    if let Some(seconds) = retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    response
        .body(error_body(429, 1003, "API rate limit exceeded"))
        .build()
}

fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn json_response(status: u16, body: &Value) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string())
        .build()
}

fn error_body(status: u16, code: i64, message: &str) -> String {
    json!({"errors": [{"code": code, "message": message, "status": status}]}).to_string()
}

fn error(status: u16, code: i64, message: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(error_body(status, code, message))
        .build()
}

fn create_pin(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if let Some(limited) = state.rate_limited() {
        return limited;
    }
    let Some(client_identifier) = header(&request.headers(), "x-plex-client-identifier") else {
        return error(400, 1000, "X-Plex-Client-Identifier is missing");
    };
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
    let strong = body["strong"] == true
        || request
            .query_params()
            .iter()
            .any(|(k, v)| k == "strong" && v == "true");
    let jwk = body.get("jwk").filter(|jwk| jwk.is_object()).cloned();
    let id = state.next_pin_id;
    state.next_pin_id += 1;
    let code = if strong {
        format!("{:x}", uuid::Uuid::new_v4().as_simple())
            .chars()
            .take(25)
            .collect()
    } else {
        link_code(id)
    };
    let pin = FakePin {
        code,
        client_identifier,
        created: Instant::now(),
        created_at: Utc::now(),
        lifetime: if strong {
            state.pin_lifetime
        } else {
            state.pin_lifetime.min(Duration::from_secs(900))
        },
        polls: 0,
        approve_after: state.approve_after,
        approved: false,
        expired: false,
        jwk,
    };
    let body = pin_json(id, &pin, None);
    state.pins.insert(id, pin);
    json_response(201, &body)
}

/// A 4-character code from the id, so that codes are unique per server.
fn link_code(id: i64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Multiplying by an odd number permutes the 20 bits the code shows, so
    // codes look random yet stay unique for 2^20 consecutive ids.
    let mixed = (id as u64).wrapping_mul(0x2545_F491).wrapping_add(0x9E37) & 0xF_FFFF;
    (0..4)
        .map(|i| ALPHABET[((mixed >> (5 * i)) & 31) as usize] as char)
        .collect()
}

fn poll_pin(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if let Some(limited) = state.rate_limited() {
        return limited;
    }
    if state.failing > 0 {
        state.failing -= 1;
        return HttpMockResponse::builder()
            .status(state.failure_status)
            .header("content-type", "text/html")
            .body("<html><body><h1>Service Unavailable</h1></body></html>")
            .build();
    }
    let id = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .and_then(|id| id.parse::<i64>().ok());
    let token = state.token.clone();
    let Some(pin) = id.and_then(|id| state.pins.get_mut(&id)) else {
        return error(404, 1020, "Code not found or expired");
    };
    if pin.is_expired() {
        return error(404, 1020, "Code not found or expired");
    }
    pin.polls += 1;
    if pin.approve_after.is_some_and(|after| pin.polls >= after) {
        pin.approved = true;
    }
    let id = id.unwrap_or_default();
    if pin.jwk.is_some() {
        return jwt::poll_jwt_pin(state, request, id);
    }
    let token = pin.approved.then_some(token.as_str());
    json_response(200, &pin_json(id, pin, token))
}

fn link_pin(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(request.body_ref()).unwrap_or_default();
    let code = form
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    approve_code(state, &code)
}

/// Approves the unexpired PIN with this code: 204, or 404 with code 1020.
fn approve_code(state: &mut State, code: &str) -> HttpMockResponse {
    match state
        .pins
        .values_mut()
        .find(|pin| pin.code == code && !pin.is_expired())
    {
        Some(pin) => {
            pin.approved = true;
            HttpMockResponse::builder().status(204).build()
        }
        None => error(404, 1020, "Code not found or expired"),
    }
}

fn get_user(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    if let Some(member) = home::home_user(state, request) {
        return json_response(200, &home::account(member));
    }
    let mut user = state.user.clone();
    user["authToken"] = Value::String(state.token.clone());
    json_response(200, &user)
}

fn get_resources(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    match home::home_user(state, request) {
        Some(member) => json_response(200, &home::resources_for(state, member)),
        None => json_response(200, &state.resources),
    }
}

fn pin_json(id: i64, pin: &FakePin, token: Option<&str>) -> Value {
    let left = pin.lifetime.saturating_sub(pin.created.elapsed());
    let expires_at = pin.created_at + chrono::Duration::from_std(pin.lifetime).unwrap_or_default();
    json!({
        "id": id,
        "code": pin.code,
        "product": "Plex SSO",
        "trusted": false,
        "qr": format!("https://plex.tv/api/v2/pins/qr/{}", pin.code),
        "clientIdentifier": pin.client_identifier,
        "location": {
            "code": "US", "european_union_member": false, "continent_code": "NA",
            "country": "United States", "city": "Austin", "time_zone": "America/Chicago",
            "postal_code": "78701", "in_privacy_restricted_country": false,
            "in_privacy_restricted_region": false, "subdivisions": "Texas",
            "coordinates": "30.2672, -97.7431"
        },
        // Rounded like plex.tv: whole seconds, to the nearest.
        "expiresIn": (left.as_millis() + 500) / 1000,
        "createdAt": pin.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "expiresAt": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "authToken": token,
        "newRegistration": null
    })
}

fn default_user() -> Value {
    json!({
        "id": 4_294_967_297_i64, "uuid": "f4e3d2c1b0a99887", "username": "fake-user",
        "title": "fake-user", "email": "fake-user@example.com", "friendlyName": "Fake User",
        "locale": null, "confirmed": true, "joinedAt": 1_500_000_000, "emailOnlyAuth": false,
        "hasPassword": true, "protected": false, "thumb": "https://plex.tv/users/f4e3d2c1b0a99887/avatar",
        "mailingListStatus": "active", "mailingListActive": true, "scrobbleTypes": "", "country": "US",
        "subscription": {"active": true, "subscribedAt": "2020-01-01T00:00:00Z", "status": "Active",
                         "paymentService": null, "plan": "lifetime", "features": ["sync", "webhooks"]},
        "subscriptionDescription": null, "restricted": false, "anonymous": null, "home": false,
        "guest": false, "homeSize": 1, "homeAdmin": false, "maxHomeSize": 15,
        "rememberExpiresAt": 1_900_000_000,
        "profile": {"autoSelectAudio": true, "defaultAudioLanguage": "en", "defaultSubtitleLanguage": null,
                    "autoSelectSubtitle": 0, "defaultSubtitleAccessibility": 0, "defaultSubtitleForced": 1,
                    "watchedIndicator": 1, "mediaReviewsVisibility": 0},
        "entitlements": ["all"], "roles": ["plexpass"],
        "services": [{"identifier": "metadata", "endpoint": "https://metadata.provider.plex.tv",
                      "token": null, "secret": null, "status": "online"}],
        "adsConsent": null, "adsConsentSetAt": null, "adsConsentReminderAt": null,
        "experimentalFeatures": false, "twoFactorEnabled": false, "backupCodesCreated": false,
        "attributionPartner": null
    })
}

fn default_resources() -> Value {
    json!([{
        "name": "Fake Server", "product": "Plex Media Server", "productVersion": "1.40.0.7998",
        "platform": "Linux", "platformVersion": "6.1", "device": "PC",
        "clientIdentifier": "0123456789abcdef0123456789abcdef01234567",
        "createdAt": "2021-01-01T00:00:00Z", "lastSeenAt": "2026-01-01T00:00:00Z",
        "provides": "server", "ownerId": null, "sourceTitle": null, "publicAddress": "203.0.113.7",
        "accessToken": "fake-server-token", "owned": true, "home": false, "synced": false,
        "relay": true, "presence": true, "httpsRequired": true, "publicAddressMatches": true,
        "dnsRebindingProtection": false, "natLoopbackSupported": true,
        "connections": [
            {"protocol": "https", "address": "192.168.1.10", "port": 32400,
             "uri": "https://192-168-1-10.0123456789abcdef.plex.direct:32400",
             "local": true, "relay": false, "IPv6": false},
            {"protocol": "https", "address": "203.0.113.7", "port": 32400,
             "uri": "https://203-0-113-7.0123456789abcdef.plex.direct:32400",
             "local": false, "relay": false, "IPv6": false}
        ]
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_codes_are_unique_four_character_codes() {
        let first = 4_294_967_296;
        let codes: std::collections::BTreeSet<String> =
            (first..first + 50_000).map(link_code).collect();
        assert_eq!(codes.len(), 50_000);
        assert!(codes
            .iter()
            .all(|code| code.len() == 4 && code.chars().all(|c| c.is_ascii_alphanumeric())));
        assert_ne!(link_code(first), "AAAA");
    }
}
