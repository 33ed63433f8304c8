//! A direct decoder for the vector column of go-embeddingsdb's layout.
//!
//! Vectors are nearly all of a file's bytes. The general Arrow list reader decodes every
//! repetition and definition level one by one to rebuild list offsets; for the Go layout
//! (a required LIST of required float, PLAIN values) both level streams are runs of ones
//! broken only at row starts, so this decoder walks the runs, copies the values with one
//! `memcpy`-like pass per page, and builds offsets from the row starts alone. Anything it
//! does not expect is reported as malformed data, never guessed.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::{Float32Array, ListArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use bytes::Bytes;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::serialized_reader::SerializedPageReader;

use super::sequential::PageSource;
use crate::batch::vector_element_field;

/// Why the vector column could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vector column: {0}")]
pub struct VectorError(pub String);

fn malformed(what: impl Into<String>) -> VectorError {
    VectorError(what.into())
}

/// Whether the direct decoder handles leaf column `column` of every row group in `row_groups`:
/// a FLOAT leaf with max repetition and definition level 1 (the Go layout), values PLAIN,
/// levels RLE, no dictionary.
pub(crate) fn supported(metadata: &ParquetMetaData, column: usize, row_groups: &[usize]) -> bool {
    let descr = metadata.file_metadata().schema_descr();
    if column >= descr.num_columns() {
        return false;
    }
    let leaf = descr.column(column);
    if leaf.physical_type() != PhysicalType::FLOAT
        || leaf.max_rep_level() != 1
        || leaf.max_def_level() != 1
    {
        return false;
    }
    row_groups.iter().all(|&rg| {
        let chunk = metadata.row_group(rg).column(column);
        chunk.dictionary_page_offset().is_none()
            && chunk
                .encodings()
                .all(|e| matches!(e, Encoding::PLAIN | Encoding::RLE))
    })
}

/// Streams the vectors of the Go layout's `embeddings` column, a given number of rows at a
/// time, across pages and row groups.
pub(crate) struct VectorColumnReader {
    source: Arc<PageSource>,
    metadata: Arc<ParquetMetaData>,
    column: usize,
    row_groups: VecDeque<usize>,
    pages: Option<SerializedPageReader<PageSource>>,
    page: Option<DecodedPage>,
    /// Values of the row that is open (started, not yet closed by the next row start).
    row_open: bool,
    /// Values buffers of earlier batches, reused once nothing else holds them.
    spent: VecDeque<Buffer>,
}

/// Values buffers kept for reuse, and their total size at most. A pipeline holds several
/// batches at a time (decoded, queued, being signed or converted, being written: about
/// eight in `sign --records`); a buffer comes back when its batch is dropped. Those still
/// held cost nothing extra; free ones at most this many bytes.
const SPENT_BUFFERS: usize = 16;
const SPENT_BYTES: usize = 48 << 20;

/// One data page, levels decoded to row starts.
struct DecodedPage {
    values: Bytes,
    /// Level positions at which a row starts (repetition level 0).
    row_starts: Vec<u32>,
    /// Number of levels.
    levels: u32,
    /// For each level position, the index of its value; `None` when every level has one.
    value_index: Option<Vec<u32>>,
    /// Next level position to consume.
    cursor: u32,
    /// Next entry of `row_starts` to consume.
    next_start: usize,
}

impl DecodedPage {
    fn value_at(&self, level: u32) -> usize {
        match &self.value_index {
            None => level as usize,
            Some(index) => index[level as usize] as usize,
        }
    }
}

impl std::fmt::Debug for VectorColumnReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorColumnReader")
            .field("column", &self.column)
            .field("row_groups_left", &self.row_groups.len())
            .finish_non_exhaustive()
    }
}

impl VectorColumnReader {
    pub(crate) fn new(
        source: Arc<PageSource>,
        metadata: Arc<ParquetMetaData>,
        column: usize,
        row_groups: Vec<usize>,
    ) -> Self {
        Self {
            source,
            metadata,
            column,
            row_groups: row_groups.into(),
            pages: None,
            page: None,
            row_open: false,
            spent: VecDeque::new(),
        }
    }

    /// An empty values vector: the memory of a spent batch when one is free again. A
    /// buffer of megabytes freed on another thread goes back to the system and costs page
    /// faults when allocated afresh; a reused one does not, and is still in cache.
    fn values_vec(&mut self) -> Vec<f32> {
        for _ in 0..self.spent.len() {
            let Some(buffer) = self.spent.pop_front() else {
                break;
            };
            match buffer.into_vec::<f32>() {
                Ok(mut values) => {
                    values.clear();
                    return values;
                }
                Err(held) => self.spent.push_back(held),
            }
        }
        Vec::new()
    }

    /// Keeps a batch's values buffer for reuse once the batch is dropped.
    fn spend(&mut self, buffer: Buffer) {
        self.spent.push_back(buffer);
        while self.spent.len() > SPENT_BUFFERS
            || self.spent.iter().map(Buffer::capacity).sum::<usize>() > SPENT_BYTES
        {
            self.spent.pop_front();
        }
    }

    /// Decodes the next `rows` vectors (fewer only at the end of the column).
    pub(crate) fn next_rows(&mut self, rows: usize) -> Result<ListArray, VectorError> {
        let mut offsets: Vec<i32> = Vec::with_capacity(rows + 1);
        offsets.push(0);
        let mut values = self.values_vec();
        let mut sized = false;
        let mut closed = 0usize;
        while closed < rows {
            if self.page.is_none() && !self.load_page()? {
                // End of the column: the open row is complete.
                if self.row_open {
                    push_offset(&mut offsets, values.len())?;
                    self.row_open = false;
                }
                break;
            }
            let Some(page) = self.page.as_mut() else {
                break;
            };
            if !sized {
                // Size the batch from the first page's values per row.
                let per_row = (page.values.len() / 4) / page.row_starts.len().max(1);
                values.reserve(rows.saturating_mul(per_row).min(1 << 28));
                sized = true;
            }
            let next = page
                .row_starts
                .get(page.next_start)
                .copied()
                .unwrap_or(page.levels);
            if page.cursor < next {
                if !self.row_open {
                    return Err(malformed("values before the first row start"));
                }
                let (from, to) = (page.value_at(page.cursor), page.value_at(next));
                append_values(&mut values, &page.values, from, to)?;
                page.cursor = next;
            }
            if page.cursor == page.levels {
                self.page = None;
                continue;
            }
            // A row starts at the cursor: it closes the open one.
            if self.row_open {
                push_offset(&mut offsets, values.len())?;
                closed += 1;
                self.row_open = false;
                if closed == rows {
                    break;
                }
            }
            self.row_open = true;
            page.next_start += 1;
            // The row start's own level: a value, or an empty list (no value).
            let end = page.cursor + 1;
            let (from, to) = (page.value_at(page.cursor), page.value_at(end));
            append_values(&mut values, &page.values, from, to)?;
            page.cursor = end;
            if page.cursor == page.levels {
                self.page = None;
            }
        }
        let values = ScalarBuffer::from(values);
        self.spend(values.inner().clone());
        let values = Float32Array::new(values, None);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        ListArray::try_new(vector_element_field(), offsets, Arc::new(values), None)
            .map_err(|e| malformed(e.to_string()))
    }

    /// Loads the next data page; false at the end of the column.
    fn load_page(&mut self) -> Result<bool, VectorError> {
        loop {
            if self.pages.is_none() {
                let Some(rg) = self.row_groups.pop_front() else {
                    return Ok(false);
                };
                let row_group = self.metadata.row_group(rg);
                let rows = usize::try_from(row_group.num_rows())
                    .map_err(|_| malformed("negative row count"))?;
                let reader = SerializedPageReader::new(
                    self.source.clone(),
                    row_group.column(self.column),
                    rows,
                    None,
                )
                .map_err(|e| malformed(e.to_string()))?;
                self.pages = Some(reader);
            }
            let Some(pages) = self.pages.as_mut() else {
                return Ok(false);
            };
            match pages
                .get_next_page()
                .map_err(|e| malformed(e.to_string()))?
            {
                None => self.pages = None,
                Some(page) => {
                    if let Some(decoded) = decode_page(page)? {
                        self.page = Some(decoded);
                        return Ok(true);
                    }
                }
            }
        }
    }
}

fn push_offset(offsets: &mut Vec<i32>, len: usize) -> Result<(), VectorError> {
    offsets.push(i32::try_from(len).map_err(|_| malformed("more than 2^31 values in one batch"))?);
    Ok(())
}

/// Appends values `from..to` of a page's PLAIN float bytes.
fn append_values(
    out: &mut Vec<f32>,
    bytes: &[u8],
    from: usize,
    to: usize,
) -> Result<(), VectorError> {
    let slice = bytes
        .get(from * 4..to * 4)
        .ok_or_else(|| malformed("page holds fewer values than its levels say"))?;
    out.extend(
        slice
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
    Ok(())
}

/// Splits a data page into levels and values; `None` for pages without data (none expected).
fn decode_page(page: Page) -> Result<Option<DecodedPage>, VectorError> {
    let (buf, levels, encoding, rep, def, values_at) = match page {
        Page::DataPage {
            buf,
            num_values,
            encoding,
            def_level_encoding,
            rep_level_encoding,
            ..
        } => {
            if def_level_encoding != Encoding::RLE || rep_level_encoding != Encoding::RLE {
                return Err(malformed("levels are not RLE-encoded"));
            }
            let (rep, after_rep) = length_prefixed(&buf, 0)?;
            let (def, values_at) = length_prefixed(&buf, after_rep)?;
            (buf.clone(), num_values, encoding, rep, def, values_at)
        }
        Page::DataPageV2 {
            buf,
            num_values,
            encoding,
            def_levels_byte_len,
            rep_levels_byte_len,
            ..
        } => {
            let rep_end = rep_levels_byte_len as usize;
            let def_end = rep_end + def_levels_byte_len as usize;
            if def_end > buf.len() {
                return Err(malformed("level lengths exceed the page"));
            }
            (
                buf.clone(),
                num_values,
                encoding,
                0..rep_end,
                rep_end..def_end,
                def_end,
            )
        }
        Page::DictionaryPage { .. } => return Err(malformed("unexpected dictionary page")),
    };
    if encoding != Encoding::PLAIN {
        return Err(malformed(format!(
            "values are {encoding}-encoded, expected PLAIN"
        )));
    }
    let row_starts = row_starts(&buf[rep], levels)?;
    let value_index = value_index(&buf[def], levels)?;
    let value_count = match &value_index {
        None => levels as usize,
        Some(index) => index[levels as usize] as usize,
    };
    let values = buf.slice(values_at..);
    if values.len() < value_count * 4 {
        return Err(malformed("page holds fewer values than its levels say"));
    }
    Ok(Some(DecodedPage {
        values,
        row_starts,
        levels,
        value_index,
        cursor: 0,
        next_start: 0,
    }))
}

/// A `u32` little-endian length followed by that many bytes, from `at`.
fn length_prefixed(buf: &[u8], at: usize) -> Result<(std::ops::Range<usize>, usize), VectorError> {
    let len = buf
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| malformed("truncated level length"))?;
    let end = at + 4 + len;
    if end > buf.len() {
        return Err(malformed("level length exceeds the page"));
    }
    Ok((at + 4..end, end))
}

/// One run of the RLE / bit-packed hybrid encoding with bit width 1.
enum Run<'a> {
    /// `len` copies of `value`.
    Repeat { value: bool, len: u32 },
    /// `len` values, one bit each, least significant bit first.
    Bits { bytes: &'a [u8], len: u32 },
}

/// Iterates the runs of `levels` level values encoded with bit width 1.
struct Runs<'a> {
    data: &'a [u8],
    pos: usize,
    remaining: u32,
}

impl<'a> Runs<'a> {
    fn new(data: &'a [u8], levels: u32) -> Self {
        Self {
            data,
            pos: 0,
            remaining: levels,
        }
    }

    fn varint(&mut self) -> Result<u64, VectorError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or_else(|| malformed("truncated level run"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("level run header too long"))
    }

    fn next_run(&mut self) -> Result<Option<Run<'a>>, VectorError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let header = self.varint()?;
        let run = if header & 1 == 1 {
            let groups =
                usize::try_from(header >> 1).map_err(|_| malformed("level run too long"))?;
            let bytes = self
                .data
                .get(self.pos..self.pos + groups)
                .ok_or_else(|| malformed("truncated bit-packed levels"))?;
            self.pos += groups;
            let len = u32::try_from(groups.saturating_mul(8))
                .unwrap_or(u32::MAX)
                .min(self.remaining);
            Run::Bits { bytes, len }
        } else {
            let len = u32::try_from(header >> 1).map_err(|_| malformed("level run too long"))?;
            let byte = *self
                .data
                .get(self.pos)
                .ok_or_else(|| malformed("truncated level run"))?;
            self.pos += 1;
            if byte > 1 {
                return Err(malformed("level value above the maximum level 1"));
            }
            Run::Repeat {
                value: byte == 1,
                len: len.min(self.remaining),
            }
        };
        let len = match &run {
            Run::Repeat { len, .. } | Run::Bits { len, .. } => *len,
        };
        if len == 0 {
            return Err(malformed("empty level run"));
        }
        self.remaining -= len;
        Ok(Some(run))
    }
}

/// Positions of repetition level 0 (row starts).
fn row_starts(data: &[u8], levels: u32) -> Result<Vec<u32>, VectorError> {
    let mut starts = Vec::new();
    let mut runs = Runs::new(data, levels);
    let mut at = 0u32;
    while let Some(run) = runs.next_run()? {
        match run {
            Run::Repeat { value: true, len } => at += len,
            Run::Repeat { value: false, len } => {
                starts.extend(at..at + len);
                at += len;
            }
            Run::Bits { bytes, len } => {
                for i in 0..len {
                    if bytes[(i / 8) as usize] >> (i % 8) & 1 == 0 {
                        starts.push(at + i);
                    }
                }
                at += len;
            }
        }
    }
    if at != levels {
        return Err(malformed("fewer repetition levels than the page says"));
    }
    Ok(starts)
}

/// `None` when every definition level is 1 (every level carries a value); else the index of
/// each level's value, with one extra entry holding the page's value count.
fn value_index(data: &[u8], levels: u32) -> Result<Option<Vec<u32>>, VectorError> {
    let mut all_present = true;
    let mut runs = Runs::new(data, levels);
    let mut at = 0u32;
    while let Some(run) = runs.next_run()? {
        match run {
            Run::Repeat { value, len } => {
                all_present &= value;
                at += len;
            }
            Run::Bits { bytes, len } => {
                all_present &= (0..len).all(|i| bytes[(i / 8) as usize] >> (i % 8) & 1 == 1);
                at += len;
            }
        }
    }
    if at != levels {
        return Err(malformed("fewer definition levels than the page says"));
    }
    if all_present {
        return Ok(None);
    }
    // Rare: empty vectors. Number the values level by level.
    let mut index = Vec::with_capacity(levels as usize + 1);
    let mut count = 0u32;
    let mut runs = Runs::new(data, levels);
    while let Some(run) = runs.next_run()? {
        match run {
            Run::Repeat { value, len } => {
                for _ in 0..len {
                    index.push(count);
                    count += u32::from(value);
                }
            }
            Run::Bits { bytes, len } => {
                for i in 0..len {
                    index.push(count);
                    count += u32::from(bytes[(i / 8) as usize] >> (i % 8) & 1);
                }
            }
        }
    }
    index.push(count);
    Ok(Some(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_decode_rle_and_bit_packed_levels() {
        // RLE run of three 0s; bit-packed group 0b1011_0110 (8 levels); RLE run of two 1s.
        let data = [3 << 1, 0, 0b11, 0b1011_0110, 2 << 1, 1];
        assert_eq!(row_starts(&data, 13).unwrap(), vec![0, 1, 2, 3, 6, 9]);
        let index = value_index(&data, 13).unwrap().unwrap();
        assert_eq!(index, vec![0, 0, 0, 0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 7]);
        assert_eq!(value_index(&[13 << 1, 1], 13).unwrap(), None);
    }

    #[test]
    fn malformed_levels_are_errors() {
        assert!(row_starts(&[3 << 1, 2], 3).is_err());
        assert!(row_starts(&[3 << 1], 3).is_err());
        assert!(row_starts(&[2 << 1, 0], 3).is_err());
        assert!(row_starts(&[0xff; 12], 3).is_err());
        assert!(row_starts(&[0b11], 8).is_err());
    }
}
