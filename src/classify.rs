//! How a failed operation becomes an [`Error`]: progenitor's error, an
//! error status with plex.tv's error list, a body that does not decode, or a
//! failure of the connection. Kept apart from the enum so that the modules
//! the classification reads (the transport's notes, the XML step, the JWT
//! refresh) can use [`Error`] without a cycle.

use std::{error::Error as _, io};

use bytes::Bytes;
use reqwest::{header::HeaderMap, StatusCode};

use crate::{
    redact,
    refresh::Failure,
    retry::retry_after,
    server_text::{server_text, Secrets},
    transport::{raw_body_note, BodyTooLarge},
    types::{ApiError, ErrorResponse},
    xml::{operation_note, XmlDecodeFailure},
    Error,
};

impl Error {
    /// Classifies an error status and body.
    pub(crate) fn from_status(
        status: StatusCode,
        headers: &HeaderMap,
        errors: Vec<ApiError>,
    ) -> Self {
        let secrets = Secrets::known();
        let errors: Vec<ApiError> = errors
            .into_iter()
            .map(|error| ApiError {
                message: error.message.map(|m| server_text(&m, &secrets)),
                ..error
            })
            .collect();
        let body = raw_body_note(status, headers).map(|note| server_text(&note, &secrets));
        let has_code = |code: i64| errors.iter().any(|e| e.code == Some(code));
        // v1 paths answer a deauthorised token with 422 `Invalid token`.
        let invalid_token = status == StatusCode::UNPROCESSABLE_ENTITY
            && errors.iter().any(|e| {
                e.message
                    .as_deref()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("invalid token"))
            });
        if has_code(1029) {
            Error::TwoFactorRequired { errors }
        } else if has_code(1041) {
            Error::PinRequired { errors }
        } else if status == StatusCode::UNAUTHORIZED || has_code(1001) || invalid_token {
            Error::Unauthorized { errors }
        } else if status == StatusCode::GONE {
            Error::EndpointRemoved { errors }
        } else if status == StatusCode::UNPROCESSABLE_ENTITY
            && operation_note(headers) == Some("create_shared_server")
        {
            Error::AlreadyShared { errors }
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            Error::RateLimited {
                retry_after: retry_after(headers),
            }
        } else {
            Error::Api {
                status,
                errors,
                body,
            }
        }
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        if let Some(failure) = cause::<XmlDecodeFailure>(&error) {
            return failure.to_error();
        }
        if let Some(too_large) = cause::<BodyTooLarge>(&error) {
            return Error::ResponseTooLarge {
                limit: too_large.limit,
            };
        }
        let timed_out = error.is_timeout()
            || cause::<io::Error>(&error).is_some_and(|io| io.kind() == io::ErrorKind::TimedOut);
        if timed_out {
            Error::Timeout
        } else {
            Error::Transport {
                source: error.without_url(),
            }
        }
    }

    /// A body that does not decode. Built in `From` for progenitor's
    /// error, where the request is no longer known: the tokens removed are
    /// every token a live client of this process sends ([`Secrets::known`]),
    /// which include the request's as long as its client lives.
    pub(crate) fn decode(body: &Bytes, error: &serde_json::Error) -> Self {
        Error::decode_with(body, error, &Secrets::known())
    }

    pub(crate) fn decode_with(body: &Bytes, error: &serde_json::Error, secrets: &Secrets) -> Self {
        let offset = redact::offset_of(body, error.line(), error.column());
        let message = error.to_string();
        // serde_json appends " at line L column C"; the path says it better.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        let message = if body.is_empty() {
            "the body is empty".to_owned()
        } else {
            message
        };
        let path = redact::json_path_at(body, offset);
        Error::Decode {
            message: server_text(&redact::decode_message(&path, message), secrets),
            path: server_text(&path, secrets),
            body_start: server_text(&redact::excerpt(body), secrets),
        }
    }
}

/// The first error of type `T` among the causes of `error`.
fn cause<T: std::error::Error + 'static>(error: &reqwest::Error) -> Option<&T> {
    let mut current = error.source();
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// What `?` does to the generated operations' errors: classifies them and
/// redacts response bodies.
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
/// let result = client.get_user().send().await;
/// let error = Error::from(result.unwrap_err());
/// assert!(matches!(error, Error::Unauthorized { .. }));
/// # Ok(()) }
/// ```
impl From<progenitor_client::Error<ErrorResponse>> for Error {
    fn from(error: progenitor_client::Error<ErrorResponse>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::InvalidRequest(message) => Error::invalid_input(message),
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                Error::from_reqwest(e)
            }
            E::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                Error::from_status(
                    status,
                    &headers,
                    response.into_inner().errors.unwrap_or_default(),
                )
            }
            E::InvalidResponsePayload(body, e) => Error::decode(&body, &e),
            E::UnexpectedResponse(response) => {
                let status = response.status();
                Error::from_status(status, response.headers(), Vec::new())
            }
            // The client hooks can only fail with a string: a failed
            // automatic JWT refresh is marked so as to come back typed.
            E::Custom(message) => {
                Failure::from_custom(&message).unwrap_or_else(|| Error::invalid_input(message))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_cleaned_however_the_error_is_built() {
        let error = Error::from_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            &HeaderMap::new(),
            vec![ApiError {
                code: Some(1),
                message: Some("a\u{1b}[2Jb\r\nc".into()),
                status: None,
            }],
        );
        let Error::Api { errors, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(errors[0].message.as_deref(), Some("a\u{FFFD}[2Jb  c"));
    }
}
