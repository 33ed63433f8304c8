//! # oembeddings-convert
//!
//! Conversion between records files and the formats publishers and vector stores use.
//!
//! [`convert`] streams records from a source ([`Format::Parquet`], [`Format::Jsonl`] or the
//! Met's layout, [`Format::Met`]) into a target, one bounded batch at a time. Before a
//! record reaches the target it is admitted: its key must be new, and the target must be
//! able to carry it (one dimension per table, finite values for JSON, a store's size
//! limits). A record that is not admitted stops the conversion with an error naming the
//! input, the row and the key, or with [`ConvertOptions::skip_invalid`] is skipped and
//! listed. The output appears only when the whole conversion succeeded.
//!
//! One module per foreign format. go-embeddingsdb's own formats, Parquet (both vector
//! layouts) and JSON Lines ([`jsonl`]), are always built; each foreign store or layout is
//! behind a cargo feature of its own, all on by default:
//!
//! | feature     | format                | module          | adds                        |
//! |-------------|-----------------------|-----------------|-----------------------------|
//! | `met`       | [`Format::Met`] input | `met`           | `csv` (metadata joins)      |
//! | `duckdb`    | [`Format::Duckdb`]    | `duckdb`        |                             |
//! | `sqlite`    | [`Format::Sqlite`]    | `sqlite`        | rusqlite and sqlite-vec (C) |
//! | `s3vectors` | [`Format::S3vectors`] | `s3vectors`     |                             |
//! | `qdrant`    | [`Format::Qdrant`]    | `qdrant`        | `uuid`                      |
//!
//! A format whose feature is off keeps its name (it parses and prints) but converting to
//! or from it fails with [`ConvertError::NotBuilt`]. The `clap` feature (off by default)
//! implements `clap::ValueEnum` for [`Format`], `s3vectors::DistanceMetric` and
//! `duckdb::DuckdbData`, so that a command line uses these names as they are.

mod admit;
#[cfg(feature = "chroma")]
pub mod chroma;
mod dimensions;
mod direct;
pub mod distance;
#[cfg(feature = "duckdb")]
pub mod duckdb;
#[cfg(feature = "hf")]
pub mod hf;
pub mod inputs;
pub mod jsonl;
#[cfg(feature = "met")]
pub mod met;
mod output;
mod parquet;
#[cfg(feature = "pgvector")]
pub mod pgvector;
#[cfg(feature = "qdrant")]
pub mod qdrant;
#[cfg(feature = "s3vectors")]
pub mod s3vectors;
#[cfg(feature = "skypilot")]
pub mod skypilot;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(feature = "met", feature = "skypilot"))]
mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use oembeddings::ParquetSource;
use oembeddings::batch::Batch;
use oembeddings::blob::Blob;
use oembeddings::read::{Narrowing, ReadError, ReadOptions, Reader};
use oembeddings::record::RecordRef;
use oembeddings::write::{VectorOutput, WriteError};

pub use admit::Skip;
pub use distance::Distance;
pub use output::OutputDir;

/// A format [`convert`] reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Parquet in go-embeddingsdb's layout (or, as input, any layout the reader accepts).
    Parquet,
    /// Parquet with FixedSizeList vectors and the ARROW:schema hint.
    ParquetFixed,
    /// go-embeddingsdb's JSON record, one per line.
    Jsonl,
    /// The Met's Hugging Face layout: `objectID`, `embedding`, `model`, `dim` (input only).
    Met,
    /// A directory that DuckDB's `IMPORT DATABASE` loads into go-embeddingsdb's schema.
    Duckdb,
    /// A SQLite database with go-embeddingsdb's `records` table and a sqlite-vec `vec0` table.
    Sqlite,
    /// A directory of AWS S3 Vectors `PutVectors` request bodies and a `CreateIndex` body.
    S3vectors,
    /// Qdrant points as JSON Lines, with UUIDv5 ids derived from the record key.
    Qdrant,
    /// SkyPilot's "VectorDB" parts: `idx` and a pickled `(path, vector)` per row (input only).
    Skypilot,
    /// A collection of a Chroma server, over its HTTP API (both ways).
    Chroma,
    /// A table of PostgreSQL with pgvector (both ways).
    Pgvector,
    /// A Hugging Face dataset directory (a card and Parquet shards) that the Hub and
    /// `datasets` load as it is (output; read it back as a directory of Parquet files).
    Hf,
}

oembeddings::named_enum!(Format, "format",
    Parquet => "parquet",
        "Parquet in go-embeddingsdb's layout (default output; any accepted layout as input)";
    ParquetFixed => "parquet-fixed",
        "Parquet with FixedSizeList vectors and the ARROW:schema hint (Daft, LanceDB, datasets)";
    Jsonl => "jsonl", "go-embeddingsdb's JSON record, one per line (both ways)";
    Met => "met", "The Met's Hugging Face layout: objectID, embedding, model, dim (input only)";
    Duckdb => "duckdb",
        "A directory for DuckDB's IMPORT DATABASE, in go-embeddingsdb's DuckDB schema (output only)";
    Sqlite => "sqlite",
        "A SQLite database in go-embeddingsdb's schema with a sqlite-vec vec0 table (output only)";
    S3vectors => "s3vectors",
        "A directory of AWS S3 Vectors CreateIndex and PutVectors request bodies (output only)";
    Qdrant => "qdrant", "Qdrant points as JSON Lines, ids UUIDv5 of the record key (output only)";
    Skypilot => "skypilot",
        "SkyPilot's VectorDB parts: idx and a pickled (path, vector) per row (input only)";
    Chroma => "chroma", "A collection of a Chroma server (http://HOST:PORT) (both ways)";
    Pgvector => "pgvector", "A table of PostgreSQL with pgvector (postgresql://...) (both ways)";
    Hf => "hf",
        "A Hugging Face dataset directory: README.md card and data/ shards datasets loads as is \
         (output only; its data/ directory reads back as Parquet)";
);

impl Format {
    /// Whether [`convert`] can read this format.
    pub fn is_input(self) -> bool {
        matches!(
            self,
            Format::Parquet
                | Format::ParquetFixed
                | Format::Jsonl
                | Format::Met
                | Format::Skypilot
                | Format::Chroma
                | Format::Pgvector
        )
    }

    /// Whether [`convert`] can write this format.
    pub fn is_output(self) -> bool {
        !matches!(self, Format::Met | Format::Skypilot)
    }

    /// The names of the formats that can be read (`input`) or written, comma-separated.
    pub fn usable(input: bool) -> String {
        Format::ALL
            .iter()
            .filter(|f| if input { f.is_input() } else { f.is_output() })
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The cargo feature of this crate that builds the format, if it is not always built.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Format::Parquet | Format::ParquetFixed | Format::Jsonl => None,
            Format::Met => Some("met"),
            Format::Duckdb => Some("duckdb"),
            Format::Sqlite => Some("sqlite"),
            Format::S3vectors => Some("s3vectors"),
            Format::Qdrant => Some("qdrant"),
            Format::Skypilot => Some("skypilot"),
            Format::Chroma => Some("chroma"),
            Format::Pgvector => Some("pgvector"),
            Format::Hf => Some("hf"),
        }
    }

    /// Whether this build can convert to or from the format (its [`Format::feature`] is on).
    pub fn is_built(self) -> bool {
        match self {
            Format::Parquet | Format::ParquetFixed | Format::Jsonl => true,
            Format::Met => cfg!(feature = "met"),
            Format::Duckdb => cfg!(feature = "duckdb"),
            Format::Sqlite => cfg!(feature = "sqlite"),
            Format::S3vectors => cfg!(feature = "s3vectors"),
            Format::Qdrant => cfg!(feature = "qdrant"),
            Format::Skypilot => cfg!(feature = "skypilot"),
            Format::Chroma => cfg!(feature = "chroma"),
            Format::Pgvector => cfg!(feature = "pgvector"),
            Format::Hf => cfg!(feature = "hf"),
        }
    }

    /// Whether the format is a running store, named by a URL rather than a path.
    pub fn is_store(self) -> bool {
        matches!(self, Format::Chroma | Format::Pgvector)
    }

    /// The output format an OUTPUT name implies when none is given: JSON Lines for a
    /// `.jsonl` or `.ndjson` name (not Parquet bytes under that name), else Parquet.
    pub fn for_output(output: &Path) -> Format {
        let extension = output.extension().map(|e| e.to_ascii_lowercase());
        match extension.as_ref().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson") => Format::Jsonl,
            _ => Format::Parquet,
        }
    }

    /// Whether the output is a directory rather than a file.
    pub fn writes_directory(self) -> bool {
        matches!(self, Format::Duckdb | Format::S3vectors | Format::Hf)
    }

    /// Tells the format of an input file from its name, first bytes and, for Parquet, its
    /// columns: Parquet with `objectID` and `embedding` columns is [`Format::Met`], with just
    /// `idx` and a binary `output` [`Format::Skypilot`], other Parquet is [`Format::Parquet`],
    /// text starting with `{` is [`Format::Jsonl`].
    ///
    /// A name ending in `.parquet` is taken as Parquet and `.jsonl`, `.ndjson` as JSON Lines
    /// whatever the bytes say, so that a damaged file gets the reader's precise error.
    pub fn detect(path: &Path) -> Result<Format, ConvertError> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("jsonl" | "ndjson") => return Ok(Format::Jsonl),
            Some("parquet") => return parquet_format(path),
            _ => {}
        }
        let io = |source| ConvertError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = Blob::open(path).map_err(io)?.cursor();
        const HEAD: usize = 512;
        let mut head = [0u8; HEAD];
        let mut filled = 0;
        while filled < head.len() {
            let n = file.read(&mut head[filled..]).map_err(io)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        let head = &head[..filled];
        if head.starts_with(b"PAR1") {
            return parquet_format(path);
        }
        let text = head
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(head);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Ok(Format::Jsonl),
            // All of the file was read, and it is blank.
            None if filled < HEAD => Err(ConvertError::EmptyInput {
                path: path.to_path_buf(),
            }),
            _ => Err(ConvertError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// The layout of a Parquet input: the Met's or SkyPilot's columns (when their features are
/// built), else records.
fn parquet_format(path: &Path) -> Result<Format, ConvertError> {
    #[cfg(feature = "met")]
    if met::is_met_file(path)? {
        return Ok(Format::Met);
    }
    #[cfg(feature = "skypilot")]
    if skypilot::is_skypilot_file(path)? {
        return Ok(Format::Skypilot);
    }
    let _ = path;
    Ok(Format::Parquet)
}

/// How to convert.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConvertOptions {
    /// Input format; detected with [`Format::detect`] when `None`.
    pub from: Option<Format>,
    /// Output format.
    pub to: Format,
    /// Skip records the target cannot carry (listing each) instead of failing.
    pub skip_invalid: bool,
    /// Replace an existing, non-empty output directory.
    pub force: bool,
    /// Write statistics into Parquet output's footer.
    pub statistics: bool,
    /// How records are made from the Met's layout.
    #[cfg(feature = "met")]
    pub met: met::MetOptions,
    /// How records are made from SkyPilot's parts.
    #[cfg(feature = "skypilot")]
    pub skypilot: skypilot::SkypilotOptions,
    /// The distance of a store's index (S3 Vectors, Chroma, pgvector).
    pub distance: Distance,
    /// The Chroma collection to write or read.
    #[cfg(feature = "chroma")]
    pub chroma: chroma::ChromaOptions,
    /// The PostgreSQL table to write or read, and its index.
    #[cfg(feature = "pgvector")]
    pub pgvector: pgvector::PgvectorOptions,
    /// The dataset card of a Hugging Face dataset directory.
    #[cfg(feature = "hf")]
    pub hf: hf::HfOptions,
    /// S3 Vectors bodies: bucket, index, distance and filterable metadata.
    #[cfg(feature = "s3vectors")]
    pub s3vectors: s3vectors::S3VectorsOptions,
    /// The rows of a DuckDB export: Parquet, or CSV for go-embeddingsdb's server.
    #[cfg(feature = "duckdb")]
    pub duckdb_data: duckdb::DuckdbData,
}

impl ConvertOptions {
    /// Options converting to `to`, with defaults for everything else.
    pub fn new(to: Format) -> Self {
        Self {
            from: None,
            to,
            skip_invalid: false,
            force: false,
            statistics: true,
            #[cfg(feature = "met")]
            met: met::MetOptions::default(),
            #[cfg(feature = "skypilot")]
            skypilot: skypilot::SkypilotOptions::default(),
            distance: Distance::default(),
            #[cfg(feature = "chroma")]
            chroma: chroma::ChromaOptions::default(),
            #[cfg(feature = "pgvector")]
            pgvector: pgvector::PgvectorOptions::default(),
            #[cfg(feature = "hf")]
            hf: hf::HfOptions::default(),
            #[cfg(feature = "s3vectors")]
            s3vectors: s3vectors::S3VectorsOptions::default(),
            #[cfg(feature = "duckdb")]
            duckdb_data: duckdb::DuckdbData::default(),
        }
    }

    /// Sets the format of a DuckDB export's rows.
    #[cfg(feature = "duckdb")]
    pub fn with_duckdb_data(mut self, data: duckdb::DuckdbData) -> Self {
        self.duckdb_data = data;
        self
    }

    /// Sets the input format instead of detecting it.
    pub fn with_from(mut self, from: Format) -> Self {
        self.from = Some(from);
        self
    }

    /// Skips (and lists) records the target cannot carry instead of failing.
    pub fn with_skip_invalid(mut self, skip: bool) -> Self {
        self.skip_invalid = skip;
        self
    }

    /// Replaces an existing, non-empty output directory.
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Whether Parquet output carries statistics.
    pub fn with_statistics(mut self, statistics: bool) -> Self {
        self.statistics = statistics;
        self
    }

    /// Sets how records are made from the Met's layout.
    #[cfg(feature = "met")]
    pub fn with_met(mut self, met: met::MetOptions) -> Self {
        self.met = met;
        self
    }

    /// Sets how records are made from SkyPilot's parts.
    #[cfg(feature = "skypilot")]
    pub fn with_skypilot(mut self, skypilot: skypilot::SkypilotOptions) -> Self {
        self.skypilot = skypilot;
        self
    }

    /// Sets the Chroma collection and how records go into it.
    #[cfg(feature = "chroma")]
    pub fn with_chroma(mut self, chroma: chroma::ChromaOptions) -> Self {
        self.chroma = chroma;
        self
    }

    /// Sets the PostgreSQL table and its index.
    #[cfg(feature = "pgvector")]
    pub fn with_pgvector(mut self, pgvector: pgvector::PgvectorOptions) -> Self {
        self.pgvector = pgvector;
        self
    }

    /// Sets what a Hugging Face dataset card says.
    #[cfg(feature = "hf")]
    pub fn with_hf(mut self, hf: hf::HfOptions) -> Self {
        self.hf = hf;
        self
    }

    /// Sets the distance of a store's index.
    pub fn with_distance(mut self, distance: Distance) -> Self {
        self.distance = distance;
        self
    }

    /// Sets the S3 Vectors options (their distance is [`ConvertOptions::distance`]).
    #[cfg(feature = "s3vectors")]
    pub fn with_s3vectors(mut self, s3vectors: s3vectors::S3VectorsOptions) -> Self {
        self.s3vectors = s3vectors;
        self
    }
}

/// Why a conversion failed. Nothing is left at the output path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// Reading a Parquet input failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Writing a Parquet output failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The input's format could not be told from its contents.
    #[error(
        "{}: not Parquet and not JSON Lines; name the input format with --from",
        path.display()
    )]
    UnknownFormat {
        /// The input.
        path: PathBuf,
    },
    /// The input holds nothing: an empty file, or (JSON Lines) only blank lines. No format
    /// takes an empty file for an empty collection (a Parquet file with no rows still has
    /// its schema and footer).
    #[error("{}: the file is empty (or blank): no records to convert", path.display())]
    EmptyInput {
        /// The input.
        path: PathBuf,
    },
    /// The format cannot be used in this direction.
    #[error(
        "{}: {format} cannot be {direction} (formats that can be {direction}: {})",
        path.display(),
        Format::usable(*direction == "read")
    )]
    Unsupported {
        /// The input or output it was asked for.
        path: PathBuf,
        /// The format.
        format: Format,
        /// `read` or `written`.
        direction: &'static str,
    },
    /// The format's cargo feature was off when this program was built.
    #[error("{format} is not built into this program (feature {feature:?} of oembeddings-convert)")]
    NotBuilt {
        /// The format.
        format: Format,
        /// The cargo feature that builds it.
        feature: &'static str,
    },
    /// A line, row or file of the input is malformed.
    #[error("{}: {location}: {message}", path.display())]
    Input {
        /// The input.
        path: PathBuf,
        /// `line N`, `row N` or a column.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A pickle of SkyPilot's parts is not a `(str, vector)` pair the strict reader accepts;
    /// nothing in it was run.
    #[cfg(feature = "skypilot")]
    #[error("{}: row {row} (idx {idx}): column output: {source}", path.display())]
    Pickle {
        /// The part.
        path: PathBuf,
        /// The row.
        row: u64,
        /// The row's `idx`.
        idx: i64,
        /// What is wrong.
        source: skypilot::pickle::PickleError,
    },
    /// A Chroma server could not be reached, refused a request or answered nonsense.
    #[cfg(feature = "chroma")]
    #[error(transparent)]
    Chroma(chroma::api::ChromaError),
    /// PostgreSQL could not be reached or refused a statement; nothing was committed.
    #[cfg(feature = "pgvector")]
    #[error(transparent)]
    Postgres(pgvector::PgError),
    /// A glob pattern matched nothing, or a directory holds no input.
    #[error("{pattern}: {reason}")]
    NoInput {
        /// The pattern or directory.
        pattern: String,
        /// Why nothing was found.
        reason: &'static str,
    },
    /// A record the target cannot carry (and `skip_invalid` was not set).
    #[error("{}: row {row} (key {key}): {rule}: {message}", path.display())]
    Record {
        /// The input.
        path: PathBuf,
        /// Row of the record in the input (lines count from 0 too).
        row: u64,
        /// The record key.
        key: String,
        /// The rule broken, e.g. `duplicate-key`.
        rule: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The options make no sense for this input or output.
    #[error("{0}")]
    Options(String),
    /// The output already exists and may not be replaced.
    #[error(
        "{}: exists and is not empty; choose another path or replace it with --force",
        path.display()
    )]
    OutputExists {
        /// The output.
        path: PathBuf,
    },
    /// A target's own writer failed (SQLite, the Parquet encoder of a DuckDB export).
    #[error("{}: {message}", path.display())]
    Target {
        /// The output.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl ConvertError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ConvertError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn target(path: &Path, message: impl fmt::Display) -> Self {
        ConvertError::Target {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

/// What a finished conversion did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ConvertSummary {
    /// The input, as given (the first, when there were several).
    pub input: PathBuf,
    /// Every file read, in order.
    pub inputs: Vec<PathBuf>,
    /// The (first) input's format.
    pub from: Format,
    /// The output.
    pub output: PathBuf,
    /// The output's format.
    pub to: Format,
    /// Records read.
    pub read: u64,
    /// Records written.
    pub written: u64,
    /// Records a store already held (same id) and left as they were (Chroma's add mode).
    pub unchanged: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Skipped records by rule.
    pub skipped_by_rule: BTreeMap<&'static str, u64>,
    /// The first skipped records (at most [`Skip::LISTED`]).
    pub skips: Vec<Skip>,
    /// float64 input values that changed when narrowed to float32.
    pub narrowed_values: u64,
    /// Row of the first record with such a value.
    pub narrowed_first_row: Option<u64>,
    /// Files written (for directory outputs, relative to the output directory).
    pub files: Vec<String>,
    /// Attribute keys a store could not take as they are, and the keys they are stored
    /// under (read back as the original keys).
    pub renamed: BTreeMap<String, String>,
}

/// What a sink says when it is done.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    /// Files written (for directory outputs, relative to the output directory).
    pub(crate) files: Vec<String>,
    /// Attribute keys stored under another name: attribute -> stored key.
    pub(crate) renamed: BTreeMap<String, String>,
    /// Records the store already held and left as they were.
    pub(crate) unchanged: u64,
}

impl Finished {
    /// What a sink that writes files says (the directory outputs).
    #[cfg_attr(
        not(any(feature = "s3vectors", feature = "hf", feature = "duckdb")),
        allow(dead_code)
    )]
    pub(crate) fn files(files: Vec<String>) -> Self {
        Self {
            files,
            ..Self::default()
        }
    }
}

/// A source of canonical batches.
pub(crate) trait Source: Iterator<Item = Result<Batch, ConvertError>> {
    /// Number of records, when known up front.
    fn total(&self) -> Option<u64>;
    /// float64 values that changed when narrowed.
    fn narrowing(&self) -> Narrowing {
        Narrowing::default()
    }
}

/// A target format being written.
pub(crate) trait Sink {
    /// Why `record` cannot be written, if it cannot: `(rule, message)`. A record that passes
    /// is written; the sink may remember what it learnt (the table's dimension).
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)>;
    /// Writes admitted records.
    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError>;
    /// Completes the output and moves it into place; says what it wrote.
    fn finish(self: Box<Self>) -> Result<Finished, ConvertError>;
    /// Undoes what was written after a failure: a store removes what this conversion added
    /// (files and directories clean up when dropped).
    fn abort(self: Box<Self>) {}
}

struct ParquetInput {
    reader: Reader,
}

impl Iterator for ParquetInput {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next().map(|r| r.map_err(ConvertError::from))
    }
}

impl Source for ParquetInput {
    fn total(&self) -> Option<u64> {
        Some(self.reader.source().num_rows())
    }

    fn narrowing(&self) -> Narrowing {
        self.reader.narrowing()
    }
}

pub(crate) fn open_source(
    input: &Path,
    from: Format,
    options: &ConvertOptions,
) -> Result<Box<dyn Source>, ConvertError> {
    #[cfg(not(any(
        feature = "met",
        feature = "skypilot",
        feature = "chroma",
        feature = "pgvector"
    )))]
    let _ = options;
    Ok(match from {
        Format::Parquet | Format::ParquetFixed => {
            let reader = ParquetSource::open(input)?.records(&ReadOptions::default())?;
            Box::new(ParquetInput { reader })
        }
        Format::Jsonl => Box::new(jsonl::JsonlReader::open(input)?),
        #[cfg(feature = "met")]
        Format::Met => Box::new(met::MetReader::open(input, &options.met)?),
        #[cfg(feature = "skypilot")]
        Format::Skypilot => Box::new(skypilot::SkypilotReader::open(input, &options.skypilot)?),
        #[cfg(feature = "chroma")]
        Format::Chroma => Box::new(chroma::ChromaSource::open(input, &options.chroma)?),
        #[cfg(feature = "pgvector")]
        Format::Pgvector => Box::new(pgvector::PgvectorSource::open(input, &options.pgvector)?),
        other if other.is_input() && !other.is_built() => return Err(not_built(other)),
        other => {
            return Err(ConvertError::Unsupported {
                path: input.to_path_buf(),
                format: other,
                direction: "read",
            });
        }
    })
}

fn open_sink(
    output: &Path,
    to: Format,
    options: &ConvertOptions,
) -> Result<Box<dyn Sink>, ConvertError> {
    Ok(match to {
        Format::Parquet => Box::new(parquet::ParquetSink::create(
            output,
            VectorOutput::Go,
            options.statistics,
        )?),
        Format::ParquetFixed => Box::new(parquet::ParquetSink::create(
            output,
            VectorOutput::FixedSizeList,
            options.statistics,
        )?),
        Format::Jsonl => Box::new(jsonl::JsonlSink::create(output)?),
        #[cfg(feature = "duckdb")]
        Format::Duckdb => Box::new(duckdb::DuckdbSink::create(
            output,
            options.force,
            options.duckdb_data,
        )?),
        #[cfg(feature = "sqlite")]
        Format::Sqlite => Box::new(sqlite::SqliteSink::create(output)?),
        #[cfg(feature = "s3vectors")]
        Format::S3vectors => Box::new(s3vectors::S3VectorsSink::create(
            output,
            options.force,
            options.distance,
            options.s3vectors.clone(),
        )?),
        #[cfg(feature = "qdrant")]
        Format::Qdrant => Box::new(qdrant::QdrantSink::create(output)?),
        #[cfg(feature = "chroma")]
        Format::Chroma => Box::new(chroma::ChromaSink::create(
            output,
            options.distance,
            &options.chroma,
        )?),
        #[cfg(feature = "hf")]
        Format::Hf => Box::new(hf::HfSink::create(
            output,
            options.force,
            options.hf.clone(),
        )?),
        #[cfg(feature = "pgvector")]
        Format::Pgvector => Box::new(pgvector::PgvectorSink::create(
            output,
            options.force,
            options.distance,
            &options.pgvector,
        )?),
        other if other.is_output() && !other.is_built() => return Err(not_built(other)),
        other => {
            return Err(ConvertError::Unsupported {
                path: output.to_path_buf(),
                format: other,
                direction: "written",
            });
        }
    })
}

fn not_built(format: Format) -> ConvertError {
    ConvertError::NotBuilt {
        format,
        feature: format.feature().unwrap_or_default(),
    }
}

/// Converts `input` (a file, a directory or a glob pattern; see [`inputs::expand`]) into
/// `output`, streaming. `progress` is called with the number of records read so far and the
/// total, when known.
///
/// Fails, leaving nothing at `output`, on unreadable input, a record the target cannot
/// carry (unless [`ConvertOptions::skip_invalid`]), or a write error.
pub fn convert(
    input: &Path,
    output: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<ConvertSummary, ConvertError> {
    convert_inputs(&[input.to_path_buf()], output, options, progress)
}

/// Converts several inputs into one `output`, read one after another in the order
/// [`inputs::expand`] gives; each input's format is detected unless [`ConvertOptions::from`]
/// names it. A record key must be unique across all of them.
pub fn convert_inputs(
    inputs: &[PathBuf],
    output: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<ConvertSummary, ConvertError> {
    let Some(first) = inputs.first() else {
        return Err(ConvertError::Options("no input given".to_owned()));
    };
    if oembeddings::blob::is_remote(output) && !options.to.is_store() {
        return convert_to_remote(inputs, output, options, progress);
    }
    if !options.to.is_output() {
        return Err(ConvertError::Unsupported {
            path: output.to_path_buf(),
            format: options.to,
            direction: "written",
        });
    }
    if let Some(from) = options.from {
        if !from.is_input() {
            return Err(ConvertError::Unsupported {
                path: first.clone(),
                format: from,
                direction: "read",
            });
        }
        // Before the input is opened: a store this build lacks is refused by its feature's name.
        if !from.is_built() {
            return Err(not_built(from));
        }
    }
    if !options.to.is_built() {
        return Err(not_built(options.to));
    }
    // A store is named by its URL, which is neither a file nor a pattern.
    let files = match options.from {
        Some(from) if from.is_store() => inputs.to_vec(),
        _ => inputs::expand(inputs)?,
    };
    let mut typed = Vec::with_capacity(files.len());
    for file in &files {
        if same_file(file, output) {
            return Err(ConvertError::Options(format!(
                "{}: input and output are the same file",
                file.display()
            )));
        }
        let from = match options.from {
            Some(from) => from,
            None => Format::detect(file)?,
        };
        if !from.is_built() {
            return Err(not_built(from));
        }
        #[cfg(feature = "skypilot")]
        if from == Format::Met && options.skypilot.model.is_some() {
            return Err(ConvertError::Options(format!(
                "{}: the Met's rows name their own model; a model is given only for SkyPilot's \
                 parts",
                file.display()
            )));
        }
        typed.push((file.clone(), from));
    }
    let from = typed.first().map_or(Format::Parquet, |(_, f)| *f);
    let mut source = inputs::Chain::open(typed, options)?;
    let total = source.total();
    let mut sink = open_sink(output, options.to, options)?;
    let mut admission = admit::Admission::new(options.skip_invalid);
    let mut read = 0u64;
    let mut written = 0u64;
    progress(0, total);
    let mut run = || -> Result<(), ConvertError> {
        while let Some(batch) = source.next() {
            let batch = batch?;
            read += batch.num_rows() as u64;
            if let Some(admitted) = admission.filter(&batch, source.path(), sink.as_mut())? {
                written += admitted.num_rows() as u64;
                sink.write(&admitted)?;
            }
            progress(read, total);
        }
        Ok(())
    };
    if let Err(e) = run() {
        sink.abort();
        return Err(e);
    }
    let narrowing = source.narrowing();
    drop(source);
    let finished = sink.finish()?;
    let (skipped, skipped_by_rule, skips) = admission.into_skips();
    let shown = |path: &Path, format: Format| -> PathBuf {
        if format.is_store() {
            redact(&path.to_string_lossy()).into()
        } else {
            path.to_path_buf()
        }
    };
    Ok(ConvertSummary {
        input: shown(first, from),
        inputs: files.iter().map(|f| shown(f, from)).collect(),
        from,
        output: shown(output, options.to),
        to: options.to,
        read,
        written: written - finished.unchanged,
        unchanged: finished.unchanged,
        skipped,
        skipped_by_rule,
        skips,
        narrowed_values: narrowing.values,
        narrowed_first_row: narrowing.first_row,
        files: finished.files,
        renamed: finished.renamed,
    })
}

/// [`convert_inputs`] to a remote file: written whole to a local temporary directory, then
/// uploaded in one multipart upload (nothing visible under the key until it completes; a
/// failed run leaves no object and no local file).
fn convert_to_remote(
    inputs: &[PathBuf],
    output: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<ConvertSummary, ConvertError> {
    if options.to.writes_directory() {
        return Err(ConvertError::Options(format!(
            "{}: --to {} writes a directory; only single-file outputs (parquet, parquet-fixed, \
             jsonl) are uploaded",
            output.display(),
            options.to
        )));
    }
    let name = output
        .file_name()
        .map(|n| n.to_os_string())
        .ok_or_else(|| ConvertError::Options(format!("{}: no file name", output.display())))?;
    let staging = tempfile::Builder::new()
        .prefix("oembeddings-upload-")
        .tempdir()
        .map_err(|e| ConvertError::io(output, e))?;
    let local = staging.path().join(name);
    let mut summary = convert_inputs(inputs, &local, options, progress)?;
    oembeddings::blob::Blob::upload(&local, output).map_err(|e| ConvertError::io(output, e))?;
    summary.output = output.to_path_buf();
    summary.files = vec![output.display().to_string()];
    Ok(summary)
}

/// Now, in Unix seconds: the `lastmodified` that go-embeddingsdb's tables record.
#[cfg(any(feature = "duckdb", feature = "sqlite"))]
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A store's URL or connection string without its password, for messages and summaries.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        if let Some((credentials, host)) = authority.rsplit_once('@') {
            let user = credentials.split(':').next().unwrap_or_default();
            return format!("{scheme}://{user}@{host}{}", redact_password(tail));
        }
        return format!("{scheme}://{authority}{}", redact_password(tail));
    }
    redact_password(url)
}

/// `password=…` (a key=value connection string, or a URL's query) with its value hidden.
fn redact_password(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("password=") {
        let (head, tail) = rest.split_at(at + "password=".len());
        out.push_str(head);
        out.push_str("***");
        let end = tail.find([' ', '&']).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgresql://me:s3cret@db.example:5432/museum?sslmode=disable"),
            "postgresql://me@db.example:5432/museum?sslmode=disable"
        );
        assert_eq!(
            redact("postgresql:///museum?host=/tmp&password=s3cret&user=me"),
            "postgresql:///museum?host=/tmp&password=***&user=me"
        );
        assert_eq!(
            redact("host=/tmp user=me password=s3cret dbname=museum"),
            "host=/tmp user=me password=*** dbname=museum"
        );
        assert_eq!(redact("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
    }
}
