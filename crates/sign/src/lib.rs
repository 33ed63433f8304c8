//! # oembeddings-sign
//!
//! Signatures for shared embeddings: who published this file, and is every record still what
//! they published?
//!
//! - [`keys`]: OpenPGP certificates (sequoia) and Ed25519 keys in minisign's formats.
//! - [`file`]: detached signatures of whole files (`.asc` for `gpg --verify` and `sqv`,
//!   `.minisig` for `minisign -V`).
//! - [`compatible`]: go-embeddingsdb's per-record signatures, byte-exact, verified without
//!   its weaknesses.
//! - [`native`]: domain-separated record digests, per-record signatures and a signed manifest
//!   that detect changed, deleted, added, reordered and moved records.
//! - [`release`]: signed manifests of whole release directories.
//!
//! Verification always takes the one key to trust and fails closed. `spec/signatures.md`
//! specifies the formats.
//!
//! This crate takes sequoia-openpgp without a crypto backend; the final binary chooses one
//! (`oembeddings` uses the pure-Rust `crypto-rust`).

mod armor;
pub mod batch;
pub mod compatible;
pub mod digest;
mod ed25519;
pub mod error;
pub mod file;
pub mod key_pair;
pub mod keys;
pub mod manifest;
pub mod minisign;
pub mod native;
pub mod openpgp;
mod ordered;
pub mod records;
pub mod release;
pub mod report;
mod sidecar;

use std::io::Write;
use std::path::Path;

pub use error::SignError;
pub use keys::{PublicKey, SecretKey};
pub use records::{Profile, RecordVerifyOptions, verify_records};
pub use report::{Problem, ProblemKind, VerifyReport};
pub use sidecar::{CompatibleRow, NativeRow, profile_of};

/// Records per batch where batches stream through a pipeline with no barrier between them
/// (`ordered::for_each_chunked`): smaller than the reader's default costs nothing there, a
/// batch's buffers are reused rather than faulted in afresh (half the page faults of 8 MiB
/// batches), and the several batches in flight hold little memory.
pub(crate) const PIPELINE_BATCH_ROWS: usize = 512;

/// Calls `f` on each batch of records of `data`, in order, while the next batches are decoded
/// on another thread (at most two ahead, so memory stays bounded).
pub(crate) fn for_each_batch(
    data: &Path,
    f: impl FnMut(&oembeddings::Batch) -> Result<(), SignError>,
) -> Result<(), SignError> {
    for_each_batch_with(data, &oembeddings::ReadOptions::default(), f)
}

/// [`for_each_batch`] with reader settings.
pub(crate) fn for_each_batch_with(
    data: &Path,
    options: &oembeddings::ReadOptions,
    mut f: impl FnMut(&oembeddings::Batch) -> Result<(), SignError>,
) -> Result<(), SignError> {
    let options = options.clone().with_file_digest(false);
    decode_batches(
        oembeddings::ParquetSource::open(data)?,
        &options,
        |batch, _| f(batch),
    )
    .map(drop)
}

/// [`for_each_batch`] over an opened file with reader settings, also returning the file's
/// size and SHA-256, taken from the same reads as the records (see
/// [`oembeddings::Reader::file_digest`]). `f` is also given the file's hashing, to hash
/// record digests beside the file (see [`digest::record_digests_beside`]).
pub(crate) fn for_each_batch_hashed(
    source: oembeddings::ParquetSource,
    options: &oembeddings::ReadOptions,
    mut f: impl FnMut(&oembeddings::Batch, &oembeddings::FileHashing) -> Result<(), SignError>,
) -> Result<oembeddings::FileDigest, SignError> {
    let options = options.clone().with_file_digest(true);
    let path = source.path().to_path_buf();
    let not_hashed = || SignError::Unsupported(format!("{}: not hashed", path.display()));
    decode_batches(source, &options, |batch, hashing| {
        f(batch, hashing.ok_or_else(not_hashed)?)
    })?
    .ok_or_else(not_hashed)
}

/// Decodes on another thread and calls `f` on each batch, with the file's hashing when
/// `options` ask for the file's digest; that digest once every batch was read.
fn decode_batches(
    source: oembeddings::ParquetSource,
    options: &oembeddings::ReadOptions,
    mut f: impl FnMut(&oembeddings::Batch, Option<&oembeddings::FileHashing>) -> Result<(), SignError>,
) -> Result<Option<oembeddings::FileDigest>, SignError> {
    let mut reader = source.records(options)?;
    let digest = options.file_digest;
    let hashing = reader.file_hashing();
    std::thread::scope(|scope| {
        let (sender, batches) = std::sync::mpsc::sync_channel(2);
        let decoding = scope.spawn(move || {
            for batch in reader.by_ref() {
                let failed = batch.is_err();
                if sender.send(batch).is_err() || failed {
                    return None;
                }
            }
            // Every batch was sent; the file's last bytes are hashed while they are used.
            drop(sender);
            digest.then(|| reader.file_digest())
        });
        let mut result = Ok(());
        for batch in batches {
            result = batch
                .map_err(SignError::from)
                .and_then(|b| f(&b, hashing.as_ref()));
            if result.is_err() {
                break;
            }
        }
        // The receiver is gone once the loop ends, so the decoder stops at its next send.
        let file_digest = match decoding.join() {
            Ok(file_digest) => file_digest,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        result?;
        Ok(file_digest.transpose()?)
    })
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SignError> {
    let out = oembeddings::atomic::AtomicFile::create(path).map_err(SignError::io(path))?;
    out.file().write_all(bytes).map_err(SignError::io(path))?;
    out.commit().map_err(SignError::io(path))
}
