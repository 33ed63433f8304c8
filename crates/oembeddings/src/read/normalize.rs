//! Record columns in any accepted layout to the canonical batch: strings checked for nulls
//! and UTF-8, vectors to float32 lists, `created` to Unix seconds, attributes to a map.

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, Float32Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_cast::cast::{CastOptions, cast_with_options};
use arrow_schema::{DataType, Field, TimeUnit};

use super::RecordProblem;
use super::narrowing::{Narrowing, count_narrowed};
use crate::batch::{
    Batch, COLUMNS, attributes_entries_field, canonical_schema, col, vector_element_field,
};
use crate::layout::{AttributesLayout, ElementType, Layout, LayoutError};
use crate::record::RecordKey;

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
pub(super) type RecordFailure = (u64, Option<String>, RecordProblem);

/// Turns one projected batch (record columns in [`COLUMNS`] order) into canonical form.
pub(crate) struct Normalizer<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) first_row: u64,
}

impl Normalizer<'_> {
    pub(super) fn batch(&self, columns: &[ArrayRef]) -> Result<Batch, RecordFailure> {
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
