//! A bounded XML reader: bytes to a small element tree, or a typed reason
//! why not. quick-xml does the parsing; this adds the limits an answer
//! from the network needs.
//!
//! Nothing from a DTD is honoured: a `<!DOCTYPE>` is refused outright, so
//! no entity can be declared, let alone expanded (no external entities, no
//! "billion laughs"). Only the five predefined entities and character
//! references are resolved.

use quick_xml::{
    escape::resolve_predefined_entity,
    events::{BytesStart, Event},
    Reader, XmlVersion,
};

/// How deep elements may nest; plex.tv's answers need 3.
pub(crate) const MAX_DEPTH: usize = 32;

/// The longest attribute value or text, in bytes (plex.tv's longest are
/// filter strings and URLs, far shorter).
pub(crate) const MAX_VALUE: usize = 64 * 1024;

/// The most attributes on one element.
pub(crate) const MAX_ATTRIBUTES: usize = 256;

/// One element: its name, attributes in order, child elements and text.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

/// Why a body is not XML this reader accepts, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError {
    /// Where: `MediaContainer/User[2]@id`, or `(document)`.
    pub(crate) path: String,
    pub(crate) message: String,
}

impl XmlError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        XmlError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Reads the one root element of `body`.
pub(crate) fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        XmlError::new(
            "(document)",
            format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            XmlError::new(
                path_of(&open),
                format!("malformed at byte {}: {e}", reader.error_position()),
            )
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(XmlError::new("(document)", "more than one root element"));
            }
            Event::Start(start) => {
                if open.len() >= MAX_DEPTH {
                    return Err(XmlError::new(
                        path_of(&open),
                        format!("elements nest deeper than {MAX_DEPTH}"),
                    ));
                }
                open.push(element(&start, &open)?);
            }
            Event::Empty(start) => {
                if open.len() >= MAX_DEPTH {
                    return Err(XmlError::new(
                        path_of(&open),
                        format!("elements nest deeper than {MAX_DEPTH}"),
                    ));
                }
                let done = element(&start, &open)?;
                close(&mut open, &mut root, done);
            }
            Event::End(_) => {
                let done = open
                    .pop()
                    .ok_or_else(|| XmlError::new("(document)", "an end tag without a start"))?;
                close(&mut open, &mut root, done);
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                add_text(&mut open, &content)?;
            }
            Event::CData(data) => {
                let content = data.xml10_content().into_owned();
                add_text(&mut open, &content)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&reference)
                        .ok_or_else(|| {
                            XmlError::new(
                                path_of(&open),
                                format!("unknown entity &{};", &*reference),
                            )
                        })?
                        .to_owned(),
                    Err(e) => return Err(XmlError::new(path_of(&open), e.to_string())),
                };
                add_text(&mut open, &resolved)?;
            }
            Event::DocType(_) => {
                return Err(XmlError::new(
                    "(document)",
                    "a DOCTYPE is not accepted (entities are never expanded)",
                ))
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(XmlError::new(
            path_of(&open),
            "the document ends inside an element",
        ));
    }
    root.ok_or_else(|| XmlError::new("(document)", "no root element"))
}

fn close(open: &mut [Element], root: &mut Option<Element>, done: Element) {
    match open.last_mut() {
        Some(parent) => parent.children.push(done),
        None => *root = Some(done),
    }
}

fn add_text(open: &mut [Element], content: &str) -> Result<(), XmlError> {
    let path = path_of(open);
    let Some(current) = open.last_mut() else {
        // Text outside the root: only whitespace is allowed there.
        return if content.trim().is_empty() {
            Ok(())
        } else {
            Err(XmlError::new("(document)", "text outside the root element"))
        };
    };
    if current.text.len() + content.len() > MAX_VALUE {
        return Err(XmlError::new(
            path,
            format!("text longer than {MAX_VALUE} bytes"),
        ));
    }
    current.text.push_str(content);
    Ok(())
}

fn element(start: &BytesStart<'_>, open: &[Element]) -> Result<Element, XmlError> {
    let name = start.name().as_ref().to_owned();
    let here = || format!("{}{name}", prefix(open));
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlError::new(here(), e.to_string()))?;
        let key = attribute.key.as_ref().to_owned();
        if attribute.value.len() > MAX_VALUE {
            return Err(XmlError::new(
                format!("{}@{key}", here()),
                format!("attribute longer than {MAX_VALUE} bytes"),
            ));
        }
        if attributes.len() >= MAX_ATTRIBUTES {
            return Err(XmlError::new(
                here(),
                format!("more than {MAX_ATTRIBUTES} attributes"),
            ));
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::new(format!("{}@{key}", here()), e.to_string()))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn prefix(open: &[Element]) -> String {
    open.iter().map(|e| format!("{}/", e.name)).collect()
}

fn path_of(open: &[Element]) -> String {
    if open.is_empty() {
        return "(document)".into();
    }
    let path = prefix(open);
    path.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_attributes_children_and_text() {
        let root = parse(
            b"<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\"><b y=\"&#65;\"/><c>hi &lt;there&gt;</c></a>",
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attributes, [("x".to_owned(), "1 & 2".to_owned())]);
        assert_eq!(root.children[0].attributes[0].1, "A");
        assert_eq!(root.children[1].text, "hi <there>");
    }

    #[test]
    fn refuses_what_an_answer_must_not_contain() {
        let doctype = b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"yyyy\">]><a>&x;</a>";
        assert!(parse(doctype).unwrap_err().message.contains("DOCTYPE"));
        assert!(parse(b"<a>&x;</a>").unwrap_err().message.contains("&x;"));
        assert!(parse(b"<a x=\"&x;\"/>").is_err());
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a/><b/>").is_err());
        assert!(parse(b"<a>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a>\xff</a>").unwrap_err().message.contains("UTF-8"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes())
            .unwrap_err()
            .message
            .contains("deeper"));
        let ok_depth = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(ok_depth.as_bytes()).is_ok());
        let huge = format!("<a x=\"{}\"/>", "y".repeat(MAX_VALUE + 1));
        assert!(parse(huge.as_bytes())
            .unwrap_err()
            .message
            .contains("attribute longer"));
        let many: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"\""))
            .collect();
        assert!(parse(format!("<a{many}/>").as_bytes()).is_err());
    }
}
