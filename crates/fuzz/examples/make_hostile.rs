//! Writes the crafted files of `spec/conformance/hostile/`: footers that contradict their
//! pages or the file, built from a valid file of the conformance corpus by rewriting its
//! metadata with parquet-rs's own writer (the data pages are copied unchanged).
//!
//! `cargo run -p oembeddings-fuzz --example make_hostile -- spec/conformance/hostile`
//!
//! The other files there are fuzzer findings (mutants of the corpus that reached a panic in a
//! decoder), committed as found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataBuilder, ParquetMetaDataReader,
    ParquetMetaDataWriter, RowGroupMetaData,
};

const SOURCE: &str = "spec/conformance/valid/sfomuseum-conformance-4-clip-20260601.parquet";

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: make_hostile OUTPUT_DIR");
    let out = Path::new(&out);
    std::fs::create_dir_all(out).unwrap();
    let file = std::fs::read(SOURCE).unwrap();
    let footer_len = u32::from_le_bytes(file[file.len() - 8..file.len() - 4].try_into().unwrap());
    let data_end = file.len() - 8 - footer_len as usize;
    let metadata = ParquetMetaDataReader::decode_metadata(&file[data_end..file.len() - 8]).unwrap();
    let rows = metadata.file_metadata().num_rows();
    let write = |name: &str, metadata: &ParquetMetaData| {
        let bytes = with_metadata(&file[..data_end], metadata);
        std::fs::write(out.join(name), bytes).unwrap();
        println!("{name}");
    };
    // The row group says one row fewer than the footer (pages untouched). parquet-rs's
    // writer sums the row groups into the footer's count, so the footer's own count is
    // patched in afterwards, in place (a one-byte zigzag varint either way).
    let mut bytes = with_metadata(&file[..data_end], &with_rows(&metadata, rows - 1, rows - 1));
    let tail_len = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    let start = bytes.len() - 8 - tail_len as usize;
    let fields = oembeddings::footer::raw_fields(&bytes[start..bytes.len() - 8]).unwrap();
    let num_rows = fields.iter().find(|f| f.id == 3).unwrap();
    assert_eq!(num_rows.value, [zigzag(rows - 1)]);
    let at = num_rows.value.as_ptr() as usize - bytes.as_ptr() as usize;
    bytes[at] = zigzag(rows);
    std::fs::write(out.join("footer-rows-disagree.parquet"), bytes).unwrap();
    println!("footer-rows-disagree.parquet");
    // Both counts say one row fewer than the pages hold.
    write(
        "pages-hold-more-rows.parquet",
        &with_rows(&metadata, rows - 1, rows - 1),
    );
    // Both counts say one row more than the pages hold.
    write(
        "pages-hold-fewer-rows.parquet",
        &with_rows(&metadata, rows + 1, rows + 1),
    );
    // A column chunk whose bytes run past the end of the file's data.
    write(
        "chunk-past-the-data.parquet",
        &with_chunk_size(&metadata, 1 << 31),
    );
    // A page header that claims 134 MB uncompressed for a page of a few hundred bytes:
    // decoders allocate what it claims before decompressing.
    std::fs::write(
        out.join("page-claims-134-mb.parquet"),
        page_claiming_too_much(),
    )
    .unwrap();
    println!("page-claims-134-mb.parquet");
}

/// A records file whose provider column has one zstd page of a 1 MiB string (a few hundred
/// bytes compressed), its header then patched to claim 2^27-1 bytes uncompressed (the same
/// four varint bytes, so nothing moves).
fn page_claiming_too_much() -> Vec<u8> {
    use std::collections::BTreeMap;

    use oembeddings::{Batch, Record};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;

    let record = Record {
        provider: "0".repeat(1 << 20),
        depiction_id: "1".into(),
        subject_id: "1".into(),
        model: "clip".into(),
        embeddings: vec![0.5, 0.25],
        created: 1_780_000_000,
        attributes: BTreeMap::new(),
    };
    let batch = Batch::from_records([record.as_ref()]).unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false)
        .build();
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, batch.record_batch().schema(), Some(properties)).unwrap();
    writer.write(batch.record_batch()).unwrap();
    writer.close().unwrap();
    let footer_len =
        u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    let data_end = bytes.len() - 8 - footer_len as usize;
    let metadata =
        ParquetMetaDataReader::decode_metadata(&bytes[data_end..bytes.len() - 8]).unwrap();
    let page = usize::try_from(metadata.row_group(0).column(0).data_page_offset()).unwrap();
    // The header starts: field 1 (type), then field 2 (uncompressed size, i32 zigzag varint).
    assert_eq!(bytes[page], 0x15);
    let size_at = page + 3;
    assert_eq!(bytes[size_at - 1], 0x15);
    let varint = &mut bytes[size_at..size_at + 4];
    assert!(varint[..3].iter().all(|b| b & 0x80 != 0) && varint[3] & 0x80 == 0);
    varint.copy_from_slice(&[0xfe, 0xff, 0xff, 0x7f]);
    bytes
}

/// The data pages followed by `metadata`'s footer.
fn with_metadata(data: &[u8], metadata: &ParquetMetaData) -> Vec<u8> {
    let mut bytes = data.to_vec();
    ParquetMetaDataWriter::new(&mut bytes, metadata)
        .finish()
        .unwrap();
    bytes
}

/// A small count as a one-byte zigzag varint.
fn zigzag(n: i64) -> u8 {
    u8::try_from(n << 1).unwrap()
}

/// `metadata` with the footer counting `file_rows` and its (one) row group `group_rows`.
fn with_rows(metadata: &ParquetMetaData, file_rows: i64, group_rows: i64) -> ParquetMetaData {
    let groups: Vec<RowGroupMetaData> = metadata
        .row_groups()
        .iter()
        .map(|rg| {
            rg.clone()
                .into_builder()
                .set_num_rows(group_rows)
                .build()
                .unwrap()
        })
        .collect();
    builder_with(metadata, file_rows)
        .set_row_groups(groups)
        .build()
}

/// `metadata` with the first column chunk claiming `size` compressed bytes.
fn with_chunk_size(metadata: &ParquetMetaData, size: i64) -> ParquetMetaData {
    let groups: Vec<RowGroupMetaData> = metadata
        .row_groups()
        .iter()
        .map(|rg| {
            let mut columns: Vec<_> = rg.columns().to_vec();
            columns[0] = columns[0]
                .clone()
                .into_builder()
                .set_total_compressed_size(size)
                .build()
                .unwrap();
            rg.clone()
                .into_builder()
                .set_column_metadata(columns)
                .build()
                .unwrap()
        })
        .collect();
    builder_with(metadata, metadata.file_metadata().num_rows())
        .set_row_groups(groups)
        .build()
}

fn builder_with(metadata: &ParquetMetaData, rows: i64) -> ParquetMetaDataBuilder {
    let f = metadata.file_metadata();
    ParquetMetaDataBuilder::new(FileMetaData::new(
        f.version(),
        rows,
        f.created_by().map(str::to_owned),
        f.key_value_metadata().cloned(),
        f.schema_descr_ptr(),
        f.column_orders().cloned(),
    ))
}
