//! XML from plex.tv through the client: every error envelope becomes the
//! same typed error as its JSON twin, and hostile XML ends in a typed
//! error, never a panic or a hang.

mod support;

use std::time::Duration;

use plex_tv::Error;
use support::Mocks;

/// The error `getUsers` (an XML operation) or `getFriends` (a JSON one)
/// ends in when plex.tv answers `status` with `body`.
async fn error_of(operation: &str, status: u16, content_type: &str, body: &str) -> Error {
    let mocks = Mocks::start().await;
    let (content_type, body) = (content_type.to_owned(), body.to_owned());
    let mock = mocks
        .on(operation, move |_, then| {
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await;
    let client = mocks.client();
    let error = match operation {
        "getUsers" => client
            .get_users()
            .send()
            .await
            .map(drop)
            .map_err(Error::from),
        "getFriends" => client
            .get_friends()
            .send()
            .await
            .map(drop)
            .map_err(Error::from),
        "createSharedServer" => client
            .create_shared_server()
            .body(plex_tv::types::CreateSharedServerRequest {
                machine_identifier: "m".into(),
                invited_email: "bob@example.com".into(),
                library_section_ids: vec![],
                settings: None,
                skip_friendship: None,
            })
            .send()
            .await
            .map(drop)
            .map_err(Error::from),
        other => panic!("no call for {other}"),
    }
    .unwrap_err();
    mock.assert_async().await;
    error
}

async fn decode_error(body: &[u8]) -> (String, String) {
    let mocks = Mocks::start().await;
    let body = body.to_vec();
    let mock = mocks
        .on("getUsers", move |_, then| {
            then.status(200)
                .header("content-type", "application/xml")
                .body(body);
        })
        .await;
    let result = tokio::time::timeout(Duration::from_secs(30), mocks.client().get_users().send())
        .await
        .expect("no hang");
    mock.assert_async().await;
    match result.map_err(Error::from) {
        Err(Error::Decode { path, message, .. }) => (path, message),
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn the_v2_xml_envelope_is_its_json_twin() {
    let xml = r#"<errors><error code="1001" message="User could not be authenticated" status="401"/></errors>"#;
    let json =
        r#"{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}"#;
    for (operation, content_type, body) in [
        ("getFriends", "application/xml", xml),
        ("getUsers", "application/xml", xml),
        ("getFriends", "application/json", json),
    ] {
        match error_of(operation, 401, content_type, body).await {
            Error::Unauthorized { errors } => {
                assert_eq!(errors.len(), 1);
                assert_eq!(errors[0].code, Some(1001));
                assert_eq!(
                    errors[0].message.as_deref(),
                    Some("User could not be authenticated")
                );
                assert_eq!(errors[0].status, Some(401));
            }
            other => panic!("{operation} {content_type}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_v2_xml_rate_limit_is_rate_limited() {
    let xml =
        r#"<errors><error code="1003" message="API rate limit exceeded" status="429"/></errors>"#;
    let error = error_of("getFriends", 429, "application/xml", xml).await;
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
}

#[tokio::test]
async fn a_rails_invalid_token_is_unauthorized() {
    let xml = "<?xml version=\"1.0\"?>\n<errors>\n  <error>Invalid token</error>\n</errors>";
    match error_of("getUsers", 422, "application/xml", xml).await {
        Error::Unauthorized { errors } => {
            assert_eq!(errors[0].message.as_deref(), Some("Invalid token"));
        }
        other => panic!("{other:?}"),
    }
    // Its JSON twin too.
    let json = r#"{"errors":[{"message":"Invalid token","status":422}]}"#;
    let error = error_of("getFriends", 422, "application/json", json).await;
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    // Another 422 is not.
    let other = r#"{"errors":[{"message":"Label filters are not allowed","status":422}]}"#;
    let error = error_of("getFriends", 422, "application/json", other).await;
    assert!(matches!(error, Error::Api { .. }), "{error:?}");
}

#[tokio::test]
async fn a_legacy_response_410_is_endpoint_removed() {
    let xml = r#"<Response code="410" status="This endpoint was deprecated and removed"/>"#;
    match error_of("getUsers", 410, "text/xml", xml).await {
        Error::EndpointRemoved { errors } => {
            assert_eq!(
                errors[0].message.as_deref(),
                Some("This endpoint was deprecated and removed")
            );
            assert_eq!(errors[0].status, Some(410));
        }
        other => panic!("{other:?}"),
    }
    // A 410 with no body at all is still typed.
    let error = error_of("getFriends", 410, "text/plain", "").await;
    assert!(matches!(error, Error::EndpointRemoved { .. }), "{error:?}");
    assert_eq!(error.status(), Some(reqwest::StatusCode::GONE));
}

#[tokio::test]
async fn a_legacy_response_400_keeps_its_message() {
    let xml = r#"<Response code="400" status="You're already sharing this server with bob. Please edit your existing share."/>"#;
    match error_of("getUsers", 400, "application/xml", xml).await {
        Error::Api { status, errors, .. } => {
            assert_eq!(status, 400);
            assert!(errors[0]
                .message
                .as_deref()
                .unwrap()
                .contains("already sharing"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_422_on_create_shared_server_is_already_shared() {
    let json = r#"{"errors":[{"code":1998,"message":"Already shared","status":422}]}"#;
    match error_of("createSharedServer", 422, "application/json", json).await {
        Error::AlreadyShared { errors } => assert_eq!(errors[0].code, Some(1998)),
        other => panic!("{other:?}"),
    }
    let error = error_of("createSharedServer", 422, "text/plain", "").await;
    assert!(matches!(error, Error::AlreadyShared { .. }), "{error:?}");
}

#[tokio::test]
async fn html_error_pages_keep_their_excerpt() {
    let error = error_of(
        "getUsers",
        503,
        "text/html",
        "<html><body>Down for maintenance</body></html>",
    )
    .await;
    match error {
        Error::Api { status, body, .. } => {
            assert_eq!(status, 503);
            assert!(body.unwrap().contains("Down for maintenance"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn entities_are_never_expanded() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<MediaContainer><User id="1" title="&lol2;"/></MediaContainer>"#;
    let (_, message) = decode_error(laughs).await;
    assert!(message.contains("DOCTYPE"), "{message}");
    let external = br#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><MediaContainer>&x;</MediaContainer>"#;
    decode_error(external).await;
    let (path, message) =
        decode_error(br#"<MediaContainer><User id="1" title="&x;"/></MediaContainer>"#).await;
    assert!(path.starts_with("MediaContainer/User"), "{path}");
    assert!(message.contains('x'), "{message}");
}

#[tokio::test]
async fn deep_nesting_huge_attributes_and_bad_bytes_are_typed_errors() {
    let deep = format!("<MediaContainer>{}", "<User id=\"1\">".repeat(10_000));
    let (_, message) = decode_error(deep.as_bytes()).await;
    assert!(message.contains("deeper"), "{message}");
    let huge = format!(
        "<MediaContainer><User id=\"1\" title=\"{}\"/></MediaContainer>",
        "x".repeat(1 << 20)
    );
    let (path, message) = decode_error(huge.as_bytes()).await;
    assert!(
        path.ends_with("@title") && message.contains("longer"),
        "{path}: {message}"
    );
    let (path, message) =
        decode_error(b"<MediaContainer><User id=\"1\" title=\"\xff\xfe\"/></MediaContainer>").await;
    assert!(message.contains("UTF-8"), "{path}: {message}");
    let (_, message) = decode_error(b"<MediaContainer><User id=\"1\"></MediaContainer>").await;
    assert!(message.contains("malformed"), "{message}");
    let (_, message) = decode_error(b"<errors><error>x</error></errors>").await;
    assert!(message.contains("expected <MediaContainer>"), "{message}");
    let (path, message) =
        decode_error(b"<MediaContainer><User id=\"12abc\"/></MediaContainer>").await;
    assert_eq!(path, "MediaContainer/User[1]@id");
    assert!(message.contains("integer"), "{message}");
}

#[tokio::test]
async fn an_xml_answer_past_the_size_cap_is_too_large() {
    let mocks = Mocks::start().await;
    let body = format!(
        "<MediaContainer>{}</MediaContainer>",
        "<User id=\"1\"/>".repeat(2000)
    );
    mocks
        .on("getUsers", move |_, then| {
            then.status(200)
                .header("content-type", "application/xml")
                .body(body);
        })
        .await;
    let client = mocks.builder().max_response_size(1024).build().unwrap();
    let error = client
        .get_users()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { limit: 1024 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn xml_decode_errors_never_show_a_token() {
    let body = br#"<MediaContainer><User id="x" authenticationToken="SECRET-abcdefghijklmnop"/></MediaContainer>"#;
    let mocks = Mocks::start().await;
    mocks
        .on("getUsers", move |_, then| {
            then.status(200)
                .header("content-type", "application/xml")
                .body(body);
        })
        .await;
    let error = mocks
        .client()
        .get_users()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, Error::Decode { .. }));
    assert!(!shown.contains("SECRET-abcdefghijklmnop"), "{shown}");
}
