//! Streaming reader: opens a Parquet file of records in any accepted layout and yields
//! canonical [`Batch`]es, one bounded batch at a time.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, Float32Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_cast::cast::{CastOptions, cast_with_options};
use arrow_schema::{ArrowError, DataType, Field, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use crate::batch::{
    Batch, COLUMNS, attributes_entries_field, canonical_schema, col, vector_element_field,
};
use crate::file_digest::{FileDigest, FileHashing, PageSource, SequentialFile};
use crate::footer::{self, FooterError, KeyValue};
use crate::layout::{AttributesLayout, ElementType, Layout, LayoutError};
use crate::record::RecordKey;
use crate::repair::repair_batch;
use crate::vectors::{self, VectorColumnReader};

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

/// What is wrong with one record, as part of [`ReadError::Record`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordProblem {
    /// A required column holds a null.
    #[error("column '{column}' is null")]
    Null {
        /// The column.
        column: &'static str,
    },
    /// A vector holds a null element.
    #[error("embeddings element {index} is null")]
    NullElement {
        /// Index of the element within the vector.
        index: usize,
    },
    /// An attribute has a null value.
    #[error("attribute '{key}' has a null value")]
    NullAttributeValue {
        /// The attribute key.
        key: String,
    },
    /// A string column holds bytes that are not UTF-8.
    #[error("column '{column}' is not valid UTF-8")]
    InvalidUtf8 {
        /// The column.
        column: &'static str,
    },
    /// The JSON attributes string is not a JSON object of strings.
    #[error("attributes are not a JSON object of strings: {message}")]
    InvalidJson {
        /// What is wrong.
        message: String,
    },
    /// The column data is structurally invalid (offsets, lengths) for its Arrow type.
    #[error("column data is malformed: {message}")]
    Malformed {
        /// What Arrow reported.
        message: String,
    },
    /// `created` does not fit in 64-bit Unix seconds.
    #[error("column 'created' is out of range for Unix seconds")]
    CreatedOutOfRange,
}

/// Reader settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Records per batch; by default chosen so that a batch holds about 8 MiB of vectors.
    pub batch_size: Option<usize>,
    /// Whether the Go layout's vector column may be read by the direct decoder (default);
    /// when false, every layout goes through the general Arrow list reader. Both give the
    /// same records; the direct decoder is several times faster.
    pub direct_vectors: bool,
    /// Whether to read on past values that break record rules (nulls, text that is not
    /// UTF-8, attributes that are not a JSON object of strings): each is replaced the way the
    /// Go tool would read it (empty string, empty vector, 0.0, 0, empty map, dropped
    /// attribute) and listed in [`Batch::repairs`]. Off by default: the first such value is
    /// an error.
    pub repair: bool,
    /// Whether to take the file's SHA-256 from the reads that decode it (see
    /// [`Reader::file_digest`]). Off by default.
    pub file_digest: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_size: None,
            direct_vectors: true,
            repair: false,
            file_digest: false,
        }
    }
}

impl ReadOptions {
    /// Sets the number of records per batch.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = Some(batch_size.max(1));
        self
    }

    /// Reads on past bad values, replacing and listing them (see [`ReadOptions::repair`]).
    pub fn with_repair(mut self, repair: bool) -> Self {
        self.repair = repair;
        self
    }

    /// Allows or forbids the direct decoder of the Go layout's vector column.
    pub fn with_direct_vectors(mut self, direct: bool) -> Self {
        self.direct_vectors = direct;
        self
    }

    /// Hashes the whole file while reading it (see [`Reader::file_digest`]).
    pub fn with_file_digest(mut self, file_digest: bool) -> Self {
        self.file_digest = file_digest;
        self
    }
}

/// Float64 vector elements that changed when narrowed to float32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// Number of elements whose float32 value differs from the float64 value.
    pub values: u64,
    /// First row holding such an element.
    pub first_row: Option<u64>,
}

/// The warning every front end gives when `values` is not zero.
impl std::fmt::Display for Narrowing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} float64 vector elements changed when narrowed to float32 (first in row {})",
            self.values,
            self.first_row.unwrap_or(0)
        )
    }
}

/// An opened Parquet file: its footer, decoded metadata and recognised layout.
#[derive(Debug)]
pub struct ParquetSource {
    path: PathBuf,
    file: File,
    file_len: u64,
    footer_len: u32,
    key_values: Vec<KeyValue>,
    metadata: ArrowReaderMetadata,
    /// Whether a damaged `ARROW:schema` hint was ignored when decoding the schema.
    hint_ignored: bool,
    layout: Layout,
}

impl ParquetSource {
    /// Opens `path`, reads and decodes its footer and recognises its layout. Reads no data.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source| ReadError::Io {
            path: path.clone(),
            source,
        };
        let footer_err = |source| ReadError::Footer {
            path: path.clone(),
            source,
        };
        let mut file = File::open(&path).map_err(io_err)?;
        if file.metadata().map_err(io_err)?.is_dir() {
            return Err(io_err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory, not a Parquet file",
            )));
        }
        let location = footer::locate(&mut file).map_err(footer_err)?;
        let mut raw = footer::read_metadata(&mut file, &location).map_err(footer_err)?;
        let key_values = footer::key_values(&raw).map_err(footer_err)?;
        // parquet-rs rejects footers whose key/values are not UTF-8; such keys are shown
        // (escaped) by `inspect`, and the data stays readable with them replaced.
        if key_values.iter().any(|kv| {
            std::str::from_utf8(&kv.key).is_err()
                || kv
                    .value
                    .as_deref()
                    .is_some_and(|v| std::str::from_utf8(v).is_err())
        }) {
            let lossy: Vec<KeyValue> = key_values
                .iter()
                .map(|kv| KeyValue {
                    key: String::from_utf8_lossy(&kv.key).into_owned().into_bytes(),
                    value: kv
                        .value
                        .as_deref()
                        .map(|v| String::from_utf8_lossy(v).into_owned().into_bytes()),
                })
                .collect();
            raw = footer::with_key_values(&raw, &lossy).map_err(footer_err)?;
        }
        let metadata_err = |source| ReadError::Metadata {
            path: path.clone(),
            source,
        };
        let decoded = ParquetMetaDataReader::decode_metadata(&raw).map_err(metadata_err)?;
        let decoded = Arc::new(decoded);
        let arrow_schema_hint = key_values
            .iter()
            .any(|kv| kv.key == ARROW_SCHEMA_KEY.as_bytes());
        let (metadata, hint_ignored) =
            match ArrowReaderMetadata::try_new(decoded.clone(), ArrowReaderOptions::new()) {
                Ok(m) => (m, false),
                // A damaged ARROW:schema hint should not make the data unreadable.
                Err(_) if arrow_schema_hint => (
                    ArrowReaderMetadata::try_new(
                        decoded,
                        ArrowReaderOptions::new().with_skip_arrow_metadata(true),
                    )
                    .map_err(metadata_err)?,
                    true,
                ),
                Err(e) => return Err(metadata_err(e)),
            };
        let layout = Layout::detect(
            metadata.schema(),
            metadata.parquet_schema(),
            arrow_schema_hint,
        )
        .map_err(|source| ReadError::Layout {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            file_len: location.file_len,
            footer_len: location.metadata_len,
            key_values,
            metadata,
            hint_ignored,
            layout,
            file,
            path,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Size of the footer (`FileMetaData`) in bytes.
    pub fn footer_len(&self) -> u32 {
        self.footer_len
    }

    /// The footer's key/value metadata as raw bytes, in file order.
    pub fn key_values(&self) -> &[KeyValue] {
        &self.key_values
    }

    /// The value of a footer key, when it and its value are UTF-8; the last one if repeated.
    pub fn key_value(&self, key: &str) -> Option<&str> {
        self.key_values
            .iter()
            .rev()
            .find(|kv| kv.key == key.as_bytes())
            .and_then(|kv| kv.value.as_deref())
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The decoded Parquet metadata.
    pub fn metadata(&self) -> &Arc<ParquetMetaData> {
        self.metadata.metadata()
    }

    /// The file's Arrow schema, as decoded.
    pub fn arrow_schema(&self) -> &arrow_schema::SchemaRef {
        self.metadata.schema()
    }

    /// The recognised layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Number of records in the file, from the footer.
    pub fn num_rows(&self) -> u64 {
        u64::try_from(self.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Records per batch that keep a batch's vectors near 8 MiB.
    fn default_batch_size(&self) -> usize {
        const TARGET_BYTES: u64 = 8 << 20;
        let (mut bytes, mut rows) = (0u64, 0u64);
        for rg in self.metadata().row_groups() {
            rows += u64::try_from(rg.num_rows()).unwrap_or(0);
            bytes += rg
                .columns()
                .iter()
                .filter(|c| {
                    c.column_path().parts().first().map(String::as_str)
                        == Some(COLUMNS[col::EMBEDDINGS])
                })
                .map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(0))
                .sum::<u64>();
        }
        let per_row = bytes.checked_div(rows).unwrap_or(4096).max(1);
        usize::try_from((TARGET_BYTES / per_row).clamp(16, 8192)).unwrap_or(1024)
    }

    /// A reader over every record, in file order.
    pub fn records(self, options: &ReadOptions) -> Result<Reader, ReadError> {
        self.records_in(options, None)
    }

    /// A reader over the records of some row groups, in file order.
    pub fn records_in(
        self,
        options: &ReadOptions,
        row_groups: Option<Vec<usize>>,
    ) -> Result<Reader, ReadError> {
        let batch_size = options
            .batch_size
            .unwrap_or_else(|| self.default_batch_size());
        let first_row = row_groups
            .as_ref()
            .and_then(|groups| groups.first())
            .map(|&first| {
                self.metadata().row_groups()[..first]
                    .iter()
                    .map(|rg| u64::try_from(rg.num_rows()).unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0);
        let groups: Vec<usize> =
            row_groups.unwrap_or_else(|| (0..self.metadata().num_row_groups()).collect());
        let sequential = if options.file_digest {
            Some(Arc::new(SequentialFile::new(
                self.clone_file()?,
                self.file_len,
            )))
        } else {
            None
        };
        // The vectors of the Go layout go through the direct decoder, the rest through Arrow.
        let vectors = if options.direct_vectors {
            self.direct_vector_reader(&groups, sequential.as_ref())?
        } else {
            None
        };
        // Where each row group's bytes start, to hash along when no vectors are served.
        let group_starts = if sequential.is_some() && vectors.is_none() {
            self.group_starts(&groups, first_row)
        } else {
            Vec::new()
        };
        let mut roots: Vec<usize> = self
            .layout
            .columns
            .iter()
            .enumerate()
            .filter(|&(i, _)| !(i == col::EMBEDDINGS && vectors.is_some()))
            .map(|(_, &c)| c)
            .collect();
        roots.sort_unstable();
        // The projected batch keeps file order; find each record column in it.
        let mut positions = [0usize; 7];
        for (slot, column) in positions.iter_mut().zip(self.layout.columns) {
            *slot = roots.iter().position(|&r| r == column).unwrap_or(0);
        }
        let mask = ProjectionMask::roots(self.metadata.parquet_schema(), roots);
        let inner = self
            .builder()?
            .with_projection(mask)
            .with_batch_size(batch_size)
            .with_row_groups(groups)
            .build()
            .map_err(|source| self.metadata_error(source))?;
        Ok(Reader {
            inner,
            vectors,
            sequential,
            group_starts,
            positions,
            next_row: first_row,
            narrowing: Narrowing::default(),
            repair: options.repair,
            source: self,
        })
    }

    /// For each of `groups` (the first starting at row `first_row`): the row after its last,
    /// and its first byte.
    fn group_starts(&self, groups: &[usize], first_row: u64) -> Vec<(u64, u64)> {
        let mut end_row = first_row;
        groups
            .iter()
            .map(|&rg| {
                let group = self.metadata().row_group(rg);
                end_row += u64::try_from(group.num_rows()).unwrap_or(0);
                let start = group.columns().iter().map(|c| c.byte_range().0).min();
                (end_row, start.unwrap_or(0))
            })
            .collect()
    }

    /// The direct decoder for the vectors, when the file uses the Go layout's vector column.
    fn direct_vector_reader(
        &self,
        groups: &[usize],
        sequential: Option<&Arc<SequentialFile>>,
    ) -> Result<Option<VectorColumnReader>, ReadError> {
        let descr = self.metadata.parquet_schema();
        let mut leaves = (0..descr.num_columns())
            .filter(|&i| descr.get_column_root_idx(i) == self.layout.columns[col::EMBEDDINGS]);
        let (Some(leaf), None) = (leaves.next(), leaves.next()) else {
            return Ok(None);
        };
        if !vectors::supported(self.metadata(), leaf, groups) {
            return Ok(None);
        }
        let source = match sequential {
            Some(sequential) => PageSource::Sequential(sequential.clone()),
            None => PageSource::File(self.clone_file()?),
        };
        Ok(Some(VectorColumnReader::new(
            Arc::new(source),
            self.metadata().clone(),
            leaf,
            groups.to_vec(),
        )))
    }

    /// Loads the page index (if the file has one) so that row selections can skip pages.
    pub(crate) fn with_page_index(mut self) -> Result<Self, ReadError> {
        let metadata = self.metadata().as_ref().clone();
        let mut reader = ParquetMetaDataReader::new_with_metadata(metadata)
            .with_page_index_policy(PageIndexPolicy::Optional);
        let loaded = reader
            .read_page_indexes(&self.file)
            .and_then(|()| reader.finish())
            .and_then(|md| ArrowReaderMetadata::try_new(Arc::new(md), self.arrow_options()));
        // A damaged page index only costs speed: reading without it gives the same rows.
        if let Ok(md) = loaded {
            self.metadata = md;
        }
        Ok(self)
    }

    fn arrow_options(&self) -> ArrowReaderOptions {
        ArrowReaderOptions::new().with_skip_arrow_metadata(self.hint_ignored)
    }

    pub(crate) fn metadata_error(&self, source: ParquetError) -> ReadError {
        ReadError::Metadata {
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn data_error(&self, first_row: u64, source: ArrowError) -> ReadError {
        ReadError::Data {
            path: self.path.clone(),
            first_row,
            source,
        }
    }

    pub(crate) fn record_error(
        &self,
        row: u64,
        key: Option<String>,
        problem: RecordProblem,
    ) -> ReadError {
        ReadError::Record {
            path: self.path.clone(),
            row,
            key,
            problem,
        }
    }

    /// A builder over the file for custom projections and selections.
    pub(crate) fn builder(&self) -> Result<ParquetRecordBatchReaderBuilder<File>, ReadError> {
        Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.clone_file()?,
            self.metadata.clone(),
        ))
    }

    /// Another handle on the opened file (the same file even if the path is replaced).
    fn clone_file(&self) -> Result<File, ReadError> {
        self.file.try_clone().map_err(|e| self.io_error(e))
    }

    fn io_error(&self, source: io::Error) -> ReadError {
        ReadError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Opens `path` and returns a reader over all its records (default options).
pub fn read(path: impl AsRef<Path>) -> Result<Reader, ReadError> {
    ParquetSource::open(path)?.records(&ReadOptions::default())
}

/// Iterator over the canonical batches of a file. Memory is bounded by one batch.
#[derive(Debug)]
pub struct Reader {
    source: ParquetSource,
    inner: ParquetRecordBatchReader,
    /// The direct decoder of the vector column, when the layout allows it.
    vectors: Option<VectorColumnReader>,
    /// The file read once in order and hashed, when asked for.
    sequential: Option<Arc<SequentialFile>>,
    /// For each row group read: the row after its last, and its first byte.
    group_starts: Vec<(u64, u64)>,
    positions: [usize; 7],
    next_row: u64,
    narrowing: Narrowing,
    repair: bool,
}

impl Reader {
    /// The opened file.
    pub fn source(&self) -> &ParquetSource {
        &self.source
    }

    /// Float64 elements that changed when narrowed to float32, so far.
    pub fn narrowing(&self) -> Narrowing {
        self.narrowing
    }

    /// Whether the direct decoder reads the vectors (see [`ReadOptions::direct_vectors`]).
    pub fn uses_direct_vectors(&self) -> bool {
        self.vectors.is_some()
    }

    /// Index of the next row to be read.
    pub fn next_row(&self) -> u64 {
        self.next_row
    }

    /// Size and SHA-256 of the whole file. With [`ReadOptions::file_digest`], the file is
    /// read once, in order, while the records are read, and the Go layout's vectors are
    /// decoded from the very bytes hashed; the rest of the file is read and hashed now.
    /// Without it, the whole file is read and hashed now. Either way the digest covers
    /// every byte of the file as opened, from its start to its end.
    pub fn file_digest(&self) -> Result<FileDigest, ReadError> {
        let digest = match &self.sequential {
            Some(sequential) => sequential.finish(),
            None => SequentialFile::new(self.source.clone_file()?, self.source.file_len).finish(),
        };
        digest.map_err(|e| self.source.io_error(e))
    }

    /// The file's hashing, when reading with [`ReadOptions::file_digest`]: for hashing
    /// other messages beside the file (as signing does its record digests).
    pub fn file_hashing(&self) -> Option<FileHashing> {
        self.sequential.clone().map(FileHashing::new)
    }

    /// Hashes along when no vectors are served from the hashed reads: up to the start of
    /// the row group now being read, so the hashing keeps pace with the decoding.
    fn hash_along(&self) -> Result<(), ReadError> {
        let (Some(sequential), None) = (&self.sequential, &self.vectors) else {
            return Ok(());
        };
        let last_row = self.next_row.saturating_sub(1);
        let Some(&(_, start)) = self.group_starts.iter().find(|(end, _)| last_row < *end) else {
            return Ok(());
        };
        sequential
            .advance_to(start)
            .map_err(|e| self.source.io_error(e))
    }
}

impl Iterator for Reader {
    type Item = Result<Batch, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let first_row = self.next_row;
        let raw = match self.inner.next()? {
            Ok(raw) => raw,
            Err(source) => {
                return Some(Err(ReadError::Data {
                    path: self.source.path.clone(),
                    first_row,
                    source,
                }));
            }
        };
        self.next_row += raw.num_rows() as u64;
        let mut columns: Vec<ArrayRef> = self
            .positions
            .iter()
            .map(|&p| raw.column(p).clone())
            .collect();
        if let Some(vectors) = self.vectors.as_mut() {
            match vectors.next_rows(raw.num_rows()) {
                Ok(list) if list.len() == raw.num_rows() => {
                    columns[col::EMBEDDINGS] = Arc::new(list)
                }
                Ok(list) => {
                    let message = format!(
                        "vector column has {} rows where the others have {}",
                        list.len(),
                        raw.num_rows()
                    );
                    return Some(Err(self
                        .source
                        .data_error(first_row, ArrowError::ParquetError(message))));
                }
                Err(e) => {
                    return Some(Err(self
                        .source
                        .data_error(first_row, ArrowError::ParquetError(e.to_string()))));
                }
            }
        }
        if let Err(e) = self.hash_along() {
            return Some(Err(e));
        }
        if self.source.layout.element == ElementType::Float64 {
            count_narrowed(&columns[col::EMBEDDINGS], first_row, &mut self.narrowing);
        }
        let normalizer = Normalizer {
            layout: &self.source.layout,
            first_row,
        };
        let result = match normalizer.batch(&columns) {
            Err(_) if self.repair => repair_batch(&self.source.layout, first_row, &columns)
                .map(|(batch, repairs)| batch.with_repairs(repairs))
                .map_err(|e| {
                    let message = e.to_string();
                    (first_row, None, RecordProblem::Malformed { message })
                }),
            other => other,
        };
        Some(result.map_err(|(row, key, problem)| ReadError::Record {
            path: self.source.path.clone(),
            row,
            key,
            problem,
        }))
    }
}

/// Canonical batches from Arrow data in any accepted layout that did not come from a file:
/// an Arrow stream from pyarrow or polars, or one batch of a distributed engine.
#[derive(Debug)]
pub struct ArrowNormalizer {
    layout: Layout,
    next_row: u64,
    narrowing: Narrowing,
}

/// Why Arrow data could not be made canonical: the row, its key when known, the problem.
#[derive(Debug, Clone, thiserror::Error)]
#[error("row {row}{}: {problem}", key.as_ref().map(|k| format!(" (key {k})")).unwrap_or_default())]
pub struct NormalizeError {
    /// Row of the failing record, counted over every batch normalised so far.
    pub row: u64,
    /// Its key, when the key columns could be read.
    pub key: Option<String>,
    /// What is wrong.
    pub problem: RecordProblem,
}

impl ArrowNormalizer {
    /// A normaliser for batches of `schema`; fails when the schema is not a records schema.
    pub fn new(schema: &arrow_schema::Schema) -> Result<Self, LayoutError> {
        Ok(Self {
            layout: Layout::from_arrow(schema)?,
            next_row: 0,
            narrowing: Narrowing::default(),
        })
    }

    /// The layout recognised.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Float64 vector elements changed by narrowing to float32 in the batches so far.
    pub fn narrowing(&self) -> Narrowing {
        self.narrowing
    }

    /// `batch` in the canonical schema. Rows are numbered on from the previous batches.
    pub fn normalize(&mut self, batch: &RecordBatch) -> Result<Batch, NormalizeError> {
        let first_row = self.next_row;
        let columns: Vec<ArrayRef> = self
            .layout
            .columns
            .iter()
            .map(|&c| batch.column(c).clone())
            .collect();
        if self.layout.element == ElementType::Float64 {
            count_narrowed(&columns[col::EMBEDDINGS], first_row, &mut self.narrowing);
        }
        let normalizer = Normalizer {
            layout: &self.layout,
            first_row,
        };
        let result = normalizer
            .batch(&columns)
            .map_err(|(row, key, problem)| NormalizeError { row, key, problem });
        self.next_row += batch.num_rows() as u64;
        result
    }
}

/// A failed record: its file row, its key when known, and the problem.
type RecordFailure = (u64, Option<String>, RecordProblem);

/// Turns one projected batch (record columns in [`COLUMNS`] order) into canonical form.
pub(crate) struct Normalizer<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) first_row: u64,
}

impl Normalizer<'_> {
    fn batch(&self, columns: &[ArrayRef]) -> Result<Batch, RecordFailure> {
        let fail = |row: usize, problem| (self.first_row + row as u64, None, problem);
        let provider = self
            .strings(&columns[col::PROVIDER], col::PROVIDER)
            .map_err(|(r, p)| fail(r, p))?;
        let depiction_id = self
            .strings(&columns[col::DEPICTION_ID], col::DEPICTION_ID)
            .map_err(|(r, p)| fail(r, p))?;
        let model = self
            .strings(&columns[col::MODEL], col::MODEL)
            .map_err(|(r, p)| fail(r, p))?;
        let keyed = |(row, problem): (usize, RecordProblem)| {
            let key = RecordKey::new(
                provider.value(row),
                depiction_id.value(row),
                model.value(row),
            );
            (self.first_row + row as u64, Some(key.to_string()), problem)
        };
        let subject_id = self
            .strings(&columns[col::SUBJECT_ID], col::SUBJECT_ID)
            .map_err(keyed)?;
        let vectors = self.vectors(&columns[col::EMBEDDINGS]).map_err(keyed)?;
        let created = self.created(&columns[col::CREATED]).map_err(keyed)?;
        let attributes = self.attributes(&columns[col::ATTRIBUTES]).map_err(keyed)?;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(provider),
            Arc::new(depiction_id),
            Arc::new(subject_id),
            Arc::new(model),
            Arc::new(vectors),
            Arc::new(created),
            Arc::new(attributes),
        ];
        let internal =
            |message: String| (self.first_row, None, RecordProblem::Malformed { message });
        let batch = RecordBatch::try_new(canonical_schema(), columns)
            .map_err(|e| internal(e.to_string()))?;
        Batch::try_new(batch, self.first_row).map_err(|e| internal(e.to_string()))
    }

    /// A string column as non-null `Utf8`.
    pub(crate) fn strings(
        &self,
        array: &ArrayRef,
        column: usize,
    ) -> Result<StringArray, (usize, RecordProblem)> {
        let name = COLUMNS[column];
        if let Some(row) = first_null(array.as_ref()) {
            return Err((row, RecordProblem::Null { column: name }));
        }
        to_utf8(array).map_err(|row| (row, RecordProblem::InvalidUtf8 { column: name }))
    }

    fn vectors(&self, array: &ArrayRef) -> Result<ListArray, (usize, RecordProblem)> {
        if let Some(row) = first_null(array.as_ref()) {
            return Err((
                row,
                RecordProblem::Null {
                    column: COLUMNS[col::EMBEDDINGS],
                },
            ));
        }
        let list = match array.data_type() {
            DataType::List(f) if f.data_type() == &DataType::Float32 => {
                array.as_list::<i32>().clone()
            }
            _ => {
                let target =
                    DataType::List(Arc::new(Field::new("element", DataType::Float32, true)));
                let cast = cast_with_options(
                    array,
                    &target,
                    &CastOptions {
                        safe: false,
                        ..Default::default()
                    },
                )
                // Only a list of more than 2^31 elements in one batch fails to cast.
                .map_err(|e| {
                    (
                        0,
                        RecordProblem::Malformed {
                            message: e.to_string(),
                        },
                    )
                })?;
                cast.as_list::<i32>().clone()
            }
        };
        let values = list.values().as_primitive::<Float32Type>();
        if values.null_count() > 0 {
            let index = first_null(values).unwrap_or(0);
            let offsets = list.value_offsets();
            let row = offsets
                .partition_point(|&o| o as usize <= index)
                .saturating_sub(1);
            let element = index - offsets[row] as usize;
            return Err((row, RecordProblem::NullElement { index: element }));
        }
        let values = Float32Array::new(values.values().clone(), None);
        ListArray::try_new(
            vector_element_field(),
            list.offsets().clone(),
            Arc::new(values),
            None,
        )
        .map_err(|e| {
            (
                0,
                RecordProblem::Malformed {
                    message: e.to_string(),
                },
            )
        })
    }

    pub(crate) fn created(&self, array: &ArrayRef) -> Result<Int64Array, (usize, RecordProblem)> {
        if let Some(row) = first_null(array.as_ref()) {
            return Err((
                row,
                RecordProblem::Null {
                    column: COLUMNS[col::CREATED],
                },
            ));
        }
        let per_second: i64 = match array.data_type() {
            DataType::Int64 => {
                return Ok(Int64Array::new(
                    array.as_primitive::<Int64Type>().values().clone(),
                    None,
                ));
            }
            DataType::Timestamp(TimeUnit::Second, _) => 1,
            DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
            DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000_000,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000_000,
            _ => 0,
        };
        let raw = if per_second > 0 {
            // Timestamps are stored as int64 in their unit; reinterpret, then floor to seconds.
            let data = array
                .to_data()
                .into_builder()
                .data_type(DataType::Int64)
                .build();
            let ints = data
                .map(Int64Array::from)
                .map_err(|_| (0, RecordProblem::CreatedOutOfRange))?;
            return Ok(ints.unary(|v| v.div_euclid(per_second)));
        } else {
            cast_with_options(
                array,
                &DataType::Int64,
                &CastOptions {
                    safe: false,
                    ..Default::default()
                },
            )
        };
        match raw {
            Ok(a) => Ok(Int64Array::new(
                a.as_primitive::<Int64Type>().values().clone(),
                None,
            )),
            Err(_) => {
                // Only unsigned 64-bit values above i64::MAX fail; find the first.
                let row = cast_with_options(array, &DataType::Int64, &CastOptions::default())
                    .ok()
                    .and_then(|a| first_null(a.as_ref()))
                    .unwrap_or(0);
                Err((row, RecordProblem::CreatedOutOfRange))
            }
        }
    }

    fn attributes(&self, array: &ArrayRef) -> Result<MapArray, (usize, RecordProblem)> {
        match self.layout.attributes {
            AttributesLayout::Map => {
                let map = array.as_map();
                self.entries_map(map.offsets().clone(), map.entries(), map.nulls())
            }
            AttributesLayout::KeyValueList => {
                let list = match array.data_type() {
                    DataType::LargeList(f) => cast_with_options(
                        array,
                        &DataType::List(f.clone()),
                        &CastOptions::default(),
                    )
                    .map_err(|e| {
                        (
                            0,
                            RecordProblem::Malformed {
                                message: e.to_string(),
                            },
                        )
                    })?
                    .as_list::<i32>()
                    .clone(),
                    _ => array.as_list::<i32>().clone(),
                };
                let entries = list.values().as_struct().clone();
                self.entries_map(list.offsets().clone(), &entries, list.nulls())
            }
            AttributesLayout::JsonString => self.json_map(array),
        }
    }

    fn entries_map(
        &self,
        offsets: OffsetBuffer<i32>,
        entries: &StructArray,
        nulls: Option<&NullBuffer>,
    ) -> Result<MapArray, (usize, RecordProblem)> {
        // A null map is read as an empty one (the Go tool has no null attributes); its
        // entries range must then be empty.
        if let Some(row) = nulls.and_then(|nulls| {
            nulls
                .iter()
                .enumerate()
                .find(|&(i, valid)| !valid && offsets[i] != offsets[i + 1])
                .map(|(i, _)| i)
        }) {
            return Err((
                row,
                RecordProblem::Null {
                    column: COLUMNS[col::ATTRIBUTES],
                },
            ));
        }
        let row_of = |entry: usize| {
            offsets
                .partition_point(|&o| o as usize <= entry)
                .saturating_sub(1)
        };
        let keys = entries.column(0);
        let values = entries.column(1);
        if let Some(entry) = first_null(keys.as_ref()) {
            return Err((
                row_of(entry),
                RecordProblem::Null {
                    column: COLUMNS[col::ATTRIBUTES],
                },
            ));
        }
        let keys = to_utf8(keys).map_err(|e| {
            (
                row_of(e),
                RecordProblem::InvalidUtf8 {
                    column: COLUMNS[col::ATTRIBUTES],
                },
            )
        })?;
        if let Some(entry) = first_null(values.as_ref()) {
            return Err((
                row_of(entry),
                RecordProblem::NullAttributeValue {
                    key: keys.value(entry).to_owned(),
                },
            ));
        }
        let values = to_utf8(values).map_err(|e| {
            (
                row_of(e),
                RecordProblem::InvalidUtf8 {
                    column: COLUMNS[col::ATTRIBUTES],
                },
            )
        })?;
        let DataType::Struct(fields) = attributes_entries_field().data_type().clone() else {
            return Err((
                0,
                RecordProblem::Null {
                    column: COLUMNS[col::ATTRIBUTES],
                },
            ));
        };
        let entries = StructArray::try_new(fields, vec![Arc::new(keys), Arc::new(values)], None)
            .map_err(|e| {
                (
                    0,
                    RecordProblem::Malformed {
                        message: e.to_string(),
                    },
                )
            })?;
        MapArray::try_new(attributes_entries_field(), offsets, entries, None, false).map_err(|e| {
            (
                0,
                RecordProblem::Malformed {
                    message: e.to_string(),
                },
            )
        })
    }

    fn json_map(&self, array: &ArrayRef) -> Result<MapArray, (usize, RecordProblem)> {
        let strings = to_utf8(array).map_err(|row| {
            (
                row,
                RecordProblem::InvalidUtf8 {
                    column: COLUMNS[col::ATTRIBUTES],
                },
            )
        })?;
        let names = MapFieldNames {
            entry: "key_value".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let mut builder = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new())
            .with_values_field(Field::new("value", DataType::Utf8, false));
        for row in 0..strings.len() {
            if strings.is_valid(row) {
                let text = strings.value(row);
                let parsed: Option<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_str(text).map_err(|e| {
                        (
                            row,
                            RecordProblem::InvalidJson {
                                message: e.to_string(),
                            },
                        )
                    })?;
                for (k, v) in parsed.into_iter().flatten() {
                    let serde_json::Value::String(v) = v else {
                        let message = format!("value of '{k}' is not a string");
                        return Err((row, RecordProblem::InvalidJson { message }));
                    };
                    builder.keys().append_value(k);
                    builder.values().append_value(v);
                }
            }
            builder.append(true).map_err(|e| {
                (
                    row,
                    RecordProblem::InvalidJson {
                        message: e.to_string(),
                    },
                )
            })?;
        }
        Ok(builder.finish())
    }
}

/// Index of the first null slot.
fn first_null(array: &dyn Array) -> Option<usize> {
    if array.null_count() == 0 {
        return None;
    }
    array
        .logical_nulls()
        .and_then(|n| n.iter().position(|valid| !valid))
}

/// Casts a string-like array to `Utf8`; the error is the first row that is not UTF-8.
fn to_utf8(array: &ArrayRef) -> Result<StringArray, usize> {
    if let Some(s) = array.as_string_opt::<i32>() {
        return Ok(s.clone());
    }
    match cast_with_options(
        array,
        &DataType::Utf8,
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    ) {
        Ok(a) => Ok(a.as_string::<i32>().clone()),
        Err(_) => {
            let lenient = cast_with_options(array, &DataType::Utf8, &CastOptions::default()).ok();
            Err(lenient
                .and_then(|a| (0..a.len()).find(|&i| a.is_null(i) && array.is_valid(i)))
                .unwrap_or(0))
        }
    }
}

/// Counts float64 elements that do not survive narrowing to float32 exactly (NaN excepted).
/// Only the elements the (possibly sliced) array's rows refer to count.
fn count_narrowed(array: &ArrayRef, first_row: u64, narrowing: &mut Narrowing) {
    let (values, range) = match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let o = list.value_offsets();
            (list.values(), o[0] as usize..o[o.len() - 1] as usize)
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let o = list.value_offsets();
            (list.values(), o[0] as usize..o[o.len() - 1] as usize)
        }
        DataType::FixedSizeList(_, n) => {
            let list = array.as_fixed_size_list();
            let start = first_fixed_element(list);
            (
                list.values(),
                start..start + list.len() * (*n).max(0) as usize,
            )
        }
        _ => return,
    };
    let Some(values) = values.as_primitive_opt::<Float64Type>() else {
        return;
    };
    let Some(values) = values.values().get(range.clone()) else {
        return;
    };
    let changes = |v: &f64| !v.is_nan() && f64::from(*v as f32) != *v;
    if let Some(first) = values.iter().position(changes) {
        narrowing.values += values[first..].iter().filter(|v| changes(v)).count() as u64;
        if narrowing.first_row.is_none() {
            let row = row_of_element(array, range.start + first);
            narrowing.first_row = Some(first_row + row as u64);
        }
    }
}

/// Index in its values of a fixed-size list array's first element.
fn first_fixed_element(list: &arrow_array::FixedSizeListArray) -> usize {
    if list.is_empty() {
        0
    } else {
        list.value_offset(0).max(0) as usize
    }
}

/// Row of a list-like array holding the element at `index` of its values.
fn row_of_element(array: &ArrayRef, index: usize) -> usize {
    match array.data_type() {
        DataType::List(_) => {
            let o = array.as_list::<i32>().value_offsets();
            o.partition_point(|&x| x as usize <= index)
                .saturating_sub(1)
        }
        DataType::LargeList(_) => {
            let o = array.as_list::<i64>().value_offsets();
            o.partition_point(|&x| x as usize <= index)
                .saturating_sub(1)
        }
        DataType::FixedSizeList(_, n) => {
            let start = first_fixed_element(array.as_fixed_size_list());
            index.saturating_sub(start) / (*n).max(1) as usize
        }
        _ => 0,
    }
}
