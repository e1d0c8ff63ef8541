//! What the spec says about each XML answer, as build.rs writes it from
//! `openapi/plex-tv.json`: for every operation marked `x-plex-xml`, the
//! root element and, for every schema reachable from its success body,
//! which attributes are integers, numbers or booleans and which child
//! elements repeat. Property names are the XML names.

/// How an attribute's text becomes JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Digits (Unix seconds, ids, counts).
    Integer,
    /// A decimal number.
    #[allow(dead_code)] // no XML schema has a number yet
    Number,
    /// `0`/`1` (or `false`/`true`).
    Boolean,
    /// Kept as it is.
    String,
}

/// One schema an element decodes into.
#[derive(Debug)]
pub(crate) struct XmlSchema {
    /// The component schema's name, for error messages.
    #[allow(dead_code)]
    pub(crate) name: &'static str,
    /// Attribute name and kind; attributes not listed stay strings.
    pub(crate) attributes: &'static [(&'static str, Kind)],
    /// Child element name, its schema's index in [`XML_SCHEMAS`], and
    /// whether it repeats (a JSON array) or not (one object).
    pub(crate) children: &'static [(&'static str, usize, bool)],
}

/// An operation whose success body is XML.
#[derive(Debug)]
pub(crate) struct XmlOperation {
    /// The generated method's name (what the hooks see).
    pub(crate) name: &'static str,
    /// The root element plex.tv answers with.
    pub(crate) root: &'static str,
    /// The root's schema, an index in [`XML_SCHEMAS`].
    pub(crate) schema: usize,
}

include!(concat!(env!("OUT_DIR"), "/plex_tv_xml.rs"));

/// The XML answer of operation `name` (a generated method name), if it has one.
pub(crate) fn operation(name: &str) -> Option<&'static XmlOperation> {
    XML_OPERATIONS
        .binary_search_by(|operation| operation.name.cmp(name))
        .ok()
        .map(|index| &XML_OPERATIONS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_every_index_resolves() {
        assert!(XML_OPERATIONS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(XML_OPERATIONS
            .iter()
            .all(|op| op.schema < XML_SCHEMAS.len() && operation(op.name).is_some()));
        assert!(XML_SCHEMAS
            .iter()
            .flat_map(|schema| schema.children)
            .all(|(_, index, _)| *index < XML_SCHEMAS.len()));
    }

    #[test]
    fn the_users_list_knows_its_kinds_from_the_spec() {
        let users = &XML_SCHEMAS[operation("get_users").expect("getUsers is XML").schema];
        assert_eq!(users.name, "UsersV1");
        let (_, user, list) = users.children.iter().find(|c| c.0 == "User").unwrap();
        assert!(*list);
        let user = &XML_SCHEMAS[*user];
        let kind = |name: &str| user.attributes.iter().find(|a| a.0 == name).map(|a| a.1);
        assert_eq!(kind("id"), Some(Kind::Integer));
        assert_eq!(kind("home"), Some(Kind::Boolean));
        assert_eq!(kind("allowTuners"), Some(Kind::Integer));
        assert_eq!(kind("filterMovies"), Some(Kind::String));
        assert!(user.children.iter().any(|c| c.0 == "Server" && c.2));
    }
}
