//! The iterator over a file's canonical batches.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef};
use arrow_schema::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;

use super::narrowing::{Narrowing, count_narrowed};
use super::normalize::Normalizer;
use super::repair::repair_batch;
use super::sequential::SequentialFile;
use super::vectors::VectorColumnReader;
use super::{CorruptPlace, ParquetSource, ReadError, RecordProblem};
use crate::batch::{Batch, col};
use crate::contain::contain;
use crate::layout::ElementType;

/// Iterator over the canonical batches of a file. Memory is bounded by one batch.
#[derive(Debug)]
pub struct Reader {
    pub(super) source: ParquetSource,
    pub(super) inner: ParquetRecordBatchReader,
    /// The direct decoder of the vector column, when the layout allows it.
    pub(super) vectors: Option<VectorColumnReader>,
    /// The file read once in order for an observer, when there is one.
    pub(super) sequential: Option<Arc<SequentialFile>>,
    /// For each row group read: the row after its last, and its first byte.
    pub(super) group_starts: Vec<(u64, u64)>,
    /// Each row group read, and the row after its last as the footer counts them.
    pub(super) group_ends: Vec<(usize, u64)>,
    pub(super) positions: [usize; 7],
    /// The first row read.
    pub(super) first_row: u64,
    pub(super) next_row: u64,
    pub(super) narrowing: Narrowing,
    pub(super) repair: bool,
    /// Whether an error ended the reading: nothing more is read after a corrupt batch or a
    /// row count that contradicts the footer.
    pub(super) failed: bool,
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

    /// Reads the rest of the file for the observer given in
    /// [`ReadOptions::with_observer`](super::ReadOptions::with_observer), once the records
    /// are read, so that it has seen every byte of the file; the number of bytes it saw in
    /// all (the file's size as read). `None` without an observer.
    pub fn read_to_end(&self) -> Result<Option<u64>, ReadError> {
        let Some(sequential) = &self.sequential else {
            return Ok(None);
        };
        sequential
            .read_to_end()
            .map(Some)
            .map_err(|e| self.source.io_error(e))
    }

    /// Reads along for the observer when no vectors are served from the observed reads: up
    /// to the start of the row group now being read, so the observer keeps pace with the
    /// decoding.
    fn read_along(&self) -> Result<(), ReadError> {
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
        if self.failed {
            return None;
        }
        let first_row = self.next_row;
        let item = match contain(|| self.next_batch()) {
            Ok(item) => item,
            Err(source) => {
                let row_group = self.row_group_of(first_row);
                Some(Err(ReadError::Corrupt {
                    path: self.source.path.clone(),
                    place: CorruptPlace::Data {
                        row_group,
                        column: row_group.and_then(|rg| self.diagnose(rg)),
                        first_row: Some(first_row),
                    },
                    source,
                }))
            }
        };
        if matches!(item, Some(Err(_))) {
            self.failed = true;
        }
        item
    }
}

impl Reader {
    /// The row group holding `row`, as the footer counts rows.
    fn row_group_of(&self, row: u64) -> Option<usize> {
        self.group_ends
            .iter()
            .find(|&&(_, end)| row < end)
            .or(self.group_ends.last())
            .map(|&(rg, _)| rg)
    }

    /// The row after the last the footer counts in the row groups read.
    fn end_row(&self) -> u64 {
        self.group_ends
            .last()
            .map_or(self.first_row, |&(_, end)| end)
    }

    /// The rows read so far contradict the footer's count for the row groups read.
    fn row_count_error(&self) -> ReadError {
        let counted = self.end_row() - self.first_row;
        let read = self.next_row - self.first_row;
        let what = if read > counted {
            format!("the pages hold more rows than the {counted} the footer's row groups count")
        } else {
            format!("the pages hold {read} rows; the footer's row groups count {counted}")
        };
        ReadError::Inconsistent {
            path: self.source.path.clone(),
            what,
        }
    }

    /// After a decoder failed in `row_group`: the first column whose data alone fails to
    /// decode there, each read on its own and contained, to name it in the error.
    fn diagnose(&self, row_group: usize) -> Option<String> {
        let parquet_schema = self.source.metadata.parquet_schema();
        let mut roots = self.source.layout.columns;
        roots.sort_unstable();
        roots.into_iter().find_map(|root| {
            let mask = ProjectionMask::roots(parquet_schema, [root]);
            let reader = self.source.builder().ok()?;
            let failed = contain(|| {
                reader
                    .with_projection(mask)
                    .with_row_groups(vec![row_group])
                    .build()
                    .map(|batches| batches.into_iter().any(|b| b.is_err()))
                    .unwrap_or(true)
            })
            .unwrap_or(true);
            let field = parquet_schema.root_schema().get_fields().get(root)?;
            failed.then(|| field.name().to_owned())
        })
    }

    /// The next batch, decoded: [`Iterator::next`] without the containment.
    fn next_batch(&mut self) -> Option<Result<Batch, ReadError>> {
        let first_row = self.next_row;
        let raw = match self.inner.next() {
            Some(raw) => raw,
            None if self.next_row != self.end_row() => {
                return Some(Err(self.row_count_error()));
            }
            None => return None,
        };
        let raw = match raw {
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
        if self.next_row > self.end_row() {
            return Some(Err(self.row_count_error()));
        }
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
        if let Err(e) = self.read_along() {
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
