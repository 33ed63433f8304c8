//! The SHA-256 of a whole file: of a file on its own ([`FileDigest::of_file`]), or of the
//! file a reader decodes, taken from the very reads that decode it ([`FileHashing`]).
//!
//! Hashing is `sha2`'s (SHA-NI where the CPU has it).

use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use oembeddings::FileObserver;
use oembeddings::pipeline::hand_off;
use sha2::{Digest, Sha256};

/// Bytes read at a time by [`hash_reader_overlapped`], and chunks waiting for its hashing
/// thread at most.
pub(crate) const OVERLAPPED_CHUNK: usize = 1 << 20;
const OVERLAPPED_CHUNKS: usize = 3;

/// Bytes read and hashed at a time when hashing a file on its own: well inside a core's L2
/// cache, large enough that the system calls cost nothing.
pub(crate) const READ_CHUNK: usize = 256 << 10;

/// Size and SHA-256 of a whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDigest {
    /// Bytes in the file.
    pub size: u64,
    /// SHA-256 of those bytes.
    pub sha256: [u8; 32],
}

impl FileDigest {
    /// Size and SHA-256 of the file at `path` (a regular file), streamed.
    pub fn of_file(path: &Path) -> io::Result<Self> {
        let mut size = 0u64;
        let sha256 = hash_reader(
            oembeddings::input::open_stream(path)?,
            Sha256::new(),
            |hasher, chunk| {
                size += chunk.len() as u64;
                hasher.update(chunk);
            },
        )?
        .finalize()
        .into();
        Ok(Self { size, sha256 })
    }

    /// The SHA-256 as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        crate::format::digest::hex(&self.sha256)
    }
}

/// Streams `reader` through `update`, a chunk at a time on this thread: each chunk is hashed
/// while the kernel's copy of it is still in this core's cache. (Reading on one thread and
/// hashing on another was measured slower: every chunk then crossed between the cores'
/// caches.) Returns the final state.
pub(crate) fn hash_reader<S>(
    mut reader: impl Read,
    mut state: S,
    mut update: impl FnMut(&mut S, &[u8]),
) -> io::Result<S> {
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        let n = fill(&mut reader, &mut chunk)?;
        if n == 0 {
            return Ok(state);
        }
        update(&mut state, &chunk[..n]);
    }
}

/// Streams `reader` through `update` with reading and hashing overlapped: `update` runs on
/// another thread while the next chunk is read on this one. This pays when hashing is slow
/// enough per byte (BLAKE2b, about 1 GB/s a core) that the read hides behind it; for SHA-256
/// with SHA-NI, [`hash_reader`] on one thread is faster, the chunks' trip between the cores'
/// caches costing more than the overlap gains. Returns the final state.
pub(crate) fn hash_reader_overlapped<S: Send>(
    mut reader: impl Read,
    mut state: S,
    mut update: impl FnMut(&mut S, &[u8]) + Send,
) -> io::Result<S> {
    // Spent buffers go back to the reading side: a fresh 1 MiB buffer costs 256 page faults.
    let (spent, to_fill) = std::sync::mpsc::channel::<Vec<u8>>();
    let (read, state) = hand_off(
        OVERLAPPED_CHUNKS,
        |feed| -> io::Result<()> {
            loop {
                let mut chunk = to_fill.try_recv().unwrap_or_default();
                chunk.resize(OVERLAPPED_CHUNK, 0);
                let n = fill(&mut reader, &mut chunk)?;
                chunk.truncate(n);
                if n == 0 || !feed.send(chunk) {
                    return Ok(());
                }
            }
        },
        move |chunks| {
            for chunk in chunks {
                update(&mut state, &chunk);
                // The reading side may have stopped already; the buffer is then dropped.
                let _ = spent.send(chunk);
            }
            state
        },
    );
    read.map(|()| state)
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
pub(crate) fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The SHA-256 of the file a reader reads, from the bytes the reader shows its observer (see
/// [`oembeddings::ReadOptions::with_observer`]). Each piece is hashed on the reading thread
/// as soon as it is read, while it is in that core's cache (see
/// [`oembeddings::read::OBSERVED_PIECE`]): hashing on another thread was measured to cost a
/// third more CPU, every chunk crossing between the cores' caches.
#[derive(Debug, Default)]
pub(crate) struct FileHashing {
    state: Mutex<(u64, Sha256)>,
}

impl FileObserver for FileHashing {
    fn observe(&self, bytes: &[u8]) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += bytes.len() as u64;
        state.1.update(bytes);
        true
    }
}

impl FileHashing {
    /// A hashing that has seen nothing yet.
    pub(crate) fn start() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The digest of every byte observed.
    pub(crate) fn finish(&self) -> FileDigest {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        FileDigest {
            size: state.0,
            sha256: state.1.clone().finalize().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives at most `step` bytes per read, and `Interrupted` every third call.
    struct Short {
        data: Vec<u8>,
        at: usize,
        step: usize,
        calls: usize,
    }

    impl Read for Short {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn hashing_a_reader_sees_every_byte_in_order() {
        for len in [0, 1, READ_CHUNK - 1, READ_CHUNK, 3 * OVERLAPPED_CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let reader = Short {
                data: data.clone(),
                at: 0,
                step: 100_003,
                calls: 0,
            };
            let hasher = hash_reader(reader, Sha256::new(), |h, c| h.update(c)).unwrap();
            assert_eq!(hasher.finalize(), Sha256::digest(&data), "{len} bytes");
            let reader = Short {
                data: data.clone(),
                at: 0,
                step: 100_003,
                calls: 0,
            };
            let hasher = hash_reader_overlapped(reader, Sha256::new(), |h, c| h.update(c)).unwrap();
            assert_eq!(hasher.finalize(), Sha256::digest(&data), "{len} bytes");
        }
    }

    #[test]
    fn a_failing_reader_is_an_error() {
        struct Fails(usize);
        impl Read for Fails {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        for before in [0, 10, READ_CHUNK, 2 * READ_CHUNK + 5] {
            let result = hash_reader(Fails(before), Sha256::new(), |h, c| h.update(c));
            assert!(result.is_err(), "fails after {before} bytes");
            let result = hash_reader_overlapped(Fails(before), Sha256::new(), |h, c| h.update(c));
            assert!(result.is_err(), "fails after {before} bytes");
        }
    }

    #[test]
    fn a_file_digest_is_the_sha256_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..2 * READ_CHUNK + 333).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let digest = FileDigest::of_file(&path).unwrap();
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(digest.sha256_hex().len(), 64);
        assert!(FileDigest::of_file(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn hashing_what_a_reader_observes() {
        let hashing = FileHashing::start();
        let observer: Arc<dyn FileObserver> = hashing.clone();
        let data: Vec<u8> = (0..100_000).map(|i| (i % 249) as u8).collect();
        for part in data.chunks(7_777) {
            assert!(observer.observe(part));
        }
        drop(observer);
        let digest = hashing.finish();
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    }
}
