//! Canned plex.tv bodies, shaped like the real ones: every field plex.tv
//! sends, nulls where it sends nulls, and a few fields the spec does not
//! know (which the decoder must skip).

use serde_json::{json, Value};

/// `GET /api/v2/user` for a Plex Pass account in a home (about 2 KB).
pub fn user() -> Vec<u8> {
    let body = json!({
        "id": 4294967310u64,
        "uuid": "fa4e0f1c2b3d4e5f",
        "username": "alice_bench",
        "title": "alice_bench",
        "email": "alice@example.com",
        "friendlyName": "Alice (bench)",
        "locale": null,
        "confirmed": true,
        "joinedAt": 1500000000,
        "emailOnlyAuth": false,
        "hasPassword": true,
        "protected": false,
        "thumb": "https://plex.tv/users/fa4e0f1c2b3d4e5f/avatar?c=1700000000",
        "authToken": "bench-user-token-0000000000",
        "mailingListStatus": "active",
        "mailingListActive": true,
        "scrobbleTypes": "",
        "country": "US",
        "subscription": {
            "active": true,
            "subscribedAt": "2021-04-12T18:21:12Z",
            "status": "Active",
            "paymentService": null,
            "plan": "lifetime",
            "features": ["webhooks", "sync", "hardware_transcoding", "camera_upload",
                         "download_certificates", "federated-auth", "item_clusters"],
            "renewalAttempts": 0
        },
        "subscriptionDescription": null,
        "restricted": false,
        "anonymous": null,
        "home": true,
        "guest": false,
        "homeSize": 3,
        "homeAdmin": true,
        "maxHomeSize": 15,
        "rememberExpiresAt": 1790000000,
        "profile": {
            "autoSelectAudio": true,
            "defaultAudioLanguage": "en",
            "defaultSubtitleLanguage": null,
            "autoSelectSubtitle": 1,
            "defaultSubtitleAccessibility": 0,
            "defaultSubtitleForced": 1,
            "watchedIndicator": 1,
            "mediaReviewsVisibility": 0
        },
        "entitlements": ["all", "roku", "android", "xbox_one", "ios", "windows", "webos"],
        "roles": ["plexpass"],
        "services": [
            {
                "identifier": "metadata-dev",
                "endpoint": "https://metadata.provider.plex.tv",
                "token": null,
                "secret": null,
                "status": "online"
            },
            {
                "identifier": "tv.plex.provider.epg",
                "endpoint": "https://epg.provider.plex.tv",
                "token": "bench-service-token-2222222222",
                "secret": "bench-service-secret-3333333333",
                "status": "online"
            },
            {
                "identifier": "tv.plex.provider.vod",
                "endpoint": "https://vod.provider.plex.tv",
                "token": "bench-service-token-4444444444",
                "secret": null,
                "status": "online"
            }
        ],
        "adsConsent": null,
        "adsConsentSetAt": null,
        "adsConsentReminderAt": null,
        "experimentalFeatures": false,
        "twoFactorEnabled": true,
        "backupCodesCreated": true,
        "attributionPartner": null,
        "confirmedAt": 1500000100,
        "pastSubscriptions": [],
        "trials": [],
        "someFutureField": {"nested": [1, 2, 3], "flag": true}
    });
    serde_json::to_vec(&body).expect("a JSON value serializes")
}

/// `GET /api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1` for
/// an account that sees `count` servers and players.
pub fn resources(count: usize) -> Vec<u8> {
    let list: Vec<Value> = (0..count).map(resource).collect();
    serde_json::to_vec(&list).expect("a JSON value serializes")
}

fn resource(i: usize) -> Value {
    let server = i % 3 != 2;
    let owned = i.is_multiple_of(5);
    let octet = i % 250 + 2;
    let hash = format!("{:032x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let connections: Vec<Value> = if server {
        vec![
            json!({
                "protocol": "https",
                "address": format!("192.168.1.{octet}"),
                "port": 32400,
                "uri": format!("https://192-168-1-{octet}.{hash}.plex.direct:32400"),
                "local": true,
                "relay": false,
                "IPv6": false
            }),
            json!({
                "protocol": "https",
                "address": format!("203.0.113.{octet}"),
                "port": 32400 + (i % 100) as u32,
                "uri": format!("https://203-0-113-{octet}.{hash}.plex.direct:{}", 32400 + i % 100),
                "local": false,
                "relay": false,
                "IPv6": false
            }),
            json!({
                "protocol": "https",
                "address": format!("2001:db8::{i:x}"),
                "port": 32400,
                "uri": format!("https://2001-db8--{i:x}.{hash}.plex.direct:32400"),
                "local": false,
                "relay": false,
                "IPv6": true
            }),
            json!({
                "protocol": "https",
                "address": "198.51.100.20",
                "port": 8443,
                "uri": format!("https://198-51-100-20.{hash}.plex.direct:8443"),
                "local": false,
                "relay": true,
                "IPv6": false
            }),
        ]
    } else {
        Vec::new()
    };
    json!({
        "name": if server { format!("Bench Server {i}") } else { format!("Living Room TV {i}") },
        "product": if server { "Plex Media Server" } else { "Plex for Android (TV)" },
        "productVersion": if server { "1.41.2.9200-c6bbc1b53" } else { "10.20.0.1234" },
        "platform": if server { "Linux" } else { "Android" },
        "platformVersion": if server { "6.1.0-13-amd64" } else { "11" },
        "device": if server { json!("PC") } else { Value::Null },
        "clientIdentifier": format!("{hash}{i:08x}"),
        "createdAt": "2019-05-01T10:00:00Z",
        "lastSeenAt": "2025-11-22T11:30:00Z",
        "provides": if server { "server" } else { "client,player,pubsub-player" },
        "ownerId": if owned { Value::Null } else { json!(4294967320u64 + i as u64) },
        "sourceTitle": if owned { Value::Null } else { json!(format!("friend_{i}")) },
        "publicAddress": format!("203.0.113.{octet}"),
        "accessToken": format!("bench-access-token-{i:016}"),
        "owned": owned,
        "home": i.is_multiple_of(7),
        "synced": false,
        "relay": server,
        "presence": i.is_multiple_of(2),
        "httpsRequired": server,
        "publicAddressMatches": i.is_multiple_of(4),
        "dnsRebindingProtection": false,
        "natLoopbackSupported": i.is_multiple_of(3),
        "connections": connections
    })
}

/// `GET /api/v2/friends` for an account with `count` friends.
pub fn friends(count: usize) -> Vec<u8> {
    let list: Vec<Value> = (0..count).map(friend).collect();
    serde_json::to_vec(&list).expect("a JSON value serializes")
}

fn friend(i: usize) -> Value {
    let uuid = format!("{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let accepted = i % 6 != 5;
    let shared: Vec<Value> = (0..i % 3)
        .map(|s| {
            json!({
                "id": 100000 + i * 3 + s,
                "machineIdentifier": format!("benchmachine{s:028}"),
                "allLibraries": s == 0
            })
        })
        .collect();
    json!({
        "id": 4294967320u64 + i as u64,
        "uuid": uuid,
        "title": if accepted { format!("friend_{i}") } else { format!("friend{i}@example.org") },
        "username": if accepted { json!(format!("friend_{i}")) } else { Value::Null },
        "email": format!("friend{i}@example.org"),
        "friendlyName": if i.is_multiple_of(2) { json!(format!("Friend {i}")) } else { Value::Null },
        "thumb": format!("https://plex.tv/users/{uuid}/avatar?c=17000{i:05}"),
        "home": i.is_multiple_of(11),
        "restricted": i.is_multiple_of(13),
        "status": if accepted { "accepted" } else { "pending" },
        "sharedServers": shared,
        "sharedSources": [],
        "restrictionProfile": null
    })
}
