//! Keeping a device-key client's plex.tv JWT fresh: before it expires, and
//! after plex.tv rejects it, with one refresh however many requests notice.
//!
//! One exchange attempt answers every request that noticed the same need:
//! an attempt counter tells a request that waited whether an attempt ended
//! meanwhile, and it then takes that attempt's outcome instead of making
//! another. A failed attempt starts a cool-down (30 s, doubling up to
//! 5 min, reset by a success) during which no automatic attempt is made, so
//! that a clients.plex.tv outage neither floods it nor slows plex.tv
//! traffic down while the current JWT is still valid.

use std::{
    sync::{PoisonError, RwLock},
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;
use reqwest::{header::HeaderValue, StatusCode};
use tokio::sync::Mutex;

use crate::{
    device_key::unix_now,
    jwt::{Expected, PlexJwtClaims},
    token::TokenHeader,
    types, Client, DeviceKey, Error, Token,
};

/// How long before expiry a JWT is refreshed, unless configured otherwise
/// with [`PlexTvBuilder::refresh_margin`](crate::PlexTvBuilder::refresh_margin).
///
/// The margin is capped at half the JWT's lifetime (`exp - iat`): a JWT is
/// refreshed when less than `min(margin, (exp - iat) / 2)` of it is left.
/// A JWT that lives no longer than the margin is thus used for half its
/// life, rather than refreshed before every request.
///
/// ```
/// use plex_tv::{ClientIdentifier, ClientIdentity, DeviceKey, PlexTv, DEFAULT_REFRESH_MARGIN};
///
/// // Refresh two days ahead, for a device that is often offline for a day.
/// let client = PlexTv::builder()
///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
///     .device_key(DeviceKey::generate())
///     .refresh_margin(DEFAULT_REFRESH_MARGIN * 2)
///     .build()?;
/// # let _ = client;
/// # Ok::<(), plex_tv::Error>(())
/// ```
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(24 * 60 * 60);

/// The first cool-down after a failed refresh; it doubles with each failure
/// in a row.
const FIRST_COOL_DOWN: Duration = Duration::from_secs(30);
/// The longest cool-down.
const MAX_COOL_DOWN: Duration = Duration::from_secs(5 * 60);

/// The device key and the current plex.tv JWT of a signed-in client, shared
/// by its clones.
pub(crate) struct DeviceSession {
    key: DeviceKey,
    margin: Duration,
    state: RwLock<State>,
    /// Held during an exchange attempt, so that there is one at a time.
    flight: Mutex<()>,
    /// Talks to clients.plex.tv without a token and without this session,
    /// so that refreshing never recurses.
    refresher: Client,
}

#[derive(Clone)]
struct State {
    token: Option<TokenHeader>,
    /// Unix seconds; `None` when unknown (refresh only after a 401).
    expires: Option<i64>,
    /// The token's `iat`, Unix seconds, when known: caps the margin at half
    /// the token's lifetime.
    issued: Option<i64>,
    /// Exchange attempts ended so far, successful or not. A request that
    /// read it before waiting for `flight` and finds it changed takes that
    /// attempt's outcome rather than repeating it.
    attempts: u64,
    /// Why the last attempt failed; `None` after a success.
    failure: Option<Failure>,
    /// No automatic attempt before then (after a failure).
    cool_until: Option<Instant>,
    /// The next cool-down's length.
    cool_down: Duration,
    /// The first and longest cool-down (settable for tests).
    cool_down_range: (Duration, Duration),
}

impl State {
    /// A token that is set and not known to have expired.
    fn usable(&self) -> bool {
        self.token.is_some() && self.expires.is_none_or(|exp| exp > unix_now() as i64)
    }

    fn cooling(&self) -> bool {
        self.cool_until.is_some_and(|until| Instant::now() < until)
    }

    fn token_value(&self) -> Option<&HeaderValue> {
        self.token.as_ref().and_then(|t| t.value.as_ref().ok())
    }

    /// For a request that will not attempt itself: go on with the token if
    /// it is usable, else fail with the last attempt's reason.
    fn outcome(&self) -> Result<(), Failure> {
        if self.usable() {
            Ok(())
        } else {
            Err(self.failure.clone().unwrap_or(Failure::Expired))
        }
    }
}

impl DeviceSession {
    pub(crate) fn new(
        key: DeviceKey,
        margin: Duration,
        token: Option<Token>,
        refresher: Client,
    ) -> Self {
        let times = token
            .as_ref()
            .and_then(|t| crate::jwt::unverified_times(t.expose_secret()));
        let (expires, issued) = (times.map(|t| t.0), times.and_then(|t| t.1));
        DeviceSession {
            key,
            margin,
            state: RwLock::new(State {
                token: token.map(TokenHeader::new),
                expires,
                issued,
                attempts: 0,
                failure: None,
                cool_until: None,
                cool_down: FIRST_COOL_DOWN,
                cool_down_range: (FIRST_COOL_DOWN, MAX_COOL_DOWN),
            }),
            flight: Mutex::new(()),
            refresher,
        }
    }

    pub(crate) fn key(&self) -> &DeviceKey {
        &self.key
    }

    fn state(&self) -> State {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.write().unwrap_or_else(PoisonError::into_inner));
    }

    /// The token requests carry now.
    pub(crate) fn token(&self) -> Option<TokenHeader> {
        self.state().token
    }

    /// How many exchange attempts have ended: read before sending a request,
    /// for [`refresh_after_rejection`](Self::refresh_after_rejection).
    pub(crate) fn attempts(&self) -> u64 {
        self.state().attempts
    }

    /// Changes the cool-down after failed refreshes (for tests).
    #[cfg(feature = "testing")]
    pub(crate) fn set_cool_down(&self, first: Duration, max: Duration) {
        self.update(|state| {
            state.cool_down_range = (first, max.max(first));
            state.cool_down = first;
        });
    }

    fn is_due(&self, state: &State) -> bool {
        match (&state.token, state.expires) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(expires)) => {
                let mut margin = i64::try_from(self.margin.as_secs()).unwrap_or(i64::MAX);
                if let Some(issued) = state.issued {
                    // A token that lives no longer than the margin would be
                    // due as soon as it is issued: use half its lifetime.
                    margin = margin.min(expires.saturating_sub(issued).max(0) / 2);
                }
                expires.saturating_sub(margin) <= unix_now() as i64
            }
        }
    }

    /// Before a request: refreshes if the token expires within the margin.
    ///
    /// While the token is still usable this never holds a request up for
    /// longer than one attempt, and usually not at all: when an attempt is
    /// in flight or cooling down after a failure, the request goes on with
    /// the current token (a 401 leads to [`refresh_after_rejection`]).
    /// Without a usable token the request waits for the attempt in flight
    /// and takes its outcome; the error is why the token could not be
    /// refreshed.
    ///
    /// [`refresh_after_rejection`]: Self::refresh_after_rejection
    pub(crate) async fn refresh_if_due(&self) -> Result<(), Failure> {
        let seen = self.state();
        if !self.is_due(&seen) {
            return Ok(());
        }
        if seen.cooling() {
            return seen.outcome();
        }
        let _flight = if seen.usable() {
            match self.flight.try_lock() {
                Ok(flight) => flight,
                Err(_) => return Ok(()),
            }
        } else {
            self.flight.lock().await
        };
        let now = self.state();
        if now.attempts != seen.attempts || !self.is_due(&now) {
            return now.outcome();
        }
        match self.attempt().await {
            Ok(_) => Ok(()),
            Err(_) => self.state().outcome(),
        }
    }

    /// After plex.tv rejected `sent`, a request sent when
    /// [`attempts`](Self::attempts) was `seen`: refreshes once for every
    /// request rejected with the same token. `Ok` when the request may be
    /// sent again with the new token; `Err` when it should return its 401:
    /// the refresh failed, or one failed since it was sent, or recently
    /// enough to be cooling down.
    pub(crate) async fn refresh_after_rejection(
        &self,
        sent: Option<&HeaderValue>,
        seen: u64,
    ) -> Result<(), Failure> {
        let _flight = self.flight.lock().await;
        let now = self.state();
        if now.token_value() != sent {
            return Ok(());
        }
        if now.attempts != seen || now.cooling() {
            return Err(now.failure.unwrap_or(Failure::Expired));
        }
        self.attempt().await.map(drop).map_err(|e| Failure::of(&e))
    }

    /// Refreshes unconditionally (waiting for an attempt in flight first).
    pub(crate) async fn refresh(&self) -> Result<PlexJwtClaims, Error> {
        let _flight = self.flight.lock().await;
        self.attempt().await
    }

    /// One exchange, its outcome recorded; the caller holds `flight`.
    async fn attempt(&self) -> Result<PlexJwtClaims, Error> {
        let result = self.exchange().await;
        match &result {
            Ok((token, claims)) => {
                self.update(|state| {
                    state.token = Some(TokenHeader::new(token.clone()));
                    state.expires = Some(claims.exp);
                    state.issued = Some(claims.iat);
                    state.attempts += 1;
                    state.failure = None;
                    state.cool_until = None;
                    state.cool_down = state.cool_down_range.0;
                });
                tracing::debug!(
                    kid = self.key.key_id(),
                    exp = claims.exp,
                    "refreshed the plex.tv JWT"
                );
            }
            Err(error) => {
                let mut pause = Duration::ZERO;
                self.update(|state| {
                    pause = state.cool_down;
                    state.attempts += 1;
                    state.failure = Some(Failure::of(error));
                    state.cool_until = Instant::now().checked_add(pause);
                    state.cool_down = pause.saturating_mul(2).min(state.cool_down_range.1);
                });
                tracing::warn!(
                    kid = self.key.key_id(),
                    %error,
                    retry_in_s = pause.as_secs(),
                    "could not refresh the plex.tv JWT"
                );
            }
        }
        result.map(|(_, claims)| claims)
    }

    /// Boxed: the exchange's own requests pass through the client hooks that
    /// call this, so without a box its future type would contain itself.
    fn exchange(&self) -> BoxFuture<'_, Result<(Token, PlexJwtClaims), Error>> {
        Box::pin(exchange(&self.refresher, &self.key))
    }
}

/// Why an automatic refresh failed, kept for the requests that take the
/// attempt's outcome. [`Error`] is not `Clone`, and the client hooks can only
/// fail with a string (`progenitor_client::Error::Custom`): [`to_custom`]
/// writes one that [`Failure::from_custom`] reads back, so that the caller's
/// [`Error`] is typed.
///
/// [`to_custom`]: Failure::to_custom
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    NotRegistered,
    UnknownSigningKey(String),
    Invalid(String),
    /// clients.plex.tv answered this error status.
    Status(u16),
    Timeout,
    /// The JWT is missing or expired and could not be refreshed for another
    /// reason (a broken connection, say; logged at the attempt).
    Expired,
}

/// Starts the strings of [`Failure::to_custom`].
const CUSTOM_PREFIX: &str = "plex-tv: could not refresh the plex.tv JWT: ";

impl Failure {
    fn of(error: &Error) -> Failure {
        match error {
            Error::DeviceKeyNotRegistered => Failure::NotRegistered,
            Error::UnknownSigningKey { kid } => Failure::UnknownSigningKey(kid.clone()),
            Error::JwtInvalid { reason } => Failure::Invalid(reason.clone()),
            Error::Timeout => Failure::Timeout,
            other => match other.status() {
                Some(status) => Failure::Status(status.as_u16()),
                None => Failure::Expired,
            },
        }
    }

    /// The message of the `Custom` error the `pre` hook returns.
    pub(crate) fn to_custom(&self) -> String {
        let detail = match self {
            Failure::NotRegistered => "device key not registered".to_owned(),
            Failure::UnknownSigningKey(kid) => format!("unknown signing key: {kid}"),
            Failure::Invalid(reason) => format!("invalid: {reason}"),
            Failure::Status(status) => format!("status: {status}"),
            Failure::Timeout => "timeout".to_owned(),
            Failure::Expired => "expired".to_owned(),
        };
        format!("{CUSTOM_PREFIX}{detail}")
    }

    /// The typed error of a [`to_custom`](Self::to_custom) message.
    pub(crate) fn from_custom(message: &str) -> Option<Error> {
        let detail = message.strip_prefix(CUSTOM_PREFIX)?;
        let (kind, value) = detail.split_once(": ").unwrap_or((detail, ""));
        Some(match kind {
            "device key not registered" => Error::DeviceKeyNotRegistered,
            "unknown signing key" => Error::UnknownSigningKey {
                kid: value.to_owned(),
            },
            "invalid" => Error::JwtInvalid {
                reason: value.to_owned(),
            },
            "status" => {
                let status = value
                    .parse()
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())?;
                Error::from_status(status, &Default::default(), Vec::new())
            }
            "timeout" => Error::Timeout,
            "expired" => Error::JwtExpired,
            _ => return None,
        })
    }
}

/// Trades a fresh client JWT for a plex.tv JWT and verifies it.
pub(crate) async fn exchange(
    clients: &Client,
    key: &DeviceKey,
) -> Result<(Token, PlexJwtClaims), Error> {
    let jwt = signed_client_jwt(clients, key).await?;
    let request = types::DeviceTokenRequest {
        jwt: jwt.expose_secret().to_owned().into(),
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
    let jwt = key.client_jwt(clients.inner.identity().client_identifier(), &nonce)?;
    // Sent in a query or a body, not as a header: live by hand, so that an
    // answer quoting it is scrubbed like one quoting the token.
    jwt.keep_live();
    Ok(jwt)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_survive_the_custom_error_string() {
        let cases = [
            (Failure::NotRegistered, "DeviceKeyNotRegistered"),
            (
                Failure::UnknownSigningKey("k: 1".into()),
                "UnknownSigningKey",
            ),
            (Failure::Invalid("bad: aud".into()), "JwtInvalid"),
            (Failure::Status(503), "Api"),
            (Failure::Status(401), "Unauthorized"),
            (Failure::Timeout, "Timeout"),
            (Failure::Expired, "JwtExpired"),
        ];
        for (failure, variant) in cases {
            let error = Failure::from_custom(&failure.to_custom()).unwrap();
            assert!(format!("{error:?}").starts_with(variant), "{error:?}");
            assert_eq!(Failure::of(&error), failure);
        }
        assert!(Failure::from_custom("something else").is_none());
    }
}
