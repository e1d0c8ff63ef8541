//! The fake's Plex Home, devices and media servers: Home users with PINs
//! and tokens of their own, managed users that tests create through the
//! API, switching (403 with code 1041 without the right PIN), the devices
//! list, and loopback "media servers" that answer `/identity`, for
//! `PlexTv::connect`.

use std::sync::Arc;

use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use serde_json::{json, Value};

use super::{error, header, json_response, FakePlexTv, State};

/// One user of the fake's Plex Home (the owner is not one of them).
#[derive(Clone, Debug)]
pub(super) struct HomeUser {
    id: i64,
    uuid: String,
    title: String,
    restricted: bool,
    restriction_profile: Option<String>,
    pin: Option<String>,
    token: String,
}

impl HomeUser {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "uuid": self.uuid, "title": self.title, "friendlyName": self.title,
            "username": if self.restricted { Value::Null } else { json!(self.title.to_lowercase()) },
            "restricted": self.restricted, "restrictionProfile": self.restriction_profile,
            "protected": self.pin.is_some(), "admin": false, "guest": false, "home": true,
            "thumb": format!("https://plex.tv/users/{}/avatar", self.uuid),
        })
    }
}

#[derive(Default)]
pub(super) struct HomeState {
    users: Vec<HomeUser>,
    next_id: i64,
    devices: Vec<Value>,
}

impl HomeState {
    pub(super) fn new() -> Self {
        HomeState {
            users: Vec::new(),
            next_id: 5_000_000_001,
            devices: vec![json!({
                "id": 77, "name": "Living Room TV", "clientIdentifier": "tv-0001",
                "product": "Plex for Android (TV)", "productVersion": "10.1", "platform": "Android",
                "platformVersion": "12", "device": "SHIELD", "provides": "player,client",
                "publicAddress": "203.0.113.7", "createdAt": "2024-01-01T00:00:00Z",
                "lastSeenAt": "2026-01-01T00:00:00Z"
            })],
        }
    }

    fn add(&mut self, title: &str, pin: Option<&str>, restricted: bool) -> HomeUser {
        let id = self.next_id;
        self.next_id += 1;
        let user = HomeUser {
            id,
            uuid: format!("{:016x}", id as u64 * 0x9E37_79B9),
            title: title.to_owned(),
            restricted,
            restriction_profile: None,
            pin: pin.map(str::to_owned),
            token: format!("fake-home-token-{id}"),
        };
        self.users.push(user.clone());
        user
    }

    /// The Home user whose account token this is.
    pub(super) fn by_token(&self, token: &str) -> Option<&HomeUser> {
        self.users.iter().find(|u| u.token == token)
    }
}

/// The request's token, if it is a Home user's.
pub(super) fn home_user<'a>(state: &'a State, request: &HttpMockRequest) -> Option<&'a HomeUser> {
    let token = header(&request.headers(), "x-plex-token")?;
    state.home.by_token(&token)
}

/// The account of a Home user, as `/api/v2/user` answers it.
pub(super) fn account(user: &HomeUser) -> Value {
    let mut account = user.json();
    account["authToken"] = json!(user.token);
    account
}

/// The resources a Home user sees: the owner's, with a server token of the
/// user's own.
pub(super) fn resources_for(state: &State, user: &HomeUser) -> Value {
    let mut resources = state.resources.clone();
    for resource in resources.as_array_mut().into_iter().flatten() {
        resource["accessToken"] = json!(format!("fake-server-token-{}", user.id));
        resource["owned"] = json!(false);
        resource["home"] = json!(true);
    }
    resources
}

/// `GET /api/home/users` (v1): XML, with each member's token, as plex.tv
/// has been seen to send it.
pub(super) fn list_v1(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return HttpMockResponse::builder()
            .status(422)
            .header("content-type", "application/xml")
            .body("<errors><error>Invalid token</error></errors>")
            .build();
    }
    let escape = super::sharing::attr;
    let mut users = String::from(
        "  <User id=\"4294967297\" uuid=\"f4e3d2c1b0a99887\" admin=\"1\" guest=\"0\" restricted=\"0\" hasPassword=\"1\" protected=\"0\" title=\"fake-user\" username=\"fake-user\" email=\"fake-user@example.com\" thumb=\"https://plex.tv/users/f4e3d2c1b0a99887/avatar\"/>\n",
    );
    for user in &state.home.users {
        let profile = user
            .restriction_profile
            .as_deref()
            .map(|p| format!(" restrictionProfile=\"{}\"", escape(p)))
            .unwrap_or_default();
        users.push_str(&format!(
            "  <User id=\"{}\" uuid=\"{}\" admin=\"0\" guest=\"0\" restricted=\"{}\"{profile} hasPassword=\"0\" protected=\"{}\" title=\"{}\" username=\"\" email=\"\" thumb=\"https://plex.tv/users/{}/avatar\" authenticationToken=\"{}\"/>\n",
            user.id, user.uuid, u8::from(user.restricted), u8::from(user.pin.is_some()),
            escape(&user.title), user.uuid, user.token,
        ));
    }
    let n = state.home.users.len() + 1;
    HttpMockResponse::builder()
        .status(200)
        .header("content-type", "application/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MediaContainer friendlyName=\"myPlex\" identifier=\"com.plexapp.plugins.myplex\" machineIdentifier=\"fake-home\" totalSize=\"{n}\" size=\"{n}\" guestUserID=\"0\">\n{users}</MediaContainer>\n"
        ))
        .build()
}

pub(super) fn list(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let users: Vec<Value> = state.home.users.iter().map(HomeUser::json).collect();
    json_response(
        200,
        &json!({ "id": 1, "name": "Fake Home", "users": users }),
    )
}

/// `POST /api/v2/home/users/...`: create, change, profile, switch.
pub(super) fn post(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let path = request.uri().path().to_owned();
    let rest = path.trim_start_matches("/api/v2/home/users/");
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap_or(Value::Null);
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["restricted"] => {
            let Some(name) = body["friendlyName"].as_str().filter(|n| !n.is_empty()) else {
                return error(400, 1000, "friendlyName is missing");
            };
            let mut user = state.home.add(name, None, true);
            user.restriction_profile = body["restrictionProfile"].as_str().map(str::to_owned);
            if let Some(stored) = state.home.users.iter_mut().find(|u| u.id == user.id) {
                stored.restriction_profile = user.restriction_profile.clone();
            }
            json_response(201, &user.json())
        }
        ["restricted", "profile"] => {
            let id = body["userId"].as_i64();
            match state.home.users.iter_mut().find(|u| Some(u.id) == id) {
                Some(user) => {
                    user.restriction_profile =
                        body["restrictionProfile"].as_str().map(str::to_owned);
                    HttpMockResponse::builder().status(204).build()
                }
                None => error(
                    404,
                    1002,
                    "The requested resource or endpoint could not be found",
                ),
            }
        }
        ["restricted", id] => {
            let query = request.query_params();
            let id = id.parse::<i64>().ok();
            let Some(user) = state.home.users.iter_mut().find(|u| Some(u.id) == id) else {
                return error(
                    404,
                    1002,
                    "The requested resource or endpoint could not be found",
                );
            };
            if let Some(name) = body["friendlyName"].as_str() {
                user.title = name.to_owned();
            }
            for (key, value) in query {
                match key.as_str() {
                    "pin" => user.pin = Some(value),
                    "removePin" if value == "1" => user.pin = None,
                    _ => {}
                }
            }
            HttpMockResponse::builder().status(204).build()
        }
        [uuid, "switch"] => switch(state, request, uuid),
        _ => error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        ),
    }
}

fn switch(state: &mut State, request: &HttpMockRequest, uuid: &str) -> HttpMockResponse {
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(request.body_ref()).unwrap_or_default();
    let pin = form
        .iter()
        .find(|(k, _)| k == "pin")
        .map(|(_, v)| v.as_str());
    let Some(user) = state.home.users.iter().find(|u| u.uuid == uuid) else {
        return error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        );
    };
    if user.pin.is_some() && user.pin.as_deref() != pin {
        return error(403, 1041, "A valid PIN is required to perform this action");
    }
    json_response(201, &account(user))
}

/// `POST /api/home/users?invitedEmail=`: an existing account joins.
pub(super) fn invite(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let invited = request
        .query_params()
        .into_iter()
        .find(|(k, _)| k == "invitedEmail")
        .map(|(_, v)| v);
    let Some(invited) = invited.filter(|v| !v.is_empty()) else {
        return error(400, 1000, "invitedEmail is missing");
    };
    let name = invited.split('@').next().unwrap_or(&invited).to_owned();
    state.home.add(&name, None, false);
    HttpMockResponse::builder()
        .status(201)
        .header("content-type", "application/xml")
        .body("<MediaContainer size=\"0\"/>")
        .build()
}

/// `DELETE /api/home/users/{id}`.
pub(super) fn remove(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let id = last_id(request, "");
    let before = state.home.users.len();
    state.home.users.retain(|u| Some(u.id) != id);
    removed(state.home.users.len() < before, 204)
}

/// The id that ends the request's path, before `suffix` (`.xml`).
fn last_id(request: &HttpMockRequest, suffix: &str) -> Option<i64> {
    let last = request.uri().path().rsplit('/').next()?.to_owned();
    last.strip_suffix(suffix)?.parse().ok()
}

/// The answer to a DELETE: `status` when something was removed, else 404.
fn removed(found: bool, status: u16) -> HttpMockResponse {
    if !found {
        return error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        );
    }
    HttpMockResponse::builder().status(status).build()
}

pub(super) fn devices(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    json_response(200, &Value::Array(state.home.devices.clone()))
}

/// `DELETE /devices/{id}.xml`.
pub(super) fn delete_device(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    if !state.authorized(request) {
        return error(401, 1001, "User could not be authenticated");
    }
    let id = last_id(request, ".xml");
    let before = state.home.devices.len();
    state.home.devices.retain(|d| d["id"].as_i64() != id);
    removed(state.home.devices.len() < before, 200)
}

/// A loopback "media server" from [`FakePlexTv::start_media_server`].
#[derive(Clone)]
pub struct FakeMediaServer {
    server: Arc<MockServer>,
    machine_identifier: String,
}

impl std::fmt::Debug for FakeMediaServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeMediaServer")
            .field("url", &self.url())
            .field("machine_identifier", &self.machine_identifier)
            .finish()
    }
}

impl FakeMediaServer {
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// Its machine identifier.
    pub fn machine_identifier(&self) -> &str {
        &self.machine_identifier
    }
}

impl FakePlexTv {
    /// Adds a managed user to the fake's Plex Home (with a PIN, if given)
    /// and returns its uuid; it switches with the PIN and gets a token of
    /// its own.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let owner = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// let kid = fake.add_home_user("Kid", Some("1234"));
    /// let without_pin = owner.sign_in_as_home_user(&kid, None).await;
    /// assert!(matches!(without_pin, Err(plex_tv::Error::PinRequired { .. })));
    /// # Ok(()) }
    /// ```
    pub fn add_home_user(&self, title: &str, pin: Option<&str>) -> String {
        self.state().home.add(title, pin, true).uuid
    }

    /// The PIN of a Home user, as the fake has it now (`None` without one).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// let kid = fake.add_home_user("Kid", Some("1234"));
    /// assert_eq!(fake.home_user_pin(&kid).as_deref(), Some("1234"));
    /// # }
    /// ```
    pub fn home_user_pin(&self, uuid: &str) -> Option<String> {
        let state = self.state();
        state
            .home
            .users
            .iter()
            .find(|u| u.uuid == uuid)?
            .pin
            .clone()
    }

    /// Starts a loopback media server that answers `GET /identity` with
    /// `machine_identifier`, and makes it the account's only resource, with
    /// one local http connection to it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// let server = fake.start_media_server("abc").await;
    /// let connection = client.connect("abc").await?;
    /// assert_eq!(connection.url, server.url());
    /// # Ok(()) }
    /// ```
    pub async fn start_media_server(&self, machine_identifier: &str) -> FakeMediaServer {
        let server = Arc::new(MockServer::start_async().await);
        let body = json!({"MediaContainer": {"size": 0, "claimed": true,
            "machineIdentifier": machine_identifier, "version": "1.41.0.8994"}});
        server
            .mock_async(|when, then| {
                when.method(httpmock::Method::GET).path("/identity");
                then.status(200)
                    .header("content-type", "application/json")
                    .body(body.to_string());
            })
            .await;
        let url = server.base_url();
        let port = url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
        self.set_resources(json!([{
            "name": "Fake Server", "product": "Plex Media Server", "productVersion": "1.41.0.8994",
            "clientIdentifier": machine_identifier, "provides": "server", "ownerId": null,
            "accessToken": "fake-server-token", "owned": true, "presence": true,
            "httpsRequired": false, "publicAddressMatches": true,
            "connections": [{"protocol": "http", "address": "127.0.0.1", "port": port,
                             "uri": url, "local": true, "relay": false, "IPv6": false}]
        }]));
        self.media_servers().push(Arc::clone(&server));
        FakeMediaServer {
            server,
            machine_identifier: machine_identifier.to_owned(),
        }
    }
}
