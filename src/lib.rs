//! A typed async client for the [plex.tv](https://plex.tv) account API: PIN
//! sign-in, the account, servers and devices, home users and friends.
//!
//! The operations and types are generated from the OpenAPI description in
//! `openapi/plex-tv.json`; this crate adds what plex.tv expects of a good
//! client: stable identity headers, a token that never leaks into logs,
//! retries, timeouts, and typed errors.
//!
//! ```no_run
//! use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};
//!
//! # async fn demo() -> Result<(), plex_tv::Error> {
//! // One identifier per installation, kept across runs.
//! let id = ClientIdentifier::load_or_create("client-id.txt")?;
//! let client = PlexTv::builder()
//!     .identity(ClientIdentity::new("My App", id))
//!     .token("my-plex-token")
//!     .build()?;
//!
//! let me = client.get_user().send().await?;
//! let servers = client.get_resources().include_https(1).send().await?;
//! println!("{:?} can reach {} resources", me.username, servers.len());
//! # Ok(()) }
//! ```
//!
//! Every generated operation is a method of [`PlexTv`] (through `Deref` to
//! the generated [`Client`]) returning a builder; `send()` returns
//! progenitor's result, and `?` converts its error into [`Error`]. Each
//! operation goes to its own host by itself (`plex.tv`, `clients.plex.tv`:
//! see [`spec::OPERATIONS`]). Hand-written conveniences have names of their
//! own, such as [`PlexTv::approve_link_code`], and never hide an operation.
//!
//! Convert errors with `?` or `.map_err(plex_tv::Error::from)` before
//! logging them: the generated error type ([`GeneratedError`]) keeps raw
//! response bodies, and its `Debug` would show any token in them. [`Error`]
//! redacts.
//!
//! # Features
//! - `rustls` (default): TLS through rustls.
//! - `native-tls`: TLS through the platform's library.
#![warn(missing_docs)]

mod candidates;
mod classify;
mod client;
pub mod connect;
mod device_auth;
mod device_key;
mod discover;
mod error;
mod form;
mod generated;
mod home;
mod hooks;
mod identity;
mod jws;
mod jwt;
pub mod pin;
mod private_file;
mod rate_limit;
mod redact;
mod refresh;
mod retry;
mod server_text;
mod shapes;
pub mod sharing;
pub mod spec;
#[cfg(feature = "testing")]
pub mod testing;
mod token;
mod transport;
pub mod watchlist;
mod xml;

pub use client::{PlexTv, PlexTvBuilder, Shared, DEFAULT_BASE_URL, DEFAULT_CLIENTS_BASE_URL};
pub use device_key::{DeviceKey, CLIENT_JWT_LIFETIME, DEFAULT_SCOPE};
pub use discover::DiscoverItem;
pub use error::Error;
pub use form::WebhookUrls;
pub use generated::{builder, types, Client};
pub use identity::{ClientIdentifier, ClientIdentity};
pub use jwt::{PlexJwtClaims, PLEX_ISSUER};
pub use pin::{CancelHandle, PendingPin, PinEvent, PinLoginBuilder};
pub use progenitor_client::{Error as GeneratedError, ResponseValue};
pub use rate_limit::RateLimit;
pub use refresh::DEFAULT_REFRESH_MARGIN;
pub use retry::RetryPolicy;
pub use token::Token;

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
