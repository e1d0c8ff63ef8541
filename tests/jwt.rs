//! Device-key (JWT) sign-in: the clients.plex.tv operations, `DeviceKey`,
//! JWT PIN sign-in, upgrade, verification and automatic refresh, against a
//! mock and the fake plex.tv.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use plex_tv::{
    pin::MIN_POLL_INTERVAL, testing::FakePlexTv, types, ClientIdentifier, ClientIdentity,
    DeviceKey, Error, PlexTv, Token,
};
use serde_json::{json, Value};

use support::Mocks;

fn builder(fake: &FakePlexTv) -> plex_tv::PlexTvBuilder {
    PlexTv::builder()
        .identity(ClientIdentity::new("JWT Test", ClientIdentifier::new_random()).version("1.0"))
        .base_url(fake.base_url())
        .clients_base_url(fake.base_url())
}

fn exchanges(fake: &FakePlexTv) -> u32 {
    fake.token_exchanges()
}

/// Exchange attempts, failed ones included.
fn token_requests(fake: &FakePlexTv) -> usize {
    count_requests(fake, "/api/v2/auth/token")
}

fn count_requests(fake: &FakePlexTv, path: &str) -> usize {
    fake.requests().iter().filter(|r| r.path == path).count()
}

/// A client signed in by upgrading the fake's classic token.
async fn upgraded(fake: &FakePlexTv, key: &DeviceKey, margin: Duration) -> PlexTv {
    let classic = builder(fake)
        .token(fake.token())
        .refresh_margin(margin)
        .build()
        .unwrap();
    classic.upgrade_to_jwt(key).await.unwrap()
}

// ------------------------------------------------------------ operations

#[tokio::test]
async fn op_get_auth_nonce() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getAuthNonce", |when, then| {
            when.path("/api/v2/auth/nonce");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"nonce":"n-0123456789","extra":1}"#);
        })
        .await;
    let client = mocks.client();
    let result = client.get_auth_nonce().send().await;
    mock.assert_async().await;
    assert_eq!(result.unwrap().into_inner().nonce, "n-0123456789");
}

#[tokio::test]
async fn op_register_device_key() {
    let key = DeviceKey::generate();
    let mocks = Mocks::start().await;
    let jwk = serde_json::to_value(key.public_jwk()).unwrap();
    let mock = mocks
        .on("registerDeviceKey", |when, then| {
            when.path("/api/v2/auth/jwk")
                .header("content-type", "application/json")
                .json_body(json!({ "jwk": jwk }));
            then.status(201);
        })
        .await;
    let body = types::RegisterDeviceKeyRequest {
        jwk: key.public_jwk(),
    };
    let client = mocks.client();
    let result = client.register_device_key().body(body).send().await;
    mock.assert_async().await;
    assert_eq!(result.unwrap().status(), 201);
}

#[tokio::test]
async fn op_exchange_device_jwt() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("exchangeDeviceJwt", |when, then| {
            when.path("/api/v2/auth/token")
                .json_body(json!({"jwt": "h.p.s"}));
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"auth_token":"plex-jwt-secret-value"}"#);
        })
        .await;
    let client = mocks.client();
    let body = types::DeviceTokenRequest {
        jwt: "h.p.s".into(),
    };
    let result = client.exchange_device_jwt().body(body).send().await;
    mock.assert_async().await;
    let response = result.unwrap().into_inner();
    assert_eq!(response.auth_token.expose_secret(), "plex-jwt-secret-value");
    assert!(!format!("{response:?}").contains("plex-jwt-secret-value"));
}

#[tokio::test]
async fn op_get_auth_keys() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getAuthKeys", |when, then| {
            when.path("/api/v2/auth/keys");
            then.status(200).header("content-type", "application/json").body(
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                    "kid":"k1","use":"sig","alg":"EdDSA"},{"kty":"RSA","n":"xyz","e":"AQAB"}]}"#,
            );
        })
        .await;
    let client = mocks.client();
    let result = client.get_auth_keys().send().await;
    mock.assert_async().await;
    let keys = result.unwrap().into_inner().keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].kid.as_deref(), Some("k1"));
    assert_eq!(keys[0].crv.as_deref(), Some("Ed25519"));
    assert_eq!(keys[1].kty, "RSA");
}

#[tokio::test]
async fn op_create_device_pin() {
    let key = DeviceKey::generate();
    let mocks = Mocks::start().await;
    let jwk = serde_json::to_value(key.public_jwk()).unwrap();
    let create = mocks
        .on("createDevicePin", |when, then| {
            when.path("/api/v2/pins")
                .json_body(json!({"jwk": jwk, "strong": true}))
                .query_param_missing("strong");
            support::json_reply(then, 201, "pin_pending.json");
        })
        .await;
    let body = types::DevicePinRequest {
        jwk: key.public_jwk(),
        strong: Some(true),
    };
    let pin = mocks.client().create_device_pin().body(body).send().await;
    create.assert_async().await;
    assert_eq!(pin.unwrap().into_inner().id, 4_294_967_301);
}

#[tokio::test]
async fn op_get_device_pin() {
    let mocks = Mocks::start().await;
    let poll = mocks
        .on("getDevicePin", |when, then| {
            when.path("/api/v2/pins/4294967301")
                .query_param("deviceJWT", "a.b.c");
            support::json_reply(then, 200, "pin_approved.json");
        })
        .await;
    let polled = mocks
        .client()
        .get_device_pin()
        .pin_id(4_294_967_301_i64)
        .device_jwt("a.b.c")
        .send()
        .await;
    poll.assert_async().await;
    assert!(polled.unwrap().into_inner().auth_token.is_some());
}

// ------------------------------------------------------------ DeviceKey

#[test]
fn keys_save_and_load_round_trip_with_owner_only_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/device-key.pem");
    let key = DeviceKey::load_or_create(&path).unwrap();
    assert_eq!(DeviceKey::load(&path).unwrap(), key);
    assert_eq!(DeviceKey::load_or_create(&path).unwrap(), key);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");

    let other = DeviceKey::generate();
    other.save(&path).unwrap();
    assert_eq!(DeviceKey::load(&path).unwrap(), other);
    assert_ne!(other, key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let jwk = key.public_jwk();
    assert_eq!(
        (
            jwk.kty.as_str(),
            jwk.crv.as_str(),
            jwk.use_.as_str(),
            jwk.alg.as_str()
        ),
        ("OKP", "Ed25519", "sig", "EdDSA")
    );
    assert_eq!(jwk.kid, key.key_id());
    assert_eq!(
        key.public_jwk(),
        DeviceKey::load(&path).map(|_| jwk.clone()).unwrap()
    );
}

#[test]
fn corrupt_or_foreign_key_files_are_typed_errors_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("garbage", b"not a key at all"),
        ("binary", &[0xff, 0xfe, 0x00, 0x80]),
        // A valid PKCS#8 PEM, but a P-256 key: someone else's file.
        ("foreign", b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\nOF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n-----END PRIVATE KEY-----\n"),
        ("huge", &[b'a'; 10_000]),
    ];
    for (name, content) in cases {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(content)
            .unwrap();
        for result in [DeviceKey::load(&path), DeviceKey::load_or_create(&path)] {
            let error = result.unwrap_err();
            assert!(
                matches!(error, Error::InvalidKeyFile { .. }),
                "{name}: {error:?}"
            );
            let message = error.to_string();
            assert!(message.contains("delete it"), "{message}");
            assert!(!message.contains("MIGHAgEA"), "{message}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), content, "{name} was changed");
    }
}

#[test]
fn client_jwts_have_the_header_and_claims_plex_tv_expects() {
    let key = DeviceKey::generate();
    let id: ClientIdentifier = "client-123".parse().unwrap();
    let jwt = key.client_jwt(&id, "nonce-42").unwrap();
    let header = jsonwebtoken::decode_header(jwt.expose_secret()).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(key.key_id()));
    assert_eq!(header.typ.as_deref(), Some("JWT"));

    let public = DecodingKey::from_ed_components(&key.public_jwk().x).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["plex.tv"]);
    validation.set_issuer(&["client-123"]);
    let claims: Value = jsonwebtoken::decode(jwt.expose_secret(), &public, &validation)
        .unwrap()
        .claims;
    let names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["aud", "exp", "iat", "iss", "nonce", "scope"]);
    assert_eq!(claims["aud"], "plex.tv");
    assert_eq!(claims["nonce"], "nonce-42");
    assert_eq!(
        claims["scope"],
        "username,email,friendly_name,restricted,anonymous,joinedAt"
    );
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 300);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(iat.abs_diff(now) <= 2);

    // Another key's public half does not verify it.
    let other = DecodingKey::from_ed_components(&DeviceKey::generate().public_jwk().x).unwrap();
    assert!(jsonwebtoken::decode::<Value>(jwt.expose_secret(), &other, &validation).is_err());
}

// ------------------------------------------------------------ sign-in

#[tokio::test]
async fn jwt_pin_sign_in_end_to_end() {
    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(2);
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let pin = client
        .pin_login()
        .device_key(key.clone())
        .poll_interval(MIN_POLL_INTERVAL)
        .start()
        .await
        .unwrap();
    assert!(pin
        .auth_url()
        .as_str()
        .starts_with("https://app.plex.tv/auth#?"));
    assert_eq!(pin.code().len(), 25);
    let signed_in = pin.wait().await.unwrap();

    assert_eq!(signed_in.device_key(), Some(&key));
    let token = signed_in.token().unwrap().clone();
    assert_ne!(token, fake.token(), "a JWT, not the classic token");
    let claims = signed_in.verify_jwt(&token, &key).await.unwrap();
    assert_eq!(claims.thumbprint, key.key_id());
    assert!(claims
        .aud
        .contains(&client.identity().client_identifier().to_string()));
    assert_eq!(fake.registered_device_keys(), [key.key_id()]);
    let me = signed_in.get_user().send().await.unwrap();
    assert_eq!(me.username.as_deref(), Some("fake-user"));
    // PIN requests carry no token; each poll had a fresh nonce (the fake
    // refuses a reused one).
    let requests = fake.requests();
    let nonces = requests.iter().filter(|r| r.path == "/api/v2/auth/nonce");
    assert_eq!(nonces.count(), 2);
    assert!(requests
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/pins"))
        .all(|r| !r.had_token));
}

#[tokio::test]
async fn jwt_pin_sign_in_streams_events_expires_and_cancels() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let login = client
        .pin_login()
        .device_key(key)
        .link_code()
        .poll_interval(MIN_POLL_INTERVAL);

    let pin = login.clone().start().await.unwrap();
    assert_eq!(pin.code().len(), 4);
    let handle = pin.cancel_handle();
    let mut events = Box::pin(pin.events());
    use futures_util::StreamExt;
    let first = events.next().await.unwrap();
    assert!(
        matches!(first, plex_tv::pin::PinEvent::Waiting { .. }),
        "{first:?}"
    );
    handle.cancel();
    assert!(matches!(
        events.next().await.unwrap(),
        plex_tv::pin::PinEvent::Cancelled
    ));

    fake.pin_lifetime(Duration::from_secs(1));
    let pin = login.start().await.unwrap();
    assert!(matches!(pin.wait().await, Err(Error::PinExpired)));
}

#[tokio::test]
async fn a_classic_client_upgrades_to_a_jwt() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let classic = builder(&fake).token(fake.token()).build().unwrap();
    let upgraded = classic.upgrade_to_jwt(&key).await.unwrap();
    assert_eq!(fake.registered_device_keys(), [key.key_id()]);
    assert_eq!(exchanges(&fake), 1);
    let jwt = upgraded.current_token().unwrap();
    assert_ne!(jwt, fake.token());
    upgraded.verify_jwt(&jwt, &key).await.unwrap();
    upgraded.get_user().send().await.unwrap();

    // Upgrading needs a classic token.
    let anonymous = classic.without_token().upgrade_to_jwt(&key).await;
    assert!(matches!(anonymous, Err(Error::InvalidInput { .. })));
}

#[tokio::test]
async fn a_stored_key_restores_the_session() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let first = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    let stored = first.current_token().unwrap();

    // With the stored JWT, on the same installation: used as it is.
    let identity = first.identity().clone();
    let restored = builder(&fake)
        .identity(identity.clone())
        .device_key(key.clone())
        .token(stored)
        .build()
        .unwrap();
    restored.get_user().send().await.unwrap();
    assert_eq!(exchanges(&fake), 1);

    // With the key alone: the first request obtains a JWT.
    let fresh = builder(&fake)
        .identity(identity)
        .device_key(key.clone())
        .build()
        .unwrap();
    fresh.get_user().send().await.unwrap();
    assert_eq!(exchanges(&fake), 2);

    // plex.tv binds the key to its client identifier: without a JWT, the
    // request fails with why it could not get one, before reaching plex.tv.
    let elsewhere = builder(&fake).device_key(key).build().unwrap();
    let result = elsewhere.get_user().send().await.map_err(Error::from);
    assert!(
        matches!(result, Err(Error::DeviceKeyNotRegistered)),
        "{result:?}"
    );
}

#[tokio::test]
async fn unregistered_keys_are_a_typed_error() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = builder(&fake).device_key(key.clone()).build().unwrap();
    let error = client.refresh_token().await.unwrap_err();
    assert!(matches!(error, Error::DeviceKeyNotRegistered), "{error:?}");
    assert!(error.to_string().contains("device_key(key)"), "{error}");
    // A request without a usable JWT fails with the same typed error,
    // without another attempt while the failure cools down.
    let request = client.get_user().send().await.map_err(Error::from);
    assert!(
        matches!(request, Err(Error::DeviceKeyNotRegistered)),
        "{request:?}"
    );
    assert_eq!(token_requests(&fake), 1);
    assert!(!fake.requests().iter().any(|r| r.path == "/api/v2/user"));

    let signed_in = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    fake.unregister_device_key(key.key_id());
    let error = signed_in.refresh_token().await.unwrap_err();
    assert!(matches!(error, Error::DeviceKeyNotRegistered), "{error:?}");

    let classic = builder(&fake).token(fake.token()).build().unwrap();
    assert!(matches!(
        classic.refresh_token().await,
        Err(Error::InvalidInput { .. })
    ));
}

// ------------------------------------------------------------ verification

#[tokio::test]
async fn verification_checks_issuer_audience_expiry_thumbprint_and_signature() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let id = client.identity().client_identifier().to_string();
    let good = fake.jwt_claims(&id, key.key_id());
    let verify = |claims: Value| {
        let token = fake.sign_jwt(claims);
        let client = client.clone();
        let key = key.clone();
        async move { client.verify_jwt(&token, &key).await }
    };
    let claims = verify(good.clone()).await.unwrap();
    assert_eq!(claims.iss, "plex.tv");

    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let invalid = [
        (
            "wrong issuer",
            with("iss", json!("evil.example")),
            "issuer is not plex.tv",
        ),
        (
            "wrong audience",
            with("aud", json!(["plex.tv", "someone-else"])),
            "audience is not plex.tv and this client identifier",
        ),
        (
            "audience without plex.tv",
            with("aud", json!([id.clone()])),
            "audience is not plex.tv and this client identifier",
        ),
        (
            "wrong thumbprint",
            with("thumbprint", json!("0123abcd")),
            "bound to another device key",
        ),
        (
            "no thumbprint",
            {
                let mut claims = good.clone();
                claims.as_object_mut().unwrap().remove("thumbprint");
                claims
            },
            "claims are malformed",
        ),
    ];
    for (case, claims, why) in invalid {
        let result = verify(claims).await;
        assert!(
            matches!(&result, Err(Error::JwtInvalid { reason }) if reason.contains(why)),
            "{case}: {result:?}"
        );
    }
    let now = good["iat"].as_i64().unwrap();
    let expired = verify(with("exp", json!(now - 600))).await;
    assert!(matches!(expired, Err(Error::JwtExpired)), "{expired:?}");

    let current_kid = fake.signing_key_ids().pop().unwrap();
    let forged = fake.forge_jwt(good.clone(), Some(&current_kid));
    let result = client.verify_jwt(&forged, &key).await;
    assert!(
        matches!(&result, Err(Error::JwtInvalid { reason }) if reason.contains("signature")),
        "{result:?}"
    );
    let unknown = fake.forge_jwt(good.clone(), None);
    let result = client.verify_jwt(&unknown, &key).await;
    assert!(
        matches!(result, Err(Error::UnknownSigningKey { .. })),
        "{result:?}"
    );
    // The key id is the token's own text: shown cleaned and bounded.
    let hostile_kid = format!("k\u{1b}[2J\r\nforged{}", "x".repeat(5_000));
    let unknown = fake.forge_jwt(good.clone(), Some(&hostile_kid));
    let result = client.verify_jwt(&unknown, &key).await;
    let Err(Error::UnknownSigningKey { kid }) = &result else {
        panic!("{result:?}")
    };
    assert!(kid.starts_with("k\u{FFFD}[2J  forgedxxx"), "{kid:?}");
    assert!(kid.chars().count() <= 201, "{}", kid.len());
    assert!(result.unwrap_err().to_string().len() <= 1024);
    let not_a_jwt = client.verify_jwt(&Token::new("classic-token"), &key).await;
    assert!(
        matches!(&not_a_jwt, Err(Error::JwtInvalid { reason }) if reason == "not a JWT"),
        "{not_a_jwt:?}"
    );
}

#[tokio::test]
async fn tokens_of_other_algorithms_are_refused() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    let kid = fake.signing_key_ids().pop().unwrap();
    // HS256 with plex.tv's public key as the HMAC secret: the classic
    // confusion of a verifier that lets the header choose the algorithm.
    let keys = client.get_auth_keys().send().await.unwrap().into_inner();
    let x = keys
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid.as_str()))
        .unwrap()
        .x
        .clone()
        .unwrap();
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(x.as_bytes()),
    )
    .unwrap();
    let result = client.verify_jwt(&Token::new(hs256), &key).await;
    assert!(
        matches!(&result, Err(Error::JwtInvalid { reason }) if reason == "signed with HS256, not EdDSA"),
        "{result:?}"
    );
    // alg "none" and no signature.
    let b64 = |value: &Value| {
        use base64ct::{Base64UrlUnpadded, Encoding};
        Base64UrlUnpadded::encode_string(value.to_string().as_bytes())
    };
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": kid})),
        b64(&claims)
    );
    let result = client.verify_jwt(&Token::new(none), &key).await;
    assert!(
        matches!(&result, Err(Error::JwtInvalid { reason }) if reason == "signed with none, not EdDSA"),
        "{result:?}"
    );
    // An EdDSA token with its signature cut off.
    let signed = fake.sign_jwt(claims).expose_secret().to_owned();
    let unsigned = &signed[..signed.rfind('.').unwrap() + 1];
    let result = client.verify_jwt(&Token::new(unsigned), &key).await;
    assert!(
        matches!(&result, Err(Error::JwtInvalid { reason }) if reason == "not a JWT"),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_accepted() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    let key_fetches = || {
        fake.requests()
            .iter()
            .filter(|r| r.path == "/api/v2/auth/keys")
            .count()
    };
    client
        .verify_jwt(&fake.sign_jwt(claims.clone()), &key)
        .await
        .unwrap();
    client
        .verify_jwt(&fake.sign_jwt(claims.clone()), &key)
        .await
        .unwrap();
    assert_eq!(key_fetches(), 1, "the keys are cached");

    fake.rotate_keys();
    let rotated = fake.sign_jwt(claims.clone());
    client.verify_jwt(&rotated, &key).await.unwrap();
    client.verify_jwt(&rotated, &key).await.unwrap();
    assert_eq!(key_fetches(), 2, "refetched once for the new kid");
    assert_eq!(fake.signing_key_ids().len(), 2);
}

#[tokio::test]
async fn keys_of_other_types_and_malformed_keys_are_skipped() {
    let fake = FakePlexTv::start().await;
    fake.publish_foreign_keys();
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    // Without a kid every published key is a candidate: the RSA, EC and
    // malformed Ed25519 keys come first and must not end the search.
    let without_kid = fake.sign_jwt_without_kid(claims.clone());
    assert!(jsonwebtoken::decode_header(without_kid.expose_secret())
        .unwrap()
        .kid
        .is_none());
    let verified = client.verify_jwt(&without_kid, &key).await.unwrap();
    assert_eq!(verified.thumbprint, key.key_id());
    client
        .verify_jwt(&fake.sign_jwt(claims.clone()), &key)
        .await
        .unwrap();

    // After a rotation, the old key is tried too (a wrong signature) and
    // the new one verifies.
    fake.rotate_keys();
    let rotated = fake.sign_jwt_without_kid(claims.clone());
    client.verify_jwt(&rotated, &key).await.unwrap();

    // A key id naming a foreign key is not accepted through it.
    let forged = fake.forge_jwt(claims, Some("foreign-rsa"));
    let result = client.verify_jwt(&forged, &key).await;
    assert!(
        matches!(&result, Err(Error::UnknownSigningKey { kid }) if kid == "foreign-rsa"),
        "{result:?}"
    );

    // Signing in and refreshing verify too.
    let signed_in = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    signed_in.refresh_token().await.unwrap();
}

#[tokio::test]
async fn unknown_key_ids_refetch_the_keys_at_most_every_30_seconds() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = builder(&fake).build().unwrap();
    let claims = fake.jwt_claims(client.identity().client_identifier().as_str(), key.key_id());
    let key_fetches = || count_requests(&fake, "/api/v2/auth/keys");
    for _ in 0..5 {
        let unknown = fake.forge_jwt(claims.clone(), None);
        let result = client.verify_jwt(&unknown, &key).await;
        assert!(
            matches!(result, Err(Error::UnknownSigningKey { .. })),
            "{result:?}"
        );
    }
    assert_eq!(key_fetches(), 2, "the first fetch and one refetch");
    client
        .verify_jwt(&fake.sign_jwt(claims), &key)
        .await
        .unwrap();
    assert_eq!(key_fetches(), 2);
}

// ------------------------------------------------------------ refresh

async fn fifty_requests(client: &PlexTv) {
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.get_user().send().await.map_err(Error::from) })
    });
    for result in futures_util::future::join_all(calls).await {
        result.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_once_before_expiry_under_concurrency() {
    let fake = FakePlexTv::start().await;
    // Due 2 s after the second it was issued in (expiry and clock are whole
    // seconds): between 1 and 2 s from now, and valid for 2 s more. (The
    // margin is at most half the lifetime.)
    fake.jwt_lifetime(Duration::from_secs(4));
    let key = DeviceKey::generate();
    let client = upgraded(&fake, &key, Duration::from_secs(2)).await;
    let first = client.current_token().unwrap();
    client.get_user().send().await.unwrap();
    assert_eq!(exchanges(&fake), 1, "not due yet");

    // Refreshed JWTs live long, so only the first one is ever due.
    fake.jwt_lifetime(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    fifty_requests(&client).await;
    assert_eq!(exchanges(&fake), 2, "exactly one refresh");
    let second = client.current_token().unwrap();
    assert_ne!(first, second);
    assert_eq!(client.token(), Some(&first), "token() is the sign-in's");
    let claims = client.verify_jwt(&second, &key).await.unwrap();
    assert!(claims.exp > claims.iat + 3000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_once_after_a_401_under_concurrency() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    client.get_user().send().await.unwrap();
    fake.revoke_jwts();
    fifty_requests(&client).await;
    assert_eq!(exchanges(&fake), 2, "exactly one refresh");
    // Clones share the session: no more refreshes.
    client.clone().get_user().send().await.unwrap();
    assert_eq!(exchanges(&fake), 2);
}

#[tokio::test]
async fn a_jwt_living_less_than_the_margin_is_used_for_half_its_life() {
    let fake = FakePlexTv::start().await;
    // Four seconds, against a margin of a day: due 2 s after the second it
    // was issued in.
    fake.jwt_lifetime(Duration::from_secs(4));
    let key = DeviceKey::generate();
    let client = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    let first = client.current_token().unwrap();
    for _ in 0..10 {
        client.get_user().send().await.unwrap();
    }
    assert_eq!(exchanges(&fake), 1, "a fresh JWT is not refreshed");
    assert_eq!(count_requests(&fake, "/api/v2/auth/nonce"), 1);
    assert_eq!(client.current_token(), Some(first.clone()));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    for _ in 0..10 {
        client.get_user().send().await.unwrap();
    }
    assert_eq!(exchanges(&fake), 2, "one refresh past half its life");
    assert_ne!(client.current_token(), Some(first));

    // A stored JWT restores with the same rule.
    let restored = builder(&fake)
        .identity(client.identity().clone())
        .device_key(key)
        .token(client.current_token().unwrap())
        .build()
        .unwrap();
    restored.get_user().send().await.unwrap();
    assert_eq!(exchanges(&fake), 2);
}

/// Fifty concurrent `get_user` calls, within a bound: none waits behind a
/// failing clients.plex.tv.
async fn fifty_results(client: &PlexTv) -> Vec<Result<(), Error>> {
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .get_user()
                .send()
                .await
                .map(drop)
                .map_err(Error::from)
        })
    });
    let all = futures_util::future::join_all(calls);
    let results = tokio::time::timeout(Duration::from_secs(10), all)
        .await
        .expect("the calls end promptly");
    results.into_iter().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_refresh_is_tried_once_and_cools_down_while_the_jwt_is_valid() {
    let fake = FakePlexTv::start().await;
    // Due at once (margin an hour, issued "an hour" ago), valid for another
    // minute.
    fake.jwt_lifetime(Duration::from_secs(60));
    fake.jwt_issued_ago(Duration::from_secs(3600));
    let key = DeviceKey::generate();
    let client = upgraded(&fake, &key, Duration::from_secs(3600)).await;
    const FIRST: Duration = Duration::from_millis(500);
    client.set_refresh_cool_down(FIRST, Duration::from_secs(5));
    let first = client.current_token().unwrap();
    assert_eq!(
        (
            token_requests(&fake),
            count_requests(&fake, "/api/v2/auth/nonce")
        ),
        (1, 1)
    );
    fake.fail_token_exchanges(2, 503);
    // A failure cools down from when it happens, between a round's start
    // and end: the checks of "still cooling down" are only made while that
    // is certain (they are skipped on a machine slow enough to miss it).
    let slack = Duration::from_millis(100);

    let start = Instant::now();
    for result in fifty_results(&client).await {
        result.unwrap();
    }
    let end = Instant::now();
    assert_eq!(token_requests(&fake), 2, "exactly one attempt");
    assert_eq!(count_requests(&fake, "/api/v2/auth/nonce"), 2);
    assert_eq!(count_requests(&fake, "/api/v2/user"), 50);
    assert_eq!(
        client.current_token(),
        Some(first.clone()),
        "the valid JWT goes on"
    );
    if start.elapsed() + slack < FIRST {
        client.get_user().send().await.unwrap();
        assert_eq!(token_requests(&fake), 2, "cooling down: no attempt");
    }

    // After the cool-down, one more attempt (failing: the cool-down doubles).
    tokio::time::sleep_until(end + FIRST + slack).await;
    let start = Instant::now();
    for result in fifty_results(&client).await {
        result.unwrap();
    }
    let end = Instant::now();
    assert_eq!(token_requests(&fake), 3, "one more attempt");
    tokio::time::sleep_until(start + FIRST + slack).await;
    if start.elapsed() + slack < 2 * FIRST {
        client.get_user().send().await.unwrap();
        assert_eq!(token_requests(&fake), 3, "the second cool-down is longer");
    }

    // clients.plex.tv is back: the next attempt refreshes.
    tokio::time::sleep_until(end + 2 * FIRST + slack).await;
    client.get_user().send().await.unwrap();
    assert_eq!((token_requests(&fake), exchanges(&fake)), (4, 2));
    assert_ne!(client.current_token(), Some(first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_is_refreshed_once_for_all_requests_that_got_it() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    fake.revoke_jwts();
    for result in fifty_results(&client).await {
        result.unwrap();
    }
    assert_eq!((token_requests(&fake), exchanges(&fake)), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_with_a_failing_refresh_is_tried_once_and_returned() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let client = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    let first = client.current_token();
    fake.revoke_jwts();
    fake.fail_token_exchanges(u32::MAX, 503);
    let started = std::time::Instant::now();
    for result in fifty_results(&client).await {
        assert!(
            matches!(result, Err(Error::Unauthorized { .. })),
            "{result:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5), "promptly");
    assert_eq!(token_requests(&fake), 2, "exactly one attempt");
    // Each request was sent once: none was sent again without a new JWT.
    assert_eq!(count_requests(&fake, "/api/v2/user"), 50);
    assert_eq!(client.current_token(), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_usable_jwt_requests_share_one_attempt_and_its_typed_error() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let signed_in = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    // The key alone, no stored JWT, and clients.plex.tv failing.
    let client = builder(&fake)
        .identity(signed_in.identity().clone())
        .device_key(key)
        .build()
        .unwrap();
    fake.fail_token_exchanges(1, 503);
    for result in fifty_results(&client).await {
        let error = result.unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{error:?}");
        assert!(error.is_transient(), "{error:?}");
    }
    assert_eq!(token_requests(&fake), 2, "exactly one attempt");
    assert_eq!(
        count_requests(&fake, "/api/v2/user"),
        0,
        "nothing sent without a JWT"
    );

    // An expired JWT is not sent either: the error says why.
    fake.jwt_lifetime(Duration::from_secs(1));
    let expiring = upgraded(&fake, &DeviceKey::generate(), Duration::ZERO).await;
    fake.fail_token_exchanges(1, 500);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let result = expiring.get_user().send().await.map_err(Error::from);
    assert!(
        matches!(&result, Err(Error::Api { status, .. }) if status.as_u16() == 500),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_device_key_client_without_a_stored_jwt_links_pins() {
    let fake = FakePlexTv::start().await;
    let key = DeviceKey::generate();
    let signed_in = upgraded(&fake, &key, plex_tv::DEFAULT_REFRESH_MARGIN).await;
    let client = builder(&fake)
        .identity(signed_in.identity().clone())
        .device_key(key)
        .build()
        .unwrap();
    assert!(client.current_token().is_none());
    let other = builder(&fake).build().unwrap();
    let pin = other.pin_login().link_code().start().await.unwrap();
    client.approve_link_code(pin.code()).await.unwrap();
    assert!(client.current_token().is_some());
}

#[tokio::test]
async fn classic_clients_never_refresh() {
    let fake = FakePlexTv::start().await;
    let client = builder(&fake).token("wrong").build().unwrap();
    let result = client.get_user().send().await.map_err(Error::from);
    assert!(matches!(result, Err(Error::Unauthorized { .. })));
    assert_eq!(exchanges(&fake), 0);
    assert!(fake
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/api/v2/auth")));
}

// ------------------------------------------------------------ secrets

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_and_the_private_key_never_show() {
    // Global, not `set_default`: a thread-local subscriber misses events
    // whose callsites another test thread cached as uninteresting. Other
    // tests then log here too, which only widens the check.
    // The fake server (httpmock) logs the requests it receives, headers and
    // all, as a server would: only the client side is checked.
    use tracing_subscriber::{layer::SubscriberExt, Layer};
    let captured = Captured::default();
    let writer = captured.clone();
    let client_side =
        tracing_subscriber::filter::filter_fn(|meta| !meta.target().starts_with("httpmock"));
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_filter(client_side),
    );
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    let key = DeviceKey::load_or_create(&path).unwrap();
    let pem = std::fs::read_to_string(&path).unwrap();
    let private = pem.lines().nth(1).unwrap().to_owned();

    let fake = FakePlexTv::start().await;
    fake.approve_after_polls(1);
    let client = builder(&fake).build().unwrap();
    let pin = client
        .pin_login()
        .device_key(key.clone())
        .poll_interval(MIN_POLL_INTERVAL)
        .start()
        .await
        .unwrap();
    let signed_in = pin.wait().await.unwrap();
    let first = signed_in.current_token().unwrap();
    fake.revoke_jwts();
    signed_in.get_user().send().await.unwrap();
    let second = signed_in.current_token().unwrap();
    fake.unregister_device_key(key.key_id());
    let error = signed_in.refresh_token().await.unwrap_err();

    let shown = format!(
        "{signed_in:?} {key:?} {error} {error:?} {:?}",
        signed_in.api(),
    );
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("plex_tv.request"), "tracing was captured");
    // The client JWTs: the PIN polls' deviceJWT and the exchanges' bodies.
    let client_jwts = fake.client_jwts();
    assert!(client_jwts.len() >= 2, "{}", client_jwts.len());
    let mut secrets = vec![
        first.expose_secret().to_owned(),
        second.expose_secret().to_owned(),
        private,
    ];
    secrets.extend(client_jwts.iter().map(|t| t.expose_secret().to_owned()));
    for secret in &secrets {
        assert!(!shown.contains(secret), "{shown}");
        if let Some(at) = logs.find(secret) {
            let start = logs[..at].rfind('\n').unwrap_or(0);
            panic!(
                "a secret in the logs: {}",
                &logs[start..at.min(start + 400)]
            );
        }
        // Not even a JWT's signature part.
        let tail = &secret[secret.len() - 20..];
        assert!(!logs.contains(tail) && !shown.contains(tail));
    }
}

#[test]
fn the_clients_base_url_follows_the_base_url_rules() {
    let identity = ClientIdentity::new("App", ClientIdentifier::new_random());
    let refused = PlexTv::builder()
        .identity(identity.clone())
        .clients_base_url("http://clients.example.com")
        .build();
    assert!(matches!(refused, Err(Error::InvalidInput { .. })));
    let client = PlexTv::builder().identity(identity).build().unwrap();
    assert_eq!(client.clients_base_url(), plex_tv::DEFAULT_CLIENTS_BASE_URL);
}
