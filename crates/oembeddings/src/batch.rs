//! Records in columnar form: the canonical Arrow schema and [`Batch`], a checked
//! [`RecordBatch`] with typed access to its records.
//!
//! Whatever layout a file uses, the reader hands out batches in one canonical form (the Go
//! layout of `go-embeddingsdb`): four non-null `Utf8` columns, `List<Float32>` vectors whose
//! child is named `element`, non-null `Int64` created times, and a `Map<Utf8, Utf8>` of
//! attributes with entries named `key_value`. Code downstream (writer, statistics,
//! validation, signing, conversion) handles exactly one shape.

use std::sync::{Arc, OnceLock};

use arrow_array::builder::{
    Float32Builder, Int64Builder, ListBuilder, MapBuilder, MapFieldNames, StringBuilder,
};
use arrow_array::{Array, ArrayRef, Int64Array, ListArray, MapArray, RecordBatch, StringArray};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};

use crate::problem::Repair;
use crate::record::{Attributes, RecordRef};

/// Column names in the order the Go tool writes them.
pub const COLUMNS: [&str; 7] = [
    "provider",
    "depiction_id",
    "subject_id",
    "model",
    "embeddings",
    "created",
    "attributes",
];

/// Index of each column in [`COLUMNS`] and in the canonical schema.
pub(crate) mod col {
    pub const PROVIDER: usize = 0;
    pub const DEPICTION_ID: usize = 1;
    pub const SUBJECT_ID: usize = 2;
    pub const MODEL: usize = 3;
    pub const EMBEDDINGS: usize = 4;
    pub const CREATED: usize = 5;
    pub const ATTRIBUTES: usize = 6;
}

/// The list child field of the canonical vector column: `element`, float32, non-null.
pub fn vector_element_field() -> FieldRef {
    static FIELD: OnceLock<FieldRef> = OnceLock::new();
    FIELD
        .get_or_init(|| Arc::new(Field::new("element", DataType::Float32, false)))
        .clone()
}

/// The entries field of the canonical attributes map: `key_value { key, value }`, non-null.
pub fn attributes_entries_field() -> FieldRef {
    static FIELD: OnceLock<FieldRef> = OnceLock::new();
    FIELD
        .get_or_init(|| {
            Arc::new(Field::new(
                "key_value",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Utf8, false),
                ])),
                false,
            ))
        })
        .clone()
}

/// The canonical Arrow schema: the Go layout, every field required.
pub fn canonical_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(COLUMNS[col::PROVIDER], DataType::Utf8, false),
                Field::new(COLUMNS[col::DEPICTION_ID], DataType::Utf8, false),
                Field::new(COLUMNS[col::SUBJECT_ID], DataType::Utf8, false),
                Field::new(COLUMNS[col::MODEL], DataType::Utf8, false),
                Field::new(
                    COLUMNS[col::EMBEDDINGS],
                    DataType::List(vector_element_field()),
                    false,
                ),
                Field::new(COLUMNS[col::CREATED], DataType::Int64, false),
                Field::new(
                    COLUMNS[col::ATTRIBUTES],
                    DataType::Map(attributes_entries_field(), false),
                    false,
                ),
            ]))
        })
        .clone()
}

/// A [`RecordBatch`] in the canonical schema, with typed access to its records.
///
/// Cloning is cheap (reference-counted buffers).
#[derive(Debug, Clone)]
pub struct Batch {
    batch: RecordBatch,
    first_row: u64,
    provider: StringArray,
    depiction_id: StringArray,
    subject_id: StringArray,
    model: StringArray,
    vectors: ListArray,
    values: ScalarBuffer<f32>,
    created: ScalarBuffer<i64>,
    attributes: MapArray,
    attribute_keys: StringArray,
    attribute_values: StringArray,
    repairs: Vec<Repair>,
}

/// A batch whose columns do not have the canonical schema; a bug of the caller.
#[derive(Debug, Clone, thiserror::Error)]
#[error("record batch does not have the canonical oembeddings schema: {0}")]
pub struct NotCanonical(String);

impl Batch {
    /// Wraps a batch that has exactly the [`canonical_schema`] and no nulls.
    ///
    /// `first_row` is the index in its file of the batch's first row (0 when not from a file);
    /// errors use it to name rows.
    pub fn try_new(batch: RecordBatch, first_row: u64) -> Result<Self, NotCanonical> {
        if batch.schema().fields() != canonical_schema().fields() {
            return Err(NotCanonical(format!("found {}", batch.schema())));
        }
        if let Some((i, _)) = batch
            .columns()
            .iter()
            .enumerate()
            .find(|(_, c)| c.null_count() > 0)
        {
            return Err(NotCanonical(format!("column {} holds nulls", COLUMNS[i])));
        }
        let string = |i: usize| -> Result<StringArray, NotCanonical> {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| NotCanonical(format!("column {} is not Utf8", COLUMNS[i])))
        };
        let vectors = batch
            .column(col::EMBEDDINGS)
            .as_any()
            .downcast_ref::<ListArray>()
            .cloned()
            .ok_or_else(|| NotCanonical("embeddings is not a list".into()))?;
        let values = vectors
            .values()
            .as_any()
            .downcast_ref::<arrow_array::Float32Array>()
            .ok_or_else(|| NotCanonical("embeddings elements are not float32".into()))?;
        if values.null_count() > 0 {
            return Err(NotCanonical("embeddings elements hold nulls".into()));
        }
        let values = values.values().clone();
        let created = batch
            .column(col::CREATED)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| NotCanonical("created is not int64".into()))?
            .values()
            .clone();
        let attributes = batch
            .column(col::ATTRIBUTES)
            .as_any()
            .downcast_ref::<MapArray>()
            .cloned()
            .ok_or_else(|| NotCanonical("attributes is not a map".into()))?;
        let entry = |i: usize| -> Result<StringArray, NotCanonical> {
            attributes
                .entries()
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| NotCanonical("attribute keys and values must be Utf8".into()))
        };
        let (attribute_keys, attribute_values) = (entry(0)?, entry(1)?);
        if attribute_values.null_count() > 0 {
            return Err(NotCanonical("attribute values hold nulls".into()));
        }
        Ok(Self {
            provider: string(col::PROVIDER)?,
            depiction_id: string(col::DEPICTION_ID)?,
            subject_id: string(col::SUBJECT_ID)?,
            model: string(col::MODEL)?,
            vectors,
            values,
            created,
            attributes,
            attribute_keys,
            attribute_values,
            batch,
            first_row,
            repairs: Vec::new(),
        })
    }

    /// Values that broke record rules and were replaced while reading, in row order; empty
    /// unless the reader was asked to repair (see [`crate::read::ReadOptions::repair`]).
    pub fn repairs(&self) -> &[Repair] {
        &self.repairs
    }

    pub(crate) fn with_repairs(mut self, repairs: Vec<Repair>) -> Self {
        self.repairs = repairs;
        self
    }

    /// A batch holding copies of `records`.
    ///
    /// Fails only if Arrow rejects the columns it was given, which would be a bug.
    pub fn from_records<'a, I>(records: I) -> Result<Self, NotCanonical>
    where
        I: IntoIterator<Item = RecordRef<'a>>,
    {
        Self::from_records_at(records, 0)
    }

    /// A batch holding copies of `records`, the first of which is row `first_row` of its
    /// file.
    pub fn from_records_at<'a, I>(records: I, first_row: u64) -> Result<Self, NotCanonical>
    where
        I: IntoIterator<Item = RecordRef<'a>>,
    {
        let mut builder = BatchBuilder::default();
        for record in records {
            builder.push(&record);
        }
        builder.finish(first_row)
    }

    /// `len` records from `offset` (the same buffers); its first row is this batch's first
    /// row plus `offset`.
    ///
    /// # Panics
    /// If `offset + len > self.num_rows()`.
    pub fn slice(&self, offset: usize, len: usize) -> Batch {
        let sliced = self.batch.slice(offset, len);
        // A slice of a canonical batch is canonical.
        Batch::try_new(sliced, self.first_row + offset as u64).unwrap_or_else(|_| self.clone())
    }

    /// Number of records.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether the batch holds no records.
    pub fn is_empty(&self) -> bool {
        self.num_rows() == 0
    }

    /// Index in its file of the batch's first row.
    pub fn first_row(&self) -> u64 {
        self.first_row
    }

    /// The batch as Arrow data, in the canonical schema.
    pub fn record_batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// The record at `row` (0-based within the batch).
    ///
    /// # Panics
    /// If `row >= self.num_rows()`.
    pub fn record(&self, row: usize) -> RecordRef<'_> {
        let offsets = self.attributes.value_offsets();
        RecordRef {
            provider: self.provider.value(row),
            depiction_id: self.depiction_id.value(row),
            subject_id: self.subject_id.value(row),
            model: self.model.value(row),
            embeddings: self.vector(row),
            created: self.created[row],
            attributes: Attributes::Columns {
                keys: &self.attribute_keys,
                values: &self.attribute_values,
                start: offsets[row] as usize,
                end: offsets[row + 1] as usize,
            },
        }
    }

    /// All records, in order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = RecordRef<'_>> + '_ {
        (0..self.num_rows()).map(|row| self.record(row))
    }

    /// The vector of the record at `row`.
    pub fn vector(&self, row: usize) -> &[f32] {
        let offsets = self.vectors.value_offsets();
        &self.values[offsets[row] as usize..offsets[row + 1] as usize]
    }

    /// The provider column.
    pub fn providers(&self) -> &StringArray {
        &self.provider
    }

    /// The depiction_id column.
    pub fn depiction_ids(&self) -> &StringArray {
        &self.depiction_id
    }

    /// The subject_id column.
    pub fn subject_ids(&self) -> &StringArray {
        &self.subject_id
    }

    /// The model column.
    pub fn models(&self) -> &StringArray {
        &self.model
    }

    /// The created column.
    pub fn created(&self) -> &[i64] {
        &self.created
    }

    /// The vectors column.
    pub fn vectors(&self) -> &ListArray {
        &self.vectors
    }
}

/// Builds a canonical [`Batch`] record by record (for readers of other formats: JSON Lines,
/// a publisher's own layout).
#[derive(Debug)]
pub struct BatchBuilder {
    provider: StringBuilder,
    depiction_id: StringBuilder,
    subject_id: StringBuilder,
    model: StringBuilder,
    vectors: ListBuilder<Float32Builder>,
    created: Int64Builder,
    attributes: MapBuilder<StringBuilder, StringBuilder>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        let names = MapFieldNames {
            entry: "key_value".into(),
            key: "key".into(),
            value: "value".into(),
        };
        Self {
            provider: StringBuilder::new(),
            depiction_id: StringBuilder::new(),
            subject_id: StringBuilder::new(),
            model: StringBuilder::new(),
            vectors: ListBuilder::new(Float32Builder::new()).with_field(vector_element_field()),
            created: Int64Builder::new(),
            attributes: MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new())
                .with_values_field(Field::new("value", DataType::Utf8, false)),
        }
    }
}

impl BatchBuilder {
    /// Appends one record.
    pub fn push(&mut self, record: &RecordRef<'_>) {
        self.provider.append_value(record.provider);
        self.depiction_id.append_value(record.depiction_id);
        self.subject_id.append_value(record.subject_id);
        self.model.append_value(record.model);
        self.vectors.values().append_slice(record.embeddings);
        self.vectors.append(true);
        self.created.append_value(record.created);
        for (k, v) in record.attributes.iter() {
            self.attributes.keys().append_value(k);
            self.attributes.values().append_value(v);
        }
        // Appending a valid entry cannot fail: keys and values were appended in step.
        let _ = self.attributes.append(true);
    }

    /// The pushed records as a batch; the builder is empty afterwards.
    pub fn finish(&mut self, first_row: u64) -> Result<Batch, NotCanonical> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.provider.finish()),
            Arc::new(self.depiction_id.finish()),
            Arc::new(self.subject_id.finish()),
            Arc::new(self.model.finish()),
            Arc::new(self.vectors.finish()),
            Arc::new(self.created.finish()),
            Arc::new(self.attributes.finish()),
        ];
        let batch = RecordBatch::try_new(canonical_schema(), columns)
            .map_err(|e| NotCanonical(e.to_string()))?;
        Batch::try_new(batch, first_row)
    }
}
