//! Streaming reader: opens a Parquet file of records in any accepted layout and yields
//! canonical [`Batch`](crate::Batch)es, one bounded batch at a time.
//!
//! - [`ParquetSource`] (`source.rs`): the opened file, its footer and recognised layout.
//! - [`Reader`] (`reader.rs`): the iterator over canonical batches.
//! - `normalize.rs`: any accepted layout to the canonical batch; [`ArrowNormalizer`] for
//!   Arrow data that comes from no file.
//! - `vectors.rs`: the direct decoder of go-embeddingsdb's vector column.
//! - `sequential.rs`: the file read once, in order, for a [`FileObserver`].
//! - `repair.rs`: reading on past bad values, as the Go tool would.

mod claims;
mod guard;
mod narrowing;
mod normalize;
mod options;
mod reader;
mod repair;
mod sequential;
mod source;
mod vectors;

use std::io;
use std::path::{Path, PathBuf};

use arrow_schema::ArrowError;
use parquet::errors::ParquetError;

use crate::contain::Contained;
use crate::footer::FooterError;
use crate::layout::LayoutError;

pub use crate::problem::RecordProblem;
pub use guard::{GuardedFile, MAX_EXPANSION, MIN_ALLOWED};
pub use narrowing::Narrowing;
pub(crate) use normalize::Normalizer;
pub use normalize::{ArrowNormalizer, NormalizeError};
pub use options::ReadOptions;
pub use reader::Reader;
pub use sequential::{FileObserver, OBSERVED_PIECE};
pub use source::ParquetSource;

/// Footer key under which Arrow writers store their schema.
pub const ARROW_SCHEMA_KEY: &str = "ARROW:schema";

/// Why a file could not be opened or read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file is not Parquet, is truncated, is encrypted, or its footer is malformed.
    #[error("{}: {source}", path.display())]
    Footer {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: FooterError,
    },
    /// The footer is well-formed Thrift but not valid Parquet metadata.
    #[error("{}: unreadable Parquet metadata: {source}", path.display())]
    Metadata {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: ParquetError,
    },
    /// The columns are not those of a records file.
    #[error("{}: {source}", path.display())]
    Layout {
        /// The file.
        path: PathBuf,
        /// The column and the rule.
        source: LayoutError,
    },
    /// A record breaks a rule every record must keep (no nulls, valid attributes, ...).
    #[error("{}: row {row}{}: {problem}", path.display(), key.as_deref().map(|k| format!(" (key {k})")).unwrap_or_default())]
    Record {
        /// The file.
        path: PathBuf,
        /// 0-based row index in the file.
        row: u64,
        /// The record key, when the key columns themselves could be read.
        key: Option<String>,
        /// What is wrong.
        problem: RecordProblem,
    },
    /// The footer contradicts itself or the file: row counts that do not add up, column
    /// chunks outside the file, rows in the pages that the footer does not count. Readers
    /// would disagree on such a file, so none of it is read.
    #[error("{}: inconsistent file: {what}", path.display())]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What contradicts what.
        what: String,
    },
    /// A decoder failed on the file's bytes: a panic inside a dependency, contained (see
    /// [`crate::contain`]). The file is corrupt or crafted; nothing read from it is used.
    #[error("{}: corrupt data{place}: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where in the file.
        place: CorruptPlace,
        /// What the decoder said, and where.
        source: Contained,
    },
    /// Data pages could not be decoded.
    #[error("{}: data from row {first_row} on is unreadable: {source}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// First row of the batch that failed.
        first_row: u64,
        /// The cause.
        source: ArrowError,
    },
}

/// Opens `path` and returns a reader over all its records (default options).
pub fn read(path: impl AsRef<Path>) -> Result<Reader, ReadError> {
    ParquetSource::open(path)?.records(&ReadOptions::default())
}

/// Where in a file a decoder failed, as far as it is known (see [`ReadError::Corrupt`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptPlace {
    /// The footer: metadata, schema, or the `ARROW:schema` hint.
    Footer,
    /// Data pages.
    Data {
        /// The row group being decoded.
        row_group: Option<usize>,
        /// The column whose data failed, when it could be told.
        column: Option<String>,
        /// The first row of the batch being decoded.
        first_row: Option<u64>,
    },
    /// Somewhere in the data.
    #[default]
    Unknown,
}

impl std::fmt::Display for CorruptPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CorruptPlace::Footer => f.write_str(" in the footer"),
            CorruptPlace::Unknown => Ok(()),
            CorruptPlace::Data {
                row_group,
                column,
                first_row,
            } => {
                if let Some(rg) = row_group {
                    write!(f, " in row group {rg}")?;
                }
                if let Some(column) = column {
                    write!(f, ", column '{column}'")?;
                }
                if let Some(row) = first_row {
                    write!(f, " (batch from row {row})")?;
                }
                Ok(())
            }
        }
    }
}
