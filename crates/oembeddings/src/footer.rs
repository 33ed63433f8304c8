//! Replace the key/value metadata of a Parquet footer without rewriting the data pages.
//!
//! A Parquet file ends with its `FileMetaData` (a Thrift compact-protocol struct), the
//! length of that struct as a 4-byte little-endian integer, and the magic `PAR1`. This
//! module finds that footer ([`locate`], [`read_metadata`]), reads the
//! `key_value_metadata` list (field 5, [`key_values`]) and produces new `FileMetaData`
//! bytes in which only that field differs ([`with_key_values`]). Every other top-level
//! field keeps its exact encoded value bytes: schema, row groups, column orders,
//! encryption fields and fields added by future versions of the format this module does
//! not know. Only the top-level field headers are re-encoded, because the compact
//! protocol stores field ids as deltas from the previous field.
//!
//! A new file is the old file's bytes `[0, metadata_offset)` followed by
//! [`write_tail`] of the new metadata; [`rewrite_key_values`] does all of it. Offsets
//! stored in the footer (pages, page index, bloom filters) stay valid because nothing
//! before the footer moves.
//!
//! Every input is treated as hostile: nesting is limited to [`MAX_DEPTH`] levels,
//! varints to 10 bytes, every length is checked against the bytes that remain before
//! anything is sliced or allocated, and bytes after the end of `FileMetaData` are
//! rejected. No input makes these functions panic.
//!
//! ```ignore
//! use std::fs::File;
//! let mut input = File::open("in.parquet")?;
//! let mut output = File::create("out.parquet")?;
//! let kvs = vec![KeyValue::new("oembeddings.model", "clip-vit-b32")];
//! footer::rewrite_key_values(&mut input, &mut output, &kvs)?;
//! ```

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Magic bytes at the start and at the end of a Parquet file with a plaintext footer.
pub const MAGIC: [u8; 4] = *b"PAR1";

/// Magic bytes of a Parquet file whose footer is encrypted.
pub const MAGIC_ENCRYPTED: [u8; 4] = *b"PARE";

/// Deepest nesting of structs, lists, sets and maps accepted inside `FileMetaData`
/// (the top-level struct itself is level 0). Real Parquet footers nest fewer than ten
/// levels deep.
pub const MAX_DEPTH: usize = 64;

/// Thrift field id of `key_value_metadata` in `FileMetaData`.
pub const KEY_VALUE_METADATA_FIELD: i16 = 5;

/// Thrift field id of `encryption_algorithm` in `FileMetaData`; it is only set when an
/// encrypted file keeps a plaintext, signed footer.
const ENCRYPTION_ALGORITHM_FIELD: i16 = 8;

/// Length of the AES-GCM nonce (12) and tag (16) that follow a signed plaintext footer.
const FOOTER_SIGNATURE_LEN: usize = 28;

/// Bytes after the metadata: 4-byte length and magic.
const TAIL_LEN: u64 = 8;

/// Smallest possible Parquet file: leading magic, footer length, trailing magic.
const MIN_FILE_LEN: u64 = 12;

/// Compact-protocol type ids.
mod ct {
    pub const STOP: u8 = 0;
    pub const BOOL_TRUE: u8 = 1;
    pub const BOOL_FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const UUID: u8 = 13;
}

/// One footer key/value pair, as raw bytes (Thrift `binary`, not necessarily UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyValue {
    /// The key (required by the Parquet format).
    pub key: Vec<u8>,
    /// The value; `None` when the pair carries no value at all.
    pub value: Option<Vec<u8>>,
}

impl KeyValue {
    /// A pair whose value is set.
    pub fn new(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        KeyValue {
            key: key.into(),
            value: Some(value.into()),
        }
    }
}

/// Where the footer sits in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FooterLocation {
    /// Offset of the first byte of the `FileMetaData`; the data before it is kept as is.
    pub metadata_offset: u64,
    /// Length of the `FileMetaData` in bytes, as stored in the tail.
    pub metadata_len: u32,
    /// Length of the whole file.
    pub file_len: u64,
}

/// One top-level field of a `FileMetaData`, exactly as encoded in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawField<'a> {
    /// Thrift field id.
    pub id: i16,
    /// Compact-protocol type: 1 and 2 are booleans true and false, 3 byte, 4 i16, 5 i32,
    /// 6 i64, 7 double, 8 binary, 9 list, 10 set, 11 map, 12 struct, 13 uuid.
    pub compact_type: u8,
    /// The encoded value, without the field header (empty for booleans, whose value is
    /// carried by `compact_type`).
    pub value: &'a [u8],
}

/// Why a footer could not be read or rewritten.
#[derive(Debug)]
#[non_exhaustive]
pub enum FooterError {
    /// The input does not look like a Parquet file (magic bytes missing).
    NotParquet {
        /// Which check failed.
        detail: &'static str,
    },
    /// The file is shorter than its footer says it must be.
    Truncated {
        /// Length of the file.
        file_len: u64,
        /// Length the file would need for its footer to fit.
        needed: u64,
    },
    /// The file starts like Parquet but does not end with the footer magic: it was cut short
    /// or is still being written.
    NoFooter,
    /// The footer is encrypted (`PARE` magic) and cannot be read without the key.
    Encrypted,
    /// The file is encrypted with a plaintext footer: the footer is signed with a key
    /// this module does not have, so it cannot be changed (reading it works).
    Signed,
    /// The `FileMetaData` bytes are not valid Thrift compact protocol, or field 5 is not a
    /// list of key/value structs.
    Malformed {
        /// Offset of the offending byte from the start of the `FileMetaData`.
        offset: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// A key, value, list or footer is larger than the format can encode.
    TooLarge {
        /// What is too large.
        what: &'static str,
    },
    /// Reading or writing the file failed.
    Io(io::Error),
}

impl fmt::Display for FooterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FooterError::NotParquet { detail } => write!(f, "not a Parquet file: {detail}"),
            FooterError::Truncated { file_len, needed } => write!(
                f,
                "file is truncated: it has {file_len} bytes but its footer needs {needed}"
            ),
            FooterError::NoFooter => f.write_str(
                "file is truncated: it starts like Parquet but has no PAR1 magic at the end \
                 (cut short, or still being written)",
            ),
            FooterError::Encrypted => f.write_str(
                "file has an encrypted footer (PARE magic); it cannot be read without the key",
            ),
            FooterError::Signed => f.write_str(
                "file is encrypted with a signed plaintext footer; \
                 its key/value metadata cannot be changed without the signing key",
            ),
            FooterError::Malformed { offset, reason } => {
                write!(f, "footer is malformed at byte {offset}: {reason}")
            }
            FooterError::TooLarge { what } => write!(f, "{what} is too large for a Parquet footer"),
            FooterError::Io(e) => write!(f, "I/O error on the Parquet footer: {e}"),
        }
    }
}

impl std::error::Error for FooterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FooterError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for FooterError {
    fn from(e: io::Error) -> Self {
        FooterError::Io(e)
    }
}

/// Finds the footer: checks the leading magic, reads the last 8 bytes (length and
/// trailing magic) and checks that the length fits in the file.
///
/// Leaves the stream position unspecified.
pub fn locate<R: Read + Seek + ?Sized>(file: &mut R) -> Result<FooterLocation, FooterError> {
    let file_len = file.seek(SeekFrom::End(0))?;
    if file_len == 0 {
        return Err(FooterError::NotParquet {
            detail: "file is empty",
        });
    }
    file.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 4];
    let head_len = usize::try_from(file_len.min(4)).unwrap_or(4);
    let head = head.get_mut(..head_len).unwrap_or_default();
    file.read_exact(head)?;
    if head == MAGIC_ENCRYPTED {
        return Err(FooterError::Encrypted);
    }
    if !MAGIC.starts_with(head) {
        return Err(FooterError::NotParquet {
            detail: "no PAR1 magic at the start",
        });
    }
    if file_len < MIN_FILE_LEN {
        return Err(FooterError::Truncated {
            file_len,
            needed: MIN_FILE_LEN,
        });
    }
    file.seek(SeekFrom::Start(file_len - TAIL_LEN))?;
    let mut tail = [0u8; 8];
    file.read_exact(&mut tail)?;
    let [l0, l1, l2, l3, m0, m1, m2, m3] = tail;
    let magic = [m0, m1, m2, m3];
    if magic == MAGIC_ENCRYPTED {
        return Err(FooterError::Encrypted);
    }
    if magic != MAGIC {
        return Err(FooterError::NoFooter);
    }
    let metadata_len = u32::from_le_bytes([l0, l1, l2, l3]);
    let needed = u64::from(metadata_len) + MIN_FILE_LEN;
    if needed > file_len {
        return Err(FooterError::Truncated { file_len, needed });
    }
    Ok(FooterLocation {
        metadata_offset: file_len - TAIL_LEN - u64::from(metadata_len),
        metadata_len,
        file_len,
    })
}

/// Reads the `FileMetaData` bytes at `location` (as returned by [`locate`] on the same
/// file). Memory grows with the bytes actually read, never beyond the file's size.
pub fn read_metadata<R: Read + Seek + ?Sized>(
    file: &mut R,
    location: &FooterLocation,
) -> Result<Vec<u8>, FooterError> {
    file.seek(SeekFrom::Start(location.metadata_offset))?;
    let mut metadata = Vec::new();
    let wanted = u64::from(location.metadata_len);
    let got = (&mut *file).take(wanted).read_to_end(&mut metadata)?;
    if u64::try_from(got).ok() != Some(wanted) {
        return Err(FooterError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file ended inside its footer (did it shrink?)",
        )));
    }
    Ok(metadata)
}

/// Checks that the footer of `file` is well-formed compact protocol whose every count and
/// length fits the bytes that remain, without decoding it. Cheap and bounded by the
/// footer's size: a decoder given the footer afterwards cannot be made to loop over counts
/// the bytes cannot hold (parquet-rs skips unknown fields element by element: a 3 KB footer
/// claiming millions of elements kept it busy for seconds).
pub fn check<R: Read + Seek + ?Sized>(file: &mut R) -> Result<(), FooterError> {
    let location = locate(file)?;
    let metadata = read_metadata(file, &location)?;
    parse(&metadata).map(|_| ())
}

/// Returns the `key_value_metadata` (field 5) of `metadata`, in file order, duplicates
/// kept; empty if the field is absent.
///
/// The whole `FileMetaData` is validated as compact protocol (without decoding it), so
/// this accepts exactly the inputs [`with_key_values`] accepts, except signed footers,
/// which can be read but not rewritten.
pub fn key_values(metadata: &[u8]) -> Result<Vec<KeyValue>, FooterError> {
    let footer = parse(metadata)?;
    let mut kvs = Vec::new();
    if let Some((field, offset)) = footer.key_values {
        let mut reader = Reader::at(metadata, offset);
        read_key_values(&mut reader, field.compact_type, |key, value| {
            kvs.push(KeyValue {
                key: key.to_vec(),
                value: value.map(<[u8]>::to_vec),
            });
        })?;
    }
    Ok(kvs)
}

/// Lists the top-level fields of `metadata` in file order, each with its exact encoded
/// value bytes. Two footers that differ only in their key/value metadata give the same
/// list once the field with id [`KEY_VALUE_METADATA_FIELD`] is left out.
pub fn raw_fields(metadata: &[u8]) -> Result<Vec<RawField<'_>>, FooterError> {
    Ok(parse(metadata)?.fields)
}

/// Returns new `FileMetaData` bytes identical to `metadata` except that field 5
/// (`key_value_metadata`) holds `kvs`.
///
/// Other fields keep their order and their value bytes; the new field 5 takes the place
/// of the old one or, if there was none, goes just before the first field whose id is
/// greater than 5 (at the end if there is no such field). When `kvs` is empty the field
/// is left out altogether, which is how Parquet writers encode "no metadata".
///
/// Fails with [`FooterError::Signed`] on the plaintext footer of an encrypted file,
/// whose signature would no longer match.
pub fn with_key_values(metadata: &[u8], kvs: &[KeyValue]) -> Result<Vec<u8>, FooterError> {
    let footer = parse(metadata)?;
    if let Some((field, offset)) = footer.key_values {
        read_key_values(
            &mut Reader::at(metadata, offset),
            field.compact_type,
            |_, _| {},
        )?;
    }
    if footer.signed {
        return Err(FooterError::Signed);
    }
    let kv_value = encode_key_value_list(kvs)?;
    let mut out = Vec::with_capacity(metadata.len().saturating_add(kv_value.len()));
    let mut last_id = 0i16;
    // An existing field 5 is replaced in place; otherwise the new one goes before the
    // first field with a higher id. An empty list is not written at all.
    let insert_before_higher = footer.key_values.is_none();
    let mut kv_done = kvs.is_empty();
    for field in &footer.fields {
        if field.id == KEY_VALUE_METADATA_FIELD {
            if !kv_done {
                write_field_header(&mut out, last_id, KEY_VALUE_METADATA_FIELD, ct::LIST);
                out.extend_from_slice(&kv_value);
                last_id = KEY_VALUE_METADATA_FIELD;
                kv_done = true;
            }
            continue;
        }
        if !kv_done && insert_before_higher && field.id > KEY_VALUE_METADATA_FIELD {
            write_field_header(&mut out, last_id, KEY_VALUE_METADATA_FIELD, ct::LIST);
            out.extend_from_slice(&kv_value);
            last_id = KEY_VALUE_METADATA_FIELD;
            kv_done = true;
        }
        write_field_header(&mut out, last_id, field.id, field.compact_type);
        out.extend_from_slice(field.value);
        last_id = field.id;
    }
    if !kv_done {
        write_field_header(&mut out, last_id, KEY_VALUE_METADATA_FIELD, ct::LIST);
        out.extend_from_slice(&kv_value);
    }
    out.push(ct::STOP);
    if u32::try_from(out.len()).is_err() {
        return Err(FooterError::TooLarge { what: "footer" });
    }
    Ok(out)
}

/// Writes the tail of a Parquet file: `metadata`, its length as 4 bytes little-endian,
/// and `PAR1`. Fails with [`io::ErrorKind::InvalidInput`] if `metadata` is 4 GiB or more.
pub fn write_tail<W: Write + ?Sized>(out: &mut W, metadata: &[u8]) -> io::Result<()> {
    let len = u32::try_from(metadata.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "Parquet footer is 4 GiB or larger",
        )
    })?;
    out.write_all(metadata)?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&MAGIC)
}

/// Copies the Parquet file `input` to `output` with its key/value metadata replaced by
/// `kvs`: the bytes before the footer are copied unchanged, then the new tail is
/// written. Returns the number of bytes written. `output` must be a different file.
pub fn rewrite_key_values<R, W>(
    input: &mut R,
    output: &mut W,
    kvs: &[KeyValue],
) -> Result<u64, FooterError>
where
    R: Read + Seek + ?Sized,
    W: Write + ?Sized,
{
    let location = locate(input)?;
    let metadata = read_metadata(input, &location)?;
    let new_metadata = with_key_values(&metadata, kvs)?;
    input.seek(SeekFrom::Start(0))?;
    let copied = io::copy(&mut (&mut *input).take(location.metadata_offset), output)?;
    if copied != location.metadata_offset {
        return Err(FooterError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file ended before its footer (did it shrink?)",
        )));
    }
    write_tail(output, &new_metadata)?;
    let tail = u64::try_from(new_metadata.len()).unwrap_or(u64::MAX);
    Ok(copied.saturating_add(tail).saturating_add(TAIL_LEN))
}

// ---------------------------------------------------------------------------------
// Decoding

fn malformed(offset: usize, reason: &'static str) -> FooterError {
    FooterError::Malformed { offset, reason }
}

fn is_type(t: u8) -> bool {
    (ct::BOOL_TRUE..=ct::UUID).contains(&t)
}

/// The top-level structure of a `FileMetaData`.
struct Parsed<'a> {
    fields: Vec<RawField<'a>>,
    /// Field 5 and the offset of its value.
    key_values: Option<(RawField<'a>, usize)>,
    /// Whether `encryption_algorithm` is present: the footer is signed.
    signed: bool,
}

fn parse(metadata: &[u8]) -> Result<Parsed<'_>, FooterError> {
    let mut r = Reader::at(metadata, 0);
    let mut fields = Vec::new();
    let mut key_values = None;
    let mut signed = false;
    let mut last_id = 0i16;
    loop {
        let header_at = r.pos;
        let Some((id, compact_type)) = r.field_header(last_id)? else {
            break;
        };
        last_id = id;
        let start = r.pos;
        r.skip_field_value(compact_type, 1)?;
        let value = r.slice_since(start)?;
        let field = RawField {
            id,
            compact_type,
            value,
        };
        if id == KEY_VALUE_METADATA_FIELD {
            if key_values.is_some() {
                return Err(malformed(header_at, "key_value_metadata appears twice"));
            }
            key_values = Some((field, start));
        }
        signed |= id == ENCRYPTION_ALGORITHM_FIELD;
        fields.push(field);
    }
    let trailing = r.remaining();
    if trailing != 0 && !(signed && trailing == FOOTER_SIGNATURE_LEN) {
        return Err(malformed(
            r.pos,
            "trailing bytes after the end of FileMetaData",
        ));
    }
    Ok(Parsed {
        fields,
        key_values,
        signed,
    })
}

/// Decodes a `list<KeyValue>` value at the reader's position, handing each pair to `each`.
fn read_key_values<'a>(
    r: &mut Reader<'a>,
    compact_type: u8,
    mut each: impl FnMut(&'a [u8], Option<&'a [u8]>),
) -> Result<(), FooterError> {
    let at = r.pos;
    if compact_type != ct::LIST {
        return Err(malformed(at, "key_value_metadata is not a list"));
    }
    let (elem, count) = r.list_header()?;
    if elem != ct::STRUCT {
        return Err(malformed(at, "key_value_metadata elements are not structs"));
    }
    for _ in 0..count {
        let start = r.pos;
        let mut last_id = 0i16;
        let mut key = None;
        let mut value = None;
        while let Some((id, field_type)) = r.field_header(last_id)? {
            last_id = id;
            let value_at = r.pos;
            match (id, field_type) {
                (1, ct::BINARY) => key = Some(r.binary()?),
                (2, ct::BINARY) => value = Some(r.binary()?),
                (1 | 2, _) => {
                    return Err(malformed(value_at, "KeyValue key or value is not a string"));
                }
                // Unknown KeyValue fields: a list (depth 1) of structs (depth 2).
                _ => r.skip_field_value(field_type, 3)?,
            }
        }
        let key = key.ok_or_else(|| malformed(start, "KeyValue has no key"))?;
        each(key, value);
    }
    Ok(())
}

/// The sizes the Parquet page header at the start of `bytes` claims, `(uncompressed,
/// compressed)`, read with the same hostile-input cursor as footers; `None` when they cannot
/// be read from these bytes (the decoder then reads the header itself and says what is
/// wrong). A reader checks them before a decoder allocates what they claim.
pub(crate) fn page_header_sizes(bytes: &[u8]) -> Option<(i64, i64)> {
    let zigzag = |v: u64| ((v >> 1) as i64) ^ -((v & 1) as i64);
    let mut r = Reader::at(bytes, 0);
    let (mut uncompressed, mut compressed) = (None, None);
    let mut last_id = 0i16;
    while let Ok(Some((id, field_type))) = r.field_header(last_id) {
        last_id = id;
        match (id, field_type) {
            (2, ct::I32) => uncompressed = Some(zigzag(r.varint().ok()?)),
            (3, ct::I32) => compressed = Some(zigzag(r.varint().ok()?)),
            _ => r.skip_field_value(field_type, 1).ok()?,
        }
        if let (Some(u), Some(c)) = (uncompressed, compressed) {
            return Some((u, c));
        }
    }
    None
}

/// What a walk of a page header's bytes found (see [`scan_page_header`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderScan {
    /// The header ends within the bytes given and holds nothing a decoder would loop on;
    /// or it cannot be read as Thrift at all, which the decoder reports itself.
    Clean,
    /// The header goes on past the bytes given: scan more of them.
    Truncated,
    /// A list, set or map of booleans at this offset in the bytes claims more elements
    /// than the file has bytes left (counting every such container of the header).
    BoolContainer {
        /// Offset of the container's header in the bytes given.
        at: usize,
        /// Elements (or entries) it claims.
        count: u64,
    },
}

/// Boolean elements a page header may make a decoder skip, whatever the file's size: Parquet's
/// page header has no boolean containers at all, so any are unknown fields.
const MAX_SKIPPED_BOOLEANS: u64 = 1 << 20;

/// Walks the page header at the start of `bytes` as parquet-rs 59 reads it, looking for
/// one hazard: containers of booleans in unknown fields claiming more elements than the
/// `remaining` bytes of the file (from `bytes[0]`) could hold. parquet-rs 59 skips such
/// elements without consuming their byte (fixed in 60, which pyo3-arrow does not take
/// yet), so a 3 KB file claiming 2^31 of them kept a read busy for seconds per page.
/// Anything else that is wrong is left for the decoder to report.
pub(crate) fn scan_page_header(bytes: &[u8], remaining: u64) -> HeaderScan {
    let mut walk = HeaderWalk {
        r: Reader::at(bytes, 0),
        budget: remaining.min(MAX_SKIPPED_BOOLEANS),
    };
    match walk.read_struct(page_header::PAGE_HEADER) {
        Ok(()) => HeaderScan::Clean,
        Err(scan) => scan,
    }
}

/// The fields parquet-rs 59 reads by their declared type in a page header (without
/// statistics, which it skips): a known field id is read as declared whatever its wire
/// type says, an unknown one is skipped by its wire type.
mod page_header {
    /// A field's declared type.
    #[derive(Debug, Clone, Copy)]
    pub(super) enum Declared {
        /// An `i32` or an enum: one varint.
        Int,
        /// A boolean: the wire type itself, no bytes.
        Bool,
        /// A struct with these fields.
        Struct(&'static [(i16, Declared)]),
    }
    use Declared::{Bool, Int, Struct};

    const DATA_PAGE: &[(i16, Declared)] = &[(1, Int), (2, Int), (3, Int), (4, Int)];
    const INDEX_PAGE: &[(i16, Declared)] = &[];
    const DICTIONARY_PAGE: &[(i16, Declared)] = &[(1, Int), (2, Int), (3, Bool)];
    const DATA_PAGE_V2: &[(i16, Declared)] = &[
        (1, Int),
        (2, Int),
        (3, Int),
        (4, Int),
        (5, Int),
        (6, Int),
        (7, Bool),
    ];
    /// `PageHeader`.
    pub(super) const PAGE_HEADER: &[(i16, Declared)] = &[
        (1, Int),
        (2, Int),
        (3, Int),
        (4, Int),
        (5, Struct(DATA_PAGE)),
        (6, Struct(INDEX_PAGE)),
        (7, Struct(DICTIONARY_PAGE)),
        (8, Struct(DATA_PAGE_V2)),
    ];
}

/// [`scan_page_header`]'s cursor: the bytes, and how many more boolean elements may be
/// skipped.
struct HeaderWalk<'a> {
    r: Reader<'a>,
    budget: u64,
}

impl HeaderWalk<'_> {
    /// What an error of the cursor means here: running out of bytes means the header goes
    /// on; anything else is the decoder's to report.
    fn stop(&self) -> HeaderScan {
        if self.r.pos >= self.r.buf.len() {
            HeaderScan::Truncated
        } else {
            HeaderScan::Clean
        }
    }

    fn byte(&mut self) -> Result<u8, HeaderScan> {
        self.r.byte().map_err(|_| self.stop())
    }

    fn varint(&mut self) -> Result<u64, HeaderScan> {
        self.r.varint().map_err(|_| self.stop())
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), HeaderScan> {
        let n = usize::try_from(n).map_err(|_| HeaderScan::Truncated)?;
        self.r
            .take(n, "")
            .map(drop)
            .map_err(|_| HeaderScan::Truncated)
    }

    /// A field header as parquet-rs reads it: `None` at any byte whose type is 0.
    fn field(&mut self, last_id: i16) -> Result<Option<(i16, u8)>, HeaderScan> {
        let b = self.byte()?;
        let field_type = b & 0x0f;
        if field_type == ct::STOP {
            return Ok(None);
        }
        if !is_type(field_type) {
            return Err(HeaderScan::Clean);
        }
        let id = match b >> 4 {
            0 => {
                let zigzag = u16::try_from(self.varint()?).map_err(|_| HeaderScan::Clean)?;
                ((zigzag >> 1) as i16) ^ -((zigzag & 1) as i16)
            }
            delta => last_id
                .checked_add(i16::from(delta))
                .ok_or(HeaderScan::Clean)?,
        };
        Ok(Some((id, field_type)))
    }

    fn read_struct(
        &mut self,
        fields: &'static [(i16, page_header::Declared)],
    ) -> Result<(), HeaderScan> {
        use page_header::Declared;
        let mut last_id = 0i16;
        while let Some((id, wire_type)) = self.field(last_id)? {
            last_id = id;
            match fields.iter().find(|(known, _)| *known == id).map(|f| f.1) {
                Some(Declared::Int) => drop(self.varint()?),
                Some(Declared::Bool) if is_bool(wire_type) => {}
                Some(Declared::Bool) => return Err(HeaderScan::Clean),
                Some(Declared::Struct(inner)) => self.read_struct(inner)?,
                None => self.skip(wire_type, MAX_DEPTH)?,
            }
        }
        Ok(())
    }

    /// Skips a value of wire type `t` as parquet-rs 59 does, booleans taking no bytes
    /// wherever they are.
    fn skip(&mut self, t: u8, depth: usize) -> Result<(), HeaderScan> {
        if depth == 0 {
            return Err(HeaderScan::Clean);
        }
        match t {
            ct::BOOL_TRUE | ct::BOOL_FALSE => Ok(()),
            ct::BYTE => self.skip_bytes(1),
            ct::I16 | ct::I32 | ct::I64 => self.varint().map(drop),
            ct::DOUBLE => self.skip_bytes(8),
            ct::UUID => self.skip_bytes(16),
            ct::BINARY => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            ct::STRUCT => {
                while let Some((_, field_type)) = self.field(0)? {
                    self.skip(field_type, depth - 1)?;
                }
                Ok(())
            }
            ct::LIST | ct::SET => {
                let at = self.r.pos;
                let header = self.byte()?;
                if header == 0 {
                    return Ok(());
                }
                let elem = header & 0x0f;
                if !is_type(elem) {
                    return Err(HeaderScan::Clean);
                }
                let count = match header >> 4 {
                    15 => self.varint()?,
                    short => u64::from(short),
                };
                if count > i32::MAX as u64 {
                    return Err(HeaderScan::Clean);
                }
                if is_bool(elem) {
                    return self.spend(at, count);
                }
                for _ in 0..count {
                    self.skip(elem, depth - 1)?;
                }
                Ok(())
            }
            ct::MAP => {
                let at = self.r.pos;
                let count = self.varint()?;
                if count > i32::MAX as u64 {
                    return Err(HeaderScan::Clean);
                }
                if count == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                let (key, value) = (types >> 4, types & 0x0f);
                if !is_type(key) || !is_type(value) {
                    return Err(HeaderScan::Clean);
                }
                if is_bool(key) && is_bool(value) {
                    return self.spend(at, count);
                }
                for _ in 0..count {
                    self.skip(key, depth - 1)?;
                    self.skip(value, depth - 1)?;
                }
                Ok(())
            }
            _ => Err(HeaderScan::Clean),
        }
    }

    /// Counts `count` boolean elements of the container at `at` against the budget.
    fn spend(&mut self, at: usize, count: u64) -> Result<(), HeaderScan> {
        self.budget = self
            .budget
            .checked_sub(count)
            .ok_or(HeaderScan::BoolContainer { at, count })?;
        Ok(())
    }
}

fn is_bool(t: u8) -> bool {
    t == ct::BOOL_TRUE || t == ct::BOOL_FALSE
}

/// A cursor over untrusted compact-protocol bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at(buf: &'a [u8], pos: usize) -> Self {
        Reader { buf, pos }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn byte(&mut self) -> Result<u8, FooterError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| malformed(self.pos, "unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize, reason: &'static str) -> Result<&'a [u8], FooterError> {
        let bytes = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or_else(|| malformed(self.pos, reason))?;
        self.pos += n;
        Ok(bytes)
    }

    fn slice_since(&self, start: usize) -> Result<&'a [u8], FooterError> {
        self.buf
            .get(start..self.pos)
            .ok_or_else(|| malformed(start, "internal offset error"))
    }

    fn varint(&mut self) -> Result<u64, FooterError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err(malformed(start, "varint overflows 64 bits"));
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed(start, "varint is longer than 10 bytes"))
    }

    /// A size or length: a non-negative i32 varint.
    fn length(&mut self) -> Result<usize, FooterError> {
        let start = self.pos;
        let v = self.varint()?;
        if v > i32::MAX as u64 {
            return Err(malformed(start, "length is negative or larger than 2^31-1"));
        }
        usize::try_from(v).map_err(|_| malformed(start, "length does not fit in memory"))
    }

    fn binary(&mut self) -> Result<&'a [u8], FooterError> {
        let at = self.pos;
        let n = self.length()?;
        if n > self.remaining() {
            return Err(malformed(at, "string length exceeds remaining bytes"));
        }
        self.take(n, "string length exceeds remaining bytes")
    }

    /// Reads a field header; `None` at the STOP byte.
    fn field_header(&mut self, last_id: i16) -> Result<Option<(i16, u8)>, FooterError> {
        let at = self.pos;
        let b = self.byte()?;
        if b == ct::STOP {
            return Ok(None);
        }
        let field_type = b & 0x0f;
        if field_type == ct::STOP {
            return Err(malformed(at, "STOP byte with a non-zero field delta"));
        }
        if !is_type(field_type) {
            return Err(malformed(at, "unknown field type"));
        }
        let delta = b >> 4;
        let id = if delta == 0 {
            let zigzag = u16::try_from(self.varint()?)
                .map_err(|_| malformed(at, "field id does not fit in 16 bits"))?;
            ((zigzag >> 1) as i16) ^ -((zigzag & 1) as i16)
        } else {
            last_id
                .checked_add(i16::from(delta))
                .ok_or_else(|| malformed(at, "field id overflows 16 bits"))?
        };
        Ok(Some((id, field_type)))
    }

    /// Reads a list or set header: element type and element count.
    fn list_header(&mut self) -> Result<(u8, usize), FooterError> {
        let at = self.pos;
        let b = self.byte()?;
        let elem = b & 0x0f;
        let count = match b >> 4 {
            15 => self.length()?,
            short => usize::from(short),
        };
        if !is_type(elem) {
            return Err(malformed(at, "unknown list element type"));
        }
        // Every element takes at least one byte.
        if count > self.remaining() {
            return Err(malformed(at, "list size exceeds remaining bytes"));
        }
        Ok((elem, count))
    }

    fn check_depth(&self, depth: usize) -> Result<(), FooterError> {
        if depth > MAX_DEPTH {
            return Err(malformed(self.pos, "nesting is deeper than 64 levels"));
        }
        Ok(())
    }

    /// Skips the value of a struct field (booleans have no value bytes there).
    fn skip_field_value(&mut self, t: u8, depth: usize) -> Result<(), FooterError> {
        match t {
            ct::BOOL_TRUE | ct::BOOL_FALSE => Ok(()),
            _ => self.skip_value(t, depth),
        }
    }

    /// Skips a list, set or map element (booleans take one byte there).
    fn skip_element(&mut self, t: u8, depth: usize) -> Result<(), FooterError> {
        match t {
            ct::BOOL_TRUE | ct::BOOL_FALSE => self.byte().map(drop),
            _ => self.skip_value(t, depth),
        }
    }

    fn skip_value(&mut self, t: u8, depth: usize) -> Result<(), FooterError> {
        match t {
            ct::BOOL_TRUE | ct::BOOL_FALSE => self.byte().map(drop),
            ct::BYTE => self.take(1, "byte is truncated").map(drop),
            ct::I16 | ct::I32 | ct::I64 => self.varint().map(drop),
            ct::DOUBLE => self.take(8, "double is truncated").map(drop),
            ct::UUID => self.take(16, "uuid is truncated").map(drop),
            ct::BINARY => self.binary().map(drop),
            ct::LIST | ct::SET => {
                self.check_depth(depth)?;
                let (elem, count) = self.list_header()?;
                for _ in 0..count {
                    self.skip_element(elem, depth + 1)?;
                }
                Ok(())
            }
            ct::MAP => {
                self.check_depth(depth)?;
                let at = self.pos;
                let count = self.length()?;
                if count == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                let (key_type, value_type) = (types >> 4, types & 0x0f);
                if !is_type(key_type) || !is_type(value_type) {
                    return Err(malformed(at, "unknown map key or value type"));
                }
                // Every entry takes at least two bytes.
                if count > self.remaining() / 2 {
                    return Err(malformed(at, "map size exceeds remaining bytes"));
                }
                for _ in 0..count {
                    self.skip_element(key_type, depth + 1)?;
                    self.skip_element(value_type, depth + 1)?;
                }
                Ok(())
            }
            ct::STRUCT => {
                self.check_depth(depth)?;
                let mut last_id = 0i16;
                while let Some((id, field_type)) = self.field_header(last_id)? {
                    last_id = id;
                    self.skip_field_value(field_type, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(malformed(self.pos, "unknown type")),
        }
    }
}

// ---------------------------------------------------------------------------------
// Encoding

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn write_field_header(out: &mut Vec<u8>, last_id: i16, id: i16, field_type: u8) {
    let delta = i32::from(id) - i32::from(last_id);
    if (1..=15).contains(&delta) {
        out.push(((delta as u8) << 4) | field_type);
    } else {
        out.push(field_type);
        let n = i32::from(id);
        write_varint(out, u64::from(((n << 1) ^ (n >> 31)) as u32));
    }
}

fn write_binary(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), FooterError> {
    let len = i32::try_from(bytes.len()).map_err(|_| FooterError::TooLarge { what })?;
    write_varint(out, len as u64);
    out.extend_from_slice(bytes);
    Ok(())
}

/// Encodes `kvs` as the value of a `list<KeyValue>` field (list header and elements).
fn encode_key_value_list(kvs: &[KeyValue]) -> Result<Vec<u8>, FooterError> {
    let mut out = Vec::new();
    let count = i32::try_from(kvs.len()).map_err(|_| FooterError::TooLarge {
        what: "key/value list",
    })?;
    if count < 15 {
        out.push(((count as u8) << 4) | ct::STRUCT);
    } else {
        out.push(0xf0 | ct::STRUCT);
        write_varint(&mut out, count as u64);
    }
    for kv in kvs {
        write_field_header(&mut out, 0, 1, ct::BINARY);
        write_binary(&mut out, &kv.key, "key")?;
        if let Some(value) = &kv.value {
            write_field_header(&mut out, 1, 2, ct::BINARY);
            write_binary(&mut out, value, "value")?;
        }
        out.push(ct::STOP);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Builds compact-protocol bytes by hand.
    #[derive(Default)]
    struct B(Vec<u8>);

    impl B {
        fn raw(mut self, bytes: &[u8]) -> Self {
            self.0.extend_from_slice(bytes);
            self
        }
        /// Short-form field header.
        fn fh(self, delta: u8, t: u8) -> Self {
            self.raw(&[(delta << 4) | t])
        }
        /// Long-form field header.
        fn long_fh(mut self, t: u8, id: i16) -> Self {
            self.0.push(t);
            let n = i32::from(id);
            write_varint(&mut self.0, u64::from(((n << 1) ^ (n >> 31)) as u32));
            self
        }
        fn varint(mut self, v: u64) -> Self {
            write_varint(&mut self.0, v);
            self
        }
        fn bin(mut self, s: &[u8]) -> Self {
            write_varint(&mut self.0, s.len() as u64);
            self.0.extend_from_slice(s);
            self
        }
        fn stop(self) -> Self {
            self.raw(&[0])
        }
        fn kv_list(self, kvs: &[KeyValue]) -> Self {
            let list = encode_key_value_list(kvs).unwrap();
            self.raw(&list)
        }
        fn done(self) -> Vec<u8> {
            self.0
        }
    }

    fn kv(k: &[u8], v: &[u8]) -> KeyValue {
        KeyValue::new(k, v)
    }

    /// The fields other than 5 must be identical, in order.
    fn assert_same_except_kv(a: &[u8], b: &[u8]) {
        let fa: Vec<_> = raw_fields(a)
            .unwrap()
            .into_iter()
            .filter(|f| f.id != KEY_VALUE_METADATA_FIELD)
            .collect();
        let fb: Vec<_> = raw_fields(b)
            .unwrap()
            .into_iter()
            .filter(|f| f.id != KEY_VALUE_METADATA_FIELD)
            .collect();
        assert_eq!(fa, fb);
    }

    fn ids(m: &[u8]) -> Vec<i16> {
        raw_fields(m).unwrap().iter().map(|f| f.id).collect()
    }

    /// A plausible FileMetaData: version, schema (list of structs), num_rows,
    /// row_groups, key_value_metadata, created_by, column_orders.
    fn sample(kvs: Option<&[KeyValue]>) -> Vec<u8> {
        let b = B::default()
            .fh(1, ct::I32)
            .varint(4) // version = 2 (zigzag)
            .fh(1, ct::LIST)
            .raw(&[0x1c]) // one SchemaElement
            .fh(4, ct::BINARY)
            .bin(b"schema")
            .stop()
            .fh(1, ct::I64)
            .varint(200) // num_rows = 100
            .fh(1, ct::LIST)
            .raw(&[0x0c]); // no row groups
        let b = match kvs {
            Some(kvs) => b.fh(1, ct::LIST).kv_list(kvs).fh(1, ct::BINARY),
            None => b.fh(2, ct::BINARY),
        };
        b.bin(b"parquet-cpp-arrow version 26.0.1")
            .fh(1, ct::LIST)
            .raw(&[0x1c, 0x1c, 0x00, 0x00]) // [ColumnOrder{TYPE_ORDER: {}}]
            .stop()
            .done()
    }

    #[test]
    fn reads_and_replaces_key_values() {
        let orig = vec![kv(b"a", b"1"), KeyValue::new("ARROW:schema", "xyz")];
        let m = sample(Some(&orig));
        assert_eq!(key_values(&m).unwrap(), orig);
        assert_eq!(ids(&m), vec![1, 2, 3, 4, 5, 6, 7]);

        let new = vec![
            kv(b"a", b"2"),
            KeyValue {
                key: b"novalue".to_vec(),
                value: None,
            },
            kv(b"", b""),
        ];
        let out = with_key_values(&m, &new).unwrap();
        assert_eq!(key_values(&out).unwrap(), new);
        assert_same_except_kv(&m, &out);
        assert_eq!(ids(&out), vec![1, 2, 3, 4, 5, 6, 7]);
        // Back to the original: byte-identical.
        assert_eq!(with_key_values(&out, &orig).unwrap(), m);
    }

    #[test]
    fn empty_list_removes_the_field() {
        let m = sample(Some(&[kv(b"a", b"1")]));
        let out = with_key_values(&m, &[]).unwrap();
        assert_eq!(out, sample(None));
        assert_eq!(ids(&out), vec![1, 2, 3, 4, 6, 7]);
        assert!(key_values(&out).unwrap().is_empty());
        assert_same_except_kv(&m, &out);
    }

    #[test]
    fn empty_list_present_in_input_reads_as_empty() {
        let m = sample(Some(&[]));
        assert!(key_values(&m).unwrap().is_empty());
        assert_eq!(with_key_values(&m, &[]).unwrap(), sample(None));
    }

    #[test]
    fn missing_field_5_is_inserted_before_first_higher_id() {
        let m = sample(None);
        assert!(key_values(&m).unwrap().is_empty());
        let new = vec![kv(b"k", b"v")];
        let out = with_key_values(&m, &new).unwrap();
        assert_eq!(out, sample(Some(&new)));
        assert_eq!(ids(&out), vec![1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn missing_field_5_with_no_higher_id_goes_last() {
        let m = B::default()
            .fh(1, ct::I32)
            .varint(2)
            .fh(3, ct::I64)
            .varint(2)
            .stop()
            .done();
        let out = with_key_values(&m, &[kv(b"k", b"v")]).unwrap();
        assert_eq!(ids(&out), vec![1, 4, 5]);
        assert_eq!(out[..4], m[..4]);
        assert_same_except_kv(&m, &out);
    }

    #[test]
    fn field_5_at_the_end_stays_there() {
        // ids 1, 7, 5 (delta 5 -> 7 is +6, 7 -> 5 needs the long form).
        let m = B::default()
            .fh(1, ct::I32)
            .varint(2)
            .fh(6, ct::BINARY)
            .bin(b"created")
            .long_fh(ct::LIST, 5)
            .kv_list(&[kv(b"a", b"b")])
            .stop()
            .done();
        assert_eq!(ids(&m), vec![1, 7, 5]);
        assert_eq!(key_values(&m).unwrap(), vec![kv(b"a", b"b")]);
        let out = with_key_values(&m, &[kv(b"c", b"d")]).unwrap();
        assert_eq!(ids(&out), vec![1, 7, 5]);
        assert_eq!(key_values(&out).unwrap(), vec![kv(b"c", b"d")]);
        assert_same_except_kv(&m, &out);
        let removed = with_key_values(&m, &[]).unwrap();
        assert_eq!(ids(&removed), vec![1, 7]);
    }

    #[test]
    fn field_after_5_gets_reencoded_header() {
        // ids 4, 5, 6; removing 5 makes 6 a delta of 2 from 4.
        let m = B::default()
            .fh(4, ct::I32)
            .varint(8)
            .fh(1, ct::LIST)
            .kv_list(&[kv(b"a", b"b")])
            .fh(1, ct::I32)
            .varint(10)
            .stop()
            .done();
        let out = with_key_values(&m, &[]).unwrap();
        assert_eq!(out, vec![0x45, 8, 0x25, 10, 0]);
    }

    #[test]
    fn long_field_ids_and_large_deltas() {
        // ids 1, 20 (delta 19 -> long form), 300, -7, 32767 and a short delta after a
        // negative id.
        let m = B::default()
            .fh(1, ct::I32)
            .varint(2)
            .long_fh(ct::BINARY, 20)
            .bin(b"twenty")
            .long_fh(ct::I64, 300)
            .varint(1)
            .long_fh(ct::BOOL_TRUE, -7)
            .fh(2, ct::BOOL_FALSE) // id -5
            .long_fh(ct::DOUBLE, i16::MAX)
            .raw(&1.5f64.to_le_bytes())
            .stop()
            .done();
        assert_eq!(ids(&m), vec![1, 20, 300, -7, -5, i16::MAX]);
        let out = with_key_values(&m, &[kv(b"k", b"v")]).unwrap();
        assert_eq!(ids(&out), vec![1, 5, 20, 300, -7, -5, i16::MAX]);
        assert_same_except_kv(&m, &out);
        // Removing again gives exactly the input (all headers were canonical).
        assert_eq!(with_key_values(&out, &[]).unwrap(), m);
    }

    #[test]
    fn non_canonical_headers_are_canonicalised() {
        // Field 1 written in long form although a delta would do.
        let m = B::default().long_fh(ct::I32, 1).varint(2).stop().done();
        let out = with_key_values(&m, &[]).unwrap();
        assert_eq!(out, vec![0x15, 2, 0]);
        assert_same_except_kv(&m, &out);
    }

    #[test]
    fn field_id_overflow_is_rejected() {
        let m = B::default()
            .long_fh(ct::I32, i16::MAX)
            .varint(2)
            .fh(1, ct::I32)
            .varint(2)
            .stop()
            .done();
        let e = key_values(&m).unwrap_err();
        assert!(e.to_string().contains("field id overflows"), "{e}");
    }

    #[test]
    fn long_list_form() {
        let many: Vec<KeyValue> = (0..40)
            .map(|i| KeyValue::new(format!("key{i}"), vec![b'x'; i * 10]))
            .collect();
        let m = sample(Some(&many));
        assert_eq!(key_values(&m).unwrap(), many);
        // 14 is the largest short size, 15 the smallest long one.
        for n in [14usize, 15, 16] {
            let list: Vec<_> = many[..n].to_vec();
            let enc = encode_key_value_list(&list).unwrap();
            if n < 15 {
                assert_eq!(enc[0], ((n as u8) << 4) | ct::STRUCT);
            } else {
                assert_eq!(enc[..2], [0xfc, n as u8]);
            }
            let out = with_key_values(&m, &list).unwrap();
            assert_eq!(key_values(&out).unwrap(), list);
            assert_same_except_kv(&m, &out);
        }
        // A long-form header with a small size is accepted when skipping, too.
        let m = B::default()
            .fh(1, ct::LIST)
            .raw(&[0xf5])
            .varint(2)
            .varint(1)
            .varint(2)
            .fh(4, ct::LIST)
            .raw(&[0xfc])
            .varint(1)
            .fh(1, ct::BINARY)
            .bin(b"k")
            .stop()
            .stop()
            .done();
        assert_eq!(
            key_values(&m).unwrap(),
            vec![KeyValue {
                key: b"k".to_vec(),
                value: None
            }]
        );
    }

    #[test]
    fn nested_maps_sets_and_bools_are_copied_verbatim() {
        // Field 10: map<binary, map<i32, list<bool>>> with two entries, one empty map.
        let nested = B::default()
            .varint(2)
            .raw(&[(ct::BINARY << 4) | ct::MAP])
            .bin(b"outer1")
            .varint(1)
            .raw(&[(ct::I32 << 4) | ct::LIST])
            .varint(7)
            .raw(&[0x31, 1, 0, 1]) // list of 3 bools (element type 1)
            .bin(b"outer2")
            .raw(&[0]) // empty map
            .done();
        // Field 11: struct { 1: bool true, 2: bool false, 3: set<byte>{1,2}, 4: struct{} ,
        // 5: list<bool> using element type 2, 6: uuid, 7: i16 }.
        let st = B::default()
            .fh(1, ct::BOOL_TRUE)
            .fh(1, ct::BOOL_FALSE)
            .fh(1, ct::SET)
            .raw(&[0x23, 1, 2])
            .fh(1, ct::STRUCT)
            .stop()
            .fh(1, ct::LIST)
            .raw(&[0x22, 2, 1])
            .fh(1, ct::UUID)
            .raw(&[7u8; 16])
            .fh(1, ct::I16)
            .varint(3)
            .stop()
            .done();
        let m = B::default()
            .fh(1, ct::BOOL_TRUE)
            .fh(1, ct::BOOL_FALSE)
            .fh(1, ct::BYTE)
            .raw(&[0xff])
            .fh(2, ct::LIST)
            .kv_list(&[kv(b"x", b"y")])
            .fh(5, ct::MAP)
            .raw(&nested)
            .fh(1, ct::STRUCT)
            .raw(&st)
            .fh(1, ct::MAP)
            .raw(&[0]) // empty map
            .stop()
            .done();
        let fields = raw_fields(&m).unwrap();
        assert_eq!(fields[0].compact_type, ct::BOOL_TRUE);
        assert!(fields[0].value.is_empty());
        assert_eq!(fields[1].compact_type, ct::BOOL_FALSE);
        assert_eq!(fields[4].id, 10);
        assert_eq!(fields[4].value, &nested[..]);
        assert_eq!(fields[5].value, &st[..]);
        assert_eq!(fields[6].value, &[0]);
        let out = with_key_values(&m, &[kv(b"z", b"w"), kv(b"q", b"r")]).unwrap();
        assert_same_except_kv(&m, &out);
        assert_eq!(ids(&out), vec![1, 2, 3, 5, 10, 11, 12]);
        assert_eq!(with_key_values(&out, &[kv(b"x", b"y")]).unwrap(), m);
    }

    #[test]
    fn invalid_utf8_and_missing_values_round_trip() {
        let kvs = vec![
            KeyValue {
                key: vec![0xff, 0xfe, 0x00, b'k'],
                value: Some(vec![0xc3, 0x28, 0x80]),
            },
            KeyValue {
                key: vec![0x80],
                value: None,
            },
            KeyValue {
                key: vec![],
                value: Some(vec![]),
            },
        ];
        let m = with_key_values(&sample(None), &kvs).unwrap();
        assert_eq!(key_values(&m).unwrap(), kvs);
    }

    #[test]
    fn unknown_key_value_fields_are_skipped() {
        let m = B::default()
            .fh(5, ct::LIST)
            .raw(&[0x1c])
            .fh(1, ct::BINARY)
            .bin(b"k")
            .fh(1, ct::BINARY)
            .bin(b"v")
            .fh(1, ct::STRUCT)
            .fh(1, ct::I32)
            .varint(1)
            .stop()
            .fh(1, ct::BOOL_TRUE)
            .stop()
            .stop()
            .done();
        assert_eq!(key_values(&m).unwrap(), vec![kv(b"k", b"v")]);
    }

    fn err(m: &[u8]) -> String {
        let a = key_values(m).unwrap_err().to_string();
        let b = with_key_values(m, &[]).unwrap_err().to_string();
        assert_eq!(a, b);
        a
    }

    #[test]
    fn malformed_inputs_give_located_errors() {
        assert_eq!(
            err(&[]),
            "footer is malformed at byte 0: unexpected end of data"
        );
        // List claims 100 elements, only a few bytes follow.
        let m = B::default()
            .fh(2, ct::LIST)
            .raw(&[0xf5])
            .varint(100)
            .raw(&[1, 2])
            .done();
        assert_eq!(
            err(&m),
            "footer is malformed at byte 1: list size exceeds remaining bytes"
        );
        // String longer than the input.
        let m = B::default()
            .fh(6, ct::BINARY)
            .varint(1000)
            .raw(b"ab")
            .done();
        assert_eq!(
            err(&m),
            "footer is malformed at byte 1: string length exceeds remaining bytes"
        );
        // Negative length.
        let m = B::default()
            .fh(6, ct::BINARY)
            .varint(u64::from(u32::MAX))
            .done();
        assert!(err(&m).contains("negative"));
        // 11-byte varint.
        let m = B::default()
            .fh(1, ct::I64)
            .raw(&[0x80; 10])
            .raw(&[0])
            .done();
        assert_eq!(
            err(&m),
            "footer is malformed at byte 1: varint is longer than 10 bytes"
        );
        // 10-byte varint overflowing 64 bits.
        let m = B::default().fh(1, ct::I64).raw(&[0xff; 9]).raw(&[2]).done();
        assert!(err(&m).contains("overflows 64 bits"));
        // Trailing bytes.
        let mut m = sample(None);
        let end = m.len();
        m.push(0);
        assert_eq!(
            err(&m),
            format!(
                "footer is malformed at byte {end}: trailing bytes after the end of FileMetaData"
            )
        );
        // Missing STOP.
        let mut m = sample(None);
        m.pop();
        assert!(err(&m).contains("unexpected end of data"));
        // Unknown types.
        assert!(err(&[0x1e]).contains("unknown field type"));
        assert!(err(&[0x19, 0x1e]).contains("unknown list element type"));
        assert!(err(&[0x1b, 0x01, 0xe5]).contains("unknown map key or value type"));
        assert!(err(&[0x10]).contains("STOP byte"));
        // Map too large.
        assert!(err(&[0x1b, 0x03, 0x55, 1, 1, 0]).contains("map size exceeds"));
        // Field 5 of the wrong type, twice, or with a bad KeyValue.
        assert!(err(&[0x55, 0x02, 0x00]).contains("not a list"));
        assert!(err(&[0x59, 0x15, 0x02, 0x00]).contains("not structs"));
        assert!(err(&[0x59, 0x1c, 0x00, 0x00]).contains("has no key"));
        assert!(err(&[0x59, 0x1c, 0x15, 0x02, 0x00, 0x00]).contains("not a string"));
        assert!(err(&[0x59, 0x0c, 0x09, 0x0a, 0x0c, 0x00]).contains("appears twice"));
    }

    fn nested_structs(levels: usize) -> Vec<u8> {
        // Field 1 of each struct is a struct; the innermost is empty.
        let mut m = vec![0x1c; levels];
        m.extend(std::iter::repeat_n(0u8, levels + 1));
        m
    }

    #[test]
    fn depth_is_bounded() {
        // The top-level struct is level 0; MAX_DEPTH nested structs are fine.
        assert!(key_values(&nested_structs(MAX_DEPTH)).is_ok());
        let e = key_values(&nested_structs(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.to_string().contains("deeper than 64 levels"), "{e}");
        // Lists count too; and a huge nesting does not overflow the stack.
        let mut m = vec![0x19];
        m.extend(std::iter::repeat_n(0x19u8, 100_000));
        assert!(key_values(&m).unwrap_err().to_string().contains("deeper"));
        assert!(key_values(&nested_structs(100_000)).is_err());
    }

    #[test]
    fn signed_plaintext_footer_reads_but_is_not_rewritten() {
        let kvs = vec![kv(b"a", b"b")];
        let mut m = B::default()
            .fh(5, ct::LIST)
            .kv_list(&kvs)
            .fh(3, ct::STRUCT) // 8: encryption_algorithm
            .fh(1, ct::STRUCT)
            .stop()
            .stop()
            .stop()
            .done();
        m.extend_from_slice(&[9u8; FOOTER_SIGNATURE_LEN]);
        assert_eq!(key_values(&m).unwrap(), kvs);
        assert!(matches!(with_key_values(&m, &[]), Err(FooterError::Signed)));
        // Other trailing lengths are still errors.
        m.push(0);
        assert!(key_values(&m).is_err());
    }

    fn file(bytes: &[u8]) -> Result<FooterLocation, FooterError> {
        locate(&mut Cursor::new(bytes))
    }

    #[test]
    fn locate_checks_magic_and_lengths() {
        let m = sample(Some(&[kv(b"k", b"v")]));
        let mut f = b"PAR1data".to_vec();
        write_tail(&mut f, &m).unwrap();
        assert_eq!(&f[f.len() - 4..], b"PAR1");
        assert_eq!(f[f.len() - 8..f.len() - 4], (m.len() as u32).to_le_bytes());
        let loc = file(&f).unwrap();
        assert_eq!(
            loc,
            FooterLocation {
                metadata_offset: 8,
                metadata_len: m.len() as u32,
                file_len: f.len() as u64
            }
        );
        assert_eq!(read_metadata(&mut Cursor::new(&f), &loc).unwrap(), m);

        let msg = |r: Result<FooterLocation, FooterError>| r.unwrap_err().to_string();
        assert_eq!(msg(file(b"")), "not a Parquet file: file is empty");
        assert!(msg(file(b"hello world, not parquet")).contains("no PAR1 magic at the start"));
        assert!(msg(file(b"PA")).contains("truncated"));
        assert!(msg(file(b"PAR1")).contains("has 4 bytes but its footer needs 12"));
        assert!(matches!(
            file(b"PARExxxxxxxxPARE"),
            Err(FooterError::Encrypted)
        ));
        assert!(matches!(
            file(b"PAR1xxxxxxxxPARE"),
            Err(FooterError::Encrypted)
        ));
        assert!(msg(file(b"PAR1xxxxxxxxPAR2")).contains("no PAR1 magic at the end"));
        assert!(matches!(
            locate(&mut Cursor::new(b"PAR1xxxxxxxxPAR2".to_vec())),
            Err(FooterError::NoFooter)
        ));
        // Length pointing before the leading magic.
        let mut g = b"PAR1".to_vec();
        write_tail(&mut g, &[0; 3]).unwrap();
        let n = g.len();
        g[n - 8] = 4;
        assert_eq!(
            msg(locate(&mut Cursor::new(&g))),
            "file is truncated: it has 15 bytes but its footer needs 16"
        );
        g[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            file(&g),
            Err(FooterError::Truncated { needed, .. }) if needed == u64::from(u32::MAX) + 12
        ));
        // Minimal file with an empty footer: locates, then fails to parse.
        let loc = file(b"PAR1\0\0\0\0PAR1").unwrap();
        assert_eq!(loc.metadata_offset, 4);
        assert_eq!(loc.metadata_len, 0);
    }

    #[test]
    fn rewrite_copies_data_and_replaces_tail() {
        let m = sample(None);
        let mut f = b"PAR1some page bytes".to_vec();
        write_tail(&mut f, &m).unwrap();
        let kvs = vec![kv(b"k", b"v")];
        let mut out = Vec::new();
        let n = rewrite_key_values(&mut Cursor::new(&f), &mut out, &kvs).unwrap();
        assert_eq!(n, out.len() as u64);
        assert_eq!(&out[..19], b"PAR1some page bytes");
        let loc = file(&out).unwrap();
        let new_m = read_metadata(&mut Cursor::new(&out), &loc).unwrap();
        assert_eq!(key_values(&new_m).unwrap(), kvs);
        assert_same_except_kv(&m, &new_m);
    }

    #[test]
    fn errors_display_and_source() {
        let e = FooterError::from(io::Error::other("disk on fire"));
        assert_eq!(
            e.to_string(),
            "I/O error on the Parquet footer: disk on fire"
        );
        assert!(std::error::Error::source(&e).is_some());
        assert!(FooterError::Encrypted.to_string().contains("PARE"));
        assert!(FooterError::Signed.to_string().contains("signed"));
        assert_eq!(
            FooterError::TooLarge { what: "key" }.to_string(),
            "key is too large for a Parquet footer"
        );
    }
}
