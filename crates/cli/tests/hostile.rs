//! The hostile corpus (`spec/conformance/hostile/`) through every command, as a user runs
//! them: footers that contradict their pages or the file, and fuzzer findings that reached a
//! panic inside a decoder. Every file is corrupt somewhere, so every command that reads all
//! of it fails; none panics; every failure is one line on stderr naming the file; no failed
//! command leaves an output behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hostile() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("spec/conformance/hostile"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oembeddings"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// Exit 0 or 1, never a panic; when 1, one line on stderr that names `file`.
fn check(out: &Output, file: &str, what: &str) {
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(code, Some(0 | 1)),
        "{what}: exit {code:?}, stderr: {stderr}"
    );
    if code == Some(1) {
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(errors.len(), 1, "{what}: one error line expected: {stderr}");
        assert!(
            errors[0].contains(file),
            "{what}: the error names the file: {stderr}"
        );
        assert!(!stderr.contains("panicked at"), "{what}: {stderr}");
    }
}

#[test]
fn every_command_fails_cleanly_on_every_hostile_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let keygen = run(
        &["keygen", "--ed25519", "-o", key.to_str().unwrap()],
        dir.path(),
    );
    assert!(keygen.status.success());
    for path in hostile() {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let file = dir.path().join(&name);
        std::fs::copy(&path, &file).unwrap();
        let f = name.as_str();
        // Commands that read every record: they must fail.
        let full: Vec<Vec<&str>> = vec![
            vec!["validate", f],
            vec!["emit", f],
            vec!["convert", f, "out.parquet"],
            vec!["convert", f, "out.jsonl"],
            vec!["sign", f, "--key", "k", "--records"],
        ];
        for args in &full {
            let out = run(args, dir.path());
            let what = format!("{name}: {}", args.join(" "));
            assert_eq!(out.status.code(), Some(1), "{what} must fail");
            if args[0] == "validate" {
                // The validator reports the file's error as a finding, not on stderr.
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(stdout.contains("OE0"), "{what}: {stdout}");
                continue;
            }
            check(&out, f, &what);
            // parquet-rs 59 skips a page header's booleans without reading them: our guard
            // refuses the header before the decoder loops for seconds (found by fuzzing).
            if name == "page-header-skips-booleans.parquet" {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    stderr.contains("claims 1011554590 booleans"),
                    "{what}: {stderr}"
                );
            }
        }
        // Commands that read the footer or some columns: no panic, one-line errors.
        for args in [
            vec!["inspect", f],
            vec!["stats", f],
            vec!["validate", "--metadata-only", f],
            vec!["name", f],
        ] {
            let out = run(&args, dir.path());
            let what = format!("{name}: {}", args.join(" "));
            // The validator and `name` give their verdicts on stdout.
            if args[0] == "validate" || args[0] == "name" {
                assert!(matches!(out.status.code(), Some(0 | 1)), "{what}");
                continue;
            }
            check(&out, f, &what);
        }
        // As a signature sidecar: refused in one line. Its footer is checked by our bounded
        // walker before parquet-rs decodes it: a 3 KB footer claiming millions of elements
        // kept parquet-rs's skipping busy for seconds per read (found by fuzzing).
        let out = run(&["verify", f, "--key", "k.pub", "--sidecar", f], dir.path());
        assert_eq!(out.status.code(), Some(1), "{name}: verify --sidecar");
        check(&out, f, &format!("{name}: verify --sidecar"));
        if name == "footer-claims-millions.parquet" {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("footer is malformed at byte 2: map size exceeds remaining bytes"),
                "{stderr}"
            );
        }
        // Nothing left behind by the failed commands (outputs, sidecars, temporary files).
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != f && n != "k" && n != "k.pub")
            .collect();
        left.sort();
        assert!(left.is_empty(), "{name}: left behind {left:?}");
        std::fs::remove_file(&file).unwrap();
    }
}
