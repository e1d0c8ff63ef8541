//! Sharing helpers: placeholder.
