//! Plex Discover items and the ways to read the provider's answers:
//! [`DiscoverItem`] (hand-written, see below), accessors on
//! [`DiscoverResponse`], and [`PlexTv::discover_item`], which turns the
//! catalog's 404 into `None`.
//!
//! `DiscoverItem` is the one Discover type not generated from the spec: an
//! item has both `guid` (its `plex://` guid) and `Guid` (its external ids),
//! which the generator would give the same field name.

use reqwest::StatusCode;

use crate::{
    types::{
        DiscoverGuid, DiscoverResponse, DiscoverSearchGroup, DiscoverUserState, DiscoverUserStates,
    },
    Error, GeneratedError, PlexTv,
};

/// A movie or show of Plex's catalog, as the watchlist, metadata and search
/// answers list it (schema `DiscoverItem`). Every field is optional: the
/// provider leaves out what it does not know.
///
/// ```
/// use plex_tv::DiscoverItem;
///
/// let item: DiscoverItem = serde_json::from_str(r#"{
///     "ratingKey": "5d776b59ad5437001f79c6f8", "guid": "plex://movie/5d776b59ad5437001f79c6f8",
///     "type": "movie", "title": "The Matrix", "year": 1999,
///     "Guid": [{"id": "imdb://tt0133093"}, {"id": "tmdb://603"}]
/// }"#)?;
/// assert_eq!(item.title.as_deref(), Some("The Matrix"));
/// assert_eq!(item.external_id("imdb"), Some("tt0133093"));
/// assert_eq!(item.external_id("tvdb"), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(
    Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverItem {
    /// Discover id: 24 hex digits, the last segment of `guid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_key: Option<String>,
    /// Path of the item's metadata: `/library/metadata/{ratingKey}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Plex guid: `plex://movie/<id>` or `plex://show/<id>`; only these can
    /// be watchlisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// `movie` or `show` (JSON `type`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Title for sorting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_sort: Option<String>,
    /// Title in the original language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_title: Option<String>,
    /// Synopsis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Tagline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagline: Option<String>,
    /// Studio or network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub studio: Option<String>,
    /// Content rating, for example `PG-13`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_rating: Option<String>,
    /// Year of release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Release date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originally_available_at: Option<String>,
    /// Running time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    /// Poster URL (absolute, on Discover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb: Option<String>,
    /// Background art URL (absolute, on Discover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub art: Option<String>,
    /// Critic rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<f64>,
    /// Audience rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_rating: Option<f64>,
    /// When Plex's catalog added the item (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<i64>,
    /// When the account watchlisted it (Unix seconds); in watchlist answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchlisted_at: Option<i64>,
    /// For a show, how many seasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_count: Option<i64>,
    /// For a show, how many episodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_count: Option<i64>,
    /// External ids (JSON `Guid`: imdb, tmdb, tvdb): on the metadata
    /// answer, and on the watchlist with `includeGuids=1`.
    #[serde(default, rename = "Guid", skip_serializing_if = "Option::is_none")]
    pub external_ids: Option<Vec<DiscoverGuid>>,
}

impl DiscoverItem {
    /// The external id with this scheme (`imdb`, `tmdb`, `tvdb`), without
    /// the scheme: `tt0133093` for `imdb://tt0133093`.
    ///
    /// ```
    /// let item: plex_tv::DiscoverItem =
    ///     serde_json::from_str(r#"{"Guid": [{"id": "tvdb://121361"}, {"id": null}]}"#)?;
    /// assert_eq!(item.external_id("tvdb"), Some("121361"));
    /// assert_eq!(item.external_id("imdb"), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn external_id(&self, scheme: &str) -> Option<&str> {
        self.external_ids
            .iter()
            .flatten()
            .filter_map(|guid| guid.id.as_deref()?.split_once("://"))
            .find(|(found, _)| found.eq_ignore_ascii_case(scheme))
            .map(|(_, id)| id)
    }
}

impl DiscoverResponse {
    /// The items of the answer (`MediaContainer.Metadata`), empty when it
    /// has none.
    ///
    /// ```
    /// let page: plex_tv::types::DiscoverResponse = serde_json::from_str(
    ///     r#"{"MediaContainer": {"size": 1, "Metadata": [{"title": "Dune"}]}}"#,
    /// )?;
    /// assert_eq!(page.items()[0].title.as_deref(), Some("Dune"));
    /// let empty: plex_tv::types::DiscoverResponse = serde_json::from_str("{}")?;
    /// assert!(empty.items().is_empty());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn items(&self) -> &[DiscoverItem] {
        self.media_container
            .as_ref()
            .and_then(|container| container.metadata.as_deref())
            .unwrap_or_default()
    }

    /// The search hits of group `id` (`external` is Plex's catalog), if
    /// the answer has that group.
    ///
    /// ```
    /// let found: plex_tv::types::DiscoverResponse = serde_json::from_str(r#"{"MediaContainer": {
    ///     "SearchResults": [{"id": "plex", "SearchResult": []},
    ///                       {"id": "external", "SearchResult": [{"score": 0.9, "Metadata": {"title": "Dune"}}]}]
    /// }}"#)?;
    /// let external = found.search_group("external").expect("the catalog's group");
    /// let hit = &external.search_result.as_deref().unwrap_or_default()[0];
    /// assert_eq!(hit.metadata.as_ref().and_then(|m| m.title.as_deref()), Some("Dune"));
    /// assert!(found.search_group("nope").is_none());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn search_group(&self, id: &str) -> Option<&DiscoverSearchGroup> {
        self.media_container
            .as_ref()?
            .search_results
            .iter()
            .flatten()
            .find(|group| group.id.as_deref() == Some(id))
    }

    /// The account's state of the item (`MediaContainer.UserState`), as
    /// an object or the first of a list.
    ///
    /// ```
    /// let answer: plex_tv::types::DiscoverResponse = serde_json::from_str(
    ///     r#"{"MediaContainer": {"UserState": {"viewCount": 2, "watchlistedAt": 1700000000}}}"#,
    /// )?;
    /// let state = answer.user_state().expect("a state");
    /// assert_eq!(state.view_count, Some(2));
    /// let listed: plex_tv::types::DiscoverResponse = serde_json::from_str(
    ///     r#"{"MediaContainer": {"UserState": [{"viewCount": 0}]}}"#,
    /// )?;
    /// assert_eq!(listed.user_state().unwrap().view_count, Some(0));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn user_state(&self) -> Option<&DiscoverUserState> {
        match self.media_container.as_ref()?.user_state.as_ref()? {
            DiscoverUserStates::DiscoverUserState(state) => Some(state),
            DiscoverUserStates::Array(states) => states.first(),
        }
    }
}

impl PlexTv {
    /// An item of Plex's catalog by its rating key, with its external ids;
    /// `None` when the catalog no longer has it (the provider answers 404)
    /// or answers without it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// use plex_tv::{testing::FakePlexTv, ClientIdentifier, ClientIdentity, PlexTv};
    ///
    /// let fake = FakePlexTv::start().await;
    /// let client = PlexTv::builder()
    ///     .identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
    ///     .all_hosts_url(fake.base_url())
    ///     .token(fake.token())
    ///     .build()?;
    /// let key = &fake.catalog_keys()[0];
    /// let item = client.discover_item(key).await?.expect("in the catalog");
    /// assert_eq!(item.rating_key.as_deref(), Some(key.as_str()));
    /// assert!(client.discover_item("000000000000000000000000").await?.is_none());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty rating key; every failure but
    /// the 404: [`Error::Unauthorized`] for a missing or
    /// rejected token, [`Error::Decode`] for a body that is not an item,
    /// and the transport's errors.
    pub async fn discover_item(&self, rating_key: &str) -> Result<Option<DiscoverItem>, Error> {
        if rating_key.trim().is_empty() {
            return Err(Error::invalid_input(
                "the rating key is empty; use an item's `ratingKey` (the last segment of its plex:// guid)",
            ));
        }
        match self.get_discover_item().rating_key(rating_key).send().await {
            Ok(response) => Ok(response.into_inner().items().first().cloned()),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

/// Whether the provider answered 404, whatever the body.
fn is_not_found(error: &GeneratedError<crate::types::ErrorResponse>) -> bool {
    error.status() == Some(StatusCode::NOT_FOUND)
}
