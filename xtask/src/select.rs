//! Selecting the operations served by the configured host and rebasing their
//! paths onto the bare host, so `/pins` under `https://plex.tv/api/v2`
//! becomes `/api/v2/pins` under `https://plex.tv`.

use serde_json::{json, Map, Value};
use url::Url;

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Keeps the operations on `host`, rebased; returns the skipped ones as
/// `METHOD /path (servers)` lines for the report. A document that is not an
/// object (which `shape::check` refuses) is left as it is.
pub fn select(doc: &mut Value, host: &str) -> Vec<String> {
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
            let Some(prefix) = base_path(servers, host) else {
                skipped.push(format!("{line} (served by {})", server_urls(servers)));
                continue;
            };
            let mut op = op.clone();
            op.remove("servers");
            push_down_parameters(&mut op, &shared_parameters);
            let Some(item) = selected
                .entry(rebase(&prefix, &path))
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
            else {
                continue;
            };
            if item.contains_key(method) {
                skipped.push(format!(
                    "{line} (another operation has the same rebased path)"
                ));
            } else {
                item.insert(method.into(), Value::Object(op));
            }
        }
    }
    root.insert("paths".into(), Value::Object(selected));
    root.insert(
        "servers".into(),
        json!([{ "url": format!("https://{host}") }]),
    );
    skipped
}

/// The path part of the first server on `host`, without a trailing slash.
fn base_path(servers: &Value, host: &str) -> Option<String> {
    servers.as_array()?.iter().find_map(|server| {
        let url = Url::parse(&expand_variables(server)).ok()?;
        (url.host_str() == Some(host)).then(|| url.path().trim_end_matches('/').to_owned())
    })
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

fn rebase(prefix: &str, path: &str) -> String {
    if path == "/" && !prefix.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}{path}")
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
