//! A page header's claims, checked before a decoder acts on them. parquet-rs allocates a
//! page's `uncompressed_page_size` before decompressing into it: a 2 KB file whose headers
//! claim 2^31-1 bytes made it reserve 2 GiB per column. Every page header the decoders read
//! passes through [`GuardedFile::get_read`] (and [`check_page_header`] for the direct vector
//! decoder), which reads the header's first fields and refuses a page that claims to expand
//! beyond [`MAX_EXPANSION`] times its compressed size (and at least [`MIN_ALLOWED`] bytes).

use bytes::Bytes;
use parquet::errors::{ParquetError, Result};
use parquet::file::reader::{ChunkReader, Length};

use crate::blob::Blob;
use crate::footer::HeaderScan;

/// Uncompressed bytes a page may claim per compressed byte. Real pages of embeddings
/// compress by less than 10; a page of one repeated value by a few thousand at most, and
/// such a page is covered by [`MIN_ALLOWED`] whatever its ratio.
pub const MAX_EXPANSION: i64 = 1024;

/// Uncompressed bytes any page may claim, whatever its compressed size.
pub const MIN_ALLOWED: i64 = 64 << 20;

/// Bytes read at a page header's offset to find its sizes: the sizes are the second and
/// third fields, within the first few bytes.
const HEADER_PEEK: usize = 64;

/// Bytes of one page header walked at most before a decoder reads it (statistics of long
/// strings make headers of a few KB; longer ones are walked by the decoder alone).
const MAX_HEADER_SCAN: usize = 1 << 20;

/// A file as a Parquet decoder should read it when its bytes are hostile: every page header
/// checked first (see the module's text), reads past the end refused. It is the
/// [`ChunkReader`] the records reader uses, for other readers of Parquet (signature
/// sidecars) to use too.
#[derive(Debug)]
pub struct GuardedFile(pub Blob);

impl GuardedFile {
    /// Opens `path` for a Parquet decoder: a regular file (see
    /// [`crate::input::open_regular`]) whose footer passed [`crate::footer::check`].
    pub fn open(path: &std::path::Path) -> std::result::Result<Self, super::ReadError> {
        let file = Blob::open(path).map_err(|source| super::ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        crate::footer::check(&mut file.cursor()).map_err(|source| super::ReadError::Footer {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self(file))
    }
}

impl Length for GuardedFile {
    fn len(&self) -> u64 {
        Length::len(&self.0)
    }
}

impl ChunkReader for GuardedFile {
    type T = <Blob as ChunkReader>::T;

    fn get_read(&self, start: u64) -> Result<Self::T> {
        check_page_header(&self.0, start)?;
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        let end = start.checked_add(length as u64);
        if end.is_none_or(|end| end > Length::len(&self.0)) {
            return Err(ParquetError::EOF(format!(
                "{length} bytes asked for at offset {start}, past the end of the file"
            )));
        }
        self.0.get_bytes(start, length)
    }
}

/// Refuses the page whose header starts at `start` in `file` when its claims cannot be
/// honest (see [`check_header`]).
pub(crate) fn check_page_header(file: &Blob, start: u64) -> Result<()> {
    let len = Length::len(file);
    // `check_header` asks for no more than the file holds.
    check_header(start, len, |offset, n| file.read_exact_at(offset, n))
}

/// Refuses the page whose header starts at `start` of a file of `len` bytes, read through
/// `peek(offset, n)`, when it claims more uncompressed bytes than its compressed size can
/// hold (see [`MAX_EXPANSION`]), or holds a container of booleans longer than the file (see
/// [`crate::footer::scan_page_header`]). Headers that cannot be read here pass: the decoder
/// reads them and reports what is wrong.
pub(crate) fn check_header(
    start: u64,
    len: u64,
    mut peek: impl FnMut(u64, usize) -> std::io::Result<Bytes>,
) -> Result<()> {
    let remaining = len.saturating_sub(start);
    let mut want = HEADER_PEEK;
    loop {
        let n = usize::try_from(remaining).map_or(want, |r| r.min(want));
        let header = peek(start, n).map_err(|e| ParquetError::External(Box::new(e)))?;
        check_sizes(&header, start)?;
        match crate::footer::scan_page_header(&header, remaining) {
            HeaderScan::Clean => return Ok(()),
            HeaderScan::BoolContainer { at, count } => {
                return Err(ParquetError::General(format!(
                    "the page header at offset {start} claims {count} booleans at offset {}, \
                     more than the bytes left in the file could hold",
                    start + at as u64,
                )));
            }
            // Headers with long statistics are read further, up to a bound: a header
            // longer than that is walked by the decoder alone.
            HeaderScan::Truncated
                if header.len() == n && n < MAX_HEADER_SCAN && (n as u64) < remaining =>
            {
                want = n.saturating_mul(16).min(MAX_HEADER_SCAN);
            }
            HeaderScan::Truncated => return Ok(()),
        }
    }
}

/// [`check_page_header`]'s size check of header bytes already in memory.
pub(crate) fn check_sizes(header: &[u8], start: u64) -> Result<()> {
    let Some((uncompressed, compressed)) = crate::footer::page_header_sizes(header) else {
        return Ok(());
    };
    let allowed = compressed
        .max(0)
        .saturating_mul(MAX_EXPANSION)
        .max(MIN_ALLOWED);
    if uncompressed > allowed {
        return Err(ParquetError::General(format!(
            "the page at offset {start} claims {uncompressed} bytes uncompressed from {compressed} \
             compressed (more than {MAX_EXPANSION} times, and more than {MIN_ALLOWED} bytes)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page header's first fields: type (field 1), then the two sizes, as zigzag varints.
    fn header(uncompressed: u32, compressed: u32) -> Vec<u8> {
        let mut out = vec![0x15, 0x00]; // field 1, i32: 0 (DATA_PAGE)
        for (delta_type, value) in [(0x15u8, uncompressed), (0x15, compressed)] {
            out.push(delta_type);
            let mut v = u64::from(value) << 1;
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        out.push(0);
        out
    }

    #[test]
    fn pages_that_claim_to_expand_too_far_are_refused() {
        assert!(check_sizes(&header(1 << 20, 1 << 19), 4).is_ok());
        assert!(check_sizes(&header(60 << 20, 10), 4).is_ok());
        let err = check_sizes(&header(0x7fff_ffff, 100), 4).unwrap_err();
        assert!(err.to_string().contains("claims 2147483647 bytes"), "{err}");
        assert!(check_sizes(&header(200 << 20, 1 << 20), 4).is_ok());
        // Bytes that are no page header pass: the decoder reports them.
        assert!(check_sizes(&[0xff, 0xff], 4).is_ok());
        assert!(check_sizes(&[], 4).is_ok());
    }

    /// Reads a header from bytes in memory as the file reader does.
    fn check_bytes(file: &[u8]) -> Result<()> {
        check_header(0, file.len() as u64, |at, n| {
            let at = at as usize;
            Ok(Bytes::copy_from_slice(&file[at..at + n]))
        })
    }

    #[test]
    fn boolean_lists_longer_than_the_file_are_refused() {
        // field 1 i32 0, then field 9 (unknown): a list of booleans claiming 2^31-1.
        // (parquet-rs 59 skips their elements without reading a byte.)
        let mut file = vec![0x15, 0x00, 0x89, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00];
        file.resize(3000, 0);
        let err = check_bytes(&file).unwrap_err();
        assert!(
            err.to_string()
                .contains("claims 2147483647 booleans at offset 3"),
            "{err}"
        );
        // The same list with as many elements as bytes follow passes; so does a header
        // whose statistics run past the first peek.
        let mut fine = vec![0x15, 0x00, 0x89, 0xf1, 0x04];
        fine.extend([1u8; 4]);
        fine.push(0);
        assert!(check_bytes(&fine).is_ok());
        let mut long = header(100, 100);
        long.pop();
        long.extend([0x78, 0xe8, 0x07]); // field 10 (unknown), binary of 1000 bytes
        long.extend([b'x'; 1000]);
        long.extend([0x19, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00]);
        long.resize(1200, 0);
        let err = check_bytes(&long).unwrap_err();
        assert!(err.to_string().contains("booleans"), "{err}");
        // Known fields are read by their declared type, as parquet-rs does: here field 4
        // (crc, an i32) with a list's wire type is one varint, and no list follows.
        let mut known = vec![0x15, 0x00, 0x39, 0xf1, 0x00];
        known.resize(3000, 0);
        assert!(check_bytes(&known).is_ok());
        // Lists of lists of booleans count every inner list against one budget.
        let mut nested = vec![0x15, 0x00, 0x89, 0xf9, 0xe8, 0x07];
        for _ in 0..1000 {
            nested.extend([0xf1, 0x80, 0x08]); // 1024 booleans each
        }
        nested.push(0);
        nested.resize(4000, 0);
        assert!(
            check_bytes(&nested)
                .unwrap_err()
                .to_string()
                .contains("booleans")
        );
    }
}
