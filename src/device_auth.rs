//! Device-key (JWT) operations of a signed-in [`PlexTv`]: upgrading a
//! classic token, refreshing and verifying plex.tv JWTs.

use crate::{refresh, types, DeviceKey, Error, PlexJwtClaims, PlexTv, Token};

impl PlexTv {
    /// Moves a client signed in with a classic token to a device key:
    /// registers the key's public JWK with plex.tv, obtains a plex.tv JWT
    /// and verifies it. The returned client uses the JWT and refreshes it by
    /// itself; store the key (and, if you like, [`token`](Self::token)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .clients_base_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// # let classic = client;
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("device-key.pem");
    /// let key = plex_tv::DeviceKey::load_or_create(path)?;
    /// let upgraded = classic.upgrade_to_jwt(&key).await?;
    /// assert_eq!(upgraded.device_key(), Some(&key));
    /// let me = upgraded.get_user().send().await?;
    /// # assert_eq!(me.username.as_deref(), Some("fake-user"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Unauthorized`] when plex.tv refuses the classic token, the
    /// errors of [`verify_jwt`](Self::verify_jwt) for the JWT it issues, and
    /// those of any request ([`Error::Timeout`], [`Error::Transport`], ...).
    pub async fn upgrade_to_jwt(&self, key: &DeviceKey) -> Result<PlexTv, Error> {
        if self.token().is_none() {
            return Err(Error::invalid_input(
                "upgrading to a JWT needs a client signed in with a classic token: set a token first",
            ));
        }
        let body = types::RegisterDeviceKeyRequest {
            jwk: key.public_jwk(),
        };
        self.register_device_key().body(body).send().await?;
        let anonymous = self.without_token();
        let (token, _claims) = refresh::exchange(anonymous.api(), key).await?;
        Ok(self.with_device_key(key.clone(), Some(token)))
    }

    /// Obtains a new plex.tv JWT now, with the device key, and returns its
    /// verified claims. Device-key clients do this by themselves before the
    /// JWT expires and after a 401; call it to surface a typed error
    /// ([`Error::DeviceKeyNotRegistered`], [`Error::JwtInvalid`], ...) or to
    /// store the new token right away.
    ///
    /// When the automatic refresh fails, it is not tried again for a
    /// cool-down (30 s, doubling up to 5 min); meanwhile requests go on with
    /// the current JWT while it is valid. Without a valid JWT, a request
    /// fails before it is sent, with why the refresh failed (the typed
    /// errors above, or clients.plex.tv's status). A request that plex.tv
    /// rejects (401) and that no refresh saves returns
    /// [`Error::Unauthorized`]. This method always tries, cool-down or not.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .clients_base_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// # let client = client.upgrade_to_jwt(&plex_tv::DeviceKey::generate()).await?;
    /// let claims = client.refresh_token().await?;
    /// println!("new JWT valid until {}", claims.expires_at());
    /// let to_store = client.current_token();
    /// # assert!(to_store.is_some());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the client has no device key;
    /// [`Error::DeviceKeyNotRegistered`] when plex.tv no longer knows the key
    /// (sign in again); the errors of [`verify_jwt`](Self::verify_jwt); and those
    /// of any request.
    pub async fn refresh_token(&self) -> Result<PlexJwtClaims, Error> {
        match self.device_session() {
            Some(session) => session.refresh().await,
            None => Err(Error::invalid_input(
                "this client has no device key: build it with PlexTvBuilder::device_key, or sign in \
                 with pin_login().device_key(key)",
            )),
        }
    }

    /// Changes how long a device-key client waits after a failed automatic
    /// refresh before it tries again: `first` after the first failure,
    /// doubling up to `max` (defaults 30 s and 5 min; a success starts over
    /// at `first`). Meanwhile requests go on with the current JWT while it
    /// is valid, and fail without a refresh attempt once it is not. Only
    /// with the `testing` feature, to make that testable in seconds; clones
    /// share the setting.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .clients_base_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// use std::time::Duration;
    ///
    /// # let client = client.upgrade_to_jwt(&plex_tv::DeviceKey::generate()).await?;
    /// // After a failed refresh, wait 1 s, then 2 s, then 4 s at most.
    /// client.set_refresh_cool_down(Duration::from_secs(1), Duration::from_secs(4));
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "testing")]
    pub fn set_refresh_cool_down(&self, first: std::time::Duration, max: std::time::Duration) {
        if let Some(session) = self.device_session() {
            session.set_cool_down(first, max);
        }
    }

    /// Verifies a plex.tv JWT against plex.tv's published keys (cached;
    /// fetched again once when the JWT names an unknown key): algorithm
    /// EdDSA, issuer `plex.tv`, audience `plex.tv` and this client's
    /// identifier, not expired, and bound to `key` (the `thumbprint` claim).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .clients_base_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// # let key = plex_tv::DeviceKey::generate();
    /// # let client = client.upgrade_to_jwt(&key).await?;
    /// use plex_tv::Error;
    ///
    /// let token = client.current_token().expect("signed in");
    /// match client.verify_jwt(&token, &key).await {
    ///     Ok(claims) => println!("valid until {}", claims.expires_at()),
    ///     Err(Error::JwtExpired) => println!("expired: refresh it"),
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::JwtInvalid`] when a check fails (it says which),
    /// [`Error::JwtExpired`] for an expired JWT, [`Error::UnknownSigningKey`]
    /// when plex.tv publishes no key of that id, and the errors of fetching the
    /// keys.
    pub async fn verify_jwt(&self, token: &Token, key: &DeviceKey) -> Result<PlexJwtClaims, Error> {
        refresh::verify(self.without_token().api(), token, key).await
    }
}
