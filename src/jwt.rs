//! Verification of plex.tv JWTs against plex.tv's published keys.
//!
//! plex.tv rotates its signing keys, so the keys are cached and fetched
//! again once when a JWT names a key id the cache does not hold (at most
//! once per [`REFETCH_INTERVAL`], so that tokens naming made-up key ids
//! cannot make every verification a round trip).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::{errors::ErrorKind, jwk::Jwk, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::{Client, Error};

/// The issuer of plex.tv JWTs, and one of their audiences.
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
/// assert_eq!(claims.iss, plex_tv::PLEX_ISSUER);
/// assert!(claims.aud.iter().any(|aud| aud == plex_tv::PLEX_ISSUER));
/// # Ok(()) }
/// ```
pub const PLEX_ISSUER: &str = "plex.tv";

/// The claims of a verified plex.tv JWT.
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
/// let token = client.current_token().expect("signed in");
/// let claims = client.verify_jwt(&token, &key).await?;
/// assert_eq!(claims.thumbprint, key.key_id());
/// println!("valid until {}", claims.expires_at());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlexJwtClaims {
    /// The issuer: `plex.tv`.
    pub iss: String,
    /// The audiences: `plex.tv` and the client identifier.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiry, in Unix seconds.
    pub exp: i64,
    /// Issue time, in Unix seconds.
    pub iat: i64,
    /// The key id of the device key the token is bound to.
    pub thumbprint: String,
}

impl PlexJwtClaims {
    /// When the token expires.
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
    /// assert!(claims.expires_at() > chrono::Utc::now());
    /// println!("valid until {}", claims.expires_at().to_rfc3339());
    /// # Ok(()) }
    /// ```
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// `aud` is a string or an array of strings (RFC 7519).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// The shortest time between two refetches of plex.tv's keys for unknown
/// key ids; the fetch on first use is not held back.
const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// plex.tv's public keys, fetched on first use and again when a JWT names
/// an unknown key. The lock also makes concurrent fetches one.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    keys: Option<Vec<Jwk>>,
    /// When the keys were last fetched again for an unknown key id.
    refetched: Option<Instant>,
}

/// What checking a token against a set of keys found.
enum Outcome {
    Valid(PlexJwtClaims),
    NoSuchKey,
    Invalid(Error),
}

/// What the token must be bound to.
pub(crate) struct Expected<'a> {
    pub client_identifier: &'a str,
    pub key_id: &'a str,
}

impl KeyCache {
    /// Verifies `token`: EdDSA, signed by one of plex.tv's keys (refetched
    /// once for an unknown `kid`), issuer `plex.tv`, audience `plex.tv` and
    /// the client identifier, not expired, and bound to the device key.
    pub(crate) async fn verify(
        &self,
        clients: &Client,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<PlexJwtClaims, Error> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("not a JWT"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid(&format!("signed with {:?}, not EdDSA", header.alg)));
        }
        let kid = header.kid.as_deref();
        for refetch in [false, true] {
            let Some(keys) = self.keys(clients, refetch).await? else {
                break;
            };
            match check(token, kid, &keys, expected) {
                Outcome::Valid(claims) => return Ok(claims),
                Outcome::Invalid(error) => return Err(error),
                Outcome::NoSuchKey => {}
            }
        }
        Err(match kid {
            // The key id comes from the token's header: server text.
            Some(kid) => Error::UnknownSigningKey {
                kid: crate::server_text::server_text(kid, &crate::server_text::Secrets::known()),
            },
            None => invalid("no key id, and the signature matches none of plex.tv's keys"),
        })
    }

    /// The cached keys, fetched if there are none yet. With `refetch`, fetched
    /// again unless that was done less than [`REFETCH_INTERVAL`] ago (then
    /// `None`: nothing new to try).
    async fn keys(&self, clients: &Client, refetch: bool) -> Result<Option<Vec<Jwk>>, Error> {
        let mut cached = self.keys.lock().await;
        if let Some(keys) = &cached.keys {
            if !refetch {
                return Ok(Some(keys.clone()));
            }
            let recently = cached
                .refetched
                .is_some_and(|at| at.elapsed() < REFETCH_INTERVAL);
            if recently {
                tracing::debug!("plex.tv's signing keys were refetched recently: not again");
                return Ok(None);
            }
            cached.refetched = Some(Instant::now());
        }
        let published = clients.get_auth_keys().send().await?.into_inner();
        // Only Ed25519 keys sign plex.tv JWTs: keys of other types (RSA, EC,
        // other curves) and malformed ones are skipped.
        let keys: Vec<Jwk> = published
            .keys
            .into_iter()
            .filter(is_ed25519)
            .filter_map(|key| serde_json::from_value(serde_json::to_value(key).ok()?).ok())
            .filter(has_32_byte_key)
            .collect();
        tracing::debug!(keys = keys.len(), "fetched plex.tv's signing keys");
        cached.keys = Some(keys.clone());
        Ok(Some(keys))
    }
}

/// An Ed25519 public key: `kty` `OKP`, `crv` `Ed25519`, `alg` `EdDSA` or
/// absent.
fn is_ed25519(key: &crate::types::Jwk) -> bool {
    key.kty == "OKP"
        && key.crv.as_deref() == Some("Ed25519")
        && key.alg.as_deref().is_none_or(|alg| alg == "EdDSA")
}

/// Its `x` is 32 bytes, as an Ed25519 public key's (jsonwebtoken assumes
/// as much).
fn has_32_byte_key(key: &Jwk) -> bool {
    DecodingKey::from_jwk(key)
        .ok()
        .and_then(|key| key.try_get_as_bytes().ok().map(|x| x.len() == 32))
        .unwrap_or(false)
}

/// Tries the keys `kid` names (every key when the header names none: then
/// no match is `NoSuchKey`, as the signing key may be new).
fn check(token: &str, kid: Option<&str>, keys: &[Jwk], expected: &Expected<'_>) -> Outcome {
    let candidates = keys
        .iter()
        .filter(|key| kid.is_none() || key.common.key_id.as_deref() == kid)
        .filter_map(|key| DecodingKey::from_jwk(key).ok());
    let mut tried = false;
    for key in candidates {
        tried = true;
        match jsonwebtoken::decode::<PlexJwtClaims>(token, &key, &validation()) {
            Ok(data) => return judge_claims(data.claims, expected),
            // Not this key: a wrong signature, or a key that is not a
            // usable Ed25519 key after all (the next one may be).
            Err(e) if is_key_error(e.kind()) => continue,
            Err(e) => return Outcome::Invalid(from_jwt_error(e.kind())),
        }
    }
    // Without a kid, the signing key may be a new one: fetch the keys again.
    if tried && kid.is_some() {
        Outcome::Invalid(invalid("the signature matches none of plex.tv's keys"))
    } else {
        Outcome::NoSuchKey
    }
}

/// Errors about the key rather than the token: try the next key.
fn is_key_error(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidSignature
            | ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
    )
}

fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[PLEX_ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    // Both audiences must be present, which `Validation` cannot say: checked below.
    validation.validate_aud = false;
    validation
}

fn judge_claims(claims: PlexJwtClaims, expected: &Expected<'_>) -> Outcome {
    let has = |aud: &str| claims.aud.iter().any(|a| a == aud);
    if !has(PLEX_ISSUER) || !has(expected.client_identifier) {
        return Outcome::Invalid(invalid(
            "its audience is not plex.tv and this client identifier",
        ));
    }
    if claims.thumbprint != expected.key_id {
        return Outcome::Invalid(invalid("it is bound to another device key"));
    }
    Outcome::Valid(claims)
}

fn from_jwt_error(kind: &ErrorKind) -> Error {
    match kind {
        ErrorKind::ExpiredSignature => Error::JwtExpired,
        ErrorKind::InvalidIssuer => invalid("its issuer is not plex.tv"),
        ErrorKind::MissingRequiredClaim(claim) => invalid(&format!("it has no {claim} claim")),
        ErrorKind::Json(_) | ErrorKind::InvalidClaimFormat(_) => {
            invalid("its claims are malformed (needs iss, aud, exp, iat and thumbprint)")
        }
        ErrorKind::InvalidAlgorithm => invalid("its algorithm is not EdDSA"),
        other => invalid(&format!("{other:?}")),
    }
}

fn invalid(reason: &str) -> Error {
    Error::JwtInvalid {
        reason: reason.to_owned(),
    }
}

/// The `exp` and `iat` of a JWT, read without verifying it: only to
/// schedule a refresh, never to trust the token.
pub(crate) fn unverified_times(token: &str) -> Option<(i64, Option<i64>)> {
    #[derive(Deserialize)]
    struct Times {
        exp: i64,
        iat: Option<i64>,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Times>(token)
        .ok()
        .map(|t| (t.exp, t.iat))
}
