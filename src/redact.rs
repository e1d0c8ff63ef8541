//! Values under secret keys blanked out of response bodies and texts, and
//! the JSON path of a decode error.
//!
//! Error messages quote the start of a body that could not be decoded, and
//! plex.tv bodies are full of tokens (`authToken`, `accessToken`, ...).
//! What is quoted then goes through [`crate::server_text`], which also
//! removes the request's token and bounds the length.

use serde_json::Value;

const REDACTED: &str = "<redacted>";

/// Whether a JSON key or XML attribute holds a secret.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["token", "secret", "password", "jwt"]
        .iter()
        .any(|word| key.contains(word))
}

/// The start of `body` (at most [`MAX_EXCERPT_BYTES`]), with values under
/// secret keys replaced by `<redacted>`; [`crate::server_text`] then bounds
/// it for display.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    // Parsing a whole 32 MiB body into a `Value` to quote 200 characters
    // would cost hundreds of MiB; past this size the start is scanned as
    // text instead, which redacts just as well.
    let parsed = if body.len() <= MAX_PARSED_BODY {
        serde_json::from_slice::<Value>(body).ok()
    } else {
        None
    };
    let text = match parsed {
        Some(mut json) => {
            redact_json(&mut json);
            json.to_string()
        }
        None => redact_text(&String::from_utf8_lossy(
            &body[..body.len().min(MAX_SCANNED_TEXT)],
        )),
    };
    let mut cut = text.len().min(MAX_EXCERPT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

/// Most bytes of an excerpt: far more than is shown, so that a token
/// spelled with long escapes near the start is still seen whole.
pub(crate) const MAX_EXCERPT_BYTES: usize = 32 * 1024;

/// Largest body parsed as JSON for an excerpt.
const MAX_PARSED_BODY: usize = 1024 * 1024;

/// Most bytes of a non-JSON body scanned for an excerpt.
const MAX_SCANNED_TEXT: usize = 64 * 1024;

/// A decode error's message, with quoted values removed when the path
/// ends at a secret key: serde quotes the offending value (`invalid type:
/// string "abc", expected i64`), which there could be a token.
pub(crate) fn decode_message(path: &str, message: String) -> String {
    let last = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or_default()
        .trim_end_matches(']')
        .trim_matches('"');
    if !is_secret_key(last) {
        return message;
    }
    match (message.find('"'), message.rfind('"')) {
        (Some(start), Some(end)) if end > start => {
            format!("{}\"{REDACTED}\"{}", &message[..start], &message[end + 1..])
        }
        _ => message,
    }
}

fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if is_secret_key(key) && !value.is_null() {
                    *value = Value::String(REDACTED.into());
                } else {
                    redact_json(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        // Plex URLs carry tokens in their query (`...?X-Plex-Token=abc`),
        // under keys like `thumb` that are not secret themselves.
        Value::String(text) if next_secret(text).is_some() => *text = redact_text(text),
        _ => {}
    }
}

/// Blanks the value after every secret-looking key in text that is not
/// JSON: truncated JSON (`"authToken":"abc`), XML (`authToken="abc"`) or
/// form data (`token=abc`), or plain text (`bad authToken=abc`).
pub(crate) fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((key_end, value_start, value_end)) = next_secret(rest) {
        out.push_str(&rest[..value_start]);
        out.push_str(REDACTED);
        let _ = key_end;
        rest = &rest[value_end..];
    }
    out.push_str(rest);
    out
}

/// Finds the next `key<sep>value` whose key is secret; returns byte offsets
/// of the key's end and of the value's start and end.
fn next_secret(text: &str) -> Option<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut i = 0;
    while i < bytes.len() {
        if !is_word(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        if !is_secret_key(&text[start..i]) {
            continue;
        }
        let key_end = i;
        let mut j = i;
        // Closing quote of the key, then `:` or `=`, then an opening quote.
        // A backslash belongs to JSON quoted inside a string (`\"token\":\"abc\"`).
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b':' | b'=' | b'\\') {
            j += 1;
        }
        if j == key_end || !bytes[key_end..j].iter().any(|b| matches!(b, b':' | b'=')) {
            continue;
        }
        let value_end = (j..bytes.len())
            .find(|&k| {
                matches!(
                    bytes[k],
                    b'"' | b'\'' | b'&' | b'<' | b'>' | b',' | b'}' | b' ' | b'\n' | b'\r' | b'\\'
                )
            })
            .unwrap_or(bytes.len());
        if value_end > j {
            return Some((key_end, j, value_end));
        }
        i = j;
    }
    None
}

/// The JSONPath-like location (`$.services[2].status`) of the byte at
/// `offset` in `body`, found by tracking objects and arrays up to it.
pub(crate) fn json_path_at(body: &[u8], offset: usize) -> String {
    enum Frame {
        Object {
            key: Option<String>,
            expecting_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    let end = offset.min(body.len());
    while i < end {
        match body[i] {
            b'{' => stack.push(Frame::Object {
                key: None,
                expecting_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key, expecting_key }) => {
                    // Between members: the previous key no longer applies.
                    *key = None;
                    *expecting_key = true;
                }
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = false;
                }
            }
            b'"' => {
                let close = string_end(body, i);
                if let Some(Frame::Object {
                    key,
                    expecting_key: true,
                }) = stack.last_mut()
                {
                    let raw = &body[i..(close + 1).min(body.len())];
                    *key = Some(
                        serde_json::from_slice(raw)
                            .unwrap_or_else(|_| String::from_utf8_lossy(raw).into()),
                    );
                }
                i = close;
            }
            _ => {}
        }
        i += 1;
    }
    let segments: Vec<String> = stack
        .iter()
        .filter_map(|frame| match frame {
            Frame::Object { key: Some(key), .. } => Some(key_segment(key)),
            Frame::Object { key: None, .. } => None,
            Frame::Array { index } => Some(format!("[{index}]")),
        })
        .collect();
    // A hostile body nests 100k levels deep (serde skips unknown values
    // without a depth limit), which would make a path of hundreds of KiB:
    // keep both ends of a deep path.
    let mut path = String::from("$");
    if segments.len() > 2 * PATH_ENDS {
        let hidden = segments.len() - 2 * PATH_ENDS;
        path.extend(segments[..PATH_ENDS].iter().map(String::as_str));
        path.push_str(&format!("…({hidden} more)…"));
        path.extend(segments[hidden + PATH_ENDS..].iter().map(String::as_str));
    } else {
        path.extend(segments.iter().map(String::as_str));
    }
    path
}

/// How many segments are kept at each end of a deep path.
const PATH_ENDS: usize = 8;

/// Longest key quoted in a path, in characters: long enough that a token
/// used as a key is still whole when [`crate::server_text`] removes it.
const MAX_KEY_CHARS: usize = 4096;

fn key_segment(key: &str) -> String {
    if !key.is_empty()
        && key.len() <= MAX_KEY_CHARS
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        format!(".{key}")
    } else {
        let key = match key.char_indices().nth(MAX_KEY_CHARS) {
            Some((cut, _)) => format!("{}…", &key[..cut]),
            None => key.to_owned(),
        };
        format!("[{}]", Value::String(key))
    }
}

/// Index of the quote that closes the string opening at `start`, or the
/// last index when the string never closes.
fn string_end(body: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    body.len().saturating_sub(1)
}

/// The byte offset of serde_json's 1-based `line` and `column`.
pub(crate) fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(body.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_excerpts_hide_secret_values() {
        let body = br#"{"user":{"authToken":"abc123","name":"x","services":[{"token":"t0k"}]}}"#;
        let text = excerpt(body);
        assert!(!text.contains("abc123") && !text.contains("t0k"), "{text}");
        assert!(text.contains("\"name\":\"x\""));
    }

    #[test]
    fn text_excerpts_hide_secret_values() {
        for body in [
            &br#"{"authToken":"abc123","id":1"#[..],
            br#"<user authToken="abc123" id="1"/>"#,
            b"token=abc123&x=1",
        ] {
            let text = excerpt(body);
            assert!(!text.contains("abc123"), "{text}");
            assert!(text.contains(REDACTED), "{text}");
        }
    }

    #[test]
    fn tokens_inside_json_string_values_are_hidden() {
        let body = br#"{"thumb":"https://x/photo?X-Plex-Token=abc123&w=1","n":"token=t0k"}"#;
        let text = excerpt(body);
        assert!(!text.contains("abc123") && !text.contains("t0k"), "{text}");
        assert!(text.contains("w=1"), "{text}");
    }

    #[test]
    fn escaped_json_inside_text_loses_its_secrets() {
        let text = redact_text(r#"{"message":"{\"authToken\":\"abc123\",\"id\":1}"}"#);
        assert!(!text.contains("abc123"), "{text}");
    }

    #[test]
    fn decode_messages_at_secret_keys_lose_their_values() {
        let message = r#"invalid type: string "abc123", expected i64"#.to_owned();
        assert_eq!(
            decode_message("$.user.authToken", message.clone()),
            r#"invalid type: string "<redacted>", expected i64"#
        );
        assert_eq!(decode_message("$.id", message.clone()), message);
        assert!(!decode_message("$[\"my token\"]", message).contains("abc123"));
    }

    #[test]
    fn excerpts_of_huge_json_are_scanned_not_parsed() {
        let mut body = br#"{"authToken":"abc123","pad":""#.to_vec();
        body.extend(std::iter::repeat_n(b'x', 2 * MAX_PARSED_BODY));
        body.extend_from_slice(br#""}"#);
        let text = excerpt(&body);
        assert!(
            !text.contains("abc123") && text.contains(REDACTED),
            "{text}"
        );
    }

    #[test]
    fn excerpts_are_bounded_and_survive_invalid_utf8() {
        assert!(excerpt(&[b'a'; 100_000]).len() <= MAX_EXCERPT_BYTES);
        assert!(excerpt(&[0xff, 0xfe, b'x']).contains('x'));
        assert_eq!(excerpt(b""), "(empty body)");
    }

    #[test]
    fn paths_point_into_objects_and_arrays() {
        let body = br#"{"a":{"list":[1,{"b":"x"}]},"c":2}"#;
        let at = |needle: &str| {
            let pos = String::from_utf8_lossy(body).find(needle).unwrap();
            json_path_at(body, pos + needle.len())
        };
        assert_eq!(at(r#""x""#), "$.a.list[1].b");
        assert_eq!(at("[1"), "$.a.list[0]");
        assert_eq!(at(r#""c":2"#), "$.c");
        // Right after a comma no member is current yet.
        assert_eq!(json_path_at(br#"{"a":1,"#, 7), "$");
    }

    #[test]
    fn deep_paths_and_long_keys_are_bounded() {
        let body = r#"{"a":"#.repeat(100_000);
        let path = json_path_at(body.as_bytes(), body.len());
        assert!(path.len() < 100, "{path}");
        assert!(
            path.starts_with("$.a.a") && path.ends_with(".a.a"),
            "{path}"
        );
        assert!(path.contains("(99984 more)"), "{path}");
        let body = format!(r#"{{"{}":1"#, "k".repeat(100_000));
        assert!(json_path_at(body.as_bytes(), body.len()).len() < MAX_KEY_CHARS + 10);
    }

    #[test]
    fn offsets_follow_lines() {
        let body = b"{\n  \"a\": 1\n}";
        assert_eq!(offset_of(body, 2, 3), 4);
        assert_eq!(offset_of(body, 1, 1), 0);
        assert_eq!(offset_of(body, 99, 99), body.len());
    }
}
