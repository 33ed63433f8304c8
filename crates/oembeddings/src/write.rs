//! Streaming, atomic Parquet writer in the Go tool's layout (or with FixedSizeList vectors).
//!
//! The default output has the Parquet schema `go-embeddingsdb` writes: the columns in its
//! order, all required, dictionary-encoded zstd strings, a 3-level LIST of floats named
//! `list`/`element` with PLAIN encoding, an INT64 `created`, a MAP named `key_value`, and no
//! `ARROW:schema` footer key. Statistics go into the footer as the Go tool writes them.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, FixedSizeListArray, ListArray, MapArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;
use serde::Serialize;

use crate::atomic::AtomicFile;
use crate::batch::{
    Batch, COLUMNS, attributes_entries_field, canonical_schema, col, vector_element_field,
};
use crate::stats::{Statistics, StatisticsBuilder};

/// How the writer stores vectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum VectorOutput {
    /// Variable-length lists, exactly as `go-embeddingsdb` writes them (the default).
    #[default]
    Go,
    /// FixedSizeList vectors with the `ARROW:schema` hint, so that pyarrow, Daft, LanceDB and
    /// Hugging Face `datasets` read them as fixed-size. All vectors must share one length.
    FixedSizeList,
}

crate::named_enum!(VectorOutput, "vector layout",
    Go => "go", "Variable-length lists, as go-embeddingsdb writes";
    FixedSizeList => "fixed",
        "FixedSizeList with the ARROW:schema hint; every vector must have the same length";
);

/// How the writer stores attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributesOutput {
    /// A Parquet MAP of strings, as `go-embeddingsdb` writes it (the default).
    #[default]
    Map,
    /// A list of `{key, value}` string structs: the same entries in the same order, for
    /// readers without a map type (Hugging Face `datasets`).
    KeyValueList,
}

/// Writer settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteOptions {
    /// How vectors are stored.
    pub vectors: VectorOutput,
    /// Whether to write the statistics keys into the footer (default: yes, as the Go tool).
    pub statistics: bool,
    /// Target size of a row group's data, in bytes (default 64 MiB). Bounds writer memory.
    pub row_group_bytes: usize,
    /// More footer key/values to write (after the statistics).
    pub key_values: Vec<(String, String)>,
    /// How attributes are stored.
    pub attributes: AttributesOutput,
    /// Whether to write a page index (column and offset indexes) with page statistics of
    /// the string and integer columns, for readers that skip pages.
    pub page_index: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            vectors: VectorOutput::Go,
            statistics: true,
            row_group_bytes: 64 << 20,
            key_values: Vec::new(),
            attributes: AttributesOutput::Map,
            page_index: false,
        }
    }
}

impl WriteOptions {
    /// Sets how vectors are stored.
    pub fn with_vectors(mut self, vectors: VectorOutput) -> Self {
        self.vectors = vectors;
        self
    }

    /// Sets whether statistics are written into the footer.
    pub fn with_statistics(mut self, statistics: bool) -> Self {
        self.statistics = statistics;
        self
    }

    /// Sets the target row group size in bytes.
    pub fn with_row_group_bytes(mut self, bytes: usize) -> Self {
        self.row_group_bytes = bytes.max(1);
        self
    }

    /// Sets how attributes are stored.
    pub fn with_attributes(mut self, attributes: AttributesOutput) -> Self {
        self.attributes = attributes;
        self
    }

    /// Sets whether a page index is written.
    pub fn with_page_index(mut self, page_index: bool) -> Self {
        self.page_index = page_index;
        self
    }

    /// Adds a footer key/value.
    pub fn with_key_value(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.key_values.push((key.into(), value.into()));
        self
    }
}

/// Why writing failed. Every variant names the output file; nothing is left at its path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The output could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The output file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The Parquet encoder failed.
    #[error("{}: {source}", path.display())]
    Parquet {
        /// The output file.
        path: PathBuf,
        /// The cause.
        source: ParquetError,
    },
    /// A vector's length differs from the first one, which a FixedSizeList layout cannot hold.
    #[error(
        "{}: record {key}: vector has {found} dimensions but the fixed-size-list layout \
         needs all vectors to have {expected} (the first record's)",
        path.display()
    )]
    MixedDimensions {
        /// The output file.
        path: PathBuf,
        /// The record key.
        key: String,
        /// Dimensions of the first vector.
        expected: usize,
        /// Dimensions of this vector.
        found: usize,
    },
}

/// What a finished write produced.
#[derive(Debug, Clone, Serialize)]
pub struct WriteSummary {
    /// The output file.
    pub path: PathBuf,
    /// Number of records written.
    pub records: u64,
    /// Number of row groups.
    pub row_groups: usize,
    /// Statistics of the records written.
    pub statistics: Statistics,
}

/// Writes canonical [`Batch`]es to a Parquet file, atomically: the file appears at its path
/// only when [`Writer::finish`] succeeds.
pub struct Writer {
    output: AtomicFile,
    options: WriteOptions,
    inner: Option<ArrowWriter<BufWriter<File>>>,
    statistics: StatisticsBuilder,
    dimensions: Option<usize>,
    records: u64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.output.target())
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts writing `path` (a temporary file next to it until [`Writer::finish`]).
    pub fn create(path: impl AsRef<Path>, options: WriteOptions) -> Result<Self, WriteError> {
        let path = path.as_ref();
        let output = AtomicFile::create(path).map_err(|source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            output,
            options,
            inner: None,
            statistics: StatisticsBuilder::default(),
            dimensions: None,
            records: 0,
        })
    }

    /// The output path.
    pub fn path(&self) -> &Path {
        self.output.target()
    }

    /// Number of records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &Batch) -> Result<(), WriteError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut record_batch = match self.options.vectors {
            VectorOutput::Go => batch.record_batch().clone(),
            VectorOutput::FixedSizeList => self.fixed_size(batch)?,
        };
        if self.options.attributes == AttributesOutput::KeyValueList {
            record_batch = key_value_list(&record_batch).map_err(|e| self.arrow_error(e))?;
        }
        if self.options.statistics {
            self.statistics.observe_batch(batch);
        }
        let schema = record_batch.schema();
        let writer = self.writer(schema)?;
        let result = writer.write(&record_batch);
        result.map_err(|source| self.parquet_error(source))?;
        self.records += batch.num_rows() as u64;
        Ok(())
    }

    /// Writes the footer (with statistics) and moves the file into place.
    pub fn finish(mut self) -> Result<WriteSummary, WriteError> {
        if self.inner.is_none() {
            // No records: still a valid (empty) file with the Go schema.
            let mut schema = match self.options.vectors {
                VectorOutput::Go => canonical_schema(),
                VectorOutput::FixedSizeList => fixed_schema(0),
            };
            if self.options.attributes == AttributesOutput::KeyValueList {
                schema = key_value_schema(&schema);
            }
            self.writer(schema)?;
        }
        let statistics = self.statistics.finish();
        let mut key_values = if self.options.statistics {
            statistics.key_values()
        } else {
            Vec::new()
        };
        key_values.extend(self.options.key_values.iter().cloned());
        let Some(mut inner) = self.inner.take() else {
            return Err(self.io_error(std::io::Error::other("writer was not created")));
        };
        for (key, value) in key_values {
            inner.append_key_value_metadata(KeyValue::new(key, value));
        }
        let metadata = inner
            .finish()
            .map_err(|source| self.parquet_error(source))?;
        std::io::Write::flush(inner.inner_mut()).map_err(|e| self.io_error(e))?;
        drop(inner);
        let path = self.output.target().to_path_buf();
        self.output.commit().map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(WriteSummary {
            path,
            records: self.records,
            row_groups: metadata.num_row_groups(),
            statistics,
        })
    }

    fn writer(
        &mut self,
        schema: SchemaRef,
    ) -> Result<&mut ArrowWriter<BufWriter<File>>, WriteError> {
        if self.inner.is_none() {
            let file = self.output.try_clone_file().map_err(|e| self.io_error(e))?;
            let options = ArrowWriterOptions::new()
                .with_properties(properties(&self.options))
                .with_skip_arrow_metadata(
                    self.options.vectors == VectorOutput::Go
                        && self.options.attributes == AttributesOutput::Map,
                );
            let writer = ArrowWriter::try_new_with_options(
                BufWriter::with_capacity(1 << 20, file),
                schema,
                options,
            )
            .map_err(|source| self.parquet_error(source))?;
            self.inner = Some(writer);
        }
        match self.inner.as_mut() {
            Some(w) => Ok(w),
            None => Err(WriteError::Io {
                path: self.output.target().to_path_buf(),
                source: std::io::Error::other("writer was not created"),
            }),
        }
    }

    /// The batch with its vectors as a FixedSizeList of the first vector's length.
    fn fixed_size(&mut self, batch: &Batch) -> Result<RecordBatch, WriteError> {
        let dimensions = *self.dimensions.get_or_insert_with(|| batch.vector(0).len());
        fixed_size_batch(batch, dimensions).map_err(|e| match e {
            FixedSizeError::MixedDimensions { row } => WriteError::MixedDimensions {
                path: self.output.target().to_path_buf(),
                key: batch.record(row).key().to_string(),
                expected: dimensions,
                found: batch.vector(row).len(),
            },
            FixedSizeError::Arrow(e) => self.arrow_error(e),
        })
    }

    fn io_error(&self, source: std::io::Error) -> WriteError {
        WriteError::Io {
            path: self.output.target().to_path_buf(),
            source,
        }
    }

    fn parquet_error(&self, source: ParquetError) -> WriteError {
        WriteError::Parquet {
            path: self.output.target().to_path_buf(),
            source,
        }
    }

    fn arrow_error(&self, source: ArrowError) -> WriteError {
        self.parquet_error(ParquetError::ArrowError(source.to_string()))
    }
}

/// Why a batch has no FixedSizeList form of a given dimension.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixedSizeError {
    /// The vector at `row` (within the batch) has another length.
    #[error("row {row} of the batch has a vector of another length")]
    MixedDimensions {
        /// The row within the batch.
        row: usize,
    },
    /// Arrow refused the columns (a bug).
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}

/// `batch` (canonical) with its vectors as a FixedSizeList of `dimensions`, in
/// [`fixed_schema`]; the vector values are shared, not copied.
pub fn fixed_size_batch(batch: &Batch, dimensions: usize) -> Result<RecordBatch, FixedSizeError> {
    let vectors = batch.vectors();
    let offsets = vectors.value_offsets();
    if let Some(row) =
        (0..batch.num_rows()).find(|&r| (offsets[r + 1] - offsets[r]) as usize != dimensions)
    {
        return Err(FixedSizeError::MixedDimensions { row });
    }
    let start = offsets[0] as usize;
    let values = vectors.values().slice(start, batch.num_rows() * dimensions);
    let size = i32::try_from(dimensions).map_err(|_| FixedSizeError::MixedDimensions { row: 0 })?;
    let fixed = FixedSizeListArray::try_new(vector_element_field(), size, values, None)?;
    let mut columns: Vec<ArrayRef> = batch.record_batch().columns().to_vec();
    columns[col::EMBEDDINGS] = Arc::new(fixed);
    Ok(RecordBatch::try_new(fixed_schema(dimensions), columns)?)
}

/// The canonical schema with FixedSizeList vectors of `dimensions`.
pub fn fixed_schema(dimensions: usize) -> SchemaRef {
    let canonical = canonical_schema();
    let mut fields: Vec<Field> = canonical
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let size = i32::try_from(dimensions).unwrap_or(i32::MAX);
    fields[col::EMBEDDINGS] = Field::new(
        COLUMNS[col::EMBEDDINGS],
        DataType::FixedSizeList(vector_element_field(), size),
        false,
    );
    Arc::new(Schema::new(fields))
}

/// `schema` with attributes as a list of `{key, value}` structs.
fn key_value_schema(schema: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[col::ATTRIBUTES] = Field::new(
        COLUMNS[col::ATTRIBUTES],
        DataType::List(attributes_entries_field()),
        false,
    );
    Arc::new(Schema::new(fields).with_metadata(schema.metadata().clone()))
}

/// `batch` with its attributes map as a list of its entries (the same buffers).
fn key_value_list(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = key_value_schema(&batch.schema());
    let mut columns = batch.columns().to_vec();
    let map = columns[col::ATTRIBUTES]
        .as_any()
        .downcast_ref::<MapArray>()
        .ok_or_else(|| ArrowError::SchemaError("attributes are not a map".to_owned()))?;
    let list = ListArray::try_new(
        attributes_entries_field(),
        map.offsets().clone(),
        Arc::new(map.entries().clone()),
        None,
    )?;
    columns[col::ATTRIBUTES] = Arc::new(list);
    RecordBatch::try_new(schema, columns)
}

/// Writer properties reproducing the Go tool's column settings.
fn properties(options: &WriteOptions) -> WriterProperties {
    // Level 3 is zstd's (and parquet-go's) default.
    let zstd = Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default());
    let mut builder = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_created_by(format!("oembeddings version {}", env!("CARGO_PKG_VERSION")))
        .set_max_row_group_row_count(None)
        .set_max_row_group_bytes(Some(options.row_group_bytes.max(1)))
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        // Page statistics are what the column index holds.
        .set_statistics_enabled(if options.page_index {
            EnabledStatistics::Page
        } else {
            EnabledStatistics::Chunk
        });
    for name in [
        COLUMNS[col::PROVIDER],
        COLUMNS[col::DEPICTION_ID],
        COLUMNS[col::SUBJECT_ID],
        COLUMNS[col::MODEL],
    ] {
        let path = ColumnPath::from(name);
        builder = builder
            .set_column_dictionary_enabled(path.clone(), true)
            .set_column_compression(path, zstd);
    }
    // PLAIN vectors: delta or dictionary encodings of floats gain nothing and some readers
    // (DuckDB, per the Go tool's comments) handle them badly. Min/max of vector elements is
    // meaningless and costs a pass over every float.
    let element = ColumnPath::new(vec![
        COLUMNS[col::EMBEDDINGS].into(),
        "list".into(),
        "element".into(),
    ]);
    builder
        .set_column_encoding(element.clone(), Encoding::PLAIN)
        .set_column_statistics_enabled(element, EnabledStatistics::None)
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;
    use crate::record::Record;

    fn record(i: usize, dims: usize) -> Record {
        Record {
            provider: "sfomuseum".into(),
            depiction_id: format!("{}", 1_000_000 + i),
            subject_id: format!("{}", 2_000_000 + i / 2),
            model: "mobileclip".into(),
            embeddings: (0..dims).map(|d| (i * dims + d) as f32 / 7.0).collect(),
            created: 1_760_000_000 + i as i64,
            attributes: BTreeMap::from([("type".into(), "image".into())]),
        }
    }

    #[test]
    fn writes_the_go_parquet_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let records: Vec<Record> = (0..10).map(|i| record(i, 4)).collect();
        let batch = Batch::from_records(records.iter().map(Record::as_ref)).unwrap();
        let mut writer = Writer::create(&path, WriteOptions::default()).unwrap();
        writer.write(&batch).unwrap();
        let summary = writer.finish().unwrap();
        assert_eq!(summary.records, 10);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let mut text = Vec::new();
        parquet::schema::printer::print_schema(
            &mut text,
            reader.metadata().file_metadata().schema(),
        );
        let text = String::from_utf8(text).unwrap();
        let expected = "message arrow_schema {
  REQUIRED BYTE_ARRAY provider (STRING);
  REQUIRED BYTE_ARRAY depiction_id (STRING);
  REQUIRED BYTE_ARRAY subject_id (STRING);
  REQUIRED BYTE_ARRAY model (STRING);
  REQUIRED group embeddings (LIST) {
    REPEATED group list {
      REQUIRED FLOAT element;
    }
  }
  REQUIRED INT64 created;
  REQUIRED group attributes (MAP) {
    REPEATED group key_value {
      REQUIRED BYTE_ARRAY key (STRING);
      REQUIRED BYTE_ARRAY value (STRING);
    }
  }
}
";
        assert_eq!(text, expected);
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        assert!(kv.iter().all(|kv| kv.key != "ARROW:schema"));
        assert!(
            kv.iter()
                .any(|kv| kv.key == "embeddingsdb:model:mobileclip:dimensions"
                    && kv.value.as_deref() == Some("4"))
        );
        let rg = reader.metadata().row_group(0);
        for c in rg.columns() {
            let name = c.column_path().string();
            let dict = c.dictionary_page_offset().is_some();
            let zstd = matches!(c.compression(), Compression::ZSTD(_));
            let strings =
                ["provider", "depiction_id", "subject_id", "model"].contains(&name.as_str());
            assert_eq!(dict, strings, "{name} dictionary");
            assert_eq!(zstd, strings, "{name} compression");
        }
    }

    #[test]
    fn fixed_size_output_rejects_mixed_dimensions_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fixed.parquet");
        let records = [record(0, 3), record(1, 4)];
        let batch = Batch::from_records(records.iter().map(Record::as_ref)).unwrap();
        let mut writer = Writer::create(
            &path,
            WriteOptions::default().with_vectors(VectorOutput::FixedSizeList),
        )
        .unwrap();
        let err = writer.write(&batch).unwrap_err();
        assert!(
            err.to_string()
                .contains("record sfomuseum-1000001-mobileclip: vector has 4 dimensions"),
            "{err}"
        );
        drop(writer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
