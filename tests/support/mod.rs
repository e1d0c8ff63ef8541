//! What the integration tests share: a scripted raw HTTP server for
//! byte-level tests (`raw`), and mock plex.tv hosts for per-operation tests
//! whose method, path and host come from the spec (`mocks`).

#![allow(dead_code, unused_imports)]

mod mocks;
mod raw;

pub use mocks::*;
pub use raw::*;
