//! What a footer claims, checked before anything acts on it: row counts that add up, and
//! column chunks that lie inside the file's data. parquet-rs trusts these numbers (a negative
//! offset is an `assert!`, a huge length an allocation of that size), and two readers that
//! resolve a contradiction differently (pyarrow by the row group's count, another by the
//! pages) would silently read different records from one file.

use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};

/// Checks `metadata` against a file whose data (everything before the footer) ends at
/// `data_end`; the first contradiction found, in words.
pub(crate) fn check(metadata: &ParquetMetaData, data_end: u64) -> Result<(), String> {
    let claimed = metadata.file_metadata().num_rows();
    if claimed < 0 {
        return Err(format!("the footer claims {claimed} rows"));
    }
    let mut total: i64 = 0;
    for (index, group) in metadata.row_groups().iter().enumerate() {
        let rows = group.num_rows();
        if rows < 0 {
            return Err(format!("row group {index} claims {rows} rows"));
        }
        total = total.saturating_add(rows);
        for column in group.columns() {
            check_chunk(column, data_end).map_err(|what| {
                format!(
                    "row group {index}, column '{}': {what}",
                    column.column_path().string()
                )
            })?;
        }
    }
    if total != claimed {
        return Err(format!(
            "the row groups hold {total} rows but the footer claims {claimed}"
        ));
    }
    Ok(())
}

/// A column chunk's pages lie inside the data, its sizes and counts are not negative.
fn check_chunk(column: &ColumnChunkMetaData, data_end: u64) -> Result<(), String> {
    let inside = |offset: i64| u64::try_from(offset).is_ok_and(|o| o < data_end);
    let data_page = column.data_page_offset();
    if !inside(data_page) {
        return Err(format!(
            "data page offset {data_page} is outside the file's data"
        ));
    }
    if let Some(dictionary) = column.dictionary_page_offset()
        && !inside(dictionary)
    {
        return Err(format!(
            "dictionary page offset {dictionary} is outside the file's data"
        ));
    }
    let size = column.compressed_size();
    if size < 0 || column.uncompressed_size() < 0 || column.num_values() < 0 {
        return Err("a size or value count is negative".to_owned());
    }
    // Where parquet-rs starts reading the chunk (its `byte_range`).
    let start = column.dictionary_page_offset().unwrap_or(data_page);
    let end = u64::try_from(start)
        .ok()
        .zip(u64::try_from(size).ok())
        .and_then(|(start, size)| start.checked_add(size));
    if end.is_none_or(|end| end > data_end) {
        return Err(format!(
            "its {size} bytes from offset {start} run past the file's data ({data_end} bytes)"
        ));
    }
    Ok(())
}
