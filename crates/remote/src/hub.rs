//! The Hugging Face Hub's answer about one file: the commit a revision resolves to, and for
//! files stored with LFS (or Xet) their SHA-256 and size, read from the headers of the
//! resolve URL's own answer (a redirect to the CDN, not followed), as `huggingface_hub` does.

use std::time::Duration;

use crate::RemoteError;
use crate::location::HubRepo;

/// What the Hub says about a file, before any of its bytes are read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerDigest {
    /// The commit the revision resolved to (`X-Repo-Commit`): it pins the rest of the run.
    pub commit: String,
    /// The file's SHA-256, lowercase hex (`X-Linked-Etag`), for LFS files.
    pub sha256: Option<String>,
    /// The file's size in bytes (`X-Linked-Size`), for LFS files.
    pub size: Option<u64>,
}

/// The Hub's endpoint: `HF_ENDPOINT`, else the public Hub.
pub(crate) fn endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "https://huggingface.co".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The token to send: `HF_TOKEN` when set (huggingface_hub's stored token is not read).
pub(crate) fn token() -> Option<String> {
    std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty())
}

/// Asks the Hub where `repo`'s file is, with one HEAD request that does not follow the
/// redirect.
pub(crate) fn resolve(
    location: &str,
    endpoint: &str,
    repo: &HubRepo,
    timeout: Duration,
) -> Result<ServerDigest, RemoteError> {
    let url = format!("{endpoint}/{}", repo.resolve_path(&repo.revision));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut request = agent.head(&url);
    if let Some(token) = token() {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.call().map_err(|e| RemoteError::Request {
        location: location.to_owned(),
        cause: crate::error::one_line(&e),
    })?;
    let status = response.status().as_u16();
    match status {
        200..=299 | 301..=303 | 307 | 308 => {}
        404 => {
            return Err(RemoteError::NotFound {
                location: location.to_owned(),
            });
        }
        401 | 403 => {
            return Err(RemoteError::Request {
                location: location.to_owned(),
                cause: format!(
                    "the Hub refused access (HTTP {status}): the repository may be private or \
                     gated; set HF_TOKEN to a token that may read it"
                ),
            });
        }
        _ => {
            return Err(RemoteError::Request {
                location: location.to_owned(),
                cause: format!("the Hub answered HTTP {status} to {url}"),
            });
        }
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
    };
    let malformed = |reason: String| RemoteError::Malformed {
        location: location.to_owned(),
        reason,
    };
    let commit = header("x-repo-commit")
        .ok_or_else(|| malformed(format!("no X-Repo-Commit header from {url}")))?;
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(format!(
            "X-Repo-Commit {commit:?} is not a commit id"
        )));
    }
    let sha256 = match header("x-linked-etag") {
        Some(etag) if etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(etag.to_ascii_lowercase())
        }
        // Non-LFS files carry their git blob id instead; nothing to compare then.
        Some(_) | None => None,
    };
    let size = match header("x-linked-size") {
        Some(size) => Some(
            size.parse::<u64>()
                .map_err(|_| malformed(format!("X-Linked-Size {size:?} is not a size")))?,
        ),
        None => None,
    };
    Ok(ServerDigest {
        commit: commit.to_ascii_lowercase(),
        sha256,
        size,
    })
}
