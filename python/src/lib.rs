//! `oembeddings._native`: the Rust side of the Python package. A thin layer: each function
//! converts its arguments, releases the GIL, calls the library crates, and returns plain
//! data (JSON text that `oembeddings/__init__.py` turns into typed objects, or Arrow data
//! through the PyCapsule interface). Errors become the exception classes below.

mod arrow;
mod files;
mod signing;

use oembeddings::error::one_line;
use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    OEmbeddingsError,
    pyo3::exceptions::PyException,
    "Base class of every oembeddings error."
);
pyo3::create_exception!(
    _native,
    FormatError,
    OEmbeddingsError,
    "A file or Arrow stream that cannot be read, written or converted."
);
pyo3::create_exception!(
    _native,
    ValidationError,
    OEmbeddingsError,
    "Records that break the specification or a target's rules."
);
pyo3::create_exception!(
    _native,
    SignatureError,
    OEmbeddingsError,
    "Keys that cannot be loaded or used, and signing failures."
);

/// An error of the given class with the error's one-line message.
pub(crate) fn format_error(e: impl std::fmt::Display) -> PyErr {
    FormatError::new_err(one_line(&e.to_string()))
}

/// A validation error with the error's one-line message.
pub(crate) fn validation_error(e: impl std::fmt::Display) -> PyErr {
    ValidationError::new_err(one_line(&e.to_string()))
}

/// A signature error with the error's one-line message.
pub(crate) fn signature_error(e: impl std::fmt::Display) -> PyErr {
    SignatureError::new_err(one_line(&e.to_string()))
}

/// `value` as one of a library enum's names (a format, a profile); a `ValueError` naming the
/// keyword and the accepted names otherwise.
pub(crate) fn named<T>(keyword: &str, value: &str) -> PyResult<T>
where
    T: std::str::FromStr<Err = oembeddings::error::UnknownName>,
{
    value
        .parse()
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("{keyword}: {e}")))
}

/// Serialises a result for the Python layer.
pub(crate) fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(format_error)
}

/// Runs the `oembeddings` command line in this process; returns its exit code.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| oembeddings_cli::run(argv))
}

/// The Rust side of the `oembeddings` Python package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("OEmbeddingsError", py.get_type::<OEmbeddingsError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("SignatureError", py.get_type::<SignatureError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    files::register(m)?;
    signing::register(m)?;
    arrow::register(m)?;
    Ok(())
}
