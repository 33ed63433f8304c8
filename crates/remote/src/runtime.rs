//! The one async runtime remote reads run on, beside the caller's threads.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::RemoteError;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime, started on first use: two workers, enough for a request in flight and one
/// read ahead on the machines this runs on.
pub(crate) fn get(location: &str) -> Result<&'static Runtime, RemoteError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("oembeddings-remote")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| RemoteError::Config {
            location: location.to_owned(),
            reason: format!("cannot start the network runtime: {e}"),
        })
}

/// Runs `future` to completion from a thread outside the runtime.
pub(crate) fn block_on<F: Future>(runtime: &Runtime, future: F) -> F::Output {
    runtime.block_on(future)
}
