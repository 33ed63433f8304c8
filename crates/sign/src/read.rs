//! Records as the signer reads them: decoded on another thread, a few batches ahead, and for
//! signing, with the file hashed from the very reads that decode them.

use std::path::Path;

use crate::error::SignError;
use crate::format::file_digest::{FileDigest, FileHashing};

/// Records per batch where batches stream through a pipeline with no barrier between them
/// ([`oembeddings::pipeline::ordered_chunks`]): smaller than the reader's default costs
/// nothing there, a batch's buffers are reused rather than faulted in afresh (half the page
/// faults of 8 MiB batches), and the several batches in flight hold little memory.
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
    f: impl FnMut(&oembeddings::Batch) -> Result<(), SignError>,
) -> Result<(), SignError> {
    decode_batches(oembeddings::ParquetSource::open(data)?, options, f).map(drop)
}

/// [`for_each_batch`] over an opened file with reader settings, also returning the file's
/// size and SHA-256, hashed from the very reads that decode the records
/// (see [`oembeddings::ReadOptions::with_observer`]): the file is read once, and the records
/// are those of the bytes hashed.
pub(crate) fn for_each_batch_hashed(
    source: oembeddings::ParquetSource,
    options: &oembeddings::ReadOptions,
    f: impl FnMut(&oembeddings::Batch) -> Result<(), SignError>,
) -> Result<FileDigest, SignError> {
    let path = source.path().to_path_buf();
    let hashing = FileHashing::start();
    let options = options.clone().with_observer(hashing.clone());
    let observed = decode_batches(source, &options, f);
    let digest = hashing.finish();
    match observed? {
        Some(size) if size == digest.size => Ok(digest),
        _ => Err(SignError::Io {
            path,
            source: std::io::Error::other("the file was not read whole"),
        }),
    }
}

/// Decodes on another thread and calls `f` on each batch; once every batch was read, the
/// number of bytes the reader's observer saw in all (`None` without one).
fn decode_batches(
    source: oembeddings::ParquetSource,
    options: &oembeddings::ReadOptions,
    mut f: impl FnMut(&oembeddings::Batch) -> Result<(), SignError>,
) -> Result<Option<u64>, SignError> {
    let reader = source.records(options)?;
    let (observed, consumed) = oembeddings::pipeline::read_ahead(
        2,
        |feed| {
            let mut reader = reader;
            for batch in reader.by_ref() {
                let failed = batch.is_err();
                if !feed.send(batch) || failed {
                    return Ok(None);
                }
            }
            // Every batch was read: the observer is shown the rest of the file.
            reader.read_to_end()
        },
        |batches| -> Result<(), SignError> {
            for batch in batches {
                f(&batch?)?;
            }
            Ok(())
        },
    );
    consumed?;
    Ok(observed?)
}
