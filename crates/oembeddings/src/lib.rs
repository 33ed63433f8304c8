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
pub mod blob;
pub mod contain;
pub mod error;
pub mod footer;
pub mod gojson;
pub mod input;
pub mod inspect;
pub mod json;
pub mod layout;
pub mod name;
mod named;
pub mod pipeline;
pub mod problem;
pub mod read;
pub mod record;
pub mod schema;
pub mod stats;
pub mod uri;
pub mod write;

pub use attributes::{AttributeProblem, AttributeType, OEmbeddings};
pub use batch::{Batch, COLUMNS, canonical_schema};
pub use layout::{Layout, LayoutKind};
pub use name::FileName;
pub use problem::{RecordProblem, Repair};
pub use read::{
    ArrowNormalizer, FileObserver, NormalizeError, ParquetSource, ReadError, ReadOptions, Reader,
    read,
};
pub use record::{Attributes, Record, RecordKey, RecordRef};
pub use stats::{Statistics, StatisticsBuilder};
pub use write::{AttributesOutput, VectorOutput, WriteError, WriteOptions, Writer};
