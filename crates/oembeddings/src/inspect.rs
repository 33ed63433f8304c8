//! A description of a records file from its footer alone: layout, sizes, row groups and
//! footer key/values. Reads no data pages.

use std::path::PathBuf;

use serde::Serialize;

use crate::footer::KeyValue;
use crate::layout::{Layout, LayoutKind};
use crate::read::ParquetSource;
use crate::stats::is_statistics_key;

/// What `oembeddings inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The file.
    pub path: PathBuf,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// Size of the footer in bytes.
    pub footer_bytes: u32,
    /// The writer that made the file, as it says.
    pub created_by: Option<String>,
    /// Number of records.
    pub rows: u64,
    /// The recognised layout's name.
    pub layout_kind: LayoutKind,
    /// The recognised layout.
    pub layout: Layout,
    /// Whether the footer's `ARROW:schema` hint could not be decoded and was ignored (the
    /// columns were read by their Parquet schema).
    pub arrow_schema_hint_ignored: bool,
    /// Every top-level column, with its sizes summed over row groups.
    pub columns: Vec<ColumnSummary>,
    /// Every row group.
    pub row_groups: Vec<RowGroupSummary>,
    /// Footer key/values in file order; bytes that are not UTF-8 are shown as `\xNN`.
    pub key_values: Vec<FooterEntry>,
    /// Whether the footer holds the Go tool's statistics keys.
    pub has_statistics: bool,
    /// For a remote file: the requests and bytes it took to read this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io: Option<crate::blob::IoStats>,
}

/// One top-level column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Arrow type as decoded.
    pub arrow_type: String,
    /// Stored (compressed) bytes over all row groups.
    pub compressed_bytes: u64,
    /// Uncompressed bytes over all row groups.
    pub uncompressed_bytes: u64,
    /// Compression codecs used by the column's leaves.
    pub compression: Vec<String>,
    /// Encodings used by the column's leaves.
    pub encodings: Vec<String>,
}

/// One row group.
#[derive(Debug, Clone, Serialize)]
pub struct RowGroupSummary {
    /// Number of rows.
    pub rows: u64,
    /// Stored bytes.
    pub compressed_bytes: u64,
    /// Uncompressed bytes.
    pub uncompressed_bytes: u64,
}

/// One footer key/value.
#[derive(Debug, Clone, Serialize)]
pub struct FooterEntry {
    /// The key.
    pub key: String,
    /// The value (absent when the pair has none).
    pub value: Option<String>,
    /// Whether the key or value held bytes that are not UTF-8 (shown escaped).
    pub escaped: bool,
}

impl From<&KeyValue> for FooterEntry {
    fn from(kv: &KeyValue) -> Self {
        let (key, key_escaped) = escape_bytes(&kv.key);
        let (value, value_escaped) = match kv.value.as_deref().map(escape_bytes) {
            Some((v, e)) => (Some(v), e),
            None => (None, false),
        };
        Self {
            key,
            value,
            escaped: key_escaped || value_escaped,
        }
    }
}

/// The text of `bytes` with every byte that is not part of valid UTF-8 written `\xNN`, and
/// whether any was.
pub fn escape_bytes(bytes: &[u8]) -> (String, bool) {
    let mut out = String::with_capacity(bytes.len());
    let mut escaped = false;
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
            escaped = true;
        }
    }
    (out, escaped)
}

/// The codec without its level: `ZSTD`, `SNAPPY`, ...
fn codec_name(c: parquet::basic::Compression) -> &'static str {
    use parquet::basic::Compression as C;
    match c {
        C::UNCOMPRESSED => "UNCOMPRESSED",
        C::SNAPPY => "SNAPPY",
        C::GZIP(_) => "GZIP",
        C::LZO => "LZO",
        C::BROTLI(_) => "BROTLI",
        C::LZ4 => "LZ4",
        C::ZSTD(_) => "ZSTD",
        C::LZ4_RAW => "LZ4_RAW",
    }
}

/// A compact spelling of an Arrow type: `list<float32>`, `map<utf8, utf8>`, ...
pub fn short_type(t: &arrow_schema::DataType) -> String {
    use arrow_schema::DataType as T;
    match t {
        T::List(f) => format!("list<{}>", short_type(f.data_type())),
        T::LargeList(f) => format!("large_list<{}>", short_type(f.data_type())),
        T::FixedSizeList(f, n) => format!("fixed_size_list<{}, {n}>", short_type(f.data_type())),
        T::Map(entries, _) => match entries.data_type() {
            T::Struct(fields) if fields.len() == 2 => format!(
                "map<{}, {}>",
                short_type(fields[0].data_type()),
                short_type(fields[1].data_type())
            ),
            other => format!("map<{}>", short_type(other)),
        },
        T::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), short_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        T::Dictionary(k, v) => format!("dictionary<{}, {}>", short_type(k), short_type(v)),
        other => other.to_string().to_lowercase(),
    }
}

impl Inspection {
    /// Describes an opened file.
    pub fn of(source: &ParquetSource) -> Self {
        let md = source.metadata();
        let schema = source.arrow_schema();
        let mut columns: Vec<ColumnSummary> = schema
            .fields()
            .iter()
            .map(|f| ColumnSummary {
                name: f.name().clone(),
                arrow_type: short_type(f.data_type()),
                compressed_bytes: 0,
                uncompressed_bytes: 0,
                compression: Vec::new(),
                encodings: Vec::new(),
            })
            .collect();
        let mut row_groups = Vec::with_capacity(md.num_row_groups());
        for rg in md.row_groups() {
            let mut summary = RowGroupSummary {
                rows: u64::try_from(rg.num_rows()).unwrap_or(0),
                compressed_bytes: 0,
                uncompressed_bytes: 0,
            };
            for c in rg.columns() {
                let compressed = u64::try_from(c.compressed_size()).unwrap_or(0);
                let uncompressed = u64::try_from(c.uncompressed_size()).unwrap_or(0);
                summary.compressed_bytes += compressed;
                summary.uncompressed_bytes += uncompressed;
                let root = c.column_path().parts().first().cloned().unwrap_or_default();
                if let Some(column) = columns.iter_mut().find(|s| s.name == root) {
                    column.compressed_bytes += compressed;
                    column.uncompressed_bytes += uncompressed;
                    let codec = codec_name(c.compression()).to_owned();
                    if !column.compression.contains(&codec) {
                        column.compression.push(codec);
                    }
                    for encoding in c.encodings() {
                        let e = encoding.to_string();
                        if !column.encodings.contains(&e) {
                            column.encodings.push(e);
                        }
                    }
                }
            }
            row_groups.push(summary);
        }
        let key_values: Vec<FooterEntry> =
            source.key_values().iter().map(FooterEntry::from).collect();
        let has_statistics = key_values
            .iter()
            .any(|kv| kv.key.starts_with("embeddingsdb:") && is_statistics_key(&kv.key));
        Self {
            path: source.path().to_path_buf(),
            file_bytes: source.file_len(),
            footer_bytes: source.footer_len(),
            created_by: md.file_metadata().created_by().map(str::to_owned),
            rows: source.num_rows(),
            layout_kind: source.layout().kind(),
            layout: source.layout().clone(),
            arrow_schema_hint_ignored: source.arrow_schema_hint_ignored(),
            columns,
            row_groups,
            key_values,
            has_statistics,
            io: source.blob().io(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_bytes;

    #[test]
    fn invalid_utf8_is_escaped_byte_by_byte() {
        assert_eq!(escape_bytes(b"ok"), ("ok".to_owned(), false));
        assert_eq!(
            escape_bytes(b"a\xffb\xe2\x82"),
            ("a\\xffb\\xe2\\x82".to_owned(), true)
        );
        assert_eq!(escape_bytes("é".as_bytes()), ("é".to_owned(), false));
    }
}
