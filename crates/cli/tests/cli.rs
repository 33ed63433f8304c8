//! The `oembeddings` command: exit codes, output shapes and messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> PathBuf {
    root().join("examples/data/sfomuseum-collection-512-mobileclip-20260413.parquet")
}

fn oe(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_oembeddings"))
        .args(args)
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(101),
        "panic: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn schema_prints_the_committed_schemas() {
    for doc in ["record", "attributes", "statistics"] {
        let out = oe(&["schema", doc]);
        assert!(out.status.success());
        let committed =
            std::fs::read_to_string(root().join(format!("spec/schemas/{doc}.json"))).unwrap();
        assert_eq!(text(&out.stdout), committed, "{doc}");
    }
    let out = oe(&["schema", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2_and_help_teaches() {
    assert_eq!(oe(&[]).status.code(), Some(2));
    assert_eq!(
        oe(&["stats", "x.parquet", "-o", "y.parquet"]).status.code(),
        Some(2)
    );
    assert_eq!(oe(&["name"]).status.code(), Some(2));
    let help = text(&oe(&["stats", "--help"]).stdout);
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("only the footer is rewritten"), "{help}");
    let help = text(&oe(&["--help"]).stdout);
    for command in ["inspect", "stats", "name", "emit", "convert", "schema"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn name_checks_the_example_and_parses_names() {
    let example = example();
    let out = oe(&["name", example.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("conventional, and it matches the contents"));

    let out = oe(&[
        "name",
        "--parse",
        "nga-opendata-1152-siglip2-patch14-20260522.parquet",
    ]);
    let parts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        parts,
        serde_json::json!({
            "provider": "nga", "source": "opendata", "dimensions": 1152,
            "model": "siglip2-patch14", "date": "20260522"
        })
    );
    let out = oe(&[
        "name",
        "--parse",
        "nga-opendata-1152-siglip2-20260230.parquet",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: nga-opendata-1152-siglip2-20260230.parquet: not a conventional name: date \"20260230\" is not a real calendar date in the form YYYYMMDD\n"
    );
}

#[test]
fn name_reports_contradictions_and_suggests() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir
        .path()
        .join("sfomuseum-collection-768-mobileclip-20260101.parquet");
    std::fs::copy(example(), &wrong).unwrap();
    let out = oe(&["name", wrong.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = report["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["dimensions", "date-before-records"]);
    assert_eq!(
        report["suggestion"],
        "sfomuseum-collection-512-mobileclip-20260101.parquet"
    );

    let odd = dir.path().join("My Embeddings.parquet");
    std::fs::copy(example(), &odd).unwrap();
    let out = oe(&["name", odd.to_str().unwrap(), "--source", "Open Data"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("not conventional: name has 2 '-'-separated parts")
            || stdout.contains("not conventional"),
        "{stdout}"
    );
    assert!(
        stdout.contains("suggested name: sfomuseum-open-data-512-mobileclip-20260413.parquet"),
        "{stdout}"
    );
}

#[test]
fn inspect_and_stats_json_are_machine_readable() {
    let example = example();
    let out = oe(&["inspect", example.to_str().unwrap(), "--json"]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["rows"], 24);
    assert_eq!(info["layout_kind"], "go-embeddingsdb");
    assert_eq!(info["layout"]["vectors"]["kind"], "list");
    assert_eq!(info["columns"].as_array().unwrap().len(), 7);

    let out = oe(&["stats", example.to_str().unwrap(), "--json"]);
    let stats: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["embeddingsdb:model:mobileclip:dimensions"], "512");
    assert_eq!(stats["oembeddings:records"], "24");
    assert!(stats.values().all(serde_json::Value::is_string));
    assert!(text(&out.stderr).contains("up to date"));
}

#[test]
fn every_report_takes_format_text_or_json_and_json_is_short_for_format_json() {
    let dir = tempfile::tempdir().unwrap();
    let example = example();
    let example = example.to_str().unwrap();
    let key = dir.path().join("k");
    let out = oe(&["keygen", "--ed25519", "-o", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public = format!("{}.pub", key.display());
    let commands: [&[&str]; 5] = [
        &["inspect", example],
        &["stats", example],
        &["name", example],
        &["validate", example],
        &["key", "show", &public],
    ];
    for command in commands {
        let run = |extra: &[&str]| {
            let out = oe(&[command, extra].concat());
            assert!(
                out.status.success(),
                "{command:?} {extra:?}: {}",
                text(&out.stderr)
            );
            text(&out.stdout)
        };
        let json = run(&["--format", "json"]);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(parsed.is_object(), "{command:?}: {json}");
        assert_eq!(run(&["--json"]), json, "{command:?}");
        let text_output = run(&["--format", "text"]);
        assert_eq!(run(&[]), text_output, "{command:?}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&text_output).is_err(),
            "{command:?}: {text_output}"
        );
        let both = oe(&[command, &["--json", "--format", "text"]].concat());
        assert_eq!(both.status.code(), Some(2), "{command:?}");
    }
}

#[test]
fn key_show_says_when_a_key_expires_and_never_when_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let key = key.to_str().unwrap();
    let out = oe(&["keygen", "--ed25519", "-o", key]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in [key.to_owned(), format!("{key}.pub")] {
        let out = oe(&["key", "show", &file]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert!(
            shown.lines().any(|l| l == "expires      never"),
            "{file}: {shown}"
        );
    }
}

#[test]
fn emit_limit_and_convert_round_trip() {
    let example = example();
    let out = oe(&["emit", example.to_str().unwrap(), "--limit", "2"]);
    assert_eq!(
        out.stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        2
    );
    let all = oe(&["emit", example.to_str().unwrap()]).stdout;

    let dir = tempfile::tempdir().unwrap();
    let fixed = dir.path().join("fixed.parquet");
    let back = dir.path().join("back.parquet");
    let out = oe(&[
        "convert",
        example.to_str().unwrap(),
        fixed.to_str().unwrap(),
        "--to",
        "parquet-fixed",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wrote 24 of 24 records (parquet -> parquet-fixed)"),
        "{}",
        text(&out.stderr)
    );
    oe(&["convert", fixed.to_str().unwrap(), back.to_str().unwrap()]);
    assert_eq!(oe(&["emit", back.to_str().unwrap()]).stdout, all);
    // Same records, same statistics, same layout: the same file as the example.
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(&example).unwrap()
    );
}

fn corpus(file: &str) -> String {
    root()
        .join("spec/conformance")
        .join(file)
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn validate_exit_codes_and_strictness() {
    let example = example();
    let out = oe(&["validate", example.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).ends_with("valid: 0 errors, 0 warnings (24 records checked)\n"));

    let nan = corpus("invalid/sfomuseum-oe112-4-clip-20260601.parquet");
    let out = oe(&["validate", &nan]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout)
            .contains(": OE112 error row 1 (sfomuseum-1527858924-clip): element 1 is NaN\n")
    );

    // Warnings pass unless --strict.
    let no_stats = corpus("invalid/sfomuseum-oe301-4-clip-20260601.parquet");
    assert_eq!(oe(&["validate", &no_stats]).status.code(), Some(0));
    assert_eq!(
        oe(&["validate", "--strict", &no_stats]).status.code(),
        Some(1)
    );

    // An unreadable file counts as a file with errors; usage errors exit 2.
    assert_eq!(
        oe(&["validate", &corpus("invalid/oe001-not-parquet.parquet")])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        oe(&["validate", "/nonexistent.parquet"]).status.code(),
        Some(1)
    );
    assert_eq!(oe(&["validate"]).status.code(), Some(2));
    assert_eq!(
        oe(&["validate", "--format", "yaml", &nan]).status.code(),
        Some(2)
    );
}

#[test]
fn validate_json_covers_every_file_and_rules_are_listed() {
    let example = example();
    let nan = corpus("invalid/sfomuseum-oe112-4-clip-20260601.parquet");
    let out = oe(&[
        "validate",
        "--format",
        "json",
        example.to_str().unwrap(),
        &nan,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        (files[0]["valid"].clone(), files[1]["valid"].clone()),
        (true.into(), false.into())
    );
    let finding = &files[1]["findings"][0];
    for field in ["rule", "severity", "message", "row", "key"] {
        assert!(finding.get(field).is_some(), "{field} in {finding}");
    }
    assert_eq!(
        (finding["rule"].as_str(), files[1]["errors"].as_u64()),
        (Some("OE112"), Some(1))
    );

    let out = oe(&[
        "validate",
        "--metadata-only",
        "--format",
        "json",
        example.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"][0]["mode"], "metadata-only");
    assert_eq!(report["files"][0]["records"], 24);

    let out = oe(&["validate", "--rules", "--format", "json"]);
    let rules: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rules.len(), oembeddings_validate::Rule::ALL.len());
    assert_eq!(
        text(&oe(&["validate", "--rules"]).stdout).lines().count(),
        rules.len()
    );
}

#[test]
fn validate_target_hub_warns_about_what_the_hub_cannot_load() {
    let example = example();
    let example = example.to_str().unwrap();
    let rules = |args: &[&str]| -> (Option<i32>, Vec<String>) {
        let out = oe(&[&["validate", "--format", "json"], args].concat());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = report["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect();
        (out.status.code(), found)
    };
    // The example's MAP attributes: a warning for the Hub only, an error under --strict.
    assert_eq!(rules(&[example]), (Some(0), vec![]));
    assert_eq!(
        rules(&["--target", "hub", example]),
        (Some(0), vec!["OE501".to_owned()])
    );
    assert_eq!(rules(&["--target", "hub", "--strict", example]).0, Some(1));
    // Attributes as key/value structs, row groups far under the limit.
    let kv = corpus("invalid/sfomuseum-oe502-4-clip-20260601.parquet");
    assert_eq!(rules(&["--target", "hub", &kv]), (Some(0), vec![]));
    let out = oe(&["validate", "--target", "hug", example]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("hub"), "{}", text(&out.stderr));
    let help = text(&oe(&["validate", "--help"]).stdout);
    assert!(help.contains("OE502"), "{help}");
}

#[test]
fn validate_lists_at_most_n_findings_per_rule_and_counts_the_rest() {
    use oembeddings::{Batch, Record, WriteOptions, Writer};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sfomuseum-nan-4-clip-20260601.parquet");
    let records: Vec<Record> = (0..250)
        .map(|i| Record {
            provider: "sfomuseum".into(),
            depiction_id: i.to_string(),
            subject_id: i.to_string(),
            model: "clip".into(),
            embeddings: vec![f32::NAN, 0.0, 0.0, 1.0],
            created: 1_776_070_800,
            attributes: Default::default(),
        })
        .collect();
    let mut writer = Writer::create(&path, WriteOptions::default()).unwrap();
    writer
        .write(&Batch::from_records(records.iter().map(Record::as_ref)).unwrap())
        .unwrap();
    writer.finish().unwrap();
    let out = oe(&[
        "validate",
        "--format",
        "json",
        "--max-errors",
        "10",
        path.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &report["files"][0];
    let listed = |rule: &str| {
        file["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .count()
    };
    assert_eq!((listed("OE112"), listed("OE200")), (10, 10));
    assert_eq!(file["suppressed"]["OE112"], 240);
    assert_eq!(file["suppressed"]["OE200"], 240);
    assert_eq!(file["errors"], 250);
    assert_eq!(file["warnings"], 250);
    let out = oe(&[
        "validate",
        "--max-errors",
        "0",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["files"][0]["findings"].as_array().unwrap().len(),
        500
    );
    let out = oe(&["validate", "--max-errors", "3", path.to_str().unwrap()]);
    assert!(text(&out.stdout).ends_with("INVALID: 250 errors, 250 warnings (250 records checked; 494 more not listed (OE112 247, OE200 247))\n"), "{}", text(&out.stdout));
}

/// A reader that went away (`| head`) ends every command quietly with 141, the status of a
/// process ended by SIGPIPE, never a panic: here stdout is a pipe whose reader is already
/// closed, so that the first write fails.
#[test]
fn a_closed_stdout_ends_quietly_with_141() {
    let example = example();
    let example = example.to_str().unwrap();
    for args in [
        vec!["inspect", example],
        vec!["inspect", "--json", example],
        vec!["stats", example],
        vec!["emit", example],
        vec!["validate", example],
        vec!["name", example],
        vec!["schema", "record"],
        vec!["validate", "--rules"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_oembeddings"))
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}");
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
}
