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
//!
//! With [`DuckdbData::Csv`] the rows are in `embeddings.csv` instead, as DuckDB's default
//! `EXPORT DATABASE` writes them: go-embeddingsdb's server imports a directory only when it
//! holds `embeddings.csv`, `load.sql` and `schema.sql`. Parquet is the default: smaller,
//! faster, and it carries every float without a text round trip.

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

use crate::dimensions::Dimensions;
use crate::{ConvertError, OutputDir, Sink};
use oembeddings::batch::{Batch, vector_element_field};
use oembeddings::gojson;
use oembeddings::json::write_attributes;
use oembeddings::record::RecordRef;

/// The table go-embeddingsdb's DuckDB database keeps its records in.
pub const TABLE: &str = "embeddings";

/// Bytes buffered before a row group is written (bounds memory whatever the dimension).
const ROW_GROUP_BYTES: usize = 64 << 20;

/// The data file of the export.
pub const DATA_FILE: &str = "embeddings.parquet";

/// The data file of a CSV export.
pub const CSV_FILE: &str = "embeddings.csv";

/// The format of the rows in the export directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DuckdbData {
    /// `embeddings.parquet` (default).
    #[default]
    Parquet,
    /// `embeddings.csv`, which go-embeddingsdb's server looks for.
    Csv,
}

oembeddings::named_enum!(DuckdbData, "DuckDB data format",
    Parquet => "parquet", "embeddings.parquet: smaller, faster, exact";
    Csv => "csv", "embeddings.csv: what go-embeddingsdb's server imports";
);

impl DuckdbData {
    fn file(self) -> &'static str {
        match self {
            DuckdbData::Parquet => DATA_FILE,
            DuckdbData::Csv => CSV_FILE,
        }
    }
}

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

/// `load.sql`: the rows, from the data file next to it.
pub fn load_sql(data: DuckdbData) -> String {
    match data {
        DuckdbData::Parquet => format!("COPY {TABLE} FROM '{DATA_FILE}' (FORMAT 'parquet');\n"),
        DuckdbData::Csv => format!(
            "COPY {TABLE} FROM '{CSV_FILE}' (FORMAT 'csv', HEADER true, DELIMITER ',', \
             QUOTE '\"', ESCAPE '\"');\n"
        ),
    }
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

/// Where the rows go.
enum Rows {
    Parquet(Box<ArrowWriter<BufWriter<File>>>),
    Csv(BufWriter<File>),
}

/// Writes the export directory.
pub(crate) struct DuckdbSink {
    dir: OutputDir,
    data: DuckdbData,
    rows: Rows,
    line: Vec<u8>,
    dimensions: Dimensions,
    lastmodified: i64,
    attributes: Vec<u8>,
}

impl DuckdbSink {
    pub(crate) fn create(path: &Path, force: bool, data: DuckdbData) -> Result<Self, ConvertError> {
        let dir = OutputDir::create(path, force)?;
        let file: PathBuf = dir.path().join(data.file());
        let file = File::create(&file).map_err(|e| ConvertError::io(path, e))?;
        let rows = match data {
            DuckdbData::Parquet => Rows::Parquet(Box::new(parquet_writer(path, file)?)),
            DuckdbData::Csv => {
                let mut out = BufWriter::with_capacity(1 << 20, file);
                out.write_all(
                    b"provider,depiction_id,subject_id,model,attributes,vec,created,lastmodified\n",
                )
                .map_err(|e| ConvertError::io(path, e))?;
                Rows::Csv(out)
            }
        };
        Ok(Self {
            dir,
            data,
            rows,
            line: Vec::new(),
            dimensions: Dimensions::new("a DuckDB FLOAT[N] column"),
            lastmodified: crate::now_unix(),
            attributes: Vec::new(),
        })
    }

    fn path(&self) -> &Path {
        self.dir.target()
    }

    fn write_parquet(&mut self, batch: &Batch) -> Result<(), ConvertError> {
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
        let Rows::Parquet(writer) = &mut self.rows else {
            return Ok(());
        };
        writer
            .write(&record_batch)
            .map_err(|e| ConvertError::target(&path, e))?;
        // Row groups by size, not row count: the writer holds a whole row group in memory.
        if writer.in_progress_size() >= ROW_GROUP_BYTES {
            writer.flush().map_err(|e| ConvertError::target(&path, e))?;
        }
        Ok(())
    }

    fn write_csv(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        let path = self.path().to_path_buf();
        for record in batch.records() {
            let line = &mut self.line;
            line.clear();
            for text in [
                record.provider,
                record.depiction_id,
                record.subject_id,
                record.model,
            ] {
                csv_field(line, text.as_bytes());
                line.push(b',');
            }
            self.attributes.clear();
            write_attributes(&mut self.attributes, &record.attributes);
            csv_field(line, &self.attributes);
            line.extend_from_slice(b",\"");
            // Admission refused non-finite values; DuckDB reads the list `[a,b,...]`.
            gojson::write_f32_slice(line, record.embeddings)
                .map_err(|e| ConvertError::target(&path, format!("{}: {e}", record.key())))?;
            line.extend_from_slice(b"\",");
            gojson::write_i64(line, record.created);
            line.push(b',');
            gojson::write_i64(line, self.lastmodified);
            line.push(b'\n');
            if let Rows::Csv(out) = &mut self.rows {
                out.write_all(line)
                    .map_err(|e| ConvertError::io(&path, e))?;
            }
        }
        Ok(())
    }
}

/// A CSV field, always quoted, quotes doubled.
fn csv_field(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    for &b in text {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// The Parquet writer of the rows: zstd strings, plain uncompressed vectors.
fn parquet_writer(path: &Path, file: File) -> Result<ArrowWriter<BufWriter<File>>, ConvertError> {
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
    ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        table_schema(),
        Some(properties),
    )
    .map_err(|e| ConvertError::target(path, e))
}

impl Sink for DuckdbSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        if self.data == DuckdbData::Csv {
            // Text cannot carry them exactly; Parquet can.
            crate::jsonl::non_finite(record.embeddings)?;
        }
        self.dimensions.admit(record.embeddings.len())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        match self.data {
            DuckdbData::Parquet => self.write_parquet(batch),
            DuckdbData::Csv => self.write_csv(batch),
        }
    }

    fn finish(self: Box<Self>) -> Result<crate::Finished, ConvertError> {
        let Self {
            dir,
            data,
            rows,
            dimensions,
            ..
        } = *self;
        let path = dir.target().to_path_buf();
        let dimensions = dimensions.required(&path)?;
        let mut inner = match rows {
            Rows::Parquet(writer) => writer
                .into_inner()
                .map_err(|e| ConvertError::target(&path, e))?,
            Rows::Csv(out) => out,
        };
        inner.flush().map_err(|e| ConvertError::io(&path, e))?;
        let file = inner
            .into_inner()
            .map_err(|e| ConvertError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| ConvertError::io(&path, e))?;
        for (name, text) in [
            ("schema.sql", schema_sql(dimensions)),
            ("load.sql", load_sql(data)),
            ("vss.sql", vss_sql()),
        ] {
            std::fs::write(dir.path().join(name), text).map_err(|e| ConvertError::io(&path, e))?;
        }
        dir.commit()?;
        Ok(crate::Finished::files(
            ["schema.sql", "load.sql", data.file(), "vss.sql"]
                .map(String::from)
                .to_vec(),
        ))
    }
}
