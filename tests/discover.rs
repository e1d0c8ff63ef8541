//! The watchlist and Discover: one test per operation (host, method, path,
//! query and headers, against the spec-driven mocks), then the paging
//! stream, conditional requests, hostile bodies, and the whole round trip
//! against the fake plex.tv.

mod support;

use futures_util::{StreamExt, TryStreamExt};
use httpmock::{Mock, Then, When};
use plex_tv::{
    testing::FakePlexTv,
    types::WatchlistFilter,
    watchlist::{Conditional, DiscoverType, WatchlistCache, MAX_PAGE_SIZE},
    ClientIdentifier, ClientIdentity, Error, PlexTv, RetryPolicy,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use support::{json_reply, Mocks};

const MATRIX: &str = "5d776b59ad5437001f79c6f8";
const BREAKING_BAD: &str = "5d9c086c46115600200aa2fe";

// ---------------------------------------------------------------- operations

#[tokio::test]
async fn op_get_watchlist() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getWatchlist", |when, then| {
            when.path("/library/sections/watchlist/released")
                .query_param("sort", "titleSort:asc")
                .query_param("type", "1")
                .query_param("includeGuids", "1")
                .query_param("includeCollections", "1")
                .query_param("includeExternalMedia", "1")
                .query_param("X-Plex-Container-Start", "0")
                .query_param("X-Plex-Container-Size", "2")
                .header("if-none-match", "\"old\"");
            json_reply(then, 200, "watchlist.json").header("etag", "\"v2\"");
        })
        .await;

    let result = mocks
        .client()
        .get_watchlist()
        .filter(WatchlistFilter::Released)
        .sort("titleSort:asc")
        .type_(1)
        .include_guids(1)
        .include_collections(1)
        .include_external_media(1)
        .x_plex_container_start(0)
        .x_plex_container_size(2)
        .if_none_match("\"old\"")
        .send()
        .await;
    mock.assert_async().await;
    let response = result.map_err(Error::from).unwrap();
    assert_eq!(response.headers()["etag"], "\"v2\"");
    let body = response.into_inner();
    let container = body.media_container.as_ref().expect("a container");
    assert_eq!(
        container.identifier.as_deref(),
        Some("tv.plex.provider.discover")
    );
    assert_eq!(
        (container.offset, container.size, container.total_size),
        (Some(0), Some(2), Some(3))
    );
    assert_eq!(container.library_section_id, Some(json!("watchlist")));
    assert_eq!(
        container.library_section_title.as_deref(),
        Some("Watchlist")
    );

    let [dune, show] = body.items() else {
        panic!("two items: {:?}", body.items())
    };
    assert_eq!(dune.rating_key.as_deref(), Some("5d776c2e96b655001fe27a6f"));
    assert_eq!(
        dune.key.as_deref(),
        Some("/library/metadata/5d776c2e96b655001fe27a6f")
    );
    assert_eq!(
        dune.guid.as_deref(),
        Some("plex://movie/5d776c2e96b655001fe27a6f")
    );
    assert_eq!(dune.kind.as_deref(), Some("movie"));
    assert_eq!(dune.title.as_deref(), Some("Dune"));
    assert_eq!(dune.year, Some(2021));
    assert_eq!(dune.originally_available_at.as_deref(), Some("2021-10-22"));
    assert_eq!(dune.rating, Some(8.3));
    assert_eq!(dune.audience_rating, Some(9.0));
    assert_eq!(dune.content_rating.as_deref(), Some("PG-13"));
    assert_eq!(dune.duration, Some(9_300_000));
    assert_eq!(dune.studio.as_deref(), Some("Legendary Pictures"));
    assert!(dune.thumb.as_deref().unwrap().starts_with("https://"));
    assert!(dune.art.as_deref().unwrap().starts_with("https://"));
    assert_eq!(
        (dune.added_at, dune.watchlisted_at),
        (Some(1_634_860_800), Some(1_700_000_100))
    );
    assert_eq!(dune.external_id("imdb"), Some("tt1160419"));
    assert_eq!(dune.external_id("tmdb"), Some("438631"));
    assert_eq!(dune.external_id("tvdb"), Some("12345"));

    assert_eq!(show.kind.as_deref(), Some("show"));
    assert_eq!((show.child_count, show.leaf_count), (Some(5), Some(62)));
    assert_eq!(show.originally_available_at, None);
    assert_eq!(show.thumb, None);
    assert!(show.external_ids.is_none());
}

#[tokio::test]
async fn op_add_to_watchlist() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("addToWatchlist", |when, then| {
            when.path("/actions/addToWatchlist")
                .query_param("ratingKey", MATRIX)
                .query_param_missing("uri");
            then.status(200);
        })
        .await;

    let result = mocks
        .client()
        .add_to_watchlist()
        .rating_key(MATRIX)
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 200);
}

#[tokio::test]
async fn op_remove_from_watchlist() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("removeFromWatchlist", |when, then| {
            when.path("/actions/removeFromWatchlist")
                .query_param("ratingKey", MATRIX);
            then.status(204);
        })
        .await;

    let result = mocks
        .client()
        .remove_from_watchlist()
        .rating_key(MATRIX)
        .send()
        .await;
    mock.assert_async().await;
    assert_eq!(result.map_err(Error::from).unwrap().status(), 204);
}

#[tokio::test]
async fn op_get_discover_item() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getDiscoverItem", |when, then| {
            when.path(format!("/library/metadata/{MATRIX}"))
                .query_param("includeExternalMedia", "1");
            json_reply(then, 200, "discover_item.json");
        })
        .await;

    let result = mocks
        .client()
        .get_discover_item()
        .rating_key(MATRIX)
        .include_external_media(1)
        .send()
        .await;
    mock.assert_async().await;
    let body = result.map_err(Error::from).unwrap().into_inner();
    let [item] = body.items() else {
        panic!("one item: {:?}", body.items())
    };
    assert_eq!(item.title.as_deref(), Some("The Matrix"));
    assert_eq!(item.tagline.as_deref(), Some("Welcome to the Real World."));
    assert_eq!(item.original_title, None);
    assert_eq!(item.external_id("imdb"), Some("tt0133093"));
    assert_eq!(item.external_id("tmdb"), Some("603"));
    assert_eq!(item.external_id("tvdb"), Some("169"));
}

#[tokio::test]
async fn op_get_user_state() {
    let mocks = Mocks::start().await;
    // On metadata.provider.plex.tv, not on Discover.
    assert_eq!(
        mocks.server_of("getUserState").base_url(),
        mocks.host("metadata.provider.plex.tv").base_url()
    );
    let mock = mocks
        .on("getUserState", |when, then| {
            when.path(format!("/library/metadata/{BREAKING_BAD}/userState"));
            json_reply(then, 200, "user_state.json");
        })
        .await;

    let result = mocks
        .client()
        .get_user_state()
        .rating_key(BREAKING_BAD)
        .send()
        .await;
    mock.assert_async().await;
    let body = result.map_err(Error::from).unwrap().into_inner();
    let state = body.user_state().expect("a user state");
    assert_eq!(state.rating_key.as_deref(), Some(BREAKING_BAD));
    assert_eq!(state.type_.as_deref(), Some("show"));
    assert_eq!(
        (state.view_count, state.view_offset, state.viewed_leaf_count),
        (Some(1), Some(1_234_000), Some(12))
    );
    assert_eq!(state.last_viewed_at, Some(1_699_990_000));
    assert_eq!(state.view_state.as_deref(), Some("complete"));
    assert_eq!(state.watchlisted_at, Some(1_700_000_000));
}

#[tokio::test]
async fn op_search_discover() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("searchDiscover", |when, then| {
            when.path("/library/search")
                .query_param("query", "dune")
                .query_param("limit", "30")
                .query_param("searchTypes", "movies,tv")
                .query_param("searchProviders", "discover,PLEXAVOD")
                .query_param("includeMetadata", "1");
            json_reply(then, 200, "discover_search.json");
        })
        .await;

    let result = mocks
        .client()
        .search_discover()
        .query("dune")
        .limit(30)
        .search_types("movies,tv")
        .search_providers("discover,PLEXAVOD")
        .include_metadata(1)
        .send()
        .await;
    mock.assert_async().await;
    let body = result.map_err(Error::from).unwrap().into_inner();
    let external = body.search_group("external").expect("the external group");
    assert_eq!(external.size, Some(2));
    let hits = external.search_result.as_deref().unwrap();
    let scores: Vec<_> = hits.iter().map(|hit| hit.score).collect();
    assert_eq!(scores, [Some(0.96), Some(0.71)]);
    let years: Vec<_> = hits
        .iter()
        .map(|hit| hit.metadata.as_ref().and_then(|m| m.year))
        .collect();
    assert_eq!(years, [Some(2021), Some(1984)]);
    let plex = body.search_group("plex").expect("the plex group");
    assert_eq!(plex.search_result.as_deref().map(<[_]>::len), Some(0));
}

// ---------------------------------------------------------------- metadata

#[tokio::test]
async fn a_missing_item_is_none_and_other_errors_stay_errors() {
    let mocks = Mocks::start().await;
    let gone = mocks
        .on("getDiscoverItem", |when, then| {
            when.path("/library/metadata/gone");
            json_reply(then, 404, "error_404.json");
        })
        .await;
    let rejected = mocks
        .on("getDiscoverItem", |when, then| {
            when.path("/library/metadata/secret");
            json_reply(then, 401, "error_1001.json");
        })
        .await;
    let client = mocks.client();
    assert_eq!(client.discover_item("gone").await.unwrap(), None);
    gone.assert_async().await;
    let error = client.discover_item("secret").await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    rejected.assert_async().await;

    // An empty key is refused before anything is sent.
    let error = client.discover_item(" ").await.unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
}

// ---------------------------------------------------------------- paging

/// A watchlist page answer: `keys` as items, with `totalSize` if given.
fn page_body(keys: &[&str], total: Option<usize>) -> String {
    let items: Vec<Value> = keys
        .iter()
        .map(|key| json!({"ratingKey": key, "title": format!("Title {key}"), "type": "movie"}))
        .collect();
    let mut container =
        json!({"identifier": "tv.plex.provider.discover", "size": items.len(), "Metadata": items});
    if let Some(total) = total {
        container["totalSize"] = json!(total);
    }
    json!({ "MediaContainer": container }).to_string()
}

fn json_page(then: Then, keys: &[&str], total: Option<usize>) -> Then {
    then.status(200)
        .header("content-type", "application/json")
        .body(page_body(keys, total))
}

/// A mock for the watchlist page starting at `start` with `size` items.
async fn page_mock<'a>(
    mocks: &'a Mocks,
    start: usize,
    size: usize,
    answer: impl FnOnce(Then) + Send + 'static,
) -> Mock<'a> {
    mocks
        .on("getWatchlist", move |when: When, then| {
            when.path("/library/sections/watchlist/all")
                .query_param("X-Plex-Container-Start", start.to_string())
                .query_param("X-Plex-Container-Size", size.to_string());
            answer(then);
        })
        .await
}

async fn keys_of(
    stream: impl futures_core::Stream<Item = Result<plex_tv::DiscoverItem, Error>>,
) -> Vec<String> {
    stream
        .map_ok(|item| item.rating_key.unwrap_or_default())
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_stream_reads_every_page_up_to_total_size() {
    let mocks = Mocks::start().await;
    let pages = [
        page_mock(&mocks, 0, 2, |then| {
            json_page(then, &["a", "b"], Some(5));
        })
        .await,
        page_mock(&mocks, 2, 2, |then| {
            json_page(then, &["c", "d"], Some(5));
        })
        .await,
        page_mock(&mocks, 4, 2, |then| {
            json_page(then, &["e"], Some(5));
        })
        .await,
    ];
    let beyond = page_mock(&mocks, 6, 2, |then| {
        json_page(then, &[], Some(5));
    })
    .await;

    let request = mocks
        .client()
        .watchlist()
        .sort("watchlistedAt:desc")
        .page_size(2);
    assert_eq!(keys_of(request.stream()).await, ["a", "b", "c", "d", "e"]);
    for page in &pages {
        page.assert_async().await;
    }
    assert_eq!(beyond.calls_async().await, 0);
}

#[tokio::test]
async fn the_stream_sends_the_request_on_every_page() {
    let mocks = Mocks::start().await;
    let mut mocks_hit = Vec::new();
    for (start, keys) in [(0, &["a", "b"][..]), (2, &["c"][..])] {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        mocks_hit.push(
            mocks
                .on("getWatchlist", move |when, then| {
                    when.path("/library/sections/watchlist/available")
                        .query_param("sort", "titleSort:asc")
                        .query_param("type", "2")
                        .query_param("includeGuids", "1")
                        .query_param("X-Plex-Container-Start", start.to_string())
                        .query_param("X-Plex-Container-Size", "2");
                    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                    json_page(then, &keys, Some(3));
                })
                .await,
        );
    }
    let request = mocks
        .client()
        .watchlist()
        .filter(WatchlistFilter::Available)
        .sort("titleSort:asc")
        .media_type(DiscoverType::Show)
        .include_guids(true)
        .page_size(2);
    assert_eq!(keys_of(request.stream()).await, ["a", "b", "c"]);
    for mock in &mocks_hit {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn an_empty_watchlist_is_one_request_and_no_items() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getWatchlist", |when, then| {
            when.path("/library/sections/watchlist/all");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"MediaContainer": {"offset": 0, "size": 0, "totalSize": 0}}"#);
        })
        .await;
    let items = keys_of(mocks.client().watchlist().stream()).await;
    assert!(items.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn without_total_size_a_short_page_is_the_last() {
    let mocks = Mocks::start().await;
    let first = page_mock(&mocks, 0, 2, |then| {
        json_page(then, &["a", "b"], None);
    })
    .await;
    let second = page_mock(&mocks, 2, 2, |then| {
        json_page(then, &["c"], None);
    })
    .await;
    let third = page_mock(&mocks, 3, 2, |then| {
        json_page(then, &["x"], None);
    })
    .await;
    let request = mocks.client().watchlist().page_size(2);
    assert_eq!(keys_of(request.stream()).await, ["a", "b", "c"]);
    first.assert_async().await;
    second.assert_async().await;
    assert_eq!(third.calls_async().await, 0);
}

/// A provider that caps pages below the size asked for: `totalSize` says
/// more is there, so a short page is not the end.
#[tokio::test]
async fn a_page_capped_by_the_provider_is_not_the_end() {
    let mocks = Mocks::start().await;
    let first = page_mock(&mocks, 0, 3, |then| {
        json_page(then, &["a", "b"], Some(4));
    })
    .await;
    let second = page_mock(&mocks, 2, 3, |then| {
        json_page(then, &["c", "d"], Some(4));
    })
    .await;
    let request = mocks.client().watchlist().page_size(3);
    assert_eq!(keys_of(request.stream()).await, ["a", "b", "c", "d"]);
    first.assert_async().await;
    second.assert_async().await;
}

/// Without `totalSize` in the body, the PMS-style header gives it.
#[tokio::test]
async fn the_total_size_header_stands_in_for_the_body() {
    let mocks = Mocks::start().await;
    page_mock(&mocks, 0, 3, |then| {
        json_page(then, &["a", "b"], None).header("X-Plex-Container-Total-Size", "4");
    })
    .await;
    let second = page_mock(&mocks, 2, 3, |then| {
        json_page(then, &["c", "d"], None).header("X-Plex-Container-Total-Size", "4");
    })
    .await;
    let request = mocks.client().watchlist().page_size(3);
    assert_eq!(request.page(0).await.unwrap().total_size, Some(4));
    // The short first page is not the end: the header says 4.
    assert_eq!(keys_of(request.stream()).await, ["a", "b", "c", "d"]);
    second.assert_async().await;
}

#[tokio::test]
async fn an_empty_page_ends_the_stream_whatever_total_size_claims() {
    let mocks = Mocks::start().await;
    page_mock(&mocks, 0, 2, |then| {
        json_page(then, &["a"], Some(1_000_000));
    })
    .await;
    let empty = page_mock(&mocks, 1, 2, |then| {
        json_page(then, &[], Some(1_000_000));
    })
    .await;
    let request = mocks.client().watchlist().page_size(2);
    assert_eq!(keys_of(request.stream()).await, ["a"]);
    empty.assert_async().await;
}

/// A hostile provider that answers the same item at every offset and an
/// endless `totalSize`: the stream yields it once and ends.
#[tokio::test]
async fn a_provider_that_repeats_itself_ends_the_stream() {
    let mocks = Mocks::start().await;
    let mock = mocks
        .on("getWatchlist", |when, then| {
            when.path("/library/sections/watchlist/all");
            json_page(then, &["same"], Some(i64::MAX as usize));
        })
        .await;
    let request = mocks.client().watchlist().page_size(1);
    let items = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        keys_of(request.stream()),
    )
    .await
    .expect("the stream ends");
    assert_eq!(items, ["same"]);
    assert!(
        mock.calls_async().await <= 5,
        "{} requests",
        mock.calls_async().await
    );
}

#[tokio::test]
async fn an_item_on_two_pages_is_yielded_once() {
    let mocks = Mocks::start().await;
    page_mock(&mocks, 0, 2, |then| {
        json_page(then, &["a", "b"], Some(4));
    })
    .await;
    page_mock(&mocks, 2, 2, |then| {
        json_page(then, &["b", "c"], Some(4));
    })
    .await;
    let request = mocks.client().watchlist().page_size(2);
    assert_eq!(keys_of(request.stream()).await, ["a", "b", "c"]);
}

#[tokio::test]
async fn an_error_is_yielded_and_ends_the_stream() {
    let mocks = Mocks::start().await;
    page_mock(&mocks, 0, 2, |then| {
        json_page(then, &["a", "b"], Some(4));
    })
    .await;
    let failing = page_mock(&mocks, 2, 2, |then| {
        then.status(500)
            .header("content-type", "text/html")
            .body("<html>oops</html>");
    })
    .await;
    let mut stream = Box::pin(mocks.client().watchlist().page_size(2).stream());
    assert!(stream.next().await.unwrap().is_ok());
    assert!(stream.next().await.unwrap().is_ok());
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(stream.next().await.is_none());
    failing.assert_async().await;
}

#[tokio::test]
async fn dropping_the_stream_stops_paging() {
    let mocks = Mocks::start().await;
    let first = page_mock(&mocks, 0, 2, |then| {
        json_page(then, &["a", "b"], Some(4));
    })
    .await;
    let second = page_mock(&mocks, 2, 2, |then| {
        json_page(then, &["c", "d"], Some(4));
    })
    .await;
    let mut stream = Box::pin(mocks.client().watchlist().page_size(2).stream());
    assert_eq!(
        stream.next().await.unwrap().unwrap().rating_key.as_deref(),
        Some("a")
    );
    drop(stream);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    first.assert_async().await;
    assert_eq!(second.calls_async().await, 0);
}

#[tokio::test]
async fn page_sizes_out_of_bounds_are_refused_before_sending() {
    let mocks = Mocks::start().await;
    let any = mocks
        .on("getWatchlist", |_, then| {
            json_page(then, &["a"], Some(1));
        })
        .await;
    let client = mocks.client();
    for size in [0, MAX_PAGE_SIZE + 1, u32::MAX] {
        let error = client
            .watchlist()
            .page_size(size)
            .page(0)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        assert!(error.to_string().contains("page_size"), "{error}");
        let streamed: Vec<_> = client.watchlist().page_size(size).stream().collect().await;
        assert!(matches!(streamed[..], [Err(Error::InvalidInput { .. })]));
    }
    let error = client
        .watchlist()
        .page(u64::from(u32::MAX))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    assert_eq!(any.calls_async().await, 0);
    // The bounds themselves are accepted.
    for size in [1, MAX_PAGE_SIZE] {
        client.watchlist().page_size(size).page(0).await.unwrap();
    }
    assert_eq!(any.calls_async().await, 2);
}

// ---------------------------------------------------------------- conditional requests

#[tokio::test]
async fn a_matching_etag_is_not_modified() {
    let mocks = Mocks::start().await;
    let unchanged = mocks
        .on("getWatchlist", |when, then| {
            when.header("if-none-match", "\"v1\"");
            then.status(304).header("etag", "\"v1\"");
        })
        .await;
    let changed = mocks
        .on("getWatchlist", |when, then| {
            when.header("if-none-match", "\"v0\"");
            json_page(then, &["a"], Some(1)).header("etag", "\"v1\"");
        })
        .await;
    let request = mocks.client().watchlist();
    assert_eq!(
        request.page_if_changed(0, Some("\"v1\"")).await.unwrap(),
        Conditional::NotModified
    );
    unchanged.assert_async().await;
    let page = request
        .page_if_changed(0, Some("\"v0\""))
        .await
        .unwrap()
        .modified()
        .expect("modified");
    assert_eq!(page.etag.as_deref(), Some("\"v1\""));
    assert_eq!(page.items.len(), 1);
    changed.assert_async().await;
}

/// A 304 to a request that sent no ETag is not "not modified": there is
/// nothing it could refer to.
#[tokio::test]
async fn a_304_without_an_etag_sent_is_an_error() {
    let mocks = Mocks::start().await;
    mocks
        .on("getWatchlist", |when, then| {
            when.header_missing("if-none-match");
            then.status(304);
        })
        .await;
    let request = mocks.client().watchlist();
    let error = request.page(0).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_MODIFIED));
    let error = request.page_if_changed(0, None).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_MODIFIED));
}

#[tokio::test]
async fn the_cache_sends_each_pages_etag_per_account() {
    let mocks = Mocks::start().await;
    let fresh = mocks
        .on("getWatchlist", |when, then| {
            when.header_missing("if-none-match");
            json_page(then, &["a"], Some(1)).header("etag", "\"e1\"");
        })
        .await;
    let revalidated = mocks
        .on("getWatchlist", |when, then| {
            when.header("if-none-match", "\"e1\"");
            then.status(304);
        })
        .await;
    let client = mocks.client();
    let mut cache = WatchlistCache::new();
    let request = client.watchlist();
    let first = cache.poll(&request, 0).await.unwrap().modified().unwrap();
    assert_eq!(
        cache.poll(&request, 0).await.unwrap(),
        Conditional::NotModified
    );
    assert_eq!(cache.page(&request, 0), Some(&first));
    revalidated.assert_async().await;

    // Another page, another order, another account: nothing cached yet.
    cache.poll(&request, 1).await.unwrap();
    cache
        .poll(&client.watchlist().sort("titleSort:asc"), 0)
        .await
        .unwrap();
    // Another account polling the same page sends no ETag of the first's.
    let other_account = mocks
        .host("discover.provider.plex.tv")
        .mock_async(|when, then| {
            when.path("/library/sections/watchlist/all")
                .header("X-Plex-Token", "another-account")
                .header_missing("if-none-match");
            json_page(then, &["b"], Some(1)).header("etag", "\"e1\"");
        })
        .await;
    let other = client.with_token("another-account");
    let theirs = cache.poll(&other.watchlist(), 0).await.unwrap().modified();
    assert_eq!(theirs.unwrap().items[0].rating_key.as_deref(), Some("b"));
    other_account.assert_async().await;
    assert_eq!(fresh.calls_async().await, 3);
    assert_eq!(cache.len(), 4);
    assert!(!format!("{cache:?}").contains("e1"));
    cache.clear();
    assert!(cache.is_empty());
}

// ---------------------------------------------------------------- hostile bodies

#[tokio::test]
async fn hostile_pages_are_typed_errors() {
    for body in [
        r#"{"MediaContainer": {"Metadata": "nope"}}"#,
        r#"{"MediaContainer": {"Metadata": [{"year": "1999"}]}}"#,
        r#"{"MediaContainer": {"totalSize": "many"}}"#,
        r#"[]"#,
        "<MediaContainer size=\"0\"/>",
        "",
        "{\"MediaContainer\": {\"Metadata\": [",
    ] {
        let mocks = Mocks::start().await;
        mocks
            .on("getWatchlist", move |_, then| {
                then.status(200)
                    .header("content-type", "application/json")
                    .body(body);
            })
            .await;
        let error = mocks.client().watchlist().page(0).await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{body}: {error:?}");
        let streamed: Vec<_> = mocks.client().watchlist().stream().collect().await;
        assert!(
            matches!(streamed[..], [Err(Error::Decode { .. })]),
            "{body}: {streamed:?}"
        );
    }
}

#[tokio::test]
async fn negative_counts_are_not_trusted() {
    let mocks = Mocks::start().await;
    mocks
        .on("getWatchlist", |_, then| {
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"MediaContainer": {"offset": -7, "totalSize": -1, "Metadata": [{"ratingKey": "a"}]}}"#);
        })
        .await;
    let page = mocks.client().watchlist().page(0).await.unwrap();
    assert_eq!((page.offset, page.total_size), (0, None));
    let items = keys_of(mocks.client().watchlist().page_size(2).stream()).await;
    assert_eq!(items, ["a"]);
}

// ---------------------------------------------------------------- the fake plex.tv

async fn fake_client() -> (FakePlexTv, PlexTv) {
    let fake = FakePlexTv::start().await;
    let client = PlexTv::builder()
        .identity(ClientIdentity::new(
            "Watchlist Test",
            ClientIdentifier::new_random(),
        ))
        .all_hosts_url(fake.base_url())
        .token(fake.token())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    (fake, client)
}

fn watchlist_requests(fake: &FakePlexTv) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path == "/library/sections/watchlist/all")
        .count()
}

/// The issue's round trip: add three, stream them back in pages of two,
/// poll with the ETag (304), remove one, poll again (200 with two).
#[tokio::test]
async fn add_stream_poll_remove_poll() {
    let (fake, client) = fake_client().await;
    let keys = fake.catalog_keys();
    for key in &keys[..3] {
        client
            .add_to_watchlist()
            .rating_key(key)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(fake.watchlist_keys(), keys[..3]);

    let request = client.watchlist().sort("watchlistedAt:asc").page_size(2);
    assert_eq!(keys_of(request.stream()).await, keys[..3]);
    assert_eq!(watchlist_requests(&fake), 2);

    let mut cache = WatchlistCache::new();
    let whole = client.watchlist().sort("watchlistedAt:asc");
    let first = cache.poll(&whole, 0).await.unwrap().modified().unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(
        cache.poll(&whole, 0).await.unwrap(),
        Conditional::NotModified
    );

    client
        .remove_from_watchlist()
        .rating_key(&keys[1])
        .send()
        .await
        .unwrap();
    let after = cache
        .poll(&whole, 0)
        .await
        .unwrap()
        .modified()
        .expect("changed");
    let left: Vec<_> = after
        .items
        .iter()
        .map(|i| i.rating_key.clone().unwrap())
        .collect();
    assert_eq!(left, [keys[0].clone(), keys[2].clone()]);
    assert_eq!(after.total_size, Some(2));
    assert_ne!(after.etag, first.etag);
}

/// An item removed after the first page shifts the rest one place; the
/// stream notices (`totalSize` moved), reads again and misses nothing.
#[tokio::test]
async fn a_list_that_changes_between_pages_loses_nothing() {
    let (fake, client) = fake_client().await;
    let keys = fake.catalog_keys();
    for key in &keys[..5] {
        client
            .add_to_watchlist()
            .rating_key(key)
            .send()
            .await
            .unwrap();
    }
    let mut stream = Box::pin(
        client
            .watchlist()
            .sort("watchlistedAt:asc")
            .page_size(2)
            .stream(),
    );
    let mut seen = vec![stream.next().await.unwrap().unwrap().rating_key.unwrap()];
    client
        .remove_from_watchlist()
        .rating_key(&keys[0])
        .send()
        .await
        .unwrap();
    while let Some(item) = stream.next().await {
        seen.push(item.unwrap().rating_key.unwrap());
    }
    assert_eq!(seen, keys[..5]);
}

#[tokio::test]
async fn the_fake_filters_sorts_and_keeps_user_state() {
    let (fake, client) = fake_client().await;
    let keys = fake.catalog_keys();
    for key in &keys {
        client
            .add_to_watchlist()
            .rating_key(key)
            .send()
            .await
            .unwrap();
    }
    // Adding twice changes nothing.
    client
        .add_to_watchlist()
        .rating_key(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(fake.watchlist_keys(), keys);

    let shows: Vec<_> = client
        .watchlist()
        .media_type(DiscoverType::Show)
        .include_guids(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(!shows.is_empty());
    assert!(shows
        .iter()
        .all(|item| item.kind.as_deref() == Some("show")));
    assert!(shows.iter().all(|item| item.external_id("imdb").is_some()));

    let by_title: Vec<plex_tv::DiscoverItem> = client
        .watchlist()
        .sort("titleSort:asc")
        .stream()
        .try_collect()
        .await
        .unwrap();
    let titles: Vec<_> = by_title
        .iter()
        .map(|i| i.title_sort.clone().unwrap())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!((titles.len(), &titles), (keys.len(), &sorted));
    let by_title: Vec<_> = by_title
        .into_iter()
        .map(|i| i.rating_key.unwrap())
        .collect();
    let newest_first: Vec<_> = keys_of(client.watchlist().stream()).await;
    let mut oldest_first = keys.clone();
    oldest_first.reverse();
    assert_eq!(newest_first, oldest_first);
    assert_ne!(by_title, newest_first);

    let state = client
        .get_user_state()
        .rating_key(&keys[0])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(state.user_state().unwrap().watchlisted_at.is_some());
    client
        .remove_from_watchlist()
        .rating_key(&keys[0])
        .send()
        .await
        .unwrap();
    let state = client
        .get_user_state()
        .rating_key(&keys[0])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.user_state().unwrap().watchlisted_at, None);

    let error = Error::from(
        client
            .add_to_watchlist()
            .rating_key("000000000000000000000000")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn the_fake_searches_and_serves_items() {
    let (fake, client) = fake_client().await;
    let found = client
        .search_discover()
        .query("MATRIX")
        .search_types("movies")
        .send()
        .await
        .unwrap()
        .into_inner();
    let hits = found
        .search_group("external")
        .and_then(|group| group.search_result.clone())
        .unwrap();
    assert_eq!(hits.len(), 1);
    let matrix = hits[0].metadata.clone().unwrap();
    assert_eq!(matrix.title.as_deref(), Some("The Matrix"));
    let none = client
        .search_discover()
        .query("matrix")
        .search_types("tv")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(none.search_group("external").and_then(|g| g.size), Some(0));

    let key = matrix.rating_key.unwrap();
    let item = client.discover_item(&key).await.unwrap().unwrap();
    assert_eq!(item.external_id("imdb"), Some("tt0133093"));
    assert_eq!(
        client
            .discover_item("000000000000000000000000")
            .await
            .unwrap(),
        None
    );
    assert!(fake.catalog_keys().contains(&key));

    // Items carry an ETag too; sent back, the fake answers 304 (which the
    // generated operation reports as a response the spec has no body for).
    let answer = client
        .get_discover_item()
        .rating_key(&key)
        .send()
        .await
        .unwrap();
    let etag = answer.headers()["etag"].to_str().unwrap().to_owned();
    let again = client
        .get_discover_item()
        .rating_key(&key)
        .if_none_match(etag)
        .send()
        .await;
    match again {
        Err(plex_tv::GeneratedError::UnexpectedResponse(response)) => {
            assert_eq!(response.status(), StatusCode::NOT_MODIFIED)
        }
        other => panic!(
            "not a 304: {:?}",
            other.map(|r| r.status()).map_err(|e| e.status())
        ),
    }

    // Without the account's token: 401, typed.
    let error = client
        .without_token()
        .discover_item(&key)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    let error = client
        .without_token()
        .watchlist()
        .page(0)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}
