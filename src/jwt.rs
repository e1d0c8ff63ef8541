//! Verification of plex.tv JWTs against plex.tv's published keys.
//!
//! plex.tv rotates its signing keys, so the keys are cached and fetched
//! again once when a JWT names a key id the cache does not hold.

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

/// plex.tv's public keys, fetched on first use and again when a JWT names
/// an unknown key. The lock also makes concurrent fetches one.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: Mutex<Option<Vec<Jwk>>>,
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
            let keys = self.keys(clients, refetch).await?;
            match check(token, kid, &keys, expected) {
                Outcome::Valid(claims) => return Ok(claims),
                Outcome::Invalid(error) => return Err(error),
                Outcome::NoSuchKey => {}
            }
        }
        Err(match kid {
            Some(kid) => Error::UnknownSigningKey {
                kid: kid.to_owned(),
            },
            None => invalid("no key id, and plex.tv publishes no key"),
        })
    }

    async fn keys(&self, clients: &Client, refetch: bool) -> Result<Vec<Jwk>, Error> {
        let mut cached = self.keys.lock().await;
        if let (Some(keys), false) = (&*cached, refetch) {
            return Ok(keys.clone());
        }
        let published = clients.get_auth_keys().send().await?.into_inner();
        // Keys of other types are skipped: only Ed25519 ones sign plex.tv JWTs.
        let keys: Vec<Jwk> = published
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value(serde_json::to_value(key).ok()?).ok())
            .collect();
        tracing::debug!(keys = keys.len(), "fetched plex.tv's signing keys");
        *cached = Some(keys.clone());
        Ok(keys)
    }
}

/// Tries the keys `kid` names (every key when the header names none).
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
            Err(e) if *e.kind() == ErrorKind::InvalidSignature => continue,
            Err(e) => return Outcome::Invalid(from_jwt_error(e.kind())),
        }
    }
    if tried {
        Outcome::Invalid(invalid("the signature matches none of plex.tv's keys"))
    } else {
        Outcome::NoSuchKey
    }
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

/// The `exp` of a JWT, read without verifying it: only to schedule a
/// refresh, never to trust the token.
pub(crate) fn unverified_expiry(token: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Exp {
        exp: i64,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Exp>(token)
        .ok()
        .map(|e| e.exp)
}
