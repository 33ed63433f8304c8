//! A page header's claims, checked before a decoder acts on them. parquet-rs allocates a
//! page's `uncompressed_page_size` before decompressing into it: a 2 KB file whose headers
//! claim 2^31-1 bytes made it reserve 2 GiB per column. Every page header the decoders read
//! passes through [`GuardedFile::get_read`] (and [`check_page_header`] for the direct vector
//! decoder), which reads the header's first fields and refuses a page that claims to expand
//! beyond [`MAX_EXPANSION`] times its compressed size (and at least [`MIN_ALLOWED`] bytes).

use std::fs::File;

use bytes::Bytes;
use parquet::errors::{ParquetError, Result};
use parquet::file::reader::{ChunkReader, Length};

use super::sequential::read_at;

/// Uncompressed bytes a page may claim per compressed byte. Real pages of embeddings
/// compress by less than 10; a page of one repeated value by a few thousand at most, and
/// such a page is covered by [`MIN_ALLOWED`] whatever its ratio.
pub const MAX_EXPANSION: i64 = 1024;

/// Uncompressed bytes any page may claim, whatever its compressed size.
pub const MIN_ALLOWED: i64 = 64 << 20;

/// Bytes read at a page header's offset to find its sizes: the sizes are the second and
/// third fields, within the first few bytes.
const HEADER_PEEK: usize = 64;

/// A file as a Parquet decoder should read it when its bytes are hostile: every page header
/// checked first (see the module's text), reads past the end refused. It is the
/// [`ChunkReader`] the records reader uses, for other readers of Parquet (signature
/// sidecars) to use too.
#[derive(Debug)]
pub struct GuardedFile(pub File);

impl GuardedFile {
    /// Opens `path` for a Parquet decoder: a regular file (see
    /// [`crate::input::open_regular`]) whose footer passed [`crate::footer::check`].
    pub fn open(path: &std::path::Path) -> std::result::Result<Self, super::ReadError> {
        let mut file = crate::input::open_regular(path).map_err(|source| super::ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        crate::footer::check(&mut file).map_err(|source| super::ReadError::Footer {
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
    type T = <File as ChunkReader>::T;

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

/// Refuses the page whose header starts at `start` when it claims more uncompressed bytes
/// than its compressed size can hold (see [`MAX_EXPANSION`]). Headers whose sizes cannot be
/// read here pass: the decoder reads them and reports what is wrong.
pub(crate) fn check_page_header(file: &File, start: u64) -> Result<()> {
    let mut peek = [0u8; HEADER_PEEK];
    let mut filled = 0;
    while filled < peek.len() {
        match read_at(file, &mut peek[filled..], start + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ParquetError::External(Box::new(e))),
        }
    }
    check_sizes(&peek[..filled], start)
}

/// [`check_page_header`] of header bytes already in memory.
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
}
