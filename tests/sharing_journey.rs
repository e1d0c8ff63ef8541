//! The owner's and the invitee's whole journey against the fake plex.tv:
//! share two libraries by title, see the pending invitation from both
//! sides, accept it as the invitee, update it to one library, remove it.

use plex_tv::{
    sharing::{Filter, SharingSettingsBuilder, Tuners},
    testing::{FakePlexTv, FAKE_SERVER},
    ClientIdentifier, ClientIdentity, Error, PlexTv,
};

fn owner(fake: &FakePlexTv) -> PlexTv {
    PlexTv::builder()
        .identity(ClientIdentity::new(
            "Invite Tool",
            ClientIdentifier::new_random(),
        ))
        .all_hosts_url(fake.base_url())
        .token(fake.token())
        .build()
        .unwrap()
}

#[tokio::test]
async fn share_accept_update_remove() -> Result<(), Error> {
    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    let bob = owner.with_token(fake.add_user("bob", "bob@example.com"));

    // The owner shares two libraries by title.
    let settings = SharingSettingsBuilder::new()
        .allow_downloads(true)
        .tuners(Tuners::LiveTv)
        .movies(Filter::new().exclude_label("horror"))
        .build();
    let share = owner
        .share_libraries(
            FAKE_SERVER,
            "bob@example.com",
            &["Movies", "TV Shows"],
            settings,
        )
        .await?;
    assert_eq!(share.accepted, Some(false));
    let titles: Vec<_> = share
        .libraries
        .iter()
        .flatten()
        .filter_map(|l| l.title.clone())
        .collect();
    assert_eq!(titles, ["Movies", "TV Shows"]);

    // Sharing again is refused, typed.
    let again = owner
        .share_libraries(
            FAKE_SERVER,
            "bob",
            &["Music"],
            SharingSettingsBuilder::new().build(),
        )
        .await;
    assert!(
        matches!(again, Err(Error::AlreadyShared { .. })),
        "{again:?}"
    );

    // The owner sees it pending; nothing is accepted yet.
    let sent = owner
        .list_owned_pending_invites()
        .send()
        .await?
        .into_inner();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].shared_servers.as_ref().unwrap()[0].id, share.id);
    assert!(owner.list_owned_accepted_shares().send().await?.is_empty());

    // The invitee sees it, from the owner, and accepts with their token.
    let received = bob
        .list_received_pending_invites()
        .send()
        .await?
        .into_inner();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].owner.as_ref().unwrap().username.as_deref(),
        Some("fake-user")
    );
    let offered = received[0].shared_servers.as_ref().unwrap()[0].id;
    assert_eq!(offered, share.id);
    // The owner cannot accept it for them.
    assert!(owner
        .accept_shared_server()
        .shared_server_id(offered)
        .send()
        .await
        .is_err());
    bob.accept_shared_server()
        .shared_server_id(offered)
        .send()
        .await?;
    assert!(bob.list_received_pending_invites().send().await?.is_empty());
    assert!(owner.list_owned_pending_invites().send().await?.is_empty());

    // Now accepted, with the settings it was sent with.
    let accepted = owner
        .list_owned_accepted_shares()
        .send()
        .await?
        .into_inner();
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].accepted_at.is_some());
    let kept = accepted[0].sharing_settings.as_ref().unwrap();
    assert_eq!((kept.allow_sync, kept.allow_tuners), (Some(true), Some(1)));
    assert_eq!(kept.filter_movies.as_deref(), Some("label!=horror"));

    // The friends list shows bob with the share, without stitching.
    let friends = owner.friends_with_shares().await?;
    assert_eq!(friends.len(), 1);
    assert_eq!(friends[0].status.as_deref(), Some("accepted"));
    assert_eq!(friends[0].shared_servers.as_ref().unwrap()[0].id, share.id);
    // And so does the v1 XML list.
    let users = owner.get_users().send().await?.into_inner();
    let listed = &users.user.as_ref().unwrap()[0];
    assert_eq!(listed.username.as_deref(), Some("bob"));
    assert_eq!(listed.allow_sync, Some(true));
    let server = &listed.server.as_ref().unwrap()[0];
    assert_eq!(
        (server.num_libraries, server.pending),
        (Some(2), Some(false))
    );

    // The owner narrows it to one library.
    let sections = owner
        .get_server_sections()
        .machine_identifier(FAKE_SERVER)
        .send()
        .await?
        .into_inner();
    let movies = sections.server.as_ref().unwrap()[0]
        .section
        .iter()
        .flatten()
        .find(|s| s.title.as_deref() == Some("Movies"))
        .map(|s| s.id)
        .unwrap();
    owner
        .update_shared_server()
        .shared_server_id(share.id)
        .body(plex_tv::types::UpdateSharedServerRequest {
            library_section_ids: Some(vec![movies]),
            settings: Some(SharingSettingsBuilder::new().build()),
        })
        .send()
        .await?;
    let updated = owner
        .list_owned_accepted_shares()
        .send()
        .await?
        .into_inner();
    let libraries = updated[0].libraries.as_ref().unwrap();
    assert_eq!(libraries.len(), 1);
    assert_eq!(libraries[0].title.as_deref(), Some("Movies"));
    assert_eq!(
        updated[0].sharing_settings.as_ref().unwrap().allow_sync,
        Some(false)
    );

    // And removes it.
    owner
        .delete_shared_server()
        .shared_server_id(share.id)
        .send()
        .await?;
    assert!(owner.list_owned_accepted_shares().send().await?.is_empty());
    assert!(owner.friends_with_shares().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn unknown_titles_are_refused_naming_what_exists() {
    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    fake.add_user("bob", "bob@example.com");
    let result = owner
        .share_libraries(
            FAKE_SERVER,
            "bob",
            &["Movies", "Anime"],
            SharingSettingsBuilder::new().build(),
        )
        .await;
    match result {
        Err(error @ Error::UnknownLibraries { .. }) => {
            let message = error.to_string();
            assert!(message.contains("\"Anime\""), "{message}");
            assert!(
                message.contains("\"Movies\", \"TV Shows\", \"Music\""),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing was shared.
    assert!(owner
        .list_owned_pending_invites()
        .send()
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn all_libraries_in_one_call_and_removing_the_user() -> Result<(), Error> {
    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    let carol = owner.with_token(fake.add_user("carol", "carol@example.org"));
    let share = owner
        .share_all_libraries(
            FAKE_SERVER,
            "carol@example.org",
            SharingSettingsBuilder::new().build(),
        )
        .await?;
    assert_eq!(
        (share.all_libraries, share.num_libraries),
        (Some(true), Some(3))
    );
    let invited = share.invited_id.expect("carol has an account");
    carol
        .accept_shared_server()
        .shared_server_id(share.id)
        .send()
        .await?;
    let settings = owner
        .get_sharing_settings()
        .invited_id(invited)
        .send()
        .await?;
    assert_eq!(settings.allow_sync, Some(false));
    owner
        .set_sharing_settings()
        .invited_id(invited)
        .body(plex_tv::types::SharingSettingsRequest {
            settings: SharingSettingsBuilder::new().allow_downloads(true).build(),
        })
        .send()
        .await?;
    let settings = owner
        .get_sharing_settings()
        .invited_id(invited)
        .send()
        .await?;
    assert_eq!(settings.allow_sync, Some(true));
    owner.delete_sharing().user_id(invited).send().await?;
    assert!(owner.list_owned_accepted_shares().send().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn friendships_without_servers() -> Result<(), Error> {
    let fake = FakePlexTv::start().await;
    let owner = owner(&fake);
    let dave = owner.with_token(fake.add_user("dave", "dave@example.com"));
    let invited = owner
        .invite_friend()
        .identifier("dave")
        .send()
        .await?
        .into_inner();
    assert_eq!(invited.status.as_deref(), Some("pending"));
    owner
        .cancel_friend_invite()
        .identifier("dave")
        .send()
        .await?;
    assert!(owner.get_friends().send().await?.is_empty());
    owner
        .invite_friend()
        .identifier("dave@example.com")
        .send()
        .await?;
    let me = owner.get_user().send().await?.id;
    let friend = dave
        .accept_friend()
        .friend_id(me)
        .send()
        .await?
        .into_inner();
    assert_eq!(friend.status.as_deref(), Some("accepted"));
    let seen = owner.get_friend().friend_id(invited.id).send().await?;
    assert_eq!(seen.status.as_deref(), Some("accepted"));
    owner.delete_friend().friend_id(invited.id).send().await?;
    assert!(owner.get_friends().send().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_v1_path_with_a_stale_token_is_unauthorized() {
    let fake = FakePlexTv::start().await;
    let stale = owner(&fake).with_token("revoked-token");
    let error = stale
        .get_users()
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}
