//! The SHA-256 of a whole file, taken from the same reads that decode its vectors.
//!
//! A signed release binds the data file's SHA-256, and signing also decodes every vector.
//! Reading the file twice (once to hash, once to decode) copies nearly a gigabyte more out of
//! the page cache for a large file, and lets the two reads see different bytes if the file
//! changes in between. [`SequentialFile`] reads the file once, front to back, in large chunks:
//! each chunk is hashed, and the vector decoder's pages are served from the chunks it keeps,
//! so the vectors decoded are the bytes hashed. Requests it cannot serve from its chunks (an
//! offset already passed) are read directly, so serving never depends on the access order.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use crate::sha256_pair::{Segments, Stream, StreamSource, digest_beside};

/// Size and SHA-256 of a whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDigest {
    /// Bytes in the file.
    pub size: u64,
    /// SHA-256 of those bytes.
    pub sha256: [u8; 32],
}

impl FileDigest {
    /// Size and SHA-256 of the file at `path`, streamed.
    pub fn of_file(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        SequentialFile::new(file, len).finish()
    }

    /// The SHA-256 as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Bytes read at a time, at most. Pages (about 1 MiB) that straddle two chunks are copied
/// into one buffer; with 8 MiB chunks that is about one page in eight.
const MAX_CHUNK: usize = 8 << 20;

/// Bytes read at a time, at least.
const MIN_CHUNK: usize = 64 << 10;

/// Spent chunks kept for reuse: a fresh 8 MiB buffer costs two thousand page faults.
const SPARE_CHUNKS: usize = 4;

/// Chunks read but not yet hashed, at most, before the reading thread hashes the oldest
/// itself: hashing waits for record digests to pair with (see [`FileHashing`]), but must not
/// hold on to the file.
const MAX_UNHASHED: usize = 4;

/// A file read once, in order, hashed as it goes, serving the byte ranges a reader asks for.
#[derive(Debug)]
pub(crate) struct SequentialFile {
    file: File,
    len: u64,
    /// Bytes read at a time: a sixteenth of the file, within bounds, in whole 64 KiB (so
    /// that every chunk but the last is whole SHA-256 blocks).
    chunk: usize,
    state: Mutex<State>,
    /// The file's SHA-256, over the chunks in order. Locked before `state` when both are.
    lane: Mutex<FileLane>,
}

#[derive(Debug)]
struct State {
    /// Bytes read so far: the file's first `read` bytes.
    read: u64,
    /// Whether the file's end was reached.
    at_end: bool,
    /// Chunks kept for serving, contiguous, the last one ending at `read`.
    window: VecDeque<(u64, Bytes)>,
    /// Chunks read and not yet hashed, in order, with their offsets.
    unhashed: VecDeque<(u64, Bytes)>,
    /// Hashed chunks, reused once nothing holds them.
    spare: VecDeque<Bytes>,
    /// Buffers allocated rather than reused (for the tests of reuse).
    fresh_buffers: usize,
}

/// The file's SHA-256 so far: whole blocks hashed, the chunk being hashed, and the bytes of
/// a last, partial block.
#[derive(Debug, Default)]
struct FileLane {
    stream: Stream,
    /// The rest of the chunk being hashed (whole blocks).
    current: Bytes,
    /// The whole chunk being hashed, returned for reuse once hashed.
    held: Option<Bytes>,
    /// Bytes after `current`, fewer than a block.
    carry: Vec<u8>,
    /// Why the digest cannot be trusted, if a chunk came out of order.
    failed: Option<String>,
}

impl FileLane {
    /// Offset of the next byte to come.
    fn next_offset(&self) -> u64 {
        self.stream.len() + (self.current.len() + self.carry.len()) as u64
    }

    /// Takes the next chunk, which starts at `offset`; `current` must be hashed.
    fn take(&mut self, offset: u64, chunk: Bytes) -> io::Result<()> {
        if offset != self.next_offset() || !self.current.is_empty() {
            return Err(io::Error::other(format!(
                "internal error: the chunk at offset {offset} was hashed out of order"
            )));
        }
        let mut rest = chunk.clone();
        if !self.carry.is_empty() {
            let take = (64 - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..take]);
            rest = rest.slice(take..);
            if self.carry.len() == 64 {
                self.stream.update_blocks(&self.carry);
                self.carry.clear();
            }
        }
        let whole = rest.len() / 64 * 64;
        self.carry.extend_from_slice(&rest[whole..]);
        self.current = rest.slice(..whole);
        self.held = Some(chunk);
        Ok(())
    }

    /// Hashes the rest of the current chunk alone; returns the chunk for reuse.
    fn hash_current(&mut self) -> Option<Bytes> {
        let current = std::mem::take(&mut self.current);
        self.stream.update_blocks(&current);
        drop(current);
        self.held.take()
    }
}

impl SequentialFile {
    /// Reads `file` (of `len` bytes when opened) from its start.
    pub(crate) fn new(file: File, len: u64) -> Self {
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
                unhashed: VecDeque::new(),
                spare: VecDeque::new(),
                fresh_buffers: 0,
            }),
            lane: Mutex::new(FileLane::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as consistent as any error would.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lane(&self) -> MutexGuard<'_, FileLane> {
        self.lane
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

    /// Hashes the rest of the file and returns its digest.
    pub(crate) fn finish(&self) -> io::Result<FileDigest> {
        let mut lane = self.lane();
        if let Some(failed) = &lane.failed {
            return Err(io::Error::other(failed.clone()));
        }
        let mut state = self.state();
        // Later requests are for bytes already passed, and are read directly.
        state.window.clear();
        loop {
            if let Some(chunk) = lane.hash_current() {
                retire(&mut state.spare, chunk, self.chunk);
            }
            if let Some((offset, chunk)) = state.unhashed.pop_front() {
                lane.take(offset, chunk)?;
            } else if state.at_end {
                break;
            } else {
                self.read_chunk(&mut state, false)?;
            }
        }
        Ok(FileDigest {
            size: state.read,
            sha256: lane.stream.clone().finish(&lane.carry),
        })
    }

    /// Reads and (if `keep`) keeps the next chunk. It is hashed later: beside record
    /// digests (see [`FileHashing`]), or alone once [`MAX_UNHASHED`] chunks wait.
    fn read_chunk(&self, state: &mut State, keep: bool) -> io::Result<()> {
        let mut buffer = take_spare(&mut state.spare, self.chunk).unwrap_or_else(|| {
            state.fresh_buffers += 1;
            BytesMut::zeroed(self.chunk)
        });
        let mut filled = 0;
        while filled < buffer.len() {
            match self
                .file
                .read_at(&mut buffer[filled..], state.read + filled as u64)
            {
                Ok(0) => {
                    state.at_end = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buffer.truncate(filled);
        let start = state.read;
        state.read += filled as u64;
        if filled > 0 {
            let chunk = buffer.freeze();
            if keep {
                state.window.push_back((start, chunk.clone()));
            }
            state.unhashed.push_back((start, chunk));
        }
        // Whoever holds the lane is hashing beside record digests and will catch up; the
        // lane is never waited for here, as its holder may be waiting for `state`.
        if state.unhashed.len() > MAX_UNHASHED
            && let Ok(mut lane) = self.lane.try_lock()
        {
            while state.unhashed.len() > MAX_UNHASHED / 2 {
                if let Some(chunk) = lane.hash_current() {
                    retire(&mut state.spare, chunk, self.chunk);
                }
                if let Some((offset, chunk)) = state.unhashed.pop_front() {
                    lane.take(offset, chunk)?;
                }
            }
        }
        Ok(())
    }

    /// Bytes `start..start + len`, from the kept chunks when they hold them. Chunks that end
    /// before `start` are let go: the decoder asks for its pages in file order.
    fn bytes(&self, start: u64, len: usize) -> io::Result<Bytes> {
        let end = start.saturating_add(len as u64);
        let mut state = self.state();
        let kept_from = state.window.front().map_or(state.read, |(at, _)| *at);
        if start < kept_from {
            drop(state);
            return self.read_directly(start, len);
        }
        while let Some((at, chunk)) = state.window.front() {
            if at + chunk.len() as u64 > start {
                break;
            }
            // Not retired here: the hashing side retires every chunk once it is hashed, and
            // a chunk retired twice could never be reused (neither handle is the only one).
            state.window.pop_front();
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

    fn read_directly(&self, start: u64, len: usize) -> io::Result<Bytes> {
        let mut buffer = vec![0u8; len];
        self.file.read_exact_at(&mut buffer, start)?;
        Ok(buffer.into())
    }
}

/// The hashing of the file a [`Reader`](crate::Reader) reads with
/// [`ReadOptions::file_digest`](crate::ReadOptions::file_digest): it can hash the file's
/// bytes, as they are read, beside other messages, which is faster than hashing either
/// alone (see [`crate::sha256_pair`]). The file's digest is the same whether or not it is
/// used.
#[derive(Debug, Clone)]
pub struct FileHashing(Arc<SequentialFile>);

impl FileHashing {
    pub(crate) fn new(file: Arc<SequentialFile>) -> Self {
        Self(file)
    }

    /// The SHA-256 of each of `messages` (each the concatenation of its segments), in
    /// order. The file's bytes read so far and not yet hashed are hashed beside them.
    pub fn digest_beside(&self, messages: &[&Segments<'_>]) -> Vec<[u8; 32]> {
        let file = &*self.0;
        let mut source = LaneSource {
            file,
            lane: file.lane(),
        };
        digest_beside(messages, &mut source)
    }
}

/// The file's unhashed chunks as the stream beside messages, while the lane is held.
struct LaneSource<'a> {
    file: &'a SequentialFile,
    lane: MutexGuard<'a, FileLane>,
}

impl StreamSource for LaneSource<'_> {
    fn stream(&mut self) -> &mut Stream {
        &mut self.lane.stream
    }

    fn next_blocks(&mut self) -> Bytes {
        while self.lane.current.is_empty() && self.lane.failed.is_none() {
            let mut state = self.file.state();
            if let Some(chunk) = self.lane.held.take() {
                retire(&mut state.spare, chunk, self.file.chunk);
            }
            let Some((offset, chunk)) = state.unhashed.pop_front() else {
                return Bytes::new();
            };
            drop(state);
            if let Err(e) = self.lane.take(offset, chunk) {
                self.lane.failed = Some(e.to_string());
            }
        }
        self.lane.current.clone()
    }

    fn consume(&mut self, bytes: usize) {
        let rest = self.lane.current.slice(bytes..);
        self.lane.current = rest;
    }
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

/// Keeps a hashed chunk for reuse. Called once per chunk, when it is hashed.
fn retire(spare: &mut VecDeque<Bytes>, chunk: Bytes, size: usize) {
    if chunk.len() == size {
        spare.push_back(chunk);
        if spare.len() > SPARE_CHUNKS {
            spare.pop_front();
        }
    }
}

/// Where a column's pages come from: the file directly, or the chunks of a file being
/// hashed.
#[derive(Debug)]
pub(crate) enum PageSource {
    /// Read directly from the file.
    File(File),
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
        match self {
            PageSource::File(file) => Ok(PageRead::File(file.get_read(start)?)),
            PageSource::Sequential(sequential) => Ok(PageRead::Sequential {
                source: sequential.clone(),
                at: start,
            }),
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
    File(<File as ChunkReader>::T),
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
    use sha2::{Digest, Sha256};
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(bytes).unwrap();
        let file = File::open(tmp.path()).unwrap();
        (tmp, file)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn serves_ranges_and_hashes_the_whole_file() {
        let data = pattern(3 * MIN_CHUNK * 16 + 12_345);
        let (_tmp, file) = file_of(&data);
        let sequential = SequentialFile::new(file, data.len() as u64);
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
        let digest = source.finish().unwrap();
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let data = pattern(1000);
        let (_tmp, file) = file_of(&data);
        let sequential = SequentialFile::new(file, 1000);
        assert!(sequential.bytes(900, 200).is_err());
        assert_eq!(&sequential.bytes(900, 100).unwrap()[..], &data[900..]);
        let digest = sequential.finish().unwrap();
        assert_eq!(digest.sha256_hex().len(), 64);
        assert_eq!(digest.size, 1000);
    }

    #[test]
    fn hashing_alone_keeps_nothing() {
        let data = pattern(40 * MIN_CHUNK + 1);
        let (_tmp, file) = file_of(&data);
        let sequential = SequentialFile::new(file, data.len() as u64);
        sequential.advance_to(data.len() as u64 - 1).unwrap();
        assert!(sequential.state().window.is_empty());
        // Chunks wait to be hashed beside record digests, but no more than the bound, and
        // their buffers are reused once hashed.
        assert!(sequential.state().unhashed.len() <= MAX_UNHASHED);
        assert!(sequential.state().read > (2 * MAX_UNHASHED * sequential.chunk) as u64);
        assert!(!sequential.state().spare.is_empty());
        // Ranges are still served, read directly.
        assert_eq!(&sequential.bytes(10, 20).unwrap()[..], &data[10..30]);
        assert_eq!(
            sequential.finish().unwrap().sha256,
            <[u8; 32]>::from(Sha256::digest(&data))
        );
    }

    #[test]
    fn hashing_beside_messages_gives_both_digests() {
        // Not a whole number of blocks, so the last chunk leaves a partial block.
        let data = pattern(7 * MIN_CHUNK * 16 + 777);
        let (_tmp, file) = file_of(&data);
        let sequential = Arc::new(SequentialFile::new(file, data.len() as u64));
        let chunk = sequential.chunk;
        let hashing = FileHashing::new(sequential.clone());
        let messages: Vec<Vec<u8>> = (0..9).map(|i| pattern(i * 1_237 + 5)).collect();
        let expected: Vec<[u8; 32]> = messages.iter().map(|m| Sha256::digest(m).into()).collect();
        // Nothing read yet: the messages pair with each other.
        let segments: Vec<[&[u8]; 2]> = messages
            .iter()
            .map(|m| m.split_at(m.len() / 3).into())
            .collect();
        let refs: Vec<&Segments<'_>> = segments.iter().map(|s| &s[..]).collect();
        assert_eq!(hashing.digest_beside(&refs), expected);
        // After the first read, before any chunk could be hashed alone, the messages take
        // the file's blocks beside them.
        assert_eq!(&sequential.bytes(0, 100).unwrap()[..], &data[..100]);
        assert_eq!(sequential.lane().stream.len(), 0);
        assert_eq!(hashing.digest_beside(&refs), expected);
        assert!(sequential.lane().stream.len() > 0);
        // Reads in order, with messages hashed beside them after each.
        let mut at = 100u64;
        while at < data.len() as u64 {
            let len = (chunk / 3).min(data.len() - at as usize);
            let got = sequential.bytes(at, len).unwrap();
            assert_eq!(&got[..], &data[at as usize..at as usize + len]);
            at += len as u64;
            assert_eq!(
                hashing.digest_beside(&refs[..(at as usize / chunk) % 9]),
                expected[..(at as usize / chunk) % 9]
            );
        }
        // Buffers were reused: each chunk is retired once, by the hashing side.
        let fresh = sequential.state().fresh_buffers;
        assert!(
            fresh <= MAX_UNHASHED + SPARE_CHUNKS,
            "{fresh} buffers allocated"
        );
        let digest = sequential.finish().unwrap();
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    }
}
