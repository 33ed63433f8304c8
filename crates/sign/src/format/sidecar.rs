//! Sidecar files holding per-record signatures, read and written as Parquet.
//!
//! - Compatible profile (go-embeddingsdb): `{root}-signatures.parquet` with string columns
//!   `provider`, `depiction_id`, `model`, `record_hash`, `record_signature`.
//! - Native profile: `{root}.sigs.parquet` with `row` (uint64), `provider`, `depiction_id`,
//!   `model`, `digest` (32-byte fixed binary) and `signature` (binary).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, FixedSizeBinaryBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use oembeddings::atomic::AtomicFile;
use oembeddings::contain::contain;
use oembeddings::read::{GuardedFile, ReadError};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::ByteArrayType;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnPath;

use sha2::{Digest, Sha256};

use crate::error::SignError;
use crate::format::digest::{RecordDigest, hex};
use crate::keys::Signatures;

/// Rows per batch when reading a sidecar; a written row group holds two.
const BATCH: usize = 8192;

/// One row of a compatible-profile sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibleRow {
    /// The record's provider.
    pub provider: String,
    /// The record's depiction id.
    pub depiction_id: String,
    /// The record's model.
    pub model: String,
    /// Lowercase hex SHA-256 of the record's Go JSON bytes.
    pub record_hash: String,
    /// The record's signature, as stored: text (armored OpenPGP, PEM `SIGNATURE`) or, from
    /// go-embeddingsdb's first X.509 signer, raw bytes in a string column.
    pub record_signature: Vec<u8>,
}

/// One row of a native-profile sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeRow {
    /// 0-based row of the record in the data file.
    pub row: u64,
    /// The record's provider.
    pub provider: String,
    /// The record's depiction id.
    pub depiction_id: String,
    /// The record's model.
    pub model: String,
    /// The record digest.
    pub digest: RecordDigest,
    /// The signature over the signed message of the digest.
    pub signature: Vec<u8>,
}

fn compatible_schema() -> SchemaRef {
    Arc::new(Schema::new(
        [
            "provider",
            "depiction_id",
            "model",
            "record_hash",
            "record_signature",
        ]
        .into_iter()
        .map(|n| Field::new(n, DataType::Utf8, false))
        .collect::<Vec<_>>(),
    ))
}

fn native_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("row", DataType::UInt64, false),
        Field::new("provider", DataType::Utf8, false),
        Field::new("depiction_id", DataType::Utf8, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("digest", DataType::FixedSizeBinary(32), false),
        Field::new("signature", DataType::Binary, false),
    ]))
}

/// A file that hashes what is written to it, so that the manifest's entry for the sidecar
/// needs no second read of it.
struct HashingFile {
    file: File,
    hasher: Sha256,
    size: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.size += written.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A sidecar as written: its size and SHA-256 (lowercase hex).
#[derive(Debug, Clone)]
pub(crate) struct WrittenSidecar {
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Its SHA-256.
    pub(crate) sha256: String,
}

/// Writes a sidecar atomically, a batch of columns at a time: the rows of one batch of
/// data records (see [`native_columns`], [`compatible_columns`]).
pub(crate) struct SidecarWriter {
    output: AtomicFile,
    writer: ArrowWriter<BufWriter<HashingFile>>,
    schema: SchemaRef,
}

impl SidecarWriter {
    fn create(path: &Path, schema: SchemaRef, metadata: Vec<KeyValue>) -> Result<Self, SignError> {
        let io = |source| SignError::Io {
            path: path.to_path_buf(),
            source,
        };
        let output = AtomicFile::create(path).map_err(io)?;
        let file = output.try_clone_file().map_err(io)?;
        // Identity strings compress well; hashes and signatures are random bytes that neither
        // a dictionary, nor zstd, nor min/max statistics can do anything with.
        // Row groups of a few batches: the writer encodes and writes each as it fills, while
        // records are still being signed, instead of the whole sidecar at the end (a tail
        // of about a tenth of a second per 200,000 rows with one core idle).
        // Depiction ids are unique per record: a dictionary of them only costs hashing.
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(2 * BATCH))
            .set_column_dictionary_enabled(ColumnPath::from("depiction_id"), false);
        for column in [
            "row",
            "digest",
            "signature",
            "record_hash",
            "record_signature",
        ] {
            let path = ColumnPath::from(column);
            props = props
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_statistics_enabled(path.clone(), EnabledStatistics::None)
                .set_column_compression(
                    path,
                    if column == "record_signature" {
                        Compression::ZSTD(ZstdLevel::default())
                    } else {
                        Compression::UNCOMPRESSED
                    },
                );
        }
        if !metadata.is_empty() {
            props = props.set_key_value_metadata(Some(metadata));
        }
        let props = props.build();
        let file = HashingFile {
            file,
            hasher: Sha256::new(),
            size: 0,
        };
        let writer = ArrowWriter::try_new(BufWriter::new(file), schema.clone(), Some(props))
            .map_err(|e| SignError::sidecar(path, e.to_string()))?;
        Ok(Self {
            output,
            writer,
            schema,
        })
    }

    /// Writes rows given as columns, in the sidecar's schema.
    pub(crate) fn write_columns(&mut self, columns: Vec<ArrayRef>) -> Result<(), SignError> {
        let path = self.output.target();
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| SignError::sidecar(path, e.to_string()))?;
        self.writer
            .write(&batch)
            .map_err(|e| SignError::sidecar(path, e.to_string()))
    }

    /// Writes the footer and moves the file into place.
    pub(crate) fn finish(self) -> Result<WrittenSidecar, SignError> {
        let path = self.output.target().to_path_buf();
        let io = |source| SignError::Io {
            path: path.clone(),
            source,
        };
        // `into_inner` writes the footer, then hands back the (flushed) writer.
        let file = self
            .writer
            .into_inner()
            .map_err(|e| SignError::sidecar(&path, e.to_string()))?
            .into_inner()
            .map_err(|e| io(e.into_error()))?;
        let (size, sha256) = (file.size, hex(&file.hasher.finalize()));
        drop(file.file);
        self.output.commit().map_err(io)?;
        Ok(WrittenSidecar { size, sha256 })
    }
}

/// The footer key where go-embeddingsdb's signer embeds its public key (an armored OpenPGP
/// certificate, or a PEM X.509 certificate) when asked (`-embed-public-key`).
pub const EMBEDDED_PUBLIC_KEY: &str = "embeddingsdb:signatures:public_key";

/// A writer of compatible-profile sidecars; `public_key` is embedded in the footer when given.
pub(crate) fn compatible_writer(
    path: &Path,
    public_key: Option<&str>,
) -> Result<SidecarWriter, SignError> {
    let metadata = public_key
        .map(|k| vec![KeyValue::new(EMBEDDED_PUBLIC_KEY.to_owned(), k.to_owned())])
        .unwrap_or_default();
    SidecarWriter::create(path, compatible_schema(), metadata)
}

/// The public key embedded in a sidecar's footer, if any. Never trusted by itself.
pub fn embedded_public_key(path: &Path) -> Result<Option<String>, SignError> {
    let file = guarded(path)?;
    let builder = contain(|| ParquetRecordBatchReaderBuilder::try_new(file))
        .map_err(|panic| SignError::sidecar(path, panic.to_string()))?
        .map_err(|e| SignError::sidecar(path, format!("not a readable Parquet file: {e}")))?;
    Ok(builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == EMBEDDED_PUBLIC_KEY))
        .and_then(|e| e.value.clone()))
}

/// The compatible sidecar's columns for one batch of records, given the SHA-256 of each
/// record's signed bytes and its armored signature: the identity columns are the batch's
/// own arrays, shared, not copied row by row.
pub(crate) fn compatible_columns(
    batch: &oembeddings::Batch,
    record_hashes: &[[u8; 32]],
    record_signatures: &[Vec<u8>],
) -> Vec<ArrayRef> {
    let mut hashes = StringBuilder::with_capacity(record_hashes.len(), 64 * record_hashes.len());
    for h in record_hashes {
        hashes.append_value(hex(h));
    }
    vec![
        Arc::new(batch.providers().clone()),
        Arc::new(batch.depiction_ids().clone()),
        Arc::new(batch.models().clone()),
        Arc::new(hashes.finish()),
        // Signatures are text (armored OpenPGP or PEM), as the column's type says.
        Arc::new(StringArray::from_iter_values(
            record_signatures.iter().map(|s| String::from_utf8_lossy(s)),
        )),
    ]
}

/// A writer of native-profile sidecars.
pub(crate) fn native_writer(path: &Path) -> Result<SidecarWriter, SignError> {
    SidecarWriter::create(path, native_schema(), Vec::new())
}

/// The native sidecar's columns for one batch of records, whose first record is at `row`:
/// the identity columns are the batch's own arrays, shared, not copied row by row.
pub(crate) fn native_columns(
    row: u64,
    batch: &oembeddings::Batch,
    digests: &[RecordDigest],
    signatures: &[Signatures],
) -> Vec<ArrayRef> {
    let rows = UInt64Array::from_iter_values(row..row + batch.num_rows() as u64);
    let mut digest = FixedSizeBinaryBuilder::with_capacity(digests.len(), 32);
    for d in digests {
        // The builder was made for 32 bytes and a digest is 32 bytes.
        let _ = digest.append_value(d);
    }
    let mut signature = BinaryBuilder::with_capacity(
        digests.len(),
        signatures.iter().map(Signatures::byte_len).sum(),
    );
    for s in signatures.iter().flat_map(Signatures::iter) {
        signature.append_value(s);
    }
    vec![
        Arc::new(rows),
        Arc::new(batch.providers().clone()),
        Arc::new(batch.depiction_ids().clone()),
        Arc::new(batch.models().clone()),
        Arc::new(digest.finish()),
        Arc::new(signature.finish()),
    ]
}

/// Streams the rows of a sidecar, a batch at a time.
pub(crate) struct SidecarReader<R> {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
    decode: fn(&Path, &RecordBatch) -> Result<Vec<R>, SignError>,
    /// Whether a decoder's panic left `inner` unusable.
    failed: bool,
}

impl<R> Iterator for SidecarReader<R> {
    type Item = Result<Vec<R>, SignError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let batch = match contain(|| self.inner.next()) {
            Ok(next) => match next? {
                Ok(b) => b,
                Err(e) => return Some(Err(SignError::sidecar(&self.path, e.to_string()))),
            },
            // The reader is left unusable by a decoder's panic: the sidecar is corrupt.
            Err(panic) => {
                self.failed = true;
                return Some(Err(SignError::sidecar(&self.path, panic.to_string())));
            }
        };
        Some((self.decode)(&self.path, &batch))
    }
}

/// A sidecar opened for a Parquet decoder: a regular file whose footer passed the
/// structural check, its pages guarded ([`GuardedFile`]).
fn guarded(path: &Path) -> Result<GuardedFile, SignError> {
    GuardedFile::open(path).map_err(|e| match e {
        ReadError::Io { source, .. } => SignError::Io {
            path: path.to_path_buf(),
            source,
        },
        ReadError::Footer { source, .. } => {
            SignError::sidecar(path, format!("not a readable Parquet file: {source}"))
        }
        other => SignError::sidecar(path, other.to_string()),
    })
}

fn open(path: &Path) -> Result<ParquetRecordBatchReader, SignError> {
    let file = guarded(path)?;
    contain(|| {
        ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(BATCH).build())
    })
    .map_err(|panic| SignError::sidecar(path, panic.to_string()))?
    .map_err(|e| SignError::sidecar(path, format!("not a readable Parquet file: {e}")))
}

fn column<'a>(path: &Path, batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, SignError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| SignError::sidecar(path, format!("column '{name}' is missing")))?;
    if column.null_count() > 0 {
        return Err(SignError::sidecar(
            path,
            format!("column '{name}' holds nulls"),
        ));
    }
    Ok(column)
}

fn strings(path: &Path, batch: &RecordBatch, name: &str) -> Result<Vec<String>, SignError> {
    let c = column(path, batch, name)?;
    let utf8 = arrow_cast::cast(c, &DataType::Utf8)
        .map_err(|_| SignError::sidecar(path, format!("column '{name}' is not text")))?;
    let s = utf8.as_string::<i32>();
    Ok((0..s.len()).map(|i| s.value(i).to_owned()).collect())
}

/// The profile of a sidecar, from its columns: `compatible` (`record_hash`) or `native`
/// (`digest`).
pub fn profile_of(path: &Path) -> Result<&'static str, SignError> {
    let file = guarded(path)?;
    let builder = contain(|| ParquetRecordBatchReaderBuilder::try_new(file))
        .map_err(|panic| SignError::sidecar(path, panic.to_string()))?
        .map_err(|e| SignError::sidecar(path, format!("not a readable Parquet file: {e}")))?;
    let schema = builder.schema();
    if schema.field_with_name("record_hash").is_ok() {
        Ok("compatible")
    } else if schema.field_with_name("digest").is_ok() {
        Ok("native")
    } else {
        Err(SignError::sidecar(
            path,
            "neither record_hash (compatible profile) nor digest (native profile) columns",
        ))
    }
}

/// Reads a compatible-profile sidecar: its five columns as the bytes they store, a row group
/// at a time. (Arrow would check the text columns as UTF-8; go-embeddingsdb's first X.509
/// signer stored raw signature bytes in its string column `record_signature`.)
pub(crate) fn read_compatible(path: &Path) -> Result<CompatibleReader, SignError> {
    let unreadable = |e: parquet::errors::ParquetError| {
        SignError::sidecar(path, format!("not a readable Parquet file: {e}"))
    };
    let file = guarded(path)?;
    let reader = contain(|| SerializedFileReader::new(file))
        .map_err(|panic| SignError::sidecar(path, panic.to_string()))?
        .map_err(unreadable)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let mut columns = [0usize; 5];
    for (slot, name) in columns.iter_mut().zip(COMPATIBLE_COLUMNS) {
        *slot = (0..schema.num_columns())
            .find(|&i| schema.column(i).path().string() == name)
            .ok_or_else(|| SignError::sidecar(path, format!("column '{name}' is missing")))?;
        let column = schema.column(*slot);
        if column.physical_type() != parquet::basic::Type::BYTE_ARRAY || column.max_rep_level() != 0
        {
            return Err(SignError::sidecar(
                path,
                format!("column '{name}' is not a string column"),
            ));
        }
    }
    Ok(CompatibleReader {
        path: path.to_path_buf(),
        reader,
        columns,
        row_group: 0,
    })
}

/// The columns of a compatible sidecar, in [`CompatibleRow`]'s order.
const COMPATIBLE_COLUMNS: [&str; 5] = [
    "provider",
    "depiction_id",
    "model",
    "record_hash",
    "record_signature",
];

/// Streams the rows of a compatible sidecar, a row group at a time.
pub(crate) struct CompatibleReader {
    path: PathBuf,
    reader: SerializedFileReader<GuardedFile>,
    columns: [usize; 5],
    row_group: usize,
}

impl CompatibleReader {
    /// The rows of row group `i`.
    fn read_row_group(&self, i: usize) -> Result<Vec<CompatibleRow>, SignError> {
        let path = &self.path;
        let bad = |e: parquet::errors::ParquetError| SignError::sidecar(path, e.to_string());
        let group = self.reader.get_row_group(i).map_err(bad)?;
        let rows = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        let mut values: Vec<Vec<Vec<u8>>> = Vec::with_capacity(5);
        for (&index, name) in self.columns.iter().zip(COMPATIBLE_COLUMNS) {
            let mut reader = get_typed_column_reader::<ByteArrayType>(
                group.get_column_reader(index).map_err(bad)?,
            );
            let mut column = Vec::with_capacity(rows);
            let mut defs = Vec::new();
            let mut bytes = Vec::new();
            loop {
                defs.clear();
                bytes.clear();
                let (records, _, levels) = reader
                    .read_records(BATCH, Some(&mut defs), None, &mut bytes)
                    .map_err(bad)?;
                if records == 0 {
                    break;
                }
                // A required column has a value per record; an optional one may have fewer.
                if bytes.len() != records || levels < records {
                    return Err(SignError::sidecar(
                        path,
                        format!("column '{name}' holds nulls"),
                    ));
                }
                column.extend(bytes.iter().map(|b| b.data().to_vec()));
            }
            if column.len() != rows {
                return Err(SignError::sidecar(
                    path,
                    format!(
                        "column '{name}' has {} values for {rows} rows",
                        column.len()
                    ),
                ));
            }
            values.push(column);
        }
        let text = |column: Vec<Vec<u8>>, name: &str| -> Result<Vec<String>, SignError> {
            column
                .into_iter()
                .map(|b| {
                    String::from_utf8(b).map_err(|_| {
                        SignError::sidecar(path, format!("column '{name}' is not UTF-8 text"))
                    })
                })
                .collect()
        };
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or_default();
        let (p, d, m, h, s) = (next(), next(), next(), next(), next());
        let rows = text(p, "provider")?
            .into_iter()
            .zip(text(d, "depiction_id")?)
            .zip(text(m, "model")?)
            .zip(text(h, "record_hash")?)
            .zip(s)
            .map(
                |((((provider, depiction_id), model), record_hash), record_signature)| {
                    CompatibleRow {
                        provider,
                        depiction_id,
                        model,
                        record_hash,
                        record_signature,
                    }
                },
            )
            .collect();
        Ok(rows)
    }
}

impl Iterator for CompatibleReader {
    type Item = Result<Vec<CompatibleRow>, SignError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.row_group >= self.reader.num_row_groups() {
            return None;
        }
        self.row_group += 1;
        // A decoder's panic on corrupt pages ends the reading with an error.
        Some(
            contain(|| self.read_row_group(self.row_group - 1)).unwrap_or_else(|panic| {
                self.row_group = usize::MAX;
                Err(SignError::sidecar(&self.path, panic.to_string()))
            }),
        )
    }
}

/// Reads a native-profile sidecar.
pub(crate) fn read_native(path: &Path) -> Result<SidecarReader<NativeRow>, SignError> {
    Ok(SidecarReader {
        path: path.to_path_buf(),
        inner: open(path)?,
        failed: false,
        decode: |path, batch| {
            let rows = column(path, batch, "row")?
                .as_primitive_opt::<UInt64Type>()
                .ok_or_else(|| SignError::sidecar(path, "column 'row' is not uint64"))?;
            let digests = column(path, batch, "digest")?
                .as_fixed_size_binary_opt()
                .filter(|d| d.value_length() == 32)
                .ok_or_else(|| SignError::sidecar(path, "column 'digest' is not 32-byte binary"))?;
            let signatures = column(path, batch, "signature")?
                .as_binary_opt::<i32>()
                .ok_or_else(|| SignError::sidecar(path, "column 'signature' is not binary"))?;
            let provider = strings(path, batch, "provider")?;
            let depiction_id = strings(path, batch, "depiction_id")?;
            let model = strings(path, batch, "model")?;
            let mut out = Vec::with_capacity(batch.num_rows());
            for (i, ((provider, depiction_id), model)) in provider
                .into_iter()
                .zip(depiction_id)
                .zip(model)
                .enumerate()
            {
                let mut digest = [0u8; 32];
                digest.copy_from_slice(digests.value(i));
                out.push(NativeRow {
                    row: rows.value(i),
                    provider,
                    depiction_id,
                    model,
                    digest,
                    signature: signatures.value(i).to_vec(),
                });
            }
            Ok(out)
        },
    })
}
