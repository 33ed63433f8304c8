//! Errors of remote reads: one line each, naming the URL and the cause.

use std::io;

/// What went wrong with a remote location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The location is not one this crate reads.
    #[error("{location}: {reason}")]
    Location {
        /// The location as given.
        location: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// Credentials or configuration for the store could not be set up.
    #[error("{location}: {reason}")]
    Config {
        /// The location as given.
        location: String,
        /// What is missing or unsupported.
        reason: String,
    },
    /// The object does not exist (HTTP 404).
    #[error("{location}: not found on the server")]
    NotFound {
        /// The location as given.
        location: String,
    },
    /// The server refused or failed a request.
    #[error("{location}: {cause}")]
    Request {
        /// The location as given.
        location: String,
        /// The server's answer or the transport's error, in one line.
        cause: String,
    },
    /// The object changed on the server after this run first read it.
    #[error(
        "{location}: the file changed on the server during the run (it was pinned to {pin}); \
         run again to read the new version"
    )]
    Changed {
        /// The location as given.
        location: String,
        /// The version first seen (ETag, version id or commit).
        pin: String,
    },
    /// The server's answer contradicts itself or the request.
    #[error("{location}: the server's answer is malformed: {reason}")]
    Malformed {
        /// The location as given.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl RemoteError {
    /// The cause alone, without the location (for messages that name it already).
    pub fn cause(&self) -> String {
        let full = self.to_string();
        let location = match self {
            RemoteError::Location { location, .. }
            | RemoteError::Config { location, .. }
            | RemoteError::NotFound { location }
            | RemoteError::Request { location, .. }
            | RemoteError::Changed { location, .. }
            | RemoteError::Malformed { location, .. } => location,
        };
        full.strip_prefix(location.as_str())
            .and_then(|rest| rest.strip_prefix(": "))
            .map_or_else(|| full.clone(), str::to_owned)
    }

    /// This error as an [`io::Error`] carrying [`Self::cause`], for readers that speak
    /// `std::io` and name the location themselves.
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            RemoteError::NotFound { .. } => io::ErrorKind::NotFound,
            RemoteError::Changed { .. } | RemoteError::Malformed { .. } => {
                io::ErrorKind::InvalidData
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self.cause())
    }
}

/// One line of an error and its causes (transport errors nest several).
pub(crate) fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out.replace('\n', " ")
}
