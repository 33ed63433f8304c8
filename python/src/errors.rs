//! The one mapping from the library's errors to Python exceptions, by variant: a file that
//! cannot be opened, read or written is a `FormatError` and the matching `OSError`
//! (`FileNotFoundError`, `PermissionError`, ...); records that break a rule are a
//! `ValidationError`; keys and signatures a `SignatureError`; options that make no sense a
//! `FormatError` and a `ValueError`. The classes are defined in Python
//! (`oembeddings/_errors.py`), where a class can have two parents. Messages are one line, in
//! Python's words ([`crate::wording`]: `from_=` where the command line says `--from`).

use std::io::ErrorKind;

use arrow_schema::ArrowError;
use oembeddings::append::AppendError;
use oembeddings::layout::LayoutError;
use oembeddings::name::NameError;
use oembeddings::read::{NormalizeError, ReadError};
use oembeddings::write::WriteError;
use oembeddings_convert::ConvertError;
use oembeddings_convert::chroma::api::ChromaError;
use oembeddings_convert::pgvector::PgError;
use oembeddings_sign::SignError;
use pyo3::{PyErr, Python};

mod classes {
    pyo3::import_exception!(oembeddings._errors, FormatError);
    pyo3::import_exception!(oembeddings._errors, ValidationError);
    pyo3::import_exception!(oembeddings._errors, SignatureError);
    pyo3::import_exception!(oembeddings._errors, FileNotFound);
    pyo3::import_exception!(oembeddings._errors, PermissionDenied);
    pyo3::import_exception!(oembeddings._errors, FileExists);
    pyo3::import_exception!(oembeddings._errors, IsADirectory);
    pyo3::import_exception!(oembeddings._errors, NotADirectory);
    pyo3::import_exception!(oembeddings._errors, FileError);
    pyo3::import_exception!(oembeddings._errors, InvalidOptions);
}

/// Why a call failed: a library error, kept typed until it becomes a Python exception.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Reading a records file.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Writing a records file.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Appending statistics to a footer.
    #[error(transparent)]
    Append(#[from] AppendError),
    /// Arrow data whose columns are not those of records.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Arrow data with a record that breaks a rule every record keeps.
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
    /// Arrow data that could not be read.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// A file name that is not a conventional one.
    #[error("{name}: {source}")]
    Name {
        /// The name.
        name: String,
        /// What is wrong with it.
        source: NameError,
    },
    /// Signing or verifying.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Converting.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// A result that could not be turned into Python data.
    #[error("{0}")]
    Data(#[from] serde_json::Error),
    /// Signatures that are not a binary array.
    #[error("signatures must be a binary array ({data_type}): {source}")]
    SignatureType {
        /// Their type.
        data_type: arrow_schema::DataType,
        /// Why they could not be read as binary.
        source: ArrowError,
    },
    /// Fewer or more signatures than records in a batch.
    #[error(
        "{signatures} signatures for {}{records} records",
        if *at_least { "at least " } else { "" }
    )]
    SignatureCount {
        /// Signatures given.
        signatures: usize,
        /// Records given, or read so far when `at_least`.
        records: usize,
        /// Whether more records may follow.
        at_least: bool,
    },
    /// An error with what the caller can do about it.
    #[error("{source}; {hint}")]
    Hinted {
        /// The error.
        source: Box<Error>,
        /// What to do.
        hint: &'static str,
    },
    /// An exception already raised (a bad argument, a failing Arrow stream).
    #[error(transparent)]
    Python(#[from] PyErr),
}

impl Error {
    /// The error with a hint appended to its message; its class is the error's.
    pub(crate) fn hint(self, hint: &'static str) -> Self {
        Error::Hinted {
            source: Box::new(self),
            hint,
        }
    }

    fn class(&self) -> Class {
        match self {
            Error::Read(e) => read(e),
            Error::Write(e) => write(e),
            Error::Append(e) => append(e),
            Error::Sign(e) => sign(e),
            Error::Convert(e) => convert(e),
            Error::Normalize(_) | Error::Name { .. } | Error::SignatureCount { .. } => {
                Class::Validation
            }
            Error::Layout(_)
            | Error::Arrow(_)
            | Error::SignatureType { .. }
            | Error::Data(_)
            | Error::Python(_) => Class::Format,
            Error::Hinted { source, .. } => source.class(),
        }
    }
}

/// The Python class of an error.
#[derive(Debug, Clone, Copy)]
enum Class {
    Format,
    Validation,
    Signature,
    Options,
    Io(ErrorKind),
}

fn read(e: &ReadError) -> Class {
    match e {
        ReadError::Io { source, .. } => Class::Io(source.kind()),
        ReadError::Record { .. } => Class::Validation,
        _ => Class::Format,
    }
}

fn write(e: &WriteError) -> Class {
    match e {
        WriteError::Io { source, .. } => Class::Io(source.kind()),
        WriteError::MixedDimensions { .. } => Class::Validation,
        _ => Class::Format,
    }
}

fn append(e: &AppendError) -> Class {
    match e {
        AppendError::Read(e) => read(e),
        AppendError::Io { source, .. } => Class::Io(source.kind()),
        _ => Class::Format,
    }
}

fn sign(e: &SignError) -> Class {
    match e {
        SignError::Read(e) => read(e),
        SignError::Write(e) => write(e),
        SignError::Io { source, .. } => Class::Io(source.kind()),
        SignError::UnsignableRecord { .. } => Class::Validation,
        SignError::SymbolicLink { .. }
        | SignError::NotReleaseFile { .. }
        | SignError::UnfinishedFile { .. } => Class::Format,
        _ => Class::Signature,
    }
}

fn convert(e: &ConvertError) -> Class {
    match e {
        ConvertError::Read(e) => read(e),
        ConvertError::Write(e) => write(e),
        ConvertError::Io { source, .. } => Class::Io(source.kind()),
        ConvertError::OutputExists { .. } => Class::Io(ErrorKind::AlreadyExists),
        ConvertError::Record { .. } => Class::Validation,
        ConvertError::Unsupported { .. } | ConvertError::Options(_) => Class::Options,
        ConvertError::NoInput { .. } => Class::Io(ErrorKind::NotFound),
        // A store that cannot be reached is an OSError, as a refused connection is in Python.
        ConvertError::Chroma(ChromaError::Connect { .. }) => {
            Class::Io(ErrorKind::ConnectionRefused)
        }
        ConvertError::Chroma(ChromaError::Url { .. })
        | ConvertError::Postgres(PgError::Url(_) | PgError::TableType { .. }) => Class::Options,
        _ => Class::Format,
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        let class = e.class();
        let message = Python::attach(|py| {
            crate::wording::python(py, &oembeddings::error::one_line(&e.to_string()))
        });
        match e {
            Error::Python(e) => e,
            _ => match class {
                Class::Format => classes::FormatError::new_err(message),
                Class::Validation => classes::ValidationError::new_err(message),
                Class::Signature => classes::SignatureError::new_err(message),
                Class::Options => classes::InvalidOptions::new_err(message),
                Class::Io(ErrorKind::NotFound) => classes::FileNotFound::new_err(message),
                Class::Io(ErrorKind::PermissionDenied) => {
                    classes::PermissionDenied::new_err(message)
                }
                Class::Io(ErrorKind::AlreadyExists) => classes::FileExists::new_err(message),
                Class::Io(ErrorKind::IsADirectory) => classes::IsADirectory::new_err(message),
                Class::Io(ErrorKind::NotADirectory) => classes::NotADirectory::new_err(message),
                Class::Io(_) => classes::FileError::new_err(message),
            },
        }
    }
}
