//! Finding a working connection to a Plex Media Server: the candidates of a
//! [`Resource`] in preference order, all probed at
//! once, the best one that answers returned as soon as it is known.
//!
//! ```no_run
//! # async fn demo(client: plex_tv::PlexTv) -> Result<(), plex_tv::Error> {
//! let server = client.connect("0123456789abcdef0123456789abcdef01234567").await?;
//! println!("use {} with its token", server.url);
//! # Ok(()) }
//! ```

use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use reqwest::{header::HeaderValue, StatusCode};

pub use crate::candidates::{
    connection_candidates, Candidate, ConnectAttempt, Location, ProbeOutcome,
};
use crate::{types::Resource, Error, PlexTv, Token};

/// How long one probe may take, unless [`Connect::probe_timeout`] says
/// otherwise.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(4);

/// How long finding a connection may take in all, unless
/// [`Connect::timeout`] says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an `/identity` answer a probe reads.
const MAX_IDENTITY_BODY: usize = 64 * 1024;

/// A working connection to a server: where to send requests and the token
/// to send them with.
///
/// `Debug` never shows the token.
#[derive(Clone, Debug)]
pub struct ServerConnection {
    /// The base URL that answered, without a trailing slash: requests go to
    /// `format!("{}/library/sections", connection.url)`.
    pub url: String,
    /// The token to use on the server: the resource's `accessToken`, or the
    /// client's own when plex.tv gave none.
    pub token: Option<Token>,
    /// The candidate that answered.
    pub candidate: Candidate,
    /// Every candidate in preference order, with its outcome.
    pub attempts: Vec<ConnectAttempt>,
}

impl PlexTv {
    /// Finds a working connection to the server with this machine
    /// identifier: looks it up in the account's resources (with https,
    /// relay and IPv6 connections) and probes its candidates with the
    /// defaults of [`connect_to`](Self::connect_to).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let server = fake.start_media_server("0123456789abcdef0123456789abcdef01234567").await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// let server = client.connect("0123456789abcdef0123456789abcdef01234567").await?;
    /// println!("{} answers; send requests there with its token", server.url);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NoServerAccess`] when the account has no such server,
    /// [`Error::ServerUnreachable`] when no candidate answers, and the
    /// errors of `get_resources`.
    pub async fn connect(&self, machine_identifier: &str) -> Result<ServerConnection, Error> {
        let resources = self.every_resource().await?;
        let resource = resources
            .iter()
            .find(|r| r.client_identifier == machine_identifier && provides_server(r))
            .ok_or_else(|| Error::NoServerAccess {
                machine_identifier: machine_identifier.to_owned(),
            })?;
        self.connect_to(resource).send().await
    }

    /// Prepares probing `resource`'s candidates; [`Connect::send`] runs it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # fake.start_media_server("0123456789abcdef0123456789abcdef01234567").await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// use std::time::Duration;
    ///
    /// let resources = client.get_resources().include_https(1).send().await?.into_inner();
    /// let resource = &resources[0];
    /// let server = client
    ///     .connect_to(resource)
    ///     .probe_timeout(Duration::from_secs(2))
    ///     .timeout(Duration::from_secs(5))
    ///     .send()
    ///     .await?;
    /// assert_eq!(server.attempts.len(), plex_tv::connect::connection_candidates(resource).len());
    /// # Ok(()) }
    /// ```
    pub fn connect_to<'a>(&'a self, resource: &'a Resource) -> Connect<'a> {
        Connect {
            client: self,
            resource,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

impl PlexTv {
    /// The account's resources with every kind of connection (https, relay,
    /// IPv6), as choosing among them needs.
    pub(crate) async fn every_resource(&self) -> Result<Vec<Resource>, Error> {
        Ok(self
            .get_resources()
            .include_https(1)
            .include_relay(1)
            .include_i_pv6(1)
            .send()
            .await?
            .into_inner())
    }
}

fn provides_server(resource: &Resource) -> bool {
    resource
        .provides
        .as_deref()
        .is_some_and(|p| p.split(',').any(|p| p.trim() == "server"))
}

/// Probing a server's candidates, from [`PlexTv::connect_to`].
#[derive(Debug)]
#[must_use]
pub struct Connect<'a> {
    client: &'a PlexTv,
    resource: &'a Resource,
    probe_timeout: Duration,
    timeout: Duration,
}

impl Connect<'_> {
    /// How long one probe may take (default 4 s).
    ///
    /// ```
    /// # fn demo(client: &plex_tv::PlexTv, resource: &plex_tv::types::Resource) {
    /// let connect = client.connect_to(resource).probe_timeout(std::time::Duration::from_secs(1));
    /// # let _ = connect;
    /// # }
    /// ```
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// How long finding a connection may take in all (default 10 s); when
    /// it passes, the best candidate that answered so far wins.
    ///
    /// ```
    /// # fn demo(client: &plex_tv::PlexTv, resource: &plex_tv::types::Resource) {
    /// let connect = client.connect_to(resource).timeout(std::time::Duration::from_secs(3));
    /// # let _ = connect;
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Probes every candidate at once (`GET <url>/identity` with the
    /// client's identity headers and the server's token, so that the server
    /// knows the device and sends no "new device" notice) and returns the
    /// best one that answers, in preference order: a worse candidate that
    /// answers first does not win while a better one may still answer.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # fake.start_media_server("0123456789abcdef0123456789abcdef01234567").await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// # let resources = client.get_resources().send().await?.into_inner();
    /// match client.connect_to(&resources[0]).send().await {
    ///     Ok(server) => println!("connected to {}", server.url),
    ///     Err(plex_tv::Error::ServerUnreachable { attempts }) => {
    ///         for attempt in attempts {
    ///             println!("{}: {:?}", attempt.candidate.url, attempt.outcome);
    ///         }
    ///     }
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ServerUnreachable`] with every attempt's outcome when none
    /// answers (also when the resource has no connection).
    pub async fn send(self) -> Result<ServerConnection, Error> {
        let candidates = connection_candidates(self.resource);
        let token = self
            .resource
            .access_token
            .clone()
            .filter(|t| !t.is_empty())
            .or_else(|| self.client.current_token());
        let header = token.as_ref().and_then(|t| t.header_value().ok());
        let mut outcomes: Vec<Option<ProbeOutcome>> = vec![None; candidates.len()];
        let this = &self;
        let mut probes: FuturesUnordered<_> = candidates
            .iter()
            .cloned()
            .enumerate()
            .map(|(index, candidate)| {
                let header = header.clone();
                async move { (index, this.probe(&candidate, header).await) }
            })
            .collect();
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        loop {
            if let Some(best) = decided(&outcomes) {
                drop(probes);
                return Ok(self.finish(candidates, outcomes, best, token));
            }
            tokio::select! {
                next = probes.next() => match next {
                    Some((index, outcome)) => outcomes[index] = Some(outcome),
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        drop(probes);
        let best = outcomes
            .iter()
            .position(|o| *o == Some(ProbeOutcome::Reached));
        match best {
            Some(best) => Ok(self.finish(candidates, outcomes, best, token)),
            None => Err(Error::ServerUnreachable {
                attempts: attempts(candidates, outcomes, ProbeOutcome::TimedOut),
            }),
        }
    }

    fn finish(
        &self,
        candidates: Vec<Candidate>,
        outcomes: Vec<Option<ProbeOutcome>>,
        best: usize,
        token: Option<Token>,
    ) -> ServerConnection {
        let candidate = candidates[best].clone();
        let url = candidate.url.as_str().trim_end_matches('/').to_owned();
        ServerConnection {
            url,
            token,
            candidate,
            attempts: attempts(candidates, outcomes, ProbeOutcome::NotNeeded),
        }
    }

    /// One probe, bounded by the probe timeout whatever the server does.
    async fn probe(&self, candidate: &Candidate, token: Option<HeaderValue>) -> ProbeOutcome {
        let url = match candidate.url.join("identity") {
            Ok(url) => url,
            Err(_) => return ProbeOutcome::Failed,
        };
        let mut request = self
            .client
            .http_client()
            .get(url)
            .headers(self.client.identity_headers())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.probe_timeout);
        if let Some(token) = token {
            request = request.header(crate::token::X_PLEX_TOKEN, token);
        }
        let sent = async {
            let response = request
                .send()
                .await
                .map_err(|e| classify(&e, candidate.secure))?;
            let status = response.status();
            if status != StatusCode::OK {
                return Err(ProbeOutcome::Status(status.as_u16()));
            }
            // An `/identity` answer is a few hundred bytes: read no more
            // than enough of whatever a server sends.
            let mut response = response;
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| classify(&e, candidate.secure))?
            {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_IDENTITY_BODY {
                    body.truncate(MAX_IDENTITY_BODY);
                    break;
                }
            }
            Ok(body)
        };
        match tokio::time::timeout(self.probe_timeout, sent).await {
            Err(_) => ProbeOutcome::TimedOut,
            Ok(Err(outcome)) => outcome,
            Ok(Ok(body)) => {
                let expected = self.resource.client_identifier.as_str();
                if identity_matches(&body, expected) {
                    ProbeOutcome::Reached
                } else {
                    ProbeOutcome::WrongServer
                }
            }
        }
    }
}

/// The best candidate once it is known: the first that answered, with
/// every better one already failed.
fn decided(outcomes: &[Option<ProbeOutcome>]) -> Option<usize> {
    for (index, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Some(ProbeOutcome::Reached) => return Some(index),
            Some(_) => continue,
            None => return None,
        }
    }
    None
}

fn attempts(
    candidates: Vec<Candidate>,
    outcomes: Vec<Option<ProbeOutcome>>,
    pending: ProbeOutcome,
) -> Vec<ConnectAttempt> {
    candidates
        .into_iter()
        .zip(outcomes)
        .map(|(candidate, outcome)| ConnectAttempt {
            candidate,
            outcome: outcome.unwrap_or_else(|| pending.clone()),
        })
        .collect()
}

/// Whether an `/identity` answer names `expected` as its machine
/// identifier; one that names none is taken as it is.
fn identity_matches(body: &[u8], expected: &str) -> bool {
    let found = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/MediaContainer/machineIdentifier")?
                .as_str()
                .map(str::to_owned)
        })
        .or_else(|| {
            // The XML form: `<MediaContainer ... machineIdentifier="...">`.
            let text = String::from_utf8_lossy(body);
            let start = text.find("machineIdentifier=\"")? + "machineIdentifier=\"".len();
            let end = text[start..].find('"')?;
            Some(text[start..start + end].to_owned())
        });
    found.is_none_or(|found| found == expected)
}

/// Why a probe's request failed. A connection to an https candidate that
/// opened but broke before any answer is a failed TLS handshake.
fn classify(error: &reqwest::Error, secure: bool) -> ProbeOutcome {
    if error.is_timeout() {
        return ProbeOutcome::TimedOut;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return ProbeOutcome::Refused;
            }
        }
        let text = current.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return ProbeOutcome::Tls;
        }
        source = current.source();
    }
    if secure && error.is_connect() {
        return ProbeOutcome::Tls;
    }
    ProbeOutcome::Failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_is_decided_only_once_every_better_one_failed() {
        use ProbeOutcome::*;
        assert_eq!(decided(&[None, Some(Reached)]), None);
        assert_eq!(decided(&[Some(Refused), Some(Reached)]), Some(1));
        assert_eq!(decided(&[Some(Reached), None]), Some(0));
        assert_eq!(decided(&[Some(TimedOut), Some(Tls)]), None);
    }

    #[test]
    fn identity_answers_are_checked_in_either_form() {
        let json = br#"{"MediaContainer":{"machineIdentifier":"abc","version":"1"}}"#;
        assert!(identity_matches(json, "abc"));
        assert!(!identity_matches(json, "other"));
        assert!(identity_matches(
            br#"<MediaContainer machineIdentifier="abc"/>"#,
            "abc"
        ));
        assert!(identity_matches(b"", "abc"), "a server that says nothing");
    }
}
