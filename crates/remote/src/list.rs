//! The files under a remote prefix (a release directory): S3, GCS and Azure list them, the Hub's
//! tree API lists them at one commit, plain HTTP cannot.

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use crate::location::{HubRepo, Location};
use crate::store::{self, Options};
use crate::{RemoteError, hub, runtime};

/// What is under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// The prefix files are named under, `{base}/{relative}`: for the Hub, pinned to the
    /// commit the revision resolved to, so that every file is read at the commit listed.
    pub base: String,
    /// The files under it (relative, `/`-separated, sorted) with their sizes; `None` where
    /// the store cannot list (plain HTTP).
    pub files: Option<Vec<(String, u64)>>,
}

/// Lists the files under `location` (see [`Location::parse_prefix`]).
pub fn list(location: &Location, options: &Options) -> Result<Listing, RemoteError> {
    let text = location.to_string();
    match location {
        Location::Local(_) => Err(RemoteError::Config {
            location: text,
            reason: "a local path is not a remote prefix".to_owned(),
        }),
        Location::Http(url) => Ok(Listing {
            base: url.as_str().trim_end_matches('/').to_owned(),
            files: None,
        }),
        Location::S3 { bucket, key } => {
            list_store(location, &format!("s3://{bucket}"), key, options)
        }
        Location::Azure { store, path } => list_store(location, store, path, options),
        Location::Gcs { bucket, path } => {
            list_store(location, &format!("gs://{bucket}"), path, options)
        }
        Location::Hub(repo) => {
            let endpoint = hub::endpoint();
            let commit = hub::revision_commit(&text, &endpoint, repo, options.timeout)?;
            let files = hub::tree(&text, &endpoint, repo, &commit, options.timeout)?;
            let pinned = HubRepo {
                revision: commit,
                ..repo.clone()
            };
            Ok(Listing {
                base: Location::Hub(pinned)
                    .to_string()
                    .trim_end_matches('/')
                    .to_owned(),
                files: Some(files),
            })
        }
    }
}

/// The files under `key` in the bucket or container of `location`, whose URL is `root`.
fn list_store(
    location: &Location,
    root: &str,
    key: &str,
    options: &Options,
) -> Result<Listing, RemoteError> {
    let text = location.to_string();
    let key = key.trim_end_matches('/');
    let base = if key.is_empty() {
        root.to_owned()
    } else {
        format!("{root}/{key}")
    };
    let opened = store::open_prefix(location, options)?;
    let prefix = ObjectPath::parse(key).map_err(|e| RemoteError::Config {
        location: text.clone(),
        reason: format!("the prefix cannot be read: {e}"),
    })?;
    let runtime = runtime::get(&text)?;
    let listed = runtime::block_on(runtime, async {
        use futures_util::TryStreamExt;
        opened
            .list(Some(&prefix))
            .map_ok(|meta| (meta.location, meta.size))
            .try_collect::<Vec<_>>()
            .await
    })
    .map_err(|e| RemoteError::Request {
        location: text.clone(),
        cause: crate::error::one_line(&e),
    })?;
    let mut files: Vec<(String, u64)> = listed
        .into_iter()
        .filter_map(|(path, size)| {
            let full = path.as_ref();
            let relative = if prefix.as_ref().is_empty() {
                Some(full)
            } else {
                full.strip_prefix(prefix.as_ref())
                    .and_then(|r| r.strip_prefix('/'))
            };
            relative.map(|r| (r.to_owned(), size))
        })
        .collect();
    files.sort();
    Ok(Listing {
        base,
        files: Some(files),
    })
}
