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
    /// The operation does not apply to this kind of key.
    #[error("{0}")]
    Unsupported(String),
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
