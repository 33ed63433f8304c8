//! Errors of signing and verification. A verification that finds bad signatures is not an
//! error but a report (see [`crate::report`]); these are the failures to do the work at all.

use std::path::{Path, PathBuf};

use oembeddings::read::ReadError;
use oembeddings::write::WriteError;

/// Why signing or verifying could not be carried out. Every variant names its file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The data file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A sidecar file is not a signature sidecar of the expected profile.
    #[error("{}: not a signature sidecar: {message}", path.display())]
    Sidecar {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A manifest is malformed.
    #[error("{}: not a valid manifest: {message}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A key file could not be used.
    #[error("{}: {message}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An OpenPGP operation failed: generating or armoring a key, or signing.
    #[error("OpenPGP: {0}")]
    OpenPgp(#[from] crate::openpgp::Error),
    /// An X.509 certificate, key or signing operation failed.
    #[error("X.509: {0}")]
    X509(#[from] crate::x509::X509Error),
    /// Record signatures were asked to be verified without a key, and the sidecar embeds one:
    /// it is never trusted by itself (anyone who can write the sidecar can embed a key).
    #[error("{}: no key given; the sidecar embeds {description}. It is not trusted by itself: compare it with what the publisher publishes, then give it with --key", sidecar.display())]
    UntrustedEmbeddedKey {
        /// The sidecar.
        sidecar: PathBuf,
        /// The embedded key: its kind, who it names and its fingerprint.
        description: String,
    },
    /// Record signatures were asked to be verified without a key.
    #[error("{}: no key given (--key): verification needs the one key to trust", data.display())]
    NoKey {
        /// The data file.
        data: PathBuf,
    },
    /// The identity checks asked for cannot be made.
    #[error("identity: {0}")]
    Identity(String),
    /// A minisign key could not be written.
    #[error("minisign: {0}")]
    Minisign(#[from] crate::minisign::MinisignError),
    /// The key is of the wrong kind for what was asked of it.
    #[error("{operation} needs an {needed} key; this is an {given} key")]
    WrongKeyKind {
        /// What was asked.
        operation: &'static str,
        /// The key algorithm it needs (`openpgp`, `ed25519`).
        needed: &'static str,
        /// The key algorithm given.
        given: &'static str,
    },
    /// No record signatures were found next to a data file.
    #[error("{}: no record signatures found ({} or {}); give the sidecar and the profile", data.display(), native.display(), compatible.display())]
    NoRecordSignatures {
        /// The data file.
        data: PathBuf,
        /// Where the native profile's manifest would be.
        native: PathBuf,
        /// Where the compatible profile's sidecar would be.
        compatible: PathBuf,
    },
    /// A record cannot be signed in the profile asked for (the compatible profile's Go JSON
    /// has no form for NaN or infinite elements).
    #[error("{}: row {row} (key {key}): cannot sign: {reason}", path.display())]
    UnsignableRecord {
        /// The data file.
        path: PathBuf,
        /// 0-based row.
        row: u64,
        /// The record key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A release directory holds a symbolic link, which a release may not.
    #[error("{}: a release may not hold symbolic links", path.display())]
    SymbolicLink {
        /// The link.
        path: PathBuf,
    },
    /// A release directory holds something that is neither a regular file nor a directory
    /// (a named pipe, a device, a socket), which a release may not.
    #[error("{}: is {kind}; a release holds only regular files and directories", path.display())]
    NotReleaseFile {
        /// The entry.
        path: PathBuf,
        /// What it is.
        kind: oembeddings::input::FileKind,
    },
    /// A release directory holds a file named like an unfinished output of this library
    /// (`.NAME.XXXXXX.tmp`), being written or left by a killed run, which a release must not
    /// bind.
    #[error(
        "{}: an unfinished temporary file (a write in progress, or left by a killed run); \
         let the write finish or remove the file, then sign again",
        path.display()
    )]
    UnfinishedFile {
        /// The file.
        path: PathBuf,
    },
    /// A stage of a pipeline stopped because another failed; that failure is the one
    /// reported, so this is never seen by a caller.
    #[error("stopped early because another stage of the work failed")]
    Stopped,
}

impl SignError {
    pub(crate) fn sidecar(path: &Path, message: impl Into<String>) -> Self {
        SignError::Sidecar {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn manifest(path: &Path, message: impl Into<String>) -> Self {
        SignError::Manifest {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn key(path: &Path, message: impl Into<String>) -> Self {
        SignError::Key {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| SignError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
