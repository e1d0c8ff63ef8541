//! Which URLs of a server to try, in which order, and what trying each
//! found: the data of [`crate::connect`], kept apart from the probing so
//! that [`crate::Error`] can carry the attempts.

use std::fmt;

use reqwest::Url;

use crate::{
    server_text::{server_text, Secrets},
    types::Resource,
};

/// Where a connection leads, best first: the local network, the internet,
/// Plex's relay (bandwidth-limited, a last resort).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Location {
    /// An address on the server's local network.
    Local,
    /// The server's public address.
    Remote,
    /// Plex's relay.
    Relay,
}

/// One URL a server may be reached at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The base URL: a connection's `uri` as plex.tv gave it (for https,
    /// usually a `plex.direct` name), or `http://address:port`.
    pub url: Url,
    /// Where it leads.
    pub location: Location,
    /// Whether it is https.
    pub secure: bool,
}

/// What happened when a candidate was probed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeOutcome {
    /// The server answered as the expected server.
    Reached,
    /// The connection was refused.
    Refused,
    /// No answer within the probe timeout (or the overall one).
    TimedOut,
    /// The TLS handshake failed (a bad or unexpected certificate, say).
    Tls,
    /// Something answered with this error status (or a redirect, which
    /// probes never follow so that the token stays where it is sent).
    Status(u16),
    /// A server answered, but with another machine identifier.
    WrongServer,
    /// The connection failed otherwise (DNS, reset, ...).
    Failed,
    /// Not needed: a better candidate answered first.
    NotNeeded,
}

/// A candidate and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectAttempt {
    /// The candidate.
    pub candidate: Candidate,
    /// Its outcome.
    pub outcome: ProbeOutcome,
}

/// The candidates of a resource, best first: local, then remote, then relay
/// connections; for each, https (the connection's `uri`, used as given,
/// never built) before plain `http://address:port`. Local connections are
/// left out for a server that is not on the caller's network (not owned,
/// not shared through the Plex Home, not seen from the same public
/// address), and plain http when the server requires https.
///
/// ```
/// use plex_tv::{connect::{connection_candidates, Location}, types::Resource};
///
/// let resource: Resource = serde_json::from_value(serde_json::json!({
///     "name": "Box", "clientIdentifier": "abc", "owned": true, "httpsRequired": true,
///     "connections": [
///         {"protocol": "https", "address": "203.0.113.7", "port": 32400, "local": false,
///          "uri": "https://203-0-113-7.0123.plex.direct:32400"},
///         {"protocol": "https", "address": "192.168.1.10", "port": 32400, "local": true,
///          "uri": "https://192-168-1-10.0123.plex.direct:32400"}
///     ]
/// }))?;
/// let candidates = connection_candidates(&resource);
/// assert_eq!(candidates[0].location, Location::Local);
/// assert_eq!(candidates[0].url.as_str(), "https://192-168-1-10.0123.plex.direct:32400/");
/// assert_eq!(candidates.len(), 2, "https only: the server requires it");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn connection_candidates(resource: &Resource) -> Vec<Candidate> {
    // A server on the caller's network: owned, shared through the Plex
    // Home, or seen from the same public address.
    let nearby = resource.owned == Some(true)
        || resource.home == Some(true)
        || resource.public_address_matches == Some(true);
    let https_only = resource.https_required == Some(true);
    let mut candidates: Vec<Candidate> = Vec::new();
    for connection in resource.connections.iter().flatten() {
        let local = connection.local == Some(true);
        if local && !nearby {
            continue;
        }
        let location = if connection.relay == Some(true) {
            Location::Relay
        } else if local {
            Location::Local
        } else {
            Location::Remote
        };
        let uri = Url::parse(&connection.uri).ok();
        if let Some(uri) = uri.filter(|u| u.scheme() == "https") {
            candidates.push(Candidate {
                url: uri,
                location,
                secure: true,
            });
        }
        if https_only {
            continue;
        }
        let plain = match (connection.address.as_deref(), connection.port) {
            (Some(address), Some(port)) if !address.is_empty() => {
                let host = if address.contains(':') && !address.starts_with('[') {
                    format!("[{address}]")
                } else {
                    address.to_owned()
                };
                Url::parse(&format!("http://{host}:{port}")).ok()
            }
            _ => Url::parse(&connection.uri)
                .ok()
                .filter(|u| u.scheme() == "http"),
        };
        if let Some(url) = plain {
            candidates.push(Candidate {
                url,
                location,
                secure: false,
            });
        }
    }
    // Stable: within a location and scheme, plex.tv's order stays.
    candidates.sort_by_key(|c| (c.location, !c.secure));
    let mut seen = Vec::new();
    candidates.retain(|c| {
        let new = !seen.contains(&c.url);
        seen.push(c.url.clone());
        new
    });
    candidates
}

/// A short account of the attempts, for [`Error::ServerUnreachable`](crate::Error::ServerUnreachable)'s
/// message (bounded: servers list a handful of connections).
pub(crate) fn summary(attempts: &[ConnectAttempt]) -> String {
    const SHOWN: usize = 8;
    // The URLs come from plex.tv: cleaned and bounded like any server text.
    let secrets = Secrets::known();
    let mut parts: Vec<String> = attempts
        .iter()
        .take(SHOWN)
        .map(|a| {
            let url = a.candidate.url.as_str().trim_end_matches('/');
            let url = server_text(url, &secrets);
            format!("{url} {}", a.outcome)
        })
        .collect();
    if attempts.len() > SHOWN {
        parts.push(format!("and {} more", attempts.len() - SHOWN));
    }
    if parts.is_empty() {
        "it has none".into()
    } else {
        parts.join("; ")
    }
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeOutcome::Reached => f.write_str("answered"),
            ProbeOutcome::Refused => f.write_str("refused the connection"),
            ProbeOutcome::TimedOut => f.write_str("timed out"),
            ProbeOutcome::Tls => f.write_str("failed the TLS handshake"),
            ProbeOutcome::Status(status) => write!(f, "answered HTTP {status}"),
            ProbeOutcome::WrongServer => f.write_str("is another server"),
            ProbeOutcome::Failed => f.write_str("could not be reached"),
            ProbeOutcome::NotNeeded => f.write_str("not needed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_bounded() {
        let candidate = Candidate {
            url: Url::parse("http://127.0.0.1:1").unwrap(),
            location: Location::Local,
            secure: false,
        };
        let attempt = ConnectAttempt {
            candidate,
            outcome: ProbeOutcome::Refused,
        };
        let text = summary(&vec![attempt; 20]);
        assert!(text.ends_with("and 12 more"), "{text}");
    }
}
