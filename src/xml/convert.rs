//! From an element tree to the JSON the generated decoder expects: guided
//! by the spec's table for answers, fixed shapes for error envelopes.

use serde_json::{json, Map, Number, Value};

use super::{
    schema::{Kind, XmlSchema, XML_SCHEMAS},
    tree::{Element, XmlError},
};

/// The JSON of `element` read as `schema`: listed attributes typed by
/// kind, others as strings; listed children as objects or arrays; other
/// children and text dropped (the generated type has no place for them).
pub(crate) fn answer(element: &Element, schema: &XmlSchema, path: &str) -> Result<Value, XmlError> {
    let mut object = Map::new();
    for (name, text) in &element.attributes {
        let kind = schema
            .attributes
            .iter()
            .find(|(attribute, _)| attribute == name)
            .map_or(Kind::String, |(_, kind)| *kind);
        let value = typed(text, kind).ok_or_else(|| {
            XmlError::new(
                format!("{path}@{name}"),
                format!("expected {} but found {text:?}", kind_name(kind)),
            )
        })?;
        object.insert(name.clone(), value);
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for child in &element.children {
        let Some((name, index, list)) = schema.children.iter().find(|(n, ..)| *n == child.name)
        else {
            continue;
        };
        let nth = match counts.iter_mut().find(|(n, _)| n == name) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                counts.push((name, 1));
                1
            }
        };
        let value = answer(
            child,
            &XML_SCHEMAS[*index],
            &format!("{path}/{name}[{nth}]"),
        )?;
        if *list {
            object
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
                .expect("only arrays are inserted under a list's name")
                .push(value);
        } else {
            // One expected, more sent: the first is kept.
            object.entry(name.to_string()).or_insert(value);
        }
    }
    Ok(Value::Object(object))
}

/// The attribute's value as its kind says, `null` for an empty one, or
/// `None` when it does not fit.
fn typed(text: &str, kind: Kind) -> Option<Value> {
    let trimmed = text.trim();
    if trimmed.is_empty() && kind != Kind::String {
        return Some(Value::Null);
    }
    match kind {
        Kind::String => Some(Value::String(text.to_owned())),
        Kind::Integer => trimmed.parse::<i64>().ok().map(Value::from),
        Kind::Number => trimmed
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
        Kind::Boolean => match trimmed {
            "1" | "true" => Some(Value::Bool(true)),
            "0" | "false" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "an integer",
        Kind::Number => "a number",
        Kind::Boolean => "0 or 1",
        Kind::String => "text",
    }
}

/// plex.tv's JSON error body (`{"errors":[{code, message, status}]}`) for
/// one of its XML error envelopes, or `None` for any other XML:
///
/// - `<errors><error code="1003" message="…" status="429"/></errors>` (v2);
/// - `<errors><error>Invalid token</error></errors>` (Rails style, v1);
/// - `<Response code="410" status="This endpoint was deprecated and removed"/>`
///   (legacy v1), whose `code` is the HTTP status and `status` the message.
pub(crate) fn envelope(root: &Element, http_status: u16) -> Option<Value> {
    let attribute = |element: &Element, name: &str| {
        element
            .attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let integer = |text: Option<String>| text.and_then(|t| t.trim().parse::<i64>().ok());
    let errors: Vec<Value> = match root.name.as_str() {
        "errors" => root
            .children
            .iter()
            .filter(|child| child.name == "error")
            .map(|error| {
                let message = attribute(error, "message")
                    .or_else(|| Some(error.text.trim().to_owned()).filter(|t| !t.is_empty()));
                json!({
                    "code": integer(attribute(error, "code")),
                    "message": message,
                    "status": integer(attribute(error, "status")).unwrap_or(i64::from(http_status)),
                })
            })
            .collect(),
        "Response" => vec![json!({
            "code": Value::Null,
            "message": attribute(root, "status"),
            "status": integer(attribute(root, "code")).unwrap_or(i64::from(http_status)),
        })],
        _ => return None,
    };
    (!errors.is_empty()).then(|| json!({ "errors": errors }))
}

#[cfg(test)]
mod tests {
    use super::super::{schema, tree::parse};
    use super::*;

    fn users(xml: &str) -> Result<Value, XmlError> {
        let op = schema::operation("get_users").unwrap();
        answer(
            &parse(xml.as_bytes()).unwrap(),
            &XML_SCHEMAS[op.schema],
            "MediaContainer",
        )
    }

    #[test]
    fn kinds_lists_and_unknowns() {
        let value = users(
            r#"<MediaContainer size="2" extra="x"><User id="1" home="1" allowTuners="2" title="007" filterMovies="">
                 <Server id="9" lastSeenAt="1700000000" owned="0"/><Server id="10"/><Unknown a="b"/></User>
               <User id="2" protected="true"/></MediaContainer>"#,
        )
        .unwrap();
        assert_eq!(value["size"], 2);
        assert_eq!(value["extra"], "x");
        let user = &value["User"][0];
        assert_eq!(
            (user["id"].clone(), user["home"].clone()),
            (json!(1), json!(true))
        );
        assert_eq!(user["allowTuners"], 2);
        assert_eq!(user["title"], "007", "strings stay strings");
        assert_eq!(user["filterMovies"], "");
        assert_eq!(user["Server"][0]["lastSeenAt"], 1_700_000_000);
        assert_eq!(user["Server"][0]["owned"], false);
        assert_eq!(user["Server"].as_array().unwrap().len(), 2);
        assert!(user.get("Unknown").is_none());
        assert_eq!(value["User"][1]["protected"], true);
    }

    #[test]
    fn a_value_that_does_not_fit_says_where() {
        let error =
            users(r#"<MediaContainer><User id="1"/><User id="x"/></MediaContainer>"#).unwrap_err();
        assert_eq!(error.path, "MediaContainer/User[2]@id");
        assert!(error.message.contains("integer"), "{error:?}");
        assert!(users(r#"<MediaContainer><User id="1" home="2"/></MediaContainer>"#).is_err());
        // Empty attributes of typed kinds are null, not errors.
        let value = users(r#"<MediaContainer size=""><User id="1" home=""/></MediaContainer>"#);
        assert_eq!(value.unwrap()["size"], Value::Null);
    }

    #[test]
    fn every_error_envelope() {
        let v2 = parse(br#"<errors><error code="1003" message="API rate limit exceeded" status="429"/></errors>"#).unwrap();
        assert_eq!(
            envelope(&v2, 429),
            Some(
                json!({"errors": [{"code": 1003, "message": "API rate limit exceeded", "status": 429}]})
            )
        );
        let rails = parse(b"<errors><error>Invalid token</error></errors>").unwrap();
        assert_eq!(
            envelope(&rails, 422),
            Some(json!({"errors": [{"code": null, "message": "Invalid token", "status": 422}]}))
        );
        let legacy =
            parse(br#"<Response code="410" status="This endpoint was deprecated and removed"/>"#)
                .unwrap();
        assert_eq!(
            envelope(&legacy, 410),
            Some(
                json!({"errors": [{"code": null, "message": "This endpoint was deprecated and removed", "status": 410}]})
            )
        );
        assert_eq!(
            envelope(&parse(b"<html><body>401</body></html>").unwrap(), 401),
            None
        );
        assert_eq!(envelope(&parse(b"<errors/>").unwrap(), 400), None);
    }
}
