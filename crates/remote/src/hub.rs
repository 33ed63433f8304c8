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
            .map(str::to_owned)
    };
    parse_resolve_answer(header).map_err(|reason| RemoteError::Malformed {
        location: location.to_owned(),
        reason: format!("{reason} (from {url})"),
    })
}

/// The Hub's answer to a HEAD of a resolve URL, from its headers (`header(name)` gives a
/// header's value): the commit (`X-Repo-Commit`, required), and for LFS files the SHA-256
/// (`X-Linked-Etag`) and size (`X-Linked-Size`).
pub fn parse_resolve_answer(
    header: impl Fn(&str) -> Option<String>,
) -> Result<ServerDigest, String> {
    let value = |name: &str| {
        header(name).map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        })
    };
    let commit = value("x-repo-commit").ok_or("no X-Repo-Commit header")?;
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("X-Repo-Commit {commit:?} is not a commit id"));
    }
    let sha256 = match value("x-linked-etag") {
        Some(etag) if etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(etag.to_ascii_lowercase())
        }
        // Non-LFS files carry their git blob id instead; nothing to compare then.
        Some(_) | None => None,
    };
    let size = match value("x-linked-size") {
        Some(size) => Some(
            size.parse::<u64>()
                .map_err(|_| format!("X-Linked-Size {size:?} is not a size"))?,
        ),
        None => None,
    };
    Ok(ServerDigest {
        commit: commit.to_ascii_lowercase(),
        sha256,
        size,
    })
}

/// Bytes of one answer of the Hub's API read at most (a tree page is about 100 KB).
const MAX_API_ANSWER: u64 = 16 << 20;

/// Files listed at most under one prefix.
const MAX_LISTED: usize = 1_000_000;

/// Pages of a tree listing followed at most.
const MAX_PAGES: usize = 10_000;

fn api_prefix(repo: &HubRepo) -> &'static str {
    match repo.kind {
        "datasets" => "api/datasets",
        "spaces" => "api/spaces",
        _ => "api/models",
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// One GET of the Hub's API: the body (at most [`MAX_API_ANSWER`] bytes) and the `Link`
/// header's `next` URL, if any.
fn api_get(
    location: &str,
    url: &str,
    timeout: Duration,
) -> Result<(Vec<u8>, Option<String>), RemoteError> {
    let mut request = agent(timeout).get(url);
    if let Some(token) = token() {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.call().map_err(|e| RemoteError::Request {
        location: location.to_owned(),
        cause: crate::error::one_line(&e),
    })?;
    match response.status().as_u16() {
        200 => {}
        404 => {
            return Err(RemoteError::NotFound {
                location: location.to_owned(),
            });
        }
        status => {
            return Err(RemoteError::Request {
                location: location.to_owned(),
                cause: format!("the Hub answered HTTP {status} to {url}"),
            });
        }
    }
    let next = response
        .headers()
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_link);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_API_ANSWER)
        .read_to_vec()
        .map_err(|e| RemoteError::Request {
            location: location.to_owned(),
            cause: crate::error::one_line(&e),
        })?;
    Ok((body, next))
}

/// The `rel="next"` target of a `Link` header value.
pub fn next_link(value: &str) -> Option<String> {
    value.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_owned())
    })
}

/// The commit `repo`'s revision points to now.
pub(crate) fn revision_commit(
    location: &str,
    endpoint: &str,
    repo: &HubRepo,
    timeout: Duration,
) -> Result<String, RemoteError> {
    let revision: String = url::form_urlencoded::byte_serialize(repo.revision.as_bytes()).collect();
    let url = format!(
        "{endpoint}/{}/{}/revision/{revision}",
        api_prefix(repo),
        repo.id
    );
    let (body, _) = api_get(location, &url, timeout)?;
    parse_revision(&body).map_err(|reason| RemoteError::Malformed {
        location: location.to_owned(),
        reason,
    })
}

/// The commit id in an answer of the revision API (`{"sha": "..."}`).
pub fn parse_revision(body: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Revision {
        sha: String,
    }
    let revision: Revision =
        serde_json::from_slice(body).map_err(|e| format!("revision answer: {e}"))?;
    if revision.sha.len() != 40 || !revision.sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "revision answer: {:?} is not a commit id",
            revision.sha
        ));
    }
    Ok(revision.sha.to_ascii_lowercase())
}

/// One page of the tree API: the files in it, `(path, size)`.
pub fn parse_tree_page(body: &[u8]) -> Result<Vec<(String, u64)>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "type")]
        kind: String,
        path: String,
        #[serde(default)]
        size: u64,
    }
    let entries: Vec<Entry> =
        serde_json::from_slice(body).map_err(|e| format!("tree answer: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        if entry.kind != "file" {
            continue;
        }
        if entry.path.is_empty()
            || entry.path.starts_with('/')
            || entry
                .path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(format!(
                "tree answer: {:?} is not a path in a repository",
                entry.path
            ));
        }
        files.push((entry.path, entry.size));
    }
    Ok(files)
}

/// Every file under `repo.path` at `commit`, `(path relative to repo.path, size)`, sorted.
pub(crate) fn tree(
    location: &str,
    endpoint: &str,
    repo: &HubRepo,
    commit: &str,
    timeout: Duration,
) -> Result<Vec<(String, u64)>, RemoteError> {
    let prefix = repo.path.trim_end_matches('/');
    let mut url = format!(
        "{endpoint}/{}/{}/tree/{commit}/{prefix}?recursive=true",
        api_prefix(repo),
        repo.id
    );
    let mut files = Vec::new();
    for _ in 0..MAX_PAGES {
        let (body, next) = api_get(location, &url, timeout)?;
        let page = parse_tree_page(&body).map_err(|reason| RemoteError::Malformed {
            location: location.to_owned(),
            reason,
        })?;
        for (path, size) in page {
            let relative = if prefix.is_empty() {
                Some(path.as_str())
            } else {
                path.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(relative) = relative {
                files.push((relative.to_owned(), size));
            }
        }
        if files.len() > MAX_LISTED {
            return Err(RemoteError::Malformed {
                location: location.to_owned(),
                reason: format!("more than {MAX_LISTED} files listed"),
            });
        }
        match next {
            // Pages stay on the Hub: a link elsewhere is not followed.
            Some(next) if next.starts_with(endpoint) => url = next,
            Some(next) => {
                return Err(RemoteError::Malformed {
                    location: location.to_owned(),
                    reason: format!("the next page is on another host: {next}"),
                });
            }
            None => {
                files.sort();
                return Ok(files);
            }
        }
    }
    Err(RemoteError::Malformed {
        location: location.to_owned(),
        reason: format!("more than {MAX_PAGES} pages of listing"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn answers_are_read_as_the_hub_gives_them() {
        let link = r#"<https://huggingface.co/api/datasets/a/b/tree/main?cursor=x>; rel="next""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://huggingface.co/api/datasets/a/b/tree/main?cursor=x")
        );
        assert_eq!(next_link(r#"<https://h/x>; rel="prev""#), None);
        let page = br#"[{"type":"file","path":"data/a.parquet","size":12},
                        {"type":"directory","path":"data","size":0}]"#;
        assert_eq!(
            parse_tree_page(page).unwrap(),
            vec![("data/a.parquet".to_owned(), 12)]
        );
        assert!(parse_tree_page(br#"[{"type":"file","path":"../x","size":1}]"#).is_err());
        assert!(parse_revision(br#"{"sha":"main"}"#).is_err());
        let headers = |name: &str| match name {
            "x-repo-commit" => Some("0123456789ABCDEF0123456789abcdef01234567".to_owned()),
            "x-linked-etag" => Some(format!("\"{}\"", "ab".repeat(32))),
            "x-linked-size" => Some("12".to_owned()),
            _ => None,
        };
        let digest = parse_resolve_answer(headers).unwrap();
        assert_eq!(digest.commit, "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(
            (digest.sha256.unwrap(), digest.size),
            ("ab".repeat(32), Some(12))
        );
        assert!(parse_resolve_answer(|_| None).is_err());
    }
}
