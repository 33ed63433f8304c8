//! # oembeddings
//!
//! Records, Parquet I/O, statistics and naming for shared vector embeddings of museum
//! collections, compatible with SFO Museum's `go-embeddingsdb`.
//!
//! - [`Record`] and [`OEmbeddings`]: the record and its attribute convention.
//! - [`read`] / [`ParquetSource`]: stream any accepted Parquet layout as canonical
//!   [`Batch`]es, one bounded batch at a time.
//! - [`footer`]: replace a file's key/value metadata without touching its data pages.

pub mod append;
pub mod atomic;
pub mod attributes;
pub mod batch;
pub mod error;
mod file_digest;
pub mod footer;
pub mod gojson;
pub mod inspect;
pub mod json;
pub mod layout;
pub mod name;
mod named;
pub mod read;
pub mod record;
pub mod repair;
pub mod schema;
pub mod sha256_pair;
pub mod stats;
pub mod uri;
mod vectors;
pub mod write;

pub use attributes::{AttributeProblem, AttributeType, OEmbeddings};
pub use batch::{Batch, COLUMNS, canonical_schema};
pub use file_digest::{FileDigest, FileHashing};
pub use layout::{Layout, LayoutKind};
pub use name::FileName;
pub use read::{
    ArrowNormalizer, NormalizeError, ParquetSource, ReadError, ReadOptions, Reader, RecordProblem,
    read,
};
pub use record::{Attributes, Record, RecordKey, RecordRef};
pub use stats::{Statistics, StatisticsBuilder};
pub use write::{VectorOutput, WriteError, WriteOptions, Writer};
