//! Writing a finished local file to S3, GCS or Azure as one multipart upload (Azure: blocks, then
//! one block list): nothing is visible under the key until the upload completes, and a
//! failed one is aborted.

use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use object_store::ObjectStoreExt;

use crate::location::Location;
use crate::store::{self, Options};
use crate::{RemoteError, runtime};

/// Bytes per part: S3 wants at least 5 MiB for every part but the last.
const PART: usize = 8 << 20;

/// Uploads the local file `from` to `to` (an `s3://`, `gs://` or Azure location); returns the bytes
/// sent.
pub fn upload(from: &Path, to: &Location, options: &Options) -> Result<u64, RemoteError> {
    let text = to.to_string();
    if !matches!(
        to,
        Location::S3 { .. } | Location::Gcs { .. } | Location::Azure { .. }
    ) {
        return Err(RemoteError::Location {
            location: text,
            reason:
                "only s3://, gs:// and az:// locations are written (https:// and hf:// are read \
                     only)"
                    .to_owned(),
        });
    }
    // Nothing is written to GCS without credentials (object_store would ask for a token at
    // an instance metadata server, which is not there off Google Cloud).
    if matches!(to, Location::Gcs { .. }) && !store::google_credentials_given(options) {
        return Err(RemoteError::Config {
            location: text,
            reason: "writing to Google Cloud Storage needs credentials: set \
                     GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT (a key file), or \
                     GOOGLE_BEARER_TOKEN (for example from `gcloud auth print-access-token`)"
                .to_owned(),
        });
    }
    let opened = store::open(to, options)?;
    let runtime = runtime::get(&text)?;
    let request = |e: object_store::Error| RemoteError::Request {
        location: text.clone(),
        cause: crate::error::one_line(&e),
    };
    let local = |e: std::io::Error| RemoteError::Request {
        location: text.clone(),
        cause: format!("{}: {e}", from.display()),
    };
    let mut file = std::fs::File::open(from).map_err(local)?;
    runtime::block_on(runtime, async {
        let mut upload = opened
            .store
            .put_multipart(&opened.path)
            .await
            .map_err(request)?;
        let mut sent = 0u64;
        let result: Result<(), RemoteError> = async {
            loop {
                let mut part = Vec::with_capacity(PART);
                (&mut file)
                    .take(PART as u64)
                    .read_to_end(&mut part)
                    .map_err(local)?;
                if part.is_empty() && sent > 0 {
                    return Ok(());
                }
                let last = part.len() < PART;
                sent += part.len() as u64;
                upload
                    .put_part(Bytes::from(part).into())
                    .await
                    .map_err(request)?;
                if last {
                    return Ok(());
                }
            }
        }
        .await;
        match result {
            Ok(()) => {
                upload.complete().await.map_err(request)?;
                Ok(sent)
            }
            Err(e) => {
                // Nothing may stay half uploaded; the first error is the one to report.
                let _ = upload.abort().await;
                Err(e)
            }
        }
    })
}
