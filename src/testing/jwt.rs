//! The fake's clients.plex.tv side: nonces, device keys, client JWT
//! exchange, and plex.tv JWTs signed with the fake's own Ed25519 keys.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use httpmock::{HttpMockRequest, HttpMockResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{error, header, json_response, pin_json, FakePlexTv, State};
use crate::{device_key::unix_now, jws, DeviceKey, Token};

/// How long the fake's plex.tv JWTs live unless set with
/// [`FakePlexTv::jwt_lifetime`]: a week, as plex.tv's last "days".
const DEFAULT_JWT_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

pub(super) struct JwtState {
    /// Signing keys, oldest first; the last one signs, all are published.
    keys: Vec<DeviceKey>,
    lifetime: Duration,
    /// Nonces handed out and not used yet.
    nonces: BTreeSet<String>,
    /// Registered device keys by key id: the client identifier and the JWK.
    devices: BTreeMap<String, (String, Value)>,
    /// The JWTs issued and not revoked, with their `exp`.
    issued: BTreeMap<String, u64>,
    exchanges: u32,
    /// `iat` is this long before the time of issue.
    backdate: Duration,
    /// Every client JWT received, in order.
    client_jwts: Vec<String>,
    /// Publish keys of other types and malformed ones before the real ones.
    foreign_keys: bool,
    /// The next this many exchanges fail with `failure_status`.
    failing: u32,
    failure_status: u16,
}

impl JwtState {
    pub(super) fn new() -> Self {
        JwtState {
            keys: vec![DeviceKey::generate()],
            lifetime: DEFAULT_JWT_LIFETIME,
            nonces: BTreeSet::new(),
            devices: BTreeMap::new(),
            issued: BTreeMap::new(),
            exchanges: 0,
            backdate: Duration::ZERO,
            foreign_keys: false,
            client_jwts: Vec::new(),
            failing: 0,
            failure_status: 503,
        }
    }

    pub(super) fn accepts(&self, token: &str) -> bool {
        self.issued.get(token).is_some_and(|exp| *exp > unix_now())
    }

    fn signer(&self) -> &DeviceKey {
        self.keys.last().expect("the fake always has a key")
    }

    /// Issues a plex.tv JWT bound to device key `kid` for `client`.
    fn issue(&mut self, client: &str, kid: &str) -> String {
        let now = unix_now();
        let exp = now + self.lifetime.as_secs().max(1);
        let iat = now.saturating_sub(self.backdate.as_secs());
        let claims = json!({
            "iss": "plex.tv", "aud": ["plex.tv", client], "iat": iat, "exp": exp,
            "thumbprint": kid, "user": {"id": 4_294_967_297_i64, "uuid": "f4e3d2c1b0a99887"},
            // Unique per token: Ed25519 is deterministic, and two tokens
            // issued in the same second must still differ.
            "jti": uuid::Uuid::new_v4().to_string()
        });
        let token = self.signer().sign(&claims).expect("the fake's key signs");
        self.issued.insert(token.clone(), exp);
        token
    }

    /// Checks a client JWT: signed by `jwk`, for plex.tv, from `client`,
    /// with a nonce this fake handed out (used up here).
    fn check_client_jwt(&mut self, jwt: &str, jwk: &Value, client: &str) -> Result<(), String> {
        self.client_jwts.push(jwt.to_owned());
        let claims = verify_client_jwt(jwt, jwk, client)?;
        if claims.scope.is_empty() || claims.iat > unix_now() + 60 {
            return Err("bad scope or iat".into());
        }
        if !self.nonces.remove(&claims.nonce) {
            return Err("unknown or reused nonce".into());
        }
        Ok(())
    }
}

/// The claims of a client JWT, as the fake reads them.
#[derive(Deserialize)]
struct ClientClaims {
    nonce: String,
    scope: String,
    iat: u64,
    exp: u64,
    aud: Value,
    iss: String,
}

/// Checks a client JWT as plex.tv would: EdDSA, the header's `kid` the
/// registered key's, signed by that key (`jwk`), for audience `plex.tv`,
/// issued by `client`, not expired (a minute of leeway).
fn verify_client_jwt(jwt: &str, jwk: &Value, client: &str) -> Result<ClientClaims, String> {
    let token = jws::parse(jwt).map_err(|e| format!("not an EdDSA JWT: {e:?}"))?;
    if token.kid.as_deref() != jwk["kid"].as_str() {
        return Err("the kid is not the registered key's".into());
    }
    let key = jwk["x"]
        .as_str()
        .and_then(jws::verifying_key)
        .ok_or("the registered key is not an Ed25519 key")?;
    let payload = token
        .verified_payload(&key)
        .ok_or("the signature is not the registered key's")?;
    let claims: ClientClaims =
        serde_json::from_slice(&payload).map_err(|e| format!("malformed claims: {e}"))?;
    let for_plex = claims.aud == "plex.tv"
        || claims
            .aud
            .as_array()
            .is_some_and(|aud| aud.iter().any(|a| a == "plex.tv"));
    if !for_plex || claims.iss != client {
        return Err("wrong audience or issuer".into());
    }
    if claims.exp + 60 < unix_now() {
        return Err("expired".into());
    }
    Ok(claims)
}

impl FakePlexTv {
    /// plex.tv JWTs issued from now on live this long (default a week),
    /// in whole seconds (a fraction is dropped; at least one); a few seconds
    /// make refresh testable.
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
    /// fake.jwt_lifetime(Duration::from_secs(3600));
    /// # let client = client.upgrade_to_jwt(&plex_tv::DeviceKey::generate()).await?;
    /// let claims = client.refresh_token().await?;
    /// assert_eq!(claims.exp - claims.iat, 3600);
    /// # Ok(()) }
    /// ```
    pub fn jwt_lifetime(&self, lifetime: Duration) {
        self.state().jwt.lifetime = lifetime;
    }

    /// plex.tv JWTs issued from now on claim (`iat`) to have been issued
    /// this long before they were (default zero); their expiry is still
    /// [`jwt_lifetime`](Self::jwt_lifetime) after they were. Makes a token
    /// that is young but near its expiry, for tests of refresh timing.
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
    /// fake.jwt_lifetime(Duration::from_secs(60));
    /// fake.jwt_issued_ago(Duration::from_secs(3600));
    /// # let client = client.upgrade_to_jwt(&plex_tv::DeviceKey::generate()).await?;
    /// let claims = client.refresh_token().await?;
    /// assert_eq!(claims.exp - claims.iat, 3660);
    /// # Ok(()) }
    /// ```
    pub fn jwt_issued_ago(&self, ago: Duration) {
        self.state().jwt.backdate = ago;
    }

    /// From now on the published keys (`GET /api/v2/auth/keys`) start with
    /// keys that sign no plex.tv JWT: an RSA key, an EC P-256 key, and two
    /// malformed Ed25519 ones (a 16-byte `x`, and 32 bytes that are no
    /// curve point). A client must skip them and still verify the fake's
    /// JWTs, with or without a `kid`.
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
    /// fake.publish_foreign_keys();
    /// let key = plex_tv::DeviceKey::generate();
    /// let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    /// let token = fake.sign_jwt_without_kid(claims);
    /// client.verify_jwt(&token, &key).await?;
    /// # Ok(()) }
    /// ```
    pub fn publish_foreign_keys(&self) {
        self.state().jwt.foreign_keys = true;
    }

    /// Starts signing with a new key. The old keys stay published, like
    /// plex.tv during a rotation; clients that cached the keys must fetch
    /// them again to verify new JWTs.
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
    /// fake.rotate_keys();
    /// // The new JWT names a key the client has not seen: it fetches the keys again.
    /// let claims = client.refresh_token().await?;
    /// # let _ = claims;
    /// assert_eq!(fake.signing_key_ids().len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn rotate_keys(&self) {
        self.state().jwt.keys.push(DeviceKey::generate());
    }

    /// The key ids of the fake's published signing keys, oldest first.
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
    /// let before = fake.signing_key_ids();
    /// fake.rotate_keys();
    /// let after = fake.signing_key_ids();
    /// assert_eq!(after[..1], before[..]);
    /// assert_eq!(after.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn signing_key_ids(&self) -> Vec<String> {
        let state = self.state();
        state
            .jwt
            .keys
            .iter()
            .map(|k| k.key_id().to_owned())
            .collect()
    }

    /// How many client JWTs were exchanged for plex.tv JWTs (sign-ins by
    /// upgrade, and refreshes).
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
    /// assert_eq!(fake.token_exchanges(), 1);
    /// client.refresh_token().await?;
    /// assert_eq!(fake.token_exchanges(), 2);
    /// # Ok(()) }
    /// ```
    pub fn token_exchanges(&self) -> u32 {
        self.state().jwt.exchanges
    }

    /// The client JWTs received so far (`deviceJWT` of PIN polls, `jwt` of
    /// exchanges), oldest first: for tests that they never show.
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
    /// assert_eq!(fake.client_jwts().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn client_jwts(&self) -> Vec<Token> {
        let state = self.state();
        state
            .jwt
            .client_jwts
            .iter()
            .cloned()
            .map(Token::new)
            .collect()
    }

    /// The next `count` client JWT exchanges (`POST /api/v2/auth/token`)
    /// fail with `status` (503, say) and an HTML page, as during a
    /// clients.plex.tv outage; they do not count in
    /// [`token_exchanges`](Self::token_exchanges). Nonces still work.
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
    /// fake.fail_token_exchanges(1, 503);
    /// assert!(client.refresh_token().await.is_err());
    /// client.refresh_token().await?; // clients.plex.tv is back
    /// # Ok(()) }
    /// ```
    pub fn fail_token_exchanges(&self, count: u32, status: u16) {
        let mut state = self.state();
        state.jwt.failing = count;
        state.jwt.failure_status = status;
    }

    /// The key ids of the device keys registered so far.
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
    /// assert_eq!(fake.registered_device_keys(), [key.key_id()]);
    /// # Ok(()) }
    /// ```
    pub fn registered_device_keys(&self) -> Vec<String> {
        self.state().jwt.devices.keys().cloned().collect()
    }

    /// Forgets a device key, as if the user removed the device.
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
    /// use plex_tv::Error;
    ///
    /// # let key = plex_tv::DeviceKey::generate();
    /// # let client = client.upgrade_to_jwt(&key).await?;
    /// fake.unregister_device_key(key.key_id());
    /// assert!(matches!(client.refresh_token().await, Err(Error::DeviceKeyNotRegistered)));
    /// # Ok(()) }
    /// ```
    pub fn unregister_device_key(&self, kid: &str) {
        self.state().jwt.devices.remove(kid);
    }

    /// Every plex.tv JWT issued so far answers 401 from now on, as after a
    /// server-side revocation: clients with a device key refresh and retry.
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
    /// fake.revoke_jwts();
    /// // The 401 makes the client refresh its JWT and send the request again.
    /// client.get_user().send().await?;
    /// assert_eq!(fake.token_exchanges(), 2);
    /// # Ok(()) }
    /// ```
    pub fn revoke_jwts(&self) {
        self.state().jwt.issued.clear();
    }

    /// Signs `claims` with the current signing key, for tests of JWT
    /// verification. The token is not accepted by the fake's endpoints.
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
    /// let key = plex_tv::DeviceKey::generate();
    /// let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    /// let token = fake.sign_jwt(claims);
    /// let verified = client.verify_jwt(&token, &key).await?;
    /// assert_eq!(verified.thumbprint, key.key_id());
    /// # Ok(()) }
    /// ```
    pub fn sign_jwt(&self, claims: Value) -> Token {
        let state = self.state();
        Token::new(
            state
                .jwt
                .signer()
                .sign(&claims)
                .expect("the fake's key signs"),
        )
    }

    /// Like [`sign_jwt`](Self::sign_jwt), with no `kid` in the header: the
    /// verifier must try every published key.
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
    /// let key = plex_tv::DeviceKey::generate();
    /// let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    /// let token = fake.sign_jwt_without_kid(claims);
    /// assert_eq!(client.verify_jwt(&token, &key).await?.thumbprint, key.key_id());
    /// # Ok(()) }
    /// ```
    pub fn sign_jwt_without_kid(&self, claims: Value) -> Token {
        let state = self.state();
        Token::new(
            state
                .jwt
                .signer()
                .sign_naming(None, &claims)
                .expect("the fake's key signs"),
        )
    }

    /// Signs `claims` with a key the fake does not publish, for tests that
    /// forged tokens are refused. With `kid` the header names that key id
    /// (the current signing key's, say); without it, a random one.
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
    /// use plex_tv::Error;
    ///
    /// let key = plex_tv::DeviceKey::generate();
    /// let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    ///
    /// let current_kid = fake.signing_key_ids().pop().unwrap();
    /// let forged = fake.forge_jwt(claims.clone(), Some(&current_kid));
    /// assert!(matches!(client.verify_jwt(&forged, &key).await, Err(Error::JwtInvalid { .. })));
    ///
    /// let unknown = fake.forge_jwt(claims, None);
    /// assert!(matches!(client.verify_jwt(&unknown, &key).await, Err(Error::UnknownSigningKey { .. })));
    /// # Ok(()) }
    /// ```
    pub fn forge_jwt(&self, claims: Value, kid: Option<&str>) -> Token {
        let forger = DeviceKey::generate();
        let kid = kid.unwrap_or(forger.key_id());
        Token::new(forger.sign_naming(Some(kid), &claims).expect("a key signs"))
    }

    /// Claims like the fake's plex.tv JWTs for `client` and device key
    /// `kid`, valid for an hour: a starting point for [`sign_jwt`](Self::sign_jwt).
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
    /// use plex_tv::Error;
    ///
    /// let key = plex_tv::DeviceKey::generate();
    /// let mut claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    /// claims["exp"] = serde_json::json!(1_000_000_000); // long past
    /// let expired = fake.sign_jwt(claims);
    /// assert!(matches!(client.verify_jwt(&expired, &key).await, Err(Error::JwtExpired)));
    /// # Ok(()) }
    /// ```
    pub fn jwt_claims(&self, client: &str, kid: &str) -> Value {
        let now = unix_now();
        json!({"iss": "plex.tv", "aud": ["plex.tv", client], "iat": now, "exp": now + 3600, "thumbprint": kid})
    }
}

pub(super) fn nonce(state: &mut State, _request: &HttpMockRequest) -> HttpMockResponse {
    let nonce = uuid::Uuid::new_v4().to_string();
    state.jwt.nonces.insert(nonce.clone());
    json_response(200, &json!({ "nonce": nonce }))
}

pub(super) fn keys(state: &mut State, _request: &HttpMockRequest) -> HttpMockResponse {
    let mut keys: Vec<Value> = Vec::new();
    if state.jwt.foreign_keys {
        keys.extend(foreign_keys());
    }
    keys.extend(
        state
            .jwt
            .keys
            .iter()
            .map(|key| serde_json::to_value(key.public_jwk()).expect("a JWK serializes")),
    );
    json_response(200, &json!({ "keys": keys }))
}

/// Published keys that sign no plex.tv JWT (see
/// [`FakePlexTv::publish_foreign_keys`]).
fn foreign_keys() -> [Value; 4] {
    [
        json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "foreign-rsa",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB"}),
        json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "foreign-ec",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
            "kid": "short-x", "x": "AAAAAAAAAAAAAAAAAAAAAA"}),
        // y = 2 is no point of the curve.
        json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
            "kid": "no-point", "x": "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    ]
}

pub(super) fn register_key(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
    let jwk = &body["jwk"];
    let kid = jwk["kid"].as_str().unwrap_or_default().to_owned();
    let valid = jwk["kty"] == "OKP" && jwk["crv"] == "Ed25519" && jwk["x"].is_string();
    if kid.is_empty() || !valid {
        return error(400, 1000, "The JWK is not an Ed25519 public key with a kid");
    }
    let client = header(&request.headers(), "x-plex-client-identifier").unwrap_or_default();
    state.jwt.devices.insert(kid, (client, jwk.clone()));
    HttpMockResponse::builder().status(204).build()
}

pub(super) fn exchange(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if state.jwt.failing > 0 {
        state.jwt.failing -= 1;
        return HttpMockResponse::builder()
            .status(state.jwt.failure_status)
            .header("content-type", "text/html")
            .body("<html><body><h1>Service Unavailable</h1></body></html>")
            .build();
    }
    state.jwt.exchanges += 1;
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
    let jwt = body["jwt"].as_str().unwrap_or_default();
    let kid = jws::parse(jwt).ok().and_then(|token| token.kid);
    let client = header(&request.headers(), "x-plex-client-identifier").unwrap_or_default();
    let device = kid
        .as_ref()
        .and_then(|kid| state.jwt.devices.get(kid))
        .filter(|(owner, _)| *owner == client)
        .map(|(_, jwk)| jwk.clone());
    let (Some(kid), Some(jwk)) = (kid, device) else {
        return error(401, 1001, "The device key is not registered");
    };
    if let Err(reason) = state.jwt.check_client_jwt(jwt, &jwk, &client) {
        return error(401, 1001, &format!("Invalid client JWT: {reason}"));
    }
    let token = state.jwt.issue(&client, &kid);
    json_response(200, &json!({ "auth_token": token }))
}

/// A poll of a PIN created with a device key: it needs a valid `deviceJWT`,
/// and approval registers the key and hands out a plex.tv JWT.
pub(super) fn poll_jwt_pin(
    state: &mut State,
    request: &HttpMockRequest,
    id: i64,
) -> HttpMockResponse {
    let pin = &state.pins[&id];
    let jwk = pin.jwk.clone().unwrap_or_default();
    let client = pin.client_identifier.clone();
    let approved = pin.approved;
    let device_jwt = request
        .query_params()
        .into_iter()
        .find(|(k, _)| k == "deviceJWT")
        .map(|(_, v)| v);
    let Some(device_jwt) = device_jwt else {
        return error(400, 1000, "deviceJWT is missing");
    };
    if let Err(reason) = state.jwt.check_client_jwt(&device_jwt, &jwk, &client) {
        return error(401, 1001, &format!("Invalid deviceJWT: {reason}"));
    }
    let token = approved.then(|| {
        let kid = jwk["kid"].as_str().unwrap_or_default().to_owned();
        state
            .jwt
            .devices
            .insert(kid.clone(), (client.clone(), jwk.clone()));
        state.jwt.issue(&client, &kid)
    });
    json_response(200, &pin_json(id, &state.pins[&id], token.as_deref()))
}
