//! Remote locations from Python: each call is one run (a remote object is opened once and
//! read at one version), and `storage_options` configure the store as pyarrow, polars and
//! deltalake take them.

use std::collections::BTreeMap;
use std::path::Path;

use oembeddings::blob::{self, RemoteOptions, Run};

/// Starts the run of one call. With `storage_options`, the stores of `locations` (the
/// call's files and outputs: their bucket or host, so the signatures beside a file too) are
/// reached with them.
pub(crate) fn run(storage_options: Option<BTreeMap<String, String>>, locations: &[&Path]) -> Run {
    match storage_options {
        Some(settings) => blob::run_with(
            settings
                .into_iter()
                .fold(RemoteOptions::default(), |options, (key, value)| {
                    options.with_storage_option(key, value)
                }),
            locations,
        ),
        None => blob::run(),
    }
}
