//! Arrow in and out through the PyCapsule interface: streaming reads and writes, and the
//! batch-level functions distributed engines call per partition.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, FixedSizeBinaryBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType};
use oembeddings::read::ReadOptions;
use oembeddings::write::{FixedSizeError, fixed_schema, fixed_size_batch};
use oembeddings::{ArrowNormalizer, Batch, ParquetSource, VectorOutput, WriteOptions, Writer};
use oembeddings_sign::batch::{sign_digests, verify_digests};
use oembeddings_sign::digest::{self, RecordDigest};
use oembeddings_validate::DEFAULT_MAX_FINDINGS_PER_RULE;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::{PyArray, PyRecordBatchReader};

use crate::errors::Error;
use crate::named;
use crate::results::{PlainData, ValidationReport};
use crate::signing::{public_key, secret_key};

/// Our reader as an Arrow `RecordBatchReader` of canonical batches, or of batches with
/// FixedSizeList vectors of one dimension (the first record's).
struct CanonicalReader {
    reader: oembeddings::Reader,
    /// The first batch, read ahead to learn the dimension of fixed-size output.
    first: Option<Batch>,
    fixed: Option<usize>,
    path: PathBuf,
}

impl Iterator for CanonicalReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.first.take() {
            Some(batch) => batch,
            None => match self.reader.next()? {
                Ok(batch) => batch,
                Err(e) => return Some(Err(ArrowError::ExternalError(Box::new(e)))),
            },
        };
        Some(match self.fixed {
            None => Ok(batch.record_batch().clone()),
            Some(dimensions) => fixed_size_batch(&batch, dimensions).map_err(|e| match e {
                FixedSizeError::MixedDimensions { row } => {
                    ArrowError::InvalidArgumentError(format!(
                        "{}: record {}: vector has {} dimensions but vector_layout=\"fixed\" \
                         needs all to have {dimensions} (the first record's)",
                        self.path.display(),
                        batch.record(row).key(),
                        batch.vector(row).len()
                    ))
                }
                other => ArrowError::ExternalError(Box::new(other)),
            }),
        })
    }
}

impl RecordBatchReader for CanonicalReader {
    fn schema(&self) -> arrow_schema::SchemaRef {
        match self.fixed {
            None => oembeddings::canonical_schema(),
            Some(dimensions) => fixed_schema(dimensions),
        }
    }
}

/// Opens a records file as a stream of canonical Arrow batches (`__arrow_c_stream__`); with
/// `vector_layout="fixed"`, vectors are a FixedSizeList (LanceDB, Daft and `datasets` see
/// vectors they can search).
#[pyfunction]
#[pyo3(signature = (path, *, batch_size = None, vector_layout = "go", storage_options = None))]
fn read(
    py: Python<'_>,
    path: PathBuf,
    batch_size: Option<usize>,
    vector_layout: &str,
    storage_options: Option<std::collections::BTreeMap<String, String>>,
) -> Result<PyRecordBatchReader, Error> {
    let _run = crate::remote::run(py, storage_options, &[&path]);
    let vectors = named::<VectorOutput>("vector_layout", vector_layout)?;
    let mut reader = py.detach(|| {
        let mut options = ReadOptions::default();
        if let Some(n) = batch_size {
            options = options.with_batch_size(n.max(1));
        }
        ParquetSource::open(&path).and_then(|s| s.records(&options))
    })?;
    let (first, fixed) = match vectors {
        VectorOutput::FixedSizeList => {
            let first = py.detach(|| reader.next().transpose())?;
            let dimensions = first
                .as_ref()
                .map_or(0, |b| if b.is_empty() { 0 } else { b.vector(0).len() });
            (first, Some(dimensions))
        }
        _ => (None, None),
    };
    Ok(PyRecordBatchReader::new(Box::new(CanonicalReader {
        reader,
        first,
        fixed,
        path,
    })))
}

/// Canonical batches of any Arrow data in an accepted layout.
fn canonical(data: AnyRecordBatch) -> Result<impl Iterator<Item = Result<Batch, Error>>, Error> {
    let reader = data.into_reader()?;
    let mut normalizer = ArrowNormalizer::new(&reader.schema())?;
    Ok(reader.map(move |batch| Ok(normalizer.normalize(&batch?)?)))
}

/// Writes any Arrow data (`__arrow_c_stream__` or `__arrow_c_array__`) in an accepted layout
/// as a records file; returns the write summary.
#[pyfunction]
#[pyo3(signature = (path, data, *, vector_layout = "go", statistics = true))]
fn write(
    py: Python<'_>,
    path: PathBuf,
    data: AnyRecordBatch,
    vector_layout: &str,
    statistics: bool,
) -> Result<PlainData, Error> {
    let vectors = named::<VectorOutput>("vector_layout", vector_layout)?;
    let reader = data.into_reader()?;
    let mut normalizer = ArrowNormalizer::new(&reader.schema())?;
    let summary = py.detach(|| -> Result<_, Error> {
        let options = WriteOptions::default()
            .with_vectors(vectors)
            .with_statistics(statistics);
        let mut writer = Writer::create(&path, options)?;
        for batch in reader {
            writer.write(&normalizer.normalize(&batch?)?)?;
        }
        Ok(writer.finish()?)
    })?;
    // float64 vectors are stored as float32; say so when that changed values, as the CLI does.
    let narrowing = normalizer.narrowing();
    if narrowing.values > 0 {
        let message = format!("{}: {narrowing}", path.display());
        let message = std::ffi::CString::new(message)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
        // Stack level 2: the caller of `oembeddings.write`, past its Python wrapper.
        PyErr::warn(py, &category, &message, 2)?;
    }
    PlainData::of(&summary)
}

/// The native-profile digest of every record: a `fixed_size_binary(32)` array.
#[pyfunction]
fn record_digests(py: Python<'_>, batch: AnyRecordBatch) -> Result<PyArray, Error> {
    let batches = canonical(batch)?;
    let array = py.detach(|| -> Result<_, Error> {
        let mut out = FixedSizeBinaryBuilder::new(32);
        for batch in batches {
            for record_digest in digest::record_digests(batch?.records()) {
                out.append_value(record_digest)?;
            }
        }
        Ok(out.finish())
    })?;
    Ok(PyArray::from_array_ref(Arc::new(array)))
}

/// Native-profile record signatures (as `oembeddings sign --records` writes them) of every
/// record: a `binary` array.
#[pyfunction]
#[pyo3(signature = (batch, key, *, password = None, fingerprint = None))]
fn sign_batch(
    py: Python<'_>,
    batch: AnyRecordBatch,
    key: PathBuf,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> Result<PyArray, Error> {
    let key = secret_key(&key, password, fingerprint)?;
    let batches = canonical(batch)?;
    let array = py.detach(|| -> Result<_, Error> {
        let mut out = BinaryBuilder::new();
        for batch in batches {
            let digests = digest::record_digests(batch?.records());
            for signature in sign_digests(&key, &digests)? {
                out.append_value(signature);
            }
        }
        Ok(out.finish())
    })?;
    Ok(PyArray::from_array_ref(Arc::new(array)))
}

/// Whether each record's native-profile signature verifies under `key`: a `bool` array.
#[pyfunction]
#[pyo3(signature = (batch, signatures, key, *, fingerprint = None))]
fn verify_batch(
    py: Python<'_>,
    batch: AnyRecordBatch,
    signatures: PyArray,
    key: PathBuf,
    fingerprint: Option<&str>,
) -> Result<PyArray, Error> {
    let key = public_key(&key, fingerprint)?;
    let (signatures, _) = signatures.into_inner();
    let signatures = arrow_cast::cast(&signatures, &DataType::LargeBinary).map_err(|source| {
        Error::SignatureType {
            data_type: signatures.data_type().clone(),
            source,
        }
    })?;
    let batches = canonical(batch)?;
    let array = py.detach(|| -> Result<_, Error> {
        let signatures = signatures.as_binary::<i64>();
        let mut out = BooleanBuilder::new();
        let mut next = 0usize;
        for batch in batches {
            let digests = digest::record_digests(batch?.records());
            if next + digests.len() > signatures.len() {
                return Err(Error::SignatureCount {
                    signatures: signatures.len(),
                    records: next + digests.len(),
                    at_least: true,
                });
            }
            let items: Vec<(RecordDigest, &[u8])> = digests
                .into_iter()
                .enumerate()
                .map(|(i, d)| {
                    let s = if signatures.is_null(next + i) {
                        &[][..]
                    } else {
                        signatures.value(next + i)
                    };
                    (d, s)
                })
                .collect();
            // A missing (null or empty) signature fails like an invalid one: fail closed.
            out.append_slice(&verify_digests(&key, &items));
            next += items.len();
        }
        if next != signatures.len() {
            return Err(Error::SignatureCount {
                signatures: signatures.len(),
                records: next,
                at_least: false,
            });
        }
        Ok(out.finish())
    })?;
    Ok(PyArray::from_array_ref(Arc::new(array)))
}

/// The record rules over Arrow data (no file rules); returns a report.
#[pyfunction]
#[pyo3(signature = (
    batch, *, name = "<batch>", max_findings_per_rule = Some(DEFAULT_MAX_FINDINGS_PER_RULE)
))]
fn validate_batch(
    py: Python<'_>,
    batch: AnyRecordBatch,
    name: &str,
    max_findings_per_rule: Option<usize>,
) -> Result<ValidationReport, Error> {
    let options =
        oembeddings_validate::Options::default().with_max_findings_per_rule(max_findings_per_rule);
    let batches = canonical(batch)?;
    let report = py.detach(|| -> Result<_, Error> {
        let mut validator = oembeddings_validate::BatchValidator::new(&options);
        for batch in batches {
            validator.check(&batch?);
        }
        Ok(validator.finish(name))
    })?;
    ValidationReport::from_report(py, report)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(write, m)?)?;
    m.add_function(wrap_pyfunction!(record_digests, m)?)?;
    m.add_function(wrap_pyfunction!(sign_batch, m)?)?;
    m.add_function(wrap_pyfunction!(verify_batch, m)?)?;
    m.add_function(wrap_pyfunction!(validate_batch, m)?)?;
    Ok(())
}
