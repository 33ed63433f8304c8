//! One remote object, pinned to one version, read at any offset through a few cached blocks.

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use serde::Serialize;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::hub::ServerDigest;
use crate::location::Location;
use crate::store::{self, Options, PinMode};
use crate::{RemoteError, runtime};

/// Bytes of the object's end fetched when it is opened: a Parquet footer (and its 8-byte
/// tail) of up to this size costs no second request.
pub const TAIL: u64 = 64 << 10;

/// Bytes fetched at a time by reads that follow one another, and read ahead of them.
const BLOCK: u64 = 8 << 20;

/// Blocks kept: the one being read, and a few that readers of several columns of a row
/// group go back to.
const KEPT_BLOCKS: usize = 6;

/// Blocks fetched ahead of a reader going through the file in order: two keep a request in
/// flight while the block before it is decoded.
const AHEAD: u64 = 2;

/// Blocks being fetched ahead at most, for all readers together.
const MAX_AHEAD: usize = 4;

/// Bytes fetched, at least, for a small read out of order.
const SMALL: u64 = 64 << 10;

/// A read this close after the previous one's end counts as following it.
const FOLLOWS: u64 = 1 << 20;

/// Spent blocks' buffers kept for the next blocks: a fresh 8 MiB buffer costs two thousand
/// page faults, about a tenth of the client's time on a fast link.
const SPARE_BLOCKS: usize = 4;

/// Requests and bytes a run asked of the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IoStats {
    /// Requests sent (a HEAD or a ranged GET each; retries are not counted again).
    pub requests: u64,
    /// Body bytes received.
    pub bytes: u64,
}

/// An object behind a URL, pinned to the version of its first answer.
pub struct RemoteObject {
    location: String,
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    runtime: &'static Runtime,
    size: u64,
    /// When the object was last modified, in Unix seconds, as first seen.
    modified: i64,
    /// What every request after the first carries to stay on one version.
    condition: Condition,
    hub: Option<ServerDigest>,
    requests: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    cache: Mutex<Cache>,
    spare: Arc<Mutex<Vec<Bytes>>>,
}

impl std::fmt::Debug for RemoteObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteObject")
            .field("location", &self.location)
            .field("size", &self.size)
            .field("condition", &self.condition)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default)]
struct Condition {
    etag: Option<String>,
    version: Option<String>,
    /// For servers that give neither an ETag nor a version: the first answer's
    /// `Last-Modified`, sent as `If-Unmodified-Since`.
    unmodified_since: Option<chrono::DateTime<chrono::Utc>>,
    /// What the run is pinned to, for messages.
    pin: Option<String>,
}

#[derive(Default)]
struct Cache {
    /// Blocks kept, most recently used last: `(start, bytes)`.
    blocks: VecDeque<(u64, Bytes)>,
    /// Blocks being fetched ahead, by start, oldest first (at most [`MAX_AHEAD`]).
    ahead: VecDeque<(u64, JoinHandle<Result<Bytes, RemoteError>>)>,
    /// Where the last read ended.
    last_end: u64,
}

impl RemoteObject {
    /// Opens `location` (a remote one): its size and version from one ranged GET of its
    /// last [`TAIL`] bytes (after a HEAD to the Hub for `hf://`; after a HEAD of the object
    /// on Azure, which answers no suffix range), kept for the reads of the footer.
    pub fn open(location: &Location, options: &Options) -> Result<Self, RemoteError> {
        let text = location.to_string();
        let opened = store::open(location, options)?;
        let runtime = runtime::get(&text)?;
        let requests = Arc::new(AtomicU64::new(u64::from(opened.hub.is_some())));
        let bytes = Arc::new(AtomicU64::new(0));
        let tail = {
            let store = opened.store.clone();
            let path = opened.path.clone();
            let suffix_ranges = location.answers_suffix_ranges();
            let requests = requests.clone();
            runtime::block_on(runtime, async move {
                // A store that answers no suffix range (Azure): its size and version first,
                // then the tail of that version.
                let head = if suffix_ranges {
                    None
                } else {
                    requests.fetch_add(1, Ordering::Relaxed);
                    let meta = store.head(&path).await?;
                    if meta.size == 0 {
                        return Ok((meta, 0..0, Bytes::new()));
                    }
                    Some(meta)
                };
                let options = GetOptions {
                    range: Some(match &head {
                        Some(meta) => GetRange::Bounded(meta.size.saturating_sub(TAIL)..meta.size),
                        None => GetRange::Suffix(TAIL),
                    }),
                    if_match: head.as_ref().and_then(|meta| meta.e_tag.clone()),
                    ..Default::default()
                };
                requests.fetch_add(1, Ordering::Relaxed);
                let result = store.get_opts(&path, options).await?;
                let meta = head.unwrap_or_else(|| result.meta.clone());
                let range = result.range.clone();
                let body = result.bytes().await?;
                Ok::<_, object_store::Error>((meta, range, body))
            })
        };
        let (meta, range, body) = tail.map_err(|e| request_error(&text, e))?;
        bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        let size = meta.size;
        if range.end != size
            || range.end.saturating_sub(range.start) != body.len() as u64
            || (size >= TAIL && body.len() as u64 != TAIL)
        {
            return Err(RemoteError::Malformed {
                location: text,
                reason: format!(
                    "asked for the last {TAIL} bytes of a {size}-byte object, got bytes \
                     {}..{} ({} in the body)",
                    range.start,
                    range.end,
                    body.len()
                ),
            });
        }
        let condition = match &opened.pin {
            PinMode::Commit(commit) => Condition {
                pin: Some(format!("commit {commit}")),
                ..Default::default()
            },
            PinMode::FirstAnswer => {
                // A Last-Modified of 0 is object_store's stand-in for none given.
                let dated = meta.last_modified.timestamp() > 0;
                let by_date = meta.version.is_none() && meta.e_tag.is_none() && dated;
                Condition {
                    pin: meta
                        .version
                        .as_ref()
                        .map(|v| format!("version {v}"))
                        .or_else(|| meta.e_tag.as_ref().map(|e| format!("ETag {e}")))
                        .or_else(|| {
                            by_date.then(|| format!("Last-Modified {}", meta.last_modified))
                        }),
                    etag: meta.e_tag.clone().filter(|_| meta.version.is_none()),
                    version: meta.version.clone(),
                    unmodified_since: by_date.then_some(meta.last_modified),
                }
            }
        };
        let mut cache = Cache {
            last_end: size,
            ..Default::default()
        };
        cache.blocks.push_back((range.start, body));
        Ok(Self {
            location: text,
            store: opened.store,
            path: opened.path,
            runtime,
            size,
            modified: meta.last_modified.timestamp(),
            condition,
            hub: opened.hub,
            requests,
            bytes,
            cache: Mutex::new(cache),
            spare: Arc::default(),
        })
    }

    /// The location, as given.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The object's size in bytes, as first seen.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// When the object was last modified, in Unix seconds (the server's `Last-Modified`).
    pub fn modified_unix(&self) -> i64 {
        self.modified
    }

    /// Whether the object is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// What the run is pinned to (`ETag "..."`, `version ...`, `commit ...`), if anything:
    /// a server that gives neither an ETag nor a version cannot be pinned.
    pub fn pinned_to(&self) -> Option<&str> {
        self.condition.pin.as_deref()
    }

    /// What the Hub said about the file, for `hf://` locations.
    pub fn server_digest(&self) -> Option<&ServerDigest> {
        self.hub.as_ref()
    }

    /// Requests and bytes so far.
    pub fn io(&self) -> IoStats {
        IoStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads up to `buf.len()` bytes at `offset`; 0 at or past the end.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        // A large read no kept block holds: exactly what is asked, kept nowhere.
        if want as u64 >= BLOCK && !self.holds(offset) {
            let bytes = self.fetch(offset..offset + want as u64)?;
            buf[..bytes.len()].copy_from_slice(&bytes);
            self.cache().last_end = offset + bytes.len() as u64;
            return Ok(bytes.len());
        }
        let slice = self.slice_at(offset, want)?;
        buf[..slice.len()].copy_from_slice(&slice);
        Ok(slice.len())
    }

    /// Whether a kept block holds `offset`.
    fn holds(&self, offset: u64) -> bool {
        self.cache()
            .blocks
            .iter()
            .any(|(at, b)| *at <= offset && offset < at + b.len() as u64)
    }

    /// Up to `max` bytes at `offset` (fewer at a block's end; empty at or past the object's
    /// end), without a copy: a slice of the block that holds them, fetched when no kept block
    /// does. A reader going through the object in order has the next blocks fetched ahead.
    pub fn slice_at(&self, offset: u64, max: usize) -> io::Result<Bytes> {
        if offset >= self.size || max == 0 {
            return Ok(Bytes::new());
        }
        let want = max.min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        let start = offset / BLOCK * BLOCK;
        let mut cache = self.cache();
        // A reader goes through the file in order when it reads on from where it stopped,
        // or into a block it had fetched whole (other readers may read in between).
        let streaming = cache.ahead.iter().any(|(at, _)| *at == start)
            || cache.blocks.iter().any(|(at, b)| {
                at % BLOCK == 0 && *at <= offset && offset <= at + b.len() as u64 + FOLLOWS
            })
            || (offset >= cache.last_end.saturating_sub(FOLLOWS)
                && offset <= cache.last_end.saturating_add(FOLLOWS));
        if let Some(slice) = slice_from_blocks(&mut cache.blocks, offset, want) {
            cache.last_end = offset + slice.len() as u64;
            if streaming {
                self.read_ahead(&mut cache, offset);
            }
            return Ok(slice);
        }
        // A small read out of order (a magic number, a page index): a little around it.
        if !streaming {
            drop(cache);
            let end = offset.saturating_add(SMALL.max(want as u64)).min(self.size);
            let block = self.fetch(offset..end)?;
            return Ok(self.keep(&mut self.cache(), offset, block, offset, want));
        }
        let pending = cache
            .ahead
            .iter()
            .position(|(at, _)| *at == start)
            .and_then(|i| cache.ahead.remove(i));
        let block = match pending {
            Some((_, pending)) => {
                drop(cache);
                let joined = runtime::block_on(self.runtime, pending);
                let block = joined.map_err(|e| {
                    io::Error::other(format!("{}: read ahead failed: {e}", self.location))
                })?;
                block.map_err(RemoteError::into_io)?
            }
            None => {
                drop(cache);
                self.fetch(start..(start + BLOCK).min(self.size))?
            }
        };
        let mut cache = self.cache();
        let slice = self.keep(&mut cache, start, block, offset, want);
        self.read_ahead(&mut cache, offset);
        Ok(slice)
    }

    /// Keeps `block` (starting at `start`) as the most recently used, the least recently
    /// used going back to the spare buffers beyond [`KEPT_BLOCKS`], and gives up to `want`
    /// bytes of it at `offset`, where the reader stops.
    fn keep(&self, cache: &mut Cache, start: u64, block: Bytes, offset: u64, want: usize) -> Bytes {
        cache.blocks.push_back((start, block));
        while cache.blocks.len() > KEPT_BLOCKS {
            if let Some((_, evicted)) = cache.blocks.pop_front() {
                self.retire(evicted);
            }
        }
        let slice = slice_from_blocks(&mut cache.blocks, offset, want).unwrap_or_default();
        cache.last_end = offset + slice.len() as u64;
        slice
    }

    /// Starts fetching the [`AHEAD`] blocks after the one holding `offset`, unless kept or
    /// on their way. Several readers may stream through the file at once (a column's pages,
    /// the row groups' other columns): the oldest fetch ahead is dropped beyond
    /// [`MAX_AHEAD`], never one because another reader is elsewhere.
    fn read_ahead(&self, cache: &mut Cache, offset: u64) {
        let current = offset / BLOCK * BLOCK;
        for k in 1..=AHEAD {
            let next = current + k * BLOCK;
            if next >= self.size
                || cache.ahead.iter().any(|(at, _)| *at == next)
                || cache.blocks.iter().any(|(at, _)| *at == next)
            {
                continue;
            }
            let range = next..(next + BLOCK).min(self.size);
            let request = self.request(range);
            cache.ahead.push_back((next, self.runtime.spawn(request)));
            while cache.ahead.len() > MAX_AHEAD {
                if let Some((_, oldest)) = cache.ahead.pop_front() {
                    oldest.abort();
                }
            }
        }
    }

    /// Bytes `range` of the object: from a kept block when one holds them all, else in one
    /// request.
    pub fn bytes(&self, range: Range<u64>) -> io::Result<Bytes> {
        {
            let cache = self.cache();
            let held = cache
                .blocks
                .iter()
                .find(|(at, block)| *at <= range.start && range.end <= at + block.len() as u64);
            if let Some((at, block)) = held {
                let from = usize::try_from(range.start - at).unwrap_or(usize::MAX);
                let to = usize::try_from(range.end - at).unwrap_or(usize::MAX);
                return Ok(block.slice(from..to));
            }
        }
        let len = range.end.saturating_sub(range.start);
        if len >= BLOCK {
            return self.fetch(range);
        }
        // Small ranges (page headers, pages) go through the blocks, so that a reader going
        // through the file page by page makes one request per block, with blocks read ahead;
        // only a range across two blocks is copied.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let first = self.slice_at(range.start, len)?;
        if first.len() == len {
            return Ok(first);
        }
        let mut out = BytesMut::with_capacity(len);
        out.extend_from_slice(&first);
        while out.len() < len {
            let piece = self.slice_at(range.start + out.len() as u64, len - out.len())?;
            if piece.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{len} bytes asked for at offset {}, past the end of the file",
                        range.start
                    ),
                ));
            }
            out.extend_from_slice(&piece);
        }
        Ok(out.freeze())
    }

    /// Whether `location` exists, and its size: one HEAD request (for `hf://`, the Hub's
    /// resolve answer). `None` when the server says it is not there.
    pub fn head(location: &Location, options: &Options) -> Result<Option<u64>, RemoteError> {
        let text = location.to_string();
        let opened = match store::open(location, options) {
            Ok(opened) => opened,
            Err(RemoteError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if let Some(size) = opened.hub.as_ref().and_then(|h| h.size) {
            return Ok(Some(size));
        }
        let runtime = runtime::get(&text)?;
        let store = opened.store.clone();
        let path = opened.path.clone();
        match runtime::block_on(runtime, async move { store.head(&path).await }) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(request_error(&text, e)),
        }
    }

    /// Keeps a block the cache let go of for reuse, if it is a whole block's buffer.
    fn retire(&self, block: Bytes) {
        if block.len() as u64 != BLOCK {
            return;
        }
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        spare.push(block);
        if spare.len() > SPARE_BLOCKS {
            spare.remove(0);
        }
    }

    /// Bytes `range` of the object, in one request (retried by the store).
    pub fn fetch(&self, range: Range<u64>) -> io::Result<Bytes> {
        runtime::block_on(self.runtime, self.request(range)).map_err(RemoteError::into_io)
    }

    /// The request for bytes `range`, on this run's version.
    fn request(
        &self,
        range: Range<u64>,
    ) -> impl std::future::Future<Output = Result<Bytes, RemoteError>> + Send + 'static {
        let store = self.store.clone();
        let path = self.path.clone();
        let location = self.location.clone();
        let condition = self.condition.clone();
        let requests = self.requests.clone();
        let counted = self.bytes.clone();
        let spare = self.spare.clone();
        async move {
            let expected = range.end - range.start;
            let options = GetOptions {
                range: Some(GetRange::Bounded(range.clone())),
                if_match: condition.etag.clone(),
                version: condition.version.clone(),
                if_unmodified_since: condition.unmodified_since,
                ..Default::default()
            };
            requests.fetch_add(1, Ordering::Relaxed);
            let result = store.get_opts(&path, options).await;
            let bytes = match result {
                Ok(result) => collect(result.into_stream(), expected, &spare).await,
                Err(e) => Err(e),
            };
            // Every request here follows the first answer, so an object no longer there (or
            // no longer at the pinned GCS generation, which answers 404) changed during the run.
            let bytes = bytes.map_err(|e| match e {
                object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. } => {
                    RemoteError::Changed {
                        location: location.clone(),
                        pin: condition.pin.clone().unwrap_or_default(),
                    }
                }
                e => request_error(&location, e),
            })?;
            counted.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            if bytes.len() as u64 != expected {
                return Err(RemoteError::Malformed {
                    location,
                    reason: format!(
                        "asked for bytes {}..{}, got {} bytes",
                        range.start,
                        range.end,
                        bytes.len()
                    ),
                });
            }
            Ok(bytes)
        }
    }
}

/// The body of an answer of `expected` bytes, in one buffer: a spent block's when one is
/// free (nothing else holds it), else a new one. A body longer than `expected` is cut at one
/// byte past it, for the caller to refuse.
async fn collect(
    mut body: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
    expected: u64,
    spare: &Mutex<Vec<Bytes>>,
) -> object_store::Result<Bytes> {
    let expected = usize::try_from(expected).unwrap_or(usize::MAX);
    let reused = (expected as u64 == BLOCK)
        .then(|| {
            let mut spare = spare.lock().unwrap_or_else(|p| p.into_inner());
            let free = spare.iter().position(Bytes::is_unique)?;
            let mut buffer = spare.swap_remove(free).try_into_mut().ok()?;
            buffer.clear();
            Some(buffer)
        })
        .flatten();
    // At most a block up front: the size asked for comes from the server's own answers (the
    // object's size, a footer's offsets), and a body that never comes must not cost memory.
    let mut buffer =
        reused.unwrap_or_else(|| BytesMut::with_capacity(expected.min(BLOCK as usize)));
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        let room = (expected + 1).saturating_sub(buffer.len());
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buffer.len() > expected {
            break;
        }
    }
    Ok(buffer.freeze())
}

/// Up to `max` bytes at `offset` from the kept block that holds it (up to the block's end),
/// which becomes the most recently used; `None` when no block holds `offset`.
fn slice_from_blocks(
    blocks: &mut VecDeque<(u64, Bytes)>,
    offset: u64,
    max: usize,
) -> Option<Bytes> {
    let index = blocks
        .iter()
        .position(|(at, b)| *at <= offset && offset < at + b.len() as u64)?;
    let (at, block) = blocks.remove(index)?;
    let from = usize::try_from(offset - at).ok()?;
    let slice = block.slice(from..block.len().min(from.saturating_add(max)));
    blocks.push_back((at, block));
    Some(slice)
}

fn request_error(location: &str, error: object_store::Error) -> RemoteError {
    match error {
        object_store::Error::NotFound { .. } => RemoteError::NotFound {
            location: location.to_owned(),
        },
        object_store::Error::NotSupported { .. } => RemoteError::Request {
            location: location.to_owned(),
            cause: "the server does not answer byte ranges (it sent the whole file instead of \
                    the part asked for)"
                .to_owned(),
        },
        e => RemoteError::Request {
            location: location.to_owned(),
            cause: crate::error::one_line(&e),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blocks_serve_reads_within_them() {
        let mut blocks = VecDeque::new();
        blocks.push_back((10, Bytes::from_static(b"abcdef")));
        blocks.push_back((100, Bytes::from_static(b"xyz")));
        assert_eq!(
            slice_from_blocks(&mut blocks, 12, 10).unwrap(),
            &b"cdef"[..]
        );
        assert_eq!(slice_from_blocks(&mut blocks, 16, 10), None);
        assert_eq!(slice_from_blocks(&mut blocks, 101, 1).unwrap(), &b"y"[..]);
        // Most recently used last.
        assert_eq!(blocks.back().unwrap().0, 100);
    }
}
