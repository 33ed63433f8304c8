//! The calls of Chroma's HTTP API (v2) that loading and reading a collection need, and the
//! parsers of its answers (each takes the body's bytes and returns a typed error).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Distance;

/// Largest answer read from the server (a page of records with their vectors).
const MAX_ANSWER_BYTES: u64 = 1 << 30;

/// The header Chroma reads a token from (Chroma Cloud and the server's token auth).
pub const TOKEN_HEADER: &str = "x-chroma-token";

/// Why talking to a Chroma server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChromaError {
    /// The URL is not `http://HOST:PORT` or `https://…`.
    #[error("{url}: not a Chroma server URL (http://HOST:PORT or https://HOST)")]
    Url {
        /// The URL given.
        url: String,
    },
    /// The server could not be reached.
    #[error("{url}: cannot reach the Chroma server: {message}")]
    Connect {
        /// The URL called.
        url: String,
        /// The transport's error.
        message: String,
    },
    /// The server refused a request.
    #[error("{url}: Chroma answered {status} {error}: {message}")]
    Status {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Chroma's error name (e.g. `InvalidArgumentError`).
        error: String,
        /// Chroma's message.
        message: String,
    },
    /// An answer is not what the API documents.
    #[error("{url}: unexpected answer from Chroma: {source}")]
    Answer {
        /// The URL called.
        url: String,
        /// Why it could not be parsed.
        source: AnswerError,
    },
}

/// Why an answer of the server could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// Not the JSON the API documents.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// Arrays of one page that should have one entry per record do not.
    #[error("{field} has {found} entries for {ids} ids")]
    Lengths {
        /// The array.
        field: &'static str,
        /// Its length.
        found: usize,
        /// The number of ids.
        ids: usize,
    },
}

/// What `GET /api/v2/pre-flight-checks` says.
#[derive(Debug, Clone, Copy, Deserialize)]
#[non_exhaustive]
pub struct Preflight {
    /// Most records one add, upsert or get may carry.
    pub max_batch_size: usize,
    /// Whether vectors may be sent as base64 of little-endian float32.
    #[serde(default)]
    pub supports_base64_encoding: bool,
}

/// A collection, as the server describes it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Collection {
    /// Its id (a UUID), which the record calls address.
    pub id: String,
    /// The vectors' dimension, once it holds any.
    pub dimension: Option<usize>,
    /// The HNSW space (`l2`, `cosine`, `ip`), if the server says.
    pub space: Option<String>,
}

#[derive(Deserialize)]
struct CollectionAnswer {
    id: String,
    #[serde(default)]
    dimension: Option<usize>,
    #[serde(default)]
    configuration_json: Option<Value>,
}

/// One page of records of `POST …/get`.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Page {
    /// The ids.
    pub ids: Vec<String>,
    /// One vector per id (empty when not asked for).
    pub embeddings: Vec<Vec<f32>>,
    /// One metadata map per id (`None` for a record without metadata).
    pub metadatas: Vec<Option<Map<String, Value>>>,
}

#[derive(Deserialize)]
struct PageAnswer {
    ids: Vec<String>,
    #[serde(default)]
    embeddings: Option<Vec<Vec<f32>>>,
    #[serde(default)]
    metadatas: Option<Vec<Option<Map<String, Value>>>>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

/// Parses a pre-flight-checks answer.
pub fn parse_preflight(body: &[u8]) -> Result<Preflight, AnswerError> {
    Ok(serde_json::from_slice(body)?)
}

/// Parses a collection's description.
pub fn parse_collection(body: &[u8]) -> Result<Collection, AnswerError> {
    let answer: CollectionAnswer = serde_json::from_slice(body)?;
    let space = answer
        .configuration_json
        .as_ref()
        .and_then(|c| c.get("hnsw"))
        .and_then(|h| h.get("space"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Collection {
        id: answer.id,
        dimension: answer.dimension,
        space,
    })
}

/// Parses a page of records; every array asked for has one entry per id.
pub fn parse_page(body: &[u8]) -> Result<Page, AnswerError> {
    let answer: PageAnswer = serde_json::from_slice(body)?;
    let ids = answer.ids.len();
    let check = |field, found| {
        if found == ids {
            Ok(())
        } else {
            Err(AnswerError::Lengths { field, found, ids })
        }
    };
    let embeddings = answer.embeddings.unwrap_or_default();
    let metadatas = answer.metadatas.unwrap_or_default();
    if !embeddings.is_empty() || ids == 0 {
        check("embeddings", embeddings.len())?;
    }
    if !metadatas.is_empty() || ids == 0 {
        check("metadatas", metadatas.len())?;
    }
    Ok(Page {
        ids: answer.ids,
        embeddings,
        metadatas,
    })
}

/// Parses an error answer into (error name, message); a body that is not Chroma's error
/// JSON is the message itself.
pub fn parse_error(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorAnswer>(body) {
        Ok(answer) => (answer.error, answer.message),
        Err(_) => (
            String::new(),
            String::from_utf8_lossy(body).trim().to_owned(),
        ),
    }
}

/// Whether a name is one Chroma accepts for a collection: 3 to 512 characters of
/// `[a-zA-Z0-9._-]`, starting and ending with a letter or digit.
pub fn valid_collection_name(name: &str) -> bool {
    (3..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

/// Chroma's name of a distance (its HNSW `space`).
pub fn space(distance: Distance) -> &'static str {
    match distance {
        Distance::Cosine => "cosine",
        Distance::L2 => "l2",
        Distance::Ip => "ip",
    }
}

/// A client of one server, tenant and database.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    prefix: String,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is left out.
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `url` (`http://HOST:PORT`), in `tenant`'s `database`.
    pub fn new(
        url: &str,
        tenant: &str,
        database: &str,
        token: Option<String>,
    ) -> Result<Self, ChromaError> {
        let base = url.trim_end_matches('/');
        let plain = |n: &str| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        let host = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if host.is_none_or(str::is_empty) || !plain(tenant) || !plain(database) {
            return Err(ChromaError::Url {
                url: url.to_owned(),
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            // Adding a large batch makes the server index it before it answers.
            .timeout_global(Some(Duration::from_secs(900)))
            .build()
            .into();
        Ok(Self {
            agent,
            base: base.to_owned(),
            prefix: format!("{base}/api/v2/tenants/{tenant}/databases/{database}"),
            token,
        })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>), ChromaError> {
        let connect = |e: ureq::Error| ChromaError::Connect {
            url: url.to_owned(),
            message: e.to_string(),
        };
        let response = match (method, body) {
            ("GET", _) => {
                let mut request = self.agent.get(url);
                if let Some(token) = &self.token {
                    request = request.header(TOKEN_HEADER, token);
                }
                request.call()
            }
            ("DELETE", _) => {
                let mut request = self.agent.delete(url);
                if let Some(token) = &self.token {
                    request = request.header(TOKEN_HEADER, token);
                }
                request.call()
            }
            (_, body) => {
                let mut request = self
                    .agent
                    .post(url)
                    .header("content-type", "application/json");
                if let Some(token) = &self.token {
                    request = request.header(TOKEN_HEADER, token);
                }
                request.send(body.unwrap_or(b"{}"))
            }
        };
        let mut response = response.map_err(connect)?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(connect)?;
        Ok((status, bytes))
    }

    /// A call whose answer must be a success.
    fn ok(&self, method: &str, url: &str, body: Option<&[u8]>) -> Result<Vec<u8>, ChromaError> {
        let (status, bytes) = self.call(method, url, body)?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let (error, message) = parse_error(&bytes);
        Err(ChromaError::Status {
            url: url.to_owned(),
            status,
            error,
            message,
        })
    }

    fn answer<T>(url: &str, parsed: Result<T, AnswerError>) -> Result<T, ChromaError> {
        parsed.map_err(|source| ChromaError::Answer {
            url: url.to_owned(),
            source,
        })
    }

    /// The server's limits.
    pub fn preflight(&self) -> Result<Preflight, ChromaError> {
        let url = format!("{}/api/v2/pre-flight-checks", self.base);
        let body = self.ok("GET", &url, None)?;
        Self::answer(&url, parse_preflight(&body))
    }

    /// The collection called `name`, if there is one.
    pub fn collection(&self, name: &str) -> Result<Option<Collection>, ChromaError> {
        let url = format!("{}/collections/{name}", self.prefix);
        let (status, body) = self.call("GET", &url, None)?;
        match status {
            200..=299 => Self::answer(&url, parse_collection(&body)).map(Some),
            404 => Ok(None),
            status => {
                let (error, message) = parse_error(&body);
                Err(ChromaError::Status {
                    url,
                    status,
                    error,
                    message,
                })
            }
        }
    }

    /// Creates the collection `name` with the HNSW space of `distance`.
    pub fn create_collection(
        &self,
        name: &str,
        distance: Distance,
    ) -> Result<Collection, ChromaError> {
        let url = format!("{}/collections", self.prefix);
        let body = serde_json::json!({
            "name": name,
            "configuration": {"hnsw": {"space": space(distance)}},
        });
        let answer = self.ok("POST", &url, Some(body.to_string().as_bytes()))?;
        Self::answer(&url, parse_collection(&answer))
    }

    /// Deletes the collection `name`.
    pub fn delete_collection(&self, name: &str) -> Result<(), ChromaError> {
        let url = format!("{}/collections/{name}", self.prefix);
        self.ok("DELETE", &url, None).map(drop)
    }

    /// Sends an `add` or `upsert` body (`verb`) to collection `id`.
    pub fn write(&self, id: &str, verb: &str, body: &[u8]) -> Result<(), ChromaError> {
        let url = format!("{}/collections/{id}/{verb}", self.prefix);
        self.ok("POST", &url, Some(body)).map(drop)
    }

    /// Deletes records by id.
    pub fn delete(&self, id: &str, ids: &[String]) -> Result<(), ChromaError> {
        let url = format!("{}/collections/{id}/delete", self.prefix);
        let body = serde_json::json!({ "ids": ids });
        self.ok("POST", &url, Some(body.to_string().as_bytes()))
            .map(drop)
    }

    /// The number of records in collection `id`.
    pub fn count(&self, id: &str) -> Result<u64, ChromaError> {
        let url = format!("{}/collections/{id}/count", self.prefix);
        let body = self.ok("GET", &url, None)?;
        Self::answer(
            &url,
            serde_json::from_slice(&body).map_err(AnswerError::from),
        )
    }

    /// `POST …/get` with a JSON request body; returns the page.
    pub fn get(&self, id: &str, request: &Value) -> Result<Page, ChromaError> {
        let url = format!("{}/collections/{id}/get", self.prefix);
        let body = self.ok("POST", &url, Some(request.to_string().as_bytes()))?;
        Self::answer(&url, parse_page(&body))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn answers_parse_or_fail_with_a_reason() {
        let p =
            parse_preflight(br#"{"max_batch_size":5461,"supports_base64_encoding":true}"#).unwrap();
        assert_eq!(p.max_batch_size, 5461);
        assert!(parse_preflight(b"<html>").is_err());
        let c = parse_collection(
            br#"{"id":"3b06","name":"x","configuration_json":{"hnsw":{"space":"cosine"}},"dimension":3}"#,
        )
        .unwrap();
        assert_eq!((c.dimension, c.space.as_deref()), (Some(3), Some("cosine")));
        let page = parse_page(
            br#"{"ids":["a"],"embeddings":[[0.1,0.2]],"metadatas":[{"k":"v"}],"include":[]}"#,
        )
        .unwrap();
        assert_eq!(page.embeddings, vec![vec![0.1f32, 0.2]]);
        let err = parse_page(br#"{"ids":["a","b"],"embeddings":[[0.1]]}"#).unwrap_err();
        assert_eq!(err.to_string(), "embeddings has 1 entries for 2 ids");
        assert_eq!(
            parse_error(br#"{"error":"NotFoundError","message":"gone"}"#),
            ("NotFoundError".to_owned(), "gone".to_owned())
        );
        assert_eq!(parse_error(b"bad gateway\n").1, "bad gateway");
    }

    #[test]
    fn collection_names_follow_chroma() {
        assert!(valid_collection_name("sfom-mobileclip_1.2"));
        for bad in ["ab", "-abc", "abc-", "a b c", "ab/c"] {
            assert!(!valid_collection_name(bad), "{bad}");
        }
    }
}
