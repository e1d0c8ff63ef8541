//! One test per operation of `openapi/plex-tv.json` (`op_<operationId in
//! snake_case>`; `tests/spec_coverage.rs` checks that none is missing),
//! against a mock plex.tv: the request plex.tv expects goes out, and the
//! fixture decodes into the typed response. Then the error paths.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use httpmock::prelude::*;
use plex_tv::{
    types::{self, FeatureFlag, HomeUsersResponse},
    Error, WebhookUrls,
};
use serde_json::json;

use support::{client, fixture, form_body, json_reply, plex_headers, Mocks};

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

// ---------------------------------------------------------------- pins

#[tokio::test]
async fn op_create_pin() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("createPin", |when, then| {
            when.path("/api/v2/pins")
                .query_param("strong", "true")
                // The optional body: empty for the classic sign-in.
                .json_body(json!({}));
            json_reply(then, 201, "pin_pending.json");
        })
        .await;

    let result = mocks.client().create_pin().strong(true).send().await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap();
    assert_eq!(response.status(), 201);
    let pin = response.into_inner();

    assert_eq!(pin.id, 4_294_967_301_i64);
    assert_eq!(pin.code, "fake0strong0pin0code0xyz");
    assert_eq!(pin.product.as_deref(), Some("Test App"));
    assert_eq!(pin.trusted, Some(false));
    assert_eq!(pin.client_identifier.as_deref(), Some("test-client-id"));
    assert_eq!(pin.expires_in, Some(1800));
    assert_eq!(
        pin.created_at,
        Some(Utc.with_ymd_and_hms(2025, 11, 22, 11, 40, 0).unwrap())
    );
    assert_eq!(pin.expires_at, Some(utc("2025-11-22T12:10:00Z")));
    assert!(
        pin.auth_token.is_none(),
        "authToken is null before approval"
    );
    assert!(pin.new_registration.is_none());
    let location = pin.location.expect("location");
    assert_eq!(location.code.as_deref(), Some("US"));
    assert_eq!(location.european_union_member, Some(false));
    assert_eq!(location.time_zone.as_deref(), Some("America/Chicago"));
    assert_eq!(location.postal_code, Some(json!("78701")));
    assert_eq!(location.subdivisions.as_deref(), Some("Texas"));
}

/// The 4-character link code: `strong=false`, with a QR URL.
#[tokio::test]
async fn create_pin_link_code() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(POST).path("/api/v2/pins")).query_param("strong", "false");
            json_reply(then, 201, "pin_link_code.json");
        })
        .await;

    let result = client(&server).create_pin().strong(false).send().await;
    mock.assert_async().await;
    let pin = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(pin.id, 4_294_967_302);
    assert_eq!(pin.code.len(), 4);
    assert_eq!(
        pin.qr.as_deref(),
        Some("https://plex.tv/api/v2/pins/qr/ABCD")
    );
    assert_eq!(pin.expires_in, Some(900));
    // Fractional seconds are RFC 3339 too.
    assert_eq!(pin.expires_at, Some(utc("2025-11-22T11:55:00Z")));
    let location = pin.location.unwrap();
    assert_eq!(location.european_union_member, Some(true));
    assert_eq!(location.postal_code, None);
    assert_eq!(location.city, None);
}

#[tokio::test]
async fn op_get_pin() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getPin", |when, then| {
            when.path("/api/v2/pins/4294967301");
            json_reply(then, 200, "pin_approved.json");
        })
        .await;

    let result = mocks
        .client()
        .get_pin()
        .pin_id(4_294_967_301_i64)
        .send()
        .await;
    mock.assert_async().await;
    let pin = result.map_err(Error::from).unwrap().into_inner();

    assert_eq!(pin.id, 4_294_967_301);
    assert_eq!(pin.trusted, Some(true));
    assert_eq!(pin.expires_in, Some(1342));
    let token: &plex_tv::Token = pin.auth_token.as_ref().expect("approved");
    assert_eq!(token.expose_secret(), "FAKE-pin-auth-token-5555555555");
    assert!(!token.is_empty());
    assert_eq!(pin.new_registration, Some(json!(false)));
    // An older numeric postal code still decodes.
    assert_eq!(pin.location.unwrap().postal_code, Some(json!(78701)));
    // The token never shows in Debug output.
    assert!(!format!("{:?}", pin.auth_token).contains("FAKE-pin-auth-token"));
}

#[tokio::test]
async fn op_link_pin() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("linkPin", |when, then| {
            form_body(when.path("/api/v2/pins/link"), "code=ABCD")
                .form_urlencoded_tuple("code", "ABCD");
            then.status(204);
        })
        .await;

    let result = mocks
        .client()
        .link_pin()
        .body(types::LinkPinForm::builder().code("ABCD"))
        .send()
        .await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap();
    assert_eq!(response.status(), 204);
}

// ---------------------------------------------------------------- account

#[tokio::test]
async fn op_get_user() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getUser", |when, then| {
            when.path("/api/v2/user");
            json_reply(then, 200, "user.json");
        })
        .await;

    let result = mocks.client().get_user().send().await;
    mock.assert_async().await;
    let user = result.map_err(Error::from).unwrap().into_inner();
    check_alice(&user);
    // Tokens are redacted from Debug output, nested ones included.
    let debug = format!("{user:?}");
    assert!(!debug.contains("FAKE-user-token"), "{debug}");
    assert!(!debug.contains("FAKE-service-token"), "{debug}");
    assert!(!debug.contains("FAKE-service-secret"), "{debug}");
}

/// The values of `tests/fixtures/user.json`.
fn check_alice(user: &types::User) {
    assert_eq!(user.id, 4_294_967_310_i64);
    assert_eq!(user.uuid, "fa4e0f1c2b3d4e5f");
    assert_eq!(user.username.as_deref(), Some("alice_test"));
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
    assert_eq!(user.friendly_name.as_deref(), Some("Alice (test)"));
    assert_eq!(user.locale, None);
    assert_eq!(user.confirmed, Some(true));
    assert_eq!(user.joined_at, Some(1_500_000_000));
    assert_eq!(user.remember_expires_at, Some(1_790_000_000));
    assert_eq!(user.mailing_list_status.as_deref(), Some("active"));
    // Omitted from the fixture.
    assert_eq!(user.mailing_list_active, None);
    assert_eq!(user.pin, None);
    assert_eq!(user.home_size, Some(3));
    assert_eq!(user.max_home_size, Some(15));
    assert_eq!(user.home_admin, Some(true));
    assert_eq!(user.two_factor_enabled, Some(true));
    assert_eq!(user.anonymous, None);
    assert_eq!(user.ads_consent, None);
    assert_eq!(user.ads_consent_set_at, None);
    assert_eq!(user.attribution_partner, None);
    assert_eq!(user.subscription_description, None);
    assert_eq!(
        user.auth_token.as_ref().map(|t| t.expose_secret()),
        Some("FAKE-user-token-0000000000")
    );
    assert_eq!(user.roles.as_deref(), Some(&["plexpass".to_string()][..]));
    assert_eq!(user.entitlements.as_ref().map(Vec::len), Some(3));

    let subscription = user.subscription.as_ref().expect("subscription");
    assert_eq!(subscription.active, Some(true));
    assert_eq!(subscription.status.as_deref(), Some("Active"));
    assert_eq!(subscription.plan.as_deref(), Some("lifetime"));
    assert_eq!(subscription.payment_service, None);
    assert_eq!(
        subscription.subscribed_at.as_deref(),
        Some("2021-04-12T18:21:12Z")
    );
    assert!(subscription
        .features
        .as_ref()
        .unwrap()
        .contains(&"webhooks".to_string()));

    let profile = user.profile.as_ref().expect("profile");
    assert_eq!(profile.auto_select_audio, Some(json!(true)));
    assert_eq!(profile.default_audio_language.as_deref(), Some("en"));
    assert_eq!(profile.default_subtitle_language, None);
    assert_eq!(profile.auto_select_subtitle, Some(json!(1)));
    assert_eq!(profile.media_reviews_visibility, Some(json!(0)));
    assert_eq!(profile.default_audio_accessibility, Some(json!(1)));

    let current = &user.subscriptions.as_ref().expect("subscriptions")[0];
    assert_eq!(
        (
            current.mode.as_deref(),
            current.state.as_deref(),
            current.type_.as_deref()
        ),
        (Some("lifetime"), Some("active"), Some("plexpass"))
    );
    let past = &user
        .past_subscriptions
        .as_ref()
        .expect("past subscriptions")[0];
    assert_eq!(past.state.as_deref(), Some("ended"));
    assert_eq!(past.ends_at, Some(json!(1_556_281_940)));
    let settings = user.settings.as_ref().expect("settings");
    assert_eq!(settings.len(), 3);
    assert_eq!(settings[1].value, Some(json!(true)));
    let restrictions = user
        .custom_restrictions
        .as_ref()
        .expect("custom restrictions");
    assert_eq!(restrictions.movies, Some(json!("label!=horror")));
    assert_eq!(restrictions.all, None);

    let services = user.services.as_ref().expect("services");
    assert_eq!(services.len(), 2);
    assert_eq!(services[0].identifier.as_deref(), Some("metadata-dev"));
    assert!(services[0].token.is_none());
    assert!(services[0].secret.is_none());
    assert_eq!(services[0].status.as_deref(), Some("online"));
    assert_eq!(
        services[1].token.as_ref().unwrap().expose_secret(),
        "FAKE-service-token-2222222222"
    );
    assert_eq!(
        services[1].secret.as_ref().unwrap().expose_secret(),
        "FAKE-service-secret-3333333333"
    );
    assert_eq!(services[1].status.as_deref(), Some("offline"));
}

#[tokio::test]
async fn op_sign_in() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("signIn", |when, then| {
            form_body(
                when.path("/api/v2/users/signin"),
                "login=alice%40example.com&password=correct+horse%26battery%3Dstaple\
                 &rememberMe=true&verificationCode=123456",
            )
            .form_urlencoded_tuple("login", "alice@example.com")
            .form_urlencoded_tuple("password", "correct horse&battery=staple");
            json_reply(then, 201, "user.json");
        })
        .await;

    let result = mocks
        .client()
        .sign_in()
        .body(
            types::SignInForm::builder()
                .login("alice@example.com")
                .password("correct horse&battery=staple")
                .remember_me(true)
                .verification_code("123456".to_string()),
        )
        .send()
        .await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap();
    assert_eq!(response.status(), 201);
    check_alice(&response.into_inner());
}

/// Signing in is done without a token: none must be sent, and the optional
/// fields are left out of the form.
#[tokio::test]
async fn sign_in_without_token_sends_only_login_and_password() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/users/signin")
                .header("accept", "application/json")
                .header("X-Plex-Client-Identifier", support::CLIENT_ID)
                .header_missing("X-Plex-Token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("login=alice_test&password=hunter2");
            json_reply(then, 201, "user.json");
        })
        .await;

    let client = client(&server).without_token();
    let result = client
        .sign_in()
        .body(
            types::SignInForm::builder()
                .login("alice_test")
                .password("hunter2"),
        )
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_sign_out() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("signOut", |when, then| {
            when.path("/api/v2/users/signout");
            then.status(204);
        })
        .await;

    let result = mocks.client().sign_out().send().await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 204);
}

#[tokio::test]
async fn op_ping() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("ping", |when, then| {
            when.path("/api/v2/ping");
            // Whatever body plex.tv sends is ignored.
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"pong":true}"#);
        })
        .await;

    let result = mocks.client().ping().send().await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 200);
}

#[tokio::test]
async fn op_get_user_settings() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getUserSettings", |when, then| {
            when.path("/api/v2/user/settings");
            json_reply(then, 200, "user_settings.json");
        })
        .await;

    let result = mocks.client().get_user_settings().send().await;
    mock.assert_async().await;
    let settings = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(settings.len(), 5);
    assert_eq!(settings[0].id.as_deref(), Some("experience"));
    assert_eq!(settings[0].type_.as_deref(), Some("json"));
    assert_eq!(
        settings[0].value,
        Some(json!("{\"schemaVersion\":1,\"sidebar\":[]}"))
    );
    assert_eq!(settings[0].updated_at, Some(1_700_000_100));
    assert_eq!(settings[1].value, Some(json!(true)));
    assert_eq!(settings[2].hidden, Some(true));
    assert_eq!(settings[2].updated_at, None);
    assert_eq!(settings[3].value, Some(json!(75)));
    assert_eq!(settings[3].updated_at, None);
    assert_eq!(settings[4].value, None);
    assert_eq!(settings[4].hidden, None);
}

#[tokio::test]
async fn op_get_opt_outs() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getOptOuts", |when, then| {
            plex_headers(
                when.method(GET)
                    .path("/api/v2/user/fa4e0f1c2b3d4e5f/settings/opt_outs"),
            );
            json_reply(then, 200, "opt_outs.json");
        })
        .await;

    let result = mocks
        .client()
        .get_opt_outs()
        .uuid("fa4e0f1c2b3d4e5f")
        .send()
        .await;
    mock.assert_async().await;
    let opt_outs = result.map_err(Error::from).unwrap().into_inner();
    let services = opt_outs.services.expect("services");
    assert_eq!(services.len(), 3);
    assert_eq!(
        services[0].key.as_deref(),
        Some("tv.plex.provider.podcasts")
    );
    assert_eq!(services[0].value.as_deref(), Some("opt_in"));
    assert_eq!(services[1].value.as_deref(), Some("opt_out"));
    assert_eq!(services[2].value, None);
    assert_eq!(opt_outs.libraries, Some(vec![]));
}

#[tokio::test]
async fn op_get_own_opt_outs() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getOwnOptOuts", |when, then| {
            when.path("/api/v2/user/settings/opt_outs");
            json_reply(then, 200, "opt_outs.json");
        })
        .await;

    let result = mocks.client().get_own_opt_outs().send().await;
    mock.assert_async().await;
    let opt_outs = result.map_err(Error::from).unwrap().into_inner();
    let services = opt_outs.services.expect("services");
    assert_eq!(services.len(), 3);
    assert_eq!(services[1].value.as_deref(), Some("opt_out"));
}

#[tokio::test]
async fn op_get_privacy() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getPrivacy", |when, then| {
            when.path("/api/v2/user/privacy");
            json_reply(then, 200, "privacy.json");
        })
        .await;

    let result = mocks.client().get_privacy().send().await;
    mock.assert_async().await;
    let privacy = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(privacy.domain.as_deref(), Some("https://privacy.plex.tv"));
    assert_eq!(
        privacy.base_url.as_deref(),
        Some("https://privacy.plex.tv/api/v2")
    );
    assert_eq!(privacy.metrics, None);
    assert_eq!(privacy.opt_out_playback, Some(false));
    assert_eq!(privacy.opt_out_library_stats, Some(true));
}

#[tokio::test]
async fn op_update_privacy() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("updatePrivacy", |when, then| {
            form_body(
                when.path("/api/v2/user/privacy"),
                "optOutLibraryStats=1&optOutPlayback=0",
            );
            then.status(204);
        })
        .await;

    let result = mocks
        .client()
        .update_privacy()
        .body(
            types::PrivacyForm::builder()
                .opt_out_library_stats(1)
                .opt_out_playback(0),
        )
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 204);
}

#[tokio::test]
async fn op_get_webhooks() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getWebhooks", |when, then| {
            when.path("/api/v2/user/webhooks");
            json_reply(then, 200, "webhooks.json");
        })
        .await;

    let result = mocks.client().get_webhooks().send().await;
    mock.assert_async().await;
    let webhooks = result.map_err(Error::from).unwrap().into_inner();
    let urls: Vec<&str> = webhooks.iter().map(|w| w.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://example.com/plex-hook",
            "https://hooks.example.org/a?b=c"
        ]
    );
}

#[tokio::test]
async fn op_set_webhooks() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("setWebhooks", |when, then| {
            form_body(
                when.path("/api/v2/user/webhooks"),
                "urls%5B%5D=https%3A%2F%2Fexample.com%2Fplex-hook\
                 &urls%5B%5D=https%3A%2F%2Fhooks.example.org%2Fa%3Fb%3Dc",
            );
            then.status(204);
        })
        .await;

    let result = mocks
        .client()
        .set_webhooks()
        .body(WebhookUrls::new([
            "https://example.com/plex-hook",
            "https://hooks.example.org/a?b=c",
        ]))
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 204);
}

/// An empty list removes every webhook: the form is empty.
#[tokio::test]
async fn set_webhooks_empty_list() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            form_body(
                plex_headers(when.method(POST).path("/api/v2/user/webhooks")),
                "",
            );
            then.status(200);
        })
        .await;

    let result = client(&server)
        .set_webhooks()
        .body(WebhookUrls::new(Vec::<String>::new()))
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_get_claim_token() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getClaimToken", |when, then| {
            when.path("/api/claim/token.json");
            json_reply(then, 200, "claim_token.json");
        })
        .await;

    let result = mocks.client().get_claim_token().send().await;
    mock.assert_async().await;
    let claim = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(claim.token.expose_secret(), "claim-FAKEfakeFAKEfake0000");
}

// ---------------------------------------------------------------- servers

#[tokio::test]
async fn op_get_resources() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getResources", |when, then| {
            when.path("/api/v2/resources")
                .query_param("includeHttps", "1")
                .query_param("includeRelay", "1")
                .query_param("includeIPv6", "1");
            json_reply(then, 200, "resources.json");
        })
        .await;

    let result = mocks
        .client()
        .get_resources()
        .include_https(1)
        .include_relay(1)
        .include_i_pv6(1)
        .send()
        .await;
    mock.assert_async().await;
    let resources = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(resources.len(), 2);

    let pms = &resources[0];
    assert_eq!(pms.name, "Test Living Room Server");
    assert_eq!(
        pms.client_identifier,
        "fakemachine0000000000000000000000000000a1"
    );
    assert_eq!(pms.provides.as_deref(), Some("server"));
    assert_eq!(pms.owner_id, None);
    assert_eq!(pms.source_title, None);
    assert_eq!(pms.owned, Some(true));
    assert_eq!(pms.https_required, Some(true));
    assert_eq!(pms.created_at, Some(utc("2019-05-01T10:00:00Z")));
    assert_eq!(
        pms.last_seen_at,
        Some(Utc.with_ymd_and_hms(2025, 11, 22, 11, 30, 0).unwrap())
    );
    assert_eq!(
        pms.access_token.as_ref().unwrap().expose_secret(),
        "FAKE-server-access-token-1111111111"
    );
    let connections = pms.connections.as_ref().expect("connections");
    assert_eq!(connections.len(), 4);
    assert_eq!(connections[0].protocol.as_deref(), Some("https"));
    assert_eq!(connections[0].address.as_deref(), Some("192.168.1.10"));
    assert_eq!(connections[0].port, Some(32400));
    assert_eq!(connections[0].local, Some(true));
    assert_eq!(
        connections[0].uri,
        "https://192-168-1-10.fakehash0000000000000000000000a1.plex.direct:32400"
    );
    assert_eq!(connections[2].i_pv6, Some(true));
    assert_eq!(connections[3].relay, Some(true));
    assert_eq!(connections[3].port, Some(8443));

    let player = &resources[1];
    assert_eq!(player.device, None);
    assert_eq!(player.owner_id, Some(4_294_967_320_i64));
    assert_eq!(player.source_title.as_deref(), Some("bob_test"));
    assert_eq!(
        player.provides.as_deref(),
        Some("client,player,pubsub-player")
    );
    assert_eq!(player.connections, Some(vec![]));
    assert!(!format!("{resources:?}").contains("FAKE-"));
}

/// Query parameters that are not set are not sent.
#[tokio::test]
async fn get_resources_without_options_sends_no_query() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(GET).path("/api/v2/resources"))
                .query_param_missing("includeHttps")
                .query_param_missing("includeRelay")
                .query_param_missing("includeIPv6");
            then.status(200)
                .header("content-type", "application/json")
                .body("[]");
        })
        .await;

    let result = client(&server).get_resources().send().await;
    mock.assert_async().await;
    assert!(result.map_err(Error::from).unwrap().is_empty());
}

#[tokio::test]
async fn op_get_server() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getServer", |when, then| {
            plex_headers(
                when.method(GET)
                    .path("/api/v2/servers/fakemachine0000000000000000000000000000a1"),
            );
            json_reply(then, 200, "server.json");
        })
        .await;

    let result = mocks
        .client()
        .get_server()
        .machine_identifier("fakemachine0000000000000000000000000000a1")
        .send()
        .await;
    mock.assert_async().await;
    let pms = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(pms.name.as_deref(), Some("Test Living Room Server"));
    assert_eq!(pms.port, Some(32400));
    assert_eq!(pms.scheme.as_deref(), Some("http"));
    assert_eq!(
        pms.local_addresses.as_deref(),
        Some("192.168.1.10,10.0.0.5")
    );
    assert_eq!(pms.created_at, Some(1_556_704_800));
    assert_eq!(pms.updated_at, Some(1_763_811_000));
    assert_eq!(pms.owned, Some(true));
    assert_eq!(
        pms.access_token.unwrap().expose_secret(),
        "FAKE-server-access-token-1111111111"
    );
}

#[tokio::test]
async fn op_get_geo_ip() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getGeoIp", |when, then| {
            when.path("/api/v2/geoip");
            json_reply(then, 200, "geoip.json");
        })
        .await;

    let result = mocks.client().get_geo_ip().send().await;
    mock.assert_async().await;
    let location = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(location.code.as_deref(), Some("GB"));
    assert_eq!(location.continent_code.as_deref(), Some("EU"));
    assert_eq!(location.city.as_deref(), Some("London"));
    assert_eq!(location.european_union_member, Some(false));
    assert_eq!(location.in_privacy_restricted_country, Some(true));
    assert_eq!(location.in_privacy_restricted_region, Some(true));
    assert_eq!(location.postal_code, Some(json!("EC1A")));
    assert_eq!(location.coordinates.as_deref(), Some("51.5164, -0.0930"));
}

#[tokio::test]
async fn op_get_features() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getFeatures", |when, then| {
            when.path("/api/v2/features");
            json_reply(then, 200, "features.json");
        })
        .await;

    let result = mocks.client().get_features().send().await;
    mock.assert_async().await;
    let features = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(features.len(), 4);
    let feature = |i: usize| match &features[i] {
        FeatureFlag::Feature(feature) => feature,
        other => panic!("feature {i} is {other:?}"),
    };
    assert_eq!(feature(0).id.as_deref(), Some("webhooks"));
    assert_eq!(feature(0).enabled, Some(true));
    assert_eq!(feature(1).uuid, None);
    assert_eq!(feature(2).enabled, None);
    // plex.tv has also sent bare names.
    assert_eq!(features[3], FeatureFlag::String("companions_sonos".into()));
    let names: Vec<_> = features.iter().filter_map(FeatureFlag::name).collect();
    assert_eq!(
        names,
        [
            "webhooks",
            "hardware_transcoding",
            "download_certificates",
            "companions_sonos"
        ]
    );
}

// ---------------------------------------------------------------- home

#[tokio::test]
async fn op_get_home() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getHome", |when, then| {
            when.path("/api/v2/home");
            json_reply(then, 200, "home.json");
        })
        .await;

    let result = mocks.client().get_home().send().await;
    mock.assert_async().await;
    let home = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(home.id, 4_294_967_330_i64);
    assert_eq!(home.name.as_deref(), Some("Alice's test home"));
    assert_eq!(home.guest_user_id, Some(4_294_967_331));
    assert_eq!(home.guest_user_uuid.as_deref(), Some("6e6e6e6e6e6e6e6e"));
    assert_eq!(home.guest_enabled, Some(false));
    assert_eq!(home.subscription, Some(true));
}

#[tokio::test]
async fn op_get_home_users() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getHomeUsers", |when, then| {
            when.path("/api/v2/home/users");
            json_reply(then, 200, "home_users.json");
        })
        .await;

    let result = mocks.client().get_home_users().send().await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap().into_inner();
    let HomeUsersResponse::HomeUsers(home) = &response else {
        panic!("the fixture is the home with its users: {response:?}");
    };
    assert_eq!(home.id, Some(4_294_967_330));
    let users = response.users();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].id, 4_294_967_310_i64);
    assert_eq!(users[0].admin, Some(true));
    assert_eq!(users[0].updated_at, Some(1_700_000_000));
    assert_eq!(users[1].uuid.as_deref(), Some("0b1c2d3e4f5a6b7c"));
    assert_eq!(users[1].username, None);
    assert_eq!(users[1].protected, Some(true));
    assert_eq!(users[1].restricted, Some(true));
    assert_eq!(users[1].restriction_profile.as_deref(), Some("little_kid"));
    assert_eq!(users[1].updated_at, None);
    // The PIN hash is kept, as a secret.
    let pin = users[1].pin.as_ref().expect("the managed user's pin");
    assert_eq!(pin.expose_secret(), "fake-pin-hash");
    assert!(!format!("{response:?}").contains("fake-pin-hash"));
}

/// plex.tv's shape for home users is not settled: a bare list decodes too.
#[tokio::test]
async fn home_users_as_a_bare_list() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/home/users");
            then.status(200)
                .header("content-type", "application/json")
                .body(
                    r#"[{"id": 4294967310, "uuid": "fa4e0f1c2b3d4e5f", "admin": true}, {"id": 2}]"#,
                );
        })
        .await;
    let response = client(&server)
        .get_home_users()
        .send()
        .await
        .map_err(Error::from)
        .unwrap();
    assert!(
        matches!(*response, HomeUsersResponse::Array(_)),
        "{response:?}"
    );
    assert_eq!(response.users().len(), 2);
    assert_eq!(response.users()[0].admin, Some(true));
}

#[tokio::test]
async fn op_switch_home_user() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("switchHomeUser", |when, then| {
            form_body(
                plex_headers(
                    when.method(POST)
                        .path("/api/v2/home/users/0b1c2d3e4f5a6b7c/switch"),
                ),
                "pin=1234",
            );
            json_reply(then, 201, "user_switched.json");
        })
        .await;

    let result = mocks
        .client()
        .switch_home_user()
        .uuid("0b1c2d3e4f5a6b7c")
        .body(types::SwitchHomeUserForm::builder().pin("1234".to_string()))
        .send()
        .await;
    mock.assert_async().await;
    let user = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(user.id, 4_294_967_311_i64);
    assert_eq!(user.uuid, "0b1c2d3e4f5a6b7c");
    assert_eq!(user.restricted, Some(true));
    assert_eq!(user.username, None);
    assert_eq!(
        user.auth_token.unwrap().expose_secret(),
        "FAKE-home-user-token-4444444444"
    );
    let subscription = user.subscription.unwrap();
    assert_eq!(subscription.subscribed_at, None);
    assert_eq!(subscription.status.as_deref(), Some("Inactive"));
}

/// An unprotected user is switched to without a PIN: an empty form.
#[tokio::test]
async fn switch_home_user_without_pin() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            form_body(
                plex_headers(
                    when.method(POST)
                        .path("/api/v2/home/users/0b1c2d3e4f5a6b7c/switch"),
                ),
                "",
            );
            json_reply(then, 201, "user_switched.json");
        })
        .await;

    let result = client(&server)
        .switch_home_user()
        .uuid("0b1c2d3e4f5a6b7c")
        .body(types::SwitchHomeUserForm::default())
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

// ---------------------------------------------------------------- friends

#[tokio::test]
async fn op_get_friends() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getFriends", |when, then| {
            when.path("/api/v2/friends");
            json_reply(then, 200, "friends.json");
        })
        .await;

    let result = mocks.client().get_friends().send().await;
    mock.assert_async().await;
    let friends = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(friends.len(), 2);
    let bob = &friends[0];
    assert_eq!(bob.id, 4_294_967_320_i64);
    assert_eq!(bob.username.as_deref(), Some("bob_test"));
    assert_eq!(bob.friendly_name, None);
    assert_eq!(bob.status.as_deref(), Some("accepted"));
    let shared = bob.shared_servers.as_ref().expect("sharedServers");
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].id, 123456);
    assert_eq!(
        shared[0].machine_identifier.as_deref(),
        Some("fakemachine0000000000000000000000000000a1")
    );
    assert_eq!(shared[0].all_libraries, Some(true));
    assert_eq!(bob.shared_sources.as_ref().map(Vec::len), Some(0));
    let carol = &friends[1];
    assert_eq!(carol.friendly_name.as_deref(), Some("Carol"));
    assert_eq!(carol.username, None);
    assert_eq!(carol.thumb, None);
    assert_eq!(carol.home, None);
    assert_eq!(carol.status.as_deref(), Some("pending"));
    assert_eq!(carol.shared_servers, None);
}

#[tokio::test]
async fn op_get_companions() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getCompanions", |when, then| {
            when.path("/api/v2/companions");
            json_reply(then, 200, "companions.json");
        })
        .await;

    let result = mocks.client().get_companions().send().await;
    mock.assert_async().await;
    let companions = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(companions.len(), 1);
    let sonos = &companions[0];
    assert_eq!(sonos.identifier, "tv.plex.sonos");
    assert_eq!(sonos.base_url.as_deref(), Some("https://sonos.plex.tv"));
    assert_eq!(
        sonos.link_url.as_deref(),
        Some("https://sonos.plex.tv/link")
    );
    assert_eq!(sonos.title.as_deref(), Some("Sonos"));
    assert_eq!(sonos.provides.as_deref(), Some("client,player"));
    assert_eq!(
        sonos.token.as_ref().unwrap().expose_secret(),
        "FAKE-companion-token-7777777777"
    );
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn bad_token_is_unauthorized() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(GET).path("/api/v2/user"));
            json_reply(then, 401, "error_1001.json");
        })
        .await;

    let error = client(&server)
        .get_user()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    mock.assert_async().await;
    match &error {
        Error::Unauthorized { errors } => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].code, Some(1001));
            assert_eq!(
                errors[0].message.as_deref(),
                Some("User could not be authenticated")
            );
            assert_eq!(errors[0].status, Some(401));
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert!(!error.is_transient());
}

#[tokio::test]
async fn sign_in_needing_two_factor_code() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            form_body(
                plex_headers(when.method(POST).path("/api/v2/users/signin")),
                "login=alice_test&password=hunter2",
            );
            json_reply(then, 401, "error_1029.json");
        })
        .await;

    // `?` converts progenitor's error as well as `Error::from` does.
    async fn sign_in(client: &plex_tv::PlexTv) -> Result<types::User, Error> {
        let form = types::SignInForm::builder()
            .login("alice_test")
            .password("hunter2");
        Ok(client.sign_in().body(form).send().await?.into_inner())
    }
    let result = sign_in(&client(&server)).await;
    mock.assert_async().await;
    match result {
        Err(Error::TwoFactorRequired { errors }) => assert_eq!(errors[0].code, Some(1029)),
        other => panic!("expected TwoFactorRequired, got {other:?}"),
    }
}

#[tokio::test]
async fn expired_pin_is_404() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(GET).path("/api/v2/pins/4294967301"));
            json_reply(then, 404, "error_404.json");
        })
        .await;

    let error = client(&server)
        .get_pin()
        .pin_id(4_294_967_301_i64)
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    mock.assert_async().await;
    match &error {
        Error::Api { status, errors, .. } => {
            assert_eq!(*status, 404);
            assert_eq!(errors[0].code, None, "status may come without a code");
            assert_eq!(errors[0].message.as_deref(), Some("Not Found"));
        }
        other => panic!("expected Api 404, got {other:?}"),
    }
    assert!(!error.is_transient());
}

#[tokio::test]
async fn missing_client_identifier_is_api_400() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/geoip");
            json_reply(then, 400, "error_1000.json");
        })
        .await;

    let error = client(&server)
        .get_geo_ip()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    mock.assert_async().await;
    match error {
        Error::Api { status, errors, .. } => {
            assert_eq!(status, 400);
            assert_eq!(errors[0].code, Some(1000));
            assert_eq!(errors[0].status, None);
        }
        other => panic!("expected Api 400, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_reports_retry_after() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(GET).path("/api/v2/pins/4294967301"));
            then.status(429)
                .header("retry-after", "7")
                .header("content-type", "application/json")
                .body(r#"{"errors":[{"code":1003,"message":"Too many requests","status":429}]}"#);
        })
        .await;

    let error = client(&server)
        .get_pin()
        .pin_id(4_294_967_301_i64)
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    // RetryPolicy::none(): a single attempt.
    mock.assert_calls_async(1).await;
    match error {
        Error::RateLimited { retry_after } => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn outage_with_html_body_keeps_status() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(GET).path("/api/v2/user"));
            then.status(503)
                .header("content-type", "text/html")
                .body("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>");
        })
        .await;

    let error = client(&server)
        .get_user()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    mock.assert_async().await;
    assert!(error.is_transient());
    match error {
        Error::Api {
            status,
            errors,
            body,
        } => {
            assert_eq!(status, 503);
            assert!(errors.is_empty());
            let body = body.expect("an excerpt of the HTML body");
            assert!(body.contains("Service Temporarily Unavailable"), "{body}");
        }
        other => panic!("expected Api 503, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_type_is_a_decode_error_with_a_path() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            plex_headers(when.method(GET).path("/api/v2/home"));
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"id":"not-a-number","name":"x"}"#);
        })
        .await;

    let error = client(&server)
        .get_home()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    mock.assert_async().await;
    match error {
        Error::Decode { path, .. } => assert!(path.contains("id"), "{path}"),
        other => panic!("expected Decode, got {other:?}"),
    }
}

/// The fixtures are what the tests above rely on: fake tokens only.
#[test]
fn fixture_tokens_are_obviously_fake() {
    for name in [
        "user.json",
        "user_switched.json",
        "pin_approved.json",
        "resources.json",
        "companions.json",
        "server.json",
    ] {
        let value: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        let mut tokens = Vec::new();
        collect_tokens(&value, &mut tokens);
        assert!(!tokens.is_empty(), "{name} has no token");
        for token in tokens {
            assert!(token.starts_with("FAKE-"), "{name}: {token}");
        }
    }
}

fn collect_tokens(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if matches!(
                    key.as_str(),
                    "authToken" | "accessToken" | "token" | "secret"
                ) {
                    if let Some(text) = value.as_str() {
                        out.push(text.to_owned());
                    }
                }
                collect_tokens(value, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_tokens(v, out)),
        _ => {}
    }
}
