//! Remote locations from Python: each call is one run (a remote object is opened once and
//! read at one version), and `storage_options` configure the store as pyarrow, polars and
//! deltalake take them.

use std::collections::BTreeMap;

use oembeddings::blob::{self, RemoteOptions, Run};

/// Starts the run of one call. With `storage_options`, every remote location the call
/// reaches (the file, the signatures beside it, an output) is reached with them.
pub(crate) fn run(storage_options: Option<BTreeMap<String, String>>) -> Run {
    match storage_options {
        Some(settings) => blob::run_with(
            settings
                .into_iter()
                .fold(RemoteOptions::default(), |options, (key, value)| {
                    options.with_storage_option(key, value)
                }),
        ),
        None => blob::run(),
    }
}
