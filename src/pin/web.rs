//! PIN sign-in across requests and processes, as web apps need it: a
//! [`PinState`] to keep between requests (it holds no secret), picked up
//! again with [`PlexTv::resume_pin`], one [`PendingPin::check`] per request
//! instead of a polling loop, and a callback state that binds the browser's
//! return to its PIN.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::PendingPin;
use crate::{types, DeviceKey, Error, PlexTv, RetryPolicy};

/// What a web app keeps of a pending PIN sign-in between requests (in a
/// session, a signed cookie or a small store): the PIN's id, code and
/// expiry, its kind, the forward URL, and the callback state. It holds no
/// token and no key; a device-key sign-in keeps only the key's id.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plex_tv::Error> {
/// # let fake = plex_tv::testing::FakePlexTv::start().await;
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .all_hosts_url(fake.base_url())
/// #     .build()?;
/// use plex_tv::pin::PinState;
///
/// let pin = client.pin_login().forward_url("https://app.example/callback").start().await?;
/// let saved = serde_json::to_string(&pin.state()).expect("serializes");
/// // ... a later request, perhaps another process with the same identity:
/// let state: PinState = serde_json::from_str(&saved).expect("deserializes");
/// let resumed = client.resume_pin(&state)?;
/// assert_eq!(resumed.id(), pin.id());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinState {
    /// The PIN's id.
    pub id: i64,
    /// The PIN's code.
    pub code: String,
    /// When the PIN expires, as plex.tv said.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it is a strong PIN (the hosted page) or a link code.
    pub strong: bool,
    /// The client identifier the PIN was created with; it must be resumed
    /// with the same one.
    pub client_identifier: String,
    /// The id of the device key of a device-key (JWT) sign-in.
    pub device_key_id: Option<String>,
    /// The forward URL given to the hosted page, without the state.
    pub forward_url: Option<String>,
    /// The value the forward URL carries as `state`; see
    /// [`verify_callback`](Self::verify_callback).
    pub callback_state: String,
}

impl PinState {
    /// Checks that a callback's `state` query value is this sign-in's, in
    /// constant time. A web app calls it on the forward URL's request and
    /// refuses the request when it fails; keeping each state for one use
    /// only (removing it from the store when its callback arrives) stops
    /// replays as well.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().forward_url("https://app.example/callback").start().await?;
    /// let state = pin.state();
    /// assert!(state.verify_callback(pin.callback_state()).is_ok());
    /// assert!(state.verify_callback("forged").is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the value is not this sign-in's.
    pub fn verify_callback(&self, state: &str) -> Result<(), Error> {
        if constant_time_eq(self.callback_state.as_bytes(), state.as_bytes()) {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "the callback's state is not this sign-in's: refuse the request",
            ))
        }
    }
}

/// Where a sign-in stands, from [`PendingPin::check`].
#[derive(Debug)]
#[non_exhaustive]
pub enum PinStatus {
    /// Not approved yet.
    Waiting {
        /// Time until the PIN expires, if known.
        time_left: Option<Duration>,
    },
    /// Approved: the signed-in client.
    SignedIn(Box<PlexTv>),
    /// The PIN expired; start a new sign-in.
    Expired,
}

impl PendingPin {
    /// What to keep of this sign-in between requests; see [`PinState`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().start().await?;
    /// let state = pin.state();
    /// assert_eq!((state.id, state.code.as_str()), (pin.id(), pin.code()));
    /// # Ok(()) }
    /// ```
    pub fn state(&self) -> PinState {
        PinState {
            id: self.pin.id,
            code: self.pin.code.clone(),
            expires_at: self.pin.expires_at.or_else(|| {
                let left = chrono::Duration::from_std(self.time_left()?).ok()?;
                Some(Utc::now() + left)
            }),
            strong: self.strong,
            client_identifier: self.client.identity().client_identifier().to_string(),
            device_key_id: self.device_key.as_ref().map(|k| k.key_id().to_owned()),
            forward_url: self.forward_url.clone(),
            callback_state: self.callback_state.clone(),
        }
    }

    /// The value that [`auth_url`](Self::auth_url)'s forward URL carries
    /// as its `state` query parameter: the hosted page sends the browser
    /// back to `<forward URL>?state=<this>`, and the app checks it with
    /// [`PinState::verify_callback`]. Random, 128 bits.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// let pin = client.pin_login().forward_url("https://app.example/callback").start().await?;
    /// let encoded = format!("state%3D{}", pin.callback_state());
    /// assert!(pin.auth_url().as_str().contains(&encoded));
    /// # Ok(()) }
    /// ```
    pub fn callback_state(&self) -> &str {
        &self.callback_state
    }

    /// Polls the PIN once, for handlers that must not block: waiting,
    /// signed in (with the client), or expired. No request is sent once the
    /// PIN has expired.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// use plex_tv::pin::PinStatus;
    ///
    /// let pin = client.pin_login().start().await?;
    /// assert!(matches!(pin.check().await?, PinStatus::Waiting { .. }));
    /// fake.approve(pin.id());
    /// match pin.check().await? {
    ///     PinStatus::SignedIn(signed_in) => println!("token {:?}", signed_in.token()),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// What plex.tv answers other than a pending, approved or expired PIN
    /// (an outage, a rate limit, a rejected device key).
    pub async fn check(&self) -> Result<PinStatus, Error> {
        if self.expires.is_some_and(|at| at <= Instant::now()) {
            return Ok(PinStatus::Expired);
        }
        match self.poll().await {
            Ok(Some(client)) => Ok(PinStatus::SignedIn(Box::new(client))),
            Ok(None) => Ok(PinStatus::Waiting {
                time_left: self.time_left(),
            }),
            Err(Error::Api {
                status: StatusCode::NOT_FOUND,
                ..
            }) => Ok(PinStatus::Expired),
            Err(error) => Err(error),
        }
    }
}

impl PlexTv {
    /// Picks up a PIN sign-in from its [`PinState`], on a client with the
    /// same identity (the process may have restarted in between). For a
    /// device-key sign-in, use [`resume_device_pin`](Self::resume_device_pin).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// let state = client.pin_login().start().await?.state();
    /// let resumed = client.resume_pin(&state)?;
    /// # fake.approve(state.id);
    /// let signed_in = resumed.wait().await?;
    /// # let _ = signed_in;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PinExpired`], without a request, once the PIN has expired;
    /// [`Error::InvalidInput`] for a state of another client identifier or
    /// of a device-key sign-in.
    pub fn resume_pin(&self, state: &PinState) -> Result<PendingPin, Error> {
        if state.device_key_id.is_some() {
            return Err(Error::invalid_input(
                "this sign-in was started with a device key: resume it with resume_device_pin",
            ));
        }
        self.resume(state, None)
    }

    /// Picks up a device-key (JWT) PIN sign-in from its [`PinState`], with
    /// the same device key it was started with.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .build()?;
    /// let key = plex_tv::DeviceKey::generate();
    /// let state = client.pin_login().device_key(key.clone()).start().await?.state();
    /// let resumed = client.resume_device_pin(&state, key)?;
    /// # fake.approve(state.id);
    /// let signed_in = resumed.wait().await?;
    /// assert!(signed_in.device_key().is_some());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`resume_pin`](Self::resume_pin), and [`Error::InvalidInput`] for
    /// another key than the sign-in's.
    pub fn resume_device_pin(&self, state: &PinState, key: DeviceKey) -> Result<PendingPin, Error> {
        if state.device_key_id.as_deref() != Some(key.key_id()) {
            return Err(Error::invalid_input(
                "this device key is not the one the sign-in was started with",
            ));
        }
        self.resume(state, Some(key))
    }

    fn resume(&self, state: &PinState, device_key: Option<DeviceKey>) -> Result<PendingPin, Error> {
        if state.client_identifier != self.identity().client_identifier().as_str() {
            return Err(Error::invalid_input(
                "the sign-in was started with another client identifier: resume it on a client \
                 with the same identity",
            ));
        }
        let now = Utc::now();
        let expires = match state.expires_at {
            Some(at) if at <= now => return Err(Error::PinExpired),
            Some(at) => Instant::now().checked_add((at - now).to_std().unwrap_or_default()),
            None => None,
        };
        let pin: types::Pin = serde_json::from_value(serde_json::json!({
            "id": state.id,
            "code": state.code,
            "expiresAt": state.expires_at,
        }))
        .map_err(|e| Error::invalid_input(format!("the PIN state does not describe a PIN: {e}")))?;
        let client = self.without_token();
        Ok(PendingPin {
            poller: client.with_retry(RetryPolicy::none()),
            client,
            pin,
            strong: state.strong,
            forward_url: state.forward_url.clone(),
            poll_interval: Duration::from_secs(1),
            deadline: None,
            expires,
            cancel: CancellationToken::new(),
            device_key,
            callback_state: state.callback_state.clone(),
        })
    }
}

/// A fresh callback state: 128 random bits, hex.
pub(super) fn new_callback_state() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `url` with `state=<state>` added to its query, before any fragment; the
/// rest of the caller's text is kept as it is.
pub(super) fn with_state(url: &str, state: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out = format!("{base}{separator}state={state}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_appended_to_the_forward_url() {
        assert_eq!(
            with_state("https://app.example/cb", "abc"),
            "https://app.example/cb?state=abc"
        );
        assert_eq!(
            with_state("https://app.example/cb?x=1", "abc"),
            "https://app.example/cb?x=1&state=abc"
        );
        assert_eq!(
            with_state("https://app.example/dönë?x=#top", "abc"),
            "https://app.example/dönë?x=&state=abc#top"
        );
        assert_eq!(with_state("/cb?", "abc"), "/cb?state=abc");
        assert_ne!(new_callback_state(), new_callback_state());
        assert_eq!(new_callback_state().len(), 32);
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
