//! Sharing and friends: one test per operation (`op_<name>`) against the
//! spec-driven mocks, with realistic fixtures that decode without losing a
//! field, then the XML answers and the errors particular to sharing.

mod support;

use plex_tv::{types, Error};
use serde_json::{json, Value};

use support::{fixture, json_reply, Mocks};

const MACHINE: &str = "fakemachine0000000000000000000000000000a1";

/// Every leaf of `original` that carries data (not `null`) is in `decoded`
/// with the same value: decoding into the generated type dropped nothing.
fn assert_lossless(original: &Value, decoded: &Value, at: &str) {
    match original {
        Value::Null => {}
        Value::Object(fields) => {
            for (key, value) in fields {
                let here = format!("{at}.{key}");
                match decoded.get(key) {
                    Some(found) => assert_lossless(value, found, &here),
                    None => assert!(value.is_null(), "{here} was lost in decoding"),
                }
            }
        }
        Value::Array(items) => {
            let found = decoded
                .as_array()
                .unwrap_or_else(|| panic!("{at}: not an array"));
            assert_eq!(items.len(), found.len(), "{at}: items lost");
            for (i, (item, found)) in items.iter().zip(found).enumerate() {
                assert_lossless(item, found, &format!("{at}[{i}]"));
            }
        }
        leaf => assert_eq!(leaf, decoded, "{at} changed in decoding"),
    }
}

fn lossless<T: serde::Serialize>(name: &str, decoded: &T) {
    let original: Value = serde_json::from_str(&fixture(name)).unwrap();
    assert_lossless(&original, &serde_json::to_value(decoded).unwrap(), "$");
}

fn xml_reply(then: httpmock::Then, status: u16, body: &str) -> httpmock::Then {
    then.status(status)
        .header("content-type", "application/xml; charset=utf-8")
        .body(body)
}

#[test]
fn the_lossless_check_sees_a_lost_field() {
    let lost = std::panic::catch_unwind(|| {
        assert_lossless(
            &json!({"a": 1, "b": {"c": "x"}}),
            &json!({"a": 1, "b": {}}),
            "$",
        )
    });
    assert!(lost.is_err());
    let changed = std::panic::catch_unwind(|| assert_lossless(&json!([1]), &json!(["1"]), "$"));
    assert!(changed.is_err());
    assert_lossless(&json!({"a": null, "b": [1]}), &json!({"b": [1]}), "$");
}

// ---------------------------------------------------------------- friends

#[tokio::test]
async fn get_friends_sends_the_include_flags_and_decodes_shares() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getFriends", |when, then| {
            when.path("/api/v2/friends")
                .query_param("includeSharedServers", "true")
                .query_param("includeSharedSources", "true")
                .query_param("includeSharingSettings", "true")
                .query_param("status", "accepted");
            then.status(200)
                .header("content-type", "application/json")
                .body(format!("[{}]", fixture("friend.json")));
        })
        .await;
    let friends = mocks
        .client()
        .get_friends()
        .include_shared_servers(true)
        .include_shared_sources(true)
        .include_sharing_settings(true)
        .status("accepted")
        .send()
        .await
        .map_err(Error::from)
        .unwrap()
        .into_inner();
    mock.assert_async().await;
    let bob = &friends[0];
    assert_eq!(
        bob.friendship_created_at,
        Some("2025-12-24T18:00:00Z".parse().unwrap())
    );
    let settings = bob.sharing_settings.as_ref().expect("sharingSettings");
    assert_eq!(settings.allow_tuners, Some(2));
    let share = &bob.shared_servers.as_ref().unwrap()[0];
    assert_eq!(
        share.libraries.as_ref().unwrap()[1].title.as_deref(),
        Some("TV Shows")
    );
    let original: Value = serde_json::from_str(&fixture("friend.json")).unwrap();
    assert_lossless(&original, &serde_json::to_value(bob).unwrap(), "$");
}

#[tokio::test]
async fn op_get_friend() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getFriend", |when, then| {
            when.path("/api/v2/friends/4294967320");
            json_reply(then, 200, "friend.json");
        })
        .await;
    let result = mocks
        .client()
        .get_friend()
        .friend_id(4_294_967_320_i64)
        .send()
        .await;
    mock.assert_async().await;
    let friend = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(friend.id, 4_294_967_320);
    assert_eq!(friend.status.as_deref(), Some("accepted"));
    assert_eq!(friend.restriction_profile, None);
    let settings = friend.sharing_settings.as_ref().unwrap();
    assert_eq!(
        settings.filter_movies.as_deref(),
        Some("contentRating=G%2CPG|label!=kids")
    );
    assert_eq!(settings.filter_photos, None);
    let share = &friend.shared_servers.as_ref().unwrap()[0];
    assert_eq!(
        share.invited.as_ref().unwrap().username.as_deref(),
        Some("bob_test")
    );
    lossless("friend.json", &friend);
}

#[tokio::test]
async fn op_invite_friend() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("inviteFriend", |when, then| {
            when.path("/api/v2/friends/invite")
                .query_param("identifier", "frank@example.com");
            json_reply(then, 201, "friend_invited.json");
        })
        .await;
    let result = mocks
        .client()
        .invite_friend()
        .identifier("frank@example.com")
        .send()
        .await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.status.as_deref(), Some("pending"));
    lossless("friend_invited.json", &response.into_inner());
}

#[tokio::test]
async fn op_accept_friend() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("acceptFriend", |when, then| {
            when.path("/api/v2/friends/4294967320/accept");
            json_reply(then, 200, "friend.json");
        })
        .await;
    let result = mocks
        .client()
        .accept_friend()
        .friend_id(4_294_967_320_i64)
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(
        result.map_err(Error::from).unwrap().status.as_deref(),
        Some("accepted")
    );
}

#[tokio::test]
async fn op_delete_friend() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("deleteFriend", |when, then| {
            when.path("/api/v2/friends/42");
            then.status(204);
        })
        .await;
    let result = mocks.client().delete_friend().friend_id(42).send().await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 204);
}

#[tokio::test]
async fn op_cancel_friend_invite() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("cancelFriendInvite", |when, then| {
            when.path("/api/v2/friends/invite")
                .query_param("identifier", "frank");
            then.status(200);
        })
        .await;
    let result = mocks
        .client()
        .cancel_friend_invite()
        .identifier("frank")
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

// ---------------------------------------------------------------- shares

fn settings() -> types::SharingSettings {
    serde_json::from_str(&fixture("sharing_settings.json")).unwrap()
}

#[tokio::test]
async fn op_create_shared_server() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("createSharedServer", |when, then| {
            when.path("/api/v2/shared_servers")
                .header("content-type", "application/json")
                .json_body(json!({
                    "machineIdentifier": MACHINE,
                    "invitedEmail": "bob@example.com",
                    "librarySectionIds": [118181361, 118181362],
                    // null fields are left out.
                    "settings": {
                        "allowSync": true, "allowChannels": false, "allowCameraUpload": false,
                        "allowSubtitleAdmin": false, "allowTuners": 2,
                        "filterMovies": "contentRating=G%2CPG|label!=kids",
                        "filterMusic": "", "filterTelevision": ""
                    },
                    "skipFriendship": true
                }));
            json_reply(then, 201, "shared_server.json");
        })
        .await;
    let result = mocks
        .client()
        .create_shared_server()
        .body(types::CreateSharedServerRequest {
            machine_identifier: MACHINE.into(),
            invited_email: "bob@example.com".into(),
            library_section_ids: vec![118_181_361, 118_181_362],
            settings: Some(settings()),
            skip_friendship: Some(true),
        })
        .send()
        .await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap();
    assert_eq!(response.status(), 201);
    let share = response.into_inner();
    assert_eq!(share.id, 101);
    assert_eq!(share.server_id, Some(9_000_001));
    assert_eq!(share.accepted, Some(true));
    assert_eq!(
        share.accepted_at,
        Some("2026-01-01T00:00:00Z".parse().unwrap())
    );
    assert_eq!(share.libraries.as_ref().unwrap()[0].id, 118_181_361);
    lossless("shared_server.json", &share);
}

#[tokio::test]
async fn op_list_owned_accepted_shares() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("listOwnedAcceptedShares", |when, then| {
            when.path("/api/v2/shared_servers/owned/accepted");
            json_reply(then, 200, "shares_accepted.json");
        })
        .await;
    let result = mocks.client().list_owned_accepted_shares().send().await;
    mock.assert_async().await;
    let shares = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].num_libraries, Some(2));
    lossless("shares_accepted.json", &shares);
}

#[tokio::test]
async fn op_list_owned_pending_invites() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("listOwnedPendingInvites", |when, then| {
            when.path("/api/v2/shared_servers/invites/owned/pending");
            json_reply(then, 200, "invites_sent.json");
        })
        .await;
    let result = mocks.client().list_owned_pending_invites().send().await;
    mock.assert_async().await;
    let invites = result.map_err(Error::from).unwrap().into_inner();
    let share = &invites[0].shared_servers.as_ref().unwrap()[0];
    assert_eq!(share.accepted, Some(false));
    let token = share.invite_token.as_ref().expect("inviteToken");
    assert_eq!(token.expose_secret(), "FAKE-invite-token-0123456789");
    assert!(
        !format!("{share:?}").contains("FAKE-invite-token"),
        "the secret shows in Debug"
    );
    lossless("invites_sent.json", &invites);
}

#[tokio::test]
async fn op_list_received_pending_invites() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("listReceivedPendingInvites", |when, then| {
            when.path("/api/v2/shared_servers/invites/received/pending");
            json_reply(then, 200, "invites_received.json");
        })
        .await;
    let result = mocks.client().list_received_pending_invites().send().await;
    mock.assert_async().await;
    let invites = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(
        invites[0].owner.as_ref().unwrap().friendly_name.as_deref(),
        Some("Erin")
    );
    assert_eq!(invites[0].shared_servers.as_ref().unwrap()[0].id, 102);
    lossless("invites_received.json", &invites);
}

#[tokio::test]
async fn op_accept_shared_server() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("acceptSharedServer", |when, then| {
            when.path("/api/v2/shared_servers/102/accept");
            then.status(200).body("");
        })
        .await;
    let result = mocks
        .client()
        .accept_shared_server()
        .shared_server_id(102)
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_update_shared_server() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("updateSharedServer", |when, then| {
            when.path("/api/v2/shared_servers/101").json_body(json!({
                "librarySectionIds": [118181361],
                "settings": {"allowSync": false, "allowTuners": 0}
            }));
            then.status(200);
        })
        .await;
    let result = mocks
        .client()
        .update_shared_server()
        .shared_server_id(101)
        .body(types::UpdateSharedServerRequest {
            library_section_ids: Some(vec![118_181_361]),
            settings: Some(types::SharingSettings {
                allow_sync: Some(false),
                allow_tuners: Some(0),
                ..Default::default()
            }),
        })
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_delete_shared_server() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("deleteSharedServer", |when, then| {
            when.path("/api/v2/shared_servers/101");
            then.status(204);
        })
        .await;
    let result = mocks
        .client()
        .delete_shared_server()
        .shared_server_id(101)
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_delete_sharing() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("deleteSharing", |when, then| {
            when.path("/api/v2/sharings/4294967320");
            then.status(200);
        })
        .await;
    let result = mocks
        .client()
        .delete_sharing()
        .user_id(4_294_967_320_i64)
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

#[tokio::test]
async fn op_get_sharing_settings() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getSharingSettings", |when, then| {
            when.path("/api/v2/sharing_settings")
                .query_param("invitedId", "4294967320");
            json_reply(then, 200, "sharing_settings.json");
        })
        .await;
    let result = mocks
        .client()
        .get_sharing_settings()
        .invited_id(4_294_967_320_i64)
        .send()
        .await;
    mock.assert_async().await;
    let settings = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(settings.allow_sync, Some(true));
    assert_eq!(settings.allow_tuners, Some(2));
    lossless("sharing_settings.json", &settings);
}

#[tokio::test]
async fn op_set_sharing_settings() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("setSharingSettings", |when, then| {
            when.path("/api/v2/sharing_settings")
                .query_param("invitedEmail", "bob@example.com")
                .json_body(
                    json!({"settings": {"allowSync": true, "filterTelevision": "label=family"}}),
                );
            then.status(204);
        })
        .await;
    let result = mocks
        .client()
        .set_sharing_settings()
        .invited_email("bob@example.com")
        .body(types::SharingSettingsRequest {
            settings: types::SharingSettings {
                allow_sync: Some(true),
                filter_television: Some("label=family".into()),
                ..Default::default()
            },
        })
        .send()
        .await;
    mock.assert_async().await;
    result.map_err(Error::from).unwrap();
}

// ---------------------------------------------------------------- servers

#[tokio::test]
async fn get_server_has_library_sections_with_plex_tv_ids() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getServer", |when, then| {
            when.path(format!("/api/v2/servers/{MACHINE}"));
            json_reply(then, 200, "server_sections.json");
        })
        .await;
    let server = mocks
        .client()
        .get_server()
        .machine_identifier(MACHINE)
        .send()
        .await
        .map_err(Error::from)
        .unwrap()
        .into_inner();
    mock.assert_async().await;
    let sections = server.library_sections.as_ref().unwrap();
    assert_eq!((sections[0].id, sections[0].key), (118_181_361, Some(1)));
    assert_eq!(server.created_at, Some(1_556_704_800));
    lossless("server_sections.json", &server);
}

#[tokio::test]
async fn op_get_server_sections() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getServerSections", |when, then| {
            when.path(format!("/api/servers/{MACHINE}"));
            xml_reply(then, 200, &fixture("server_sections.xml"));
        })
        .await;
    let result = mocks
        .client()
        .get_server_sections()
        .machine_identifier(MACHINE)
        .send()
        .await;
    mock.assert_async().await;
    let answer = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!(answer.size, Some(1));
    let server = &answer.server.as_ref().unwrap()[0];
    assert_eq!(server.port, Some(32400));
    assert_eq!(server.created_at, Some(1_556_704_800));
    assert_eq!((server.owned, server.synced), (Some(true), Some(false)));
    let sections = server.section.as_ref().unwrap();
    assert_eq!(sections.len(), 3);
    assert_eq!(sections[2].id, 118_181_363);
    assert_eq!(sections[2].key, Some(3));
    assert_eq!(sections[2].title.as_deref(), Some("Music"));
    assert_eq!(sections[2].type_.as_deref(), Some("artist"));
}

// ---------------------------------------------------------------- v1 users (XML)

#[tokio::test]
async fn op_get_users() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getUsers", |when, then| {
            when.path("/api/users");
            xml_reply(then, 200, &fixture("users.xml"));
        })
        .await;
    let result = mocks.client().get_users().send().await;
    mock.assert_async().await;
    let users = result.map_err(Error::from).unwrap().into_inner();
    assert_eq!((users.total_size, users.size), (Some(3), Some(3)));
    assert_eq!(
        users.identifier.as_deref(),
        Some("com.plexapp.plugins.myplex")
    );
    let list = users.user.as_ref().unwrap();
    assert_eq!(list.len(), 3);
    let alice = &list[0];
    assert_eq!(alice.id, 111);
    assert_eq!(alice.username.as_deref(), Some("alice"));
    assert_eq!(
        (alice.protected, alice.home, alice.restricted),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!(
        (alice.allow_sync, alice.allow_channels),
        (Some(true), Some(true))
    );
    assert_eq!(alice.allow_tuners, Some(2));
    assert_eq!(
        alice.filter_movies.as_deref(),
        Some("contentRating=G%2CPG|label!=kids")
    );
    assert_eq!(alice.filter_all.as_deref(), Some(""));
    let servers = alice.server.as_ref().unwrap();
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].id, Some(900));
    assert_eq!(servers[0].last_seen_at, Some(1_700_000_000));
    assert_eq!(servers[0].all_libraries, Some(true));
    assert_eq!(servers[1].name.as_deref(), Some("Cabin & Lake"));
    assert_eq!(servers[1].pending, Some(true));
    let kid = &list[1];
    assert_eq!(kid.id, 4_294_967_999);
    assert_eq!(kid.username.as_deref(), Some(""));
    assert_eq!(kid.restricted, Some(true));
    assert_eq!(kid.allow_sync, None, "missing attributes stay None");
    assert!(list[2].server.is_none());
}

/// plex.tv's v1 answers carry no content type worth trusting: the body decides.
#[tokio::test]
async fn xml_answers_are_sniffed_and_json_passes_through() {
    async fn users_from(content_type: &str, body: &str) -> Result<types::UsersV1, Error> {
        let mocks = Mocks::start().await;
        let (content_type, body) = (content_type.to_owned(), body.to_owned());
        let mock = mocks
            .on("getUsers", move |_, then| {
                then.status(200)
                    .header("content-type", content_type)
                    .body(body);
            })
            .await;
        let result = mocks.client().get_users().send().await;
        mock.assert_async().await;
        result.map(|r| r.into_inner()).map_err(Error::from)
    }
    let xml = "\u{feff}  <MediaContainer size=\"1\"><User id=\"7\"/></MediaContainer>";
    let from_xml = users_from("text/plain", xml).await.unwrap();
    assert_eq!(from_xml.user.unwrap()[0].id, 7);
    let json = r#"{"size": 1, "User": [{"id": 8, "home": true}]}"#;
    let from_json = users_from("application/json", json).await.unwrap();
    assert_eq!(from_json.user.unwrap()[0].home, Some(true));
}
