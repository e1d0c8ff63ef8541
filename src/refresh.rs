//! Keeping a device-key client's plex.tv JWT fresh: before it expires, and
//! after plex.tv rejects it, with one refresh however many requests notice.

use std::{
    sync::{PoisonError, RwLock},
    time::Duration,
};

use futures_util::future::BoxFuture;
use reqwest::header::HeaderValue;
use tokio::sync::Mutex;

use crate::{
    client::TokenHeader,
    device_key::unix_now,
    jwt::{Expected, PlexJwtClaims},
    types, Client, DeviceKey, Error, Token,
};

/// How long before expiry a JWT is refreshed, unless configured otherwise.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(24 * 60 * 60);

/// The device key and the current plex.tv JWT of a signed-in client, shared
/// by its clones.
pub(crate) struct DeviceSession {
    key: DeviceKey,
    margin: Duration,
    current: RwLock<Current>,
    /// Held while refreshing: requests that find the token stale queue here
    /// and find it fresh when their turn comes.
    flight: Mutex<()>,
    /// Talks to clients.plex.tv without a token and without this session,
    /// so that refreshing never recurses.
    refresher: Client,
}

#[derive(Clone)]
struct Current {
    token: Option<TokenHeader>,
    /// Unix seconds; `None` when unknown (refresh only after a 401).
    expires: Option<i64>,
}

impl DeviceSession {
    pub(crate) fn new(
        key: DeviceKey,
        margin: Duration,
        token: Option<Token>,
        refresher: Client,
    ) -> Self {
        let expires = token
            .as_ref()
            .and_then(|t| crate::jwt::unverified_expiry(t.expose_secret()));
        DeviceSession {
            key,
            margin,
            current: RwLock::new(Current {
                token: token.map(TokenHeader::new),
                expires,
            }),
            flight: Mutex::new(()),
            refresher,
        }
    }

    pub(crate) fn key(&self) -> &DeviceKey {
        &self.key
    }

    fn current(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token requests carry now.
    pub(crate) fn token(&self) -> Option<TokenHeader> {
        self.current().token
    }

    fn is_due(&self) -> bool {
        let current = self.current();
        match (current.token, current.expires) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(expires)) => {
                let margin = i64::try_from(self.margin.as_secs()).unwrap_or(i64::MAX);
                expires.saturating_sub(margin) <= unix_now() as i64
            }
        }
    }

    /// Refreshes if the token expires within the margin. A failure is only
    /// logged while the current token is still usable: the request goes on
    /// with it, and a 401 leads back here.
    pub(crate) async fn refresh_if_due(&self) -> Result<(), Error> {
        if !self.is_due() {
            return Ok(());
        }
        let _flight = self.flight.lock().await;
        if !self.is_due() {
            return Ok(());
        }
        self.refresh_now().await
    }

    /// After plex.tv rejected `sent`: refreshes, unless another request
    /// already replaced that token.
    pub(crate) async fn refresh_after_rejection(
        &self,
        sent: Option<&HeaderValue>,
    ) -> Result<(), Error> {
        let _flight = self.flight.lock().await;
        let current = self.current().token;
        let current = current.as_ref().and_then(|t| t.value.as_ref().ok());
        if current != sent {
            return Ok(());
        }
        self.refresh_now().await
    }

    /// Refreshes unconditionally (waiting for a refresh in flight first).
    pub(crate) async fn refresh(&self) -> Result<PlexJwtClaims, Error> {
        let _flight = self.flight.lock().await;
        self.exchange_and_store().await
    }

    async fn refresh_now(&self) -> Result<(), Error> {
        match self.exchange_and_store().await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(kid = self.key.key_id(), %error, "could not refresh the plex.tv JWT");
                Err(error)
            }
        }
    }

    /// Boxed: the exchange's own requests pass through the client hooks that
    /// call this, so without a box its future type would contain itself.
    fn exchange_and_store(&self) -> BoxFuture<'_, Result<PlexJwtClaims, Error>> {
        Box::pin(self.exchange_and_store_inner())
    }

    async fn exchange_and_store_inner(&self) -> Result<PlexJwtClaims, Error> {
        let (token, claims) = exchange(&self.refresher, &self.key).await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Current {
            token: Some(TokenHeader::new(token)),
            expires: Some(claims.exp),
        };
        tracing::debug!(
            kid = self.key.key_id(),
            exp = claims.exp,
            "refreshed the plex.tv JWT"
        );
        Ok(claims)
    }
}

/// Trades a fresh client JWT for a plex.tv JWT and verifies it.
pub(crate) async fn exchange(
    clients: &Client,
    key: &DeviceKey,
) -> Result<(Token, PlexJwtClaims), Error> {
    let jwt = signed_client_jwt(clients, key).await?;
    let request = types::DeviceTokenRequest {
        jwt: jwt.expose_secret().to_owned(),
    };
    let response = clients
        .exchange_device_jwt()
        .body(request)
        .send()
        .await
        .map_err(|e| not_registered(Error::from(e)))?;
    let token = response.into_inner().auth_token;
    let claims = verify(clients, &token, key).await?;
    Ok((token, claims))
}

/// A client JWT around a nonce fresh from plex.tv.
pub(crate) async fn signed_client_jwt(clients: &Client, key: &DeviceKey) -> Result<Token, Error> {
    let nonce = clients.get_auth_nonce().send().await?.into_inner().nonce;
    key.client_jwt(clients.inner.identity().client_identifier(), &nonce)
}

/// Verifies a plex.tv JWT for this client identifier and `key`.
pub(crate) async fn verify(
    clients: &Client,
    token: &Token,
    key: &DeviceKey,
) -> Result<PlexJwtClaims, Error> {
    let expected = Expected {
        client_identifier: clients.inner.identity().client_identifier().as_str(),
        key_id: key.key_id(),
    };
    clients
        .inner
        .key_cache()
        .verify(clients, token.expose_secret(), &expected)
        .await
}

/// plex.tv refuses a client JWT from a key it does not know with 401, 403
/// or 404.
fn not_registered(error: Error) -> Error {
    let refused = error
        .status()
        .is_some_and(|status| matches!(status.as_u16(), 401 | 403 | 404));
    if refused {
        Error::DeviceKeyNotRegistered
    } else {
        error
    }
}
