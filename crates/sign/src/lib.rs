//! # oembeddings-sign
//!
//! Signatures for shared embeddings: who published this file, and is every record still what
//! they published?
//!
//! - [`keys`]: the keys a user holds, over the backends: OpenPGP certificates (sequoia) and
//!   Ed25519 keys in minisign's formats.
//! - [`file`]: detached signatures of whole files (`.asc` for `gpg --verify` and `sqv`,
//!   `.minisig` for `minisign -V`).
//! - [`compatible`]: go-embeddingsdb's per-record signatures, byte-exact, verified without
//!   its weaknesses.
//! - [`native`]: domain-separated record digests, per-record signatures and a signed manifest
//!   that detect changed, deleted, added, reordered and moved records.
//! - [`release`]: signed manifests of whole release directories.
//!
//! The source is grouped by role: `backend/` (the signature algorithms and their key and
//! signature formats: [`openpgp`], [`minisign`], raw Ed25519 for records), `format/` (what
//! the profiles write: [`digest`], [`file_digest`], [`manifest`], the sidecars) and
//! `profile/` (the record-signature profiles: [`compatible`], [`native`], and [`records`],
//! which picks one). The modules are re-exported here under their short names.
//!
//! Verification always takes the one key to trust and fails closed. `spec/signatures.md`
//! specifies the formats.
//!
//! This crate takes sequoia-openpgp without a crypto backend; the final binary chooses one
//! (`oembeddings` uses the pure-Rust `crypto-rust`).

mod backend;
pub mod batch;
pub mod error;
pub mod file;
mod format;
pub mod key_pair;
pub mod keys;
mod profile;
mod read;
pub mod release;
pub mod report;

use std::io::Write;
use std::path::Path;

pub use backend::x509;
pub use backend::{minisign, openpgp};
pub use error::SignError;
pub use format::file_digest::FileDigest;
pub use format::sidecar::{
    CompatibleRow, EMBEDDED_PUBLIC_KEY, NativeRow, embedded_public_key, profile_of,
};
pub use format::{digest, file_digest, manifest};
pub use keys::{PublicKey, SecretKey};
pub use profile::records::{Profile, RecordVerifyOptions, verify_records};
pub use profile::{compatible, native, records};
pub use report::{Problem, ProblemKind, VerifyReport};

/// Checks, before the work whose results they receive, that each output path may be
/// written (absent, or a regular file; see [`oembeddings::atomic::check_target`]).
pub(crate) fn check_outputs(paths: &[&Path]) -> Result<(), SignError> {
    for path in paths {
        oembeddings::atomic::check_target(path).map_err(SignError::io(path))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SignError> {
    let out = oembeddings::atomic::AtomicFile::create(path).map_err(SignError::io(path))?;
    out.file().write_all(bytes).map_err(SignError::io(path))?;
    out.commit().map_err(SignError::io(path))
}
