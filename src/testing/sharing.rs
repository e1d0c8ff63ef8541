//! The fake's friends and sharing: accounts with their own tokens, one
//! owned server with three libraries, and shares that go from pending to
//! accepted to updated to removed, seen from the owner's and the invitee's
//! side. Every host's paths are served by the one mock server.

use chrono::Utc;
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use serde_json::{json, Value};

use super::{error, header, json_response, lock, State};

/// The machine identifier of the fake's own server (also in its resources).
pub(super) const MACHINE: &str = "0123456789abcdef0123456789abcdef01234567";

/// The fake server's libraries: plex.tv-wide id, key, title, type.
const SECTIONS: [(i64, i64, &str, &str); 3] = [
    (118_181_361, 1, "Movies", "movie"),
    (118_181_362, 2, "TV Shows", "show"),
    (118_181_363, 3, "Music", "artist"),
];

/// Accounts other than the signed-in one, and the shares between them.
pub(super) struct SharingState {
    accounts: Vec<Account>,
    shares: Vec<Share>,
    /// Friendships asked for without a server, and whether accepted.
    friendships: Vec<Friendship>,
    next_id: i64,
}

struct Account {
    id: i64,
    username: String,
    email: String,
    token: String,
}

struct Friendship {
    from: i64,
    to: i64,
    accepted: bool,
}

impl Friendship {
    fn between(&self, a: i64, b: i64) -> bool {
        (self.from == a && self.to == b) || (self.from == b && self.to == a)
    }
}

struct Share {
    id: i64,
    owner: i64,
    invited: Option<i64>,
    invited_email: String,
    sections: Vec<i64>,
    settings: Value,
    accepted_at: Option<String>,
    invite_token: String,
    created_at: String,
}

impl SharingState {
    pub(super) fn new() -> Self {
        SharingState {
            accounts: Vec::new(),
            shares: Vec::new(),
            friendships: Vec::new(),
            next_id: 5000,
        }
    }

    /// Adds an account and returns its token.
    pub(super) fn add_user(&mut self, username: &str, email: &str) -> String {
        self.next_id += 1;
        let id = 4_294_968_000 + self.next_id;
        let token = format!("fake-token-{username}-{id}");
        self.accounts.push(Account {
            id,
            username: username.to_owned(),
            email: email.to_owned(),
            token: token.clone(),
        });
        token
    }
}

/// The paths served here, each answered by [`dispatch`].
const PREFIXES: [&str; 7] = [
    "/api/v2/friends",
    "/api/v2/shared_servers",
    "/api/v2/sharings/",
    "/api/v2/sharing_settings",
    "/api/v2/servers/",
    "/api/servers/",
    "/api/users",
];

pub(super) async fn install(server: &MockServer, state: &std::sync::Arc<std::sync::Mutex<State>>) {
    for prefix in PREFIXES {
        let state = std::sync::Arc::clone(state);
        server
            .mock_async(move |when, then| {
                let _ = when.path_prefix(prefix);
                then.respond_with(move |request| {
                    let mut state = lock(&state);
                    state.record(request);
                    dispatch(&mut state, request)
                });
            })
            .await;
    }
}

/// The account a request's token belongs to: the signed-in one (`state.user`) or an added one.
fn requester(state: &State, request: &HttpMockRequest) -> Option<i64> {
    if state.authorized(request) {
        return Some(owner_id(state));
    }
    let token = header(&request.headers(), "x-plex-token")?;
    state
        .sharing
        .accounts
        .iter()
        .find(|account| account.token == token)
        .map(|account| account.id)
}

fn owner_id(state: &State) -> i64 {
    state.user["id"].as_i64().unwrap_or_default()
}

fn query(request: &HttpMockRequest, name: &str) -> Option<String> {
    request
        .query_params()
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn empty(status: u16) -> HttpMockResponse {
    HttpMockResponse::builder().status(status).build()
}

fn not_found() -> HttpMockResponse {
    error(
        404,
        1002,
        "The requested resource or endpoint could not be found",
    )
}

fn dispatch(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let Some(me) = requester(state, request) else {
        if request.uri().path().starts_with("/api/users")
            || request.uri().path().starts_with("/api/servers/")
        {
            return xml(422, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<errors>\n  <error>Invalid token</error>\n</errors>\n");
        }
        return error(401, 1001, "User could not be authenticated");
    };
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method();
    let id = |index: usize| segments.get(index).and_then(|s| s.parse::<i64>().ok());
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["api", "v2", "servers", mid]) => server_json(state, me, mid),
        ("GET", ["api", "servers", mid]) => server_xml(state, me, mid),
        ("GET", ["api", "servers", mid, "shared_servers"]) => shared_servers_xml(state, me, mid),
        ("GET", ["api", "users"]) => users_xml(state, me),
        ("POST", ["api", "v2", "shared_servers"]) => create_share(state, me, request),
        ("GET", ["api", "v2", "shared_servers", "owned", "accepted"]) => {
            let shares: Vec<Value> = state
                .sharing
                .shares
                .iter()
                .filter(|share| share.owner == me && share.accepted_at.is_some())
                .map(|share| share_json(state, share))
                .collect();
            json_response(200, &Value::Array(shares))
        }
        ("GET", ["api", "v2", "shared_servers", "invites", "owned", "pending"]) => {
            let invites: Vec<Value> = state
                .sharing
                .shares
                .iter()
                .filter(|share| share.owner == me && share.accepted_at.is_none())
                .map(|share| {
                    json!({"id": share.id, "createdAt": share.created_at, "invitedEmail": share.invited_email,
                           "invited": share.invited.map(|id| account_json(state, id)),
                           "sharedServers": [share_json(state, share)]})
                })
                .collect();
            json_response(200, &Value::Array(invites))
        }
        ("GET", ["api", "v2", "shared_servers", "invites", "received", "pending"]) => {
            let invites: Vec<Value> = state
                .sharing
                .shares
                .iter()
                .filter(|share| share.invited == Some(me) && share.accepted_at.is_none())
                .map(|share| {
                    json!({"id": share.id, "createdAt": share.created_at,
                           "owner": account_json(state, share.owner),
                           "sharedServers": [share_json(state, share)]})
                })
                .collect();
            json_response(200, &Value::Array(invites))
        }
        ("POST", ["api", "v2", "shared_servers", _, "accept"]) => {
            match state
                .sharing
                .shares
                .iter_mut()
                .find(|s| Some(s.id) == id(3) && s.invited == Some(me))
            {
                Some(share) => {
                    share.accepted_at = Some(now());
                    empty(200)
                }
                None => not_found(),
            }
        }
        ("POST", ["api", "v2", "shared_servers", _]) => update_share(state, me, id(3), request),
        ("DELETE", ["api", "v2", "shared_servers", _]) => {
            let before = state.sharing.shares.len();
            state
                .sharing
                .shares
                .retain(|s| !(Some(s.id) == id(3) && (s.owner == me || s.invited == Some(me))));
            if state.sharing.shares.len() < before {
                empty(204)
            } else {
                not_found()
            }
        }
        ("DELETE", ["api", "v2", "sharings", _]) => {
            let user = id(3);
            state
                .sharing
                .shares
                .retain(|s| !(s.owner == me && s.invited == user));
            if let Some(user) = user {
                state.sharing.friendships.retain(|f| !f.between(me, user));
            }
            empty(204)
        }
        (m, ["api", "v2", "sharing_settings"]) => sharing_settings(state, me, m, request),
        ("GET", ["api", "v2", "friends"]) => {
            let friends: Vec<Value> = friend_ids(state, me)
                .into_iter()
                .map(|friend| friend_json(state, me, friend, request))
                .collect();
            json_response(200, &Value::Array(friends))
        }
        ("POST", ["api", "v2", "friends", "invite"]) => {
            let Some(friend) =
                query(request, "identifier").and_then(|who| find_account(state, &who))
            else {
                return not_found();
            };
            if !state
                .sharing
                .friendships
                .iter()
                .any(|f| f.between(me, friend))
            {
                state.sharing.friendships.push(Friendship {
                    from: me,
                    to: friend,
                    accepted: false,
                });
            }
            json_response(201, &friend_json(state, me, friend, request))
        }
        ("DELETE", ["api", "v2", "friends", "invite"]) => {
            let friend = query(request, "identifier").and_then(|who| find_account(state, &who));
            state
                .sharing
                .friendships
                .retain(|f| !(f.from == me && Some(f.to) == friend && !f.accepted));
            empty(204)
        }
        ("GET", ["api", "v2", "friends", _]) => {
            match id(3).filter(|f| friend_ids(state, me).contains(f)) {
                Some(friend) => json_response(200, &friend_json(state, me, friend, request)),
                None => not_found(),
            }
        }
        ("POST", ["api", "v2", "friends", _, "accept"]) => {
            let asked = state
                .sharing
                .friendships
                .iter_mut()
                .find(|f| Some(f.from) == id(3) && f.to == me);
            match asked {
                Some(friendship) => {
                    friendship.accepted = true;
                    let from = friendship.from;
                    json_response(200, &friend_json(state, me, from, request))
                }
                None => not_found(),
            }
        }
        ("DELETE", ["api", "v2", "friends", _]) => {
            let Some(friend) = id(3) else {
                return not_found();
            };
            state.sharing.friendships.retain(|f| !f.between(me, friend));
            empty(204)
        }
        _ => not_found(),
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn xml(status: u16, body: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/xml; charset=utf-8")
        .body(body.to_owned())
        .build()
}

fn find_account(state: &State, who: &str) -> Option<i64> {
    state
        .sharing
        .accounts
        .iter()
        .find(|a| a.username.eq_ignore_ascii_case(who) || a.email.eq_ignore_ascii_case(who))
        .map(|a| a.id)
}

fn account_json(state: &State, id: i64) -> Value {
    if id == owner_id(state) {
        let user = &state.user;
        return json!({"id": id, "uuid": user["uuid"], "title": user["title"], "username": user["username"],
                      "email": user["email"], "friendlyName": user["friendlyName"], "thumb": user["thumb"]});
    }
    match state.sharing.accounts.iter().find(|a| a.id == id) {
        Some(a) => {
            json!({"id": a.id, "uuid": format!("{:016x}", a.id), "title": a.username, "username": a.username,
                          "email": a.email, "friendlyName": null,
                          "thumb": format!("https://plex.tv/users/{:016x}/avatar?c=1", a.id)})
        }
        None => json!({"id": id}),
    }
}

fn sections_json(ids: &[i64]) -> Vec<Value> {
    SECTIONS
        .iter()
        .filter(|(id, ..)| ids.contains(id))
        .map(|(id, key, title, kind)| json!({"id": id, "key": key, "title": title, "type": kind}))
        .collect()
}

fn share_json(state: &State, share: &Share) -> Value {
    let invited = share.invited.map(|id| {
        let mut friend = account_json(state, id);
        friend["status"] = json!(if share.accepted_at.is_some() {
            "accepted"
        } else {
            "pending"
        });
        friend["home"] = json!(false);
        friend["restricted"] = json!(false);
        friend
    });
    json!({
        "id": share.id, "name": "Fake Server", "ownerId": share.owner, "invitedId": share.invited,
        "invitedEmail": share.invited_email, "serverId": 9_000_001, "machineIdentifier": MACHINE,
        "accepted": share.accepted_at.is_some(), "acceptedAt": share.accepted_at, "deletedAt": null,
        "leftAt": null, "lastSeenAt": null, "owned": true,
        "inviteToken": share.accepted_at.is_none().then(|| share.invite_token.clone()),
        "numLibraries": share.sections.len(), "allLibraries": share.sections.len() == SECTIONS.len(),
        "libraries": sections_json(&share.sections), "sharingSettings": share.settings, "invited": invited,
    })
}

fn default_settings() -> Value {
    json!({"allowSync": false, "allowChannels": false, "allowCameraUpload": false, "allowSubtitleAdmin": false,
           "allowTuners": 0, "filterMovies": "", "filterMusic": "", "filterTelevision": "",
           "filterPhotos": null, "filterAll": null})
}

/// The settings in `given` over the defaults.
fn merged_settings(base: &Value, given: Option<&Value>) -> Value {
    let mut settings = base.clone();
    if let (Some(target), Some(Value::Object(given))) = (settings.as_object_mut(), given) {
        for (key, value) in given {
            target.insert(key.clone(), value.clone());
        }
    }
    settings
}

/// The section ids asked for, all of them for an empty list, or `None` if one is unknown.
fn section_ids(body: &Value) -> Option<Vec<i64>> {
    let asked: Vec<i64> = body["librarySectionIds"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if asked.is_empty() {
        return Some(SECTIONS.iter().map(|s| s.0).collect());
    }
    asked
        .iter()
        .all(|id| SECTIONS.iter().any(|s| s.0 == *id))
        .then_some(asked)
}

fn create_share(state: &mut State, me: i64, request: &HttpMockRequest) -> HttpMockResponse {
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
    if body["machineIdentifier"] != MACHINE || me != owner_id(state) {
        return not_found();
    }
    let Some(email) = body["invitedEmail"].as_str().map(str::to_owned) else {
        return error(400, 1000, "invitedEmail is missing");
    };
    let Some(sections) = section_ids(&body) else {
        return error(400, 1000, "Unknown library section id");
    };
    let invited = find_account(state, &email);
    let taken = state.sharing.shares.iter().any(|s| {
        s.owner == me
            && (s.invited_email.eq_ignore_ascii_case(&email)
                || (invited.is_some() && s.invited == invited))
    });
    if taken {
        return error(422, 1998, "This user already has access to this server");
    }
    state.sharing.next_id += 1;
    let share = Share {
        id: state.sharing.next_id,
        owner: me,
        invited,
        invited_email: email,
        sections,
        settings: merged_settings(&default_settings(), body.get("settings")),
        accepted_at: None,
        invite_token: format!("fake-invite-{:x}", uuid::Uuid::new_v4().as_simple()),
        created_at: now(),
    };
    let answer = share_json(state, &share);
    state.sharing.shares.push(share);
    json_response(201, &answer)
}

fn update_share(
    state: &mut State,
    me: i64,
    id: Option<i64>,
    request: &HttpMockRequest,
) -> HttpMockResponse {
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
    let sections = match body.get("librarySectionIds") {
        Some(_) => match section_ids(&body) {
            Some(ids) => Some(ids),
            None => return error(400, 1000, "Unknown library section id"),
        },
        None => None,
    };
    let Some(share) = state
        .sharing
        .shares
        .iter_mut()
        .find(|s| Some(s.id) == id && s.owner == me)
    else {
        return not_found();
    };
    if let Some(sections) = sections {
        share.sections = sections;
    }
    share.settings = merged_settings(&share.settings, body.get("settings"));
    empty(200)
}

fn sharing_settings(
    state: &mut State,
    me: i64,
    method: &str,
    request: &HttpMockRequest,
) -> HttpMockResponse {
    let by_id = query(request, "invitedId").and_then(|id| id.parse::<i64>().ok());
    let by_email = query(request, "invitedEmail");
    let share = state.sharing.shares.iter_mut().find(|s| {
        s.owner == me
            && (by_id.is_some() && s.invited == by_id
                || by_email
                    .as_deref()
                    .is_some_and(|e| s.invited_email.eq_ignore_ascii_case(e)))
    });
    let Some(share) = share else {
        return not_found();
    };
    if method == "POST" {
        let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
        share.settings = merged_settings(&share.settings, body.get("settings"));
        return empty(204);
    }
    json_response(200, &share.settings)
}

/// Everyone `me` shares with, shares with `me`, or is friends or invited to be friends with.
fn friend_ids(state: &State, me: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    for share in &state.sharing.shares {
        if share.owner == me {
            ids.extend(share.invited);
        } else if share.invited == Some(me) {
            ids.push(share.owner);
        }
    }
    for friendship in &state.sharing.friendships {
        if friendship.from == me {
            ids.push(friendship.to);
        } else if friendship.to == me {
            ids.push(friendship.from);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn friend_json(state: &State, me: i64, friend: i64, request: &HttpMockRequest) -> Value {
    let shares: Vec<&Share> = state
        .sharing
        .shares
        .iter()
        .filter(|s| s.owner == me && s.invited == Some(friend))
        .collect();
    let accepted = shares.iter().any(|s| s.accepted_at.is_some())
        || state
            .sharing
            .friendships
            .iter()
            .any(|f| f.accepted && f.between(me, friend));
    let mut value = account_json(state, friend);
    value["home"] = json!(false);
    value["restricted"] = json!(false);
    value["restrictionProfile"] = Value::Null;
    value["status"] = json!(if accepted { "accepted" } else { "pending" });
    let flag = |name: &str| query(request, name).is_some_and(|v| v == "true" || v == "1");
    if flag("includeSharedServers") {
        value["sharedServers"] = shares.iter().map(|s| share_json(state, s)).collect();
    }
    if flag("includeSharedSources") {
        value["sharedSources"] = json!([]);
    }
    if flag("includeSharingSettings") {
        value["sharingSettings"] = shares
            .first()
            .map_or_else(default_settings, |s| s.settings.clone());
    }
    value
}

fn server_json(state: &State, me: i64, mid: &str) -> HttpMockResponse {
    if mid != MACHINE || me != owner_id(state) {
        return not_found();
    }
    let ids: Vec<i64> = SECTIONS.iter().map(|s| s.0).collect();
    json_response(
        200,
        &json!({
            "name": "Fake Server", "address": "203.0.113.7", "port": 32400, "version": "1.40.0.7998",
            "scheme": "https", "host": "203.0.113.7", "localAddresses": "192.168.1.10",
            "machineIdentifier": MACHINE, "createdAt": 1_609_459_200, "updatedAt": 1_767_225_600,
            "owned": true, "synced": false, "librarySections": sections_json(&ids),
        }),
    )
}

fn server_xml(state: &State, me: i64, mid: &str) -> HttpMockResponse {
    if mid != MACHINE || me != owner_id(state) {
        return xml(404, "<Response code=\"404\" status=\"Server not found\"/>");
    }
    let sections: String = SECTIONS
        .iter()
        .map(|(id, key, title, kind)| {
            format!("    <Section id=\"{id}\" key=\"{key}\" type=\"{kind}\" title=\"{title}\"/>\n")
        })
        .collect();
    xml(200, &format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MediaContainer friendlyName=\"myPlex\" identifier=\"com.plexapp.plugins.myplex\" machineIdentifier=\"{MACHINE}\" size=\"1\">\n  <Server name=\"Fake Server\" address=\"203.0.113.7\" port=\"32400\" version=\"1.40.0.7998\" scheme=\"https\" host=\"203.0.113.7\" localAddresses=\"192.168.1.10\" machineIdentifier=\"{MACHINE}\" createdAt=\"1609459200\" updatedAt=\"1767225600\" owned=\"1\" synced=\"0\">\n{sections}  </Server>\n</MediaContainer>\n"
    ))
}

/// Escapes text for an XML attribute.
pub(super) fn attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `GET /api/servers/{mid}/shared_servers`: the accepted shares of the
/// owner's server, each with the friend's own token for it.
fn shared_servers_xml(state: &State, me: i64, mid: &str) -> HttpMockResponse {
    if mid != MACHINE || me != owner_id(state) {
        return xml(404, "<Response code=\"404\" status=\"Server not found\"/>");
    }
    let mut shares = String::new();
    let accepted = state.sharing.shares.iter().filter(|share| {
        share.owner == me && share.accepted_at.is_some() && share.invited.is_some()
    });
    for share in accepted {
        let friend = share.invited.unwrap_or_default();
        let account = account_json(state, friend);
        let text = |key: &str| attr(account[key].as_str().unwrap_or_default());
        let flag = |key: &str| {
            if share.settings[key] == true {
                "1"
            } else {
                "0"
            }
        };
        shares.push_str(&format!(
            "  <SharedServer id=\"{}\" username=\"{}\" email=\"{}\" userID=\"{friend}\" accessToken=\"fake-server-token-{friend}\" name=\"Fake Server\" acceptedAt=\"1767225600\" invitedAt=\"1767225000\" allowSync=\"{}\" allowCameraUpload=\"{}\" allowChannels=\"{}\" allowTuners=\"{}\" allLibraries=\"{}\" owned=\"0\">\n",
            share.id, text("username"), text("email"),
            flag("allowSync"), flag("allowCameraUpload"), flag("allowChannels"),
            share.settings["allowTuners"].as_i64().unwrap_or_default(),
            u8::from(share.sections.len() == SECTIONS.len()),
        ));
        for (id, key, title, kind) in SECTIONS {
            let shared = u8::from(share.sections.contains(&id));
            shares.push_str(&format!(
                "    <Section id=\"{id}\" key=\"{key}\" title=\"{title}\" type=\"{kind}\" shared=\"{shared}\"/>\n"
            ));
        }
        shares.push_str("  </SharedServer>\n");
    }
    xml(200, &format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MediaContainer friendlyName=\"myPlex\" identifier=\"com.plexapp.plugins.myplex\" machineIdentifier=\"{MACHINE}\">\n{shares}</MediaContainer>\n"
    ))
}

fn users_xml(state: &State, me: i64) -> HttpMockResponse {
    let friends = friend_ids(state, me);
    let mut users = String::new();
    for friend in &friends {
        let account = account_json(state, *friend);
        let text = |key: &str| attr(account[key].as_str().unwrap_or_default());
        let share = state
            .sharing
            .shares
            .iter()
            .find(|s| s.owner == me && s.invited == Some(*friend));
        let settings = share.map_or_else(default_settings, |s| s.settings.clone());
        let flag = |key: &str| if settings[key] == true { "1" } else { "0" };
        let filter = |key: &str| attr(settings[key].as_str().unwrap_or_default());
        users.push_str(&format!(
            "  <User id=\"{friend}\" title=\"{}\" username=\"{}\" email=\"{}\" thumb=\"{}\" protected=\"0\" home=\"0\" restricted=\"0\" allowSync=\"{}\" allowCameraUpload=\"{}\" allowChannels=\"{}\" allowTuners=\"{}\" allowSubtitleAdmin=\"{}\" filterAll=\"\" filterMovies=\"{}\" filterMusic=\"{}\" filterPhotos=\"\" filterTelevision=\"{}\">\n",
            text("title"), text("username"), text("email"), text("thumb"),
            flag("allowSync"), flag("allowCameraUpload"), flag("allowChannels"),
            settings["allowTuners"].as_i64().unwrap_or_default(), flag("allowSubtitleAdmin"),
            filter("filterMovies"), filter("filterMusic"), filter("filterTelevision"),
        ));
        if let Some(share) = share {
            users.push_str(&format!(
                "    <Server id=\"{}\" serverId=\"9000001\" machineIdentifier=\"{MACHINE}\" name=\"Fake Server\" lastSeenAt=\"\" numLibraries=\"{}\" allLibraries=\"{}\" owned=\"0\" pending=\"{}\"/>\n",
                share.id, share.sections.len(), u8::from(share.sections.len() == SECTIONS.len()),
                u8::from(share.accepted_at.is_none()),
            ));
        }
        users.push_str("  </User>\n");
    }
    xml(200, &format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MediaContainer friendlyName=\"myPlex\" identifier=\"com.plexapp.plugins.myplex\" machineIdentifier=\"{MACHINE}\" totalSize=\"{n}\" size=\"{n}\">\n{users}</MediaContainer>\n",
        n = friends.len()
    ))
}
