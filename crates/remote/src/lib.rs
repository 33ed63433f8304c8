//! Files where they are: positioned reads of objects behind `https://`, `s3://` and `hf://`
//! locations, on the Arrow project's `object_store`.
//!
//! A [`RemoteObject`] is opened once per run and pinned to the version it first saw (the
//! ETag or S3 version id of its first answer, or the Hub commit a revision resolved to), so
//! a file replaced on the server while it is read fails with [`RemoteError::Changed`]
//! instead of mixing two versions. It serves reads at any offset from a few cached blocks:
//! reads that follow one another fetch whole blocks and the next one ahead, so a file read
//! front to back streams with bounded memory; other reads fetch what they ask for.
//!
//! This crate knows bytes only: what they are (Parquet, signatures) is for its callers.

mod aws_profile;
mod error;
mod hub;
mod list;
mod location;
mod object;
mod runtime;
mod store;
mod upload;

pub use error::RemoteError;
pub use hub::{ServerDigest, next_link, parse_resolve_answer, parse_revision, parse_tree_page};
pub use list::{Listing, list};
pub use location::{HubRepo, Location};
pub use object::{IoStats, RemoteObject};
pub use store::{DEFAULT_RETRIES, DEFAULT_TIMEOUT, Options};
pub use upload::upload;
