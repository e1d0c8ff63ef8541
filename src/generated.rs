//! The client and types that build.rs generates from `openapi/plex-tv.json`.
//!
//! Nothing here is written by hand; fix the spec instead.

#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    rustdoc::all,
    unused_imports
)]

include!(concat!(env!("OUT_DIR"), "/plex_tv_generated.rs"));
