//! Record signatures (native and compatible profiles), file signatures and release manifests
//! through the public API, including every attack the verifier must catch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;

use oembeddings::json::AttributesJson;
use oembeddings::read::ParquetSource;
use oembeddings::{Batch, Record, VectorOutput, WriteOptions, Writer};
use oembeddings_sign::native::{self, NativeVerifyOptions};
use oembeddings_sign::{PublicKey, SecretKey, VerifyReport, compatible, file, keys, release};

fn record(i: usize) -> Record {
    Record {
        provider: "sfomuseum".into(),
        depiction_id: (1_527_858_923 + i).to_string(),
        subject_id: (1_511_924_931 + i / 2).to_string(),
        model: "mobileclip".into(),
        embeddings: (0..16)
            .map(|d| ((i * 16 + d) as f32 * 0.37).sin())
            .collect(),
        created: 1_776_070_800 + i as i64,
        attributes: BTreeMap::from([
            ("type".into(), "image".into()),
            ("subject_title".into(), format!("Postcard {i} <SFO> & co")),
        ]),
    }
}

fn write(path: &Path, records: &[Record]) {
    let mut writer = Writer::create(path, WriteOptions::default()).unwrap();
    writer
        .write(&Batch::from_records(records.iter().map(Record::as_ref)).unwrap())
        .unwrap();
    writer.finish().unwrap();
}

fn read(path: &Path) -> Vec<Record> {
    ParquetSource::open(path)
        .unwrap()
        .records(&Default::default())
        .unwrap()
        .flat_map(|b| {
            b.unwrap()
                .records()
                .map(|r| r.to_record())
                .collect::<Vec<_>>()
        })
        .collect()
}

struct Keys {
    _dir: tempfile::TempDir,
    ed_secret: PathBuf,
    ed_public: PathBuf,
    pgp_secret: PathBuf,
    pgp_public: PathBuf,
    other_ed_public: PathBuf,
    other_pgp_public: PathBuf,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let (s, pb) = keys::generate_ed25519(None).unwrap();
    std::fs::write(p("ed.key"), s).unwrap();
    std::fs::write(p("ed.pub"), pb).unwrap();
    let (_, pb) = keys::generate_ed25519(None).unwrap();
    std::fs::write(p("other-ed.pub"), pb).unwrap();
    let (s, pb) = keys::generate_openpgp("Test <test@example.org>", None).unwrap();
    std::fs::write(p("pgp.key"), s).unwrap();
    std::fs::write(p("pgp.pub"), pb).unwrap();
    let (_, pb) = keys::generate_openpgp("Other <other@example.org>", None).unwrap();
    std::fs::write(p("other-pgp.pub"), pb).unwrap();
    Keys {
        ed_secret: p("ed.key"),
        ed_public: p("ed.pub"),
        pgp_secret: p("pgp.key"),
        pgp_public: p("pgp.pub"),
        other_ed_public: p("other-ed.pub"),
        other_pgp_public: p("other-pgp.pub"),
        _dir: dir,
    }
}

fn secret(path: &Path) -> SecretKey {
    SecretKey::load(path, None, None).unwrap()
}

fn public(path: &Path) -> PublicKey {
    PublicKey::load(path, None).unwrap()
}

fn native_verify(data: &Path, key: &Path, options: &NativeVerifyOptions) -> VerifyReport {
    native::verify_records(data, &public(key), options).unwrap()
}

fn messages(report: &VerifyReport) -> Vec<String> {
    report
        .problems
        .iter()
        .map(|p| format!("{:?} {:?}: {}", p.kind, p.row, p.message))
        .collect()
}

fn assert_fails_with(report: &VerifyReport, needle: &str) {
    assert!(
        !report.ok,
        "verified but should not: {:?}",
        messages(report)
    );
    assert!(
        messages(report).iter().any(|m| m.contains(needle)),
        "no problem contains {needle:?}: {:#?}",
        messages(report)
    );
}

#[test]
fn native_profile_with_both_key_kinds() {
    let k = keys();
    for (secret_path, public_path, other) in [
        (&k.ed_secret, &k.ed_public, &k.other_ed_public),
        (&k.pgp_secret, &k.pgp_public, &k.other_pgp_public),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir
            .path()
            .join("sfomuseum-test-16-mobileclip-20260601.parquet");
        // Several signing batches (512 records each) and a partial one.
        let records: Vec<Record> = (0..1300).map(record).collect();
        write(&data, &records);
        let signed = native::sign_records(&data, &secret(secret_path)).unwrap();
        assert_eq!(signed.records, 1300);
        let options = NativeVerifyOptions::default();
        let report = native_verify(&data, public_path, &options);
        assert!(report.ok, "{:?}", messages(&report));
        assert_eq!(
            (report.valid, report.invalid, report.missing, report.extra),
            (1300, 0, 0, 0)
        );
        // The sidecar lists the records in file order.
        let ids: Vec<String> = sidecar_rows(&data);
        let expected: Vec<String> = records.iter().map(|r| r.depiction_id.clone()).collect();
        assert_eq!(ids, expected);
        assert!(report.signer.is_some());

        // Another key: nothing verifies.
        let report = native_verify(&data, other, &options);
        assert_fails_with(&report, "manifest signature");
        assert_eq!(report.valid, 0);
    }
}

/// The depiction ids of a native sidecar's rows, in order, checking its `row` column.
fn sidecar_rows(data: &Path) -> Vec<String> {
    let file = std::fs::File::open(native::sidecar_path(data)).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1000).unwrap();
    let mut ids = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let rows = batch
            .column_by_name("row")
            .unwrap()
            .as_primitive::<arrow_array::types::UInt64Type>();
        let depictions = batch
            .column_by_name("depiction_id")
            .unwrap()
            .as_string::<i32>();
        for (row, id) in rows.iter().zip(depictions.iter()) {
            assert_eq!(row, Some(ids.len() as u64));
            ids.push(id.unwrap().to_owned());
        }
    }
    ids
}

/// Signs `records` into a fresh directory with the Ed25519 key; returns the data path.
fn signed_file(k: &Keys, dir: &Path, name: &str, records: &[Record]) -> PathBuf {
    let data = dir.join(name);
    write(&data, records);
    native::sign_records(&data, &secret(&k.ed_secret)).unwrap();
    data
}

#[test]
fn native_profile_names_every_attack() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..30).map(record).collect();
    let data = signed_file(&k, dir.path(), "a.parquet", &records);
    let options = NativeVerifyOptions::default();
    let original = std::fs::read(&data).unwrap();

    // A tampered byte inside the vector data (PLAIN floats, uncompressed).
    let meta = ParquetSource::open(&data).unwrap().metadata().clone();
    let vectors = meta
        .row_group(0)
        .columns()
        .iter()
        .find(|c| c.column_path().string().starts_with("embeddings"))
        .unwrap();
    let mut bytes = original.clone();
    let at = vectors.data_page_offset() as usize + vectors.compressed_size() as usize / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&data, &bytes).unwrap();
    let report = native_verify(&data, &k.ed_public, &options);
    assert_fails_with(&report, "record changed since it was signed");
    assert_fails_with(&report, "file's bytes differ");
    std::fs::write(&data, &original).unwrap();

    // A tampered vector element, a swapped attribute value, a replayed record under another
    // id, a deleted and a reordered record: each named at its row.
    let mut changed = records.clone();
    changed[3].embeddings[5] += 1e-6;
    changed[7].attributes.insert("type".into(), "text".into());
    changed[9].depiction_id = "999".into();
    changed.remove(20);
    changed.swap(10, 11);
    write(&data, &changed);
    let report = native_verify(&data, &k.ed_public, &options);
    let m = messages(&report);
    assert!(
        m.iter().any(|m| m.contains("Some(3): record changed")),
        "{m:#?}"
    );
    assert!(
        m.iter().any(|m| m.contains("Some(7): record changed")),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|m| m.contains("Missing Some(9): record is not signed")),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|m| m.contains("Some(10): record moved: signed at row 11")),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|m| m.contains("Extra None: the record signed at row 9 is absent")),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|m| m.contains("Extra None: the record signed at row 20 is absent")),
        "{m:#?}"
    );
    assert!(!report.ok);
    write(&data, &records);

    // A record moved in from another file is not signed here; copying its sidecar row along
    // would change the sidecar, which the manifest fixes.
    let other_records: Vec<Record> = (100..110).map(record).collect();
    signed_file(&k, dir.path(), "b.parquet", &other_records);
    let mut mixed = records.clone();
    mixed.push(other_records[0].clone());
    write(&data, &mixed);
    let report = native_verify(&data, &k.ed_public, &options);
    assert_fails_with(
        &report,
        "record is not signed (added, or moved in from another file)",
    );
    let mut allowed = options.clone();
    allowed.allow_missing = true;
    allowed.allow_rewritten = true;
    let report = native_verify(&data, &k.ed_public, &allowed);
    assert!(report.ok && report.missing == 1, "{:?}", messages(&report));
    write(&data, &records);
    assert!(
        native_verify(&data, &k.ed_public, &options).ok,
        "identical rewrite verifies"
    );

    // A sidecar row deleted (the sidecar rewritten without it).
    let sidecar = native::sidecar_path(&data);
    let sidecar_bytes = std::fs::read(&sidecar).unwrap();
    let mut fewer = records.clone();
    fewer.remove(4);
    let c = dir.path().join("c.parquet");
    write(&c, &fewer);
    native::sign_records(&c, &secret(&k.ed_secret)).unwrap();
    std::fs::copy(native::sidecar_path(&c), &sidecar).unwrap();
    let report = native_verify(&data, &k.ed_public, &options);
    assert_fails_with(
        &report,
        "the sidecar differs from the one the manifest signs",
    );
    assert_fails_with(&report, "record is not signed");
    std::fs::write(&sidecar, &sidecar_bytes).unwrap();

    // The manifest edited: its signature fails.
    let manifest = native::manifest_path(&data);
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"rows\": 30", "\"rows\": 31")).unwrap();
    assert_fails_with(
        &native_verify(&data, &k.ed_public, &options),
        "manifest signature",
    );
    std::fs::write(&manifest, &text).unwrap();
    // The manifest edited into something that is not JSON: still reported as a failed
    // signature, since the signature is checked before the JSON is parsed.
    std::fs::write(&manifest, text.replacen("\"format\"", "\"format", 1)).unwrap();
    let report = native_verify(&data, &k.ed_public, &options);
    assert_fails_with(&report, "manifest signature");
    assert_eq!(report.problems.len(), 1, "{:?}", messages(&report));
    std::fs::write(&manifest, &text).unwrap();

    // A truncated or garbage signature, and no signature at all.
    let signature = file::signature_path(&manifest, ".minisig");
    let good = std::fs::read(&signature).unwrap();
    std::fs::write(&signature, &good[..good.len() / 2]).unwrap();
    assert_fails_with(
        &native_verify(&data, &k.ed_public, &options),
        "manifest signature",
    );
    std::fs::remove_file(&signature).unwrap();
    assert_fails_with(
        &native_verify(&data, &k.ed_public, &options),
        "no signature",
    );
    std::fs::write(&signature, &good).unwrap();
    assert!(native_verify(&data, &k.ed_public, &options).ok);

    // A missing or garbled sidecar, or a missing data file: an error naming the file.
    let sidecar = native::sidecar_path(&data);
    let sidecar_bytes = std::fs::read(&sidecar).unwrap();
    let error = |data: &Path| {
        native::verify_records(data, &public(&k.ed_public), &options)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    std::fs::remove_file(&sidecar).unwrap();
    let e = error(&data);
    assert!(
        e.contains("a.sigs.parquet") && e.contains("No such file"),
        "{e}"
    );
    std::fs::write(&sidecar, b"PAR1 not a sidecar").unwrap();
    let e = error(&data);
    assert!(e.contains("a.sigs.parquet"), "{e}");
    std::fs::write(&sidecar, &sidecar_bytes).unwrap();
    let moved = data.with_extension("moved");
    std::fs::rename(&data, &moved).unwrap();
    let e = error(&data);
    assert!(e.contains("a.parquet") && e.contains("No such file"), "{e}");
    std::fs::rename(&moved, &data).unwrap();
    assert!(native_verify(&data, &k.ed_public, &options).ok);
}

#[test]
fn converted_files_verify_by_record_only_when_allowed() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..25).map(record).collect();
    let data = signed_file(&k, dir.path(), "a.parquet", &records);
    // The same records in the FixedSizeList layout: every digest is unchanged.
    let mut writer = Writer::create(
        &data,
        WriteOptions::default().with_vectors(VectorOutput::FixedSizeList),
    )
    .unwrap();
    writer
        .write(&Batch::from_records(records.iter().map(Record::as_ref)).unwrap())
        .unwrap();
    writer.finish().unwrap();
    let mut options = NativeVerifyOptions::default();
    let report = native_verify(&data, &k.ed_public, &options);
    assert_fails_with(&report, "though every record verifies");
    assert_eq!(report.valid, 25);
    options.allow_rewritten = true;
    let report = native_verify(&data, &k.ed_public, &options);
    assert!(report.ok, "{:?}", messages(&report));
    assert!(report.notes[0].contains("rewritten or converted"));
}

fn compatible_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compatible")
}

#[test]
fn compatible_profile_matches_go_bytes_and_accepts_gnupg_signatures() {
    let dir = compatible_dir();
    let data = dir.join("records.parquet");
    let reference = std::fs::read_to_string(dir.join("reference.jsonl")).unwrap();
    let records = read(&data);
    for (i, (record, line)) in records.iter().zip(reference.lines()).enumerate() {
        let form = if i == 5 {
            AttributesJson::NullWhenEmpty
        } else {
            AttributesJson::Object
        };
        assert_eq!(
            compatible::signed_bytes(&record.as_ref(), form).unwrap(),
            line.as_bytes(),
            "record {i}"
        );
    }
    let key = public(&dir.join("records-signatures.pub"));
    let report = compatible::verify_records(&data, &key, &Default::default()).unwrap();
    assert!(report.ok, "{:?}", messages(&report));
    assert_eq!(
        (report.valid, report.invalid, report.missing, report.extra),
        (12, 0, 0, 0)
    );
}

#[test]
fn compatible_profile_fails_closed_where_the_go_verifier_does_not() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..12).map(record).collect();
    let data = dir.path().join("a.parquet");
    write(&data, &records);
    let signed = compatible::sign_records(&data, &secret(&k.pgp_secret)).unwrap();
    assert_eq!(signed.records, 12);
    let key = public(&signed.public_key);
    assert!(
        compatible::verify_records(&data, &key, &Default::default())
            .unwrap()
            .ok
    );

    // Another key.
    let other = public(&k.other_pgp_public);
    let report = compatible::verify_records(&data, &other, &Default::default()).unwrap();
    assert_fails_with(&report, "signed by unknown key");
    assert_eq!(report.valid, 0);

    // A changed record, a deleted record, an added one.
    let mut changed = records.clone();
    changed[2].embeddings[0] = 0.25;
    changed.remove(8);
    changed.push(record(50));
    write(&data, &changed);
    let report = compatible::verify_records(&data, &key, &Default::default()).unwrap();
    assert_fails_with(&report, "record changed since it was signed");
    assert_fails_with(&report, "signed record is absent from the file");
    assert_fails_with(&report, "record has no signature in the sidecar");
    assert_eq!(
        (report.valid, report.invalid, report.missing, report.extra),
        (10, 1, 1, 1)
    );

    // Missing signatures pass only when allowed.
    let mut added = records.clone();
    added.push(record(60));
    write(&data, &added);
    assert!(
        !compatible::verify_records(&data, &key, &Default::default())
            .unwrap()
            .ok
    );
    let mut allow_missing = compatible::CompatibleVerifyOptions::default();
    allow_missing.allow_missing = true;
    let report = compatible::verify_records(&data, &key, &allow_missing).unwrap();
    assert!(report.ok && report.missing == 1, "{:?}", messages(&report));

    // A record twice: the first copy claims its row and verifies, the second is named.
    let mut doubled = records.clone();
    doubled.insert(5, records[3].clone());
    write(&data, &doubled);
    let report = compatible::verify_records(&data, &key, &Default::default()).unwrap();
    assert_eq!(
        (report.valid, report.invalid, report.missing, report.extra),
        (12, 1, 0, 0),
        "{:?}",
        messages(&report)
    );
    let twice = &report.problems[0];
    assert_eq!(twice.row, Some(5));
    assert_eq!(
        twice.key.as_deref(),
        Some(record(3).key().to_string().as_str())
    );
    assert!(twice.message.contains("occurs again"), "{}", twice.message);

    // A record presented under another identity: the Go verifier matches by hash alone and
    // would accept it; here the row must match the record's provider, depiction and model.
    let mut renamed = records.clone();
    renamed[0].provider = "mallory".into();
    write(&data, &renamed);
    let report = compatible::verify_records(&data, &key, &Default::default()).unwrap();
    assert_eq!(
        (report.missing, report.extra),
        (1, 1),
        "{:?}",
        messages(&report)
    );
}

#[test]
fn file_signatures_and_releases() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let data = dir
        .path()
        .join("nga-opendata-16-mobileclip-20260413.parquet");
    write(&data, &(0..10).map(record).collect::<Vec<_>>());
    std::fs::write(dir.path().join("README.md"), "release notes\n").unwrap();
    for (s, p, other, ext) in [
        (&k.ed_secret, &k.ed_public, &k.other_ed_public, ".minisig"),
        (&k.pgp_secret, &k.pgp_public, &k.other_pgp_public, ".asc"),
    ] {
        let sig = file::sign_file(&data, &secret(s)).unwrap();
        assert!(sig.to_string_lossy().ends_with(ext));
        assert!(file::verify_file(&data, &public(p), None).unwrap().ok);
        assert!(!file::verify_file(&data, &public(other), None).unwrap().ok);
        // A signature made for another file.
        let readme = dir.path().join("README.md");
        let report = file::verify_file(
            &data,
            &public(p),
            Some(&file::sign_file(&readme, &secret(s)).unwrap()),
        )
        .unwrap();
        assert!(!report.ok);
        std::fs::remove_file(file::signature_path(&readme, ext)).unwrap();
        std::fs::remove_file(&sig).unwrap();
    }

    let release_dir = dir.path();
    let signed = release::sign_release(release_dir, &secret(&k.ed_secret)).unwrap();
    assert_eq!(signed.files, 2);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&signed.manifest).unwrap()).unwrap();
    assert_eq!(manifest["files"][1]["rows"], 10);
    assert!(manifest["files"][1]["records_root"].is_string());
    assert!(
        release::verify_release(release_dir, &public(&k.ed_public))
            .unwrap()
            .ok
    );
    assert!(
        !release::verify_release(release_dir, &public(&k.other_ed_public))
            .unwrap()
            .ok
    );
    std::fs::write(release_dir.join("extra.txt"), "x").unwrap();
    std::fs::write(release_dir.join("README.md"), "changed\n").unwrap();
    let report = release::verify_release(release_dir, &public(&k.ed_public)).unwrap();
    assert_eq!(
        (report.valid, report.invalid, report.missing, report.extra),
        (1, 1, 0, 1),
        "{:?}",
        messages(&report)
    );
    std::fs::remove_file(release_dir.join("README.md")).unwrap();
    let report = release::verify_release(release_dir, &public(&k.ed_public)).unwrap();
    assert_eq!(report.missing, 1);
    assert!(!report.ok);
}

/// Every file of a release directory but the manifest and the signatures of it that the
/// signer writes is listed: hidden files, temporary files and names that merely start
/// with the manifest's are extra when unsigned.
#[test]
fn releases_list_every_file_they_did_not_sign() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let release_dir = dir.path();
    std::fs::write(release_dir.join("README.md"), "release notes\n").unwrap();
    std::fs::write(release_dir.join(".hidden"), "signed too\n").unwrap();
    let signed = release::sign_release(release_dir, &secret(&k.ed_secret)).unwrap();
    assert_eq!(signed.files, 2);
    let key = public(&k.ed_public);
    assert!(release::verify_release(release_dir, &key).unwrap().ok);

    std::fs::create_dir(release_dir.join("sub")).unwrap();
    for name in [
        "release.json.evil.parquet",
        "release.json.sig",
        ".release.json.Ab12Cd.tmp",
        "sub/.data.parquet.Ab12Cd.tmp",
        "sub/.notes.tmp",
    ] {
        std::fs::write(release_dir.join(name), "x").unwrap();
    }
    let report = release::verify_release(release_dir, &key).unwrap();
    let mut extra: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.kind == oembeddings_sign::ProblemKind::Extra)
        .filter_map(|p| p.key.clone())
        .collect();
    extra.sort();
    assert_eq!(
        extra,
        [
            ".release.json.Ab12Cd.tmp",
            "release.json.evil.parquet",
            "release.json.sig",
            "sub/.data.parquet.Ab12Cd.tmp",
            "sub/.notes.tmp",
        ]
    );
    assert!(!report.ok);

    // The signer does not bind what looks like an unfinished output of ours: its own
    // manifest's temporary file while it may still be written...
    let sign = || release::sign_release(release_dir, &secret(&k.ed_secret));
    let error = sign().unwrap_err();
    assert!(
        error
            .to_string()
            .contains(".release.json.Ab12Cd.tmp: an unfinished temporary file"),
        "{error}"
    );
    // ... which it removes once it is stale (unlocked, and old enough), as a killed run
    // leaves it; another command's unfinished output it leaves to the user.
    let stale = release_dir.join(".release.json.Ab12Cd.tmp");
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - 2 * oembeddings::atomic::STALE_AFTER)
        .unwrap();
    let error = sign().unwrap_err();
    assert!(!stale.exists());
    assert!(
        error
            .to_string()
            .contains("sub/.data.parquet.Ab12Cd.tmp: an unfinished temporary file"),
        "{error}"
    );
    std::fs::remove_file(release_dir.join("sub/.data.parquet.Ab12Cd.tmp")).unwrap();
    let signed = sign().unwrap();
    // README.md, .hidden, release.json.evil.parquet, release.json.sig, sub/.notes.tmp.
    assert_eq!(signed.files, 5);
    assert!(release::verify_release(release_dir, &key).unwrap().ok);

    // A damaged manifest is reported as a failed signature, not as a JSON error.
    let manifest = release_dir.join(release::MANIFEST);
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("\"format\"", "\"format", 1)).unwrap();
    let report = release::verify_release(release_dir, &key).unwrap();
    assert_fails_with(&report, "manifest signature");
    assert_eq!(report.problems.len(), 1, "{:?}", messages(&report));

    // A manifest larger than any release needs is refused without being read.
    std::fs::File::options()
        .write(true)
        .open(&manifest)
        .unwrap()
        .set_len(oembeddings::input::limits::RELEASE_MANIFEST.bytes + 1)
        .unwrap();
    let error = release::verify_release(release_dir, &key).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("release.json: larger than 64 MiB (the limit for a release manifest)"),
        "{error}"
    );
    std::fs::write(&manifest, &text).unwrap();

    // Only regular files and directories: a named pipe is refused, not read.
    #[cfg(unix)]
    {
        let fifo = release_dir.join("sub/pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let error = release::verify_release(release_dir, &key).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("sub/pipe: is a named pipe (FIFO)"),
            "{error}"
        );
        assert!(release::sign_release(release_dir, &secret(&k.ed_secret)).is_err());
    }
}

#[test]
fn keys_refuse_wrong_passwords_weak_keys_and_warn_about_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let (secret_text, _) = keys::generate_ed25519(Some("correct horse")).unwrap();
    let path = dir.path().join("ed.key");
    std::fs::write(&path, &secret_text).unwrap();
    let err = SecretKey::load(&path, Some("wrong"), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ed.key") && err.to_lowercase().contains("password"),
        "{err}"
    );
    assert!(SecretKey::load(&path, Some("correct horse"), None).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warnings = keys::secret_file_warnings(&path);
        assert!(
            warnings[0].contains("readable by others (mode 644)"),
            "{warnings:?}"
        );
    }

    let (pgp, _) = keys::generate_openpgp("P <p@example.org>", Some("pw")).unwrap();
    let pgp_path = dir.path().join("pgp.key");
    std::fs::write(&pgp_path, pgp).unwrap();
    let err = SecretKey::load(&pgp_path, Some("nope"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("wrong password"), "{err}");

    // The identity point as a minisign public key: a weak key, refused at load.
    let weak = {
        use base64::Engine;
        let mut blob = b"Ed".to_vec();
        blob.extend_from_slice(&[7u8; 8]);
        let mut point = [0u8; 32];
        point[0] = 1;
        blob.extend_from_slice(&point);
        format!(
            "untrusted comment: weak\n{}\n",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    };
    let weak_path = dir.path().join("weak.pub");
    std::fs::write(&weak_path, weak).unwrap();
    let err = PublicKey::load(&weak_path, None).unwrap_err().to_string();
    assert!(err.contains("weak"), "{err}");
}

#[test]
fn batched_openpgp_verification_agrees_with_one_by_one() {
    let k = keys();
    let secret = secret(&k.pgp_secret);
    let messages: Vec<Vec<u8>> = (0..300u32)
        .map(|i| format!("record {i} <&>").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let mut signatures = secret
        .sign_armored_messages(&refs)
        .unwrap()
        .into_iter()
        .map(String::into_bytes)
        .collect::<Vec<_>>();
    let mut messages = messages.clone();
    messages[10].push(b'!'); // changed message
    let other = SecretKey::load(
        &{
            let dir = tempfile::tempdir().unwrap().keep();
            let (s, _) = keys::generate_openpgp("Mallory <m@example.org>", None).unwrap();
            let p = dir.join("m.key");
            std::fs::write(&p, s).unwrap();
            p
        },
        None,
        None,
    )
    .unwrap();
    signatures[20] = other
        .sign_armored_messages(&[&messages[20]])
        .unwrap()
        .remove(0)
        .into_bytes(); // another key
    signatures[30].truncate(40); // broken armor
    let signature_40 = signatures[41].clone();
    signatures[40] = signature_40; // a valid signature of another message
    let key = public(&k.pgp_public);
    let items: Vec<(&[u8], &[u8])> = messages
        .iter()
        .zip(&signatures)
        .map(|(m, s)| (m.as_slice(), s.as_slice()))
        .collect();
    let many = key.verify_openpgp_many(&items);
    for (i, ((m, s), batched)) in items.iter().zip(&many).enumerate() {
        let single = key.verify_openpgp(m, s);
        assert_eq!(
            batched.is_ok(),
            single.is_ok(),
            "item {i}: {batched:?} vs {single:?}"
        );
        if let Ok((_, Some(sha))) = batched {
            assert_eq!(
                sha.to_vec(),
                <sha2::Sha256 as sha2::Digest>::digest(m).to_vec(),
                "item {i}"
            );
        }
    }
    let bad: Vec<usize> = many
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(bad, vec![10, 20, 30, 40]);
}
