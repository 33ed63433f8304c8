//! An opened Parquet file of records: its footer, decoded metadata and recognised layout.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use super::claims;
use super::guard::GuardedFile;
use super::narrowing::Narrowing;
use super::sequential::{PageSource, SequentialFile};
use super::vectors::{self, VectorColumnReader};
use super::{ARROW_SCHEMA_KEY, CorruptPlace, ReadError, ReadOptions, Reader, RecordProblem};
use crate::batch::{COLUMNS, col};
use crate::blob::Blob;
use crate::contain::contain;
use crate::footer::{self, KeyValue};
use crate::layout::Layout;

/// An opened Parquet file: its footer, decoded metadata and recognised layout.
#[derive(Debug)]
pub struct ParquetSource {
    pub(super) path: PathBuf,
    blob: Blob,
    file_len: u64,
    footer_len: u32,
    key_values: Vec<KeyValue>,
    pub(super) metadata: ArrowReaderMetadata,
    /// Whether a damaged `ARROW:schema` hint was ignored when decoding the schema.
    hint_ignored: bool,
    pub(super) layout: Layout,
}

impl ParquetSource {
    /// Opens `path` (a local file, or a URL: see [`Blob::open`]), reads and decodes its
    /// footer and recognises its layout. Reads no data.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref();
        if !crate::blob::is_remote(path) && path.is_dir() {
            return Err(ReadError::Io {
                path: path.to_path_buf(),
                source: io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "is a directory, not a Parquet file",
                ),
            });
        }
        let blob = Blob::open(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_blob(blob, path)
    }

    /// Reads and decodes the footer of `blob`, named `path` in messages, and recognises its
    /// layout. Reads no data.
    pub fn from_blob(blob: Blob, path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref().to_path_buf();
        let footer_err = |source| ReadError::Footer {
            path: path.clone(),
            source,
        };
        let mut file = blob.cursor();
        let location = footer::locate(&mut file).map_err(footer_err)?;
        let mut raw = footer::read_metadata(&mut file, &location).map_err(footer_err)?;
        let key_values = footer::key_values(&raw).map_err(footer_err)?;
        // parquet-rs rejects footers whose key/values are not UTF-8; such keys are shown
        // (escaped) by `inspect`, and the data stays readable with them replaced.
        if key_values.iter().any(|kv| {
            std::str::from_utf8(&kv.key).is_err()
                || kv
                    .value
                    .as_deref()
                    .is_some_and(|v| std::str::from_utf8(v).is_err())
        }) {
            let lossy: Vec<KeyValue> = key_values
                .iter()
                .map(|kv| KeyValue {
                    key: String::from_utf8_lossy(&kv.key).into_owned().into_bytes(),
                    value: kv
                        .value
                        .as_deref()
                        .map(|v| String::from_utf8_lossy(v).into_owned().into_bytes()),
                })
                .collect();
            raw = footer::with_key_values(&raw, &lossy).map_err(footer_err)?;
        }
        let metadata_err = |source| ReadError::Metadata {
            path: path.clone(),
            source,
        };
        let corrupt = |source| ReadError::Corrupt {
            path: path.clone(),
            place: CorruptPlace::Footer,
            source,
        };
        let decoded = contain(|| ParquetMetaDataReader::decode_metadata(&raw))
            .map_err(corrupt)?
            .map_err(metadata_err)?;
        let data_end = location.file_len - u64::from(location.metadata_len) - 8;
        claims::check(&decoded, data_end).map_err(|what| ReadError::Inconsistent {
            path: path.clone(),
            what,
        })?;
        let decoded = Arc::new(decoded);
        let arrow_schema_hint = key_values
            .iter()
            .any(|kv| kv.key == ARROW_SCHEMA_KEY.as_bytes());
        // A damaged ARROW:schema hint (an error, or a panic in arrow-ipc's decoder) should
        // not make the data unreadable: the Parquet schema suffices.
        let with_hint =
            contain(|| ArrowReaderMetadata::try_new(decoded.clone(), ArrowReaderOptions::new()));
        let (metadata, hint_ignored) = match with_hint {
            Ok(Ok(m)) => (m, false),
            Ok(Err(_)) | Err(_) if arrow_schema_hint => (
                contain(|| {
                    ArrowReaderMetadata::try_new(
                        decoded.clone(),
                        ArrowReaderOptions::new().with_skip_arrow_metadata(true),
                    )
                })
                .map_err(corrupt)?
                .map_err(metadata_err)?,
                true,
            ),
            Ok(Err(e)) => return Err(metadata_err(e)),
            Err(e) => return Err(corrupt(e)),
        };
        let layout = contain(|| {
            Layout::detect(
                metadata.schema(),
                metadata.parquet_schema(),
                arrow_schema_hint,
            )
        })
        .map_err(corrupt)?
        .map_err(|source| ReadError::Layout {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            file_len: location.file_len,
            footer_len: location.metadata_len,
            key_values,
            metadata,
            hint_ignored,
            layout,
            blob,
            path,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Size of the footer (`FileMetaData`) in bytes.
    pub fn footer_len(&self) -> u32 {
        self.footer_len
    }

    /// The footer's key/value metadata as raw bytes, in file order.
    pub fn key_values(&self) -> &[KeyValue] {
        &self.key_values
    }

    /// The value of a footer key, when it and its value are UTF-8; the last one if repeated.
    pub fn key_value(&self, key: &str) -> Option<&str> {
        self.key_values
            .iter()
            .rev()
            .find(|kv| kv.key == key.as_bytes())
            .and_then(|kv| kv.value.as_deref())
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The decoded Parquet metadata.
    pub fn metadata(&self) -> &Arc<ParquetMetaData> {
        self.metadata.metadata()
    }

    /// The file's Arrow schema, as decoded.
    pub fn arrow_schema(&self) -> &arrow_schema::SchemaRef {
        self.metadata.schema()
    }

    /// Whether the footer's `ARROW:schema` hint could not be decoded and was ignored: the
    /// columns were then read by their Parquet schema alone (validation rule OE007).
    pub fn arrow_schema_hint_ignored(&self) -> bool {
        self.hint_ignored
    }

    /// The recognised layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Number of records in the file, from the footer.
    pub fn num_rows(&self) -> u64 {
        u64::try_from(self.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Records per batch that keep a batch's vectors near 8 MiB.
    fn default_batch_size(&self) -> usize {
        const TARGET_BYTES: u64 = 8 << 20;
        let (mut bytes, mut rows) = (0u64, 0u64);
        for rg in self.metadata().row_groups() {
            rows += u64::try_from(rg.num_rows()).unwrap_or(0);
            bytes += rg
                .columns()
                .iter()
                .filter(|c| {
                    c.column_path().parts().first().map(String::as_str)
                        == Some(COLUMNS[col::EMBEDDINGS])
                })
                .map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(0))
                .sum::<u64>();
        }
        let per_row = bytes.checked_div(rows).unwrap_or(4096).max(1);
        usize::try_from((TARGET_BYTES / per_row).clamp(16, 8192)).unwrap_or(1024)
    }

    /// A reader over every record, in file order.
    pub fn records(self, options: &ReadOptions) -> Result<Reader, ReadError> {
        self.records_in(options, None)
    }

    /// A reader over the records of some row groups, in file order.
    pub fn records_in(
        self,
        options: &ReadOptions,
        row_groups: Option<Vec<usize>>,
    ) -> Result<Reader, ReadError> {
        let batch_size = options
            .batch_size
            .unwrap_or_else(|| self.default_batch_size());
        let count = self.metadata().num_row_groups();
        if let Some(bad) = row_groups.iter().flatten().find(|&&g| g >= count) {
            return Err(self.metadata_error(ParquetError::General(format!(
                "row group {bad} asked for; the file has {count}"
            ))));
        }
        let rows_of =
            |rg: usize| u64::try_from(self.metadata().row_group(rg).num_rows()).unwrap_or(0);
        let first_row = row_groups
            .as_ref()
            .and_then(|groups| groups.first())
            .map(|&first| (0..first).map(rows_of).sum())
            .unwrap_or(0);
        let groups: Vec<usize> = row_groups.unwrap_or_else(|| (0..count).collect());
        // Each group read and the row after its last, as the footer counts them: the pages
        // must hold exactly these rows.
        let mut end_row = first_row;
        let group_ends: Vec<(usize, u64)> = groups
            .iter()
            .map(|&rg| {
                end_row += rows_of(rg);
                (rg, end_row)
            })
            .collect();
        let sequential = match &options.observer {
            Some(observer) => Some(Arc::new(SequentialFile::new(
                self.blob.clone(),
                self.file_len,
                observer.0.clone(),
            ))),
            None => None,
        };
        // The vectors of the Go layout go through the direct decoder, the rest through Arrow.
        let vectors = if options.direct_vectors {
            self.direct_vector_reader(&groups, sequential.as_ref())?
        } else {
            None
        };
        // Where each row group's bytes start, to read along when no vectors are served.
        let group_starts = if sequential.is_some() && vectors.is_none() {
            self.group_starts(&groups, first_row)
        } else {
            Vec::new()
        };
        let mut roots: Vec<usize> = self
            .layout
            .columns
            .iter()
            .enumerate()
            .filter(|&(i, _)| !(i == col::EMBEDDINGS && vectors.is_some()))
            .map(|(_, &c)| c)
            .collect();
        roots.sort_unstable();
        // The projected batch keeps file order; find each record column in it.
        let mut positions = [0usize; 7];
        for (slot, column) in positions.iter_mut().zip(self.layout.columns) {
            *slot = roots.iter().position(|&r| r == column).unwrap_or(0);
        }
        let mask = ProjectionMask::roots(self.metadata.parquet_schema(), roots);
        let builder = self.builder()?;
        let inner = contain(|| {
            builder
                .with_projection(mask)
                .with_batch_size(batch_size)
                .with_row_groups(groups)
                .build()
        })
        .map_err(|source| ReadError::Corrupt {
            path: self.path.clone(),
            place: CorruptPlace::Footer,
            source,
        })?
        .map_err(|source| self.metadata_error(source))?;
        Ok(Reader {
            inner,
            vectors,
            sequential,
            group_starts,
            group_ends,
            positions,
            first_row,
            next_row: first_row,
            narrowing: Narrowing::default(),
            repair: options.repair,
            failed: false,
            source: self,
        })
    }

    /// For each of `groups` (the first starting at row `first_row`): the row after its last,
    /// and its first byte.
    fn group_starts(&self, groups: &[usize], first_row: u64) -> Vec<(u64, u64)> {
        let mut end_row = first_row;
        groups
            .iter()
            .map(|&rg| {
                let group = self.metadata().row_group(rg);
                end_row += u64::try_from(group.num_rows()).unwrap_or(0);
                let start = group.columns().iter().map(|c| c.byte_range().0).min();
                (end_row, start.unwrap_or(0))
            })
            .collect()
    }

    /// The direct decoder for the vectors, when the file uses the Go layout's vector column.
    fn direct_vector_reader(
        &self,
        groups: &[usize],
        sequential: Option<&Arc<SequentialFile>>,
    ) -> Result<Option<VectorColumnReader>, ReadError> {
        let descr = self.metadata.parquet_schema();
        let mut leaves = (0..descr.num_columns())
            .filter(|&i| descr.get_column_root_idx(i) == self.layout.columns[col::EMBEDDINGS]);
        let (Some(leaf), None) = (leaves.next(), leaves.next()) else {
            return Ok(None);
        };
        if !vectors::supported(self.metadata(), leaf, groups) {
            return Ok(None);
        }
        let source = match sequential {
            Some(sequential) => PageSource::Sequential(sequential.clone()),
            None => PageSource::File(self.blob.clone()),
        };
        Ok(Some(VectorColumnReader::new(
            Arc::new(source),
            self.metadata().clone(),
            leaf,
            groups.to_vec(),
        )))
    }

    /// Loads the page index (if the file has one) so that row selections can skip pages.
    pub(crate) fn with_page_index(mut self) -> Result<Self, ReadError> {
        let metadata = self.metadata().as_ref().clone();
        let loaded = contain(|| {
            let mut reader = ParquetMetaDataReader::new_with_metadata(metadata)
                .with_page_index_policy(PageIndexPolicy::Optional);
            reader
                .read_page_indexes(&self.blob)
                .and_then(|()| reader.finish())
                .and_then(|md| ArrowReaderMetadata::try_new(Arc::new(md), self.arrow_options()))
        });
        // A damaged page index only costs speed: reading without it gives the same rows.
        if let Ok(Ok(md)) = loaded {
            self.metadata = md;
        }
        Ok(self)
    }

    fn arrow_options(&self) -> ArrowReaderOptions {
        ArrowReaderOptions::new().with_skip_arrow_metadata(self.hint_ignored)
    }

    pub(crate) fn metadata_error(&self, source: ParquetError) -> ReadError {
        ReadError::Metadata {
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn data_error(&self, first_row: u64, source: ArrowError) -> ReadError {
        ReadError::Data {
            path: self.path.clone(),
            first_row,
            source,
        }
    }

    pub(crate) fn record_error(
        &self,
        row: u64,
        key: Option<String>,
        problem: RecordProblem,
    ) -> ReadError {
        ReadError::Record {
            path: self.path.clone(),
            row,
            key,
            problem,
        }
    }

    /// A builder over the file for custom projections and selections.
    pub(crate) fn builder(
        &self,
    ) -> Result<ParquetRecordBatchReaderBuilder<GuardedFile>, ReadError> {
        Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            GuardedFile(self.blob.clone()),
            self.metadata.clone(),
        ))
    }

    /// The opened bytes (the same file even if the path is replaced; the same version of a
    /// remote object).
    pub fn blob(&self) -> &Blob {
        &self.blob
    }

    pub(super) fn io_error(&self, source: io::Error) -> ReadError {
        ReadError::Io {
            path: self.path.clone(),
            source,
        }
    }
}
