//! [`Token`]: a plex.tv access token that never shows itself.

use std::{
    borrow::Cow,
    fmt,
    str::FromStr,
    sync::{Arc, Mutex, OnceLock, Weak},
};

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

/// The header a token travels in.
pub(crate) const X_PLEX_TOKEN: HeaderName = HeaderName::from_static("x-plex-token");

/// A plex.tv access token (the `X-Plex-Token` value), or a device-bound JWT.
///
/// The value is kept in a [`SecretString`], wiped from memory on drop, and
/// never shown by `Debug` or `Display`: logging a [`Token`], a response that
/// holds one, or an error cannot leak it. Call [`Token::expose_secret`] when
/// you really need the text, for example to store it in a keyring.
/// Clones share the value. While a client sends a token (of 6 characters or
/// more), every [`Error`](crate::Error) of the process removes it from the
/// server text it quotes, even where the request is no longer known.
///
/// Tokens are (de)serialized as plain strings, so response types that carry
/// one (`User::auth_token`, `Resource::access_token`, ...) round-trip.
///
/// ```
/// use plex_tv::Token;
///
/// let token = Token::new("abc123");
/// assert_eq!(format!("{token:?}"), "Token(<redacted>)");
/// assert_eq!(token.to_string(), "<redacted>");
/// assert_eq!(token.expose_secret(), "abc123");
/// ```
#[derive(Clone)]
pub struct Token(Arc<Secret>);

/// The value of a [`Token`] and its clones, shared: a clone costs no copy
/// of the secret, and the registry of [`live_tokens`] can point to it.
struct Secret {
    value: SecretString,
    /// Set once the token is sent (see [`Token::header_value`]).
    registered: OnceLock<()>,
}

impl Token {
    /// Wraps a token string.
    ///
    /// ```
    /// use plex_tv::Token;
    ///
    /// # let read_from_keyring = || String::from("abc123");
    /// let token = Token::new(read_from_keyring());
    /// assert_eq!(token, Token::from("abc123"));
    /// ```
    pub fn new(token: impl Into<String>) -> Self {
        Token(Arc::new(Secret {
            value: SecretString::from(token.into()),
            registered: OnceLock::new(),
        }))
    }

    /// The token's text. Handle with care: anything that prints it leaks it.
    ///
    /// ```
    /// # let token = plex_tv::Token::new("abc123");
    /// # let mut keyring = std::collections::HashMap::new();
    /// keyring.insert("plex-token", token.expose_secret().to_owned());
    /// # assert_eq!(keyring["plex-token"], "abc123");
    /// ```
    pub fn expose_secret(&self) -> &str {
        self.0.value.expose_secret()
    }

    /// Whether the token is empty (plex.tv sends `""` or `null` before a PIN
    /// is approved).
    ///
    /// ```
    /// use plex_tv::Token;
    ///
    /// assert!(Token::new("").is_empty());
    /// assert!(Token::new("  ").is_empty());
    /// assert!(!Token::new("abc123").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.expose_secret().trim().is_empty()
    }

    /// The token as an `X-Plex-Token` header value, marked sensitive so that
    /// HTTP libraries and their logs do not print it.
    /// # Errors
    /// Why the token cannot be sent: it holds a line break or another
    /// character a header cannot carry.
    pub(crate) fn header_value(&self) -> Result<HeaderValue, &'static str> {
        let mut value = HeaderValue::from_str(self.expose_secret()).map_err(|_| {
            "the token contains characters that cannot be sent in a header; check where it came from"
        })?;
        value.set_sensitive(true);
        self.keep_live();
        Ok(value)
    }

    /// Makes the token one of the [`live_tokens`] for as long as it or a
    /// clone lives: done for every token sent as `X-Plex-Token`, and for
    /// other credentials the SDK sends (client JWTs).
    pub(crate) fn keep_live(&self) {
        if self.expose_secret().trim().chars().count() < MIN_LIVE_CHARS {
            return;
        }
        self.0.registered.get_or_init(|| {
            let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            // Dropped tokens leave dead entries; sweeping them whenever the
            // list doubles keeps it near the number of live tokens at a
            // constant cost per registration.
            if live.entries.len() >= live.sweep_at {
                live.entries.retain(|entry| entry.strong_count() > 0);
                live.sweep_at = (2 * live.entries.len()).max(MIN_SWEEP);
            }
            live.entries.push(Arc::downgrade(&self.0));
        });
    }
}

/// Tokens shorter than this are not [`live_tokens`]: removing them from
/// every error of the process would also blank ordinary words (`t`, `abc`).
/// plex.tv's tokens have 20 characters and its JWTs hundreds. The request's
/// own token is removed from its error bodies whatever its length.
const MIN_LIVE_CHARS: usize = 6;

/// The smallest registry size at which dead entries are swept.
const MIN_SWEEP: usize = 64;

struct Registry {
    entries: Vec<Weak<Secret>>,
    sweep_at: usize,
}

static LIVE: Mutex<Registry> = Mutex::new(Registry {
    entries: Vec::new(),
    sweep_at: MIN_SWEEP,
});

/// Every token of this process that has been sent as `X-Plex-Token` (it
/// went through [`Token::header_value`]) or otherwise marked with
/// [`Token::keep_live`], and that some client or value still holds.
///
/// An error built where its request is no longer known (a 2xx body that
/// does not decode, turned into [`crate::Error`] by `From`) removes these
/// from its text: the request's token is among them as long as the client
/// that sent it lives. A token is never copied here; the registry holds
/// weak references, so a dropped token is wiped from memory as before.
pub(crate) fn live_tokens() -> Vec<Token> {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.entries
        .iter()
        .filter_map(Weak::upgrade)
        .map(Token)
        .collect()
}

/// A token with its header value, built once per token rather than per
/// request. A token that cannot be sent keeps why, so that the request
/// using it fails (never the process).
#[derive(Clone)]
pub(crate) struct TokenHeader {
    pub(crate) token: Token,
    pub(crate) value: Result<HeaderValue, String>,
}

impl TokenHeader {
    pub(crate) fn new(token: Token) -> Self {
        let value = token.header_value().map_err(str::to_owned);
        TokenHeader { token, value }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for Token {}

impl From<String> for Token {
    fn from(token: String) -> Self {
        Token::new(token)
    }
}

impl From<&str> for Token {
    fn from(token: &str) -> Self {
        Token::new(token)
    }
}

/// Never fails: any text is a token.
///
/// ```
/// let token: plex_tv::Token = "abc123".parse().unwrap();
/// assert_eq!(token.expose_secret(), "abc123");
/// ```
impl FromStr for Token {
    type Err = std::convert::Infallible;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        Ok(Token::new(token))
    }
}

/// Writes the token as a plain string, so that it can be stored; printing
/// the result exposes it.
///
/// ```
/// use plex_tv::Token;
///
/// let token = Token::new("abc123");
/// let json = serde_json::to_string(&token)?;
/// assert_eq!(json, r#""abc123""#);
/// let back: Token = serde_json::from_str(&json)?;
/// assert_eq!(back, token);
/// # Ok::<(), serde_json::Error>(())
/// ```
impl serde::Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose_secret())
    }
}

impl<'de> serde::Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Token::new)
    }
}

impl schemars::JsonSchema for Token {
    fn schema_name() -> String {
        "AuthToken".into()
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Borrowed("plex_tv::Token")
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let token = Token::new("s3cr3t-value");
        assert!(!format!("{token:?}").contains("s3cr3t"));
        assert!(!format!("{token}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(token.clone())).contains("s3cr3t"));
    }

    #[test]
    fn serde_round_trips_the_value() {
        let token: Token = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(token.expose_secret(), "abc");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"abc\"");
    }

    fn is_live(value: &str) -> bool {
        live_tokens()
            .iter()
            .any(|token| token.expose_secret() == value)
    }

    #[test]
    fn sent_tokens_are_live_while_a_clone_lives() {
        let token = Token::new("live-token-for-the-registry-test");
        assert!(!is_live("live-token-for-the-registry-test"), "not sent yet");
        let clone = token.clone();
        clone.header_value().unwrap();
        assert!(is_live("live-token-for-the-registry-test"));
        drop(clone);
        assert!(
            is_live("live-token-for-the-registry-test"),
            "the original lives"
        );
        drop(token);
        assert!(!is_live("live-token-for-the-registry-test"));
    }

    #[test]
    fn short_tokens_are_not_live() {
        let token = Token::new("abcde");
        token.header_value().unwrap();
        assert!(!is_live("abcde"));
    }

    #[test]
    fn dead_entries_are_swept() {
        for i in 0..10 * MIN_SWEEP {
            Token::new(format!("swept-token-{i}"))
                .header_value()
                .unwrap();
        }
        let live = LIVE.lock().unwrap();
        // Other tests may hold a few; without sweeping there would be 640.
        assert!(live.entries.len() < 3 * MIN_SWEEP, "{}", live.entries.len());
    }

    #[test]
    fn header_value_is_sensitive_and_rejects_newlines() {
        assert!(Token::new("abc").header_value().unwrap().is_sensitive());
        assert!(Token::new("a\nb").header_value().is_err());
    }
}
