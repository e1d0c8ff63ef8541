//! What `openapi/plex-tv.json` says about each operation: its method, path
//! and server. build.rs writes the table from the spec, so that the hooks
//! send every operation to its own host and tests can list them all.

/// One operation of the spec.
///
/// ```
/// let ping = plex_tv::spec::OPERATIONS
///     .iter()
///     .find(|operation| operation.id == "ping")
///     .expect("the spec has ping");
/// assert_eq!((ping.method, ping.path, ping.server), ("GET", "/api/v2/ping", "https://plex.tv"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The generated method's name (`get_auth_nonce`), which is also what
    /// progenitor's hooks see as the operation id.
    pub name: &'static str,
    /// The spec's `operationId` (`getAuthNonce`).
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, relative to [`server`](Self::server).
    pub path: &'static str,
    /// The server the operation is sent to, for example
    /// `https://clients.plex.tv`, without a trailing slash.
    pub server: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/plex_tv_spec.rs"));

/// The operation with this `operationId` (`getAuthNonce`).
///
/// ```
/// let nonce = plex_tv::spec::operation("getAuthNonce").expect("in the spec");
/// assert_eq!(nonce.server, "https://clients.plex.tv");
/// assert!(plex_tv::spec::operation("noSuchOperation").is_none());
/// ```
pub fn operation(id: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|operation| operation.id == id)
}

/// The operation whose generated method is `name` (`get_auth_nonce`): the
/// id progenitor's hooks are given.
///
/// ```
/// let nonce = plex_tv::spec::operation_named("get_auth_nonce").expect("in the spec");
/// assert_eq!(nonce.id, "getAuthNonce");
/// ```
pub fn operation_named(name: &str) -> Option<&'static Operation> {
    position_named(name).map(|index| &OPERATIONS[index])
}

/// Every server the spec names, the default first, each once.
///
/// ```
/// let servers = plex_tv::spec::servers();
/// assert_eq!(servers[0], plex_tv::spec::DEFAULT_SERVER);
/// assert!(servers.contains(&"https://clients.plex.tv"));
/// ```
pub fn servers() -> Vec<&'static str> {
    let mut servers = vec![DEFAULT_SERVER];
    for operation in OPERATIONS {
        if !servers.contains(&operation.server) {
            servers.push(operation.server);
        }
    }
    servers
}

/// The host of a server URL (`clients.plex.tv` for
/// `https://clients.plex.tv/api/v2`).
pub(crate) fn host_of(server: &str) -> &str {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    rest.split(['/', ':']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_found_by_its_name_and_id() {
        assert!(OPERATIONS
            .windows(2)
            .all(|pair| pair[0].name < pair[1].name));
        for (index, op) in OPERATIONS.iter().enumerate() {
            assert_eq!(position_named(op.name), Some(index), "{}", op.name);
        }
        assert_eq!(position_named("no_such_operation"), None);
        assert_eq!(position_named(""), None);
        assert!(OPERATIONS.iter().all(|op| operation(op.id) == Some(op)));
    }

    #[test]
    fn hosts_are_taken_from_server_urls() {
        assert_eq!(host_of("https://clients.plex.tv/api/v2"), "clients.plex.tv");
        assert_eq!(host_of("https://plex.tv"), "plex.tv");
        assert_eq!(host_of("http://127.0.0.1:8080/x"), "127.0.0.1");
    }
}
