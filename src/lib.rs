#![doc = include_str!("../README.md")]
#![deny(missing_docs, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

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
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod token;
mod transport;
pub mod watchlist;
mod xml;

pub use client::{PlexTv, PlexTvBuilder, DEFAULT_BASE_URL, DEFAULT_CLIENTS_BASE_URL};
pub use device_key::{DeviceKey, CLIENT_JWT_LIFETIME, DEFAULT_SCOPE};
pub use discover::DiscoverItem;
pub use error::Error;
pub use form::WebhookUrls;
pub use generated::{builder, types, Client};
/// The generated client's inner state (progenitor names it in
/// [`Client::inner`](progenitor_client::ClientInfo::inner)); nothing to use directly.
#[doc(hidden)]
pub use hooks::Shared;
pub use identity::{ClientIdentifier, ClientIdentity};
pub use jwt::{PlexJwtClaims, PLEX_ISSUER};
pub use progenitor_client::{Error as GeneratedError, ResponseValue};
pub use rate_limit::RateLimit;
pub use refresh::DEFAULT_REFRESH_MARGIN;
pub use retry::RetryPolicy;
pub use token::Token;
