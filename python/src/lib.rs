//! `oembeddings._native`: the Rust side of the Python package. A thin layer: each function
//! converts its arguments, releases the GIL, calls the library crates, and returns typed
//! results (the frozen classes of [`results`], built from the library's own types), plain
//! data where Python sees a dict, or Arrow data through the PyCapsule interface. Errors
//! become Python exceptions by variant, in one place ([`errors`]); messages name Python's
//! arguments, not the command line's options ([`wording`]).

mod arrow;
mod errors;
mod files;
mod remote;
mod results;
mod signing;
mod wording;

use pyo3::prelude::*;

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

/// Runs the `oembeddings` command line in this process; returns its exit code.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| oembeddings_cli::run(argv))
}

/// The Rust side of the `oembeddings` Python package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    results::register(m)?;
    files::register(m)?;
    signing::register(m)?;
    arrow::register(m)?;
    Ok(())
}
