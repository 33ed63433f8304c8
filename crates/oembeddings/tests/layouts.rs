//! Reading every accepted layout, and every kind of bad input, through the public API.
//! Files are written here with arrow-rs directly, as other producers would write them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::builder::{
    FixedSizeListBuilder, Float16Builder, Float32Builder, Float64Builder, LargeListBuilder,
    ListBuilder, MapBuilder, StringBuilder, StringDictionaryBuilder, StructBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields};
use oembeddings::append::append_statistics;
use oembeddings::footer;
use oembeddings::read::{FileObserver, ParquetSource, ReadError, ReadOptions, RecordProblem};
use oembeddings::{Batch, LayoutKind, Record, Statistics, WriteOptions, Writer, read};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Writes `columns` (name, array) with arrow-rs; `hint` keeps the ARROW:schema key.
fn write_columns(path: &Path, columns: Vec<(&str, ArrayRef)>, hint: bool) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let options = ArrowWriterOptions::new().with_skip_arrow_metadata(!hint);
    let mut writer =
        ArrowWriter::try_new_with_options(File::create(path).unwrap(), batch.schema(), options)
            .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Three records' identity, created and attributes columns in the Go layout.
fn identity() -> Vec<(&'static str, ArrayRef)> {
    vec![
        ("provider", strings(&["sfomuseum", "sfomuseum", "nga"])),
        ("depiction_id", strings(&["1", "2", "3"])),
        ("subject_id", strings(&["10", "20", "30"])),
        ("model", strings(&["clip", "clip", "clip"])),
    ]
}

fn created() -> ArrayRef {
    Arc::new(Int64Array::from(vec![
        1_700_000_000,
        1_700_000_001,
        1_700_000_002,
    ]))
}

fn map_attributes(rows: &[&[(&str, Option<&str>)]]) -> ArrayRef {
    let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for row in rows {
        for (k, v) in *row {
            b.keys().append_value(k);
            b.values().append_option(*v);
        }
        b.append(true).unwrap();
    }
    Arc::new(b.finish())
}

fn plain_attributes() -> ArrayRef {
    map_attributes(&[
        &[("type", Some("image"))],
        &[],
        &[("a", Some("x")), ("b", Some("y"))],
    ])
}

fn f32_lists(rows: &[Option<&[Option<f32>]>]) -> ArrayRef {
    let mut b = ListBuilder::new(Float32Builder::new());
    for row in rows {
        match row {
            Some(values) => {
                for v in *values {
                    b.values().append_option(*v);
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }
    Arc::new(b.finish())
}

fn vectors3() -> ArrayRef {
    f32_lists(&[
        Some(&[Some(0.5), Some(-1.0), Some(1e-7)]),
        Some(&[Some(0.25), Some(0.0), Some(-0.0)]),
        Some(&[Some(3.0), Some(2.0), Some(1.0)]),
    ])
}

fn go_columns() -> Vec<(&'static str, ArrayRef)> {
    let mut c = identity();
    c.push(("embeddings", vectors3()));
    c.push(("created", created()));
    c.push(("attributes", plain_attributes()));
    c
}

/// Collects every byte a reader shows it.
#[derive(Default)]
struct Collect(Mutex<Vec<u8>>);

impl FileObserver for Collect {
    fn observe(&self, bytes: &[u8]) -> bool {
        self.0.lock().unwrap().extend_from_slice(bytes);
        true
    }
}

/// Every record of `path`, read with an observer; what it saw is checked against the file's
/// bytes whenever every record was read.
fn all_records(path: &Path) -> Result<Vec<Record>, ReadError> {
    let observer = Arc::new(Collect::default());
    let options = ReadOptions::default().with_observer(observer.clone());
    let mut reader = ParquetSource::open(path)?.records(&options)?;
    let mut out = Vec::new();
    for batch in reader.by_ref() {
        let batch = batch?;
        out.extend(batch.records().map(|r| r.to_record()));
    }
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(reader.read_to_end()?, Some(bytes.len() as u64));
    assert!(*observer.0.lock().unwrap() == bytes);
    Ok(out)
}

fn first_error(path: &Path) -> ReadError {
    match all_records(path) {
        Ok(records) => panic!("expected an error, read {} records", records.len()),
        Err(e) => e,
    }
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn go_layout_written_by_arrow_reads_as_go_embeddingsdb() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "go.parquet");
    write_columns(&path, go_columns(), false);
    let source = ParquetSource::open(&path).unwrap();
    // arrow-rs names the list child `item` and keeps nullable fields: a compatible layout.
    assert_eq!(source.layout().kind(), LayoutKind::Compatible);
    let records = all_records(&path).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].embeddings, vec![0.5, -1.0, 1e-7]);
    assert_eq!(records[1].embeddings[2].to_bits(), (-0.0f32).to_bits());
    assert_eq!(
        records[2].attributes,
        BTreeMap::from([("a".into(), "x".into()), ("b".into(), "y".into())])
    );
    assert_eq!(records[2].key().to_string(), "nga-3-clip");

    // Our writer's output is the Go layout exactly, and reads back identically.
    let ours = tmp(&dir, "ours.parquet");
    let mut writer = Writer::create(&ours, WriteOptions::default()).unwrap();
    writer
        .write(&Batch::from_records(records.iter().map(Record::as_ref)).unwrap())
        .unwrap();
    writer.finish().unwrap();
    assert_eq!(
        ParquetSource::open(&ours).unwrap().layout().kind(),
        LayoutKind::GoEmbeddingsdb
    );
    assert_eq!(all_records(&ours).unwrap(), records);
}

#[test]
fn other_producers_layouts_read_identically() {
    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let path = tmp(&dir, "go.parquet");
        write_columns(&path, go_columns(), false);
        all_records(&path).unwrap()
    };

    // FixedSizeList with the ARROW:schema hint, columns reversed, an extra column,
    // dictionary-encoded strings and a large string.
    let mut fixed = FixedSizeListBuilder::new(Float32Builder::new(), 3);
    for r in &expected {
        fixed.values().append_slice(&r.embeddings);
        fixed.append(true);
    }
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for r in &expected {
        dict.append_value(&r.provider);
    }
    let path = tmp(&dir, "fixed.parquet");
    write_columns(
        &path,
        vec![
            ("attributes", plain_attributes()),
            ("created", created()),
            ("embeddings", Arc::new(fixed.finish())),
            ("note", strings(&["x", "y", "z"])),
            (
                "model",
                Arc::new(arrow_array::LargeStringArray::from(vec!["clip"; 3])),
            ),
            ("subject_id", strings(&["10", "20", "30"])),
            ("depiction_id", strings(&["1", "2", "3"])),
            ("provider", Arc::new(dict.finish())),
        ],
        true,
    );
    let source = ParquetSource::open(&path).unwrap();
    assert!(!source.layout().conventional_order);
    assert_eq!(source.layout().extra_columns, vec!["note".to_owned()]);
    assert_eq!(all_records(&path).unwrap(), expected);

    // LargeList of float16 (exactly representable values) and JSON attributes.
    let mut half = LargeListBuilder::new(Float16Builder::new());
    for r in &expected {
        for v in &r.embeddings {
            half.values().append_value(half::f16::from_f32(*v));
        }
        half.append(true);
    }
    let json: Vec<String> = expected
        .iter()
        .map(|r| serde_json::to_string(&r.attributes).unwrap())
        .collect();
    let mut columns = identity();
    columns.push(("embeddings", Arc::new(half.finish())));
    columns.push(("created", created()));
    columns.push(("attributes", Arc::new(StringArray::from(json))));
    let path = tmp(&dir, "half.parquet");
    write_columns(&path, columns, true);
    let records = all_records(&path).unwrap();
    // 1e-7 is not a float16; everything else is.
    assert_eq!(records[1..], expected[1..]);
    assert_eq!(records[0].embeddings[..2], expected[0].embeddings[..2]);

    // Attributes as a list of {key, value} structs (polars) and a timestamp `created`.
    let fields = Fields::from(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
    ]);
    let mut kv = ListBuilder::new(StructBuilder::from_fields(fields, 0));
    for r in &expected {
        for (k, v) in &r.attributes {
            let s = kv.values();
            s.field_builder::<StringBuilder>(0).unwrap().append_value(k);
            s.field_builder::<StringBuilder>(1).unwrap().append_value(v);
            s.append(true);
        }
        kv.append(true);
    }
    let millis: Vec<i64> = expected.iter().map(|r| r.created * 1000 + 999).collect();
    let mut columns = identity();
    columns.push(("embeddings", vectors3()));
    columns.push(("created", Arc::new(TimestampMillisecondArray::from(millis))));
    columns.push(("attributes", Arc::new(kv.finish())));
    let path = tmp(&dir, "kvlist.parquet");
    write_columns(&path, columns, true);
    assert_eq!(all_records(&path).unwrap(), expected);
}

#[test]
fn float64_narrowing_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = ListBuilder::new(Float64Builder::new());
    b.values().append_slice(&[0.5, 0.25, 1.0]);
    b.append(true);
    b.values().append_slice(&[0.1, 0.2, 0.5]); // 0.1 and 0.2 are not float32 values
    b.append(true);
    b.values().append_slice(&[f64::NAN, 2.0, 1e300]); // NaN is kept; 1e300 becomes inf
    b.append(true);
    let mut columns = identity();
    columns.push(("embeddings", Arc::new(b.finish())));
    columns.push(("created", created()));
    columns.push(("attributes", plain_attributes()));
    let path = tmp(&dir, "f64.parquet");
    write_columns(&path, columns.clone(), false);
    let mut reader = read(&path).unwrap();
    let batch = reader.next().unwrap().unwrap();
    assert_eq!(batch.vector(1), &[0.1f32, 0.2, 0.5]);
    assert!(batch.vector(2)[0].is_nan() && batch.vector(2)[2].is_infinite());
    let n = reader.narrowing();
    assert_eq!((n.values, n.first_row), (3, Some(1)));

    // Arrow data that comes from no file (pyarrow, polars) is counted alike, with rows
    // numbered across batches.
    let data = RecordBatch::try_from_iter(columns).unwrap();
    let mut normalizer = oembeddings::ArrowNormalizer::new(&data.schema()).unwrap();
    normalizer.normalize(&data.slice(0, 1)).unwrap();
    assert_eq!(normalizer.narrowing().values, 0);
    let rest = normalizer.normalize(&data.slice(1, 2)).unwrap();
    assert_eq!(rest.vector(0), &[0.1f32, 0.2, 0.5]);
    let n = normalizer.narrowing();
    assert_eq!((n.values, n.first_row), (3, Some(1)));

    // The same in fixed-size lists, sliced past the exact first row.
    let element = Arc::new(Field::new("element", DataType::Float64, false));
    let values =
        arrow_array::Float64Array::from(vec![0.5, 0.25, 1.0, 0.1, 0.2, 0.5, f64::NAN, 2.0, 1e300]);
    let fixed =
        arrow_array::FixedSizeListArray::try_new(element, 3, Arc::new(values), None).unwrap();
    let schema = data.schema();
    let mut columns: Vec<(&str, ArrayRef)> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .zip(data.columns().iter().cloned())
        .collect();
    columns[4].1 = Arc::new(fixed);
    let data = RecordBatch::try_from_iter(columns).unwrap();
    let mut normalizer = oembeddings::ArrowNormalizer::new(&data.schema()).unwrap();
    normalizer.normalize(&data.slice(0, 1)).unwrap();
    normalizer.normalize(&data.slice(1, 2)).unwrap();
    let n = normalizer.narrowing();
    assert_eq!((n.values, n.first_row), (3, Some(1)));
}

fn assert_record_error(err: ReadError, row: u64, key: Option<&str>, problem: RecordProblem) {
    match err {
        ReadError::Record {
            row: r,
            key: k,
            problem: p,
            ..
        } => {
            assert_eq!((r, k.as_deref(), p), (row, key, problem));
        }
        other => panic!("expected a record error, got {other}"),
    }
}

#[test]
fn nulls_are_errors_that_name_the_row_and_key() {
    let dir = tempfile::tempdir().unwrap();

    let mut columns = go_columns();
    columns[4].1 = f32_lists(&[Some(&[Some(1.0)]), None, Some(&[Some(1.0)])]);
    let path = tmp(&dir, "null-vector.parquet");
    write_columns(&path, columns, false);
    let err = first_error(&path);
    assert!(
        err.to_string().starts_with(&format!(
            "{}: row 1 (key sfomuseum-2-clip): column 'embeddings' is null",
            path.display()
        )),
        "{err}"
    );
    assert_record_error(
        err,
        1,
        Some("sfomuseum-2-clip"),
        RecordProblem::Null {
            column: "embeddings",
        },
    );

    let mut columns = go_columns();
    columns[4].1 = f32_lists(&[
        Some(&[Some(1.0)]),
        Some(&[Some(1.0)]),
        Some(&[Some(1.0), None]),
    ]);
    let path = tmp(&dir, "null-element.parquet");
    write_columns(&path, columns, false);
    assert_record_error(
        first_error(&path),
        2,
        Some("nga-3-clip"),
        RecordProblem::NullElement { index: 1 },
    );

    let mut columns = go_columns();
    columns[6].1 = map_attributes(&[&[], &[("title", Some("t")), ("credit", None)], &[]]);
    let path = tmp(&dir, "null-attribute.parquet");
    write_columns(&path, columns, false);
    assert_record_error(
        first_error(&path),
        1,
        Some("sfomuseum-2-clip"),
        RecordProblem::NullAttributeValue {
            key: "credit".into(),
        },
    );

    let mut columns = go_columns();
    columns[0].1 = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
    let path = tmp(&dir, "null-provider.parquet");
    write_columns(&path, columns, false);
    assert_record_error(
        first_error(&path),
        2,
        None,
        RecordProblem::Null { column: "provider" },
    );

    let mut columns = go_columns();
    columns[6].1 = Arc::new(StringArray::from(vec![
        r#"{"a":"b"}"#,
        r#"{"n":1}"#,
        "not json",
    ]));
    let path = tmp(&dir, "json.parquet");
    write_columns(&path, columns, false);
    let err = first_error(&path);
    assert!(err.to_string().contains("row 1 (key sfomuseum-2-clip): attributes are not a JSON object of strings: value of 'n' is not a string"), "{err}");

    let mut columns = go_columns();
    columns[5].1 = Arc::new(UInt64Array::from(vec![1, u64::MAX, 2]));
    let path = tmp(&dir, "created.parquet");
    write_columns(&path, columns, false);
    assert_record_error(
        first_error(&path),
        1,
        Some("sfomuseum-2-clip"),
        RecordProblem::CreatedOutOfRange,
    );
}

#[test]
fn files_that_are_not_records_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = tmp(&dir, "good.parquet");
    write_columns(&good, go_columns(), false);
    let bytes = std::fs::read(&good).unwrap();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.parquet", vec![], "not a Parquet file: file is empty"),
        (
            "text.parquet",
            b"provider,model\nsfomuseum,clip\n".to_vec(),
            "not a Parquet file: no PAR1 magic at the start",
        ),
        (
            "truncated.parquet",
            bytes[..bytes.len() - 100].to_vec(),
            "no PAR1 magic at the end",
        ),
        (
            "cut-header.parquet",
            bytes[..6].to_vec(),
            "file is truncated",
        ),
    ];
    for (name, content, message) in cases {
        let path = tmp(&dir, name);
        std::fs::write(&path, content).unwrap();
        let err = ParquetSource::open(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
        assert!(text.contains(message), "{name}: {text}");
    }

    let mut damaged = bytes.clone();
    let footer_len = u32::from_le_bytes(
        damaged[damaged.len() - 8..damaged.len() - 4]
            .try_into()
            .unwrap(),
    ) as usize;
    let start = damaged.len() - 8 - footer_len;
    damaged[start..start + 8].copy_from_slice(&[0xff; 8]);
    let path = tmp(&dir, "damaged-footer.parquet");
    std::fs::write(&path, &damaged).unwrap();
    assert!(
        ParquetSource::open(&path)
            .unwrap_err()
            .to_string()
            .contains("footer is malformed")
    );

    let mut columns = go_columns();
    columns.remove(5);
    let path = tmp(&dir, "missing.parquet");
    write_columns(&path, columns, false);
    assert_eq!(
        ParquetSource::open(&path).unwrap_err().to_string(),
        format!("{}: required column 'created' is missing", path.display())
    );

    let mut columns = go_columns();
    columns[4].1 = strings(&["a", "b", "c"]);
    let path = tmp(&dir, "wrong.parquet");
    write_columns(&path, columns, false);
    let text = ParquetSource::open(&path).unwrap_err().to_string();
    assert!(
        text.contains("column 'embeddings' has type Utf8; expected a list"),
        "{text}"
    );

    let err = ParquetSource::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("is a directory"), "{err}");
    let err = ParquetSource::open(tmp(&dir, "absent.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("absent.parquet: No such file"), "{err}");
}

#[test]
fn zero_rows_huge_vectors_and_huge_maps_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "empty.parquet");
    Writer::create(&path, WriteOptions::default())
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(all_records(&path).unwrap(), vec![]);
    let stats = Statistics::gather(ParquetSource::open(&path).unwrap()).unwrap();
    assert_eq!(stats.records, 0);
    assert_eq!(stats.key_value_map()["embeddingsdb:models"], "");

    let big = Record {
        provider: "p".into(),
        depiction_id: "d".into(),
        subject_id: "s".into(),
        model: "m".into(),
        embeddings: (0..100_000).map(|i| i as f32).collect(),
        created: 0,
        attributes: (0..50_000)
            .map(|i| (format!("key{i:05}"), format!("value {i}")))
            .collect(),
    };
    let path = tmp(&dir, "big.parquet");
    let mut writer = Writer::create(&path, WriteOptions::default()).unwrap();
    writer
        .write(&Batch::from_records([big.as_ref()]).unwrap())
        .unwrap();
    writer.finish().unwrap();
    assert_eq!(all_records(&path).unwrap(), vec![big]);
    let stats = Statistics::gather(ParquetSource::open(&path).unwrap()).unwrap();
    assert_eq!(stats.models[0].dimensions, 100_000);
}

#[test]
fn invalid_utf8_footer_values_do_not_stop_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "kv.parquet");
    write_columns(&path, go_columns(), false);
    let mut file = File::open(&path).unwrap();
    let kvs = vec![footer::KeyValue::new(
        b"odd\xffkey".to_vec(),
        b"\xfe\xfd".to_vec(),
    )];
    let out = tmp(&dir, "kv-invalid.parquet");
    let mut target = File::create(&out).unwrap();
    footer::rewrite_key_values(&mut file, &mut target, &kvs).unwrap();
    drop(target);
    let source = ParquetSource::open(&out).unwrap();
    assert_eq!(source.key_values(), kvs.as_slice());
    assert_eq!(all_records(&out).unwrap().len(), 3);
}

#[test]
fn statistics_take_each_models_first_vector_and_append_replaces_only_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "multi.parquet");
    let records: Vec<Record> = (0..5000)
        .map(|i| Record {
            provider: if i % 3 == 0 { "nga" } else { "sfomuseum" }.into(),
            depiction_id: i.to_string(),
            subject_id: (i / 2).to_string(),
            model: if i < 4000 { "mobileclip" } else { "siglip2" }.into(),
            embeddings: vec![0.5; if i < 4000 { 512 } else { 1152 }],
            created: 1_700_000_000 + i,
            attributes: BTreeMap::new(),
        })
        .collect();
    // Small row groups so that reading the first siglip2 vector skips whole pages.
    let options = WriteOptions::default()
        .with_statistics(false)
        .with_row_group_bytes(256 << 10)
        .with_key_value("other:key", "kept");
    let mut writer = Writer::create(&path, options).unwrap();
    for chunk in records.chunks(700) {
        writer
            .write(&Batch::from_records(chunk.iter().map(Record::as_ref)).unwrap())
            .unwrap();
    }
    writer.finish().unwrap();
    let stats = Statistics::gather(ParquetSource::open(&path).unwrap()).unwrap();
    let kv = stats.key_value_map();
    assert_eq!(kv["embeddingsdb:models"], "mobileclip;siglip2");
    assert_eq!(kv["embeddingsdb:providers"], "nga;sfomuseum");
    assert_eq!(kv["embeddingsdb:model:siglip2:dimensions"], "1152");
    assert_eq!(kv["embeddingsdb:model:mobileclip:dimensions"], "512");
    assert_eq!(kv["oembeddings:provider:nga:records"], "1667");

    let before = std::fs::read(&path).unwrap();
    let data_len = {
        let mut f = File::open(&path).unwrap();
        footer::locate(&mut f).unwrap().metadata_offset as usize
    };
    // A copy first: the input must not change.
    let copy = tmp(&dir, "copy.parquet");
    let summary = append_statistics(&path, Some(&copy)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!((summary.replaced_keys, summary.kept_keys), (0, 1));
    // Then in place; the data bytes stay identical and the records read the same.
    let summary = append_statistics(&path, None).unwrap();
    assert!(!summary.unchanged);
    let after = std::fs::read(&path).unwrap();
    assert_eq!(after[..data_len], before[..data_len]);
    assert_eq!(after, std::fs::read(&copy).unwrap());
    let source = ParquetSource::open(&path).unwrap();
    assert_eq!(source.key_value("other:key"), Some("kept"));
    assert_eq!(
        source.key_value("embeddingsdb:model:siglip2:dimensions"),
        Some("1152")
    );
    assert_eq!(all_records(&path).unwrap(), records);
    // Appending again changes nothing.
    assert!(append_statistics(&path, None).unwrap().unchanged);
    assert_eq!(std::fs::read(&path).unwrap(), after);
}

#[test]
fn batch_size_bounds_memory_and_rows_are_counted_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "rows.parquet");
    let records: Vec<Record> = (0..1000)
        .map(|i| Record {
            provider: "p".into(),
            depiction_id: i.to_string(),
            subject_id: "s".into(),
            model: "m".into(),
            embeddings: vec![i as f32; 8],
            created: i,
            attributes: BTreeMap::new(),
        })
        .collect();
    let mut writer = Writer::create(&path, WriteOptions::default()).unwrap();
    writer
        .write(&Batch::from_records(records.iter().map(Record::as_ref)).unwrap())
        .unwrap();
    writer.finish().unwrap();
    let reader = ParquetSource::open(&path)
        .unwrap()
        .records(&ReadOptions::default().with_batch_size(64))
        .unwrap();
    let mut seen = 0u64;
    for batch in reader {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 64);
        assert_eq!(batch.first_row(), seen);
        assert_eq!(batch.record(0).depiction_id, seen.to_string());
        seen += batch.num_rows() as u64;
    }
    assert_eq!(seen, 1000);
}

/// The direct decoder of the Go layout's vectors and the general Arrow list reader agree on
/// every page structure a writer can produce.
#[test]
fn direct_vector_decoder_agrees_with_the_arrow_list_reader() {
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::{WriterProperties, WriterVersion};

    let dir = tempfile::tempdir().unwrap();
    // Variable lengths, empty vectors, long vectors, in several models.
    let records: Vec<Record> = (0..3000)
        .map(|i| Record {
            provider: "p".into(),
            depiction_id: i.to_string(),
            subject_id: "s".into(),
            model: format!("m{}", i % 3),
            embeddings: (0..[0, 1, 7, 300, 1152][i % 5])
                .map(|d| (i * 31 + d) as f32 * 0.001)
                .collect(),
            created: i as i64,
            attributes: BTreeMap::new(),
        })
        .collect();
    let batch = Batch::from_records(records.iter().map(Record::as_ref)).unwrap();
    let configs: Vec<(&str, WriterProperties)> = vec![
        (
            "v1-small-pages",
            WriterProperties::builder()
                .set_data_page_size_limit(1024)
                .set_write_batch_size(7)
                .build(),
        ),
        (
            "v2-zstd",
            WriterProperties::builder()
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_dictionary_enabled(false)
                .set_data_page_size_limit(4096)
                .build(),
        ),
        (
            "row-groups",
            WriterProperties::builder()
                .set_max_row_group_row_count(Some(333))
                .set_dictionary_enabled(false)
                .build(),
        ),
    ];
    for (name, props) in configs {
        let path = tmp(&dir, &format!("{name}.parquet"));
        let options = ArrowWriterOptions::new()
            .with_properties(props)
            .with_skip_arrow_metadata(true);
        let mut writer = ArrowWriter::try_new_with_options(
            File::create(&path).unwrap(),
            batch.record_batch().schema(),
            options,
        )
        .unwrap();
        writer.write(batch.record_batch()).unwrap();
        writer.close().unwrap();
        for batch_size in [1, 64, 1000, 5000] {
            let file_bytes = std::fs::read(&path).unwrap();
            let read_with = |direct: bool, observe: bool| -> Vec<Record> {
                let observer = Arc::new(Collect::default());
                let mut options = ReadOptions::default()
                    .with_batch_size(batch_size)
                    .with_direct_vectors(direct);
                if observe {
                    options = options.with_observer(observer.clone());
                }
                let mut reader = ParquetSource::open(&path)
                    .unwrap()
                    .records(&options)
                    .unwrap();
                let records = reader
                    .by_ref()
                    .flat_map(|b| {
                        b.unwrap()
                            .records()
                            .map(|r| r.to_record())
                            .collect::<Vec<_>>()
                    })
                    .collect();
                // Observed along the way (vectors served from the observed reads, or not):
                // every byte of the file, once, in order.
                let size = reader.read_to_end().unwrap();
                if observe {
                    assert_eq!(size, Some(file_bytes.len() as u64), "{name} {batch_size}");
                    assert!(
                        *observer.0.lock().unwrap() == file_bytes,
                        "{name} {batch_size}"
                    );
                } else {
                    assert_eq!(size, None);
                }
                records
            };
            // Each batch is dropped before the next is read: the direct decoder reuses its
            // values buffer every time. Below, every batch is held: it never can.
            let direct = read_with(true, false);
            assert_eq!(direct.len(), records.len(), "{name} {batch_size}");
            assert_eq!(direct, read_with(false, false), "{name} batch {batch_size}");
            assert_eq!(direct, records, "{name} batch {batch_size}");
            assert_eq!(direct, read_with(true, true), "{name} batch {batch_size}");
            assert_eq!(direct, read_with(false, true), "{name} batch {batch_size}");
            let options = ReadOptions::default().with_batch_size(batch_size);
            let held: Vec<_> = ParquetSource::open(&path)
                .unwrap()
                .records(&options)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let held: Vec<Record> = held
                .iter()
                .flat_map(|b| b.records().map(|r| r.to_record()))
                .collect();
            assert_eq!(held, records, "{name} batch {batch_size}, batches held");
        }
    }
}

#[test]
fn repair_mode_reads_every_record_and_lists_every_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut columns = go_columns();
    columns[0].1 = Arc::new(StringArray::from(vec![Some("a"), None, Some("c")]));
    columns[4].1 = f32_lists(&[None, Some(&[Some(1.0), None]), Some(&[Some(2.0)])]);
    columns[5].1 = Arc::new(Int64Array::from(vec![Some(1), Some(2), None]));
    columns[6].1 = map_attributes(&[&[("k", None), ("ok", Some("v"))], &[], &[]]);
    let path = tmp(&dir, "bad.parquet");
    write_columns(&path, columns, false);
    assert!(all_records(&path).is_err());
    let reader = ParquetSource::open(&path)
        .unwrap()
        .records(&ReadOptions::default().with_repair(true))
        .unwrap();
    let batches: Vec<Batch> = reader.map(Result::unwrap).collect();
    let records: Vec<Record> = batches
        .iter()
        .flat_map(|b| b.records().map(|r| r.to_record()))
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].embeddings, Vec::<f32>::new());
    assert_eq!(
        records[0].attributes,
        BTreeMap::from([("ok".into(), "v".into())])
    );
    assert_eq!(records[1].provider, "");
    assert_eq!(records[1].embeddings, vec![1.0, 0.0]);
    assert_eq!(records[2].created, 0);
    let repairs: Vec<(u64, RecordProblem)> = batches
        .iter()
        .flat_map(|b| b.repairs().iter().map(|r| (r.row, r.problem.clone())))
        .collect();
    assert_eq!(
        repairs,
        vec![
            (
                0,
                RecordProblem::Null {
                    column: "embeddings"
                }
            ),
            (0, RecordProblem::NullAttributeValue { key: "k".into() }),
            (1, RecordProblem::Null { column: "provider" }),
            (1, RecordProblem::NullElement { index: 1 }),
            (2, RecordProblem::Null { column: "created" }),
        ]
    );
}
