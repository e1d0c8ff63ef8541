//! [`RateLimit`]: how fast the client talks to each plex.tv host, and the
//! pause every clone of a client takes together after a 429.
//!
//! Each host of the spec has one gate, shared by every clone and
//! [`with_token`](crate::PlexTv::with_token) client of a
//! [`PlexTv`](crate::PlexTv). Before each send (retries included) the
//! request passes the gate: it waits out a shared pause, then for a permit of
//! the host's limiter (governor's GCRA), all within the request's timeout.
//! A 429 from the host starts (or extends) the shared pause, so that the
//! other requests stop instead of each discovering the limit on its own.

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use governor::{
    clock::Clock,
    middleware::NoOpMiddleware,
    nanos::Nanos,
    state::{InMemoryState, NotKeyed},
    Quota, RateLimiter,
};
use reqwest::{
    header::{CONTENT_TYPE, RETRY_AFTER},
    Response, ResponseBuilderExt, Url,
};
use tokio::time::Instant;

use crate::spec;

/// How many requests per second the client sends to one host, and how many
/// may go at once after a quiet spell.
///
/// The default, on for every host, is 5 requests per second with bursts of
/// 3: no one-second window holds more than 8 requests. plex.tv publishes no
/// limit; companion apps report that about 10 requests per second gets a
/// client answered `429` (code 1003, "API rate limit exceeded"), and that
/// the block can outlast the burst. Half that rate keeps a service that
/// serves many users clear of it, and an app acting for one user rarely
/// sends more (a PIN sign-in polls once a second). Raise it, or switch it
/// off, with [`PlexTvBuilder::rate_limit`](crate::PlexTvBuilder::rate_limit).
/// The default models plex.tv's limit, so it applies to the hosts left at
/// their plex.tv address: a host moved to a fake plex.tv or a proxy has no
/// limit unless one is set for it.
///
/// ```
/// use plex_tv::RateLimit;
///
/// let default = RateLimit::default();
/// assert_eq!((default.requests_per_second(), default.burst_size()), (5, 3));
///
/// let faster = RateLimit::per_second(8).burst(4);
/// assert_eq!((faster.requests_per_second(), faster.burst_size()), (8, 4));
/// // Zero is not a rate: it counts as 1.
/// assert_eq!(RateLimit::per_second(0).requests_per_second(), 1);
/// ```
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl Default for RateLimit {
    /// 5 requests per second, bursts of 3 (see [`RateLimit`] for why).
    ///
    /// ```
    /// assert_eq!(plex_tv::RateLimit::default(), plex_tv::RateLimit::per_second(5).burst(3));
    /// ```
    fn default() -> Self {
        RateLimit::per_second(5).burst(3)
    }
}

impl RateLimit {
    /// `requests` per second (at least 1), in bursts of as many.
    ///
    /// ```
    /// let limit = plex_tv::RateLimit::per_second(10);
    /// assert_eq!(limit.burst_size(), 10);
    /// ```
    pub fn per_second(requests: u32) -> RateLimit {
        let per_second = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        RateLimit {
            per_second,
            burst: per_second,
        }
    }

    /// How many requests may go at once (at least 1) when the client has
    /// been quiet; after that they are spaced evenly.
    ///
    /// ```
    /// let limit = plex_tv::RateLimit::per_second(10).burst(1); // one every 100 ms
    /// assert_eq!(limit.burst_size(), 1);
    /// ```
    pub fn burst(mut self, requests: u32) -> RateLimit {
        self.burst = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// The sustained rate, in requests per second.
    ///
    /// ```
    /// assert_eq!(plex_tv::RateLimit::per_second(7).requests_per_second(), 7);
    /// ```
    pub fn requests_per_second(&self) -> u32 {
        self.per_second.get()
    }

    /// The most requests sent at once.
    ///
    /// ```
    /// assert_eq!(plex_tv::RateLimit::per_second(7).burst(2).burst_size(), 2);
    /// ```
    pub fn burst_size(&self) -> u32 {
        self.burst.get()
    }

    fn quota(&self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

/// The pause after a 429 that did not say how long to wait: limits are
/// reported per second.
const PAUSE_WITHOUT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The longest pause even when the retry policy allows more: a day.
const MAX_PAUSE: Duration = Duration::from_secs(24 * 60 * 60);

/// Time as tokio sees it, in nanoseconds since the gates were made: the
/// limiter then follows tokio's clock, paused test clocks included.
#[derive(Clone, Copy, Debug)]
struct TokioClock {
    epoch: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.epoch.elapsed())
    }
}

impl TokioClock {
    fn instant(&self, at: Nanos) -> Instant {
        self.epoch + Duration::from_nanos(at.as_u64())
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// The gates of every host of the spec, shared by all clones of a client.
pub(crate) struct Gates {
    gates: Vec<Gate>,
    /// The gate of each operation, in [`spec::OPERATIONS`]' order: looked
    /// up once here rather than on every request.
    by_operation: Vec<usize>,
}

/// One host's limiter and shared pause.
pub(crate) struct Gate {
    host: &'static str,
    clock: TokioClock,
    limit: Option<RateLimit>,
    limiter: Option<Limiter>,
    /// Waiters for a permit queue here, first come first served; only the
    /// first one watches the limiter, so a permit wakes one task, not all.
    queue: tokio::sync::Mutex<()>,
    /// End of the shared pause, in nanoseconds on `clock`; 0 when none was
    /// ever set. Only ever moves later.
    paused_until: AtomicU64,
}

/// A request that could not pass its gate within its timeout.
#[derive(Debug)]
pub(crate) struct Denied {
    /// When it could have gone, if known.
    pub(crate) retry_after: Option<Duration>,
}

impl Gates {
    /// One gate per host of the spec, limited as `limit_of(host)` says.
    pub(crate) fn new(limit_of: impl Fn(&str) -> Option<RateLimit>) -> Gates {
        let clock = TokioClock {
            epoch: Instant::now(),
        };
        let gates = spec::servers()
            .into_iter()
            .map(spec::host_of)
            .fold(Vec::<&'static str>::new(), |mut hosts, host| {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
                hosts
            })
            .into_iter()
            .map(|host| {
                let limit = limit_of(host);
                Gate {
                    host,
                    clock,
                    limit,
                    limiter: limit
                        .map(|limit| RateLimiter::direct_with_clock(limit.quota(), clock)),
                    queue: tokio::sync::Mutex::new(()),
                    paused_until: AtomicU64::new(0),
                }
            })
            .collect::<Vec<Gate>>();
        let by_operation = spec::OPERATIONS
            .iter()
            .map(|operation| {
                let host = spec::host_of(operation.server);
                gates
                    .iter()
                    .position(|gate| gate.host == host)
                    .expect("every server has a gate")
            })
            .collect();
        Gates {
            gates,
            by_operation,
        }
    }

    /// The gate of the host that serves the operation progenitor names
    /// `operation` (its method name).
    pub(crate) fn for_operation(&self, operation: &str) -> Option<&Gate> {
        let index = spec::position_named(operation)?;
        Some(&self.gates[self.by_operation[index]])
    }

    #[cfg(test)]
    pub(crate) fn for_host(&self, host: &str) -> Option<&Gate> {
        self.gates.iter().find(|gate| gate.host == host)
    }

    /// The latest end of the hosts' current pauses.
    pub(crate) fn paused_until(&self) -> Option<Instant> {
        self.gates.iter().filter_map(Gate::paused_until).max()
    }
}

impl Gate {
    /// The host's rate limit, if it has one.
    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Waits until the request may be sent: past the shared pause, with a
    /// permit of the limiter. Returns how long that took, or [`Denied`] as
    /// soon as it is clear that it would take more than `budget`.
    pub(crate) async fn admit(&self, budget: Duration) -> Result<Duration, Denied> {
        let Some(limiter) = &self.limiter else {
            // No limit and no pause: nothing to wait for, nor to time (a
            // nonzero "wait" would cost the request its own timeout).
            if self.paused_until().is_none() {
                return Ok(Duration::ZERO);
            }
            let start = Instant::now();
            self.wait_out_pause(start.checked_add(budget)).await?;
            return Ok(self.waited(start, "the shared pause"));
        };
        let start = Instant::now();
        let deadline = start.checked_add(budget);
        // The usual case: nobody queued, no pause, a permit at hand.
        let turn = match self.queue.try_lock() {
            Ok(turn) if self.paused_until().is_none() && limiter.check().is_ok() => {
                drop(turn);
                return Ok(Duration::ZERO);
            }
            Ok(turn) => turn,
            Err(_) => match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, self.queue.lock())
                    .await
                    .map_err(|_| Denied { retry_after: None })?,
                None => self.queue.lock().await,
            },
        };
        loop {
            self.wait_out_pause(deadline).await?;
            let Err(not_until) = limiter.check() else {
                break;
            };
            let at = self.clock.instant(not_until.earliest_possible());
            if deadline.is_some_and(|deadline| at > deadline) {
                return Err(Denied {
                    retry_after: Some(at.saturating_duration_since(Instant::now())),
                });
            }
            tokio::time::sleep_until(at).await;
        }
        drop(turn);
        Ok(self.waited(start, "the rate limit"))
    }

    /// Sleeps until the shared pause ends, unless it ends after `deadline`.
    async fn wait_out_pause(&self, deadline: Option<Instant>) -> Result<(), Denied> {
        let Some(until) = self.paused_until() else {
            return Ok(());
        };
        if deadline.is_some_and(|deadline| until > deadline) {
            return Err(Denied {
                retry_after: Some(until.saturating_duration_since(Instant::now())),
            });
        }
        tokio::time::sleep_until(until).await;
        Ok(())
    }

    fn waited(&self, start: Instant, on: &'static str) -> Duration {
        let waited = start.elapsed();
        if !waited.is_zero() {
            tracing::debug!(
                host = self.host,
                waited_ms = waited.as_millis() as u64,
                "waited for {on}"
            );
        }
        waited
    }

    /// The host answered 429: every request to it waits `asked`
    /// (`Retry-After`), or a second, but never longer than `bound` (the
    /// retry policy's `max_elapsed`), however long the server asked for.
    pub(crate) fn pause(&self, asked: Option<Duration>, bound: Duration) {
        let wait = asked
            .unwrap_or(PAUSE_WITHOUT_RETRY_AFTER)
            .min(bound)
            .min(MAX_PAUSE);
        let until = self.clock.now() + Nanos::from(wait);
        let before = self
            .paused_until
            .fetch_max(until.as_u64(), Ordering::AcqRel);
        if until.as_u64() > before {
            tracing::info!(
                host = self.host,
                pause_ms = wait.as_millis() as u64,
                asked_ms = asked.map(|asked| asked.as_millis() as u64),
                "plex.tv answered 429: pausing every request to this host"
            );
        }
    }

    /// The end of the current pause, if one is on.
    pub(crate) fn paused_until(&self) -> Option<Instant> {
        let until = Nanos::new(self.paused_until.load(Ordering::Acquire));
        (until.as_u64() > 0 && until > self.clock.now()).then(|| self.clock.instant(until))
    }
}

impl Denied {
    /// A 429 as plex.tv sends it, for a request that never left: it
    /// becomes [`Error::RateLimited`](crate::Error::RateLimited) like a
    /// real one, with `Retry-After` when the wait is known.
    pub(crate) fn response(&self, url: &Url) -> Response {
        let mut response = http::Response::builder()
            .status(429)
            .url(url.clone())
            .header(CONTENT_TYPE, "application/json");
        if let Some(after) = self.retry_after {
            // Whole seconds, rounded up, so that the wait is not shortened.
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response = response.header(RETRY_AFTER, seconds);
        }
        let body = r#"{"errors":[{"code":1003,"message":"not sent: the rate limit or a shared pause would outlast the request's timeout","status":429}]}"#;
        Response::from(
            response
                .body(body)
                .expect("a response with valid headers builds"),
        )
    }
}

impl std::fmt::Debug for Gates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.gates.iter().map(|gate| (gate.host, gate.limit())))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates(limit: Option<RateLimit>) -> Gates {
        Gates::new(|_| limit)
    }

    /// On a clock that runs: a gate with nothing to wait for reports no
    /// wait at all, so the request keeps its own timeout and nothing logs.
    #[tokio::test]
    async fn a_free_gate_admits_without_a_wait() {
        let gates = gates(None);
        let gate = gates.for_host("plex.tv").unwrap();
        for _ in 0..100 {
            assert_eq!(
                gate.admit(Duration::from_secs(5)).await.unwrap(),
                Duration::ZERO
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn permits_are_spaced_after_the_burst() {
        let gates = gates(Some(RateLimit::per_second(10).burst(2)));
        let gate = gates.for_host("plex.tv").unwrap();
        let budget = Duration::from_secs(5);
        assert_eq!(gate.admit(budget).await.unwrap(), Duration::ZERO);
        assert_eq!(gate.admit(budget).await.unwrap(), Duration::ZERO);
        let third = gate.admit(budget).await.unwrap();
        assert!(third >= Duration::from_millis(90), "{third:?}");
        assert!(third <= Duration::from_millis(110), "{third:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_permit_past_the_budget_is_refused_at_once() {
        let gates = gates(Some(RateLimit::per_second(1).burst(1)));
        let gate = gates.for_host("plex.tv").unwrap();
        gate.admit(Duration::from_secs(1)).await.unwrap();
        let start = Instant::now();
        let denied = gate.admit(Duration::from_millis(300)).await.unwrap_err();
        assert_eq!(start.elapsed(), Duration::ZERO);
        let after = denied.retry_after.unwrap();
        assert!(after > Duration::from_millis(900) && after <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_and_is_bounded() {
        let gates = gates(None);
        let gate = gates.for_host("plex.tv").unwrap();
        gate.pause(
            Some(Duration::from_secs(u64::MAX / 4)),
            Duration::from_secs(3),
        );
        let until = gates.paused_until().unwrap();
        assert_eq!(until - Instant::now(), Duration::from_secs(3));
        assert!(gate.admit(Duration::from_secs(1)).await.is_err());
        assert_eq!(
            gate.admit(Duration::from_secs(5)).await.unwrap(),
            Duration::from_secs(3)
        );
        assert!(gates.paused_until().is_none());
        // Other hosts are not paused.
        gate.pause(None, Duration::from_secs(60));
        let other = gates.for_host("clients.plex.tv").unwrap();
        assert_eq!(other.admit(Duration::ZERO).await.unwrap(), Duration::ZERO);
        // A shorter pause does not shorten a longer one.
        gate.pause(Some(Duration::from_millis(10)), Duration::from_secs(60));
        assert_eq!(
            gates.paused_until().unwrap() - Instant::now(),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_refusal_reads_as_a_429_with_its_wait() {
        let url: Url = "https://plex.tv/api/v2/user".parse().unwrap();
        let denied = Denied {
            retry_after: Some(Duration::from_millis(1200)),
        };
        let response = denied.response(&url);
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[RETRY_AFTER], "2");
        assert_eq!(response.url(), &url);
        let unknown = Denied { retry_after: None }.response(&url);
        assert!(!unknown.headers().contains_key(RETRY_AFTER));
    }
}
