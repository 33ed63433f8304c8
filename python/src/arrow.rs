//! Arrow in and out through the PyCapsule interface: streaming reads and writes, and the
//! batch-level functions distributed engines call per partition.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, FixedSizeBinaryBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType};
use oembeddings::read::ReadOptions;
use oembeddings::{ArrowNormalizer, Batch, ParquetSource, VectorOutput, WriteOptions, Writer};
use oembeddings_sign::digest::{self, SIGNED_MESSAGE_LEN, signed_message};
use oembeddings_validate::DEFAULT_MAX_FINDINGS_PER_RULE;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::{PyArray, PyRecordBatchReader};

use crate::signing::{public_key, secret_key};
use crate::{format_error, named, signature_error, to_json, validation_error};

/// Our reader as an Arrow `RecordBatchReader` of canonical batches.
struct CanonicalReader {
    reader: oembeddings::Reader,
}

impl Iterator for CanonicalReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next().map(|r| {
            r.map(|b| b.record_batch().clone())
                .map_err(|e| ArrowError::ExternalError(Box::new(e)))
        })
    }
}

impl RecordBatchReader for CanonicalReader {
    fn schema(&self) -> arrow_schema::SchemaRef {
        oembeddings::canonical_schema()
    }
}

/// Opens a records file as a stream of canonical Arrow batches (`__arrow_c_stream__`).
#[pyfunction]
#[pyo3(signature = (path, *, batch_size = None))]
fn read(py: Python<'_>, path: PathBuf, batch_size: Option<usize>) -> PyResult<PyRecordBatchReader> {
    let reader = py
        .detach(|| {
            let mut options = ReadOptions::default();
            if let Some(n) = batch_size {
                options = options.with_batch_size(n.max(1));
            }
            ParquetSource::open(&path).and_then(|s| s.records(&options))
        })
        .map_err(format_error)?;
    Ok(PyRecordBatchReader::new(Box::new(CanonicalReader {
        reader,
    })))
}

/// Canonical batches of any Arrow data in an accepted layout.
fn canonical(data: AnyRecordBatch) -> PyResult<impl Iterator<Item = PyResult<Batch>>> {
    let reader = data.into_reader()?;
    let mut normalizer = ArrowNormalizer::new(&reader.schema()).map_err(format_error)?;
    Ok(reader.map(move |batch| {
        let batch = batch.map_err(format_error)?;
        normalizer.normalize(&batch).map_err(validation_error)
    }))
}

/// Writes any Arrow data (`__arrow_c_stream__` or `__arrow_c_array__`) in an accepted layout
/// as a records file; returns the write summary as JSON.
#[pyfunction]
#[pyo3(signature = (path, data, *, vector_layout = "go", statistics = true))]
fn write(
    py: Python<'_>,
    path: PathBuf,
    data: AnyRecordBatch,
    vector_layout: &str,
    statistics: bool,
) -> PyResult<String> {
    let vectors = named::<VectorOutput>("vector_layout", vector_layout)?;
    let reader = data.into_reader()?;
    let mut normalizer = ArrowNormalizer::new(&reader.schema()).map_err(format_error)?;
    let summary = py.detach(|| -> PyResult<_> {
        let options = WriteOptions::default()
            .with_vectors(vectors)
            .with_statistics(statistics);
        let mut writer = Writer::create(&path, options).map_err(format_error)?;
        for batch in reader {
            let batch = batch.map_err(format_error)?;
            let batch = normalizer.normalize(&batch).map_err(validation_error)?;
            writer.write(&batch).map_err(format_error)?;
        }
        writer.finish().map_err(format_error)
    })?;
    // float64 vectors are stored as float32; say so when that changed values, as the CLI does.
    let narrowing = normalizer.narrowing();
    if narrowing.values > 0 {
        let message = format!("{}: {narrowing}", path.display());
        let message = std::ffi::CString::new(message).map_err(format_error)?;
        let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
        // Stack level 2: the caller of `oembeddings.write`, past its Python wrapper.
        PyErr::warn(py, &category, &message, 2)?;
    }
    to_json(&summary)
}

/// The message each record's native-profile signature signs.
fn signed_messages(batch: &Batch) -> Vec<[u8; 64]> {
    digest::record_digests(batch.records())
        .iter()
        .map(signed_message)
        .collect()
}

/// The native-profile digest of every record: a `fixed_size_binary(32)` array.
#[pyfunction]
fn record_digests(py: Python<'_>, batch: AnyRecordBatch) -> PyResult<PyArray> {
    let batches = canonical(batch)?;
    let array = py.detach(|| -> PyResult<_> {
        let mut out = FixedSizeBinaryBuilder::new(32);
        for batch in batches {
            for record_digest in digest::record_digests(batch?.records()) {
                out.append_value(record_digest).map_err(format_error)?;
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
) -> PyResult<PyArray> {
    let key = secret_key(&key, password, fingerprint)?;
    let batches = canonical(batch)?;
    let array = py.detach(|| -> PyResult<_> {
        let mut out = BinaryBuilder::new();
        for batch in batches {
            let messages = signed_messages(&batch?);
            let refs: Vec<&[u8]> = messages.iter().map(|m| &m[..SIGNED_MESSAGE_LEN]).collect();
            for signature in key.sign_record_messages(&refs).map_err(signature_error)? {
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
) -> PyResult<PyArray> {
    let key = public_key(&key, fingerprint)?;
    let (signatures, _) = signatures.into_inner();
    let signatures = arrow_cast::cast(&signatures, &DataType::LargeBinary).map_err(|e| {
        format_error(format!(
            "signatures must be a binary array ({}): {e}",
            signatures.data_type()
        ))
    })?;
    let batches = canonical(batch)?;
    let array = py.detach(|| -> PyResult<_> {
        let signatures = signatures.as_binary::<i64>();
        let mut out = BooleanBuilder::new();
        let mut next = 0usize;
        for batch in batches {
            let messages = signed_messages(&batch?);
            if next + messages.len() > signatures.len() {
                return Err(validation_error(format!(
                    "{} signatures for at least {} records",
                    signatures.len(),
                    next + messages.len()
                )));
            }
            let items: Vec<(&[u8], &[u8])> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let s = if signatures.is_null(next + i) {
                        &[][..]
                    } else {
                        signatures.value(next + i)
                    };
                    (&m[..SIGNED_MESSAGE_LEN], s)
                })
                .collect();
            // A missing (null or empty) signature fails like an invalid one: fail closed.
            out.append_slice(&key.verify_record_messages(&items));
            next += messages.len();
        }
        if next != signatures.len() {
            return Err(validation_error(format!(
                "{} signatures for {next} records",
                signatures.len()
            )));
        }
        Ok(out.finish())
    })?;
    Ok(PyArray::from_array_ref(Arc::new(array)))
}

/// The record rules over Arrow data (no file rules); returns a report as JSON.
#[pyfunction]
#[pyo3(signature = (
    batch, *, name = "<batch>", max_findings_per_rule = Some(DEFAULT_MAX_FINDINGS_PER_RULE)
))]
fn validate_batch(
    py: Python<'_>,
    batch: AnyRecordBatch,
    name: &str,
    max_findings_per_rule: Option<usize>,
) -> PyResult<String> {
    let options =
        oembeddings_validate::Options::default().with_max_findings_per_rule(max_findings_per_rule);
    let batches = canonical(batch)?;
    let report = py.detach(|| -> PyResult<_> {
        let mut validator = oembeddings_validate::BatchValidator::new(&options);
        for batch in batches {
            validator.check(&batch?);
        }
        Ok(validator.finish(name))
    })?;
    to_json(&report)
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
