//! Float64 vectors narrowed to float32: which elements changed.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

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

/// Counts float64 elements that do not survive narrowing to float32 exactly (NaN excepted).
/// Only the elements the (possibly sliced) array's rows refer to count.
pub(super) fn count_narrowed(array: &ArrayRef, first_row: u64, narrowing: &mut Narrowing) {
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
