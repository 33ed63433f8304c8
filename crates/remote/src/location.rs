//! Where a file is: a local path, or a URL this crate reads.

use std::fmt;
use std::path::PathBuf;

use crate::RemoteError;

/// A repository on the Hugging Face Hub, as `hf://` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubRepo {
    /// `datasets`, `spaces` or `models` (the URL path has no prefix for models).
    pub kind: &'static str,
    /// `ORG/NAME`.
    pub id: String,
    /// The revision asked for (`main` when none is given).
    pub revision: String,
    /// The file's path in the repository.
    pub path: String,
}

impl HubRepo {
    /// The URL path of the file at `revision`: `[datasets/|spaces/]ORG/NAME/resolve/REV/PATH`.
    pub fn resolve_path(&self, revision: &str) -> String {
        let prefix = match self.kind {
            "models" => String::new(),
            kind => format!("{kind}/"),
        };
        let revision = percent_encoding::utf8_percent_encode(revision, QUOTED);
        format!("{prefix}{}/resolve/{revision}/{}", self.id, self.path)
    }
}

/// What Python's `urllib.parse.quote(s, safe="")` leaves as it is, which huggingface_hub
/// writes revisions with: letters, digits and `_.-~`.
const QUOTED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// The length of the Hub's special ref at the start of `revision` (`refs/convert/NAME`,
/// `refs/pr/N`), which keeps its slashes in an `hf://` path (huggingface_hub's
/// `_SPECIAL_REFS_REVISION_REGEX`, `^refs/(?:convert/[\w.-]+|pr/\d+)`).
fn special_ref_len(revision: &str) -> Option<usize> {
    let (head, tail, allowed): (&str, &str, fn(char) -> bool) =
        if let Some(tail) = revision.strip_prefix("refs/convert/") {
            ("refs/convert/", tail, |c| {
                c.is_alphanumeric() || "_.-".contains(c)
            })
        } else if let Some(tail) = revision.strip_prefix("refs/pr/") {
            ("refs/pr/", tail, |c| c.is_ascii_digit())
        } else {
            return None;
        };
    let n: usize = tail
        .chars()
        .take_while(|c| allowed(*c))
        .map(char::len_utf8)
        .sum();
    (n > 0).then_some(head.len() + n)
}

/// Where a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A path on this machine.
    Local(PathBuf),
    /// An `http://` or `https://` URL.
    Http(url::Url),
    /// An object in an S3 bucket (or an S3-compatible store named by `AWS_ENDPOINT_URL`).
    S3 {
        /// The bucket.
        bucket: String,
        /// The object's key.
        key: String,
    },
    /// A file in a Hugging Face Hub repository.
    Hub(HubRepo),
    /// A blob in an Azure Storage container: `az://CONTAINER/PATH` (fsspec's form; also
    /// `abfs[s]://`, `azure://` and `adl://`, the account from `AZURE_STORAGE_ACCOUNT_NAME`),
    /// or `abfs[s]://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH` (the Hadoop driver's).
    Azure {
        /// `SCHEME://CONTAINER[@HOST]`, which names the account and container.
        store: String,
        /// The blob's path in the container.
        path: String,
    },
    /// An object in a Google Cloud Storage bucket: `gs://BUCKET/PATH` (also `gcs://`).
    Gcs {
        /// The bucket.
        bucket: String,
        /// The object's name.
        path: String,
    },
}

/// `BUCKET/KEY` of an S3 or GCS URL: a bucket and, unless `prefix`, a key naming an object
/// (not empty, not ending in `/`).
fn bucket_and_key(rest: &str, prefix: bool) -> Option<(String, String)> {
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let names_object = !key.is_empty() && !key.ends_with('/');
    (!bucket.is_empty() && (prefix || names_object)).then(|| (bucket.to_owned(), key.to_owned()))
}

/// Schemes of Azure Storage, as object_store (after fsspec and Hadoop) names them.
const AZURE: [&str; 5] = ["az", "azure", "adl", "abfs", "abfss"];

impl Location {
    /// Whether `text` is a URL (has a scheme) rather than a path.
    pub fn is_url(text: &str) -> bool {
        text.split_once("://").is_some_and(|(scheme, _)| {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        })
    }

    /// Reads `text` as a location: a URL with a scheme this crate reads, else a path.
    pub fn parse(text: &str) -> Result<Self, RemoteError> {
        Self::parse_as(text, false)
    }

    /// Reads `text` as a prefix under which files are (a release directory): as
    /// [`Location::parse`], with a trailing `/` allowed and the key or path possibly empty
    /// (a bucket, a whole repository).
    pub fn parse_prefix(text: &str) -> Result<Self, RemoteError> {
        Self::parse_as(text.trim_end_matches('/'), true)
    }

    fn parse_as(text: &str, prefix: bool) -> Result<Self, RemoteError> {
        let bad = |reason: &str| RemoteError::Location {
            location: text.to_owned(),
            reason: reason.to_owned(),
        };
        if !Self::is_url(text) {
            return Ok(Location::Local(PathBuf::from(text)));
        }
        let (scheme, rest) = text.split_once("://").unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" => {
                let url = url::Url::parse(text).map_err(|e| bad(&format!("not a URL: {e}")))?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(bad("the URL has no host"));
                }
                if url.query().is_some() {
                    return Err(bad(
                        "URLs with a query string (signed links) are not read: give the file's plain URL",
                    ));
                }
                Ok(Location::Http(url))
            }
            "s3" | "s3a" => bucket_and_key(rest, prefix)
                .map(|(bucket, key)| Location::S3 { bucket, key })
                .ok_or_else(|| bad("an s3:// location is s3://BUCKET/KEY")),
            "hf" => Self::parse_hub(rest, prefix)
                .map(Location::Hub)
                .ok_or_else(|| {
                    bad(
                        "an hf:// location is hf://datasets/ORG/NAME[@REVISION]/PATH \
                     (or hf://spaces/..., or hf://ORG/NAME[@REVISION]/PATH for a model)",
                    )
                }),
            s if AZURE.contains(&s) => {
                let (container, path) = rest.split_once('/').unwrap_or((rest, ""));
                let name = container.split('@').next().unwrap_or_default();
                if name.is_empty() || (!prefix && (path.is_empty() || path.ends_with('/'))) {
                    return Err(bad("an Azure location is az://CONTAINER/PATH or \
                         abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH"));
                }
                Ok(Location::Azure {
                    store: format!("{s}://{container}"),
                    path: path.to_owned(),
                })
            }
            "gs" | "gcs" => bucket_and_key(rest, prefix)
                .map(|(bucket, path)| Location::Gcs { bucket, path })
                .ok_or_else(|| bad("a Google Cloud Storage location is gs://BUCKET/PATH")),
            _ => Err(bad(
                "unknown scheme: https://, http://, s3://, gs://, az:// and hf:// are read",
            )),
        }
    }

    /// `[datasets/|spaces/|models/]ORG/NAME[@REVISION][/PATH]`, read as huggingface_hub's
    /// `parse_hf_uri` reads it: a special ref (`refs/convert/NAME`, `refs/pr/N`) keeps its
    /// slashes; any other revision ends at the first `/` and is percent-decoded.
    fn parse_hub(rest: &str, prefix: bool) -> Option<HubRepo> {
        let (kind, rest) = match rest.split_once('/') {
            Some(("datasets", r)) => ("datasets", r),
            Some(("spaces", r)) => ("spaces", r),
            Some(("models", r)) => ("models", r),
            _ => ("models", rest),
        };
        let (org, rest) = rest.split_once('/')?;
        let (name, revision, path) = match rest.split_once('@') {
            // An '@' past the repository's name is part of the path.
            Some((name, after)) if !name.contains('/') => {
                let (raw, path) = match special_ref_len(after) {
                    Some(n) => (
                        &after[..n],
                        after[n..].strip_prefix('/').unwrap_or(&after[n..]),
                    ),
                    None => after.split_once('/').unwrap_or((after, "")),
                };
                let revision = percent_encoding::percent_decode_str(raw)
                    .decode_utf8()
                    .ok()?
                    .into_owned();
                (name, revision, path)
            }
            _ => {
                let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
                (name, "main".to_owned(), path)
            }
        };
        let fine = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let path_fine = (prefix && path.is_empty())
            || (!path.ends_with('/')
                && path
                    .split('/')
                    .all(|p| !p.is_empty() && p != "." && p != ".."));
        (fine(org) && fine(name) && !revision.is_empty() && path_fine).then(|| HubRepo {
            kind,
            id: format!("{org}/{name}"),
            revision,
            path: path.to_owned(),
        })
    }

    /// Whether this is a remote location.
    pub fn is_remote(&self) -> bool {
        !matches!(self, Location::Local(_))
    }

    /// Whether its store answers a request for the last N bytes of an object (Azure does
    /// not: its size must be asked first).
    pub fn answers_suffix_ranges(&self) -> bool {
        !matches!(self, Location::Azure { .. })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::Http(url) => write!(f, "{url}"),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Location::Azure { store, path } => write!(f, "{store}/{path}"),
            Location::Gcs { bucket, path } => write!(f, "gs://{bucket}/{path}"),
            Location::Hub(repo) => {
                let prefix = match repo.kind {
                    "models" => String::new(),
                    kind => format!("{kind}/"),
                };
                write!(f, "hf://{prefix}{}", repo.id)?;
                // As huggingface_hub writes it: a special ref as it is, any other revision
                // percent-encoded, so that what is printed parses back to the same revision.
                if special_ref_len(&repo.revision) == Some(repo.revision.len()) {
                    write!(f, "@{}", repo.revision)?;
                } else if repo.revision != "main" {
                    let revision = percent_encoding::utf8_percent_encode(&repo.revision, QUOTED);
                    write!(f, "@{revision}")?;
                }
                write!(f, "/{}", repo.path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn locations_parse_as_their_tools_name_them() {
        assert_eq!(
            Location::parse("data/x.parquet").unwrap(),
            Location::Local("data/x.parquet".into())
        );
        assert!(matches!(
            Location::parse("https://example.org/a/b.parquet").unwrap(),
            Location::Http(_)
        ));
        assert_eq!(
            Location::parse("s3://bucket/dir/x.parquet").unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                key: "dir/x.parquet".into()
            }
        );
        let Location::Hub(repo) =
            Location::parse("hf://datasets/metmuseum/openaccess@refs%2Fpr%2F1/data/x.parquet")
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (
                repo.kind,
                repo.id.as_str(),
                repo.revision.as_str(),
                repo.path.as_str()
            ),
            (
                "datasets",
                "metmuseum/openaccess",
                "refs/pr/1",
                "data/x.parquet"
            )
        );
        // huggingface_hub writes special refs as they are, and reads them either way.
        assert_eq!(
            Location::Hub(repo.clone()).to_string(),
            "hf://datasets/metmuseum/openaccess@refs/pr/1/data/x.parquet"
        );
        assert_eq!(
            Location::parse(&Location::Hub(repo.clone()).to_string()).unwrap(),
            Location::Hub(repo.clone())
        );
        let Location::Hub(converted) = Location::parse(
            "hf://datasets/metmuseum/openaccess@refs/convert/parquet/default/train/0000.parquet",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (converted.revision.as_str(), converted.path.as_str()),
            ("refs/convert/parquet", "default/train/0000.parquet")
        );
        // Other revisions end at the first '/', percent-decoded ('+' is a plus), and print
        // percent-encoded.
        let Location::Hub(plus) = Location::parse("hf://org/model@v1%2Fa+b/x.parquet").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (plus.revision.as_str(), plus.path.as_str()),
            ("v1/a+b", "x.parquet")
        );
        assert_eq!(
            Location::Hub(plus).to_string(),
            "hf://org/model@v1%2Fa%2Bb/x.parquet"
        );
        // An '@' past the repository's name is the path's.
        let Location::Hub(at) = Location::parse("hf://org/model/dir@2/x.parquet").unwrap() else {
            panic!()
        };
        assert_eq!(
            (at.revision.as_str(), at.path.as_str()),
            ("main", "dir@2/x.parquet")
        );
        assert!(Location::parse_prefix("hf://datasets/org/name").is_ok());
        assert_eq!(
            repo.resolve_path("refs/pr/1"),
            "datasets/metmuseum/openaccess/resolve/refs%2Fpr%2F1/data/x.parquet"
        );
        let Location::Hub(model) = Location::parse("hf://org/model/x.parquet").unwrap() else {
            panic!()
        };
        assert_eq!((model.kind, model.revision.as_str()), ("models", "main"));
        assert_eq!(
            model.resolve_path("main"),
            "org/model/resolve/main/x.parquet"
        );
        assert_eq!(
            Location::parse("az://museum/dir/x.parquet").unwrap(),
            Location::Azure {
                store: "az://museum".into(),
                path: "dir/x.parquet".into()
            }
        );
        let hadoop = "abfss://museum@account.dfs.core.windows.net/x.parquet";
        assert_eq!(Location::parse(hadoop).unwrap().to_string(), hadoop);
        assert!(Location::parse_prefix("az://museum/").is_ok());
        assert_eq!(
            Location::parse("gcs://museum/dir/x.parquet")
                .unwrap()
                .to_string(),
            "gs://museum/dir/x.parquet"
        );
        assert!(Location::parse_prefix("gs://museum/").is_ok());
        for bad in [
            "az://museum",
            "az:///x.parquet",
            "s3://bucket",
            "s3://bucket/",
            "hf://datasets/org",
            "hf://datasets/org/name/../x",
            "gs://b",
            "gs://b/k/",
            "ftp://h/x",
            "https://h/x.parquet?sig=1",
        ] {
            let err = Location::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with(bad), "{err}");
        }
    }
}
