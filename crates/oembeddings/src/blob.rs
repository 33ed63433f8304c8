//! Bytes read at any offset, wherever they are: a local file, or (with the `remote`
//! feature) an object behind `https://`, `s3://` or `hf://` (see `oembeddings_remote`).
//!
//! Readers of Parquet take a [`Blob`], so that every command reads a URL wherever it reads
//! a file, and a footer check of a remote file costs one or two requests.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
#[cfg(feature = "remote")]
use std::sync::OnceLock;

use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

#[cfg(feature = "remote")]
pub use oembeddings_remote::{
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, IoStats, Location, Options as RemoteOptions, RemoteObject,
    ServerDigest,
};

/// Requests and bytes asked of a server (none in a build without remote sources).
#[cfg(not(feature = "remote"))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IoStats {
    /// Requests sent.
    pub requests: u64,
    /// Body bytes received.
    pub bytes: u64,
}

/// Bytes at any offset: a local file or a remote object. Clones share the handle.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Blob {
    /// A regular local file.
    Local(Arc<File>),
    /// A remote object, pinned to one version.
    #[cfg(feature = "remote")]
    Remote(Arc<RemoteObject>),
}

impl From<File> for Blob {
    fn from(file: File) -> Self {
        Blob::Local(Arc::new(file))
    }
}

#[cfg(feature = "remote")]
static REMOTE_OPTIONS: OnceLock<RemoteOptions> = OnceLock::new();

/// Sets how remote objects are reached for this process (timeouts, retries): the command
/// line's options. Returns false if they were set already.
#[cfg(feature = "remote")]
pub fn set_remote_options(options: RemoteOptions) -> bool {
    REMOTE_OPTIONS.set(options).is_ok()
}

/// Remote objects opened during the current run, by location (see [`run`]).
#[cfg(feature = "remote")]
type Opened = std::collections::HashMap<String, Arc<RemoteObject>>;

/// A store (by [`store_root`]) that calls in progress reach with their options, and how many
/// of them do.
#[cfg(feature = "remote")]
struct StoreClaim {
    root: String,
    options: RemoteOptions,
    holders: usize,
}

/// The current run: how many hold it, the objects it opened, and the stores its callers
/// claimed with their options.
#[cfg(feature = "remote")]
struct RunState {
    holders: usize,
    opened: Option<Opened>,
    claims: Vec<StoreClaim>,
}

#[cfg(feature = "remote")]
static RUN: std::sync::Mutex<RunState> = std::sync::Mutex::new(RunState {
    holders: 0,
    opened: None,
    claims: Vec::new(),
});

/// Signalled when a store's last claim is let go.
#[cfg(feature = "remote")]
static CLAIM_RELEASED: std::sync::Condvar = std::sync::Condvar::new();

#[cfg(feature = "remote")]
fn run_state() -> std::sync::MutexGuard<'static, RunState> {
    RUN.lock().unwrap_or_else(|p| p.into_inner())
}

/// The part of a location that names its store, `scheme://BUCKET-OR-HOST/` (`hf://datasets/`
/// for the Hub): the files beside a file share it.
#[cfg(feature = "remote")]
fn store_root(location: &str) -> Option<&str> {
    let (scheme, rest) = location.split_once("://")?;
    let end = scheme.len() + 3 + rest.find('/').map_or(rest.len(), |i| i + 1);
    location.get(..end)
}

/// The options `location` is reached with: those its store was claimed with (see
/// [`run_with`]), else the process's (see [`set_remote_options`]).
#[cfg(feature = "remote")]
fn remote_options(location: &Path) -> RemoteOptions {
    let text = location.to_string_lossy();
    let state = run_state();
    store_root(&text)
        .and_then(|root| state.claims.iter().find(|c| c.root == root))
        .map_or_else(process_options, |claim| claim.options.clone())
}

/// The process's options (see [`set_remote_options`]).
#[cfg(feature = "remote")]
fn process_options() -> RemoteOptions {
    REMOTE_OPTIONS.get_or_init(RemoteOptions::default).clone()
}

/// While held, every remote object is opened once: later opens of the same location (a
/// command's footer check, then its reader, then a digest of the whole file) share the
/// first one's version, cache and request counts. A command line run holds one for the
/// whole process; the Python functions one per call. Without one, each open is separate.
#[derive(Debug)]
#[must_use = "the run ends when this is dropped"]
pub struct Run {
    /// The stores this run claimed (see [`run_with`]).
    #[cfg(feature = "remote")]
    claimed: Vec<String>,
}

/// Starts a run (see [`Run`]); runs may nest, and the objects are let go when the last ends.
pub fn run() -> Run {
    #[cfg(feature = "remote")]
    {
        let mut run = run_state();
        run.holders += 1;
        run.opened.get_or_insert_with(Opened::new);
    }
    Run {
        #[cfg(feature = "remote")]
        claimed: Vec::new(),
    }
}

/// Starts a run (see [`run`]) that claims the stores of `locations` (their bucket or host:
/// a file, the signatures beside it, an output) with `options` (a Python call's
/// `storage_options`, or the process's when it gave none), until it ends.
///
/// Calls in progress at the same time (Python threads) each reach a store with their own
/// options: a call naming a store that another call holds with other options waits until
/// that one ends, and the objects opened with a store's options are let go with its last
/// claim, so that no call reads with credentials it was not given.
#[cfg(feature = "remote")]
pub fn run_with(options: RemoteOptions, locations: &[&Path]) -> Run {
    let mut roots: Vec<String> = locations
        .iter()
        .filter_map(|location| location.to_str().and_then(store_root))
        .map(str::to_owned)
        .collect();
    roots.sort();
    roots.dedup();
    let mut state = run_state();
    // All at once, so that two calls never hold one store each while waiting for the other's.
    while roots.iter().any(|root| {
        state
            .claims
            .iter()
            .any(|c| &c.root == root && c.options != options)
    }) {
        state = CLAIM_RELEASED
            .wait(state)
            .unwrap_or_else(|p| p.into_inner());
    }
    for root in &roots {
        match state.claims.iter_mut().find(|c| &c.root == root) {
            Some(claim) => claim.holders += 1,
            None => state.claims.push(StoreClaim {
                root: root.clone(),
                options: options.clone(),
                holders: 1,
            }),
        }
    }
    state.holders += 1;
    state.opened.get_or_insert_with(Opened::new);
    Run { claimed: roots }
}

impl Drop for Run {
    fn drop(&mut self) {
        #[cfg(feature = "remote")]
        {
            let mut run = run_state();
            let mut released = Vec::new();
            for root in &self.claimed {
                if let Some(claim) = run.claims.iter_mut().find(|c| &c.root == root) {
                    claim.holders = claim.holders.saturating_sub(1);
                    if claim.holders == 0 {
                        released.push(root.as_str());
                    }
                }
            }
            run.claims.retain(|c| c.holders > 0);
            if let Some(objects) = run.opened.as_mut() {
                objects.retain(|location, _| !released.iter().any(|r| location.starts_with(r)));
            }
            run.holders = run.holders.saturating_sub(1);
            if run.holders == 0 {
                run.opened = None;
            }
            if !released.is_empty() {
                CLAIM_RELEASED.notify_all();
            }
        }
    }
}

/// Requests and bytes asked of servers so far by the current run's remote objects (see
/// [`run`]); `None` when it opened none.
pub fn run_io() -> Option<IoStats> {
    #[cfg(feature = "remote")]
    {
        let run = run_state();
        let objects = run.opened.as_ref().filter(|objects| !objects.is_empty())?;
        Some(objects.values().fold(IoStats::default(), |sum, object| {
            let io = object.io();
            IoStats {
                requests: sum.requests + io.requests,
                bytes: sum.bytes + io.bytes,
            }
        }))
    }
    #[cfg(not(feature = "remote"))]
    None
}

/// Whether `location` names a remote object (a URL with a scheme) rather than a path.
pub fn is_remote(location: &Path) -> bool {
    #[cfg(feature = "remote")]
    {
        location.to_str().is_some_and(Location::is_url)
    }
    // Without the feature, a URL is still told from a path, to be refused by name.
    #[cfg(not(feature = "remote"))]
    {
        location.to_str().is_some_and(|text| text.contains("://"))
    }
}

impl Blob {
    /// Opens `location`: a URL this build reads, else a regular local file (see
    /// [`crate::input::open_regular`]).
    pub fn open(location: &Path) -> io::Result<Self> {
        #[cfg(feature = "remote")]
        {
            Self::open_with(location, &remote_options(location))
        }
        #[cfg(not(feature = "remote"))]
        {
            if is_remote(location) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "remote locations are not read by this build (feature `remote`)",
                ));
            }
            crate::input::open_regular(location).map(Blob::from)
        }
    }

    /// Whether `location` exists: a local path, or a remote object the server says is there
    /// (one HEAD request). An error of the server counts as absent.
    pub fn exists(location: &Path) -> bool {
        #[cfg(feature = "remote")]
        if is_remote(location) {
            let text = location.to_string_lossy();
            let options = remote_options(location);
            return Location::parse(&text)
                .and_then(|parsed| RemoteObject::head(&parsed, &options))
                .is_ok_and(|size| size.is_some());
        }
        location.exists()
    }

    /// The files under the remote prefix `location` (a release directory): listed by S3 and
    /// the Hub (at one commit), not by plain HTTP.
    #[cfg(feature = "remote")]
    pub fn list(location: &Path) -> io::Result<oembeddings_remote::Listing> {
        let text = location.to_string_lossy();
        let options = remote_options(location);
        Location::parse_prefix(&text)
            .and_then(|parsed| oembeddings_remote::list(&parsed, &options))
            .map_err(|e| e.into_io())
    }

    /// Uploads the finished local file `from` to the remote location `to` (`s3://`), as one
    /// multipart upload: nothing is visible under `to` until it completes. Returns the bytes
    /// sent.
    #[cfg(feature = "remote")]
    pub fn upload(from: &Path, to: &Path) -> io::Result<u64> {
        let text = to.to_string_lossy();
        let options = remote_options(to);
        Location::parse(&text)
            .and_then(|parsed| oembeddings_remote::upload(from, &parsed, &options))
            .map_err(|e| e.into_io())
    }

    /// Opens `location` with these options for a remote object.
    #[cfg(feature = "remote")]
    pub fn open_with(location: &Path, options: &RemoteOptions) -> io::Result<Self> {
        if is_remote(location) {
            let text = location.to_string_lossy().into_owned();
            let opened = run_state()
                .opened
                .as_ref()
                .and_then(|objects| objects.get(&text).cloned());
            if let Some(object) = opened {
                return Ok(Blob::Remote(object));
            }
            let parsed = Location::parse(&text).map_err(|e| e.into_io())?;
            let object = Arc::new(RemoteObject::open(&parsed, options).map_err(|e| e.into_io())?);
            let mut run = run_state();
            if let Some(objects) = run.opened.as_mut() {
                // Another thread may have opened it meanwhile: the first one stays.
                let kept = objects.entry(text).or_insert(object);
                return Ok(Blob::Remote(kept.clone()));
            }
            return Ok(Blob::Remote(object));
        }
        crate::input::open_regular(location).map(Blob::from)
    }

    /// The size in bytes (a local file's size now; a remote object's as first seen).
    pub fn len(&self) -> u64 {
        match self {
            Blob::Local(file) => file.metadata().map(|m| m.len()).unwrap_or(0),
            #[cfg(feature = "remote")]
            Blob::Remote(object) => object.len(),
        }
    }

    /// When the bytes were last modified, in Unix seconds (a remote object's as its server
    /// says).
    pub fn modified_unix(&self) -> io::Result<i64> {
        match self {
            Blob::Local(file) => Ok(file
                .metadata()
                .and_then(|m| m.modified())?
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))),
            #[cfg(feature = "remote")]
            Blob::Remote(object) => Ok(object.modified_unix()),
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `buf.len()` bytes at `offset`; 0 at the end.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self {
            Blob::Local(file) => read_file_at(file, buf, offset),
            #[cfg(feature = "remote")]
            Blob::Remote(object) => object.read_at(buf, offset),
        }
    }

    /// Whether this is a local file.
    pub fn is_local(&self) -> bool {
        matches!(self, Blob::Local(_))
    }

    /// Up to `max` bytes at `offset` without a copy, for a remote object: a slice of a block
    /// it holds (fewer bytes at the block's end, none at the object's end). `None` for a local
    /// file, which has no buffer to share: read it with [`Blob::read_at`].
    pub fn read_shared_at(&self, offset: u64, max: usize) -> Option<io::Result<Bytes>> {
        match self {
            Blob::Local(_) => None,
            #[cfg(feature = "remote")]
            Blob::Remote(object) => Some(object.slice_at(offset, max)),
        }
    }

    /// Exactly `len` bytes at `start`.
    pub fn read_exact_at(&self, start: u64, len: usize) -> io::Result<Bytes> {
        #[cfg(feature = "remote")]
        if let Blob::Remote(object) = self {
            if start.saturating_add(len as u64) > object.len() {
                return Err(past_the_end(start, len));
            }
            return object.bytes(start..start + len as u64);
        }
        let mut buffer = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            match self.read_at(&mut buffer[filled..], start + filled as u64) {
                Ok(0) => return Err(past_the_end(start, len)),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(buffer.into())
    }

    /// A reader from the start, that can seek (for footers and whole-file digests).
    pub fn cursor(&self) -> BlobCursor {
        BlobCursor {
            blob: self.clone(),
            pos: 0,
        }
    }

    /// The remote object, when this is one.
    #[cfg(feature = "remote")]
    pub fn remote(&self) -> Option<&RemoteObject> {
        match self {
            Blob::Remote(object) => Some(object),
            Blob::Local(_) => None,
        }
    }

    /// Requests and bytes asked of a server so far; `None` for a local file.
    pub fn io(&self) -> Option<IoStats> {
        match self {
            Blob::Local(_) => None,
            #[cfg(feature = "remote")]
            Blob::Remote(object) => Some(object.io()),
        }
    }
}

fn past_the_end(start: u64, len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{len} bytes asked for at offset {start}, past the end of the file"),
    )
}

/// Reads at `offset` without moving the file's cursor (which clones of the handle share).
#[cfg(unix)]
pub(crate) fn read_file_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// Reads at `offset` (Windows moves the cursor, which nothing here relies on).
#[cfg(windows)]
pub(crate) fn read_file_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Reads at `offset` through the cursor, where no positional read exists.
#[cfg(not(any(unix, windows)))]
pub(crate) fn read_file_at(mut file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    file.read(buf)
}

/// A [`Blob`] read from a position that moves: `Read + Seek`.
#[derive(Debug, Clone)]
pub struct BlobCursor {
    blob: Blob,
    pos: u64,
}

impl Read for BlobCursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.blob.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlobCursor {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.blob.len().checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

impl Length for Blob {
    fn len(&self) -> u64 {
        Blob::len(self)
    }
}

/// Bytes a page header reader buffers: headers are tens of bytes, statistics a few KB.
const HEADER_BUFFER: usize = 8 << 10;

impl ChunkReader for Blob {
    type T = io::BufReader<BlobCursor>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let mut cursor = self.cursor();
        cursor.pos = start;
        Ok(io::BufReader::with_capacity(HEADER_BUFFER, cursor))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.read_exact_at(start, length)
            .map_err(|e| ParquetError::External(Box::new(e)))
    }
}

#[cfg(all(test, feature = "remote"))]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn the_files_beside_a_file_share_its_store_root() {
        assert_eq!(store_root("s3://bucket/a/b.parquet"), Some("s3://bucket/"));
        assert_eq!(store_root("s3://bucket"), Some("s3://bucket"));
        assert_eq!(
            store_root("https://example.org:8443/x/y.parquet"),
            Some("https://example.org:8443/")
        );
        assert_eq!(
            store_root("hf://datasets/org/name/x.parquet"),
            Some("hf://datasets/")
        );
        assert_eq!(store_root("data/x.parquet"), None);
    }

    #[test]
    fn a_store_held_with_other_options_is_waited_for() {
        let root = Path::new("s3://claims-test-bucket/x.parquet");
        let beside = Path::new("s3://claims-test-bucket/x.parquet.asc");
        let first_options = RemoteOptions::default().with_retries(1);
        let second_options = RemoteOptions::default().with_retries(2);
        let first = run_with(first_options.clone(), &[root]);
        // The same options share the store at once.
        drop(run_with(first_options.clone(), &[beside]));
        assert_eq!(remote_options(beside), first_options);
        let (started, waited) = mpsc::channel();
        let second = std::thread::spawn(move || {
            let run = run_with(
                second_options.clone(),
                &[Path::new("s3://claims-test-bucket/y")],
            );
            started.send(remote_options(beside)).unwrap();
            drop(run);
        });
        assert!(
            waited.recv_timeout(Duration::from_millis(300)).is_err(),
            "the second call must wait while the first holds the store"
        );
        drop(first);
        let seen = waited.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(seen.retries, 2);
        second.join().unwrap();
        // Once no call holds it, the process's options apply again.
        assert_eq!(remote_options(beside), process_options());
    }
}
