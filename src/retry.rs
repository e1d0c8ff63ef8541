//! [`RetryPolicy`]: when and how often a failed request is sent again.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::{header::HeaderMap, Method, StatusCode};

/// How the client retries requests that failed for a passing reason.
///
/// Retried: connection failures, HTTP 429, 502, 503 and 504, with
/// exponential backoff and jitter, waiting at least as long as a
/// `Retry-After` header asks (seconds or an HTTP date). Requests that are not
/// idempotent (`POST`) are retried only when nothing reached the server: a
/// failed connection or a 429. Retries stop after `max_attempts` sends or
/// once `max_elapsed` has passed, whichever comes first.
///
/// ```
/// use std::time::Duration;
/// use plex_tv::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .max_attempts(6)
///     .max_elapsed(Duration::from_secs(120));
/// let never = RetryPolicy::none();
/// assert_eq!(never.attempts(), 1);
/// # let _ = patient;
/// ```
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    /// 4 attempts, delays from 250 ms doubling up to 8 s, at most 60 s in all.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default();
    /// assert_eq!((policy.attempts(), policy.elapsed_limit()), (4, Duration::from_secs(60)));
    /// ```
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: every request is sent once.
    ///
    /// ```
    /// use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv, RetryPolicy};
    ///
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("My App", ClientIdentifier::new_random()))
    ///     .retry(RetryPolicy::none())
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The most times a request is sent, the first included (at least 1).
    ///
    /// ```
    /// use plex_tv::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::default().max_attempts(6).attempts(), 6);
    /// assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the first retry; later ones double.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().initial_delay(Duration::from_secs(1));
    /// # let _ = policy;
    /// ```
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest delay between two attempts (a `Retry-After` may ask for
    /// more, within `max_elapsed`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default()
    ///     .initial_delay(Duration::from_millis(500))
    ///     .max_delay(Duration::from_secs(4)); // doubling no further than 4 s
    /// # let _ = policy;
    /// ```
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest time from the first send to the start of the last retry.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().max_elapsed(Duration::from_secs(10));
    /// assert_eq!(policy.elapsed_limit(), Duration::from_secs(10));
    /// ```
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Whether delays are randomised (on by default, so that many clients
    /// failing together do not retry together).
    ///
    /// ```
    /// use plex_tv::RetryPolicy;
    ///
    /// // Exact delays, for a test that counts them.
    /// let predictable = RetryPolicy::default().jitter(false);
    /// assert_ne!(predictable, RetryPolicy::default());
    /// ```
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The most times a request is sent.
    ///
    /// ```
    /// use plex_tv::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::default().attempts(), 4);
    /// assert_eq!(RetryPolicy::none().attempts(), 1);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest time spent retrying.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plex_tv::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::default().elapsed_limit(), Duration::from_secs(60));
    /// ```
    pub fn elapsed_limit(&self) -> Duration {
        self.max_elapsed
    }

    /// The backoff delays, one per retry.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        let builder = if self.jitter {
            builder.with_jitter()
        } else {
            builder
        };
        builder.build()
    }
}

/// Why a response or failure may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Not retryable.
    No,
    /// Retryable; wait at least this long if the server said so.
    After(Option<Duration>),
}

/// Whether `method` may be sent twice without changing the outcome.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Whether a response may be retried.
pub(crate) fn classify_status(method: &Method, status: StatusCode, headers: &HeaderMap) -> Retry {
    match status.as_u16() {
        // A 429 means the request was turned away unprocessed.
        429 => Retry::After(retry_after(headers)),
        502..=504 if is_idempotent(method) => Retry::After(retry_after(headers)),
        _ => Retry::No,
    }
}

/// Whether a failed send may be retried.
pub(crate) fn classify_error(method: &Method, error: &reqwest::Error) -> Retry {
    if error.is_timeout() {
        // Retrying would multiply the caller's timeout.
        Retry::No
    } else if error.is_connect() || (error.is_request() && is_idempotent(method)) {
        // A failed connect sent nothing; other failures may have, so only
        // idempotent requests are sent again.
        Retry::After(None)
    } else {
        Retry::No
    }
}

/// The `Retry-After` header: delay-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = retry_after(&headers(&date)).unwrap();
        assert!(
            wait > Duration::from_secs(27) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn post_is_retried_only_when_unprocessed() {
        let none = HeaderMap::new();
        assert_eq!(
            classify_status(&Method::POST, StatusCode::SERVICE_UNAVAILABLE, &none),
            Retry::No
        );
        assert_eq!(
            classify_status(&Method::POST, StatusCode::TOO_MANY_REQUESTS, &none),
            Retry::After(None)
        );
        assert_eq!(
            classify_status(&Method::GET, StatusCode::BAD_GATEWAY, &none),
            Retry::After(None)
        );
        assert_eq!(
            classify_status(&Method::GET, StatusCode::INTERNAL_SERVER_ERROR, &none),
            Retry::No
        );
    }

    #[test]
    fn delays_grow_and_stop() {
        let policy = RetryPolicy::default().jitter(false).max_attempts(4);
        let delays: Vec<_> = policy.delays().collect();
        assert_eq!(delays.len(), 3);
        assert!(delays[0] < delays[1] && delays[1] < delays[2]);
        assert_eq!(RetryPolicy::none().delays().count(), 0);
    }
}
