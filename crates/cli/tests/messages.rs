//! What a new user meets when something is wrong: one error line that names the file and
//! says what to do, never a spec rule for a file that is not there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data/sfomuseum-collection-512-mobileclip-20260413.parquet")
}

fn oe(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_oembeddings"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(101), "{}", stderr(&out));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The one `error:` line of a failed run (exit 1).
fn error_line(out: &Output) -> String {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("error: "), "{text}");
    lines[0].to_owned()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example(), dir.path().join("f.parquet")).unwrap();
    for args in [
        &["--ed25519", "-o", "m"][..],
        &[
            "--openpgp",
            "--userid",
            "Test <test@example.org>",
            "-o",
            "p",
        ],
    ] {
        let made = oe(dir.path(), &[&["keygen"], args].concat());
        assert!(made.status.success(), "{}", stderr(&made));
    }
    dir
}

#[test]
fn a_missing_file_is_an_io_error_not_a_rule() {
    let dir = setup();
    let run = oe(dir.path(), &["validate", "nope.parquet", "f.parquet"]);
    let text = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(text.contains("error: nope.parquet: No such file"), "{text}");
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(!report.contains("OE003"), "{report}");
    assert!(report.contains("f.parquet: valid"), "{report}");
    // The JSON report says so too: a file that could not be read is not valid.
    let json = oe(
        dir.path(),
        &["validate", "nope.parquet", "f.parquet", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["files"][0]["valid"], true, "{report}");
}

#[test]
fn verify_of_a_file_that_is_not_there_says_so() {
    let dir = setup();
    let line = error_line(&oe(
        dir.path(),
        &["verify", "nope.parquet", "--key", "m.pub"],
    ));
    assert!(
        line.starts_with("error: nope.parquet: No such file"),
        "{line}"
    );
}

#[test]
fn a_directory_is_named_as_such() {
    let dir = setup();
    let line = error_line(&oe(dir.path(), &["sign", ".", "--key", "m"]));
    assert_eq!(line, "error: .: is a directory, not a regular file");
}

#[test]
fn a_public_key_to_sign_and_a_secret_key_to_verify_are_named() {
    let dir = setup();
    for public in ["m.pub", "p.pub"] {
        let line = error_line(&oe(dir.path(), &["sign", "f.parquet", "--key", public]));
        assert!(
            line.starts_with(&format!("error: {public}: a public")),
            "{line}"
        );
        assert!(line.contains("signing needs the secret key"), "{line}");
    }
    assert!(!dir.path().join("f.parquet.minisig").exists());
    assert!(
        oe(dir.path(), &["sign", "f.parquet", "--key", "m"])
            .status
            .success()
    );
    for secret in ["m", "p"] {
        let line = error_line(&oe(dir.path(), &["verify", "f.parquet", "--key", secret]));
        assert!(
            line.starts_with(&format!(
                "error: {secret}: a secret key; verify with its public key"
            )),
            "{line}"
        );
    }
}

#[test]
fn convert_says_which_way_a_format_works() {
    let dir = setup();
    let line = error_line(&oe(
        dir.path(),
        &["convert", "x.db", "y", "--from", "sqlite"],
    ));
    assert_eq!(
        line,
        "error: x.db: sqlite cannot be read (formats that can be read: parquet, parquet-fixed, \
         jsonl, met, skypilot, chroma, pgvector)"
    );
    let line = error_line(&oe(
        dir.path(),
        &["convert", "f.parquet", "y", "--to", "met"],
    ));
    assert!(
        line.starts_with("error: y: met cannot be written (formats that can be written: parquet"),
        "{line}"
    );
    assert!(!dir.path().join("y").exists());
    let help = String::from_utf8_lossy(&oe(dir.path(), &["convert", "--help"]).stdout).into_owned();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for said in ["(input only)", "(output only)", "(both ways)"] {
        assert!(help.contains(said), "{said}: {help}");
    }
}

#[test]
fn stats_says_what_it_wrote() {
    let dir = setup();
    let run = oe(
        dir.path(),
        &["stats", "f.parquet", "--append", "-o", "a.parquet"],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let run = oe(
        dir.path(),
        &["stats", "a.parquet", "--append", "-o", "b.parquet"],
    );
    assert_eq!(
        stderr(&run).trim(),
        "a.parquet: footer statistics already up to date; wrote an identical copy to b.parquet"
    );
    assert_eq!(
        std::fs::read(dir.path().join("a.parquet")).unwrap(),
        std::fs::read(dir.path().join("b.parquet")).unwrap()
    );
    let run = oe(dir.path(), &["stats", "a.parquet", "--append"]);
    assert_eq!(
        stderr(&run).trim(),
        "a.parquet: footer statistics already up to date; nothing written"
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn verify_finds_every_signature_beside_the_file() {
    let dir = setup();
    let d = dir.path();
    // Nothing signed yet: not verified, and where it looked.
    let run = oe(d, &["verify", "f.parquet", "--key", "m.pub"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stdout(&run)
            .contains("NOT VERIFIED: no signature found beside it (looked for f.parquet.asc")
    );
    assert!(stderr(&run).contains("hint: if f.parquet is a renamed or converted copy"));

    // Record signatures alone are found without --records.
    assert!(
        oe(d, &["sign", "f.parquet", "--key", "m", "--records"])
            .status
            .success()
    );
    let run = oe(d, &["verify", "f.parquet", "--key", "m.pub"]);
    assert!(run.status.success(), "{}", stdout(&run));
    assert!(stdout(&run).contains("VERIFIED: 1 signature checked (records-native), 0 failed"));

    // A detached signature of each kind: each key checks its own and lists the other.
    assert!(oe(d, &["sign", "f.parquet", "--key", "m"]).status.success());
    assert!(oe(d, &["sign", "f.parquet", "--key", "p"]).status.success());
    let run = oe(d, &["verify", "f.parquet", "--key", "m.pub", "--json"]);
    assert!(run.status.success(), "{}", stdout(&run));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let checks: Vec<&str> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["file", "records-native"]);
    assert_eq!(report["not_checked"][0]["path"], "f.parquet.asc");
    assert_eq!(report["not_checked"][0]["kind"], "open-pgp-file");
    let run = oe(d, &["verify", "f.parquet", "--key", "p.pub"]);
    assert!(run.status.success(), "{}", stdout(&run));
    assert!(stdout(&run).contains("VERIFIED: 1 signature checked (file), 0 failed; 2 not checked"));

    // One failing signature fails the file, whatever else verifies.
    let minisig = d.join("f.parquet.minisig");
    let good = std::fs::read(&minisig).unwrap();
    std::fs::copy(d.join("f.parquet"), d.join("other.parquet")).unwrap();
    let mut other = std::fs::read(d.join("other.parquet")).unwrap();
    other[100] ^= 1;
    std::fs::write(d.join("other.parquet"), &other).unwrap();
    assert!(
        oe(d, &["sign", "other.parquet", "--key", "m"])
            .status
            .success()
    );
    std::fs::copy(d.join("other.parquet.minisig"), &minisig).unwrap();
    let run = oe(d, &["verify", "f.parquet", "--key", "m.pub"]);
    assert_eq!(run.status.code(), Some(1), "{}", stdout(&run));
    assert!(
        stdout(&run)
            .contains("NOT VERIFIED: 2 signatures checked (file, records-native), 1 failed")
    );
    std::fs::write(&minisig, good).unwrap();

    // --signature checks only the one named; --sidecar does not swallow the file argument.
    let run = oe(
        d,
        &[
            "verify",
            "--signature",
            "f.parquet.minisig",
            "f.parquet",
            "--key",
            "m.pub",
        ],
    );
    assert!(run.status.success(), "{}", stdout(&run));
    assert!(!stdout(&run).contains("records-native"));
    let run = oe(
        d,
        &[
            "verify",
            "--sidecar",
            "f.sigs.parquet",
            "f.parquet",
            "--key",
            "m.pub",
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("verified (records-native)"));
}

#[test]
fn a_renamed_copy_verifies_by_its_manifest_when_rewriting_is_accepted() {
    let dir = setup();
    let d = dir.path();
    assert!(
        oe(d, &["sign", "f.parquet", "--key", "m", "--records"])
            .status
            .success()
    );
    let run = oe(
        d,
        &["convert", "f.parquet", "g.parquet", "--to", "parquet-fixed"],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let run = oe(
        d,
        &[
            "verify",
            "g.parquet",
            "--key",
            "m.pub",
            "--manifest",
            "f.manifest.json",
        ],
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(stdout(&run).contains("--allow-rewritten accepts a renamed or converted copy"));
    let run = oe(
        d,
        &[
            "verify",
            "g.parquet",
            "--key",
            "m.pub",
            "--manifest",
            "f.manifest.json",
            "--allow-rewritten",
        ],
    );
    assert!(run.status.success(), "{}", stdout(&run));
    assert!(stdout(&run).contains("note: the manifest signs a file named \"f.parquet\""));
}
