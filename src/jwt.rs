//! Verification of plex.tv JWTs against plex.tv's published keys.
//!
//! plex.tv rotates its signing keys, so the keys are cached and fetched
//! again once when a JWT names a key id the cache does not hold (at most
//! once per [`REFETCH_INTERVAL`], so that tokens naming made-up key ids
//! cannot make every verification a round trip).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::{
    device_key::unix_now,
    jws::{self, Malformed},
    Client, Error,
};

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

/// How far past `exp` a token is still taken, for clocks that differ a
/// little between plex.tv and here.
const LEEWAY_SECS: u64 = 60;

/// plex.tv's public keys, fetched on first use and again when a JWT names
/// an unknown key. The lock also makes concurrent fetches one.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    keys: Option<Vec<PublishedKey>>,
    /// When the keys were last fetched again for an unknown key id.
    refetched: Option<Instant>,
}

/// One of plex.tv's usable signing keys.
#[derive(Clone, Debug)]
struct PublishedKey {
    kid: Option<String>,
    key: VerifyingKey,
}

/// What checking a token against a set of keys found.
#[derive(Debug)]
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
        let token = jws::parse(token).map_err(refusal)?;
        let kid = token.kid.as_deref();
        for refetch in [false, true] {
            let Some(keys) = self.keys(clients, refetch).await? else {
                break;
            };
            match check(&token, &keys, expected, unix_now()) {
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
    async fn keys(
        &self,
        clients: &Client,
        refetch: bool,
    ) -> Result<Option<Vec<PublishedKey>>, Error> {
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
        let keys: Vec<PublishedKey> = published.keys.iter().filter_map(usable).collect();
        tracing::debug!(keys = keys.len(), "fetched plex.tv's signing keys");
        cached.keys = Some(keys.clone());
        Ok(Some(keys))
    }
}

/// The key, if it can sign plex.tv JWTs: `kty` `OKP`, `crv` `Ed25519`,
/// `alg` `EdDSA` or absent, and an `x` that is an Ed25519 public key. Keys
/// of other types (RSA, EC, other curves) and malformed ones are skipped.
fn usable(key: &crate::types::Jwk) -> Option<PublishedKey> {
    let ed25519 = key.kty == "OKP"
        && key.crv.as_deref() == Some("Ed25519")
        && key.alg.as_deref().is_none_or(|alg| alg == jws::EDDSA);
    if !ed25519 {
        return None;
    }
    Some(PublishedKey {
        kid: key.kid.clone(),
        key: jws::verifying_key(key.x.as_deref()?)?,
    })
}

/// Tries the keys `kid` names (every key when the header names none: then
/// no match is `NoSuchKey`, as the signing key may be new), then judges
/// the claims of the key that made the signature at time `now`.
fn check(
    token: &jws::Unverified<'_>,
    keys: &[PublishedKey],
    expected: &Expected<'_>,
    now: u64,
) -> Outcome {
    let kid = token.kid.as_deref();
    let mut candidates = keys
        .iter()
        .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
        .peekable();
    let tried = candidates.peek().is_some();
    // A wrong signature means "not this key": the next one may have made it.
    let payload = candidates.find_map(|key| token.verified_payload(&key.key));
    match payload {
        Some(payload) => match judge_claims(&payload, expected, now) {
            Ok(claims) => Outcome::Valid(claims),
            Err(error) => Outcome::Invalid(error),
        },
        // Without a kid, the signing key may be a new one: fetch the keys again.
        None if tried && kid.is_some() => {
            Outcome::Invalid(invalid("the signature matches none of plex.tv's keys"))
        }
        None => Outcome::NoSuchKey,
    }
}

/// The claims of a token whose signature is plex.tv's, if they say what
/// they must at time `now` (Unix seconds): `exp`, `iss` and `aud` present,
/// not expired (with [`LEEWAY_SECS`]), issuer `plex.tv`, audience `plex.tv`
/// and the client identifier, bound to the device key, and `iat` and
/// `thumbprint` present.
fn judge_claims(payload: &[u8], expected: &Expected<'_>, now: u64) -> Result<PlexJwtClaims, Error> {
    let malformed =
        || invalid("its claims are malformed (needs iss, aud, exp, iat and thumbprint)");
    let claims: Value = serde_json::from_slice(payload).map_err(|_| malformed())?;
    if !claims.is_object() {
        return Err(malformed());
    }
    let Some(exp) = numeric_date(&claims["exp"]) else {
        return Err(invalid("it has no exp claim"));
    };
    for name in ["iss", "aud"] {
        if !is_string_or_strings(&claims[name]) {
            return Err(invalid(&format!("it has no {name} claim")));
        }
    }
    if exp.saturating_add(LEEWAY_SECS) < now {
        return Err(Error::JwtExpired);
    }
    if !names(&claims["iss"], PLEX_ISSUER) {
        return Err(invalid("its issuer is not plex.tv"));
    }
    let claims: PlexJwtClaims = serde_json::from_value(claims).map_err(|_| malformed())?;
    let has = |aud: &str| claims.aud.iter().any(|a| a == aud);
    if !has(PLEX_ISSUER) || !has(expected.client_identifier) {
        return Err(invalid(
            "its audience is not plex.tv and this client identifier",
        ));
    }
    if claims.thumbprint != expected.key_id {
        return Err(invalid("it is bound to another device key"));
    }
    Ok(claims)
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, not negative; a
/// fraction is rounded.
fn numeric_date(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        let float = value.as_f64()?;
        // The cast saturates; a date past u64 seconds is "never" anyway.
        (float.is_finite() && float >= 0.0).then(|| float.round() as u64)
    })
}

fn is_string_or_strings(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

/// `value` is `name`, or an array that holds it.
fn names(value: &Value, name: &str) -> bool {
    match value {
        Value::String(one) => one == name,
        Value::Array(many) => many.iter().any(|item| item == name),
        _ => false,
    }
}

/// The error for a token that is not an EdDSA JWT at all.
fn refusal(malformed: Malformed) -> Error {
    match malformed {
        Malformed::NotAJws => invalid("not a JWT"),
        Malformed::Algorithm(Some(alg)) => invalid(&format!("signed with {alg}, not EdDSA")),
        Malformed::Algorithm(None) => invalid("its algorithm is not EdDSA"),
        Malformed::Critical => {
            invalid("it has critical header extensions this client does not know")
        }
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
    let payload = jws::parse(token).ok()?.unverified_payload()?;
    let times: Times = serde_json::from_slice(&payload).ok()?;
    Some((times.exp, times.iat))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_800_000_000;
    const CLIENT: &str = "client-1";
    const DEVICE: &str = "device-kid";

    fn expected() -> Expected<'static> {
        Expected {
            client_identifier: CLIENT,
            key_id: DEVICE,
        }
    }

    fn good() -> Value {
        json!({"iss": "plex.tv", "aud": ["plex.tv", CLIENT], "iat": NOW, "exp": NOW + 3600,
            "thumbprint": DEVICE, "user": {"id": 1}})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut claims = good();
        claims[field] = value;
        claims
    }

    fn without(field: &str) -> Value {
        let mut claims = good();
        claims.as_object_mut().unwrap().remove(field);
        claims
    }

    fn judge(claims: &Value) -> Result<PlexJwtClaims, Error> {
        judge_claims(claims.to_string().as_bytes(), &expected(), NOW)
    }

    fn reason(result: Result<PlexJwtClaims, Error>) -> String {
        match result {
            Err(Error::JwtInvalid { reason }) => reason,
            other => panic!("not JwtInvalid: {other:?}"),
        }
    }

    #[test]
    fn good_claims_are_returned() {
        let claims = judge(&good()).unwrap();
        assert_eq!(claims.iss, "plex.tv");
        assert_eq!(claims.aud, ["plex.tv", CLIENT]);
        assert_eq!((claims.iat, claims.exp), (NOW as i64, NOW as i64 + 3600));
        assert_eq!(claims.thumbprint, DEVICE);
    }

    #[test]
    fn expiry_has_a_minute_of_leeway() {
        let at = |exp: u64| judge(&with("exp", json!(exp)));
        assert!(at(NOW).is_ok());
        assert!(at(NOW - LEEWAY_SECS).is_ok());
        assert!(matches!(at(NOW - LEEWAY_SECS - 1), Err(Error::JwtExpired)));
        assert!(matches!(at(0), Err(Error::JwtExpired)));
        // A fractional date is rounded, as RFC 7519 allows fractions.
        let fraction = judge(&with("exp", json!((NOW - LEEWAY_SECS - 2) as f64 + 0.4)));
        assert!(matches!(fraction, Err(Error::JwtExpired)), "{fraction:?}");
    }

    #[test]
    fn exp_iss_and_aud_are_required_and_typed() {
        for name in ["exp", "iss", "aud"] {
            assert_eq!(
                reason(judge(&without(name))),
                format!("it has no {name} claim")
            );
            assert_eq!(
                reason(judge(&with(name, json!(null)))),
                format!("it has no {name} claim")
            );
            assert_eq!(
                reason(judge(&with(name, json!({"x": 1})))),
                format!("it has no {name} claim")
            );
        }
        assert_eq!(
            reason(judge(&with("exp", json!("tomorrow")))),
            "it has no exp claim"
        );
        assert_eq!(
            reason(judge(&with("exp", json!(-5)))),
            "it has no exp claim"
        );
        assert_eq!(
            reason(judge(&with("aud", json!(["plex.tv", 7])))),
            "it has no aud claim"
        );
    }

    #[test]
    fn the_issuer_must_be_plex_tv() {
        for iss in [
            json!("evil.example"),
            json!("Plex.tv"),
            json!(""),
            json!(["evil"]),
        ] {
            assert_eq!(
                reason(judge(&with("iss", iss.clone()))),
                "its issuer is not plex.tv",
                "{iss}"
            );
        }
        // Several issuers naming plex.tv are still not one issuer.
        assert!(reason(judge(&with("iss", json!(["plex.tv", "evil"])))).contains("malformed"));
    }

    #[test]
    fn both_audiences_must_be_present() {
        let audience = "its audience is not plex.tv and this client identifier";
        for aud in [
            json!("plex.tv"),
            json!(CLIENT),
            json!([]),
            json!(["plex.tv", "other"]),
            json!([CLIENT]),
        ] {
            assert_eq!(reason(judge(&with("aud", aud.clone()))), audience, "{aud}");
        }
        assert!(judge(&with("aud", json!([CLIENT, "extra", "plex.tv"]))).is_ok());
    }

    #[test]
    fn the_thumbprint_must_be_the_device_keys() {
        assert_eq!(
            reason(judge(&with("thumbprint", json!("other")))),
            "it is bound to another device key"
        );
        assert!(reason(judge(&without("thumbprint"))).contains("claims are malformed"));
        assert!(reason(judge(&with("thumbprint", json!(5)))).contains("claims are malformed"));
        assert!(reason(judge(&without("iat"))).contains("claims are malformed"));
    }

    #[test]
    fn payloads_that_are_not_claims_are_errors_not_panics() {
        let nested = "[".repeat(10_000);
        for payload in [
            "",
            "null",
            "[]",
            "\"plex.tv\"",
            "{",
            "{\"exp\":1e400}",
            &nested,
            "\u{0}",
        ] {
            let result = judge_claims(payload.as_bytes(), &expected(), NOW);
            assert!(
                matches!(result, Err(Error::JwtInvalid { .. })),
                "{payload:?}: {result:?}"
            );
        }
    }

    fn published(kid: Option<&str>, seed: u8) -> (SigningKey, PublishedKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let key = PublishedKey {
            kid: kid.map(str::to_owned),
            key: signing.verifying_key(),
        };
        (signing, key)
    }

    fn outcome(token: &str, keys: &[PublishedKey]) -> Outcome {
        check(&jws::parse(token).unwrap(), keys, &expected(), NOW)
    }

    #[test]
    fn the_key_the_kid_names_must_have_signed() {
        let (signer, k1) = published(Some("k1"), 1);
        let (_, k2) = published(Some("k2"), 2);
        let keys = [k2.clone(), k1];
        let token = jws::sign(&signer, Some("k1"), &good()).unwrap();
        assert!(matches!(outcome(&token, &keys), Outcome::Valid(_)));
        // Named k2, signed by k1's key: refused, not tried with k1.
        let misnamed = jws::sign(&signer, Some("k2"), &good()).unwrap();
        assert!(matches!(
            outcome(&misnamed, &keys),
            Outcome::Invalid(Error::JwtInvalid { .. })
        ));
        // An unknown kid: refetch.
        let unknown = jws::sign(&signer, Some("k9"), &good()).unwrap();
        assert!(matches!(outcome(&unknown, &keys), Outcome::NoSuchKey));
        // No kid: every key is tried; none matching may mean a new key.
        let anonymous = jws::sign(&signer, None, &good()).unwrap();
        assert!(matches!(outcome(&anonymous, &keys), Outcome::Valid(_)));
        assert!(matches!(outcome(&anonymous, &[k2]), Outcome::NoSuchKey));
    }

    #[test]
    fn claims_are_judged_only_after_the_signature() {
        let (_, k1) = published(Some("k1"), 1);
        let (forger, _) = published(Some("k1"), 3);
        // Expired and forged: the forgery is what is reported.
        let forged = jws::sign(&forger, Some("k1"), &with("exp", json!(0))).unwrap();
        match outcome(&forged, &[k1]) {
            Outcome::Invalid(Error::JwtInvalid { reason }) => {
                assert!(reason.contains("signature"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_ed25519_keys_with_a_valid_x_are_used() {
        let x = jws::jwk_x(&SigningKey::from_bytes(&[1; 32]).verifying_key());
        let jwk = |value: Value| usable(&serde_json::from_value(value).unwrap());
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k"});
        assert_eq!(jwk(ed.clone()).unwrap().kid.as_deref(), Some("k"));
        let mut with_alg = ed.clone();
        with_alg["alg"] = json!("EdDSA");
        assert!(jwk(with_alg).is_some());
        for (field, value) in [
            ("kty", json!("EC")),
            ("crv", json!("Ed448")),
            ("alg", json!("ES256")),
            ("x", json!("AAAAAAAAAAAAAAAAAAAAAA")),
            ("x", json!("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        ] {
            let mut key = ed.clone();
            key[field] = value;
            assert!(jwk(key.clone()).is_none(), "{key}");
        }
        assert!(
            jwk(json!({"kty": "OKP", "crv": "Ed25519"})).is_none(),
            "no x"
        );
        assert!(jwk(json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"})).is_none());
    }

    #[test]
    fn refusals_name_only_registered_algorithms() {
        let reason = |m| match refusal(m) {
            Error::JwtInvalid { reason } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(Malformed::NotAJws), "not a JWT");
        assert_eq!(
            reason(Malformed::Algorithm(Some("HS256"))),
            "signed with HS256, not EdDSA"
        );
        assert_eq!(
            reason(Malformed::Algorithm(None)),
            "its algorithm is not EdDSA"
        );
        assert!(reason(Malformed::Critical).contains("critical"));
    }

    #[test]
    fn unverified_times_read_exp_and_iat_of_eddsa_tokens_only() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let token = jws::sign(&key, None, &json!({"exp": 20, "iat": 10})).unwrap();
        assert_eq!(unverified_times(&token), Some((20, Some(10))));
        let no_iat = jws::sign(&key, None, &json!({"exp": 20})).unwrap();
        assert_eq!(unverified_times(&no_iat), Some((20, None)));
        assert_eq!(
            unverified_times(&jws::sign(&key, None, &json!({})).unwrap()),
            None
        );
        assert_eq!(unverified_times("classic-token"), None);
    }
}
