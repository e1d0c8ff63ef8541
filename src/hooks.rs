//! The progenitor hooks: where every generated operation gets its host,
//! identity headers, token, timeout, retries and limits. `pre` routes the
//! request and adds headers; `exec` sends it through [`crate::transport`]
//! (and, for device-key clients, refreshes a rejected JWT once).

use std::{fmt, sync::Arc, time::Duration};

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, USER_AGENT},
    Url,
};

use crate::{
    generated::Client,
    jwt::KeyCache,
    refresh::DeviceSession,
    spec,
    token::{TokenHeader, X_PLEX_TOKEN},
    transport, ClientIdentity,
};

/// progenitor adds `api-version: <info.version>` to every request; plex.tv
/// has no use for it.
pub(crate) const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// The state the generated client's hooks use: identity headers, token,
/// hosts, retry policy and limits. Built by
/// [`PlexTvBuilder`](crate::PlexTvBuilder); it appears in the generated
/// [`Client`]'s signature, and has no API of its own beyond a `Debug` that
/// shows the settings (never the token).
///
/// ```
/// use progenitor_client::ClientInfo;
///
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .token("secret")
/// #     .build()?;
/// let shared: &plex_tv::Shared = client.api().inner();
/// let shown = format!("{shared:?}");
/// assert!(shown.contains("Token(<redacted>)") && !shown.contains("secret"));
/// # Ok::<(), plex_tv::Error>(())
/// ```
#[derive(Clone)]
pub struct Shared {
    pub(crate) settings: Arc<Settings>,
    pub(crate) token: Option<TokenHeader>,
    /// Set for clients signed in with a device key: the token then lives in
    /// the session, which refreshes it. Classic clients skip all of that.
    pub(crate) device: Option<Arc<DeviceSession>>,
}

/// What every clone of a client shares.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) identity: ClientIdentity,
    /// The identity headers. Change them with [`Settings::set_header`],
    /// which keeps [`request_headers`](Self::request_headers) in step.
    pub(crate) headers: HeaderMap,
    /// What every request starts from: the identity headers, `Accept`, a
    /// slot for the token and, with our own `reqwest::Client`, its user
    /// agent. With a slot for each header a request brings or reqwest adds,
    /// values replace these in place and a copy of this map never has to
    /// grow (growing it reallocates and moves every entry).
    pub(crate) request_headers: HeaderMap,
    /// Set on each request when the caller brought their own
    /// `reqwest::Client`; ours has it built in, which costs less per request.
    pub(crate) request_timeout: Option<Duration>,
    /// Where each server of the spec other than the default one is reached:
    /// the spec's server URL, or the override for its host.
    pub(crate) servers: Vec<(&'static str, String)>,
    pub(crate) refresh_margin: Duration,
    pub(crate) key_cache: Arc<KeyCache>,
    /// The hosted sign-in page that PIN sign-in sends users to; `None`
    /// for plex.tv's own.
    pub(crate) auth_page: Option<String>,
    /// Retries, limits and the body cap, for the transport.
    pub(crate) transport: transport::Settings,
}

/// Stands in for the token in [`Settings::request_headers`]; always
/// replaced or removed before a request is sent.
const TOKEN_SLOT: HeaderValue = HeaderValue::from_static("");

impl Settings {
    /// The map requests start from, for these identity headers and the
    /// user agent the `reqwest::Client` adds (which then finds it there).
    pub(crate) fn request_headers_for(
        identity: &HeaderMap,
        user_agent: Option<HeaderValue>,
    ) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(identity.len() + 3);
        map.extend(identity.clone());
        map.insert(ACCEPT, HeaderValue::from_static("application/json"));
        map.insert(X_PLEX_TOKEN, TOKEN_SLOT);
        if let Some(user_agent) = user_agent {
            map.insert(USER_AGENT, user_agent);
        }
        map
    }

    /// Sets identity header `name` for every request of these settings.
    pub(crate) fn set_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name.clone(), value.clone());
        self.request_headers.insert(name, value);
    }

    /// Where `server` (a server URL of the spec) is reached.
    pub(crate) fn base_for(&self, server: &str) -> Option<&str> {
        self.servers
            .iter()
            .find(|(spec_server, _)| *spec_server == server)
            .map(|(_, base)| base.as_str())
    }
}

impl Shared {
    /// Adds the identity headers and the token; values already on the
    /// request (set for this request only) win, all of them when a name has
    /// several.
    ///
    /// The request's own headers (`Accept`, a header parameter) go into a
    /// copy of [`Settings::request_headers`] rather than the identity
    /// headers into the request's map: copying a map costs no hashing, and
    /// the request's map would grow, rehashing, as they went in.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) -> Result<(), String> {
        let own = std::mem::take(headers);
        let mut merged = self.settings.request_headers.clone();
        let refreshed = self.device.as_ref().map(|session| session.token());
        match refreshed.as_ref().unwrap_or(&self.token) {
            Some(token) => {
                let value = token.value.as_ref().map_err(Clone::clone)?;
                merged.insert(X_PLEX_TOKEN, value.clone());
            }
            None => {
                merged.remove(X_PLEX_TOKEN);
            }
        }
        // `None` names continue the previous name's values.
        let mut current: Option<HeaderName> = None;
        for (name, value) in own {
            if let Some(name) = name {
                current = (name != API_VERSION).then_some(name);
                if let Some(name) = &current {
                    merged.insert(name.clone(), value);
                }
            } else if let Some(name) = &current {
                merged.append(name, value);
            }
        }
        *headers = merged;
        Ok(())
    }

    /// Sends an operation whose server is not the default one to its own
    /// host: the generated code builds every URL on the default base URL.
    /// `operation_id` is progenitor's, the method name.
    fn route(&self, url: &mut Url, operation_id: &str, baseurl: &str) -> Result<(), String> {
        let Some(operation) = spec::operation_named(operation_id) else {
            return Ok(());
        };
        if operation.server == spec::DEFAULT_SERVER {
            return Ok(());
        }
        let base = self
            .settings
            .base_for(operation.server)
            .ok_or_else(|| format!("no base URL for {}", operation.server))?;
        let rest = url
            .as_str()
            .strip_prefix(baseurl)
            .ok_or_else(|| format!("{operation_id}: the request URL is not on the base URL"))?;
        *url = Url::parse(&format!("{base}{rest}"))
            .map_err(|e| format!("{operation_id}: cannot route the request ({e})"))?;
        Ok(())
    }

    /// The same settings with another token and no device key.
    pub(crate) fn with_token(&self, token: Option<TokenHeader>) -> Shared {
        Shared {
            settings: Arc::clone(&self.settings),
            token,
            device: None,
        }
    }

    pub(crate) fn identity(&self) -> &ClientIdentity {
        &self.settings.identity
    }

    pub(crate) fn key_cache(&self) -> &KeyCache {
        &self.settings.key_cache
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("identity", &self.settings.identity)
            .field("token", &self.token.as_ref().map(|t| &t.token))
            .field("device_key", &self.device.as_ref().map(|d| d.key()))
            .field("retry", &self.settings.transport.retry)
            .field(
                "max_response_size",
                &self.settings.transport.max_response_size,
            )
            .field("rate_limits", &self.settings.transport.gates)
            .finish()
    }
}

impl ClientHooks<Shared> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner
            .route(request.url_mut(), info.operation_id, &self.baseurl)
            .map_err(progenitor_client::Error::InvalidRequest)?;
        if let Some(session) = &self.inner.device {
            // While the current token is usable the request goes on with it
            // whatever the refresh did (a 401 brings it back to refreshing);
            // without one it fails with why, typed again by `Error::from`.
            session
                .refresh_if_due()
                .await
                .map_err(|failure| progenitor_client::Error::Custom(failure.to_custom()))?;
        }
        self.inner
            .apply(request.headers_mut())
            .map_err(progenitor_client::Error::InvalidRequest)?;
        if let Some(timeout) = self.inner.settings.request_timeout {
            request.timeout_mut().get_or_insert(timeout);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.inner.device {
            None => {
                transport::execute(&self.client, &self.inner.settings.transport, request, info)
                    .await
            }
            Some(session) => self.exec_refreshing(session, request, info).await,
        }
    }
}

impl Client {
    /// Sends a device-key client's request; when plex.tv rejects its JWT,
    /// refreshes it (once, however many requests were rejected) and sends
    /// the request again with the new one.
    async fn exec_refreshing(
        &self,
        session: &DeviceSession,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let sent = request.headers().get(X_PLEX_TOKEN).cloned();
        let ours =
            sent.is_some() && session.token().and_then(|t| t.value.ok()).as_ref() == sent.as_ref();
        let again = request.try_clone().filter(|_| ours);
        // Refresh attempts ended before sending: one that ends later, and
        // failed, answers this request's 401 too.
        let seen = session.attempts();
        let response =
            transport::execute(&self.client, &self.inner.settings.transport, request, info).await?;
        let Some(mut again) = again else {
            return Ok(response);
        };
        if response.status() != reqwest::StatusCode::UNAUTHORIZED
            || session
                .refresh_after_rejection(sent.as_ref(), seen)
                .await
                .is_err()
        {
            return Ok(response);
        }
        let Some(Ok(token)) = session.token().map(|t| t.value) else {
            return Ok(response);
        };
        drop(response);
        again.headers_mut().insert(X_PLEX_TOKEN, token);
        transport::execute(&self.client, &self.inner.settings.transport, again, info).await
    }
}

#[cfg(test)]
mod tests {
    use crate::{spec, ClientIdentifier, ClientIdentity, PlexTv};

    /// Every operation of the spec reaches its own server's host, with the
    /// server's path in front of its own, and nothing else changes.
    #[test]
    fn every_operation_is_routed_to_its_own_host() {
        let mut builder =
            PlexTv::builder().identity(ClientIdentity::new("App", ClientIdentifier::new_random()));
        let servers = spec::servers();
        for (port, server) in (40001..).zip(&servers) {
            let host = spec::host_of(server);
            builder = builder.host_url(host, format!("http://127.0.0.{}:{port}", port - 40000));
        }
        let client = builder.build().unwrap();
        let api = client.api();
        for operation in spec::OPERATIONS {
            let path = operation.path.replace('{', "x").replace('}', "");
            let mut url: reqwest::Url = format!("{}{path}?q=1", api.baseurl).parse().unwrap();
            api.inner
                .route(&mut url, operation.name, &api.baseurl)
                .unwrap();
            let index = servers.iter().position(|s| *s == operation.server).unwrap();
            let host = spec::host_of(operation.server);
            let expected_base = client.host_url(host).unwrap();
            let server_path = operation
                .server
                .splitn(4, '/')
                .nth(3)
                .map(|p| format!("/{p}"))
                .unwrap_or_default();
            assert_eq!(
                url.as_str(),
                format!("{expected_base}{server_path}{path}?q=1"),
                "{} (server {index})",
                operation.id
            );
        }
    }
}
