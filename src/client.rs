//! [`PlexTv`], the configured client, and [`PlexTvBuilder`]. The hooks
//! that give every generated operation its host, headers, retries and
//! limits are in `src/hooks.rs`.

use std::{collections::BTreeMap, fmt, ops::Deref, sync::Arc, time::Duration};

use reqwest::{
    header::{HeaderName, HeaderValue},
    Url,
};

use crate::{
    generated::Client,
    hooks::{Settings, Shared},
    rate_limit::Gates,
    refresh::DeviceSession,
    spec::{self, host_of},
    token::TokenHeader,
    transport, ClientIdentity, DeviceKey, Error, RateLimit, RetryPolicy, Token,
};

/// The default plex.tv address, used unless
/// [`PlexTvBuilder::base_url`] sets another.
///
/// ```
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .build()?;
/// assert_eq!(client.base_url(), plex_tv::DEFAULT_BASE_URL);
/// # Ok::<(), plex_tv::Error>(())
/// ```
pub const DEFAULT_BASE_URL: &str = "https://plex.tv";

/// The default address of the device-key (JWT) endpoints, used unless
/// [`PlexTvBuilder::clients_base_url`] sets another.
///
/// ```
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .build()?;
/// assert_eq!(client.clients_base_url(), plex_tv::DEFAULT_CLIENTS_BASE_URL);
/// # Ok::<(), plex_tv::Error>(())
/// ```
pub const DEFAULT_CLIENTS_BASE_URL: &str = "https://clients.plex.tv";

/// The user agent of the `reqwest::Client` the builder makes.
const USER_AGENT: &str = concat!("plex-tv-rust/", env!("CARGO_PKG_VERSION"));

/// A plex.tv client: every generated operation, with this crate's identity
/// headers, token, retries, timeouts and limits.
///
/// `PlexTv` dereferences to the generated [`Client`], so each operation is a
/// method returning a request builder:
///
/// ```no_run
/// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
///
/// # async fn demo() -> Result<(), plex_tv::Error> {
/// let id = ClientIdentifier::load_or_create("client-id.txt")?;
/// let client = PlexTv::builder()
///     .identity(ClientIdentity::new("My App", id))
///     .token("my-plex-token")
///     .build()?;
/// let me = client.get_user().send().await?;
/// println!("signed in as {:?}", me.username);
/// # Ok(()) }
/// ```
///
/// Cloning is cheap, and [`with_token`](Self::with_token) gives a client for
/// another account that shares the same connection pool.
#[derive(Clone)]
pub struct PlexTv {
    api: Client,
}

impl PlexTv {
    /// A builder with the defaults: `https://plex.tv`, 10 s connect and 30 s
    /// request timeouts, [`RetryPolicy::default`], 32 MiB response limit.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .build()?;
    /// assert_eq!(client.base_url(), "https://plex.tv");
    /// assert!(client.token().is_none());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn builder() -> PlexTvBuilder {
        PlexTvBuilder::default()
    }

    /// The same client acting with `token`: same identity, settings and
    /// connection pool. Cheap enough to call per request.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let alice = client.with_token("alice-token");
    /// let bob = client.with_token("bob-token");
    /// assert_eq!(alice.token().unwrap().expose_secret(), "alice-token");
    /// assert_ne!(alice.token(), bob.token());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn with_token(&self, token: impl Into<Token>) -> PlexTv {
        self.with_token_header(Some(TokenHeader::new(token.into())))
    }

    /// The same client without a token (for PIN sign-in, say).
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .token("t")
    /// #     .build()?;
    /// assert!(client.without_token().token().is_none());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn without_token(&self) -> PlexTv {
        self.with_token_header(None)
    }

    fn with_token_header(&self, token: Option<TokenHeader>) -> PlexTv {
        self.with_shared(self.api.inner.with_token(token))
    }

    fn with_shared(&self, inner: Shared) -> PlexTv {
        let http = self.api.client.clone();
        PlexTv {
            api: Client::new_with_client(&self.api.baseurl, http, inner),
        }
    }

    /// The same client signed in with a device key and its plex.tv JWT,
    /// which it then refreshes by itself.
    pub(crate) fn with_device_key(&self, key: DeviceKey, token: Option<Token>) -> PlexTv {
        let refresher = self.without_token().api;
        let margin = self.api.inner.settings.refresh_margin;
        let session = DeviceSession::new(key, margin, token.clone(), refresher);
        let mut inner = self.api.inner.with_token(token.map(TokenHeader::new));
        inner.device = Some(Arc::new(session));
        self.with_shared(inner)
    }

    pub(crate) fn device_session(&self) -> Option<&DeviceSession> {
        self.api.inner.device.as_deref()
    }

    /// The same client with another retry policy (its own settings, the same
    /// connection pool).
    pub(crate) fn with_retry(&self, retry: RetryPolicy) -> PlexTv {
        self.with_settings(|settings| settings.transport.retry = retry)
    }

    /// The same client sending `value` as the default of identity header
    /// `name` (its own settings, the same connection pool).
    pub(crate) fn with_default_header(&self, name: HeaderName, value: HeaderValue) -> PlexTv {
        self.with_settings(|settings| {
            settings.set_header(name, value);
        })
    }

    /// The same client with a changed copy of its settings.
    fn with_settings(&self, change: impl FnOnce(&mut Settings)) -> PlexTv {
        let mut settings = Settings::clone(&self.api.inner.settings);
        change(&mut settings);
        let inner = Shared {
            settings: Arc::new(settings),
            ..self.api.inner.clone()
        };
        self.with_shared(inner)
    }

    /// The token this client was created with, if any: after a sign-in,
    /// the one to store. A device-key client replaces its JWT as it
    /// refreshes it; [`current_token`](Self::current_token) is the one in
    /// use now.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .token("secret")
    /// #     .build()?;
    /// let token = client.token().expect("set above");
    /// assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn token(&self) -> Option<&Token> {
        self.api.inner.token.as_ref().map(|t| &t.token)
    }

    /// The token requests carry now: for a device-key client the latest
    /// plex.tv JWT, else the same as [`token`](Self::token).
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .token("secret")
    /// #     .build()?;
    /// assert_eq!(client.current_token().as_ref(), client.token());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn current_token(&self) -> Option<Token> {
        match self.device_session() {
            Some(session) => session.token().map(|t| t.token),
            None => self.token().cloned(),
        }
    }

    /// The device key this client refreshes its plex.tv JWT with, if it
    /// signed in with one.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// assert!(client.device_key().is_none());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn device_key(&self) -> Option<&DeviceKey> {
        self.device_session().map(DeviceSession::key)
    }

    /// The identity requests carry.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// assert_eq!(client.identity().product(), "App");
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn identity(&self) -> &ClientIdentity {
        &self.api.inner.settings.identity
    }

    /// The identity headers every request carries (never the token).
    pub(crate) fn identity_headers(&self) -> reqwest::header::HeaderMap {
        self.api.inner.settings.headers.clone()
    }

    /// The base URL, without a trailing slash.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url("http://127.0.0.1:8080/")
    /// #     .build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.api.baseurl
    }

    /// The generated client, for code that wants to name its type.
    ///
    /// ```
    /// fn takes_generated(_: &plex_tv::Client) {}
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// takes_generated(client.api());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn api(&self) -> &Client {
        &self.api
    }

    /// Where the device-key (JWT) endpoints of `https://clients.plex.tv`
    /// are reached, without a trailing slash: the same as
    /// `host_url("clients.plex.tv")`.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .clients_base_url("http://127.0.0.1:8081/")
    /// #     .build()?;
    /// assert_eq!(client.clients_base_url(), "http://127.0.0.1:8081");
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn clients_base_url(&self) -> &str {
        self.host_url(CLIENTS_HOST)
            .unwrap_or(DEFAULT_CLIENTS_BASE_URL)
    }

    /// Where operations served by `host` (`plex.tv`, `clients.plex.tv`, ...:
    /// the hosts of the spec's servers) are sent, without a trailing slash;
    /// `None` for a host that serves no operation. Every operation goes to
    /// its own host by itself: this only tells where that is.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .host_url("clients.plex.tv", "http://127.0.0.1:8081")
    /// #     .build()?;
    /// assert_eq!(client.host_url("plex.tv"), Some("https://plex.tv"));
    /// assert_eq!(client.host_url("clients.plex.tv"), Some("http://127.0.0.1:8081"));
    /// assert_eq!(client.host_url("example.com"), None);
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn host_url(&self, host: &str) -> Option<&str> {
        if host == host_of(spec::DEFAULT_SERVER) {
            return Some(&self.api.baseurl);
        }
        let settings = &self.api.inner.settings;
        settings.servers.iter().find_map(|(server, base)| {
            let path = server_path(server);
            (host_of(server) == host).then(|| base.strip_suffix(path).unwrap_or(base))
        })
    }

    /// The `reqwest::Client` that sends the requests, shared by every
    /// clone and [`with_token`](Self::with_token) client.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let http: &reqwest::Client = client.http_client();
    /// # let _ = http;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn http_client(&self) -> &reqwest::Client {
        &self.api.client
    }

    /// Until when requests wait because plex.tv answered 429: the end of the
    /// latest pause of any host, shared by every clone and
    /// [`with_token`](Self::with_token) client; `None` when nothing waits.
    /// For a service's status page ("plex.tv is rate-limiting us until …").
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use std::time::{Duration, Instant};
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv, RetryPolicy};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My Service", ClientIdentifier::new_random()))
    ///     .base_url(fake.base_url())
    ///     .retry(RetryPolicy::none())
    ///     .build()?;
    /// assert!(client.rate_limited_until().is_none());
    ///
    /// fake.rate_limit(1, Some(30)); // the next PIN request gets a 429
    /// assert!(client.pin_login().start().await.is_err());
    /// let alice = client.with_token("alice-token");
    /// let until = alice.rate_limited_until().expect("a pause");
    /// assert!(until > Instant::now() + Duration::from_secs(25));
    /// # Ok(()) }
    /// ```
    pub fn rate_limited_until(&self) -> Option<std::time::Instant> {
        let gates = &self.api.inner.settings.transport.gates;
        gates.paused_until().map(tokio::time::Instant::into_std)
    }
}

impl Deref for PlexTv {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.api
    }
}

impl fmt::Debug for PlexTv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlexTv")
            .field("base_url", &self.api.baseurl)
            .field("identity", self.identity())
            .field("token", &self.token())
            .field("device_key", &self.device_key())
            .finish()
    }
}

/// Builds a [`PlexTv`]. Only [`identity`](Self::identity) is required.
///
/// ```
/// use std::time::Duration;
/// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv, RetryPolicy};
///
/// let client = PlexTv::builder()
///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
///     .timeout(Duration::from_secs(10))
///     .retry(RetryPolicy::default().max_attempts(2))
///     .build()?;
/// assert_eq!(client.base_url(), "https://plex.tv");
/// # Ok::<(), plex_tv::Error>(())
/// ```
#[must_use]
#[derive(Debug)]
pub struct PlexTvBuilder {
    identity: Option<ClientIdentity>,
    token: Option<Token>,
    /// Base URLs by host, for the hosts the caller moved.
    hosts: BTreeMap<String, String>,
    device_key: Option<DeviceKey>,
    refresh_margin: Duration,
    auth_page: Option<String>,
    allow_insecure_http: bool,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    max_response_size: u64,
    http_client: Option<reqwest::Client>,
    /// Rate limits by host, for the hosts the caller set; `None` is off.
    rate_limits: BTreeMap<String, Option<RateLimit>>,
    /// The rate limit of the other hosts, if the caller set one.
    all_hosts_rate_limit: Option<Option<RateLimit>>,
}

impl Default for PlexTvBuilder {
    fn default() -> Self {
        PlexTvBuilder {
            identity: None,
            token: None,
            hosts: BTreeMap::new(),
            device_key: None,
            refresh_margin: crate::refresh::DEFAULT_REFRESH_MARGIN,
            auth_page: None,
            allow_insecure_http: false,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_response_size: 32 * 1024 * 1024,
            http_client: None,
            rate_limits: BTreeMap::new(),
            all_hosts_rate_limit: None,
        }
    }
}

impl PlexTvBuilder {
    /// Who is calling: the `X-Plex-*` headers. Required.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let id = ClientIdentifier::new_random(); // store it: see load_or_create
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", id.clone()).version("1.2.0"))
    ///     .build()?;
    /// assert_eq!(client.identity().client_identifier(), &id);
    ///
    /// // Without one, build() says what is missing.
    /// let error = PlexTv::builder().build().unwrap_err();
    /// assert!(error.to_string().contains("PlexTvBuilder::identity"));
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The account token to send as `X-Plex-Token`: a `String`, `&str` or
    /// [`Token`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let stored_token = fake.token().expose_secret().to_owned();
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .token(stored_token)
    /// #   .base_url(fake.base_url())
    ///     .build()?;
    /// let me = client.get_user().send().await?;
    /// println!("signed in as {:?}", me.username);
    /// # Ok(()) }
    /// ```
    pub fn token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Where plex.tv is (default `https://plex.tv`), for a proxy or a fake
    /// plex.tv in tests. Plain `http` is accepted only for loopback hosts,
    /// unless [`allow_insecure_http`](Self::allow_insecure_http) is set.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await; // http://127.0.0.1:<port>
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random());
    /// let client = PlexTv::builder()
    ///     .identity(identity.clone())
    ///     .base_url(fake.base_url())
    ///     .token(fake.token())
    ///     .build()?;
    /// let me = client.get_user().send().await?;
    /// assert_eq!(me.username.as_deref(), Some("fake-user"));
    ///
    /// // Plain http to anything but loopback is refused.
    /// let remote = PlexTv::builder().identity(identity).base_url("http://plex.example.com").build();
    /// assert!(remote.is_err());
    /// # Ok(()) }
    /// ```
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.host_url(host_of(spec::DEFAULT_SERVER), url)
    }

    /// Where the device-key (JWT) endpoints are (default
    /// `https://clients.plex.tv`); the same rules as
    /// [`base_url`](Self::base_url). A fake plex.tv serves both.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .base_url(fake.base_url())
    ///     .clients_base_url(fake.base_url())
    ///     .build()?;
    /// let nonce = client.get_auth_nonce().send().await?; // to clients.plex.tv
    /// assert!(!nonce.nonce.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn clients_base_url(self, url: impl Into<String>) -> Self {
        self.host_url(CLIENTS_HOST, url)
    }

    /// Where the operations served by `host` (a host of the spec's servers:
    /// `plex.tv`, `clients.plex.tv`, ...) are sent instead, for a proxy or a
    /// fake plex.tv in tests; the same rules as
    /// [`base_url`](Self::base_url). A server's own path stays: an operation
    /// of `https://clients.plex.tv/api/v2` goes to `<url>/api/v2/...`.
    /// [`build`](Self::build) refuses a host that serves no operation.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .host_url("plex.tv", fake.base_url())
    ///     .host_url("clients.plex.tv", fake.base_url())
    ///     .build()?;
    /// let nonce = client.get_auth_nonce().send().await?;
    /// assert!(!nonce.nonce.is_empty());
    ///
    /// let typo = PlexTv::builder()
    ///     .identity(client.identity().clone())
    ///     .host_url("clients.plex.tvv", fake.base_url())
    ///     .build();
    /// assert!(typo.is_err());
    /// # Ok(()) }
    /// ```
    pub fn host_url(mut self, host: &str, url: impl Into<String>) -> Self {
        self.hosts.insert(host.to_ascii_lowercase(), url.into());
        self
    }

    /// Sends the operations of every host to `url`: for a fake plex.tv
    /// that serves them all, or one proxy in front of all of them.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .all_hosts_url(fake.base_url())
    ///     .build()?;
    /// assert_eq!(client.clients_base_url(), client.base_url());
    /// # Ok(()) }
    /// ```
    pub fn all_hosts_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        for server in spec::servers() {
            self.hosts.insert(host_of(server).to_owned(), url.clone());
        }
        self
    }

    /// Signs requests in with a device key: the [`token`](Self::token) is
    /// then a plex.tv JWT (or none yet), which the client obtains, verifies
    /// and refreshes by itself, before it expires and after a 401. The key
    /// must be registered with plex.tv: by a JWT PIN sign-in
    /// ([`PinLoginBuilder::device_key`](crate::pin::PinLoginBuilder::device_key))
    /// or [`PlexTv::upgrade_to_jwt`].
    ///
    /// ```no_run
    /// use plex_tv::{ClientIdentifier, ClientIdentity, DeviceKey, PlexTv};
    ///
    /// # fn demo(stored_jwt: String) -> Result<(), plex_tv::Error> {
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::load_or_create("client-id")?))
    ///     .device_key(DeviceKey::load_or_create("device-key.pem")?)
    ///     .token(stored_jwt)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn device_key(mut self, key: DeviceKey) -> Self {
        self.device_key = Some(key);
        self
    }

    /// How long before its expiry a device-key client refreshes its plex.tv
    /// JWT (default [`DEFAULT_REFRESH_MARGIN`](crate::DEFAULT_REFRESH_MARGIN),
    /// one day). A JWT that lives less than twice the margin is refreshed
    /// at half its life instead, so that a fresh token is never due at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::{ClientIdentifier, ClientIdentity, DeviceKey, PlexTv};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .device_key(DeviceKey::generate())
    ///     .refresh_margin(Duration::from_secs(6 * 60 * 60)) // 6 h before expiry
    ///     .build()?;
    /// assert!(client.device_key().is_some());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The hosted sign-in page that [`PendingPin::auth_url`](crate::pin::PendingPin::auth_url)
    /// points to (default [`AUTH_PAGE`](crate::pin::AUTH_PAGE)): a fake
    /// plex.tv's own page in tests and demos. The same rules as
    /// [`base_url`](Self::base_url).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .all_hosts_url(fake.base_url())
    ///     .auth_page_url(fake.auth_page_url())
    ///     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// assert!(pin.auth_url().as_str().starts_with(&fake.auth_page_url()));
    /// # Ok(()) }
    /// ```
    pub fn auth_page_url(mut self, url: impl Into<String>) -> Self {
        self.auth_page = Some(url.into());
        self
    }

    /// Accepts a plain `http` base URL on a host other than loopback. The
    /// token then crosses the network unencrypted: only for trusted networks.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let identity = ClientIdentity::new("App", ClientIdentifier::new_random());
    /// let refused = PlexTv::builder().identity(identity.clone()).base_url("http://proxy.lan:8080").build();
    /// assert!(refused.is_err());
    /// let allowed = PlexTv::builder()
    ///     .identity(identity)
    ///     .base_url("http://proxy.lan:8080")
    ///     .allow_insecure_http(true)
    ///     .build();
    /// assert!(allowed.is_ok());
    /// ```
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The longest a request may take, body included (default 30 s); a
    /// slower one ends in [`Error::Timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest connecting may take (default 10 s). Ignored with your
    /// own [`http_client`](Self::http_client), which has its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .connect_timeout(Duration::from_secs(3))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// When failed requests are retried (default [`RetryPolicy::default`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, Error, PlexTv, RetryPolicy};
    ///
    /// let fake = FakePlexTv::start().await;
    /// fake.rate_limit(1, Some(30)); // the next PIN request gets a 429
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .base_url(fake.base_url())
    ///     .retry(RetryPolicy::none()) // report failures at once
    ///     .build()?;
    /// let error = client.pin_login().start().await.unwrap_err();
    /// assert!(matches!(error, Error::RateLimited { .. }));
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The largest response body accepted, in bytes (default 32 MiB); a
    /// larger one ends in [`Error::ResponseTooLarge`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, Error, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .base_url(fake.base_url())
    ///     .token(fake.token())
    ///     .max_response_size(64)
    ///     .build()?;
    /// let error = client.get_user().send().await.map_err(Error::from).unwrap_err();
    /// assert!(matches!(error, Error::ResponseTooLarge { limit: 64 }));
    /// # Ok(()) }
    /// ```
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// Sends requests with this `reqwest::Client` (its pool, proxy and TLS
    /// settings) instead of building one. The request timeout set here still
    /// applies (per request); the connect timeout is the client's own.
    ///
    /// **Build it with `redirect(reqwest::redirect::Policy::none())`.** This
    /// crate follows redirects itself so that the token never goes to
    /// another origin; a client that follows them on its own would forward
    /// `X-Plex-Token` wherever plex.tv (or anyone in between) redirects.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()
    ///     .expect("a TLS backend");
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How fast requests go to `host` (a host of the spec's servers:
    /// `plex.tv`, `clients.plex.tv`, ...), shared by every clone and
    /// [`with_token`](PlexTv::with_token) client; `None` switches the limit
    /// off. On by default at [`RateLimit::default`] (5 per second, bursts
    /// of 3), which says why, for every host left at its plex.tv address;
    /// a host moved with [`host_url`](Self::host_url) (to a fake plex.tv or
    /// a proxy) has no limit unless set here or with
    /// [`all_hosts_rate_limit`](Self::all_hosts_rate_limit). Waiting for a
    /// permit counts against the
    /// request's [`timeout`](Self::timeout): a request that could not go in
    /// time fails at once with [`Error::RateLimited`], without being sent.
    /// [`build`](Self::build) refuses a host that serves no operation.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv, RateLimit};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My Service", ClientIdentifier::new_random()))
    ///     .rate_limit("plex.tv", RateLimit::per_second(8).burst(2))
    ///     .rate_limit("clients.plex.tv", None) // no limit there
    ///     .build()?;
    /// # let _ = client;
    /// let typo = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My Service", ClientIdentifier::new_random()))
    ///     .rate_limit("plex.tvv", RateLimit::per_second(8))
    ///     .build();
    /// assert!(typo.is_err());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn rate_limit(mut self, host: &str, limit: impl Into<Option<RateLimit>>) -> Self {
        self.rate_limits
            .insert(host.to_ascii_lowercase(), limit.into());
        self
    }

    /// The same rate limit for every host, moved ones included (each host
    /// still counts its own requests); `None` switches them all off, for a
    /// proxy that limits by itself. Hosts set with
    /// [`rate_limit`](Self::rate_limit) keep theirs.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv, RateLimit};
    ///
    /// let unlimited = PlexTv::builder()
    ///     .identity(ClientIdentity::new("Tests", ClientIdentifier::new_random()))
    ///     .all_hosts_rate_limit(None)
    ///     .build()?;
    /// # let _ = unlimited;
    /// let careful = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My Service", ClientIdentifier::new_random()))
    ///     .all_hosts_rate_limit(RateLimit::per_second(2))
    ///     .build()?;
    /// # let _ = careful;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn all_hosts_rate_limit(mut self, limit: impl Into<Option<RateLimit>>) -> Self {
        self.all_hosts_rate_limit = Some(limit.into());
        self
    }

    /// Checks the settings and builds the client. Settings that cannot work
    /// (no identity, a base URL that is not `https`) are
    /// [`Error::InvalidInput`], with what to do instead.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, Error, PlexTv};
    ///
    /// let identity = ClientIdentity::new("My App", ClientIdentifier::new_random());
    /// let client = PlexTv::builder().identity(identity.clone()).build()?;
    /// # let _ = client;
    ///
    /// let error = PlexTv::builder()
    ///     .identity(identity)
    ///     .base_url("ftp://plex.tv")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(error, Error::InvalidInput { .. }));
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no identity is set, a base URL or host
    /// override is not an http(s) URL (or is plain http off loopback without
    /// [`allow_insecure_http`](Self::allow_insecure_http)), or an identity
    /// value cannot be sent as a header;
    /// [`Error::Transport`] when the TLS backend cannot be set up.
    pub fn build(self) -> Result<PlexTv, Error> {
        let (base_url, servers) = self.resolve_hosts()?;
        let auth_page = (self.auth_page.as_deref())
            .map(|page| check_base_url(page, self.allow_insecure_http))
            .transpose()?;
        let gates = self.rate_limit_gates()?;
        let identity = self.identity.ok_or_else(|| {
            Error::invalid_input("no identity set: call PlexTvBuilder::identity(ClientIdentity::new(..)) before build()")
        })?;
        let request_timeout = self.http_client.is_some().then_some(self.timeout);
        // Only a client of ours gets our user agent; a caller's keeps its own.
        let user_agent = self.http_client.is_none().then_some(USER_AGENT);
        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                // The retry policy decides every retry. reqwest's own layer
                // would also copy every request's headers, in case.
                .retry(reqwest::retry::never().max_retries_per_request(0))
                .user_agent(USER_AGENT)
                .build()
                .map_err(Error::from_reqwest)?,
        };
        let headers = identity.header_map()?;
        let settings = Settings {
            request_headers: Settings::request_headers_for(
                &headers,
                user_agent.map(HeaderValue::from_static),
            ),
            headers,
            identity,
            request_timeout,
            servers,
            refresh_margin: self.refresh_margin,
            key_cache: Arc::default(),
            auth_page,
            transport: transport::Settings {
                retry: self.retry,
                max_response_size: self.max_response_size,
                gates: Arc::new(gates),
                timeout: self.timeout,
            },
        };
        let shared = Shared {
            settings: Arc::new(settings),
            token: None,
            device: None,
        };
        let anonymous = PlexTv {
            api: Client::new_with_client(&base_url, http, shared),
        };
        Ok(match self.device_key {
            Some(key) => anonymous.with_device_key(key, self.token),
            None => anonymous.with_token_header(self.token.map(TokenHeader::new)),
        })
    }
}

impl PlexTvBuilder {
    /// The default server's base URL, and where every other server of the
    /// spec is reached: its override's base URL followed by the server's own
    /// path, or the server URL itself.
    fn resolve_hosts(&self) -> Result<(String, ServerBases), Error> {
        let servers = spec::servers();
        check_hosts(self.hosts.keys())?;
        let base_of = |server: &str| -> Result<String, Error> {
            match self.hosts.get(host_of(server)) {
                Some(url) => {
                    let base = check_base_url(url, self.allow_insecure_http)?;
                    Ok(format!("{base}{}", server_path(server)))
                }
                None => Ok(server.to_owned()),
            }
        };
        let default = base_of(spec::DEFAULT_SERVER)?;
        let others = servers[1..]
            .iter()
            .map(|server| Ok((*server, base_of(server)?)))
            .collect::<Result<_, Error>>()?;
        Ok((default, others))
    }
}

impl PlexTvBuilder {
    /// Each host's gate, with the rate limit set for it, else the one set
    /// for all hosts, else the default: plex.tv's own hosts get
    /// [`RateLimit::default`], a host moved elsewhere (a fake, a proxy)
    /// none. A host that serves no operation is refused, as with `host_url`.
    fn rate_limit_gates(&self) -> Result<Gates, Error> {
        check_hosts(self.rate_limits.keys())?;
        Ok(Gates::new(|host| {
            let default = || (!self.hosts.contains_key(host)).then(RateLimit::default);
            self.rate_limits
                .get(host)
                .copied()
                .or(self.all_hosts_rate_limit)
                .unwrap_or_else(default)
        }))
    }
}

/// Refuses hosts that serve no operation of the spec (a typo, usually).
fn check_hosts<'a>(mut hosts: impl Iterator<Item = &'a String>) -> Result<(), Error> {
    let servers = spec::servers();
    match hosts.find(|host| !servers.iter().any(|s| host_of(s) == host.as_str())) {
        None => Ok(()),
        Some(unknown) => {
            let known: Vec<&str> = servers.iter().map(|s| host_of(s)).collect();
            Err(Error::invalid_input(format!(
                "no operation is served by {unknown:?}; the hosts are {}",
                known.join(", ")
            )))
        }
    }
}

/// Where each server of the spec other than the default one is reached.
type ServerBases = Vec<(&'static str, String)>;

/// The host of the device-key (JWT) operations.
const CLIENTS_HOST: &str = "clients.plex.tv";

/// The path part of a server URL (`/api/v2` of
/// `https://clients.plex.tv/api/v2`), without a trailing slash.
fn server_path(server: &str) -> &str {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    rest.find('/')
        .map_or("", |slash| rest[slash..].trim_end_matches('/'))
}

/// Validates a base URL and returns it without a trailing slash (the
/// generated code appends paths that start with `/`).
///
/// Errors show the URL as `scheme://host[:port]/path` only: a refused URL
/// may carry the very secrets that make it refused (credentials, a token
/// in its query or fragment).
fn check_base_url(text: &str, allow_insecure_http: bool) -> Result<String, Error> {
    let url = Url::parse(text.trim()).map_err(|e| {
        let shown = shown_url_text(text).map_or_else(String::new, |shown| format!(" {shown:?}"));
        Error::invalid_input(format!(
            "the base URL{shown} is not a URL ({e}); use e.g. https://plex.tv"
        ))
    })?;
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid_input(format!(
                "the base URL uses plain http on {host}, which would send the token unencrypted; \
                 use https, or PlexTvBuilder::allow_insecure_http(true) on a trusted network"
            )))
        }
        scheme => {
            return Err(Error::invalid_input(format!(
                "the base URL scheme {scheme:?} is not http or https"
            )))
        }
    }
    if host.is_empty()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        let mut shown = url.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        // Cannot fail for a URL with a host; without one there is nothing to remove.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(Error::invalid_input(format!(
            "the base URL {:?} must be scheme://host[:port][/path], with no credentials, query or \
             fragment (they are not shown here)",
            shown.as_str()
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A text that does not parse as a URL, with what could be secret removed:
/// everything from `?` or `#`, and userinfo (up to the last `@` of the
/// authority); bounded, control characters replaced. `None` without a
/// `scheme://`: such a text may be anything, a token passed by mistake too.
fn shown_url_text(text: &str) -> Option<String> {
    let text = text.trim();
    let text = &text[..text.find(['?', '#']).unwrap_or(text.len())];
    let at = text.find("://")?;
    let (scheme, rest) = (&text[..at + 3], &text[at + 3..]);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let shown = format!("{scheme}{rest}")
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .take(200)
        .collect();
    Some(shown)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hooks::API_VERSION, ClientIdentifier};
    use reqwest::header::HeaderMap;

    fn shared(token: Option<&str>) -> Shared {
        let client = PlexTv::builder()
            .identity(ClientIdentity::new("App", ClientIdentifier::new_random()).language("en"))
            .build()
            .unwrap();
        let client = match token {
            Some(token) => client.with_token(token),
            None => client,
        };
        client.api.inner.clone()
    }

    #[test]
    fn apply_adds_identity_and_token_but_keeps_per_request_values() {
        let mut headers = HeaderMap::new();
        headers.insert("x-plex-product", HeaderValue::from_static("Plex SSO"));
        headers.insert(API_VERSION, HeaderValue::from_static("2"));
        shared(Some("tok")).apply(&mut headers).unwrap();
        assert_eq!(headers["x-plex-product"], "Plex SSO");
        assert_eq!(headers["x-plex-language"], "en");
        assert!(headers["x-plex-token"].is_sensitive());
        assert!(!headers.contains_key(API_VERSION));

        let mut headers = HeaderMap::new();
        shared(None).apply(&mut headers).unwrap();
        assert!(!headers.contains_key("x-plex-token"));
        assert_eq!(headers["x-plex-product"], "App");
    }

    #[test]
    fn our_user_agent_goes_with_our_http_client_only() {
        let mut headers = HeaderMap::new();
        shared(None).apply(&mut headers).unwrap();
        assert_eq!(headers.get_all("user-agent").iter().count(), 1);
        assert_eq!(headers["user-agent"], USER_AGENT);

        let theirs = PlexTv::builder()
            .identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
        let mut headers = HeaderMap::new();
        theirs.api.inner.apply(&mut headers).unwrap();
        assert!(
            !headers.contains_key("user-agent"),
            "the caller's client sets its own"
        );
    }

    /// The request's headers, as the fake plex.tv receives them: our user
    /// agent once, the identity, and no slot left empty.
    #[tokio::test]
    async fn a_request_carries_each_header_once_and_no_empty_token() {
        let fake = crate::testing::FakePlexTv::start().await;
        let client = PlexTv::builder()
            .identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
            .all_hosts_url(fake.base_url())
            .build()
            .unwrap();
        let _ = client.get_user().send().await;
        let seen = fake.requests();
        let last = seen.last().expect("a request reached the fake");
        assert!(!last.had_token, "no token, not an empty one");
    }

    #[test]
    fn every_value_of_a_per_request_header_is_kept_and_its_token_wins() {
        let mut headers = HeaderMap::new();
        headers.append("x-plex-language", HeaderValue::from_static("de"));
        headers.append("x-plex-language", HeaderValue::from_static("fr"));
        headers.insert("x-plex-token", HeaderValue::from_static("own"));
        headers.append(API_VERSION, HeaderValue::from_static("1"));
        headers.append(API_VERSION, HeaderValue::from_static("2"));
        shared(Some("tok")).apply(&mut headers).unwrap();
        let languages: Vec<_> = headers.get_all("x-plex-language").iter().collect();
        assert_eq!(languages, ["de", "fr"]);
        assert_eq!(headers["x-plex-token"], "own");
        assert!(!headers.contains_key(API_VERSION));
        assert_eq!(headers["x-plex-product"], "App");
    }

    #[test]
    fn an_unsendable_token_fails_the_request_not_the_process() {
        let mut headers = HeaderMap::new();
        let error = shared(Some("bad\ntoken")).apply(&mut headers).unwrap_err();
        assert!(!error.contains("bad"), "{error}");
    }

    fn limit_of(client: &PlexTv, host: &str) -> Option<RateLimit> {
        client
            .api
            .inner
            .settings
            .transport
            .gates
            .for_host(host)
            .unwrap()
            .limit()
    }

    #[test]
    fn plex_tv_hosts_are_rate_limited_by_default_and_moved_hosts_are_not() {
        let builder = || {
            PlexTv::builder().identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
        };
        let default = builder().build().unwrap();
        assert_eq!(limit_of(&default, "plex.tv"), Some(RateLimit::default()));
        assert_eq!(
            limit_of(&default, "clients.plex.tv"),
            Some(RateLimit::default())
        );

        let moved = builder().base_url("http://127.0.0.1:1").build().unwrap();
        assert_eq!(limit_of(&moved, "plex.tv"), None);
        assert_eq!(
            limit_of(&moved, "clients.plex.tv"),
            Some(RateLimit::default())
        );

        let nine = RateLimit::per_second(9);
        let all = builder()
            .all_hosts_url("http://127.0.0.1:1")
            .all_hosts_rate_limit(nine)
            .rate_limit("clients.plex.tv", None)
            .build()
            .unwrap();
        assert_eq!(limit_of(&all, "plex.tv"), Some(nine));
        assert_eq!(limit_of(&all, "clients.plex.tv"), None);

        let off = builder().rate_limit("PLEX.TV", None).build().unwrap();
        assert_eq!(limit_of(&off, "plex.tv"), None);
    }

    #[test]
    fn every_clone_shares_the_gates() {
        let client = PlexTv::builder()
            .identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
            .build()
            .unwrap();
        let gates = &client.api.inner.settings.transport.gates;
        for other in [
            client.with_token("a"),
            client.without_token(),
            client.clone(),
            client.with_retry(RetryPolicy::none()),
        ] {
            assert!(Arc::ptr_eq(
                gates,
                &other.api.inner.settings.transport.gates
            ));
        }
    }

    #[test]
    fn build_requires_an_identity() {
        let error = PlexTv::builder().build().unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }));
        assert!(error.to_string().contains("identity"));
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            check_base_url("https://plex.tv/", false).unwrap(),
            "https://plex.tv"
        );
        assert_eq!(
            check_base_url("http://127.0.0.1:8080", false).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_base_url("http://[::1]:80/", false).is_ok());
        assert!(check_base_url("http://localhost:1", false).is_ok());
        assert!(check_base_url("http://example.com", false).is_err());
        assert!(check_base_url("http://example.com", true).is_ok());
        assert!(check_base_url("ftp://plex.tv", true).is_err());
        assert!(check_base_url("https://plex.tv/?x=1", false).is_err());
        assert!(check_base_url("https://user:pw@plex.tv", false).is_err());
        assert!(check_base_url("not a url", false).is_err());
        let shown = |text: &str| check_base_url(text, false).unwrap_err().to_string();
        assert!(!shown("tok-pasted-by-mistake").contains("tok-pasted"));
        let error = shown("https://u:pw-9@plex.tv:99999/x?X-Plex-Token=t-9#f-9");
        assert!(error.contains("\"https://plex.tv:99999/x\""), "{error}");
        assert!(!error.contains("-9"), "{error}");
    }
}
