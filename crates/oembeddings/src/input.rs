//! Opening what a command reads: regular files only, and small files read whole under a cap.
//!
//! A named pipe (FIFO) blocks a reader until some writer appears, and a device such as
//! `/dev/zero` never ends: given as an input path, either would hang a command or make it
//! read without bound. Every path a command reads (data files, keys, signatures, sidecars,
//! manifests, convert inputs) is opened with [`open_regular`], which opens without blocking
//! and then checks the opened handle (`fstat`, not a second look at the path, which another
//! process could change in between). Files that are read whole (keys, signatures, password
//! files, manifests) are read with [`read_capped`], under the limits named in [`limits`].
//!
//! Errors are [`io::Error`]s whose inner error is an [`InputError`], so that every caller's
//! existing "`path`: cause" message names the file; a caller that needs the variant finds it
//! with [`InputError::of`].

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// How much of a file a command may read whole, and what the file is (for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What the file is, as a message names it: `a key file`.
    pub what: &'static str,
    /// The most bytes read.
    pub bytes: u64,
}

/// The caps on files read whole. They are generous for every genuine file and finite, so
/// that a wrong path (a device, a huge file) fails at once with a clear message instead of
/// exhausting memory.
pub mod limits {
    use super::Limit;

    /// A key file: a minisign key is under 1 KiB and an OpenPGP certificate a few KiB, but a
    /// keyring may hold thousands of certificates with their third-party signatures (the
    /// Debian keyring is about 10 MiB).
    pub const KEY_FILE: Limit = Limit {
        what: "a key file",
        bytes: 16 << 20,
    };

    /// A detached signature: a `.minisig` is under 1 KiB and an armored OpenPGP signature a
    /// few hundred bytes; 1 MiB leaves room for many signatures in one file.
    pub const SIGNATURE_FILE: Limit = Limit {
        what: "a signature file",
        bytes: 1 << 20,
    };

    /// A password file (only its first line is used).
    pub const PASSWORD_FILE: Limit = Limit {
        what: "a password file",
        bytes: 4 << 10,
    };

    /// A store's access token file, such as Chroma's (only its first line is used; a token
    /// is well under 1 KiB).
    pub const TOKEN_FILE: Limit = Limit {
        what: "a token file",
        bytes: 4 << 10,
    };

    /// A native record manifest: one data file and one sidecar entry, about 1 KiB.
    pub const RECORDS_MANIFEST: Limit = Limit {
        what: "a record manifest",
        bytes: 1 << 20,
    };

    /// Roots of trust for X.509 chains (PEM): Mozilla's whole set is about 200 KiB.
    pub const CERTIFICATES_FILE: Limit = Limit {
        what: "a certificates file",
        bytes: 16 << 20,
    };

    /// Certificate revocation lists: the largest public CAs' CRLs run to tens of MiB.
    pub const CRL_FILE: Limit = Limit {
        what: "a revocation list file",
        bytes: 256 << 20,
    };

    /// A release manifest: an entry is about 250 bytes (a name, a size, two SHA-256 hex
    /// digests and a row count), so 64 MiB lists some 250,000 files, far more than any
    /// release directory holds, while parsing it stays well under a second.
    pub const RELEASE_MANIFEST: Limit = Limit {
        what: "a release manifest",
        bytes: 64 << 20,
    };
}

/// What kind of file a path turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A named pipe.
    Fifo,
    /// A character device, such as `/dev/zero` or a terminal.
    CharDevice,
    /// A block device, such as a disk.
    BlockDevice,
    /// A Unix domain socket.
    Socket,
    /// Anything else the platform has.
    Other,
}

impl FileKind {
    /// The kind of the file `metadata` describes.
    pub fn of(metadata: &std::fs::Metadata) -> Self {
        let kind = metadata.file_type();
        if kind.is_file() {
            return FileKind::Regular;
        }
        if kind.is_dir() {
            return FileKind::Directory;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_fifo() {
                return FileKind::Fifo;
            }
            if kind.is_char_device() {
                return FileKind::CharDevice;
            }
            if kind.is_block_device() {
                return FileKind::BlockDevice;
            }
            if kind.is_socket() {
                return FileKind::Socket;
            }
        }
        FileKind::Other
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a named pipe (FIFO)",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a file",
        })
    }
}

/// Why an input path was refused. Carried inside an [`io::Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The path is not a regular file (a directory, a named pipe, a device, a socket).
    #[error("is {kind}, not a regular file")]
    NotRegular {
        /// What it is.
        kind: FileKind,
    },
    /// A file read whole is larger than its limit.
    #[error("larger than {} (the limit for {})", human(limit.bytes), limit.what)]
    TooLarge {
        /// The limit.
        limit: Limit,
    },
}

impl InputError {
    /// The [`InputError`] inside `error`, if it is one of these.
    pub fn of(error: &io::Error) -> Option<&InputError> {
        error.get_ref()?.downcast_ref::<InputError>()
    }

    fn into_io(self) -> io::Error {
        let kind = match self {
            InputError::NotRegular {
                kind: FileKind::Directory,
            } => io::ErrorKind::IsADirectory,
            InputError::NotRegular { .. } => io::ErrorKind::InvalidInput,
            InputError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
        };
        io::Error::new(kind, self)
    }
}

/// `1 MiB`, `4 KiB`, or bytes.
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Opens `path` for reading without ever blocking on it, and returns it only if it is a
/// regular file; otherwise fails with [`InputError::NotRegular`].
///
/// On Unix the file is opened with `O_NONBLOCK` (a named pipe without a writer would
/// otherwise block the open itself) and `O_NOCTTY`; the kind is then checked on the opened
/// handle and, for a regular file, blocking mode restored.
pub fn open_regular(path: impl AsRef<Path>) -> io::Result<File> {
    let file = open_nonblocking(path.as_ref())?;
    match FileKind::of(&file.metadata()?) {
        FileKind::Regular => {
            restore_blocking(&file)?;
            Ok(file)
        }
        kind => Err(InputError::NotRegular { kind }.into_io()),
    }
}

/// Opens `path` (a regular file, or a remote object: see [`crate::blob`]) to be read from
/// its start, as a whole-file digest or a detached signature reads it.
pub fn open_stream(path: impl AsRef<Path>) -> io::Result<crate::blob::BlobCursor> {
    Ok(crate::blob::Blob::open(path.as_ref())?.cursor())
}

/// Whether `path` exists (for a remote object, whether its server says so).
pub fn exists(path: impl AsRef<Path>) -> bool {
    crate::blob::Blob::exists(path.as_ref())
}

/// The size of the file (or remote object) at `path`.
pub fn size(path: impl AsRef<Path>) -> io::Result<u64> {
    let path = path.as_ref();
    if crate::blob::is_remote(path) {
        return Ok(crate::blob::Blob::open(path)?.len());
    }
    Ok(std::fs::metadata(path)?.len())
}

/// Checks that an already opened `file` is a regular file.
pub fn check_regular(file: &File) -> io::Result<()> {
    match FileKind::of(&file.metadata()?) {
        FileKind::Regular => Ok(()),
        kind => Err(InputError::NotRegular { kind }.into_io()),
    }
}

/// Reads the regular file (or remote object, see [`crate::blob`]) `path` whole, failing
/// with [`InputError::TooLarge`] if it holds more than `limit` bytes (without reading past
/// the limit).
pub fn read_capped(path: impl AsRef<Path>, limit: Limit) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    if crate::blob::is_remote(path) {
        let blob = crate::blob::Blob::open(path)?;
        let len = blob.len();
        if len > limit.bytes {
            return Err(InputError::TooLarge { limit }.into_io());
        }
        let len = usize::try_from(len).map_err(|_| InputError::TooLarge { limit }.into_io())?;
        return blob.read_exact_at(0, len).map(|b| b.to_vec());
    }
    let file = open_regular(path)?;
    let too_large = || InputError::TooLarge { limit }.into_io();
    let len = file.metadata()?.len();
    if len > limit.bytes {
        return Err(too_large());
    }
    // The length can change after the check; the read itself stops one byte past the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit.bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Opens `path` for reading without blocking: a named pipe without a writer opens at once.
#[cfg(unix)]
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let flags = OFlags::NONBLOCK | OFlags::NOCTTY;
    OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

#[cfg(unix)]
fn restore_blocking(file: &File) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    if flags.contains(OFlags::NONBLOCK) {
        fcntl_setfl(file, flags - OFlags::NONBLOCK)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restore_blocking(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_open_and_others_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let mut opened = open_regular(&file).unwrap();
        let mut text = String::new();
        opened.read_to_string(&mut text).unwrap();
        assert_eq!(text, "x");

        let error = open_regular(dir.path()).unwrap_err();
        assert_eq!(
            InputError::of(&error),
            Some(&InputError::NotRegular {
                kind: FileKind::Directory
            })
        );
        assert_eq!(error.to_string(), "is a directory, not a regular file");
        #[cfg(unix)]
        {
            let error = open_regular("/dev/zero").unwrap_err();
            assert_eq!(
                error.to_string(),
                "is a character device, not a regular file"
            );
            // A named pipe with no writer: a plain open would block here forever.
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            let error = open_regular(&fifo).unwrap_err();
            assert_eq!(
                error.to_string(),
                "is a named pipe (FIFO), not a regular file"
            );
            assert!(read_capped(&fifo, limits::KEY_FILE).is_err());
        }
    }

    #[test]
    fn reads_whole_files_up_to_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let limit = Limit {
            what: "a test file",
            bytes: 4,
        };
        std::fs::write(&file, b"1234").unwrap();
        assert_eq!(read_capped(&file, limit).unwrap(), b"1234");
        std::fs::write(&file, b"12345").unwrap();
        let error = read_capped(&file, limit).unwrap_err();
        assert_eq!(
            error.to_string(),
            "larger than 4 bytes (the limit for a test file)"
        );
        assert!(matches!(
            InputError::of(&error),
            Some(InputError::TooLarge { .. })
        ));
        assert_eq!(
            InputError::TooLarge {
                limit: limits::KEY_FILE
            }
            .to_string(),
            "larger than 16 MiB (the limit for a key file)"
        );
        #[cfg(unix)]
        assert!(read_capped("/dev/zero", limits::SIGNATURE_FILE).is_err());
    }
}
