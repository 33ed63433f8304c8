//! Reading records that break record rules without stopping: each bad value is replaced the
//! way go-embeddingsdb's reader would see it (an empty string, an empty vector, `0.0`, `0`,
//! an empty map, a dropped attribute) and the replacement is listed, so that a validator can
//! report every bad record of a file instead of the first.
//!
//! This is the slow path: it runs only for a batch that the strict path rejected.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type};
use arrow_array::{Array, ArrayRef, GenericListArray, OffsetSizeTrait};
use arrow_cast::cast::{CastOptions, cast_with_options};
use arrow_schema::{DataType, Field, TimeUnit};

use crate::batch::{Batch, BatchBuilder, COLUMNS, NotCanonical, col};
use crate::layout::{AttributesLayout, Layout};
use crate::problem::{RecordProblem, Repair};
use crate::record::{Attributes, RecordRef};

/// Builds a canonical batch from raw record columns (in [`COLUMNS`] order), replacing every
/// bad value and listing the replacements.
pub(crate) fn repair_batch(
    layout: &Layout,
    first_row: u64,
    columns: &[ArrayRef],
) -> Result<(Batch, Vec<Repair>), NotCanonical> {
    let rows = columns.first().map_or(0, |c| c.len());
    let mut repairs = Vec::new();
    let mut note = |row: usize, problem: RecordProblem| {
        repairs.push(Repair {
            row: first_row + row as u64,
            problem,
        });
    };
    let strings: Vec<Vec<String>> = [
        col::PROVIDER,
        col::DEPICTION_ID,
        col::SUBJECT_ID,
        col::MODEL,
    ]
    .into_iter()
    .map(|c| lenient_strings(&columns[c], COLUMNS[c], &mut note))
    .collect();
    let vectors = lenient_vectors(&columns[col::EMBEDDINGS], &mut note);
    let created = lenient_created(&columns[col::CREATED], &mut note);
    let attributes = lenient_attributes(layout, &columns[col::ATTRIBUTES], &mut note);
    let mut builder = BatchBuilder::default();
    for row in 0..rows {
        builder.push(&RecordRef {
            provider: &strings[0][row],
            depiction_id: &strings[1][row],
            subject_id: &strings[2][row],
            model: &strings[3][row],
            embeddings: &vectors[row],
            created: created[row],
            attributes: Attributes::Map(&attributes[row]),
        });
    }
    let batch = builder.finish(first_row)?;
    repairs.sort_by_key(|r| r.row);
    Ok((batch, repairs))
}

type Note<'a> = dyn FnMut(usize, RecordProblem) + 'a;

fn lenient_options() -> CastOptions<'static> {
    CastOptions {
        safe: true,
        ..Default::default()
    }
}

/// Strings; null -> "" (Null), not UTF-8 -> lossy text (InvalidUtf8).
fn lenient_strings(array: &ArrayRef, column: &'static str, note: &mut Note<'_>) -> Vec<String> {
    let utf8 = cast_with_options(array, &DataType::Utf8, &lenient_options()).ok();
    let binary = cast_with_options(array, &DataType::Binary, &lenient_options()).ok();
    (0..array.len())
        .map(|row| {
            if array.is_null(row) {
                note(row, RecordProblem::Null { column });
                return String::new();
            }
            match utf8.as_ref().map(|a| a.as_string::<i32>()) {
                Some(s) if s.is_valid(row) => s.value(row).to_owned(),
                _ => {
                    note(row, RecordProblem::InvalidUtf8 { column });
                    binary
                        .as_ref()
                        .map(|b| {
                            String::from_utf8_lossy(b.as_binary::<i32>().value(row)).into_owned()
                        })
                        .unwrap_or_default()
                }
            }
        })
        .collect()
}

/// Vectors; null -> empty (Null), null element -> 0.0 (NullElement).
fn lenient_vectors(array: &ArrayRef, note: &mut Note<'_>) -> Vec<Vec<f32>> {
    let target = DataType::List(Arc::new(Field::new("element", DataType::Float32, true)));
    let Ok(list) = cast_with_options(array, &target, &lenient_options()) else {
        for row in 0..array.len() {
            note(
                row,
                RecordProblem::Malformed {
                    message: "vector could not be read as float32".into(),
                },
            );
        }
        return vec![Vec::new(); array.len()];
    };
    let list: &GenericListArray<i32> = list.as_list();
    vectors_of(list, note)
}

fn vectors_of<O: OffsetSizeTrait>(
    list: &GenericListArray<O>,
    note: &mut Note<'_>,
) -> Vec<Vec<f32>> {
    let values = list.values().as_primitive::<Float32Type>();
    let offsets = list.value_offsets();
    (0..list.len())
        .map(|row| {
            if list.is_null(row) {
                note(
                    row,
                    RecordProblem::Null {
                        column: COLUMNS[col::EMBEDDINGS],
                    },
                );
                return Vec::new();
            }
            let (start, end) = (offsets[row].as_usize(), offsets[row + 1].as_usize());
            (start..end)
                .map(|i| {
                    if values.is_null(i) {
                        note(row, RecordProblem::NullElement { index: i - start });
                        0.0
                    } else {
                        values.value(i)
                    }
                })
                .collect()
        })
        .collect()
}

/// Created; null -> 0 (Null), out of range -> 0 (CreatedOutOfRange).
fn lenient_created(array: &ArrayRef, note: &mut Note<'_>) -> Vec<i64> {
    let per_second: i64 = match array.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000_000,
        _ => 1,
    };
    // Timestamps cast to their raw int64 units; out-of-range integers become null.
    let ints = cast_with_options(array, &DataType::Int64, &lenient_options()).ok();
    (0..array.len())
        .map(|row| {
            if array.is_null(row) {
                note(
                    row,
                    RecordProblem::Null {
                        column: COLUMNS[col::CREATED],
                    },
                );
                return 0;
            }
            match ints.as_ref().map(|a| a.as_primitive::<Int64Type>()) {
                Some(a) if a.is_valid(row) => a.value(row).div_euclid(per_second),
                _ => {
                    note(row, RecordProblem::CreatedOutOfRange);
                    0
                }
            }
        })
        .collect()
}

/// Attributes; null map -> empty, entries with a null or non-UTF-8 key or value dropped,
/// JSON that is not an object of strings -> empty map.
fn lenient_attributes(
    layout: &Layout,
    array: &ArrayRef,
    note: &mut Note<'_>,
) -> Vec<std::collections::BTreeMap<String, String>> {
    let column = COLUMNS[col::ATTRIBUTES];
    let rows = array.len();
    let mut out = vec![std::collections::BTreeMap::new(); rows];
    let entries_of = |offsets: Vec<usize>,
                      keys: &ArrayRef,
                      values: &ArrayRef,
                      out: &mut Vec<std::collections::BTreeMap<String, String>>,
                      note: &mut Note<'_>| {
        let keys = cast_with_options(keys, &DataType::Utf8, &lenient_options()).ok();
        let values_utf8 = cast_with_options(values, &DataType::Utf8, &lenient_options()).ok();
        for row in 0..rows {
            for entry in offsets[row]..offsets[row + 1] {
                let key = keys
                    .as_ref()
                    .map(|k| k.as_string::<i32>())
                    .filter(|k| k.is_valid(entry))
                    .map(|k| k.value(entry));
                let Some(key) = key else {
                    note(row, RecordProblem::InvalidUtf8 { column });
                    continue;
                };
                if values.is_null(entry) {
                    note(
                        row,
                        RecordProblem::NullAttributeValue {
                            key: key.to_owned(),
                        },
                    );
                    continue;
                }
                match values_utf8
                    .as_ref()
                    .map(|v| v.as_string::<i32>())
                    .filter(|v| v.is_valid(entry))
                {
                    Some(v) => {
                        out[row].insert(key.to_owned(), v.value(entry).to_owned());
                    }
                    None => note(row, RecordProblem::InvalidUtf8 { column }),
                }
            }
        }
    };
    match layout.attributes {
        AttributesLayout::Map => {
            let map = array.as_map();
            let offsets = map
                .value_offsets()
                .iter()
                .map(|&o| o.max(0) as usize)
                .collect();
            entries_of(offsets, map.keys(), map.values(), &mut out, note);
        }
        AttributesLayout::KeyValueList => {
            let (offsets, entries): (Vec<usize>, _) = match array.data_type() {
                DataType::LargeList(_) => {
                    let l = array.as_list::<i64>();
                    (
                        l.value_offsets()
                            .iter()
                            .map(|&o| o.max(0) as usize)
                            .collect(),
                        l.values().as_struct().clone(),
                    )
                }
                _ => {
                    let l = array.as_list::<i32>();
                    (
                        l.value_offsets()
                            .iter()
                            .map(|&o| o.max(0) as usize)
                            .collect(),
                        l.values().as_struct().clone(),
                    )
                }
            };
            entries_of(
                offsets,
                entries.column(0),
                entries.column(1),
                &mut out,
                note,
            );
        }
        AttributesLayout::JsonString => {
            let strings = lenient_strings(array, column, &mut |_, _| {});
            for (row, text) in strings.iter().enumerate() {
                if array.is_null(row) {
                    continue;
                }
                match serde_json::from_str::<Option<serde_json::Map<String, serde_json::Value>>>(
                    text,
                ) {
                    Ok(map) => {
                        for (k, v) in map.into_iter().flatten() {
                            match v {
                                serde_json::Value::String(v) => {
                                    out[row].insert(k, v);
                                }
                                _ => note(
                                    row,
                                    RecordProblem::InvalidJson {
                                        message: format!("value of '{k}' is not a string"),
                                    },
                                ),
                            }
                        }
                    }
                    Err(e) => note(
                        row,
                        RecordProblem::InvalidJson {
                            message: e.to_string(),
                        },
                    ),
                }
            }
        }
    }
    out
}
