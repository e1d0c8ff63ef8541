//! [`Error`]: everything that can go wrong, in one enum to match on.

use std::{fmt::Write as _, io, time::Duration};

use reqwest::StatusCode;

use crate::{
    server_text::{self, server_text, Secrets},
    types::ApiError,
};

/// Errors returned by this crate.
///
/// The generated operations return progenitor's error type; `?` turns it
/// into this one, so a function returning `Result<_, plex_tv::Error>` can
/// match on the outcomes that matter:
///
/// ```no_run
/// # async fn demo(client: plex_tv::PlexTv) -> Result<(), plex_tv::Error> {
/// use plex_tv::Error;
///
/// match client.get_user().send().await.map_err(Error::from) {
///     Ok(user) => println!("signed in as {:?}", user.username),
///     Err(Error::Unauthorized { .. }) => println!("the token has expired: sign in again"),
///     Err(Error::RateLimited { retry_after }) => println!("slow down for {retry_after:?}"),
///     Err(other) => return Err(other),
/// }
/// # Ok(()) }
/// ```
///
/// No variant, message or `Debug` output contains a token. Every piece of
/// text taken from a response (plex.tv's error messages, decode messages,
/// JSON paths, body excerpts, JWT key ids) is *cleaned*: the request's
/// token and every token a live client of this process sends (6 characters
/// or more) are replaced by `<redacted>`, written bare or with JSON, Rust,
/// percent or HTML escapes, as are values under secret-looking keys;
/// control characters and bidirectional overrides are replaced; each piece
/// is at most 200 characters. URLs never carry a token. An error's
/// `Display` is at most 1 KiB: a long list of errors ends with
/// "… and N more".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// plex.tv did not accept the token (HTTP 401, code 1001), or the request
    /// needed one and none was set.
    #[error("plex.tv did not accept the token (HTTP 401); sign in again to get a new token")]
    Unauthorized {
        /// The errors plex.tv reported, their messages cleaned.
        errors: Vec<ApiError>,
    },
    /// A password sign-in needs a two-factor verification code (code 1029).
    #[error(
        "plex.tv needs a two-factor verification code; ask the user for it and sign in again with it \
         (or use PIN sign-in, which handles two-factor accounts)"
    )]
    TwoFactorRequired {
        /// The errors plex.tv reported, their messages cleaned.
        errors: Vec<ApiError>,
    },
    /// plex.tv is rate-limiting this client (HTTP 429) and retries did not help.
    #[error("plex.tv is rate-limiting this client{}; wait before sending more requests", after(*.retry_after))]
    RateLimited {
        /// How long plex.tv asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// Any other error status from plex.tv.
    #[error("plex.tv answered HTTP {status}{}", describe(errors, body.as_deref()))]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The errors plex.tv reported, if the body had the usual shape,
        /// their messages cleaned. All of them are kept; `Display` lists
        /// as many as fit and counts the rest.
        errors: Vec<ApiError>,
        /// The start of a body that was not the usual error shape (an HTML
        /// outage page, say), cleaned.
        body: Option<String>,
    },
    /// plex.tv removed this endpoint (HTTP 410), as it did with several v1
    /// friend and invitation paths; use its v2 replacement.
    #[error(
        "plex.tv removed this endpoint (HTTP 410){}; use its v2 replacement",
        describe(errors, None)
    )]
    EndpointRemoved {
        /// The errors plex.tv reported.
        errors: Vec<ApiError>,
    },
    /// The invitee already has access to the server (HTTP 422 on
    /// `createSharedServer`): update their share instead.
    #[error("the invitee already has access to this server (HTTP 422){}; update the existing share instead", describe(errors, None))]
    AlreadyShared {
        /// The errors plex.tv reported.
        errors: Vec<ApiError>,
    },
    /// Library titles given to [`PlexTv::share_libraries`](crate::PlexTv::share_libraries)
    /// that the server does not have.
    #[error(
        "the server has no library titled {}; it has {}",
        quoted(unknown),
        quoted(available)
    )]
    UnknownLibraries {
        /// The titles asked for that do not exist.
        unknown: Vec<String>,
        /// The titles the server has.
        available: Vec<String>,
    },
    /// The request or the response took longer than the configured timeout.
    #[error("plex.tv did not answer in time; check the network, or raise the timeout with PlexTvBuilder::timeout")]
    Timeout,
    /// The connection failed or broke.
    #[error("could not talk to plex.tv ({source}); check the network and the base URL")]
    Transport {
        /// The underlying error (its URL removed).
        source: reqwest::Error,
    },
    /// The response did not decode into the expected type.
    #[error(
        "plex.tv's answer does not decode at {path}: {message}; the body starts with: {body_start}"
    )]
    Decode {
        /// Where in the JSON decoding failed, for example `$.services[2].status`
        /// (cleaned: keys are server text).
        path: String,
        /// What was wrong there, cleaned (serde quotes the offending value).
        message: String,
        /// The start of the body, cleaned.
        body_start: String,
    },
    /// The response body was larger than the configured limit.
    #[error(
        "plex.tv's answer is larger than the {limit}-byte limit; raise PlexTvBuilder::max_response_size if that is expected"
    )]
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Something the caller passed in cannot be used; the message says what.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Reading or writing a local file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The PIN expired before the user approved it.
    #[error("the PIN expired before it was approved; start a new sign-in")]
    PinExpired,
    /// Waiting for the PIN took longer than the timeout set with
    /// `PinLoginBuilder::timeout`.
    #[error("the PIN was not approved within {0:?}; start a new sign-in or wait longer")]
    PinTimedOut(Duration),
    /// The sign-in was cancelled through its [`CancelHandle`](crate::pin::CancelHandle).
    #[error("the sign-in was cancelled")]
    Cancelled,
    /// A plex.tv JWT has expired. A client with a device key refreshes it by
    /// itself; this surfaces when that is not possible.
    #[error(
        "the plex.tv JWT has expired; refresh it with PlexTv::refresh_token (a client built with \
         the device key does so by itself), or sign in again"
    )]
    JwtExpired,
    /// A plex.tv JWT failed verification: wrong issuer, audience, key
    /// thumbprint, algorithm or signature, or malformed claims.
    #[error("the plex.tv JWT is not valid ({reason}); do not use it: refresh it with PlexTv::refresh_token or sign in again")]
    JwtInvalid {
        /// What is wrong with it (never the token itself).
        reason: String,
    },
    /// A plex.tv JWT names a signing key that plex.tv does not publish, even
    /// after fetching its keys again.
    #[error(
        "the plex.tv JWT is signed with key {kid:?}, which plex.tv does not publish; \
         the token is forged or from another service: do not use it, sign in again"
    )]
    UnknownSigningKey {
        /// The key id the JWT's header names.
        kid: String,
    },
    /// plex.tv does not know this device key (or the account no longer
    /// accepts it), so it cannot issue a JWT for it.
    #[error(
        "plex.tv does not accept this device key; sign in again with \
         pin_login().device_key(key), or register the key with PlexTv::upgrade_to_jwt \
         from a client signed in with a classic token"
    )]
    DeviceKeyNotRegistered,
    /// Switching to a protected Home user needs that user's PIN (HTTP 403,
    /// code 1041); plex.tv asks for it even from the Home's admin.
    #[error("plex.tv needs the Home user's PIN for this; ask for it and try again with it")]
    PinRequired {
        /// The errors plex.tv reported.
        errors: Vec<ApiError>,
    },
    /// The account cannot reach this server: plex.tv lists no server with
    /// this machine identifier among its resources (or gives no token for
    /// it).
    #[error("this account has no access to the server {machine_identifier:?}; share it with the account first")]
    NoServerAccess {
        /// The server's machine identifier (`Resource::client_identifier`).
        machine_identifier: String,
    },
    /// None of a server's connections answered; each attempt says why.
    #[error("none of the {} connections of the server answered: {}", attempts.len(), crate::candidates::summary(attempts))]
    ServerUnreachable {
        /// Every candidate, in preference order, and what happened to it.
        attempts: Vec<crate::candidates::ConnectAttempt>,
    },
    /// A device key file exists but does not hold an Ed25519 private key.
    #[error(
        "{} is not a device key file ({reason}); it was left untouched: delete it (the device \
         then signs in again with a new key) or point to the right file",
        path.display()
    )]
    InvalidKeyFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it (never its content).
        reason: String,
    },
}

fn after(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (retry after {}s)", d.as_secs()))
        .unwrap_or_default()
}

fn quoted(titles: &[String]) -> String {
    if titles.is_empty() {
        return "none".into();
    }
    titles
        .iter()
        .map(|title| format!("{title:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// plex.tv's errors and the body start, within the `Display` bound: as many
/// errors as fit, then how many more there were. Cleaned again here, so
/// that an `Api` error built by hand is bounded too.
fn describe(errors: &[ApiError], body: Option<&str>) -> String {
    let none = Secrets::default();
    let body = body.map(|body| format!("; the body starts with: {}", server_text(body, &none)));
    // Room for "plex.tv answered HTTP 599 <unknown status code>" (64), the
    // body and "; … and N more" (32).
    let budget = server_text::DISPLAY_BYTES - 96 - body.as_ref().map_or(0, String::len);
    let mut text = String::new();
    for (shown, error) in errors.iter().enumerate() {
        let message = error.message.as_deref().map(|m| server_text(m, &none));
        let mut entry = format!("; {}", message.as_deref().unwrap_or("(no message)"));
        if let Some(code) = error.code {
            let _ = write!(entry, " (code {code})");
        }
        if text.len() + entry.len() > budget {
            let _ = write!(text, "; … and {} more", errors.len() - shown);
            break;
        }
        text.push_str(&entry);
    }
    text.push_str(body.as_deref().unwrap_or_default());
    text
}

impl Error {
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status plex.tv answered with, if the error came from one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .base_url(fake.base_url())
    /// #     .build()?;
    /// use plex_tv::Error;
    ///
    /// // No token: plex.tv answers 401.
    /// let error = client.get_user().send().await.map_err(Error::from).unwrap_err();
    /// assert_eq!(error.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    /// assert_eq!(Error::Timeout.status(), None);
    /// # Ok(()) }
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Unauthorized { .. } | Error::TwoFactorRequired { .. } => {
                Some(StatusCode::UNAUTHORIZED)
            }
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::PinRequired { .. } => Some(StatusCode::FORBIDDEN),
            Error::EndpointRemoved { .. } => Some(StatusCode::GONE),
            Error::AlreadyShared { .. } => Some(StatusCode::UNPROCESSABLE_ENTITY),
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying again later may succeed (rate limits, outages,
    /// timeouts and broken connections).
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::Error;
    ///
    /// fn advice(error: &Error) -> &'static str {
    ///     if error.is_transient() { "try again later" } else { "fix the request" }
    /// }
    /// let limited = Error::RateLimited { retry_after: Some(Duration::from_secs(30)) };
    /// assert_eq!(advice(&limited), "try again later");
    /// assert_eq!(advice(&Error::PinExpired), "fix the request");
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout | Error::Transport { .. } => true,
            Error::Api { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(message: &str, code: i64) -> ApiError {
        ApiError {
            code: Some(code),
            message: Some(message.to_owned()),
            status: Some(500),
        }
    }

    #[test]
    fn every_display_stays_within_its_bound() {
        let wide = "é".repeat(5_000);
        let quotes = "\"".repeat(5_000);
        let none = Secrets::default();
        let errors = vec![
            Error::Api {
                status: StatusCode::from_u16(599).unwrap(),
                errors: (0..2_000).map(|i| api_error(&wide, i)).collect(),
                body: Some(wide.clone()),
            },
            Error::Api {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                errors: vec![api_error(&"x".repeat(1_000_000), 1)],
                body: None,
            },
            Error::Decode {
                path: server_text(&wide, &none),
                message: server_text(&wide, &none),
                body_start: server_text(&wide, &none),
            },
            Error::UnknownSigningKey {
                kid: server_text(&quotes, &none),
            },
            Error::JwtInvalid {
                reason: server_text(&wide, &none),
            },
        ];
        for error in errors {
            let shown = error.to_string();
            assert!(
                shown.len() <= server_text::DISPLAY_BYTES,
                "{} bytes: {shown}",
                shown.len()
            );
        }
    }

    #[test]
    fn api_errors_that_do_not_fit_are_counted() {
        let error = Error::Api {
            status: StatusCode::BAD_GATEWAY,
            errors: (0..100).map(|i| api_error("down", i)).collect(),
            body: Some("<html>".into()),
        };
        let shown = error.to_string();
        let listed = shown.matches("; down (code").count();
        assert!(
            shown.contains(&format!(
                "; … and {} more; the body starts with: <html>",
                100 - listed
            )),
            "{shown}"
        );
        assert!(listed > 10, "{shown}");
    }
}
