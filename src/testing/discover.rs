//! The fake's Plex Discover (discover.provider.plex.tv) and
//! metadata.provider.plex.tv: a small catalog, the account's watchlist with
//! paging and ETags that change with it (304 on a matching
//! `If-None-Match`), item metadata, user state and search.

use std::sync::Arc;

use httpmock::{HttpMockRequest, HttpMockResponse, Method::*};
use serde_json::{json, Value};

use super::{error, header, json_response, lock, FakePlexTv, Handler, State};

/// `(rating key, type, title, year, external ids)` of the fake catalog.
const CATALOG: [(&str, &str, &str, i32, &[&str]); 6] = [
    (
        "5d776b59ad5437001f79c6f8",
        "movie",
        "The Matrix",
        1999,
        &["imdb://tt0133093", "tmdb://603", "tvdb://169"],
    ),
    (
        "5d776c2e96b655001fe27a6f",
        "movie",
        "Dune",
        2021,
        &["imdb://tt1160419", "tmdb://438631"],
    ),
    (
        "5d776b9f7a53e9001e6fc3a2",
        "movie",
        "Arrival",
        2016,
        &["imdb://tt2543164", "tmdb://329865"],
    ),
    (
        "5d9c086c46115600200aa2fe",
        "show",
        "Breaking Bad",
        2008,
        &["imdb://tt0903747", "tmdb://1396", "tvdb://81189"],
    ),
    (
        "5e1632df2d4d84003e48e54e",
        "show",
        "Severance",
        2022,
        &["imdb://tt11280740", "tmdb://95396", "tvdb://371980"],
    ),
    (
        "5d776826999c64001ec2c606",
        "movie",
        "Spirited Away",
        2001,
        &["imdb://tt0245429", "tmdb://129"],
    ),
];

/// The watchlist: rating keys with when they were added, oldest first.
pub(super) struct DiscoverState {
    watchlist: Vec<(String, i64)>,
    /// Bumped by every change, so that ETags change with the list.
    version: u64,
    /// The next `watchlistedAt`: one second per add keeps them distinct.
    clock: i64,
}

impl DiscoverState {
    pub(super) fn new() -> Self {
        DiscoverState {
            watchlist: Vec::new(),
            version: 1,
            clock: 1_700_000_000,
        }
    }
}

impl FakePlexTv {
    /// The rating keys of the items the fake's Discover catalog knows
    /// (movies and shows); other keys answer 404.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = plex_tv::testing::FakePlexTv::start().await;
    /// assert!(fake.catalog_keys().len() >= 3);
    /// # }
    /// ```
    pub fn catalog_keys(&self) -> Vec<String> {
        CATALOG.iter().map(|item| item.0.to_owned()).collect()
    }

    /// The rating keys on the account's watchlist, oldest first.
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
    /// let key = &fake.catalog_keys()[1];
    /// client.add_to_watchlist().rating_key(key).send().await?;
    /// assert_eq!(fake.watchlist_keys(), [key.clone()]);
    /// # Ok(()) }
    /// ```
    pub fn watchlist_keys(&self) -> Vec<String> {
        self.state()
            .discover
            .watchlist
            .iter()
            .map(|(key, _)| key.clone())
            .collect()
    }

    pub(super) async fn install_discover(&self) {
        let routes: [(httpmock::Method, &str, Handler); 5] = [
            (GET, "/library/sections/watchlist/", watchlist),
            (PUT, "/actions/addToWatchlist", add),
            (PUT, "/actions/removeFromWatchlist", remove),
            (GET, "/library/metadata/", metadata),
            (GET, "/library/search", search),
        ];
        for (method, path, handler) in routes {
            let state = Arc::clone(&self.state);
            self.server
                .mock_async(move |when, then| {
                    let when = when.method(method);
                    let _ = if path.ends_with('/') {
                        when.path_prefix(path)
                    } else {
                        when.path(path)
                    };
                    then.respond_with(move |request| {
                        let mut state = lock(&state);
                        state.record(request);
                        if !state.authorized(request) {
                            return error(401, 1001, "User could not be authenticated");
                        }
                        handler(&mut state, request)
                    });
                })
                .await;
        }
    }
}

fn query(request: &HttpMockRequest, name: &str) -> Option<String> {
    request
        .query_params()
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// A paging value from the query or, as python-plexapi sends it, a header.
fn paging(request: &HttpMockRequest, name: &str) -> Option<usize> {
    query(request, name)
        .or_else(|| header(&request.headers(), name))
        .and_then(|value| value.parse().ok())
}

fn catalog_entry(
    key: &str,
) -> Option<&'static (
    &'static str,
    &'static str,
    &'static str,
    i32,
    &'static [&'static str],
)> {
    CATALOG.iter().find(|item| item.0 == key)
}

fn item_json(key: &str, with_guids: bool) -> Option<Value> {
    let (key, kind, title, year, guids) = catalog_entry(key)?;
    let mut item = json!({
        "ratingKey": key,
        "key": format!("/library/metadata/{key}"),
        "guid": format!("plex://{kind}/{key}"),
        "type": kind,
        "title": title,
        "titleSort": title.strip_prefix("The ").unwrap_or(title),
        "year": year,
        "originallyAvailableAt": format!("{year}-06-01"),
        "thumb": format!("https://metadata-static.plex.tv/{key}/thumb.jpg"),
        "art": format!("https://metadata-static.plex.tv/{key}/art.jpg"),
        "rating": 8.1,
        "addedAt": 1_600_000_000,
    });
    if with_guids {
        item["Guid"] = guids.iter().map(|id| json!({ "id": id })).collect();
    }
    Some(item)
}

/// A short, stable digest of the query, so that a page's ETag differs
/// between orders, filters and page sizes.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn watchlist(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let uri = request.uri();
    let filter = uri.path().rsplit('/').next().unwrap_or_default();
    if !matches!(filter, "all" | "available" | "released") {
        return error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        );
    }
    let with_guids = query(request, "includeGuids").as_deref() == Some("1");
    let kind = match query(request, "type").as_deref() {
        Some("1") => Some("movie"),
        Some("2") => Some("show"),
        _ => None,
    };
    let mut entries: Vec<(Value, i64)> = state
        .discover
        .watchlist
        .iter()
        .filter_map(|(key, at)| Some((item_json(key, with_guids)?, *at)))
        .filter(|(item, _)| kind.is_none_or(|kind| item["type"] == kind))
        .collect();
    let sort = query(request, "sort").unwrap_or_else(|| "watchlistedAt:desc".into());
    let (field, order) = sort.split_once(':').unwrap_or((sort.as_str(), "asc"));
    match field {
        "titleSort" => {
            entries.sort_by(|a, b| a.0["titleSort"].as_str().cmp(&b.0["titleSort"].as_str()))
        }
        _ => entries.sort_by_key(|(_, at)| *at),
    }
    if order == "desc" {
        entries.reverse();
    }
    let total = entries.len();
    let start = paging(request, "X-Plex-Container-Start").unwrap_or(0);
    let size = paging(request, "X-Plex-Container-Size").unwrap_or(total);
    let etag = format!(
        "\"{}-{:x}\"",
        state.discover.version,
        digest(uri.query().unwrap_or_default())
    );
    if header(&request.headers(), "if-none-match").as_deref() == Some(etag.as_str()) {
        return HttpMockResponse::builder()
            .status(304)
            .header("etag", etag)
            .build();
    }
    let page: Vec<Value> = entries
        .into_iter()
        .skip(start)
        .take(size)
        .map(|(mut item, at)| {
            item["watchlistedAt"] = json!(at);
            item
        })
        .collect();
    let body = json!({"MediaContainer": {
        "identifier": "tv.plex.provider.discover",
        "offset": start,
        "size": page.len(),
        "totalSize": total,
        "librarySectionID": "watchlist",
        "librarySectionTitle": "Watchlist",
        "Metadata": page,
    }});
    json_with_etag(&body, &etag)
}

fn json_with_etag(body: &Value, etag: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .header("etag", etag)
        .body(body.to_string())
        .build()
}

fn add(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let Some(key) = query(request, "ratingKey").filter(|key| catalog_entry(key).is_some()) else {
        return error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        );
    };
    let discover = &mut state.discover;
    // Plex answers 200 whether or not the item was already there.
    if !discover.watchlist.iter().any(|(on, _)| *on == key) {
        discover.watchlist.push((key, discover.clock));
        discover.clock += 1;
        discover.version += 1;
    }
    HttpMockResponse::builder().status(200).build()
}

fn remove(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let Some(key) = query(request, "ratingKey").filter(|key| catalog_entry(key).is_some()) else {
        return error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        );
    };
    let discover = &mut state.discover;
    let before = discover.watchlist.len();
    discover.watchlist.retain(|(on, _)| *on != key);
    if discover.watchlist.len() != before {
        discover.version += 1;
    }
    HttpMockResponse::builder().status(200).build()
}

/// `/library/metadata/{ratingKey}` and `/library/metadata/{ratingKey}/userState`.
fn metadata(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let rest = request
        .uri()
        .path()
        .strip_prefix("/library/metadata/")
        .unwrap_or_default()
        .to_owned();
    let (key, user_state) = match rest.strip_suffix("/userState") {
        Some(key) => (key.to_owned(), true),
        None => (rest, false),
    };
    let Some(item) = item_json(&key, true) else {
        return error(
            404,
            1002,
            "The requested resource or endpoint could not be found",
        );
    };
    if user_state {
        let watchlisted = state
            .discover
            .watchlist
            .iter()
            .find(|(on, _)| *on == key)
            .map(|(_, at)| *at);
        let mut user_state = json!({
            "ratingKey": key, "type": item["type"], "viewCount": 0, "viewOffset": 0,
            "viewedLeafCount": 0,
        });
        if let Some(at) = watchlisted {
            user_state["watchlistedAt"] = json!(at);
        }
        let body = json!({"MediaContainer": {
            "identifier": "tv.plex.provider.metadata", "size": 1, "UserState": user_state,
        }});
        return json_response(200, &body);
    }
    // The catalog never changes here: one ETag per item.
    let etag = format!("\"item-{key}\"");
    if header(&request.headers(), "if-none-match").as_deref() == Some(etag.as_str()) {
        return HttpMockResponse::builder()
            .status(304)
            .header("etag", etag)
            .build();
    }
    let body = json!({"MediaContainer": {
        "identifier": "tv.plex.provider.discover", "offset": 0, "size": 1, "totalSize": 1,
        "Metadata": [item],
    }});
    json_with_etag(&body, &etag)
}

fn search(_state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let Some(text) = query(request, "query").map(|q| q.to_lowercase()) else {
        return error(400, 1000, "query is missing");
    };
    let limit = query(request, "limit")
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(10);
    let types = query(request, "searchTypes").unwrap_or_else(|| "movies,tv".into());
    let wanted = |kind: &str| match kind {
        "movie" => types.contains("movies"),
        _ => types.contains("tv"),
    };
    let hits: Vec<Value> = CATALOG
        .iter()
        .filter(|(_, kind, title, _, _)| wanted(kind) && title.to_lowercase().contains(&text))
        .take(limit)
        .enumerate()
        .filter_map(|(rank, (key, ..))| {
            let metadata = item_json(key, true)?;
            Some(json!({"score": 0.9 - 0.1 * rank as f64, "Metadata": metadata}))
        })
        .collect();
    let body = json!({"MediaContainer": {
        "identifier": "tv.plex.provider.discover", "size": 2,
        "SearchResults": [
            {"id": "plex", "title": "On Plex", "size": 0, "SearchResult": []},
            {"id": "external", "title": "More Ways to Watch", "size": hits.len(), "SearchResult": hits},
        ],
    }});
    json_response(200, &body)
}
