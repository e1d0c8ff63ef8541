//! How one operation travels: retries, redirects, the body size cap, error
//! bodies and the tracing span. Runs inside progenitor's `exec` hook, so
//! every generated operation gets it without repeating anything.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use progenitor_client::OperationInfo;
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION},
    Method, Request, Response, ResponseBuilderExt, StatusCode, Url,
};
use tracing::{field, Instrument};

use crate::{
    rate_limit::{Denied, Gate, Gates},
    retry::{classify_error, classify_status, retry_after, Retry, RetryPolicy},
    server_text::{server_text, Secrets},
    types::ErrorResponse,
};

/// The most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// How much of an error body is read to decode it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Carries the start of an error body that was not plex.tv's usual JSON
/// shape from here to [`crate::Error`]; never sent over the network.
///
/// A header, because that is all progenitor keeps of a documented error
/// response (`ResponseValue` has the status, the headers and the decoded
/// body; `http::Extensions` are dropped). The server cannot write it: a
/// header of this name in any response is removed first (see [`finish`]),
/// and what is put there has been through [`crate::server_text`].
const RAW_BODY_NOTE: HeaderName = HeaderName::from_static("x-plex-tv-sdk-raw-body");

/// What the transport needs of a client: kept by every clone of it.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) retry: RetryPolicy,
    /// The most bytes of a response body read.
    pub(crate) max_response_size: u64,
    /// Each host's rate limit and shared pause.
    pub(crate) gates: Arc<Gates>,
    /// The request timeout, which waiting at a gate counts against.
    pub(crate) timeout: Duration,
}

/// The response body grew past [`PlexTvBuilder::max_response_size`](crate::PlexTvBuilder::max_response_size).
#[derive(Debug)]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: u64,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the response body is larger than {} bytes", self.limit)
    }
}

impl std::error::Error for BodyTooLarge {}

/// Sends `request` with retries and redirects, inside a tracing span that
/// records the operation, status, attempts and latency (never headers).
pub(crate) async fn execute(
    client: &reqwest::Client,
    settings: &Settings,
    request: Request,
    info: &OperationInfo,
) -> reqwest::Result<Response> {
    let span = tracing::debug_span!(
        "plex_tv.request",
        operation = info.operation_id,
        method = %request.method(),
        path = request.url().path(),
        status = field::Empty,
        attempts = field::Empty,
        latency_ms = field::Empty,
    );
    // Kept to blank the request's secrets out of its error body (see
    // `normalize_error_body`): the token (its header value is already
    // sensitive) and any secret-looking query value, such as the device JWT
    // of a PIN poll. Copied only when there is one: this runs per request.
    let secrets = RequestSecrets {
        token: request.headers().get(crate::token::X_PLEX_TOKEN).cloned(),
        query: request
            .url()
            .query()
            .filter(|query| mentions_secret(query))
            .map(str::to_owned),
    };
    async move {
        // The clock is read only for a span that records.
        let span = tracing::Span::current();
        let started = (!span.is_disabled()).then(Instant::now);
        let gate = settings.gates.for_operation(info.operation_id);
        let (result, attempts) = send_with_retries(client, settings, request, gate).await;
        if let Some(started) = started {
            span.record("attempts", attempts);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
        }
        match &result {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                tracing::debug!(status = response.status().as_u16(), "plex.tv answered");
            }
            Err(error) => tracing::debug!(error = %DisplayWithoutUrl(error), "request failed"),
        }
        // XML error envelopes and XML answers become their JSON twins.
        let response = crate::xml::errors_as_json(result?, info.operation_id).await?;
        let response = finish(response, settings.max_response_size, &secrets).await?;
        crate::xml::answer_as_json(response, info.operation_id).await
    }
    .instrument(span)
    .await
}

/// What of a request must not show in the text of its error.
struct RequestSecrets {
    token: Option<HeaderValue>,
    query: Option<String>,
}

impl RequestSecrets {
    /// These secrets and every token of a live client.
    fn all(&self) -> Secrets {
        let mut secrets = Secrets::known();
        if let Some(token) = &self.token {
            secrets = secrets.and(token.as_bytes());
        }
        if let Some(query) = &self.query {
            for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
                if mentions_secret(&key) {
                    secrets = secrets.and(value.as_bytes());
                }
            }
        }
        secrets
    }
}

/// Whether a text mentions a token or a JWT (ASCII case ignored), without
/// allocating.
fn mentions_secret(text: &str) -> bool {
    ["token", "jwt"].iter().any(|word| {
        text.as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    })
}

/// A reqwest error shown without its URL.
struct DisplayWithoutUrl<'a>(&'a reqwest::Error);

impl fmt::Display for DisplayWithoutUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.0.is_timeout() {
            "timed out"
        } else if self.0.is_connect() {
            "connection failed"
        } else if self.0.is_body() || self.0.is_decode() {
            "response body failed"
        } else {
            "request failed"
        };
        f.write_str(kind)
    }
}

/// Sends the request, then again while the retry policy allows; returns
/// the last outcome and how many sends it took.
async fn send_with_retries(
    client: &reqwest::Client,
    settings: &Settings,
    mut request: Request,
    gate: Option<&Gate>,
) -> (reqwest::Result<Response>, u32) {
    let policy = &settings.retry;
    // `checked_add`: `Instant + Duration` panics on overflow, and both
    // `max_elapsed(Duration::MAX)` and a `Retry-After` of u64::MAX seconds
    // are possible. No deadline means no limit.
    let deadline = Instant::now().checked_add(policy.elapsed_limit());
    let method = request.method().clone();
    // Made at the first retry: most requests need none.
    let mut delays = None;
    let mut attempt = 1;
    let timeouts = Timeouts::of(&request, settings.timeout);
    loop {
        // Every send, retries too, passes the host's rate limit and pause.
        let retry_deadline = deadline.filter(|_| attempt > 1);
        if let Err(denied) = pass_gate(gate, &mut request, &timeouts, retry_deadline).await {
            return (Ok(denied.response(request.url())), attempt - 1);
        }
        // Bodies here are bytes or forms, so a copy exists; without one
        // (a stream) the request is sent once.
        let copy = copy_of(&request);
        let result = send_following_redirects(client, request, copy.as_ref()).await;
        pause_on_429(gate, &result, policy.elapsed_limit());
        let asked = match classify(&method, &result) {
            Retry::No => return (result, attempt),
            Retry::After(asked) => asked,
        };
        let backoff = delays.get_or_insert_with(|| policy.delays()).next();
        let (Some(next), Some(backoff)) = (copy, backoff) else {
            return (result, attempt);
        };
        let wait = asked.map_or(backoff, |asked| asked.max(backoff));
        let within_deadline = match (Instant::now().checked_add(wait), deadline) {
            (Some(resume), Some(deadline)) => resume <= deadline,
            (Some(_), None) => true,
            // A wait past the end of time: give up now rather than panic.
            (None, _) => false,
        };
        if !within_deadline {
            return (result, attempt);
        }
        drop(result);
        tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
        tokio::time::sleep(wait).await;
        request = next;
        attempt += 1;
    }
}

/// A copy of `request` for a retry or a redirect, `None` when its body is a
/// stream. Unlike `Request::try_clone`, which always sets a timeout and so
/// allocates reqwest's extension map for it, it sets one only when the
/// request has one: that map is all a copy of a plain request would cost
/// beyond its URL and headers. (Requests here carry no other extensions.)
fn copy_of(request: &Request) -> Option<Request> {
    let body = match request.body() {
        // Bytes or a form: small, copied.
        Some(body) => Some(reqwest::Body::from(Bytes::copy_from_slice(
            body.as_bytes()?,
        ))),
        None => None,
    };
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    *copy.body_mut() = body;
    Some(copy)
}

/// A send's timeout: the request's own, else the client's.
struct Timeouts {
    own: Option<Duration>,
    budget: Duration,
}

impl Timeouts {
    fn of(request: &Request, client_timeout: Duration) -> Timeouts {
        let own = request.timeout().copied();
        Timeouts {
            own,
            budget: own.unwrap_or(client_timeout),
        }
    }
}

/// Waits at the host's gate (see `crate::rate_limit`), within the send's
/// timeout and, for a retry, the retry policy's deadline. The wait counts
/// against the timeout: the send gets what is left of it.
async fn pass_gate(
    gate: Option<&Gate>,
    request: &mut Request,
    timeouts: &Timeouts,
    retry_deadline: Option<Instant>,
) -> Result<(), Denied> {
    let Some(gate) = gate else {
        return Ok(());
    };
    let budget = retry_deadline.map_or(timeouts.budget, |deadline| {
        timeouts
            .budget
            .min(deadline.saturating_duration_since(Instant::now()))
    });
    let waited = gate.admit(budget).await?;
    if waited.is_zero() {
        // A retry's copy may carry the timeout its first send was left.
        if request.timeout() != timeouts.own.as_ref() {
            *request.timeout_mut() = timeouts.own;
        }
        return Ok(());
    }
    let left = timeouts.budget.saturating_sub(waited);
    if left.is_zero() {
        return Err(Denied { retry_after: None });
    }
    *request.timeout_mut() = Some(left);
    Ok(())
}

/// A 429 pauses every request to the host, for as long as it asked within
/// the retry policy's `max_elapsed`.
fn pause_on_429(
    gate: Option<&Gate>,
    result: &reqwest::Result<Response>,
    bound: std::time::Duration,
) {
    if let (Some(gate), Ok(response)) = (gate, result) {
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            gate.pause(retry_after(response.headers()), bound);
        }
    }
}

fn classify(method: &Method, result: &reqwest::Result<Response>) -> Retry {
    match result {
        Ok(response) => classify_status(method, response.status(), response.headers()),
        Err(error) => classify_error(method, error),
    }
}

/// Follows redirects by hand so that the token never travels to another
/// origin: reqwest's own redirect handling would forward `X-Plex-Token`.
/// `original` is a copy of `request` (the one kept for retries); it is
/// cloned only when a redirect is actually followed, so the usual answer
/// costs no copy of the request here.
async fn send_following_redirects(
    client: &reqwest::Client,
    mut request: Request,
    original: Option<&Request>,
) -> reqwest::Result<Response> {
    let mut previous: Option<Request> = None;
    for _ in 0..MAX_REDIRECTS {
        let response = client.execute(request).await?;
        let Some(target) = redirect_target(&response) else {
            return Ok(response);
        };
        let copy = match &previous {
            Some(previous) => copy_of(previous),
            None => original.and_then(copy_of),
        };
        let Some(mut next) = copy else {
            return Ok(response);
        };
        if downgrades_to_get(response.status(), next.method()) {
            *next.method_mut() = Method::GET;
            *next.body_mut() = None;
            next.headers_mut().remove(CONTENT_TYPE);
            next.headers_mut().remove(CONTENT_LENGTH);
        }
        if next.url().origin() != target.origin() {
            next.headers_mut().remove(crate::token::X_PLEX_TOKEN);
        }
        *next.url_mut() = target;
        previous = copy_of(&next);
        request = next;
    }
    client.execute(request).await
}

/// Where a redirect response points, if it is one we follow.
fn redirect_target(response: &Response) -> Option<Url> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    let target = response.url().join(location).ok()?;
    matches!(target.scheme(), "http" | "https").then_some(target)
}

/// Browsers and reqwest turn these redirects of a POST into a GET.
fn downgrades_to_get(status: StatusCode, method: &Method) -> bool {
    status == StatusCode::SEE_OTHER
        || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
            && *method == Method::POST)
}

/// Caps the body, and turns an error body that is not plex.tv's usual JSON
/// into an empty one plus a note, so that the status is not lost.
///
/// Every status that is not a success counts as an error here, not only
/// 4xx and 5xx: a 3xx that was not followed (a redirect loop, an unusable
/// `Location`) or a status outside the spec (`599`, `999`) also ends in
/// [`crate::Error::Api`], which should then quote the body too.
async fn finish(
    mut response: Response,
    limit: u64,
    secrets: &RequestSecrets,
) -> reqwest::Result<Response> {
    // Only this module writes the note, and only on error statuses: a
    // server's copy is dropped here, and one on a success status is never
    // read (see `raw_body_note`).
    let status = response.status();
    if !status.is_success() {
        response.headers_mut().remove(RAW_BODY_NOTE);
        return normalize_error_body(response, secrets).await;
    }
    Ok(cap_body(response, limit))
}

fn cap_body(response: Response, limit: u64) -> Response {
    // hyper ends a body at its Content-Length, and reqwest drops the exact
    // size when it decompresses: a body of known size within the limit
    // cannot grow past it, so it is passed on untouched (no extra layers
    // for every chunk to go through).
    if response
        .content_length()
        .is_some_and(|length| length <= limit)
    {
        return response;
    }
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    // Without its URL, `Response::from` below would parse a placeholder
    // (`http://no.url.provided.local`) on every call and report it.
    let (tagged, ()) = http::Response::builder()
        .url(url)
        .body(())
        .expect("a response with no headers builds")
        .into_parts();
    parts.extensions.extend(tagged.extensions);
    let limited =
        Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX)).map_err(move |error| {
            if error.is::<LengthLimitError>() {
                Box::new(BodyTooLarge { limit }) as Box<dyn std::error::Error + Send + Sync>
            } else {
                error
            }
        });
    Response::from(http::Response::from_parts(
        parts,
        reqwest::Body::wrap(limited),
    ))
}

async fn normalize_error_body(
    mut response: Response,
    secrets: &RequestSecrets,
) -> reqwest::Result<Response> {
    let mut body = Vec::new();
    let mut complete = true;
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ERROR_BODY {
            complete = false;
            break;
        }
    }
    let (mut parts, _) = http::Response::from(response).into_parts();
    // Only a body with at least one error counts as the usual shape: every
    // field of `ErrorResponse` is optional, so `{"error":"nope"}` or a bare
    // `{}` would decode too, and their text would be lost.
    let usual = complete
        .then(|| serde_json::from_slice::<ErrorResponse>(&body).ok())
        .flatten()
        .filter(|parsed| parsed.errors.as_ref().is_some_and(|e| !e.is_empty()));
    let body = if let Some(parsed) = usual {
        // The messages are cleaned here, where the request's own secrets
        // are known; `Error` only sees what progenitor decodes from this.
        clean_errors(parsed, &secrets.all())
    } else if body.trim_ascii().is_empty() {
        // Nothing to quote: `Error::Api::body` stays `None`.
        Bytes::from_static(b"{}")
    } else {
        // The request's own secrets are removed wherever they appear: an
        // error page may echo the token without a key that `redact` would
        // recognise.
        let note = server_text(&crate::redact::excerpt(&body), &secrets.all());
        if let Ok(value) = HeaderValue::from_bytes(note.as_bytes()) {
            parts.headers.insert(RAW_BODY_NOTE, value);
        }
        Bytes::from_static(b"{}")
    };
    parts.headers.remove(CONTENT_LENGTH);
    Ok(Response::from(http::Response::from_parts(parts, body)))
}

/// plex.tv's error body again, every message through [`server_text`].
fn clean_errors(mut parsed: ErrorResponse, secrets: &Secrets) -> Bytes {
    for error in parsed.errors.iter_mut().flatten() {
        if let Some(message) = &mut error.message {
            *message = server_text(message, secrets);
        }
    }
    serde_json::to_vec(&parsed).map_or_else(|_| Bytes::from_static(b"{}"), Bytes::from)
}

/// The note left by [`normalize_error_body`], if any. It is only ever left
/// on an error status, so on a success status (one progenitor did not
/// expect, say) a note can only be the server's, and is not read.
pub(crate) fn raw_body_note(status: StatusCode, headers: &HeaderMap) -> Option<String> {
    if status.is_success() {
        return None;
    }
    headers
        .get(RAW_BODY_NOTE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_note_the_server_sends_is_never_read() {
        let secrets = RequestSecrets {
            token: None,
            query: None,
        };
        for status in [200, 202, 500] {
            let forged = http::Response::builder()
                .status(status)
                .header(RAW_BODY_NOTE, "forged")
                .body(reqwest::Body::from("{}"))
                .unwrap();
            let response = finish(Response::from(forged), 1024, &secrets)
                .await
                .unwrap();
            let status = response.status();
            let note = raw_body_note(status, response.headers());
            assert_ne!(note.as_deref(), Some("forged"), "{status}");
            // An error's note is ours: the body, which is not plex.tv's shape.
            assert_eq!(note.is_some(), status.is_server_error(), "{status}");
        }
    }

    #[test]
    fn a_copy_keeps_everything_a_send_uses() {
        let url = Url::parse("https://plex.tv/api/v2/user?x=1").unwrap();
        let mut request = Request::new(Method::PUT, url.clone());
        request
            .headers_mut()
            .append("x-a", HeaderValue::from_static("1"));
        request
            .headers_mut()
            .append("x-a", HeaderValue::from_static("2"));
        *request.body_mut() = Some(reqwest::Body::from("body"));
        *request.version_mut() = reqwest::Version::HTTP_11;
        let copy = copy_of(&request).unwrap();
        assert_eq!((copy.method(), copy.url()), (&Method::PUT, &url));
        assert_eq!(copy.headers(), request.headers());
        assert_eq!(copy.version(), reqwest::Version::HTTP_11);
        assert_eq!(copy.body().and_then(|b| b.as_bytes()), Some(&b"body"[..]));
        assert_eq!(copy.timeout(), None);

        *request.timeout_mut() = Some(std::time::Duration::from_secs(3));
        let copy = copy_of(&request).unwrap();
        assert_eq!(copy.timeout(), Some(&std::time::Duration::from_secs(3)));

        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("x"))]);
        *request.body_mut() = Some(reqwest::Body::wrap_stream(stream));
        assert!(copy_of(&request).is_none(), "a stream cannot be sent twice");
    }

    fn response(status: u16, location: Option<&str>) -> Response {
        let mut builder = http::Response::builder()
            .status(status)
            .url(Url::parse("https://plex.tv/api/v2/user").unwrap());
        if let Some(location) = location {
            builder = builder.header(LOCATION, location);
        }
        Response::from(builder.body(reqwest::Body::from("")).unwrap())
    }

    #[test]
    fn only_usable_redirects_are_followed() {
        let target = |status, location| redirect_target(&response(status, location));
        assert_eq!(
            target(302, Some("/api/v2/other")).unwrap().as_str(),
            "https://plex.tv/api/v2/other"
        );
        assert_eq!(
            target(307, Some("https://clients.plex.tv/x"))
                .unwrap()
                .host_str(),
            Some("clients.plex.tv")
        );
        assert!(target(302, None).is_none(), "no Location");
        assert!(
            target(304, Some("/x")).is_none(),
            "not a redirect we follow"
        );
        assert!(
            target(301, Some("javascript:alert(1)")).is_none(),
            "not http(s)"
        );
        assert!(target(303, Some("file:///etc/passwd")).is_none());
    }

    #[test]
    fn see_other_and_old_redirects_of_a_post_become_a_get() {
        assert!(downgrades_to_get(StatusCode::SEE_OTHER, &Method::PUT));
        assert!(downgrades_to_get(StatusCode::FOUND, &Method::POST));
        assert!(downgrades_to_get(
            StatusCode::MOVED_PERMANENTLY,
            &Method::POST
        ));
        assert!(!downgrades_to_get(StatusCode::FOUND, &Method::GET));
        assert!(!downgrades_to_get(
            StatusCode::TEMPORARY_REDIRECT,
            &Method::POST
        ));
        assert!(!downgrades_to_get(
            StatusCode::PERMANENT_REDIRECT,
            &Method::DELETE
        ));
    }
}
