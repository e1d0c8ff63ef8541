//! XML answers, decoded once for every operation: plex.tv's v1 paths answer
//! XML whatever `Accept` says, and some errors come as XML envelopes.
//!
//! Two steps run in [`crate::transport`], before progenitor's decoder sees
//! a body:
//!
//! - [`errors_as_json`]: an error body that is one of plex.tv's XML error
//!   envelopes becomes its JSON twin `{"errors":[…]}`, so that
//!   [`crate::Error`] classifies it the same way (410, 422 `Invalid token`,
//!   429 …);
//! - [`answer_as_json`]: the success body of an operation the spec marks
//!   `x-plex-xml` becomes JSON, guided by the table build.rs writes from the
//!   spec (which attributes are integers or `0`/`1` booleans, which child
//!   elements repeat). A body that already is JSON passes through.
//!
//! XML that cannot be read, or does not fit the schema, ends in
//! [`crate::Error::Decode`] naming where (`MediaContainer/User[2]@id`),
//! never in a panic. The reader's limits are in [`tree`].

mod convert;
mod schema;
mod tree;

use std::fmt;

use bytes::Bytes;
use reqwest::{
    header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE},
    Response, ResponseBuilderExt,
};

/// How much of an error body is read to look for an XML envelope; a longer
/// body is passed on cut (the error path reads no more than this either).
const MAX_ERROR_BODY: usize = 64 * 1024 + 1;

/// Names the operation on an error response, so that [`crate::Error`] can
/// tell errors that mean something for one operation only (a 422 on
/// `createSharedServer` is "already shared"); never sent over the network.
const OPERATION_NOTE: HeaderName = HeaderName::from_static("x-plex-tv-sdk-operation");

/// An XML answer that could not be decoded: the body stream of the
/// response carries it to [`crate::Error::from`], which makes it an
/// [`crate::Error::Decode`].
#[derive(Debug, Clone)]
pub(crate) struct XmlDecodeFailure {
    pub(crate) path: String,
    pub(crate) message: String,
    /// The start of the body, with secrets redacted.
    pub(crate) body_start: String,
}

impl fmt::Display for XmlDecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the XML answer does not decode at {}: {}",
            self.path, self.message
        )
    }
}

impl std::error::Error for XmlDecodeFailure {}

impl XmlDecodeFailure {
    pub(crate) fn to_error(&self) -> crate::Error {
        crate::Error::Decode {
            path: self.path.clone(),
            message: self.message.clone(),
            body_start: self.body_start.clone(),
        }
    }
}

/// The operation named by [`OPERATION_NOTE`], if any.
pub(crate) fn operation_note(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers.get(OPERATION_NOTE)?.to_str().ok()
}

fn looks_like_xml(body: &[u8]) -> bool {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    body.trim_ascii_start().starts_with(b"<")
}

/// For an error status: notes the operation, and turns an XML error
/// envelope into plex.tv's JSON error body. Success answers pass untouched.
pub(crate) async fn errors_as_json(
    mut response: Response,
    operation: &'static str,
) -> reqwest::Result<Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    response
        .headers_mut()
        .insert(OPERATION_NOTE, HeaderValue::from_static(operation));
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    let status = response.status().as_u16();
    let json = looks_like_xml(&body)
        .then(|| tree::parse(&body).ok())
        .flatten()
        .and_then(|root| convert::envelope(&root, status));
    Ok(match json {
        Some(json) => replace_body(response, Bytes::from(json.to_string()), true),
        None => replace_body(response, Bytes::from(body), false),
    })
}

/// For a success answer of an `x-plex-xml` operation: the XML body as the
/// JSON of its schema. Anything else passes untouched.
pub(crate) async fn answer_as_json(
    response: Response,
    operation: &'static str,
) -> reqwest::Result<Response> {
    let Some(xml) = schema::operation(operation) else {
        return Ok(response);
    };
    if !response.status().is_success() {
        return Ok(response);
    }
    // The transport has capped the body already.
    let head = empty_copy(&response);
    let body = response.bytes().await?;
    let response = head;
    if !looks_like_xml(&body) {
        return Ok(replace_body(response, body, false));
    }
    match decode(&body, xml) {
        Ok(json) => Ok(replace_body(response, Bytes::from(json.to_string()), true)),
        Err(error) => Ok(failing_body(
            response,
            XmlDecodeFailure {
                path: error.path,
                message: error.message,
                body_start: crate::redact::excerpt(&body),
            },
        )),
    }
}

fn decode(body: &[u8], xml: &schema::XmlOperation) -> Result<serde_json::Value, tree::XmlError> {
    let root = tree::parse(body)?;
    if root.name != xml.root {
        return Err(tree::XmlError::new(
            "(document)",
            format!("expected <{}>, found <{}>", xml.root, root.name),
        ));
    }
    convert::answer(&root, &schema::XML_SCHEMAS[xml.schema], xml.root)
}

/// A response with the status, headers and URL of `response` and no body.
fn empty_copy(response: &Response) -> Response {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version())
        .url(response.url().clone());
    if let Some(headers) = builder.headers_mut() {
        headers.extend(response.headers().clone());
    }
    Response::from(
        builder
            .body(reqwest::Body::from(Bytes::new()))
            .expect("a copy of a valid response builds"),
    )
}

fn replace_body(response: Response, body: Bytes, json: bool) -> Response {
    let mut parts = http::Response::from(empty_copy(&response)).into_parts().0;
    parts.headers.remove(CONTENT_LENGTH);
    if json {
        parts.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    Response::from(http::Response::from_parts(parts, reqwest::Body::from(body)))
}

fn failing_body(response: Response, failure: XmlDecodeFailure) -> Response {
    let parts = http::Response::from(empty_copy(&response)).into_parts().0;
    let stream = futures_util::stream::once(async move { Err::<Bytes, _>(failure) });
    Response::from(http::Response::from_parts(
        parts,
        reqwest::Body::wrap_stream(stream),
    ))
}
