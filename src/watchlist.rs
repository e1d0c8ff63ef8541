//! The account's watchlist on Plex Discover: [`PlexTv::watchlist`] reads it
//! a page at a time or as one stream of items, and [`WatchlistCache`]
//! polls it cheaply: pages that did not change answer 304 and cost no body.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), plex_tv::Error> {
//! use futures_util::TryStreamExt;
//! use plex_tv::{testing::FakePlexTv, types::WatchlistFilter, ClientIdentifier, ClientIdentity, PlexTv};
//!
//! let fake = FakePlexTv::start().await;
//! let client = PlexTv::builder()
//!     .identity(ClientIdentity::new("App", ClientIdentifier::new_random()))
//!     .all_hosts_url(fake.base_url())
//!     .token(fake.token())
//!     .build()?;
//! for key in &fake.catalog_keys()[..3] {
//!     client.add_to_watchlist().rating_key(key).send().await?;
//! }
//! let items: Vec<_> = client
//!     .watchlist()
//!     .filter(WatchlistFilter::All)
//!     .sort("watchlistedAt:desc")
//!     .page_size(2)
//!     .stream()
//!     .try_collect()
//!     .await?;
//! assert_eq!(items.len(), 3);
//! # Ok(()) }
//! ```

use std::{
    collections::{HashMap, HashSet, VecDeque},
    fmt,
};

use futures_core::Stream;
use reqwest::{header::ETAG, StatusCode};
use sha2::{Digest, Sha256};

use crate::{
    types::{DiscoverResponse, ErrorResponse, WatchlistFilter},
    DiscoverItem, Error, GeneratedError, PlexTv, ResponseValue,
};

/// How many items a page holds unless [`WatchlistRequest::page_size`] says
/// otherwise (python-plexapi's choice too).
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// The largest page asked for. Discover documents no limit; 200 is the
/// largest that clients in the wild use.
pub const MAX_PAGE_SIZE: u32 = 200;

/// How many times a stream starts over because the list changed under it.
const MAX_RESTARTS: u32 = 2;

/// How many pages in a row of items already yielded end a stream.
const MAX_STALE_PAGES: u32 = 3;

/// A kind of watchlist item, for [`WatchlistRequest::media_type`].
///
/// ```
/// use plex_tv::watchlist::DiscoverType;
///
/// assert_ne!(DiscoverType::Movie, DiscoverType::Show);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiscoverType {
    /// Movies (`type=1`).
    Movie,
    /// Shows (`type=2`).
    Show,
}

impl DiscoverType {
    /// The code Discover's `type` parameter takes.
    fn code(self) -> i32 {
        match self {
            DiscoverType::Movie => 1,
            DiscoverType::Show => 2,
        }
    }
}

/// The answer to a conditional request: the new value, or word that the
/// one whose `ETag` was sent is still current (HTTP 304).
///
/// ```
/// use plex_tv::watchlist::Conditional;
///
/// let unchanged: Conditional<u32> = Conditional::NotModified;
/// assert!(!unchanged.is_modified());
/// assert_eq!(Conditional::Modified(7).modified(), Some(7));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Conditional<T> {
    /// It changed (or nothing was cached): here it is.
    Modified(T),
    /// Unchanged since the `ETag` sent.
    NotModified,
}

impl<T> Conditional<T> {
    /// Whether a new value came.
    ///
    /// ```
    /// assert!(plex_tv::watchlist::Conditional::Modified(()).is_modified());
    /// ```
    pub fn is_modified(&self) -> bool {
        matches!(self, Conditional::Modified(_))
    }

    /// The new value, if one came.
    ///
    /// ```
    /// use plex_tv::watchlist::Conditional;
    ///
    /// assert_eq!(Conditional::<u8>::NotModified.modified(), None);
    /// ```
    pub fn modified(self) -> Option<T> {
        match self {
            Conditional::Modified(value) => Some(value),
            Conditional::NotModified => None,
        }
    }
}

/// One page of the watchlist.
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
/// client.add_to_watchlist().rating_key(&fake.catalog_keys()[0]).send().await?;
/// let page = client.watchlist().page(0).await?;
/// assert_eq!((page.offset, page.total_size, page.items.len()), (0, Some(1), 1));
/// assert!(page.etag.is_some());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WatchlistPage {
    /// The items, in the order asked for.
    pub items: Vec<DiscoverItem>,
    /// The index of the first item in the whole list.
    pub offset: u64,
    /// How many items the whole list holds, if the provider said (in the
    /// body, or else in `X-Plex-Container-Total-Size`).
    pub total_size: Option<u64>,
    /// The page's `ETag`, to send back as `If-None-Match`.
    pub etag: Option<String>,
}

impl WatchlistPage {
    fn from_response(response: ResponseValue<DiscoverResponse>, start: u64) -> Self {
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // PMS-style paging headers may come instead (scryer falls back to
        // this one when the body has no `totalSize`).
        let header_total = response
            .headers()
            .get("x-plex-container-total-size")
            .and_then(|value| value.to_str().ok()?.trim().parse::<i64>().ok());
        let container = response.into_inner().media_container.unwrap_or_default();
        // A negative number from the provider means nothing usable.
        let count = |value: Option<i64>| value.and_then(|v| u64::try_from(v).ok());
        WatchlistPage {
            offset: count(container.offset).unwrap_or(start),
            total_size: count(container.total_size.or(header_total)),
            items: container.metadata.unwrap_or_default(),
            etag,
        }
    }
}

/// What [`PlexTv::watchlist`] lists: which items, in which order, how many
/// per page. Cheap to clone; sends nothing until asked for pages.
///
/// ```
/// use plex_tv::{types::WatchlistFilter, watchlist::DiscoverType};
///
/// # let client = plex_tv::PlexTv::builder()
/// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
/// #     .build()?;
/// let movies = client
///     .watchlist()
///     .filter(WatchlistFilter::Released)
///     .media_type(DiscoverType::Movie)
///     .sort("titleSort:asc")
///     .include_guids(true)
///     .page_size(50);
/// # let _ = movies;
/// # Ok::<(), plex_tv::Error>(())
/// ```
#[must_use]
#[derive(Clone, Debug)]
pub struct WatchlistRequest {
    client: PlexTv,
    filter: WatchlistFilter,
    sort: Option<String>,
    media_type: Option<DiscoverType>,
    include_guids: bool,
    include_collections: bool,
    include_external_media: bool,
    page_size: u32,
}

impl PlexTv {
    /// The account's watchlist (on discover.provider.plex.tv): every item,
    /// [`DEFAULT_PAGE_SIZE`] per page, in Discover's order, until the
    /// returned [`WatchlistRequest`] says otherwise.
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
    /// let first_page = client.watchlist().page(0).await?;
    /// assert!(first_page.items.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn watchlist(&self) -> WatchlistRequest {
        WatchlistRequest {
            client: self.clone(),
            filter: WatchlistFilter::All,
            sort: None,
            media_type: None,
            include_guids: false,
            include_collections: false,
            include_external_media: false,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl WatchlistRequest {
    /// Which items: all (the default), available, or released.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let available = client.watchlist().filter(plex_tv::types::WatchlistFilter::Available);
    /// # let _ = available;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn filter(mut self, filter: WatchlistFilter) -> Self {
        self.filter = filter;
        self
    }

    /// The order, as `field:asc` or `field:desc`; Discover knows
    /// `watchlistedAt`, `titleSort`, `originallyAvailableAt` and `rating`.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let newest_first = client.watchlist().sort("watchlistedAt:desc");
    /// # let _ = newest_first;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn sort(mut self, sort: impl Into<String>) -> Self {
        self.sort = Some(sort.into());
        self
    }

    /// Only movies or only shows.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let shows = client.watchlist().media_type(plex_tv::watchlist::DiscoverType::Show);
    /// # let _ = shows;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn media_type(mut self, media_type: DiscoverType) -> Self {
        self.media_type = Some(media_type);
        self
    }

    /// Whether items carry their external ids (imdb, tmdb, tvdb).
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let with_ids = client.watchlist().include_guids(true);
    /// # let _ = with_ids;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn include_guids(mut self, include: bool) -> Self {
        self.include_guids = include;
        self
    }

    /// Whether collections are listed too.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let request = client.watchlist().include_collections(true);
    /// # let _ = request;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn include_collections(mut self, include: bool) -> Self {
        self.include_collections = include;
        self
    }

    /// Whether items from outside Plex's catalog are listed too.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let request = client.watchlist().include_external_media(true);
    /// # let _ = request;
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn include_external_media(mut self, include: bool) -> Self {
        self.include_external_media = include;
        self
    }

    /// How many items a page holds: 1 to [`MAX_PAGE_SIZE`] (default
    /// [`DEFAULT_PAGE_SIZE`]). Another value makes the requests fail with
    /// [`Error::InvalidInput`] before anything is sent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let error = client.watchlist().page_size(0).page(0).await.unwrap_err();
    /// assert!(matches!(error, plex_tv::Error::InvalidInput { .. }));
    /// # Ok(()) }
    /// ```
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// The page that starts at item `start` (0 for the first).
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
    /// for key in &fake.catalog_keys()[..3] {
    ///     client.add_to_watchlist().rating_key(key).send().await?;
    /// }
    /// let second = client.watchlist().page_size(2).page(2).await?;
    /// assert_eq!((second.offset, second.items.len()), (2, 1));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a page size out of bounds or a `start`
    /// past 2^31; [`Error::Unauthorized`] without a valid account token;
    /// [`Error::Decode`] for a body that is not a page; the provider's
    /// other error statuses as [`Error::Api`], and the transport's errors.
    pub async fn page(&self, start: u64) -> Result<WatchlistPage, Error> {
        let response = self.send(start, None).await?;
        Ok(WatchlistPage::from_response(response, start))
    }

    /// The page that starts at item `start`, unless it is still the one
    /// whose `ETag` is `etag` (sent as `If-None-Match`): then
    /// [`Conditional::NotModified`], with no body to download or decode.
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
    /// use plex_tv::watchlist::Conditional;
    ///
    /// let request = client.watchlist();
    /// let page = request.page(0).await?;
    /// let again = request.page_if_changed(0, page.etag.as_deref()).await?;
    /// assert_eq!(again, Conditional::NotModified);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`page`](Self::page).
    pub async fn page_if_changed(
        &self,
        start: u64,
        etag: Option<&str>,
    ) -> Result<Conditional<WatchlistPage>, Error> {
        match self.send(start, etag).await {
            Ok(response) => Ok(Conditional::Modified(WatchlistPage::from_response(
                response, start,
            ))),
            // progenitor reports a status the spec lists no body for as
            // unexpected; a 304 is the answer asked for, when an ETag went.
            Err(SendError::Generated(GeneratedError::UnexpectedResponse(response)))
                if etag.is_some() && response.status() == StatusCode::NOT_MODIFIED =>
            {
                Ok(Conditional::NotModified)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Every item of the watchlist, page after page, as one stream. It ends
    /// after `totalSize` items, at an empty page, or (when the provider
    /// gives no `totalSize`) at a page shorter than asked for; after an
    /// error it yields that error and ends. Dropping it stops it.
    ///
    /// When the list changes while the stream runs (its `totalSize` moves),
    /// the stream reads it again from the start, up to twice, so that an
    /// item that shifted onto a page already read is not missed; an item is
    /// never yielded twice (by rating key), and a provider that keeps
    /// answering items already seen ends the stream.
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
    /// use futures_util::StreamExt;
    ///
    /// for key in &fake.catalog_keys()[..3] {
    ///     client.add_to_watchlist().rating_key(key).send().await?;
    /// }
    /// let mut items = Box::pin(client.watchlist().page_size(2).stream());
    /// while let Some(item) = items.next().await {
    ///     println!("{:?}", item?.title);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Yields, then ends after, the first error of a page request:
    /// [`Error::Unauthorized`], [`Error::RateLimited`] once retries are spent,
    /// [`Error::Decode`] for a page that does not decode, and the errors of any
    /// request.
    pub fn stream(&self) -> impl Stream<Item = Result<DiscoverItem, Error>> + Send + 'static {
        let pager = Pager {
            request: self.clone(),
            start: 0,
            furthest: 0,
            total: None,
            buffered: VecDeque::new(),
            yielded: HashSet::new(),
            restarts: 0,
            stale_pages: 0,
            done: false,
        };
        futures_util::stream::unfold(pager, |mut pager| async move {
            let next = pager.next().await?;
            Some((next, pager))
        })
    }

    /// Sends the request for the page at `start`, with `If-None-Match`
    /// when `etag` is given.
    async fn send(
        &self,
        start: u64,
        etag: Option<&str>,
    ) -> Result<ResponseValue<DiscoverResponse>, SendError> {
        let (first, size) = self.paging(start).map_err(SendError::Input)?;
        let mut operation = self
            .client
            .get_watchlist()
            .filter(self.filter)
            .x_plex_container_start(first)
            .x_plex_container_size(size);
        if let Some(sort) = &self.sort {
            operation = operation.sort(sort.clone());
        }
        if let Some(media_type) = self.media_type {
            operation = operation.type_(media_type.code());
        }
        if self.include_guids {
            operation = operation.include_guids(1);
        }
        if self.include_collections {
            operation = operation.include_collections(1);
        }
        if self.include_external_media {
            operation = operation.include_external_media(1);
        }
        if let Some(etag) = etag {
            operation = operation.if_none_match(etag);
        }
        operation.send().await.map_err(SendError::Generated)
    }

    /// `X-Plex-Container-Start` and `-Size`, checked.
    fn paging(&self, start: u64) -> Result<(i32, i32), Error> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(Error::invalid_input(format!(
                "a watchlist page holds 1 to {MAX_PAGE_SIZE} items, not {}; fix the page_size",
                self.page_size
            )));
        }
        let first = i32::try_from(start).map_err(|_| {
            Error::invalid_input(format!(
                "the watchlist page start {start} is past the largest Discover accepts ({})",
                i32::MAX
            ))
        })?;
        Ok((first, self.page_size as i32))
    }

    /// What identifies a page in a [`WatchlistCache`]: the account (a hash
    /// of its token, never the token), the request and the page.
    fn cache_key(&self, start: u64) -> String {
        let account = self
            .client
            .current_token()
            .map(|token| {
                let digest = Sha256::digest(token.expose_secret().as_bytes());
                digest
                    .iter()
                    .take(16)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            })
            .unwrap_or_default();
        format!(
            "{account}|{}|{:?}|{:?}|{}{}{}|{}|{start}",
            self.filter,
            self.sort,
            self.media_type,
            u8::from(self.include_guids),
            u8::from(self.include_collections),
            u8::from(self.include_external_media),
            self.page_size
        )
    }
}

/// Why a page request failed: before sending, or as the generated
/// operation reports it (which a 304 needs to be told apart in).
enum SendError {
    Input(Error),
    Generated(GeneratedError<ErrorResponse>),
}

impl From<SendError> for Error {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Input(error) => error,
            SendError::Generated(error) => error.into(),
        }
    }
}

/// The state of a [`WatchlistRequest::stream`].
struct Pager {
    request: WatchlistRequest,
    /// The next page's first item.
    start: u64,
    /// The end of the furthest page read, across restarts.
    furthest: u64,
    /// The list's `totalSize` as last seen.
    total: Option<u64>,
    buffered: VecDeque<DiscoverItem>,
    /// Rating keys already yielded.
    yielded: HashSet<String>,
    restarts: u32,
    /// Consecutive new pages that held only items already yielded.
    stale_pages: u32,
    done: bool,
}

impl Pager {
    async fn next(&mut self) -> Option<Result<DiscoverItem, Error>> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            if let Err(error) = self.read_page().await {
                self.done = true;
                return Some(Err(error));
            }
        }
    }

    async fn read_page(&mut self) -> Result<(), Error> {
        let page = self.request.page(self.start).await?;
        let moved =
            matches!((self.total, page.total_size), (Some(before), Some(now)) if before != now);
        if moved && self.restarts < MAX_RESTARTS {
            // Offsets shifted: an item may now sit on a page already read.
            // Read again from the start; what was yielded is skipped.
            self.restarts += 1;
            self.start = 0;
            self.total = page.total_size;
            return Ok(());
        }
        self.total = page.total_size.or(self.total);
        let received = page.items.len() as u64;
        let unread = self.start >= self.furthest;
        self.start = self.start.saturating_add(received);
        self.furthest = self.furthest.max(self.start);
        let before = self.buffered.len();
        for item in page.items {
            let new = match item.rating_key.as_ref().or(item.guid.as_ref()) {
                Some(key) => self.yielded.insert(key.clone()),
                None => true,
            };
            if new {
                self.buffered.push_back(item);
            }
        }
        // Pages past what was read before that bring nothing new mean the
        // provider repeats itself (one such page can be a shift of the
        // list): going on could never end.
        if unread && received > 0 && self.buffered.len() == before {
            self.stale_pages += 1;
        } else if self.buffered.len() > before {
            self.stale_pages = 0;
        }
        self.done = received == 0
            || self.stale_pages >= MAX_STALE_PAGES
            || match self.total {
                Some(total) => self.start >= total,
                None => received < u64::from(self.request.page_size),
            };
        Ok(())
    }
}

/// The pages of watchlists seen last, with their ETags: [`poll`](Self::poll)
/// sends the stored ETag, and an unchanged page answers 304 without a body.
/// Pages are kept per account (token), request and page start, so one cache
/// serves many users.
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
/// use plex_tv::watchlist::{Conditional, WatchlistCache};
///
/// let mut cache = WatchlistCache::new();
/// let request = client.watchlist();
/// assert!(cache.poll(&request, 0).await?.is_modified()); // the first time
/// assert_eq!(cache.poll(&request, 0).await?, Conditional::NotModified);
///
/// client.add_to_watchlist().rating_key(&fake.catalog_keys()[0]).send().await?;
/// let page = cache.poll(&request, 0).await?.modified().expect("the list changed");
/// assert_eq!(page.items.len(), 1);
/// assert_eq!(cache.page(&request, 0), Some(&page));
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct WatchlistCache {
    pages: HashMap<String, WatchlistPage>,
}

impl WatchlistCache {
    /// An empty cache.
    ///
    /// ```
    /// assert!(plex_tv::watchlist::WatchlistCache::new().is_empty());
    /// ```
    pub fn new() -> Self {
        WatchlistCache::default()
    }

    /// The page at `start` if it changed since the last poll (or was never
    /// polled); [`Conditional::NotModified`] if it did not, the stored page
    /// then being [`page`](Self::page). A page without an `ETag` is not
    /// stored: the next poll fetches it whole.
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
    /// let mut cache = plex_tv::watchlist::WatchlistCache::new();
    /// let first = cache.poll(&client.watchlist(), 0).await?;
    /// assert!(first.is_modified());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`WatchlistRequest::page`]; the stored page stays as it was.
    pub async fn poll(
        &mut self,
        request: &WatchlistRequest,
        start: u64,
    ) -> Result<Conditional<WatchlistPage>, Error> {
        let key = request.cache_key(start);
        let etag = self.pages.get(&key).and_then(|page| page.etag.clone());
        let answer = request.page_if_changed(start, etag.as_deref()).await?;
        if let Conditional::Modified(page) = &answer {
            if page.etag.is_some() {
                self.pages.insert(key, page.clone());
            } else {
                self.pages.remove(&key);
            }
        }
        Ok(answer)
    }

    /// The page at `start` as last polled, if stored.
    ///
    /// ```
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .build()?;
    /// let cache = plex_tv::watchlist::WatchlistCache::new();
    /// assert!(cache.page(&client.watchlist(), 0).is_none());
    /// # Ok::<(), plex_tv::Error>(())
    /// ```
    pub fn page(&self, request: &WatchlistRequest, start: u64) -> Option<&WatchlistPage> {
        self.pages.get(&request.cache_key(start))
    }

    /// How many pages are stored.
    ///
    /// ```
    /// assert_eq!(plex_tv::watchlist::WatchlistCache::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page is stored.
    ///
    /// ```
    /// assert!(plex_tv::watchlist::WatchlistCache::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Forgets every page: the next polls fetch them whole.
    ///
    /// ```
    /// let mut cache = plex_tv::watchlist::WatchlistCache::new();
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.pages.clear();
    }
}

/// Shows how many pages are stored, not their keys (which hash tokens).
impl fmt::Debug for WatchlistCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchlistCache")
            .field("pages", &self.pages.len())
            .finish()
    }
}
