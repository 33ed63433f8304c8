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
use sha2::{Digest, Sha256};

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

/// A file read once, in order, hashed as it goes, serving the byte ranges a reader asks for.
#[derive(Debug)]
pub(crate) struct SequentialFile {
    file: File,
    len: u64,
    /// Bytes read at a time: a sixteenth of the file, within bounds.
    chunk: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    hasher: Sha256,
    /// Bytes read and hashed so far: the file's first `hashed` bytes.
    hashed: u64,
    /// Whether the file's end was reached.
    at_end: bool,
    /// Chunks kept for serving, contiguous, the last one ending at `hashed`.
    window: VecDeque<(u64, Bytes)>,
    /// Chunks no longer served, reused once nothing holds them.
    spare: VecDeque<Bytes>,
}

impl SequentialFile {
    /// Reads `file` (of `len` bytes when opened) from its start.
    pub(crate) fn new(file: File, len: u64) -> Self {
        let chunk = usize::try_from(len / 16)
            .unwrap_or(MAX_CHUNK)
            .clamp(MIN_CHUNK, MAX_CHUNK);
        Self {
            file,
            len,
            chunk,
            state: Mutex::new(State {
                hasher: Sha256::new(),
                hashed: 0,
                at_end: false,
                window: VecDeque::new(),
                spare: VecDeque::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as consistent as any error would.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hashes the file up to at least `offset` (or its end), keeping none of it: for a
    /// reader that serves no ranges from the chunks.
    pub(crate) fn advance_to(&self, offset: u64) -> io::Result<()> {
        let mut state = self.state();
        while state.hashed < offset && !state.at_end {
            self.read_chunk(&mut state, false)?;
        }
        Ok(())
    }

    /// Hashes the rest of the file and returns its digest.
    pub(crate) fn finish(&self) -> io::Result<FileDigest> {
        let mut state = self.state();
        // Later requests are for bytes already passed, and are read directly.
        state.window.clear();
        while !state.at_end {
            self.read_chunk(&mut state, false)?;
        }
        Ok(FileDigest {
            size: state.hashed,
            sha256: state.hasher.clone().finalize().into(),
        })
    }

    /// Reads, hashes and (if `keep`) keeps the next chunk.
    fn read_chunk(&self, state: &mut State, keep: bool) -> io::Result<()> {
        let mut buffer = take_spare(&mut state.spare, self.chunk);
        let mut filled = 0;
        while filled < buffer.len() {
            match self
                .file
                .read_at(&mut buffer[filled..], state.hashed + filled as u64)
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
        state.hasher.update(&buffer);
        let start = state.hashed;
        state.hashed += filled as u64;
        if keep && filled > 0 {
            state.window.push_back((start, buffer.freeze()));
        } else {
            retire(&mut state.spare, buffer.freeze(), self.chunk);
        }
        Ok(())
    }

    /// Bytes `start..start + len`, from the kept chunks when they hold them. Chunks that end
    /// before `start` are let go: the decoder asks for its pages in file order.
    fn bytes(&self, start: u64, len: usize) -> io::Result<Bytes> {
        let end = start.saturating_add(len as u64);
        let mut state = self.state();
        let kept_from = state.window.front().map_or(state.hashed, |(at, _)| *at);
        if start < kept_from {
            drop(state);
            return self.read_directly(start, len);
        }
        while let Some((at, chunk)) = state.window.front() {
            if at + chunk.len() as u64 > start {
                break;
            }
            if let Some((_, chunk)) = state.window.pop_front() {
                retire(&mut state.spare, chunk, self.chunk);
            }
        }
        while state.hashed < end && !state.at_end {
            self.read_chunk(&mut state, true)?;
        }
        if state.hashed < end {
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

/// A spent chunk's buffer when nothing else holds it, or a fresh one.
fn take_spare(spare: &mut VecDeque<Bytes>, size: usize) -> BytesMut {
    for _ in 0..spare.len() {
        let Some(chunk) = spare.pop_front() else {
            break;
        };
        match chunk.try_into_mut() {
            Ok(buffer) if buffer.len() == size => return buffer,
            Ok(_) => {}
            Err(held) => spare.push_back(held),
        }
    }
    BytesMut::zeroed(size)
}

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
        sequential.advance_to(3 * MIN_CHUNK as u64 + 1).unwrap();
        assert!(sequential.state().window.is_empty());
        // One buffer, reused for every chunk.
        assert_eq!(sequential.state().spare.len(), 1);
        // Ranges are still served, read directly.
        assert_eq!(&sequential.bytes(10, 20).unwrap()[..], &data[10..30]);
        assert_eq!(
            sequential.finish().unwrap().sha256,
            <[u8; 32]>::from(Sha256::digest(&data))
        );
    }
}
