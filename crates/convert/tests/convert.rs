//! The conversion library: lossless round trips, admission and skips, and SQLite output
//! queried with sqlite-vec from Rust.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use oembeddings::{Batch, Record, WriteOptions, Writer};
use oembeddings_convert::{ConvertError, ConvertOptions, Format, convert};

fn records(n: usize, dims: usize) -> Vec<Record> {
    let specials = [
        0.0f32,
        -0.0,
        1e-45,
        -3.4028235e38,
        1e-7,
        0.1,
        f32::MIN_POSITIVE,
    ];
    (0..n)
        .map(|i| {
            let mut v: Vec<f32> = (0..dims)
                .map(|j| ((i * 31 + j * 7) % 97) as f32 / 97.0 - 0.5)
                .collect();
            v[0] = specials[i % specials.len()];
            let mut attributes = BTreeMap::new();
            attributes.insert("type".to_owned(), "image".to_owned());
            attributes.insert(
                "subject_title".to_owned(),
                format!("Object \"{i}\" <é>\u{2028}"),
            );
            Record {
                provider: "sfomuseum".to_owned(),
                depiction_id: format!("{}", 1_000 + i),
                subject_id: format!("{}", 500 + i / 2),
                model: "clip".to_owned(),
                embeddings: v,
                created: 1_700_000_000 + i as i64,
                attributes,
            }
        })
        .collect()
}

fn write(path: &Path, records: &[Record]) {
    let mut writer = Writer::create(path, WriteOptions::default()).unwrap();
    writer
        .write(&Batch::from_records(records.iter().map(Record::as_ref)).unwrap())
        .unwrap();
    writer.finish().unwrap();
}

fn read(path: &Path) -> Vec<Record> {
    let mut out = Vec::new();
    for batch in oembeddings::read(path).unwrap() {
        let batch = batch.unwrap();
        out.extend(batch.records().map(|r| r.to_record()));
    }
    out
}

fn bits(records: &[Record]) -> Vec<Vec<u32>> {
    records
        .iter()
        .map(|r| r.embeddings.iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn parquet_jsonl_parquet_keeps_every_bit() {
    let dir = tempfile::tempdir().unwrap();
    let original = records(50, 12);
    write(&dir.path().join("a.parquet"), &original);
    let summary = convert(
        &dir.path().join("a.parquet"),
        &dir.path().join("a.jsonl"),
        &ConvertOptions::new(Format::Jsonl),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(
        (summary.read, summary.written, summary.skipped),
        (50, 50, 0)
    );
    convert(
        &dir.path().join("a.jsonl"),
        &dir.path().join("b.parquet"),
        &ConvertOptions::new(Format::Parquet),
        &mut |_, _| {},
    )
    .unwrap();
    let back = read(&dir.path().join("b.parquet"));
    assert_eq!(back, original);
    assert_eq!(bits(&back), bits(&original), "-0.0 and subnormals survive");
}

#[test]
fn refused_records_fail_with_their_row_or_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let mut original = records(10, 4);
    original[6].embeddings[1] = f32::INFINITY;
    original[8].depiction_id = original[2].depiction_id.clone();
    write(&dir.path().join("a.parquet"), &original);
    let out = dir.path().join("a.jsonl");
    let error = convert(
        &dir.path().join("a.parquet"),
        &out,
        &ConvertOptions::new(Format::Jsonl),
        &mut |_, _| {},
    )
    .unwrap_err();
    match &error {
        ConvertError::Record { row, rule, .. } => assert_eq!((*row, *rule), (6, "non-finite")),
        other => panic!("unexpected {other}"),
    }
    assert!(error.to_string().contains("sfomuseum-1006-clip"), "{error}");
    assert!(!out.exists());
    let summary = convert(
        &dir.path().join("a.parquet"),
        &out,
        &ConvertOptions::new(Format::Jsonl).with_skip_invalid(true),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!((summary.written, summary.skipped), (8, 2));
    let rules: Vec<(u64, &str)> = summary.skips.iter().map(|s| (s.row, s.rule)).collect();
    assert_eq!(rules, vec![(6, "non-finite"), (8, "duplicate-key")]);
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_output_answers_knn_queries() {
    let dir = tempfile::tempdir().unwrap();
    let original = records(30, 8);
    write(&dir.path().join("a.parquet"), &original);
    let db = dir.path().join("a.db");
    convert(
        &dir.path().join("a.parquet"),
        &db,
        &ConvertOptions::new(Format::Sqlite),
        &mut |_, _| {},
    )
    .unwrap();
    let connection = oembeddings_convert::sqlite::open(&db).unwrap();
    let count: i64 = connection
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 30);
    let query: Vec<u8> = original[17]
        .embeddings
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let (depiction, distance): (String, f64) = connection
        .query_row(
            "SELECT r.depiction_id, v.distance FROM vec v JOIN records r ON r.id = v.rowid \
             WHERE v.embedding MATCH ? AND k = 1",
            [query],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(depiction, original[17].depiction_id);
    assert_eq!(distance, 0.0);
}

#[test]
fn formats_are_detected_from_contents() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.parquet"), &records(3, 4));
    assert_eq!(
        Format::detect(&dir.path().join("a.parquet")).unwrap(),
        Format::Parquet
    );
    std::fs::write(dir.path().join("a.txt"), "  {\"provider\":1}\n").unwrap();
    assert_eq!(
        Format::detect(&dir.path().join("a.txt")).unwrap(),
        Format::Jsonl
    );
    std::fs::write(dir.path().join("b.txt"), "provider,model\n").unwrap();
    assert!(matches!(
        Format::detect(&dir.path().join("b.txt")),
        Err(ConvertError::UnknownFormat { .. })
    ));
}

/// Run with `--no-default-features`: a store left out of the build is refused by the name of
/// its feature, before the input is read and with nothing written.
#[cfg(not(feature = "sqlite"))]
#[test]
fn formats_left_out_of_the_build_name_their_feature() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.parquet"), &records(3, 4));
    let db = dir.path().join("a.db");
    let e = convert(
        &dir.path().join("a.parquet"),
        &db,
        &ConvertOptions::new(Format::Sqlite),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(
        e,
        ConvertError::NotBuilt {
            feature: "sqlite",
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "sqlite is not built into this program (feature \"sqlite\" of oembeddings-convert)"
    );
    assert!(!db.exists());
}
