//! [`DeviceKey`]: the Ed25519 key pair that binds plex.tv JWTs to this device.
//!
//! plex.tv's short-lived JWTs are issued to a device key instead of living
//! for years like a classic token. The key is created once per installation
//! and kept in a file, like the [`ClientIdentifier`](crate::ClientIdentifier):
//! a new key means signing in again.

use std::{
    fmt,
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ed25519_dalek::{
    pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePrivateKey},
    SigningKey,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{
    jws,
    private_file::{self, Contents, Existing},
    types, ClientIdentifier, Error, Token,
};

/// What a client JWT asks plex.tv to include about the account: every scope
/// public clients ask for.
///
/// ```
/// use jsonwebtoken::{jwk::Jwk, Algorithm, DecodingKey, Validation};
/// use plex_tv::{ClientIdentifier, DeviceKey, DEFAULT_SCOPE};
///
/// let key = DeviceKey::generate();
/// let jwt = key.client_jwt(&ClientIdentifier::new_random(), "nonce-1")?;
///
/// // Decoded as plex.tv does:
/// let jwk: Jwk = serde_json::from_value(serde_json::to_value(key.public_jwk())?)?;
/// let mut validation = Validation::new(Algorithm::EdDSA);
/// validation.set_audience(&["plex.tv"]);
/// let decoding_key = DecodingKey::from_jwk(&jwk)?;
/// let claims = jsonwebtoken::decode::<serde_json::Value>(jwt.expose_secret(), &decoding_key, &validation)?.claims;
/// assert_eq!(claims["scope"], DEFAULT_SCOPE);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const DEFAULT_SCOPE: &str = "username,email,friendly_name,restricted,anonymous,joinedAt";

/// How long a client JWT is valid; plex.tv expects 5 minutes.
///
/// ```
/// use jsonwebtoken::{jwk::Jwk, Algorithm, DecodingKey, Validation};
/// use plex_tv::{ClientIdentifier, DeviceKey, CLIENT_JWT_LIFETIME};
///
/// let key = DeviceKey::generate();
/// let jwt = key.client_jwt(&ClientIdentifier::new_random(), "nonce-1")?;
///
/// // Decoded as plex.tv does:
/// let jwk: Jwk = serde_json::from_value(serde_json::to_value(key.public_jwk())?)?;
/// let mut validation = Validation::new(Algorithm::EdDSA);
/// validation.set_audience(&["plex.tv"]);
/// let decoding_key = DecodingKey::from_jwk(&jwk)?;
/// let claims = jsonwebtoken::decode::<serde_json::Value>(jwt.expose_secret(), &decoding_key, &validation)?.claims;
/// let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
/// assert_eq!(lifetime, CLIENT_JWT_LIFETIME.as_secs());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const CLIENT_JWT_LIFETIME: Duration = Duration::from_secs(300);

/// A PKCS#8 PEM Ed25519 key is about 120 bytes; anything much larger is not one.
const MAX_KEY_FILE_LEN: u64 = 4096;

/// An Ed25519 device key: plex.tv JWTs are bound to it, and it signs the
/// client JWTs that obtain and refresh them.
///
/// Cloning is cheap (the key is shared), `Debug` shows only the key id, and
/// the private key is wiped from memory when the last clone is dropped.
///
/// ```
/// use plex_tv::DeviceKey;
///
/// let dir = tempfile::tempdir()?;
/// let key = DeviceKey::load_or_create(dir.path().join("device-key.pem"))?;
/// let again = DeviceKey::load_or_create(dir.path().join("device-key.pem"))?;
/// assert_eq!(key.key_id(), again.key_id());
/// assert_eq!(key.public_jwk().crv, "Ed25519");
/// assert_eq!(format!("{key:?}"), format!("DeviceKey {{ kid: {:?} }}", key.key_id()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DeviceKey(Arc<Inner>);

struct Inner {
    signing: SigningKey,
    kid: String,
}

/// The claims of a client JWT, as plex.tv expects them.
#[derive(Serialize)]
struct ClientClaims<'a> {
    nonce: &'a str,
    scope: &'a str,
    aud: &'a str,
    iss: &'a str,
    iat: u64,
    exp: u64,
}

impl DeviceKey {
    /// A new random key pair, from the operating system's random source.
    ///
    /// ```
    /// let a = plex_tv::DeviceKey::generate();
    /// let b = plex_tv::DeviceKey::generate();
    /// assert_ne!(a.key_id(), b.key_id());
    /// ```
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::generate(&mut rand_core::OsRng))
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        // The key id recipe public clients use: hex SHA-256 of private‖public.
        let mut hash = Sha256::new();
        hash.update(signing.as_bytes());
        hash.update(signing.verifying_key().as_bytes());
        let kid = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        DeviceKey(Arc::new(Inner { signing, kid }))
    }

    /// Reads the key stored at `path`, or creates and stores a new one.
    ///
    /// The file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), written
    /// atomically and readable by the owner only (mode 0600 on unix). When
    /// several processes race, one file wins and all of them return its key.
    /// A file that is not an Ed25519 key is left alone and reported as
    /// [`Error::InvalidKeyFile`].
    ///
    /// ```
    /// use plex_tv::DeviceKey;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("device-key.pem");
    /// let key = DeviceKey::load_or_create(&path)?; // created on the first run
    /// assert_eq!(DeviceKey::load_or_create(&path)?, key); // read on later runs
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidKeyFile`] for a file that is not a key (it is left
    /// alone), [`Error::Io`] when the file cannot be read or written.
    pub fn load_or_create(path: impl AsRef<Path>) -> Result<Self, Error> {
        private_file::load_or_create(
            path.as_ref(),
            |path| Self::load(path),
            || {
                let key = Self::generate();
                let pem = key.to_pem()?;
                Ok((key, pem))
            },
        )
    }

    /// Reads a key saved by [`save`](Self::save) (or any PKCS#8 PEM Ed25519
    /// private key).
    ///
    /// ```
    /// use plex_tv::{DeviceKey, Error};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("not-a-key.pem");
    /// std::fs::write(&path, "hello")?;
    /// assert!(matches!(DeviceKey::load(&path), Err(Error::InvalidKeyFile { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read (`NotFound` included);
    /// [`Error::InvalidKeyFile`] when it is too large, not text, or not a
    /// PKCS#8 PEM Ed25519 private key.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let invalid = |reason: &str| Error::InvalidKeyFile {
            path: path.to_path_buf(),
            reason: reason.to_owned(),
        };
        match private_file::read(path, MAX_KEY_FILE_LEN)? {
            Contents::Text(text) => SigningKey::from_pkcs8_pem(text.trim())
                .map(Self::from_signing_key)
                // The parser's message never quotes the key material.
                .map_err(|e| invalid(&format!("not a PKCS#8 PEM Ed25519 private key: {e}"))),
            Contents::TooLarge => Err(invalid("the file is too large")),
            Contents::NotText => Err(invalid("not a text file")),
        }
    }

    /// Writes the key to `path` as PKCS#8 PEM, replacing any file there:
    /// atomically (a reader sees the old file or the new one, never half),
    /// readable by the owner only (mode 0600 on unix).
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let key = plex_tv::DeviceKey::generate();
    /// key.save(dir.path().join("device-key.pem"))?;
    /// let loaded = plex_tv::DeviceKey::load(dir.path().join("device-key.pem"))?;
    /// assert_eq!(key.key_id(), loaded.key_id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written, naming the path.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        private_file::write(path, &self.to_pem()?, Existing::Replace)
            .map_err(|source| Error::io(format!("cannot write {}", path.display()), source))
    }

    fn to_pem(&self) -> Result<Zeroizing<String>, Error> {
        self.0
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::invalid_input(format!("cannot encode the device key: {e}")))
    }

    /// The key id: stable for the key, the `kid` of its JWK and client JWTs,
    /// and the `thumbprint` claim of the plex.tv JWTs bound to it.
    ///
    /// ```
    /// let key = plex_tv::DeviceKey::generate();
    /// assert_eq!(key.key_id().len(), 64); // hex SHA-256
    /// assert_eq!(key.public_jwk().kid, key.key_id());
    /// ```
    pub fn key_id(&self) -> &str {
        &self.0.kid
    }

    /// The public key as plex.tv expects it: `{"kty":"OKP","crv":"Ed25519",
    /// "x":..,"use":"sig","alg":"EdDSA","kid":..}`.
    ///
    /// ```
    /// let key = plex_tv::DeviceKey::generate();
    /// let jwk = key.public_jwk();
    /// assert_eq!((jwk.kty.as_str(), jwk.alg.as_str(), jwk.use_.as_str()), ("OKP", "EdDSA", "sig"));
    /// assert_eq!(jwk.kid, key.key_id());
    /// assert_eq!(jwk.x.len(), 43); // 32 bytes, base64url without padding
    /// ```
    pub fn public_jwk(&self) -> types::DeviceJwk {
        types::DeviceJwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: jws::jwk_x(&self.0.signing.verifying_key()),
            use_: "sig".into(),
            alg: jws::EDDSA.into(),
            kid: self.0.kid.clone(),
        }
    }

    /// A client JWT for plex.tv: EdDSA, header `kid`, claims `nonce`,
    /// `scope` ([`DEFAULT_SCOPE`]), `aud: "plex.tv"`, `iss` (the client
    /// identifier), `iat` and `exp` (5 minutes later). plex.tv trades it for a
    /// plex.tv JWT; get the nonce from `getAuthNonce` first. The client
    /// handles this itself; call it only to talk to the endpoints directly.
    ///
    /// ```
    /// let key = plex_tv::DeviceKey::generate();
    /// let id = plex_tv::ClientIdentifier::new_random();
    /// let jwt = key.client_jwt(&id, "nonce-1")?;
    /// assert_eq!(jwt.expose_secret().split('.').count(), 3);
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the JWT cannot be signed: its claims do
    /// not encode as JSON, which these always do.
    pub fn client_jwt(&self, client: &ClientIdentifier, nonce: &str) -> Result<Token, Error> {
        let iat = unix_now();
        let claims = ClientClaims {
            nonce,
            scope: DEFAULT_SCOPE,
            aud: "plex.tv",
            iss: client.as_str(),
            iat,
            exp: iat + CLIENT_JWT_LIFETIME.as_secs(),
        };
        self.sign(&claims).map(Token::new)
    }

    /// Signs `claims` as an EdDSA JWT whose header names this key.
    pub(crate) fn sign(&self, claims: &impl Serialize) -> Result<String, Error> {
        self.sign_naming(Some(&self.0.kid), claims)
    }

    /// Signs `claims` as an EdDSA JWT whose header names key id `kid` (or
    /// none; the fake plex.tv's tokens without a `kid`, and forgeries).
    pub(crate) fn sign_naming(
        &self,
        kid: Option<&str>,
        claims: &impl Serialize,
    ) -> Result<String, Error> {
        jws::sign(&self.0.signing, kid, claims).map_err(|e| {
            Error::invalid_input(format!("cannot sign a JWT with the device key: {e}"))
        })
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey")
            .field("kid", &self.0.kid)
            .finish()
    }
}

impl PartialEq for DeviceKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.kid == other.0.kid
    }
}

impl Eq for DeviceKey {}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_id_is_the_hex_sha256_of_private_and_public_bytes() {
        let key = DeviceKey::generate();
        let mut bytes = key.0.signing.to_bytes().to_vec();
        bytes.extend_from_slice(key.0.signing.verifying_key().as_bytes());
        let expected: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(key.key_id(), expected);
        assert_eq!(key.key_id().len(), 64);
    }

    #[test]
    fn the_pem_never_shows_in_debug() {
        let key = DeviceKey::generate();
        let pem = key.to_pem().unwrap();
        let body = pem.lines().nth(1).unwrap();
        assert!(!format!("{key:?}").contains(body));
    }
}
