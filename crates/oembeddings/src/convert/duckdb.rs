//! A directory that DuckDB's `IMPORT DATABASE` loads into go-embeddingsdb's DuckDB schema.
//!
//! The directory has the shape DuckDB's own `EXPORT DATABASE ... (FORMAT parquet)` writes:
//!
//! - `schema.sql`: table `embeddings` exactly as go-embeddingsdb creates it (`vec FLOAT[N]`,
//!   `attributes` as JSON text, `created` and `lastmodified` Unix seconds) and its indexes,
//!   the unique one on `(provider, depiction_id, model)` among them;
//! - `load.sql`: one `COPY` from `embeddings.parquet` (a path relative to the directory,
//!   which `IMPORT DATABASE` resolves);
//! - `embeddings.parquet`: the rows;
//! - `vss.sql`: the HNSW index go-embeddingsdb creates, kept out of `schema.sql` so that a
//!   DuckDB without the VSS extension still imports the data; run it after the import where
//!   VSS is available.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::dimensions::Dimensions;
use super::{ConvertError, OutputDir, Sink};
use crate::batch::{Batch, vector_element_field};
use crate::json::write_attributes;
use crate::record::RecordRef;

/// The table go-embeddingsdb's DuckDB database keeps its records in.
pub const TABLE: &str = "embeddings";

/// Bytes buffered before a row group is written (bounds memory whatever the dimension).
const ROW_GROUP_BYTES: usize = 64 << 20;

/// The data file of the export.
pub const DATA_FILE: &str = "embeddings.parquet";

/// `schema.sql` for vectors of `dimensions` elements: go-embeddingsdb's table and its
/// B-tree indexes, in DuckDB's dialect.
pub fn schema_sql(dimensions: usize) -> String {
    format!(
        "CREATE TABLE {TABLE}(provider TEXT NOT NULL, depiction_id TEXT NOT NULL, \
         subject_id TEXT NOT NULL, model TEXT NOT NULL, attributes TEXT NOT NULL, \
         vec FLOAT[{dimensions}], created BIGINT NOT NULL, lastmodified BIGINT NOT NULL);\n\
         CREATE UNIQUE INDEX id_model ON {TABLE} (provider, depiction_id, model);\n\
         CREATE INDEX by_provider ON {TABLE} (provider, model, created);\n\
         CREATE INDEX by_model ON {TABLE} (model, provider, created);\n\
         CREATE INDEX by_lastmod ON {TABLE} (lastmodified);\n"
    )
}

/// `load.sql`: the rows, from the Parquet file next to it.
pub fn load_sql() -> String {
    format!("COPY {TABLE} FROM '{DATA_FILE}' (FORMAT 'parquet');\n")
}

/// `vss.sql`: go-embeddingsdb's HNSW index, for a DuckDB with the VSS extension.
pub fn vss_sql() -> String {
    format!(
        "-- go-embeddingsdb's approximate nearest-neighbour index (DuckDB VSS extension).\n\
         -- Run after IMPORT DATABASE where the extension can be installed; exact searches\n\
         -- with array_distance() work without it.\n\
         INSTALL vss;\n\
         LOAD vss;\n\
         -- Needed only when the database is a file rather than in memory.\n\
         SET hnsw_enable_experimental_persistence = true;\n\
         CREATE INDEX idx ON {TABLE} USING HNSW (vec);\n"
    )
}

fn table_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        text("provider"),
        text("depiction_id"),
        text("subject_id"),
        text("model"),
        text("attributes"),
        Field::new("vec", DataType::List(vector_element_field()), false),
        Field::new("created", DataType::Int64, false),
        Field::new("lastmodified", DataType::Int64, false),
    ]))
}

/// Writes the export directory.
pub(crate) struct DuckdbSink {
    dir: OutputDir,
    writer: ArrowWriter<BufWriter<File>>,
    dimensions: Dimensions,
    lastmodified: i64,
    attributes: Vec<u8>,
}

impl DuckdbSink {
    pub(crate) fn create(path: &Path, force: bool) -> Result<Self, ConvertError> {
        let dir = OutputDir::create(path, force)?;
        let data: PathBuf = dir.path().join(DATA_FILE);
        let file = File::create(&data).map_err(|e| ConvertError::io(path, e))?;
        let strings = Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default());
        let properties = WriterProperties::builder()
            .set_compression(strings)
            .set_column_compression(
                ColumnPath::new(vec!["vec".into(), "list".into(), "element".into()]),
                Compression::UNCOMPRESSED,
            )
            .set_column_dictionary_enabled(
                ColumnPath::new(vec!["vec".into(), "list".into(), "element".into()]),
                false,
            )
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(None)
            .build();
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            table_schema(),
            Some(properties),
        )
        .map_err(|e| ConvertError::target(path, e))?;
        let lastmodified = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Ok(Self {
            dir,
            writer,
            dimensions: Dimensions::new("a DuckDB FLOAT[N] column"),
            lastmodified,
            attributes: Vec::new(),
        })
    }

    fn path(&self) -> &Path {
        self.dir.target()
    }
}

impl Sink for DuckdbSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        self.dimensions.admit(record.embeddings.len())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        let rows = batch.num_rows();
        let mut attributes = StringBuilder::with_capacity(rows, rows * 256);
        for record in batch.records() {
            self.attributes.clear();
            write_attributes(&mut self.attributes, &record.attributes);
            // Go's JSON of strings is UTF-8 (invalid bytes become U+FFFD).
            attributes.append_value(String::from_utf8_lossy(&self.attributes));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(batch.providers().clone()),
            Arc::new(batch.depiction_ids().clone()),
            Arc::new(batch.subject_ids().clone()),
            Arc::new(batch.models().clone()),
            Arc::new(attributes.finish()),
            Arc::new(batch.vectors().clone()),
            Arc::new(Int64Array::from(batch.created().to_vec())),
            Arc::new(Int64Array::from(vec![self.lastmodified; rows])),
        ];
        let path = self.path().to_path_buf();
        let record_batch = RecordBatch::try_new(table_schema(), columns)
            .map_err(|e| ConvertError::target(&path, e))?;
        self.writer
            .write(&record_batch)
            .map_err(|e| ConvertError::target(&path, e))?;
        // Row groups by size, not row count: the writer holds a whole row group in memory.
        if self.writer.in_progress_size() >= ROW_GROUP_BYTES {
            self.writer
                .flush()
                .map_err(|e| ConvertError::target(&path, e))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Vec<String>, ConvertError> {
        let Self {
            dir,
            writer,
            dimensions,
            ..
        } = *self;
        let path = dir.target().to_path_buf();
        let Some(dimensions) = dimensions.get() else {
            return Err(ConvertError::Options(format!(
                "{}: no records to write; a DuckDB FLOAT[N] column needs at least one vector \
                 to know N",
                path.display()
            )));
        };
        let mut inner = writer
            .into_inner()
            .map_err(|e| ConvertError::target(&path, e))?;
        inner.flush().map_err(|e| ConvertError::io(&path, e))?;
        let file = inner
            .into_inner()
            .map_err(|e| ConvertError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| ConvertError::io(&path, e))?;
        for (name, text) in [
            ("schema.sql", schema_sql(dimensions)),
            ("load.sql", load_sql()),
            ("vss.sql", vss_sql()),
        ] {
            std::fs::write(dir.path().join(name), text).map_err(|e| ConvertError::io(&path, e))?;
        }
        dir.commit()?;
        Ok(["schema.sql", "load.sql", DATA_FILE, "vss.sql"]
            .map(String::from)
            .to_vec())
    }
}
