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
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
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
    /// ASCII-armored OpenPGP detached signature over those bytes.
    pub record_signature: String,
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
    fn create(path: &Path, schema: SchemaRef) -> Result<Self, SignError> {
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

/// A writer of compatible-profile sidecars.
pub(crate) fn compatible_writer(path: &Path) -> Result<SidecarWriter, SignError> {
    SidecarWriter::create(path, compatible_schema())
}

/// The compatible sidecar's columns for one batch of records, given the SHA-256 of each
/// record's signed bytes and its armored signature: the identity columns are the batch's
/// own arrays, shared, not copied row by row.
pub(crate) fn compatible_columns(
    batch: &oembeddings::Batch,
    record_hashes: &[[u8; 32]],
    record_signatures: &[String],
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
        Arc::new(StringArray::from_iter_values(record_signatures)),
    ]
}

/// A writer of native-profile sidecars.
pub(crate) fn native_writer(path: &Path) -> Result<SidecarWriter, SignError> {
    SidecarWriter::create(path, native_schema())
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

fn open(path: &Path) -> Result<ParquetRecordBatchReader, SignError> {
    let file = File::open(path).map_err(|source| SignError::Io {
        path: path.to_path_buf(),
        source,
    })?;
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
    let file = File::open(path).map_err(SignError::io(path))?;
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

/// Reads a compatible-profile sidecar.
pub(crate) fn read_compatible(path: &Path) -> Result<SidecarReader<CompatibleRow>, SignError> {
    Ok(SidecarReader {
        path: path.to_path_buf(),
        inner: open(path)?,
        failed: false,
        decode: |path, batch| {
            let cols: Vec<Vec<String>> = [
                "provider",
                "depiction_id",
                "model",
                "record_hash",
                "record_signature",
            ]
            .iter()
            .map(|n| strings(path, batch, n))
            .collect::<Result<_, _>>()?;
            let mut cols = cols.into_iter();
            let mut next = || cols.next().unwrap_or_default().into_iter();
            let (p, d, m, h, s) = (next(), next(), next(), next(), next());
            Ok(p.zip(d)
                .zip(m)
                .zip(h)
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
                .collect())
        },
    })
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
