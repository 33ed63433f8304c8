//! Writing statistics into an existing file by replacing only its footer.
//!
//! The data pages, page indexes and every footer field but the key/value list stay byte for
//! byte as they were. The new file is written next to its target and renamed over it, also
//! when the target is the input itself: a crash leaves either the old file or the new one,
//! never a file with half a footer. The data is copied as a reflink where the file system
//! has them (Btrfs, XFS, bcachefs: the copy shares the data's blocks and costs about as
//! much as the footer), else by the kernel (`copy_file_range`), at the disk's speed.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic::AtomicFile;
use crate::footer::{self, FooterError, KeyValue};
use crate::read::{ParquetSource, ReadError};
use crate::stats::{Statistics, is_statistics_key};

/// Why statistics could not be appended. The input is unchanged whenever this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The input could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The footer could not be rewritten.
    #[error("{}: {source}", path.display())]
    Footer {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: FooterError,
    },
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file is remote: its footer cannot be rewritten where it is.
    #[error(
        "{}: appending writes the statistics into the file's own footer, which cannot be done \
         where a remote file is; gather them without appending, or append to a downloaded copy",
        path.display()
    )]
    Remote {
        /// The location.
        path: PathBuf,
    },
    /// The file changed while its statistics were gathered.
    #[error("{}: the file changed while its statistics were being gathered; nothing was written", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The new footer failed its self-check (a bug; the file was not touched).
    #[error("{}: the rewritten footer failed its self-check, nothing was written: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the check found.
        reason: String,
    },
}

/// What appending statistics did.
#[derive(Debug, Clone, Serialize)]
pub struct AppendSummary {
    /// The file written (the input, or the copy).
    pub path: PathBuf,
    /// The statistics written.
    #[serde(skip)]
    pub statistics: Statistics,
    /// Statistics keys the footer held before (all replaced).
    pub replaced_keys: usize,
    /// Statistics keys written.
    pub written_keys: usize,
    /// Other footer keys kept as they were.
    pub kept_keys: usize,
    /// Footer size before, in bytes.
    pub footer_bytes_before: u32,
    /// Footer size after, in bytes.
    pub footer_bytes_after: u32,
    /// Whether the footer already held exactly these statistics: in place nothing was
    /// written; with an output, an identical copy was.
    pub unchanged: bool,
}

/// Gathers the statistics of `input` and writes them into its footer, replacing stale
/// statistics keys and keeping every other key. With `output`, the input is left alone and a
/// copy with the new footer is written there.
///
/// Either way the new file is written under a temporary name and renamed into place (see
/// the module's documentation): the input's bytes are never written to. In place, the
/// renamed file keeps the input's permissions but is a new file: other hard links to the
/// input keep the old bytes, and its owner becomes the user who ran this.
pub fn append_statistics(
    input: &Path,
    output: Option<&Path>,
) -> Result<AppendSummary, AppendError> {
    if crate::blob::is_remote(input) {
        return Err(AppendError::Remote {
            path: input.to_path_buf(),
        });
    }
    let source = ParquetSource::open(input)?;
    let (file_len, footer_len) = (source.file_len(), source.footer_len());
    let in_place = match output {
        None => true,
        Some(out) => same_file(input, out),
    };
    let out = output.unwrap_or(input);
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AppendError::Io { path, source }
    };
    // Before the work: an output path that cannot be written fails at once.
    let copy = AtomicFile::create(out).map_err(io_err(out))?;
    let statistics = Statistics::gather(source)?;
    let footer_err = |source| AppendError::Footer {
        path: input.to_path_buf(),
        source,
    };
    let mut file = crate::input::open_regular(input).map_err(io_err(input))?;
    let location = footer::locate(&mut file).map_err(footer_err)?;
    if location.file_len != file_len || location.metadata_len != footer_len {
        return Err(AppendError::Changed {
            path: input.to_path_buf(),
        });
    }
    let metadata = footer::read_metadata(&mut file, &location).map_err(footer_err)?;
    let old = footer::key_values(&metadata).map_err(footer_err)?;
    let stats_key = |kv: &KeyValue| std::str::from_utf8(&kv.key).is_ok_and(is_statistics_key);
    let replaced_keys = old.iter().filter(|kv| stats_key(kv)).count();
    let mut new: Vec<KeyValue> = old.iter().filter(|kv| !stats_key(kv)).cloned().collect();
    let kept_keys = new.len();
    let fresh = statistics.key_values();
    let written_keys = fresh.len();
    new.extend(fresh.into_iter().map(|(k, v)| KeyValue::new(k, v)));
    let rewritten = footer::with_key_values(&metadata, &new).map_err(footer_err)?;
    check_rewrite(&metadata, &rewritten, &new).map_err(|reason| AppendError::Invalid {
        path: input.to_path_buf(),
        reason,
    })?;
    let footer_bytes_after = u32::try_from(rewritten.len()).unwrap_or(u32::MAX);
    let unchanged = rewritten == metadata;
    if !(unchanged && in_place) {
        let copied =
            copy_prefix(&file, copy.file(), location.metadata_offset).map_err(io_err(out))?;
        if copied != location.metadata_offset {
            return Err(AppendError::Changed {
                path: input.to_path_buf(),
            });
        }
        footer::write_tail(&mut copy.file(), &rewritten).map_err(io_err(out))?;
        copy.commit().map_err(io_err(out))?;
    }
    // Unchanged in place: nothing is written, and the temporary file goes with `copy`.
    let path = if in_place { input } else { out }.to_path_buf();
    Ok(AppendSummary {
        path,
        statistics,
        replaced_keys,
        written_keys,
        kept_keys,
        footer_bytes_before: footer_len,
        footer_bytes_after,
        unchanged,
    })
}

/// Checks, before anything is written, that `rewritten` holds exactly `kvs` and that every
/// other footer field is byte for byte the old one.
fn check_rewrite(old: &[u8], rewritten: &[u8], kvs: &[KeyValue]) -> Result<(), String> {
    let others = |bytes| -> Result<Vec<(i16, u8, Vec<u8>)>, String> {
        Ok(footer::raw_fields(bytes)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|f| f.id != footer::KEY_VALUE_METADATA_FIELD)
            .map(|f| (f.id, f.compact_type, f.value.to_vec()))
            .collect())
    };
    if others(old)? != others(rewritten)? {
        return Err("fields other than the key/values changed".into());
    }
    if footer::key_values(rewritten).map_err(|e| e.to_string())? != kvs {
        return Err("key/values differ from those intended".into());
    }
    Ok(())
}

/// Copies the first `len` bytes of `from` into the empty file `to` and leaves `to`'s offset
/// at their end; returns the bytes copied (fewer when `from` is shorter).
///
/// A reflink of the whole file, then cut to `len`, where the file system has them (Linux
/// `FICLONE`); otherwise a copy, which `std` makes with `copy_file_range` on Linux so that
/// the bytes do not pass through this process.
fn copy_prefix(from: &File, to: &File, len: u64) -> io::Result<u64> {
    #[cfg(target_os = "linux")]
    if rustix::fs::ioctl_ficlone(to, from).is_ok() {
        let cloned = to.metadata()?.len().min(len);
        to.set_len(cloned)?;
        (&*to).seek(SeekFrom::Start(cloned))?;
        return Ok(cloned);
    }
    (&*from).seek(SeekFrom::Start(0))?;
    io::copy(&mut from.take(len), &mut &*to)
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
