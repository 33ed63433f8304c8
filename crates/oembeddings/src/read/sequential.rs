//! A file read once, front to back, in large chunks, each shown to a [`FileObserver`] as it is
//! read.
//!
//! A consumer that must see every byte of the file it reads (a signer binds the file's
//! SHA-256) would otherwise read it twice: once to observe, once to decode, copying nearly a
//! gigabyte more out of the page cache for a large file, and seeing different bytes if the
//! file changes in between. [`SequentialFile`] reads the file once; the direct vector
//! decoder's pages are served from the chunks it keeps, so the vectors decoded are the bytes
//! observed. Requests it cannot serve from its chunks (an offset already passed) are read
//! directly, so serving never depends on the access order.
//!
//! The reader owns no digest: what is done with the bytes is the observer's business.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use crate::blob::Blob;

/// Sees every byte of the file a [`Reader`](super::Reader) reads, exactly once, in order,
/// from its first byte to its last (see [`ReadOptions::with_observer`](super::ReadOptions::with_observer)).
///
/// The bytes are lent without a copy, right after each read of at most [`OBSERVED_PIECE`]
/// bytes, while they are still in the reading core's cache.
pub trait FileObserver: Send + Sync {
    /// The file's next bytes, which follow those observed before (the first start at offset
    /// 0). Returns false when the observer can take no more; the read then fails.
    fn observe(&self, bytes: &[u8]) -> bool;
}

/// Bytes read, then shown to the observer, at a time: well inside a core's L2 cache, so that
/// an observer hashing them reads them from there.
pub const OBSERVED_PIECE: usize = 1 << 20;

/// Bytes read at a time, at most. Pages (about 1 MiB) that straddle two chunks are copied
/// into one buffer; with 8 MiB chunks that is about one page in eight.
const MAX_CHUNK: usize = 8 << 20;

/// Bytes read at a time, at least.
const MIN_CHUNK: usize = 64 << 10;

/// Spent chunks kept for reuse: a fresh 8 MiB buffer costs two thousand page faults.
const SPARE_CHUNKS: usize = 4;

/// A file read once, in order, shown to an observer as it goes, serving the byte ranges a
/// reader asks for.
pub(crate) struct SequentialFile {
    file: Blob,
    len: u64,
    /// Bytes read at a time: a sixteenth of the file, within bounds, in whole 64 KiB.
    chunk: usize,
    state: Mutex<State>,
    observer: Arc<dyn FileObserver>,
}

impl std::fmt::Debug for SequentialFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequentialFile")
            .field("len", &self.len)
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct State {
    /// Bytes read so far: the file's first `read` bytes.
    read: u64,
    /// Whether the file's end was reached.
    at_end: bool,
    /// Chunks kept for serving, contiguous, the last one ending at `read`.
    window: VecDeque<(u64, Bytes)>,
    /// Spent chunks, reused once nothing else (a page being decoded) holds them.
    spare: VecDeque<Bytes>,
    /// Buffers allocated rather than reused (for the tests of reuse).
    fresh_buffers: usize,
    /// Whether the observer refused bytes: the file cannot be read for it any further.
    refused: bool,
}

impl SequentialFile {
    /// Reads `file` (of `len` bytes when opened) from its start, for `observer`.
    pub(crate) fn new(file: Blob, len: u64, observer: Arc<dyn FileObserver>) -> Self {
        let chunk = usize::try_from(len / 16)
            .unwrap_or(MAX_CHUNK)
            .clamp(MIN_CHUNK, MAX_CHUNK)
            / MIN_CHUNK
            * MIN_CHUNK;
        Self {
            file,
            len,
            chunk,
            state: Mutex::new(State {
                read: 0,
                at_end: false,
                window: VecDeque::new(),
                spare: VecDeque::new(),
                fresh_buffers: 0,
                refused: false,
            }),
            observer,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as consistent as any error would.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the file up to at least `offset` (or its end), keeping none of it: for a
    /// reader that serves no ranges from the chunks.
    pub(crate) fn advance_to(&self, offset: u64) -> io::Result<()> {
        let mut state = self.state();
        while state.read < offset && !state.at_end {
            self.read_chunk(&mut state, false)?;
        }
        Ok(())
    }

    /// Reads the rest of the file for the observer; the number of bytes read in all.
    pub(crate) fn read_to_end(&self) -> io::Result<u64> {
        let mut state = self.state();
        if state.refused {
            return Err(refused());
        }
        // Later requests are for bytes already passed, and are read directly.
        while let Some((_, chunk)) = state.window.pop_front() {
            self.retire(&mut state.spare, chunk);
        }
        while !state.at_end {
            self.read_chunk(&mut state, false)?;
        }
        Ok(state.read)
    }

    /// Reads the next chunk, shows it to the observer and (if `keep`) keeps it for serving.
    fn read_chunk(&self, state: &mut State, keep: bool) -> io::Result<()> {
        if state.refused {
            return Err(refused());
        }
        if state.read >= self.len && !self.grew(state.read)? {
            state.at_end = true;
            return Ok(());
        }
        if self.read_shared_chunk(state, keep)? {
            return Ok(());
        }
        let mut buffer = take_spare(&mut state.spare, self.chunk).unwrap_or_else(|| {
            state.fresh_buffers += 1;
            BytesMut::zeroed(self.chunk)
        });
        let mut filled = 0;
        while filled < buffer.len() {
            let piece = (buffer.len() - filled).min(OBSERVED_PIECE);
            let target = &mut buffer[filled..filled + piece];
            match self.file.read_at(target, state.read + filled as u64) {
                Ok(0) => {
                    state.at_end = true;
                    break;
                }
                Ok(n) => {
                    if !self.observer.observe(&buffer[filled..filled + n]) {
                        state.refused = true;
                        return Err(refused());
                    }
                    filled += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buffer.truncate(filled);
        let start = state.read;
        state.read += filled as u64;
        if filled == 0 {
            return Ok(());
        }
        let chunk = buffer.freeze();
        if keep {
            state.window.push_back((start, chunk));
        } else {
            retire(&mut state.spare, chunk, self.chunk);
        }
        Ok(())
    }

    /// Keeps a spent chunk's buffer for reuse; a shared chunk (a slice of a remote object's
    /// block) goes back to its object instead, once let go of.
    fn retire(&self, spare: &mut VecDeque<Bytes>, chunk: Bytes) {
        if self.file.is_local() {
            retire(spare, chunk, self.chunk);
        }
    }

    /// Reads the next chunk as [`SequentialFile::read_chunk`] does, from a file whose
    /// blocks can be shared (a remote object's): the chunk is a slice of one of them, not a
    /// copy. False, having read nothing, for a file that cannot share (a local one).
    fn read_shared_chunk(&self, state: &mut State, keep: bool) -> io::Result<bool> {
        let Some(chunk) = self.file.read_shared_at(state.read, self.chunk) else {
            return Ok(false);
        };
        let chunk = chunk?;
        if chunk.is_empty() {
            state.at_end = true;
            return Ok(true);
        }
        for piece in chunk.chunks(OBSERVED_PIECE) {
            if !self.observer.observe(piece) {
                state.refused = true;
                return Err(refused());
            }
        }
        let start = state.read;
        state.read += chunk.len() as u64;
        if keep {
            state.window.push_back((start, chunk));
        }
        Ok(true)
    }

    /// Whether the file holds bytes at `offset`, at or past its length when opened: a file
    /// that grew is read to its new end, so that the observer sees what was decoded.
    fn grew(&self, offset: u64) -> io::Result<bool> {
        let mut probe = [0u8; 1];
        loop {
            match self.file.read_at(&mut probe, offset) {
                Ok(n) => return Ok(n > 0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes `start..start + len`, from the kept chunks when they hold them. Chunks that end
    /// before `start` are let go: the decoder asks for its pages in file order.
    fn bytes(&self, start: u64, len: usize) -> io::Result<Bytes> {
        let end = start.saturating_add(len as u64);
        let mut state = self.state();
        let kept_from = state.window.front().map_or(state.read, |(at, _)| *at);
        if start < kept_from {
            return self.file.read_exact_at(start, len);
        }
        while let Some((at, chunk)) = state.window.front() {
            if at + chunk.len() as u64 > start {
                break;
            }
            if let Some((_, chunk)) = state.window.pop_front() {
                self.retire(&mut state.spare, chunk);
            }
        }
        while state.read < end && !state.at_end {
            self.read_chunk(&mut state, true)?;
        }
        if state.read < end {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{len} bytes asked for at offset {start}, past the end of the file"),
            ));
        }
        let mut out: Option<BytesMut> = None;
        for (at, chunk) in &state.window {
            let chunk_end = at + chunk.len() as u64;
            if chunk_end <= start {
                continue;
            }
            if *at >= end {
                break;
            }
            let from = usize::try_from(start.saturating_sub(*at)).unwrap_or(usize::MAX);
            let to = usize::try_from(end.min(chunk_end) - at).unwrap_or(usize::MAX);
            let part = chunk.slice(from..to);
            match out.as_mut() {
                // Within one chunk: no copy.
                None if part.len() == len => return Ok(part),
                None => {
                    let mut joined = BytesMut::with_capacity(len);
                    joined.extend_from_slice(&part);
                    out = Some(joined);
                }
                Some(joined) => joined.extend_from_slice(&part),
            }
        }
        Ok(out.map(BytesMut::freeze).unwrap_or_default())
    }

    /// Up to `max` bytes from `start`, at least one unless at the end of the file.
    fn bytes_upto(&self, start: u64, max: usize) -> io::Result<Bytes> {
        let available = usize::try_from(self.len.saturating_sub(start)).unwrap_or(usize::MAX);
        let mut len = max.min(available).min(self.chunk);
        if len == 0 {
            return Ok(Bytes::new());
        }
        // Stop at the end of the chunk holding `start`, so that no joining copy is needed.
        let in_chunk = {
            let state = self.state();
            state
                .window
                .iter()
                .find(|(at, c)| *at <= start && start < at + c.len() as u64)
                .map(|(at, c)| at + c.len() as u64 - start)
        };
        if let Some(in_chunk) = in_chunk {
            len = len.min(usize::try_from(in_chunk).unwrap_or(len));
        }
        self.bytes(start, len)
    }
}

fn refused() -> io::Error {
    io::Error::other("the consumer of the file's bytes stopped before the file was read")
}

/// A spent chunk's buffer that nothing else holds, if there is one.
fn take_spare(spare: &mut VecDeque<Bytes>, size: usize) -> Option<BytesMut> {
    for _ in 0..spare.len() {
        let Some(chunk) = spare.pop_front() else {
            break;
        };
        match chunk.try_into_mut() {
            Ok(buffer) if buffer.len() == size => return Some(buffer),
            Ok(_) => {}
            Err(held) => spare.push_back(held),
        }
    }
    None
}

/// Keeps a chunk the reader is done with for reuse (once the observer lets go of it too).
fn retire(spare: &mut VecDeque<Bytes>, chunk: Bytes, size: usize) {
    if chunk.len() == size {
        spare.push_back(chunk);
        if spare.len() > SPARE_CHUNKS {
            spare.pop_front();
        }
    }
}

/// Where a column's pages come from: the file directly, or the chunks of a file being read
/// in order for an observer.
#[derive(Debug)]
pub(crate) enum PageSource {
    /// Read directly from the file.
    File(Blob),
    /// Served from a [`SequentialFile`].
    Sequential(Arc<SequentialFile>),
}

impl Length for PageSource {
    fn len(&self) -> u64 {
        match self {
            PageSource::File(file) => Length::len(file),
            PageSource::Sequential(sequential) => sequential.len,
        }
    }
}

impl ChunkReader for PageSource {
    type T = PageRead;

    fn get_read(&self, start: u64) -> parquet::errors::Result<PageRead> {
        // Every page header is read from here: its sizes are checked first.
        match self {
            PageSource::File(file) => {
                super::guard::check_page_header(file, start)?;
                Ok(PageRead::File(file.get_read(start)?))
            }
            PageSource::Sequential(sequential) => {
                super::guard::check_header(start, sequential.len, |at, n| sequential.bytes(at, n))?;
                Ok(PageRead::Sequential {
                    source: sequential.clone(),
                    at: start,
                })
            }
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            PageSource::File(file) => file.get_bytes(start, length),
            PageSource::Sequential(sequential) => sequential
                .bytes(start, length)
                .map_err(|e| ParquetError::External(Box::new(e))),
        }
    }
}

/// A reader from an offset of a [`PageSource`] (for page headers).
#[derive(Debug)]
pub(crate) enum PageRead {
    /// From the file directly.
    File(<Blob as ChunkReader>::T),
    /// From a [`SequentialFile`]'s chunks.
    Sequential {
        /// The file being read.
        source: Arc<SequentialFile>,
        /// Offset of the next byte.
        at: u64,
    },
}

impl Read for PageRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            PageRead::File(read) => read.read(buf),
            PageRead::Sequential { source, at } => {
                let bytes = source.bytes_upto(*at, buf.len())?;
                buf[..bytes.len()].copy_from_slice(&bytes);
                *at += bytes.len() as u64;
                Ok(bytes.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Collects what it observes, checking nothing is skipped or repeated.
    #[derive(Default)]
    struct Collect(Mutex<Vec<u8>>);

    impl FileObserver for Collect {
        fn observe(&self, bytes: &[u8]) -> bool {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(bytes);
            true
        }
    }

    fn file_of(bytes: &[u8]) -> (tempfile::NamedTempFile, Blob) {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(bytes).unwrap();
        let file = std::fs::File::open(tmp.path()).unwrap();
        (tmp, file.into())
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn observed(collect: &Collect) -> Vec<u8> {
        collect.0.lock().unwrap().clone()
    }

    #[test]
    fn serves_ranges_and_shows_the_whole_file() {
        let data = pattern(3 * MIN_CHUNK * 16 + 12_345);
        let (_tmp, file) = file_of(&data);
        let collect = Arc::new(Collect::default());
        let sequential = SequentialFile::new(file, data.len() as u64, collect.clone());
        let chunk = sequential.chunk;
        assert!(chunk > MIN_CHUNK && chunk < MAX_CHUNK);
        // In order, within a chunk, across a chunk boundary, over several chunks, and back
        // before the kept chunks.
        let ranges = [
            (0, 100),
            (5_000, chunk / 2),
            (chunk as u64 - 10, 1_000),
            (2 * chunk as u64 + 7, 2 * chunk),
            (12, 34),
        ];
        for (start, len) in ranges {
            let got = sequential.bytes(start, len).unwrap();
            assert_eq!(&got[..], &data[start as usize..start as usize + len]);
        }
        let mut read = PageRead::Sequential {
            source: Arc::new(sequential),
            at: 5 * chunk as u64 - 3,
        };
        let mut six = [0u8; 6];
        read.read_exact(&mut six).unwrap();
        assert_eq!(six[..], data[5 * chunk - 3..5 * chunk + 3]);
        let PageRead::Sequential { source, .. } = read else {
            unreachable!()
        };
        // Spent chunks were kept for reuse, no more than the bound.
        assert!(!source.state().spare.is_empty());
        assert!(source.state().spare.len() <= SPARE_CHUNKS);
        assert_eq!(source.read_to_end().unwrap(), data.len() as u64);
        assert_eq!(observed(&collect), data);
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let data = pattern(1000);
        let (_tmp, file) = file_of(&data);
        let collect = Arc::new(Collect::default());
        let sequential = SequentialFile::new(file, 1000, collect.clone());
        assert!(sequential.bytes(900, 200).is_err());
        assert_eq!(&sequential.bytes(900, 100).unwrap()[..], &data[900..]);
        assert_eq!(sequential.read_to_end().unwrap(), 1000);
        assert!(sequential.file.read_exact_at(990, 20).is_err());
        assert_eq!(observed(&collect), data);
    }

    #[test]
    fn reading_ahead_keeps_nothing_and_reuses_buffers() {
        let data = pattern(40 * MIN_CHUNK + 1);
        let (_tmp, file) = file_of(&data);
        let collect = Arc::new(Collect::default());
        let sequential = SequentialFile::new(file, data.len() as u64, collect.clone());
        sequential.advance_to(data.len() as u64 - 1).unwrap();
        assert!(sequential.state().window.is_empty());
        // The observer copies what it sees, so every buffer after the first is reused.
        assert_eq!(sequential.state().fresh_buffers, 1);
        // Ranges are still served, read directly.
        assert_eq!(&sequential.bytes(10, 20).unwrap()[..], &data[10..30]);
        assert_eq!(sequential.read_to_end().unwrap(), data.len() as u64);
        assert_eq!(observed(&collect), data);
    }

    #[test]
    fn an_observer_that_stops_fails_the_read() {
        struct Refuse;
        impl FileObserver for Refuse {
            fn observe(&self, _: &[u8]) -> bool {
                false
            }
        }
        let data = pattern(5000);
        let (_tmp, file) = file_of(&data);
        let sequential = SequentialFile::new(file, 5000, Arc::new(Refuse));
        assert!(sequential.bytes(0, 10).is_err());
        assert!(sequential.read_to_end().is_err());
    }

    #[test]
    fn buffers_held_by_a_decoder_are_not_reused_until_released() {
        let data = pattern(20 * MIN_CHUNK);
        let (_tmp, file) = file_of(&data);
        let collect = Arc::new(Collect::default());
        let sequential = SequentialFile::new(file, data.len() as u64, collect.clone());
        // Pages served and held (as a decoded batch holds its pages) keep their chunks.
        let held: Vec<Bytes> = (0..10)
            .map(|i| sequential.bytes(i * MIN_CHUNK as u64, 100).unwrap())
            .collect();
        assert_eq!(sequential.state().fresh_buffers, 10);
        drop(held);
        sequential.read_to_end().unwrap();
        // Once released, spent buffers are reused: reading on allocates none.
        assert_eq!(sequential.state().fresh_buffers, 10);
        assert_eq!(observed(&collect), data);
    }
}
