//! Plex Home: acting as a Home user, and that user's token for a server.

use crate::{types, Error, PlexTv, Token};

impl PlexTv {
    /// A client signed in as another user of the Plex Home: switches to the
    /// user (with the user's PIN when it has one) and returns a client with
    /// the same identity and settings and that user's account token.
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
    /// # let kid = fake.add_home_user("Kid", Some("1234"));
    /// let kid_client = owner.sign_in_as_home_user(&kid, Some("1234")).await?;
    /// let me = kid_client.get_user().send().await?;
    /// assert_eq!(me.title.as_deref(), Some("Kid"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PinRequired`] when the user has a PIN and none (or a wrong
    /// one) was given; the errors of `switch_home_user` otherwise.
    pub async fn sign_in_as_home_user(
        &self,
        user_uuid: &str,
        pin: Option<&str>,
    ) -> Result<PlexTv, Error> {
        let form = types::SwitchHomeUserForm {
            pin: pin.map(str::to_owned),
        };
        let switched = self
            .switch_home_user()
            .uuid(user_uuid)
            .body(form)
            .send()
            .await?
            .into_inner();
        let token = switched
            .auth_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::invalid_input(
                    "plex.tv switched to the Home user but sent no token for it; try again",
                )
            })?;
        Ok(self.with_token(token))
    }

    /// The token a Home user uses on one server: switches to the user (with
    /// its PIN) and takes the user's `accessToken` for the server with this
    /// machine identifier from the resources plex.tv lists for that user.
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
    /// # let kid = fake.add_home_user("Kid", None);
    /// let server = "0123456789abcdef0123456789abcdef01234567";
    /// let token = owner.server_token_for_home_user(&kid, None, server).await?;
    /// assert!(!token.is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PinRequired`] as for [`sign_in_as_home_user`](Self::sign_in_as_home_user);
    /// [`Error::NoServerAccess`] when the user has no access to that server.
    pub async fn server_token_for_home_user(
        &self,
        user_uuid: &str,
        pin: Option<&str>,
        machine_identifier: &str,
    ) -> Result<Token, Error> {
        let user = self.sign_in_as_home_user(user_uuid, pin).await?;
        user.every_resource()
            .await?
            .into_iter()
            .find(|r| r.client_identifier == machine_identifier)
            .and_then(|r| r.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| Error::NoServerAccess {
                machine_identifier: machine_identifier.to_owned(),
            })
    }
}

impl PlexTv {
    /// A friend's own token for one of this account's servers, from the v1
    /// list of the server's shares (where plex.tv still gives it): what an
    /// owner's tool needs to act on the server as that friend.
    ///
    /// ```no_run
    /// # async fn demo(owner: plex_tv::PlexTv) -> Result<(), plex_tv::Error> {
    /// let token = owner
    ///     .server_token_for_friend("0123456789abcdef0123456789abcdef01234567", 12345)
    ///     .await?;
    /// # let _ = token;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NoServerAccess`] when the server has no accepted share with
    /// that user, or plex.tv gives no token for it; the errors of
    /// `get_shared_servers_v1` otherwise.
    pub async fn server_token_for_friend(
        &self,
        machine_identifier: &str,
        user_id: i64,
    ) -> Result<Token, Error> {
        let shares = self
            .get_shared_servers_v1()
            .machine_identifier(machine_identifier)
            .send()
            .await?
            .into_inner();
        shares
            .shared_server
            .into_iter()
            .flatten()
            .find(|share| share.user_id == Some(user_id))
            .and_then(|share| share.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| Error::NoServerAccess {
                machine_identifier: machine_identifier.to_owned(),
            })
    }
}
