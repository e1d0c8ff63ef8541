//! Text that a server sent, made safe to show in an [`Error`](crate::Error).
//!
//! Every piece of response-derived text that ends up in an error (plex.tv's
//! error messages, decode messages, JSON paths, body excerpts, JWT key ids)
//! goes through [`server_text`], so that no error variant can forget a step:
//!
//! 1. values under secret-looking keys are blanked (`authToken=...`);
//! 2. control characters (ESC, BEL, CR, LF, the rest of C0 and C1) and
//!    bidirectional overrides are replaced, so that a server cannot write
//!    terminal escape sequences, forge log lines or reorder text;
//! 3. every secret is removed, whether written bare or through escapes that
//!    a reader (or a log viewer) would decode: JSON (`\u0074`), Rust
//!    (`\u{74}`, `\x74`), percent (`%74`) and HTML (`&#116;`) escapes, mixed
//!    and nested up to three layers deep;
//! 4. the length is bounded ([`PIECE_CHARS`], [`PIECE_BYTES`]).
//!
//! The steps are idempotent: text that went through once (in the transport,
//! where the request's own token is known) comes out of a second pass (in
//! [`Error`](crate::Error)'s constructors) unchanged.

use std::fmt;

use zeroize::Zeroize;

use crate::redact;

/// The most characters of one piece of server text.
pub(crate) const PIECE_CHARS: usize = 200;

/// The most bytes of one piece of server text (non-ASCII text reaches it
/// before [`PIECE_CHARS`]), so that an error with three pieces stays within
/// [`DISPLAY_BYTES`].
pub(crate) const PIECE_BYTES: usize = 300;

/// The most bytes of any error's `Display`.
pub(crate) const DISPLAY_BYTES: usize = 1024;

/// How much of a text is examined. Only the first [`PIECE_BYTES`] are shown,
/// but a secret starting there may be spelled with escapes much longer than
/// itself; this leaves room for tokens of a few thousand characters.
const SCANNED_BYTES: usize = 32 * 1024;

/// How many layers of escapes are decoded when looking for secrets
/// (`%2574` is `%74` is `t`).
const ESCAPE_LAYERS: usize = 3;

const REDACTED: &str = "<redacted>";

/// The secrets to remove from server text, as characters grouped by their
/// first one: a process may hold thousands of tokens, and only those
/// starting with the character at hand need comparing. Built once per
/// error, used for each of its pieces; wiped on drop, never shown by
/// `Debug`.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    by_first: Vec<(char, Vec<Vec<char>>)>,
}

impl Secrets {
    /// Every token that this process sends and still holds
    /// ([`crate::token::live_tokens`]): what an error whose request is no
    /// longer known must remove.
    pub(crate) fn known() -> Secrets {
        crate::token::live_tokens()
            .iter()
            .fold(Secrets::default(), |secrets, token| {
                secrets.and(token.expose_secret().as_bytes())
            })
    }

    /// These secrets and `value` (ignored when empty or not text).
    pub(crate) fn and(mut self, value: &[u8]) -> Secrets {
        let Ok(text) = std::str::from_utf8(value) else {
            return self;
        };
        let needle: Vec<char> = text.chars().collect();
        let Some(&first) = needle.first() else {
            return self;
        };
        match self.by_first.binary_search_by_key(&first, |(c, _)| *c) {
            Ok(at) if self.by_first[at].1.contains(&needle) => {}
            Ok(at) => self.by_first[at].1.push(needle),
            Err(at) => self.by_first.insert(at, (first, vec![needle])),
        }
        self
    }

    fn is_empty(&self) -> bool {
        self.by_first.is_empty()
    }

    fn starting_with(&self, first: char) -> &[Vec<char>] {
        match self.by_first.binary_search_by_key(&first, |(c, _)| *c) {
            Ok(at) => &self.by_first[at].1,
            Err(_) => &[],
        }
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        for (_, needles) in &mut self.by_first {
            needles.iter_mut().for_each(|needle| needle.zeroize());
        }
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count: usize = self.by_first.iter().map(|(_, n)| n.len()).sum();
        write!(f, "Secrets({count} redacted)")
    }
}

/// `text`, from a server, made safe to show: see the module documentation.
pub(crate) fn server_text(text: &str, secrets: &Secrets) -> String {
    let scanned = &text[..floor_char_boundary(text, SCANNED_BYTES)];
    let keyed = redact::redact_text(scanned);
    let visible: String = keyed.chars().map(visible).collect();
    let scrubbed = scrub(&visible, secrets);
    bound(&scrubbed, PIECE_CHARS, PIECE_BYTES)
}

/// A whole text built from pieces that went through [`server_text`] (an
/// error's `Display`, say), bounded to [`DISPLAY_BYTES`] and cleaned again:
/// for texts that travel on, like [`crate::pin::PinEvent::Retrying`]'s reason.
pub(crate) fn display_text(text: &str, secrets: &Secrets) -> String {
    let scanned = &text[..floor_char_boundary(text, SCANNED_BYTES)];
    let visible: String = scanned.chars().map(visible).collect();
    let scrubbed = scrub(&visible, secrets);
    bound(&scrubbed, usize::MAX, DISPLAY_BYTES - '…'.len_utf8())
}

/// Replaces a character that could control a terminal, a log or the
/// direction of text. Line breaks and tabs become spaces (still readable);
/// the rest become U+FFFD.
fn visible(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => ' ',
        c if c.is_control() || is_invisible_format(c) => '\u{FFFD}',
        c => c,
    }
}

/// Bidirectional embeddings, overrides, isolates and marks, and the line and
/// paragraph separators: invisible characters that change how text reads.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The start of `text`, at most `max_chars` characters and `max_bytes`
/// bytes, followed by `…` when something was cut.
fn bound(text: &str, max_chars: usize, max_bytes: usize) -> String {
    let by_chars = text
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(at, _)| at);
    let cut = floor_char_boundary(text, by_chars.min(max_bytes));
    if cut == text.len() {
        text.to_owned()
    } else {
        format!("{}…", &text[..cut])
    }
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// One character of a text as a reader decodes it, and the bytes of the
/// original text that spell it.
#[derive(Clone, Copy)]
struct Unit {
    ch: char,
    start: usize,
    end: usize,
}

/// Replaces every span of `text` that spells one of `secrets`, in any
/// layer of escapes, with `<redacted>`.
fn scrub(text: &str, secrets: &Secrets) -> String {
    if secrets.is_empty() {
        return text.to_owned();
    }
    let mut layer: Vec<Unit> = text
        .char_indices()
        .map(|(start, ch)| Unit {
            ch,
            start,
            end: start + ch.len_utf8(),
        })
        .collect();
    let mut spans = Vec::new();
    for _ in 0..ESCAPE_LAYERS {
        find_spans(&layer, secrets, &mut spans);
        let next = decode_layer(&layer);
        if next.len() == layer.len() {
            break;
        }
        layer = next;
    }
    if spans.is_empty() {
        return text.to_owned();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut written = 0;
    let mut covered = 0;
    for (start, end) in spans {
        if end <= covered {
            continue;
        }
        if start >= covered {
            out.push_str(&text[written..start]);
            out.push_str(REDACTED);
        }
        written = end;
        covered = end;
    }
    out.push_str(&text[written..]);
    out
}

/// Adds the byte spans where `layer` spells a secret.
fn find_spans(layer: &[Unit], secrets: &Secrets, spans: &mut Vec<(usize, usize)>) {
    for i in 0..layer.len() {
        for needle in secrets.starting_with(layer[i].ch) {
            let Some(window) = layer.get(i..i + needle.len()) else {
                continue;
            };
            if window.iter().zip(needle).all(|(unit, ch)| unit.ch == *ch) {
                spans.push((window[0].start, window[window.len() - 1].end));
            }
        }
    }
}

/// `layer` with one layer of escapes decoded; each unit of the result spans
/// the bytes of all the units it was written with.
fn decode_layer(layer: &[Unit]) -> Vec<Unit> {
    let mut out = Vec::with_capacity(layer.len());
    let mut i = 0;
    while i < layer.len() {
        let (ch, used) = escape_at(layer, i).unwrap_or((layer[i].ch, 1));
        out.push(Unit {
            ch,
            start: layer[i].start,
            end: layer[i + used - 1].end,
        });
        i += used;
    }
    out
}

/// The character an escape starting at `i` stands for, and how many units
/// it takes.
fn escape_at(layer: &[Unit], i: usize) -> Option<(char, usize)> {
    let at = |k: usize| layer.get(i + k).map(|unit| unit.ch);
    let code = |value: u32| char::from_u32(value).unwrap_or('\u{FFFD}');
    match layer[i].ch {
        '\\' => match at(1)? {
            'u' if at(2) == Some('{') => {
                let (value, digits) = hex_run(layer, i + 3, 6);
                (digits > 0 && at(3 + digits) == Some('}')).then(|| (code(value), digits + 4))
            }
            'u' => hex_exact(layer, i + 2, 4).map(|value| (code(value), 6)),
            'x' => hex_exact(layer, i + 2, 2).map(|value| (code(value), 4)),
            'n' => Some(('\n', 2)),
            'r' => Some(('\r', 2)),
            't' => Some(('\t', 2)),
            'b' => Some(('\u{8}', 2)),
            'f' => Some(('\u{c}', 2)),
            '0' => Some(('\0', 2)),
            c @ ('"' | '\\' | '/' | '\'') => Some((c, 2)),
            _ => None,
        },
        '%' => hex_exact(layer, i + 1, 2).map(|value| (code(value), 3)),
        '&' => html_entity(layer, i),
        _ => None,
    }
}

/// `&#116;`, `&#x74;` and the five named entities of XML.
fn html_entity(layer: &[Unit], i: usize) -> Option<(char, usize)> {
    let end = (i + 1..layer.len().min(i + 12)).find(|&k| layer[k].ch == ';')?;
    let name: String = layer[i + 1..end].iter().map(|unit| unit.ch).collect();
    let ch = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
    } else if let Some(decimal) = name.strip_prefix('#') {
        char::from_u32(decimal.parse().ok()?)?
    } else {
        match name.as_str() {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => return None,
        }
    };
    Some((ch, end + 1 - i))
}

/// Exactly `count` hex digits starting at `start`.
fn hex_exact(layer: &[Unit], start: usize, count: usize) -> Option<u32> {
    let (value, digits) = hex_run(layer, start, count);
    (digits == count).then_some(value)
}

/// Up to `max` hex digits starting at `start`: their value and count.
fn hex_run(layer: &[Unit], start: usize, max: usize) -> (u32, usize) {
    let mut value = 0u32;
    let mut digits = 0;
    while digits < max {
        let Some(digit) = layer.get(start + digits).and_then(|u| u.ch.to_digit(16)) else {
            break;
        };
        value = value * 16 + digit;
        digits += 1;
    }
    (value, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok-SECRET-abc123";

    fn secrets() -> Secrets {
        Secrets::default().and(TOKEN.as_bytes())
    }

    fn clean(text: &str) -> String {
        server_text(text, &secrets())
    }

    #[test]
    fn bare_tokens_are_removed() {
        assert_eq!(
            clean(&format!("upstream {TOKEN} failed, {TOKEN}!")),
            "upstream <redacted> failed, <redacted>!"
        );
    }

    #[test]
    fn tokens_spelled_with_escapes_are_removed() {
        let spelled: Vec<String> = vec![
            // JSON, every character escaped, and only some.
            TOKEN
                .chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect(),
            format!("\\u0074ok-SEC\\u0052ET-abc12\\u0033"),
            // Rust escapes, as in `Debug` output.
            format!("\\u{{74}}\\x6fk-SECRET-abc123"),
            // Percent-encoded, upper and lower case.
            TOKEN.bytes().map(|b| format!("%{b:02X}")).collect(),
            format!("%74ok-SECRET-abc%31%32%33"),
            // HTML entities.
            format!("&#116;&#x6F;k-SECRET-abc123"),
            // Nested: a percent sign written as a JSON escape.
            format!("\\u002574ok-SECRET-abc123"),
        ];
        for text in spelled {
            let shown = clean(&format!("a {text} b"));
            assert!(shown.starts_with("a <redacted>"), "{text} -> {shown}");
            assert!(shown.ends_with(" b"), "{text} -> {shown}");
        }
    }

    #[test]
    fn text_around_a_removed_token_is_kept() {
        assert_eq!(
            clean("no secret here: %41 \\u0041"),
            "no secret here: %41 \\u0041"
        );
        assert_eq!(clean(""), "");
    }

    #[test]
    fn values_under_secret_keys_are_removed() {
        assert_eq!(
            clean("bad authToken=abc999 and \"password\":\"hunter2\""),
            "bad authToken=<redacted> and \"password\":\"<redacted>\""
        );
    }

    #[test]
    fn control_and_bidi_characters_are_replaced() {
        let shown = clean("a\u{1b}[31mred\u{7}\r\nforged\u{0}\u{9b}x\u{202e}cba\u{2066}");
        assert_eq!(
            shown,
            "a\u{FFFD}[31mred\u{FFFD}  forged\u{FFFD}\u{FFFD}x\u{FFFD}cba\u{FFFD}"
        );
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn a_control_character_cannot_join_a_token() {
        // Whatever replaces the control character, the token does not form.
        let shown = clean("tok-SECRET-\u{1b}abc123");
        assert!(!shown.contains(TOKEN), "{shown}");
    }

    #[test]
    fn pieces_are_bounded_in_characters_and_bytes() {
        let long = clean(&"x".repeat(1_000_000));
        assert_eq!(long.chars().count(), PIECE_CHARS + 1);
        assert!(long.ends_with('…'));
        let wide = clean(&"é".repeat(1_000));
        assert!(wide.len() <= PIECE_BYTES + 3, "{}", wide.len());
        assert_eq!(clean(&"y".repeat(PIECE_CHARS)), "y".repeat(PIECE_CHARS));
    }

    #[test]
    fn a_token_cut_by_the_bound_is_removed_whole() {
        let text = format!("{}{TOKEN}", "x".repeat(PIECE_CHARS - 5));
        let shown = clean(&text);
        assert!(!shown.contains("tok-S"), "{shown}");
    }

    #[test]
    fn cleaning_twice_changes_nothing() {
        for text in [
            format!("{TOKEN} \u{1b} authToken=abc {}", "z".repeat(400)),
            "é".repeat(500),
            "plain".to_owned(),
        ] {
            let once = clean(&text);
            assert_eq!(clean(&once), once);
        }
    }

    #[test]
    fn display_texts_are_bounded_and_cleaned() {
        let shown = display_text(&format!("{TOKEN}\n{}", "w".repeat(5000)), &secrets());
        assert!(shown.len() <= DISPLAY_BYTES, "{}", shown.len());
        assert!(shown.starts_with("<redacted> www"), "{shown}");
    }

    #[test]
    fn secrets_do_not_show_themselves() {
        assert_eq!(format!("{:?}", secrets()), "Secrets(1 redacted)");
    }
}
