//! Sharing helpers over the generated operations: share libraries by
//! title, build sharing settings, write and read plex.tv's filter strings,
//! and list friends together with their shares.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), plex_tv::Error> {
//! # let fake = plex_tv::testing::FakePlexTv::start().await;
//! # let bob_token = fake.add_user("bob", "bob@example.com");
//! # let owner = plex_tv::PlexTv::builder()
//! #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
//! #     .all_hosts_url(fake.base_url())
//! #     .token(fake.token())
//! #     .build()?;
//! # let server = plex_tv::testing::FAKE_SERVER;
//! use plex_tv::sharing::{Filter, SharingSettingsBuilder, Tuners};
//!
//! let settings = SharingSettingsBuilder::new()
//!     .allow_downloads(true)
//!     .tuners(Tuners::LiveTv)
//!     .movies(Filter::new().content_rating("G").content_rating("PG").exclude_label("horror"))
//!     .build();
//! let share = owner
//!     .share_libraries(server, "bob@example.com", &["Movies", "TV Shows"], settings)
//!     .await?;
//! assert_eq!(share.num_libraries, Some(2));
//!
//! // Bob accepts with his own token.
//! let bob = owner.with_token(bob_token);
//! let invites = bob.list_received_pending_invites().send().await?;
//! let offered = &invites[0].shared_servers.as_ref().unwrap()[0];
//! bob.accept_shared_server().shared_server_id(offered.id).send().await?;
//! # Ok(()) }
//! ```

use std::{fmt, str::FromStr};

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

use crate::{
    types::{CreateSharedServerRequest, Friend, LibrarySection, SharedServer, SharingSettings},
    Error, PlexTv,
};

impl PlexTv {
    /// Shares the libraries titled `titles` (`"Movies"`, `"TV Shows"`;
    /// matched without regard to case) of the server `machine_identifier`
    /// with `invitee` (an e-mail address or plex.tv user name): one call to
    /// read the server's libraries and their plex.tv-wide ids, one to share.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # fake.add_user("bob", "bob@example.com");
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// use plex_tv::{sharing::SharingSettingsBuilder, testing::FAKE_SERVER, Error};
    ///
    /// let settings = SharingSettingsBuilder::new().build();
    /// let wrong = client.share_libraries(FAKE_SERVER, "bob", &["Films"], settings.clone()).await;
    /// assert!(matches!(wrong, Err(Error::UnknownLibraries { .. })));
    /// let share = client.share_libraries(FAKE_SERVER, "bob", &["movies"], settings).await?;
    /// assert_eq!(share.libraries.unwrap()[0].title.as_deref(), Some("Movies"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownLibraries`] naming the titles the server does not
    /// have and those it has (nothing is shared then);
    /// [`Error::AlreadyShared`] when the invitee already has access; and
    /// every error of `getServer` and `createSharedServer`.
    pub async fn share_libraries(
        &self,
        machine_identifier: &str,
        invitee: &str,
        titles: &[&str],
        settings: SharingSettings,
    ) -> Result<SharedServer, Error> {
        let sections = self.library_sections(machine_identifier).await?;
        let ids = section_ids(&sections, titles)?;
        self.share(machine_identifier, invitee, ids, settings).await
    }

    /// Shares every library of the server `machine_identifier` with
    /// `invitee`, by listing each of their plex.tv-wide ids (which plex.tv
    /// documents nowhere as meaning "all" when empty).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # fake.add_user("bob", "bob@example.com");
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// use plex_tv::{sharing::SharingSettingsBuilder, testing::FAKE_SERVER};
    ///
    /// let share = client
    ///     .share_all_libraries(FAKE_SERVER, "bob", SharingSettingsBuilder::new().build())
    ///     .await?;
    /// assert_eq!(share.all_libraries, Some(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownLibraries`] when plex.tv lists no library for the
    /// server (it sometimes answers an empty list for a while: try again);
    /// [`Error::AlreadyShared`]; every error of `getServer` and
    /// `createSharedServer`.
    pub async fn share_all_libraries(
        &self,
        machine_identifier: &str,
        invitee: &str,
        settings: SharingSettings,
    ) -> Result<SharedServer, Error> {
        let sections = self.library_sections(machine_identifier).await?;
        if sections.is_empty() {
            return Err(Error::UnknownLibraries {
                unknown: vec!["(all libraries)".into()],
                available: Vec::new(),
            });
        }
        let ids = sections.iter().map(|section| section.id).collect();
        self.share(machine_identifier, invitee, ids, settings).await
    }

    /// The friends with their shared servers, sharing settings and shared
    /// sources, in one call (`getFriends` with every `include*` flag), so
    /// that nothing needs stitching together.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), plex_tv::Error> {
    /// # let fake = plex_tv::testing::FakePlexTv::start().await;
    /// # fake.add_user("bob", "bob@example.com");
    /// # let client = plex_tv::PlexTv::builder()
    /// #     .identity(plex_tv::ClientIdentity::new("App", plex_tv::ClientIdentifier::new_random()))
    /// #     .all_hosts_url(fake.base_url())
    /// #     .token(fake.token())
    /// #     .build()?;
    /// # let settings = plex_tv::sharing::SharingSettingsBuilder::new().build();
    /// # client.share_libraries(plex_tv::testing::FAKE_SERVER, "bob", &["Music"], settings).await?;
    /// for friend in client.friends_with_shares().await? {
    ///     for share in friend.shared_servers.iter().flatten() {
    ///         println!("{:?} has {:?} libraries of {:?}", friend.username, share.num_libraries, share.name);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Every error of `getFriends`.
    pub async fn friends_with_shares(&self) -> Result<Vec<Friend>, Error> {
        Ok(self
            .get_friends()
            .include_shared_servers(true)
            .include_shared_sources(true)
            .include_sharing_settings(true)
            .send()
            .await?
            .into_inner())
    }

    async fn library_sections(
        &self,
        machine_identifier: &str,
    ) -> Result<Vec<LibrarySection>, Error> {
        let server = self
            .get_server()
            .machine_identifier(machine_identifier)
            .send()
            .await?
            .into_inner();
        Ok(server.library_sections.unwrap_or_default())
    }

    async fn share(
        &self,
        machine_identifier: &str,
        invitee: &str,
        library_section_ids: Vec<i64>,
        settings: SharingSettings,
    ) -> Result<SharedServer, Error> {
        let body = CreateSharedServerRequest {
            machine_identifier: machine_identifier.to_owned(),
            invited_email: invitee.to_owned(),
            library_section_ids,
            settings: Some(settings),
            skip_friendship: None,
        };
        Ok(self
            .create_shared_server()
            .body(body)
            .send()
            .await?
            .into_inner())
    }
}

/// The plex.tv-wide ids of the sections titled `titles`, or which titles do
/// not exist.
fn section_ids(sections: &[LibrarySection], titles: &[&str]) -> Result<Vec<i64>, Error> {
    let matches = |section: &LibrarySection, title: &str| {
        section
            .title
            .as_deref()
            .is_some_and(|have| have.trim().eq_ignore_ascii_case(title.trim()))
    };
    let unknown: Vec<String> = titles
        .iter()
        .filter(|title| !sections.iter().any(|section| matches(section, title)))
        .map(|title| (*title).to_owned())
        .collect();
    if !unknown.is_empty() || titles.is_empty() {
        return Err(Error::UnknownLibraries {
            unknown,
            available: sections.iter().filter_map(|s| s.title.clone()).collect(),
        });
    }
    Ok(sections
        .iter()
        .filter(|section| titles.iter().any(|title| matches(section, title)))
        .map(|section| section.id)
        .collect())
}

/// Tuner access of a share (`allowTuners`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tuners {
    /// No Live TV.
    None = 0,
    /// Live TV.
    LiveTv = 1,
    /// Live TV and the DVR.
    LiveTvAndDvr = 2,
}

/// Builds the [`SharingSettings`] of a share; everything is off and
/// unfiltered until set.
///
/// ```
/// use plex_tv::sharing::{Filter, SharingSettingsBuilder, Tuners};
///
/// let settings = SharingSettingsBuilder::new()
///     .allow_downloads(true)
///     .tuners(Tuners::LiveTvAndDvr)
///     .television(Filter::new().exclude_label("kids"))
///     .build();
/// assert_eq!(settings.allow_sync, Some(true));
/// assert_eq!(settings.allow_tuners, Some(2));
/// assert_eq!(settings.filter_television.as_deref(), Some("label!=kids"));
/// assert_eq!(settings.filter_movies.as_deref(), Some(""));
/// ```
#[must_use]
#[derive(Clone, Debug)]
pub struct SharingSettingsBuilder {
    settings: SharingSettings,
}

impl Default for SharingSettingsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SharingSettingsBuilder {
    /// Nothing allowed, nothing filtered.
    pub fn new() -> Self {
        SharingSettingsBuilder {
            settings: SharingSettings {
                allow_sync: Some(false),
                allow_channels: Some(false),
                allow_camera_upload: Some(false),
                allow_subtitle_admin: Some(false),
                allow_tuners: Some(Tuners::None as i32),
                filter_movies: Some(String::new()),
                filter_music: Some(String::new()),
                filter_television: Some(String::new()),
                filter_photos: None,
                filter_all: None,
            },
        }
    }

    /// Whether the invitee may download (`allowSync`).
    pub fn allow_downloads(mut self, allow: bool) -> Self {
        self.settings.allow_sync = Some(allow);
        self
    }

    /// Whether the invitee may use channels (`allowChannels`).
    pub fn allow_channels(mut self, allow: bool) -> Self {
        self.settings.allow_channels = Some(allow);
        self
    }

    /// Whether the invitee may upload from a camera.
    pub fn allow_camera_upload(mut self, allow: bool) -> Self {
        self.settings.allow_camera_upload = Some(allow);
        self
    }

    /// Whether the invitee may manage subtitles.
    pub fn allow_subtitle_admin(mut self, allow: bool) -> Self {
        self.settings.allow_subtitle_admin = Some(allow);
        self
    }

    /// Tuner access.
    pub fn tuners(mut self, tuners: Tuners) -> Self {
        self.settings.allow_tuners = Some(tuners as i32);
        self
    }

    /// What the invitee sees of movie libraries.
    pub fn movies(mut self, filter: Filter) -> Self {
        self.settings.filter_movies = Some(filter.to_string());
        self
    }

    /// What the invitee sees of TV show libraries.
    pub fn television(mut self, filter: Filter) -> Self {
        self.settings.filter_television = Some(filter.to_string());
        self
    }

    /// What the invitee sees of music libraries.
    pub fn music(mut self, filter: Filter) -> Self {
        self.settings.filter_music = Some(filter.to_string());
        self
    }

    /// The settings.
    pub fn build(self) -> SharingSettings {
        self.settings
    }
}

/// Which items of a library a share shows: by content rating and label,
/// each included or excluded. Written as plex.tv's filter strings
/// (`contentRating=G%2CPG|label!=kids`); parsed from them, joined with `|`
/// or `&`. plex.tv joins a rule's values with commas, so a value cannot
/// hold one: `label("a,b")` is written, and read back, as labels `a` and
/// `b`. Other special characters (`%`, `|`, `&`, `=`, `!`) are
/// percent-encoded.
///
/// ```
/// use plex_tv::sharing::Filter;
///
/// let filter = Filter::new().content_rating("G").content_rating("PG").exclude_label("kids");
/// assert_eq!(filter.to_string(), "contentRating=G%2CPG|label!=kids");
/// let parsed: Filter = "label!=kids&contentRating=G,PG".parse()?;
/// assert_eq!(parsed, filter);
/// assert!("rating=G".parse::<Filter>().is_err());
/// # Ok::<(), plex_tv::Error>(())
/// ```
#[must_use]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only items with one of these content ratings.
    pub content_ratings: Vec<String>,
    /// No item with one of these content ratings.
    pub excluded_content_ratings: Vec<String>,
    /// Only items with one of these labels.
    pub labels: Vec<String>,
    /// No item with one of these labels.
    pub excluded_labels: Vec<String>,
}

/// What a value must encode: the separators of the format, and `%` itself.
const VALUE: &AsciiSet = &CONTROLS
    .add(b'%')
    .add(b',')
    .add(b'|')
    .add(b'&')
    .add(b'=')
    .add(b'!');

impl Filter {
    /// No restriction.
    pub fn new() -> Self {
        Filter::default()
    }

    /// Also shows items rated `rating`.
    pub fn content_rating(mut self, rating: impl Into<String>) -> Self {
        self.content_ratings.push(rating.into());
        self
    }

    /// Hides items rated `rating`.
    pub fn exclude_content_rating(mut self, rating: impl Into<String>) -> Self {
        self.excluded_content_ratings.push(rating.into());
        self
    }

    /// Also shows items labelled `label`.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }

    /// Hides items labelled `label`.
    pub fn exclude_label(mut self, label: impl Into<String>) -> Self {
        self.excluded_labels.push(label.into());
        self
    }

    /// Whether it restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.rules().iter().all(|(_, values)| values.is_empty())
    }

    fn rules(&self) -> [(&'static str, &Vec<String>); 4] {
        [
            ("contentRating", &self.content_ratings),
            ("contentRating!", &self.excluded_content_ratings),
            ("label", &self.labels),
            ("label!", &self.excluded_labels),
        ]
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (key, values) in self.rules() {
            if values.is_empty() {
                continue;
            }
            if !first {
                f.write_str("|")?;
            }
            first = false;
            write!(f, "{key}=")?;
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    f.write_str("%2C")?;
                }
                let encoded = utf8_percent_encode(value, VALUE).to_string();
                f.write_str(&encoded.replace(',', "%2C"))?;
            }
        }
        Ok(())
    }
}

impl FromStr for Filter {
    type Err = Error;

    /// # Errors
    /// [`Error::InvalidInput`] for a rule that is not `key=values` with a
    /// key of `contentRating`, `contentRating!`, `label` or `label!`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let mut filter = Filter::new();
        for rule in text
            .split(['|', '&'])
            .filter(|rule| !rule.trim().is_empty())
        {
            let (key, values) = rule
                .split_once('=')
                .ok_or_else(|| Error::invalid_input(format!("filter rule {rule:?} has no `=`")))?;
            let target = match key.trim() {
                "contentRating" => &mut filter.content_ratings,
                "contentRating!" => &mut filter.excluded_content_ratings,
                "label" => &mut filter.labels,
                "label!" => &mut filter.excluded_labels,
                other => {
                    return Err(Error::invalid_input(format!(
                        "filter key {other:?} is not contentRating, contentRating!, label or label!"
                    )))
                }
            };
            let decoded = values.replace("%2C", ",").replace("%2c", ",");
            for value in decoded.split(',').filter(|v| !v.is_empty()) {
                target.push(percent_decode_str(value).decode_utf8_lossy().into_owned());
            }
        }
        Ok(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_their_strings() {
        let filter = Filter::new()
            .content_rating("TV-Y")
            .content_rating("G")
            .exclude_content_rating("R")
            .label("a,b")
            .exclude_label("50% off");
        let text = filter.to_string();
        assert_eq!(
            text,
            "contentRating=TV-Y%2CG|contentRating!=R|label=a%2Cb|label!=50%25 off"
        );
        let parsed = text.parse::<Filter>().unwrap();
        assert_eq!(parsed.labels, ["a", "b"], "a comma separates values");
        assert_eq!(
            Filter {
                labels: vec!["a".into(), "b".into()],
                ..filter.clone()
            },
            parsed
        );
        assert_eq!(parsed.excluded_labels, ["50% off"]);
        assert_eq!("".parse::<Filter>().unwrap(), Filter::new());
        assert!(Filter::new().is_empty() && Filter::new().to_string().is_empty());
        assert!("label".parse::<Filter>().is_err());
    }

    #[test]
    fn titles_resolve_to_plex_tv_ids_or_name_what_is_missing() {
        let section = |id, title: &str| LibrarySection {
            id,
            key: None,
            title: Some(title.into()),
            type_: None,
            shared: None,
        };
        let sections = [section(11, "Movies"), section(12, "TV Shows")];
        assert_eq!(
            section_ids(&sections, &["tv shows", "Movies"]).unwrap(),
            [11, 12]
        );
        match section_ids(&sections, &["Movies", "Films", "Anime"]) {
            Err(Error::UnknownLibraries { unknown, available }) => {
                assert_eq!(unknown, ["Films", "Anime"]);
                assert_eq!(available, ["Movies", "TV Shows"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(section_ids(&sections, &[]).is_err());
    }
}
