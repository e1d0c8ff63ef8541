//! Compact JWS (RFC 7515) signed with EdDSA over Ed25519 (RFC 8037), and
//! nothing else: the one algorithm plex.tv's JWTs and client JWTs use.
//!
//! Knowing a single algorithm is the point: there is no table of
//! algorithms for a token's header to pick from, so `none`, HMAC with a
//! public key as the secret, RSA and the rest are refused before any key
//! is looked at. Only the shape of the token is checked here; what its
//! claims must say is for the caller ([`crate::jwt`] for plex.tv's).

use base64ct::{Base64UrlUnpadded, Encoding};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The `alg` of every token signed or accepted here.
pub(crate) const EDDSA: &str = "EdDSA";

/// Algorithm names of RFC 7518 and RFC 8037, the only `alg` values an
/// error message repeats: anything else in a header is not echoed back.
const KNOWN_ALGORITHMS: [&str; 15] = [
    "none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
    "ES256K", "PS256", "PS384", "PS512", "EdDSA",
];

/// Why a token is not an EdDSA compact JWS.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Not three base64url parts, a header that is not a JSON object with
    /// a string `alg`, or a signature that is not 64 bytes.
    NotAJws,
    /// Well formed, but signed with another algorithm (named when it is a
    /// registered one).
    Algorithm(Option<&'static str>),
    /// The header lists critical extensions, none of which this code knows
    /// (RFC 7515 §4.1.11: such a token must be refused).
    Critical,
}

/// A token split into its parts, its signature not checked yet.
pub(crate) struct Unverified<'a> {
    /// The header's `kid`, if any.
    pub kid: Option<String>,
    /// `header.payload`, what the signature covers.
    signing_input: &'a str,
    payload: &'a str,
    signature: Signature,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// The header written by [`sign`]: the fields and order other JWT
/// libraries write (`typ`, `alg`, `kid`).
#[derive(Serialize)]
struct SignedHeader<'a> {
    typ: &'a str,
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// Signs `claims` as a JWT with `key`, the header naming `kid` if given.
///
/// # Errors
/// When `claims` do not serialize to JSON.
pub(crate) fn sign(
    key: &SigningKey,
    kid: Option<&str>,
    claims: &impl Serialize,
) -> Result<String, serde_json::Error> {
    let header = SignedHeader {
        typ: "JWT",
        alg: EDDSA,
        kid,
    };
    let mut token = Base64UrlUnpadded::encode_string(&serde_json::to_vec(&header)?);
    token.push('.');
    token.push_str(&Base64UrlUnpadded::encode_string(&serde_json::to_vec(
        claims,
    )?));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&Base64UrlUnpadded::encode_string(&signature.to_bytes()));
    Ok(token)
}

/// Splits `token` and checks its header: EdDSA, no critical extensions.
///
/// # Errors
/// [`Malformed`] says what is wrong; nothing here panics on any input.
pub(crate) fn parse(token: &str) -> Result<Unverified<'_>, Malformed> {
    let mut parts = token.split('.');
    let (Some(header_part), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed::NotAJws);
    };
    let header: Header = decode(header_part)
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        // An object: serde would also take an array as the struct's fields.
        .filter(serde_json::Value::is_object)
        .and_then(|header| serde_json::from_value(header).ok())
        .ok_or(Malformed::NotAJws)?;
    if header.alg != EDDSA {
        let known = KNOWN_ALGORITHMS.into_iter().find(|alg| *alg == header.alg);
        return Err(Malformed::Algorithm(known));
    }
    if header.crit.is_some() {
        return Err(Malformed::Critical);
    }
    let signature = decode(signature)
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(Malformed::NotAJws)?;
    // The payload must be base64url too, even before anyone reads it.
    decode(payload).ok_or(Malformed::NotAJws)?;
    Ok(Unverified {
        kid: header.kid,
        signing_input: &token[..header_part.len() + 1 + payload.len()],
        payload,
        signature,
    })
}

impl Unverified<'_> {
    /// The payload, if `key` made the signature. Strict verification:
    /// non-canonical signatures and weak (small-order) keys are refused.
    pub(crate) fn verified_payload(&self, key: &VerifyingKey) -> Option<Vec<u8>> {
        key.verify_strict(self.signing_input.as_bytes(), &self.signature)
            .ok()?;
        decode(self.payload)
    }

    /// The payload without checking the signature: never to be trusted,
    /// only for what a wrong answer cannot harm (when to refresh a token).
    pub(crate) fn unverified_payload(&self) -> Option<Vec<u8>> {
        decode(self.payload)
    }
}

/// An Ed25519 public key from a JWK's `x`: 32 bytes, base64url without
/// padding, and a point of the curve.
pub(crate) fn verifying_key(x: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = decode(x)?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// `x` of the JWK of `key`.
pub(crate) fn jwk_x(key: &VerifyingKey) -> String {
    Base64UrlUnpadded::encode_string(key.as_bytes())
}

/// Strict base64url without padding (RFC 7515 §2): other alphabets,
/// padding and non-zero trailing bits are refused.
fn decode(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Verifier;
    use serde_json::{json, Value};

    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn b64(json: &Value) -> String {
        Base64UrlUnpadded::encode_string(json.to_string().as_bytes())
    }

    /// A token with `header`, `claims`, and a real signature by `key()`.
    fn token_with_header(header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let signature = key().sign(input.as_bytes());
        format!(
            "{input}.{}",
            Base64UrlUnpadded::encode_string(&signature.to_bytes())
        )
    }

    #[test]
    fn a_signed_token_verifies_with_its_key_only() {
        let token = sign(&key(), Some("k1"), &json!({"a": 1})).unwrap();
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        let payload = parsed.verified_payload(&key().verifying_key()).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&payload).unwrap(),
            json!({"a": 1})
        );
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(parsed.verified_payload(&other), None);
    }

    #[test]
    fn the_header_is_typ_alg_kid() {
        let token = sign(&key(), Some("k1"), &json!({})).unwrap();
        let header = decode(token.split('.').next().unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            r#"{"typ":"JWT","alg":"EdDSA","kid":"k1"}"#
        );
        let without = sign(&key(), None, &json!({})).unwrap();
        assert_eq!(parse(&without).unwrap().kid, None);
    }

    #[test]
    fn other_algorithms_are_refused_before_any_key() {
        for alg in [
            "none", "HS256", "RS256", "ES256", "PS512", "eddsa", "EdDSA ", "",
        ] {
            let token = token_with_header(&json!({"alg": alg, "typ": "JWT"}), &json!({}));
            let expected = KNOWN_ALGORITHMS.into_iter().find(|known| *known == alg);
            assert_eq!(
                parse(&token).err(),
                Some(Malformed::Algorithm(expected)),
                "{alg}"
            );
        }
        // An unregistered name is not repeated: it could be anything.
        let token = token_with_header(&json!({"alg": "secret-token-123"}), &json!({}));
        assert_eq!(parse(&token).err(), Some(Malformed::Algorithm(None)));
        // `none` with an empty signature, as the classic attack sends it.
        let unsigned = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&json!({})));
        assert_eq!(
            parse(&unsigned).err(),
            Some(Malformed::Algorithm(Some("none")))
        );
    }

    #[test]
    fn critical_extensions_are_refused() {
        let token = token_with_header(
            &json!({"alg": "EdDSA", "crit": ["b64"], "b64": false}),
            &json!({}),
        );
        assert_eq!(parse(&token).err(), Some(Malformed::Critical));
    }

    #[test]
    fn a_tampered_payload_or_signature_does_not_verify() {
        let token = sign(&key(), None, &json!({"admin": false})).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], b64(&json!({"admin": true})), parts[2]);
        let public = key().verifying_key();
        assert_eq!(parse(&forged).unwrap().verified_payload(&public), None);
        let mut signature = decode(parts[2]).unwrap();
        signature[0] ^= 1;
        let flipped = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            Base64UrlUnpadded::encode_string(&signature)
        );
        assert_eq!(parse(&flipped).unwrap().verified_payload(&public), None);
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let good = sign(&key(), None, &json!({})).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let cases = [
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            "classic-token".into(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{good}.{}", parts[2]),
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], "!!", parts[2]),
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
            format!(
                "{}.{}.{}",
                b64(&json!(["alg", "EdDSA"])),
                parts[1],
                parts[2]
            ),
            format!("{}.{}.{}", b64(&json!({"alg": 1})), parts[1], parts[2]),
            format!("{}.{}.{}", b64(&json!({"kid": "k"})), parts[1], parts[2]),
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "EdDSA", "kid": 5})),
                parts[1],
                parts[2]
            ),
            format!(
                "{}.{}.{}",
                Base64UrlUnpadded::encode_string(b"\xff\xfe"),
                parts[1],
                parts[2]
            ),
            "é.é.é".into(),
        ];
        for case in cases {
            assert_eq!(parse(&case).err(), Some(Malformed::NotAJws), "{case:?}");
        }
    }

    #[test]
    fn base64_must_be_strict_url_safe_without_padding() {
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("+/8"), None, "the standard alphabet");
        assert_eq!(decode("-_8="), None, "padding");
        assert_eq!(decode("-_9"), None, "non-zero trailing bits");
    }

    #[test]
    fn verifying_keys_must_be_32_byte_curve_points() {
        let public = key().verifying_key();
        assert_eq!(verifying_key(&jwk_x(&public)), Some(public));
        assert_eq!(verifying_key("AAAAAAAAAAAAAAAAAAAAAA"), None, "16 bytes");
        // y = 2 is no point of the curve.
        assert_eq!(
            verifying_key("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None
        );
        assert_eq!(verifying_key("not base64!"), None);
        assert_eq!(verifying_key(&"A".repeat(44)), None, "33 bytes");
    }

    #[test]
    fn a_weak_key_verifies_nothing() {
        // The identity point: a small-order key under which some forged
        // signatures pass a lax check; the strict one refuses them all.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        let mut forged = [0u8; 64];
        forged[0] = 1; // R = identity, s = 0
        let input = format!("{}.{}", b64(&json!({"alg": "EdDSA"})), b64(&json!({})));
        let token = format!("{input}.{}", Base64UrlUnpadded::encode_string(&forged));
        let parsed = parse(&token).unwrap();
        assert!(
            weak.verify(input.as_bytes(), &parsed.signature).is_ok(),
            "the lax check passes"
        );
        assert_eq!(parsed.verified_payload(&weak), None);
    }
}
