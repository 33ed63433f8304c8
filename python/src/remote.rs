//! Remote locations from Python: each call is one run (a remote object is opened once and
//! read at one version), and `storage_options` configure the store as pyarrow, polars and
//! deltalake take them.

use std::collections::BTreeMap;
use std::path::Path;

use oembeddings::blob::{self, RemoteOptions, Run};
use pyo3::Python;

/// Starts the run of one call: the stores of `locations` (the call's files and outputs:
/// their bucket or host, so the signatures beside a file too) are reached with
/// `storage_options`, or with none, whatever other threads' calls gave (see
/// [`blob::run_with`]).
///
/// Waiting for another thread's call happens without the GIL, which that call may need to
/// finish.
pub(crate) fn run(
    py: Python<'_>,
    storage_options: Option<BTreeMap<String, String>>,
    locations: &[&Path],
) -> Run {
    let options = storage_options
        .into_iter()
        .flatten()
        .fold(RemoteOptions::default(), |options, (key, value)| {
            options.with_storage_option(key, value)
        });
    py.detach(|| blob::run_with(options, locations))
}
