//! Plex Home and devices: the operations against spec-driven mocks, PIN
//! switching, a Home user's server token, and a family tool's whole
//! journey against the fake plex.tv.

mod support;

use plex_tv::{testing::FakePlexTv, types, ClientIdentifier, ClientIdentity, Error, PlexTv};
use serde_json::json;
use support::{json_reply, Mocks};

// ------------------------------------------------------------ operations

#[tokio::test]
async fn op_create_managed_user() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("createManagedUser", |when, then| {
            when.path("/api/v2/home/users/restricted").json_body(json!({
                "friendlyName": "Kid", "restrictionProfile": "little_kid", "sharingSettings": {}
            }));
            then.status(201)
                .header("content-type", "application/json")
                .body(r#"{"id":5000000001,"uuid":"abcdef0123456789","title":"Kid","restricted":true,"restrictionProfile":"little_kid"}"#);
        })
        .await;
    let body = types::ManagedUserRequest {
        friendly_name: "Kid".into(),
        restriction_profile: Some("little_kid".into()),
        sharing_settings: Default::default(),
    };
    let user = mocks.client().create_managed_user().body(body).send().await;
    mock.assert_async().await;
    let user = user.map_err(Error::from).unwrap().into_inner();
    assert_eq!(user.id, 5_000_000_001);
    assert_eq!(user.restriction_profile.as_deref(), Some("little_kid"));
}

#[tokio::test]
async fn op_update_managed_user() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("updateManagedUser", |when, then| {
            when.path("/api/v2/home/users/restricted/5000000001")
                .query_param("pin", "4321")
                .query_param_missing("removePin")
                .json_body(json!({}));
            then.status(204);
        })
        .await;
    let result = mocks
        .client()
        .update_managed_user()
        .user_id(5_000_000_001_i64)
        .pin("4321")
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 204);
}

#[tokio::test]
async fn op_set_restriction_profile() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("setRestrictionProfile", |when, then| {
            when.path("/api/v2/home/users/restricted/profile")
                .json_body(json!({"userId": 5000000001_i64, "restrictionProfile": "teen"}));
            then.status(204);
        })
        .await;
    let body = types::RestrictionProfileRequest {
        user_id: 5_000_000_001,
        restriction_profile: Some("teen".into()),
    };
    let result = mocks
        .client()
        .set_restriction_profile()
        .body(body)
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_invite_to_home() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("inviteToHome", |when, then| {
            when.path("/api/home/users")
                .query_param("invitedEmail", "alice@example.com")
                .query_param("skipFriendship", "1");
            // The v1 answer is XML; it is not read.
            then.status(201)
                .header("content-type", "application/xml")
                .body("<MediaContainer size=\"1\"><User id=\"1\"/></MediaContainer>");
        })
        .await;
    let result = mocks
        .client()
        .invite_to_home()
        .invited_email("alice@example.com")
        .skip_friendship(1)
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 201);
}

#[tokio::test]
async fn op_remove_home_user() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("removeHomeUser", |when, then| {
            when.path("/api/home/users/5000000001");
            then.status(200);
        })
        .await;
    let result = mocks
        .client()
        .remove_home_user()
        .user_id(5_000_000_001_i64)
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_get_devices() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getDevices", |when, then| {
            when.path("/api/v2/devices");
            json_reply(then, 200, "devices.json");
        })
        .await;
    let result = mocks.client().get_devices().send().await;
    mock.assert_async().await;
    let devices = result.map_err(Error::from).unwrap().into_inner();
    let devices = devices.devices();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].id, Some(77));
    assert_eq!(devices[0].provides.as_deref(), Some("player,client"));
    // The device's own token is a secret; another device's is withheld.
    let token = devices[0].token.as_ref().expect("this device's token");
    assert_eq!(token.expose_secret(), "device-token-0001");
    assert!(!format!("{devices:?}").contains("device-token-0001"));
    assert!(devices[1].token.is_none());
}

#[tokio::test]
async fn op_delete_device() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("deleteDevice", |when, then| {
            when.path("/devices/77.xml");
            then.status(200);
        })
        .await;
    let result = mocks.client().delete_device().device_id(77).send().await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn a_switch_without_the_pin_is_pin_required() {
    let mocks = Mocks::start().await;
    mocks
        .on("switchHomeUser", |when, then| {
            when.path("/api/v2/home/users/abcdef0123456789/switch");
            then.status(403).header("content-type", "application/json").body(
                r#"{"errors":[{"code":1041,"message":"A valid PIN is required to perform this action","status":403}]}"#,
            );
        })
        .await;
    let error = mocks
        .client()
        .sign_in_as_home_user("abcdef0123456789", None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PinRequired { .. }), "{error:?}");
    assert_eq!(error.status(), Some(reqwest::StatusCode::FORBIDDEN));
}

// ------------------------------------------------------------ journey

fn owner(fake: &FakePlexTv) -> PlexTv {
    PlexTv::builder()
        .identity(ClientIdentity::new(
            "Family Tool",
            ClientIdentifier::new_random(),
        ))
        .all_hosts_url(fake.base_url())
        .token(fake.token())
        .build()
        .unwrap()
}

/// Create a managed user with a profile, give it a PIN, switch to it with
/// the PIN, get its token for the owner's server, connect with it.
#[tokio::test]
async fn a_managed_user_reaches_the_owners_server() {
    let fake = FakePlexTv::start().await;
    let machine = "0123456789abcdef0123456789abcdef01234567";
    let media = fake.start_media_server(machine).await;
    let owner = owner(&fake);

    let body = types::ManagedUserRequest {
        friendly_name: "Kid".into(),
        restriction_profile: Some("older_kid".into()),
        sharing_settings: Default::default(),
    };
    let kid = owner
        .create_managed_user()
        .body(body)
        .send()
        .await
        .map_err(Error::from)
        .unwrap()
        .into_inner();
    let listed = owner.get_home_users().send().await.unwrap().into_inner();
    let listed = listed
        .users()
        .iter()
        .find(|u| u.id == kid.id)
        .expect("listed");
    assert_eq!(listed.restriction_profile.as_deref(), Some("older_kid"));
    let uuid = kid.uuid.clone().expect("a uuid");

    owner
        .update_managed_user()
        .user_id(kid.id)
        .pin("2468")
        .send()
        .await
        .map_err(Error::from)
        .unwrap();
    assert!(matches!(
        owner.server_token_for_home_user(&uuid, None, machine).await,
        Err(Error::PinRequired { .. })
    ));
    let token = owner
        .server_token_for_home_user(&uuid, Some("2468"), machine)
        .await
        .unwrap();
    assert_eq!(
        token.expose_secret(),
        format!("fake-server-token-{}", kid.id)
    );

    let as_kid = owner
        .sign_in_as_home_user(&uuid, Some("2468"))
        .await
        .unwrap();
    let server = as_kid.connect(machine).await.unwrap();
    assert_eq!(server.url, media.url());
    assert_eq!(server.token.as_ref(), Some(&token));

    assert!(matches!(
        owner
            .server_token_for_home_user(&uuid, Some("2468"), "another-server")
            .await,
        Err(Error::NoServerAccess { .. })
    ));
    owner
        .remove_home_user()
        .user_id(kid.id)
        .send()
        .await
        .map_err(Error::from)
        .unwrap();
    let left = owner.get_home_users().send().await.unwrap().into_inner();
    assert!(left.users().iter().all(|u| u.id != kid.id));
}

#[tokio::test]
async fn devices_can_be_listed_and_removed_on_the_fake() {
    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    let devices = owner.get_devices().send().await.unwrap().into_inner();
    let id = devices.devices()[0].id.expect("an id");
    owner.delete_device().device_id(id).send().await.unwrap();
    let again = owner.get_devices().send().await.unwrap().into_inner();
    assert!(again.devices().is_empty());
    let error = owner
        .delete_device()
        .device_id(id)
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    assert_eq!(error.status(), Some(reqwest::StatusCode::NOT_FOUND));
}

// ------------------------------------------------------------ v1 (XML)

fn xml_reply(then: httpmock::Then, name: &str) -> httpmock::Then {
    then.status(200)
        .header("content-type", "application/xml")
        .body(support::fixture(name))
}

#[tokio::test]
async fn op_get_home_users_v1() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getHomeUsersV1", |when, then| {
            when.path("/api/home/users");
            xml_reply(then, "home_users_v1.xml");
        })
        .await;
    let result = mocks.client().get_home_users_v1().send().await;
    mock.assert_async().await;
    let home = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!((home.total_size, home.guest_user_id), (Some(3), Some(0)));
    let users = home.user.expect("users");
    assert_eq!(users.len(), 3);
    assert_eq!(
        (users[0].admin, users[0].protected),
        (Some(true), Some(true))
    );
    let kid = &users[1];
    assert_eq!(kid.id, 5_000_000_001);
    assert_eq!(kid.title.as_deref(), Some("Kid & Co"));
    assert_eq!(kid.restriction_profile.as_deref(), Some("little_kid"));
    assert_eq!(users[2].restriction_profile, None);
    // Tokens and PINs in the list are secrets.
    let token = kid.authentication_token.as_ref().expect("a token");
    assert_eq!(token.expose_secret(), "home-user-token-0001");
    assert_eq!(kid.pin.as_ref().unwrap().expose_secret(), "hashed-pin-0001");
    let shown = format!("{users:?}");
    assert!(!shown.contains("home-user-token-0001") && !shown.contains("hashed-pin-0001"));
}

#[tokio::test]
async fn op_get_shared_servers_v1() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getSharedServersV1", |when, then| {
            when.path("/api/servers/0123456789abcdef0123456789abcdef01234567/shared_servers");
            xml_reply(then, "shared_servers_v1.xml");
        })
        .await;
    let owner = mocks.client();
    let result = owner
        .get_shared_servers_v1()
        .machine_identifier("0123456789abcdef0123456789abcdef01234567")
        .send()
        .await;
    mock.assert_async().await;
    let shares = result.map_err(Error::from).unwrap().into_inner();
    let share = &shares.shared_server.as_ref().unwrap()[0];
    assert_eq!((share.id, share.user_id), (900, Some(4_294_967_320)));
    assert_eq!(
        (share.allow_sync, share.allow_tuners),
        (Some(true), Some(2))
    );
    assert_eq!(share.accepted_at, Some(1_767_225_600));
    let sections = share.section.as_ref().unwrap();
    assert_eq!(
        (sections[0].id, sections[0].shared),
        (118_181_361, Some(true))
    );
    assert_eq!(sections[1].shared, Some(false));
    assert!(!format!("{share:?}").contains("friend-server-token-0001"));

    let token = owner
        .server_token_for_friend("0123456789abcdef0123456789abcdef01234567", 4_294_967_320)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), "friend-server-token-0001");
    assert!(matches!(
        owner
            .server_token_for_friend("0123456789abcdef0123456789abcdef01234567", 1)
            .await,
        Err(Error::NoServerAccess { .. })
    ));
}

#[tokio::test]
async fn the_fake_lists_its_home_in_xml() {
    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    let kid = fake.add_home_user("Kid", Some("1357"));
    let home = owner.get_home_users_v1().send().await.unwrap().into_inner();
    let users = home.user.unwrap();
    let listed = users
        .iter()
        .find(|u| u.uuid.as_deref() == Some(kid.as_str()))
        .unwrap();
    assert_eq!(
        (listed.protected, listed.restricted),
        (Some(true), Some(true))
    );
    assert!(listed.authentication_token.is_some());
}

/// An owner's tool acting as a friend: after the friend accepts a share,
/// the v1 shares list gives the friend's own token for the server.
#[tokio::test]
async fn a_friends_server_token_comes_from_the_v1_shares() {
    use plex_tv::{sharing::SharingSettingsBuilder, testing::FAKE_SERVER};

    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    let bob = owner.with_token(fake.add_user("bob", "bob@example.com"));
    let share = owner
        .share_libraries(
            FAKE_SERVER,
            "bob",
            &["Movies"],
            SharingSettingsBuilder::new().build(),
        )
        .await
        .unwrap();
    let bob_id = share.invited_id.expect("the invitee's id");
    // Not yet accepted: no token for the friend.
    assert!(matches!(
        owner.server_token_for_friend(FAKE_SERVER, bob_id).await,
        Err(Error::NoServerAccess { .. })
    ));
    bob.accept_shared_server()
        .shared_server_id(share.id)
        .send()
        .await
        .unwrap();
    let token = owner
        .server_token_for_friend(FAKE_SERVER, bob_id)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), format!("fake-server-token-{bob_id}"));
}
