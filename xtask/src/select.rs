//! Selecting the operations served by the configured hosts and placing
//! each one where the committed spec keeps it.
//!
//! Upstream describes an operation as a server (`https://plex.tv/api/v2`)
//! and a path under it (`/pins`); what identifies it is the method, the
//! host and the full path on that host (`POST plex.tv /api/v2/pins`),
//! variable names aside. An operation the committed spec already has is put
//! under the committed spec's path key and servers, its path parameters
//! renamed to ours; any other is put under its full path, with an
//! operation-level server when its host is not the default one.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use url::Url;

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where one operation of the committed spec lives.
#[derive(Debug, Clone)]
struct Place {
    path: String,
    /// Its operation-level `servers`, if it has any.
    servers: Option<Value>,
    /// Its full path on its host, with our variable names.
    full_path: String,
}

/// `(method, host, full path with blanked variables)`.
type Identity = (String, String, String);

/// Keeps the operations on `hosts` (the first is the default host), placed
/// as the module comment says; returns the skipped ones as
/// `METHOD /path (reason)` lines for the report. A document that is not an
/// object (which `shape::check` refuses) is left as it is.
pub fn select(doc: &mut Value, hosts: &[String], base: Option<&Value>) -> Vec<String> {
    let ours = base.map(places).unwrap_or_default();
    let default_host = hosts.first().map(String::as_str).unwrap_or("plex.tv");
    let Some(root) = doc.as_object_mut() else {
        return Vec::new();
    };
    let top_servers = root.get("servers").cloned().unwrap_or(Value::Null);
    let paths = match root.get_mut("paths").map(Value::take) {
        Some(Value::Object(paths)) => paths,
        _ => Map::new(),
    };
    let mut selected = Map::new();
    let mut skipped = Vec::new();
    for (path, item) in paths {
        let Value::Object(item) = item else { continue };
        let item_servers = item.get("servers").unwrap_or(&top_servers);
        let shared_parameters = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(Value::Object(op)) = item.get(method) else {
                continue;
            };
            let servers = op.get("servers").unwrap_or(item_servers);
            let line = format!("{} {path}", method.to_uppercase());
            let Some((host, prefix)) = served_by(servers, hosts) else {
                skipped.push(format!("{line} (served by {})", server_urls(servers)));
                continue;
            };
            let full_path = join(&prefix, &path);
            let mut op = op.clone();
            op.remove("servers");
            push_down_parameters(&mut op, &shared_parameters);
            let identity = (method.to_owned(), host.clone(), template(&full_path));
            let key = match ours.get(&identity) {
                Some(place) => {
                    rename_path_parameters(&mut op, &full_path, &place.full_path);
                    if let Some(servers) = &place.servers {
                        op.insert("servers".into(), servers.clone());
                    }
                    place.path.clone()
                }
                None => {
                    if host != default_host {
                        op.insert(
                            "servers".into(),
                            json!([{ "url": format!("https://{host}") }]),
                        );
                    }
                    full_path
                }
            };
            let Some(slot) = selected
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
            else {
                continue;
            };
            if slot.contains_key(method) {
                skipped.push(format!(
                    "{line} (another operation has the same place on {host})"
                ));
            } else {
                slot.insert(method.into(), Value::Object(op));
            }
        }
    }
    root.insert("paths".into(), Value::Object(selected));
    if base.is_none() {
        root.insert(
            "servers".into(),
            json!([{ "url": format!("https://{default_host}") }]),
        );
    } else {
        root.remove("servers");
    }
    skipped
}

/// The places of the committed spec's operations, by identity.
fn places(base: &Value) -> BTreeMap<Identity, Place> {
    let mut out = BTreeMap::new();
    let top = base.get("servers").cloned().unwrap_or(Value::Null);
    let Some(paths) = base.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item_servers = item.get("servers").unwrap_or(&top);
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let own = op.get("servers").cloned();
            let servers = own.as_ref().unwrap_or(item_servers);
            let Some((host, prefix)) = first_server(servers) else {
                continue;
            };
            let full_path = format!("{prefix}{path}");
            let place = Place {
                path: path.clone(),
                servers: own,
                full_path: full_path.clone(),
            };
            out.insert((method.to_owned(), host, template(&full_path)), place);
        }
    }
    out
}

/// The host and path prefix of the first server on one of `hosts`.
fn served_by(servers: &Value, hosts: &[String]) -> Option<(String, String)> {
    servers.as_array()?.iter().find_map(|server| {
        let (host, prefix) = host_and_prefix(server)?;
        hosts.contains(&host).then_some((host, prefix))
    })
}

fn first_server(servers: &Value) -> Option<(String, String)> {
    servers.as_array()?.first().and_then(host_and_prefix)
}

/// A server's host and its path without a trailing slash.
fn host_and_prefix(server: &Value) -> Option<(String, String)> {
    let url = Url::parse(&expand_variables(server)).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some((host, url.path().trim_end_matches('/').to_owned()))
}

/// A server URL with its `{variables}` replaced by their defaults.
fn expand_variables(server: &Value) -> String {
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(variables) = server.get("variables").and_then(Value::as_object) {
        for (name, variable) in variables {
            if let Some(default) = variable.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    url
}

fn server_urls(servers: &Value) -> String {
    let urls: Vec<&str> = servers
        .as_array()
        .map(|s| s.iter().filter_map(|s| s.get("url")?.as_str()).collect())
        .unwrap_or_default();
    if urls.is_empty() {
        "no server".into()
    } else {
        urls.join(", ")
    }
}

/// The full path of `path` under a server whose path is `prefix`.
///
/// A path that repeats the end of its server's path (`/api/v2/user` under
/// `https://plex.tv/api/v2`, `/api/users/` under `https://plex.tv/api`) is
/// a doubled prefix, a known upstream mistake: the repeated part is taken
/// once, so that the result is what clients actually call.
pub fn join(prefix: &str, path: &str) -> String {
    let prefix_segments: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    let path_segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let repeated = (1..=prefix_segments.len().min(path_segments.len()))
        .rev()
        .find(|&k| prefix_segments.ends_with(&path_segments[..k]))
        .unwrap_or(0);
    let rest = if repeated == 0 {
        path.to_owned()
    } else {
        let mut rest: String = path_segments[repeated..]
            .iter()
            .map(|s| format!("/{s}"))
            .collect();
        if path.ends_with('/') && !rest.is_empty() {
            rest.push('/');
        }
        rest
    };
    if rest == "/" && !prefix.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}{rest}")
    }
}

/// Path-level parameters apply to every operation of the path; copying them
/// down lets later stages look at one list (the operation's own win).
pub fn push_down_parameters(op: &mut Map<String, Value>, shared: &[Value]) {
    if shared.is_empty() {
        return;
    }
    let own = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
    let mut merged: Vec<Value> = shared
        .iter()
        .filter(|s| !own.iter().any(|o| key(o) == key(s)))
        .cloned()
        .collect();
    merged.extend(own);
    op.insert("parameters".into(), Value::Array(merged));
}

/// A path with its variable names blanked: `/pins/{}`.
pub fn template(path: &str) -> String {
    let mut out = String::new();
    let mut in_variable = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_variable = true;
                out.push('{');
            }
            '}' => {
                in_variable = false;
                out.push('}');
            }
            _ if !in_variable => out.push(c),
            _ => {}
        }
    }
    out
}

fn variables(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|r| r.split_once('}'))
        .map(|(v, _)| v.to_owned())
        .collect()
}

/// Renames the path parameters of an operation placed at `from_path` to the
/// variable names of `to_path` (the same template).
fn rename_path_parameters(op: &mut Map<String, Value>, from_path: &str, to_path: &str) {
    let renames: Vec<(String, String)> = variables(from_path)
        .into_iter()
        .zip(variables(to_path))
        .filter(|(theirs, ours)| theirs != ours)
        .collect();
    if renames.is_empty() {
        return;
    }
    let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in parameters.iter_mut().filter_map(Value::as_object_mut) {
        if p.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let name = p.get("name").and_then(Value::as_str);
        if let Some((_, ours)) = renames.iter().find(|(theirs, _)| name == Some(theirs)) {
            p.insert("name".into(), json!(ours));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_prefixes_are_taken_once() {
        assert_eq!(join("/api", "/api/resources"), "/api/resources");
        assert_eq!(join("/api", "/api/users/"), "/api/users/");
        assert_eq!(
            join("/api/v2", "/api/v2/user/webhooks"),
            "/api/v2/user/webhooks"
        );
        assert_eq!(join("/api/v2", "/pins"), "/api/v2/pins");
        assert_eq!(join("", "/api/v2/pins"), "/api/v2/pins");
        assert_eq!(join("/api/v2", "/"), "/api/v2");
        assert_eq!(join("/api", "/apis/x"), "/api/apis/x");
    }
}
