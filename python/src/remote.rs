//! Remote locations from Python: each call is one run (a remote object is opened once and
//! read at one version), and `storage_options` configure the store as pyarrow, polars and
//! deltalake take them.

use std::collections::BTreeMap;
use std::path::Path;

use oembeddings::blob::{self, Blob, RemoteOptions, Run};
use pyo3::Python;

use crate::errors::Error;

/// Starts the run of one call; opens `path` first with `storage_options` when it is a URL
/// and options are given, so that every later open in the call shares that object.
/// The first request is sent with the GIL released, as every other.
pub(crate) fn run(
    py: Python<'_>,
    path: &Path,
    storage_options: Option<BTreeMap<String, String>>,
) -> Result<Run, Error> {
    let run = blob::run();
    if let Some(settings) = storage_options
        && blob::is_remote(path)
    {
        let options = settings
            .into_iter()
            .fold(RemoteOptions::default(), |options, (key, value)| {
                options.with_storage_option(key, value)
            });
        py.detach(|| Blob::open_with(path, &options))
            .map_err(|source| {
                Error::from(oembeddings::read::ReadError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
    }
    Ok(run)
}
