//! What commands read and write: regular files only, small files read under a cap, outputs
//! that appear whole (never over a device, a pipe or the input's own bytes), empty inputs
//! refused, stale temporary files cleaned up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data/sfomuseum-collection-512-mobileclip-20260413.parquet")
}

/// Runs the command; fails the test if it has not ended within a minute (a FIFO read
/// blocks forever) or panicked.
fn oe<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oembeddings"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "hung: {:?}: {}",
                args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(101),
        "panic: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The one `error:` line of a failed run (exit 1).
fn error_line(out: &Output) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0].to_owned()
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_fifo()
}

/// A sparse file of `len` bytes: larger than a limit without filling the disk.
fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

struct Signed {
    dir: tempfile::TempDir,
    data: PathBuf,
    key: PathBuf,
    public: PathBuf,
}

impl Signed {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.parquet");
        std::fs::copy(example(), &data).unwrap();
        let key = dir.path().join("k.key");
        assert!(
            oe(&["keygen", "--ed25519", "-o", key.to_str().unwrap()])
                .status
                .success()
        );
        let public = dir.path().join("k.key.pub");
        Signed {
            dir,
            data,
            key,
            public,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn named_pipes_and_devices_are_refused_not_read() {
    let s = Signed::new();
    let fifo = s.path("pipe");
    mkfifo(&fifo);
    let (data, key, public, pipe) = (
        s.data.to_str().unwrap(),
        s.key.to_str().unwrap(),
        s.public.to_str().unwrap(),
        fifo.to_str().unwrap(),
    );
    let out = s.path("out.parquet");
    let out = out.to_str().unwrap();
    for device in [pipe, "/dev/zero"] {
        let kind = if device == pipe {
            "is a named pipe (FIFO), not a regular file"
        } else {
            "is a character device, not a regular file"
        };
        let runs: Vec<Vec<&str>> = vec![
            vec!["inspect", device],
            vec!["emit", device],
            vec!["stats", device],
            vec!["stats", "--append", device],
            vec!["name", device],
            vec!["convert", device, out],
            vec!["convert", "--from", "jsonl", device, out],
            vec!["convert", "--from", "met", device, out],
            vec![
                "convert",
                "--from",
                "skypilot",
                "--provider",
                "p",
                "--model",
                "m",
                device,
                out,
            ],
            vec![
                "convert",
                data,
                "http://127.0.0.1:9",
                "--to",
                "chroma",
                "--collection",
                "abc",
                "--chroma-token-file",
                device,
            ],
            vec!["key", "show", device],
            vec!["sign", data, "--key", device],
            vec!["sign", data, "--key", key, "--password-file", device],
            vec!["sign", device, "--key", key],
            vec!["verify", data, "--key", device],
            vec!["verify", data, "--key", public, "--signature", device],
            vec!["keygen", "--ed25519", "-o", out, "--password-file", device],
        ];
        for args in runs {
            let line = error_line(&oe(&args));
            assert!(
                line.contains(&format!("{device}: {kind}")),
                "{args:?}: {line}"
            );
        }
        // validate too: what cannot be opened is an I/O error, not a rule about contents.
        let line = error_line(&oe(&["validate", device]));
        assert!(line.contains(&format!("{device}: {kind}")), "{line}");
        assert!(!Path::new(out).exists());
    }

    // Signature files, manifests and sidecars found next to the data.
    assert!(
        oe(&["sign", data, "--key", key, "--records"])
            .status
            .success()
    );
    for name in [
        "data.manifest.json",
        "data.manifest.json.minisig",
        "data.sigs.parquet",
    ] {
        let path = s.path(name);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        mkfifo(&path);
        let run = oe(&["verify", data, "--key", public, "--records"]);
        assert_eq!(run.status.code(), Some(1), "{name}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            all.contains(&format!("{name}: is a named pipe (FIFO)")),
            "{name}: {all}"
        );
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, saved).unwrap();
    }
    let release = s.path("release");
    std::fs::create_dir(&release).unwrap();
    mkfifo(&release.join("release.json"));
    let line = error_line(&oe(&[
        "release",
        "verify",
        release.to_str().unwrap(),
        "--key",
        public,
    ]));
    assert!(
        line.contains("release.json: is a named pipe (FIFO)"),
        "{line}"
    );
}

#[test]
fn keys_signatures_passwords_and_manifests_are_read_under_a_cap() {
    let s = Signed::new();
    let (data, key, public) = (
        s.data.to_str().unwrap(),
        s.key.to_str().unwrap(),
        s.public.to_str().unwrap(),
    );
    let big_key = s.path("big.key");
    sparse(&big_key, (16 << 20) + 1);
    let big_key = big_key.to_str().unwrap();
    let big_signature = s.path("big.minisig");
    sparse(&big_signature, (1 << 20) + 1);
    let big_signature = big_signature.to_str().unwrap();
    let big_password = s.path("password");
    sparse(&big_password, (4 << 10) + 1);
    let big_password = big_password.to_str().unwrap();
    let big_token = s.path("token");
    sparse(&big_token, (4 << 10) + 1);
    let big_token = big_token.to_str().unwrap();
    let key_limit = "larger than 16 MiB (the limit for a key file)";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["key", "show", big_key],
            format!("{big_key}: {key_limit}"),
        ),
        (
            vec!["sign", data, "--key", big_key],
            format!("{big_key}: {key_limit}"),
        ),
        (
            vec!["verify", data, "--key", big_key],
            format!("{big_key}: {key_limit}"),
        ),
        (
            vec![
                "verify",
                data,
                "--key",
                public,
                "--signature",
                big_signature,
            ],
            format!("{big_signature}: larger than 1 MiB (the limit for a signature file)"),
        ),
        (
            vec!["sign", data, "--key", key, "--password-file", big_password],
            format!("{big_password}: larger than 4 KiB (the limit for a password file)"),
        ),
        (
            // Read before any connection is tried (nothing listens on port 9).
            vec![
                "convert",
                data,
                "http://127.0.0.1:9",
                "--to",
                "chroma",
                "--collection",
                "abc",
                "--chroma-token-file",
                big_token,
            ],
            format!("{big_token}: larger than 4 KiB (the limit for a token file)"),
        ),
    ];
    for (args, expected) in cases {
        let line = error_line(&oe(&args));
        assert!(line.contains(&expected), "{args:?}: {line}");
    }
    // The signature next to the file.
    assert!(oe(&["sign", data, "--key", key]).status.success());
    let next_to = s.path("data.parquet.minisig");
    sparse(&next_to, (1 << 20) + 1);
    let line = error_line(&oe(&["verify", data, "--key", public]));
    assert!(
        line.contains("data.parquet.minisig: larger than 1 MiB"),
        "{line}"
    );
    // A record manifest.
    assert!(
        oe(&["sign", data, "--key", key, "--records"])
            .status
            .success()
    );
    sparse(&s.path("data.manifest.json"), (1 << 20) + 1);
    let line = error_line(&oe(&["verify", data, "--key", public, "--records"]));
    assert!(
        line.contains("data.manifest.json: larger than 1 MiB (the limit for a record manifest)"),
        "{line}"
    );
}

#[test]
fn outputs_never_replace_a_device_or_a_pipe() {
    let s = Signed::new();
    let (data, key) = (s.data.to_str().unwrap(), s.key.to_str().unwrap());
    let target = s.path("target");
    mkfifo(&target);
    let pipe = target.to_str().unwrap();
    let kind = "is a named pipe (FIFO); an output only ever replaces a regular file";
    for args in [
        vec!["convert", data, pipe],
        vec!["convert", data, pipe, "--to", "jsonl"],
        vec!["convert", data, pipe, "--to", "sqlite"],
        vec!["stats", "--append", data, "-o", pipe],
        vec!["keygen", "--ed25519", "-o", pipe, "--force"],
    ] {
        let line = error_line(&oe(&args));
        assert!(
            line.contains(&format!("{pipe}: {kind}")),
            "{args:?}: {line}"
        );
        assert!(is_fifo(&target), "{args:?} replaced the named pipe");
    }
    // A key pair whose public half cannot be written: no secret key is left alone.
    mkfifo(&s.path("target.key.pub"));
    let line = error_line(&oe(&[
        "keygen",
        "--ed25519",
        "--force",
        "-o",
        s.path("target.key").to_str().unwrap(),
    ]));
    assert!(line.contains(&format!("target.key.pub: {kind}")), "{line}");
    assert!(!s.path("target.key").exists());
    // A signature's path, refused before the signing work.
    let signature = s.path("data.parquet.minisig");
    mkfifo(&signature);
    let line = error_line(&oe(&["sign", data, "--key", key]));
    assert!(
        line.contains("data.parquet.minisig: is a named pipe"),
        "{line}"
    );
    assert!(is_fifo(&signature));
    let manifest = s.path("data.manifest.json");
    mkfifo(&manifest);
    let line = error_line(&oe(&["sign", data, "--key", key, "--records"]));
    assert!(
        line.contains("data.manifest.json: is a named pipe"),
        "{line}"
    );
    assert!(is_fifo(&manifest));
    assert!(!s.path("data.sigs.parquet").exists());
    // Only the input, the key pair and the pipes: nothing half-written is left.
    let mut names: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "data.manifest.json",
            "data.parquet",
            "data.parquet.minisig",
            "k.key",
            "k.key.pub",
            "target",
            "target.key.pub"
        ]
    );
}

#[test]
fn an_empty_input_is_an_error_in_every_input_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let out = out.to_str().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let empty = write("empty", b"");
    let empty_jsonl = write("empty.jsonl", b"");
    let blank_jsonl = write("blank.jsonl", b"\n  \n\n");
    let empty_parquet = write("empty.parquet", b"");
    for (args, expected) in [
        (vec![empty.as_str()], "the file is empty"),
        (vec![empty_jsonl.as_str()], "the file is empty"),
        (vec![blank_jsonl.as_str()], "the file is empty (or blank)"),
        (vec!["--from", "jsonl", &empty], "the file is empty"),
        (vec!["--from", "met", &empty], "the file is empty"),
        (
            vec![
                "--from",
                "skypilot",
                "--provider",
                "p",
                "--model",
                "m",
                &empty,
            ],
            "the file is empty",
        ),
        (vec![empty_parquet.as_str()], "file is empty"),
        (vec!["--from", "parquet", &empty], "file is empty"),
        (vec!["--from", "parquet-fixed", &empty], "file is empty"),
    ] {
        let input = args.last().unwrap().to_string();
        let mut all = vec!["convert"];
        all.extend(args.iter().copied());
        all.push(out);
        let line = error_line(&oe(&all));
        assert!(
            line.starts_with(&format!("error: {input}: ")) && line.contains(expected),
            "{all:?}: {line}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }
}

/// A file with statistics that are out of date, so that `stats --append` writes.
fn stale_statistics(dir: &Path) -> PathBuf {
    let path = dir.join("in.parquet");
    let run = oe(&[
        "convert",
        example().to_str().unwrap(),
        path.to_str().unwrap(),
        "--no-statistics",
    ]);
    assert!(run.status.success());
    path
}

#[test]
fn stats_append_in_place_never_writes_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = stale_statistics(dir.path());
    let before = std::fs::read(&input).unwrap();
    // A second name for the input's bytes: a write to them (the old in-place rewrite, or a
    // crash in the middle of one) would show through it.
    let link = dir.path().join("link.parquet");
    std::fs::hard_link(&input, &link).unwrap();
    let run = oe(&["stats", "--append", input.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read(&link).unwrap(), before);
    let after = std::fs::read(&input).unwrap();
    assert_ne!(after, before);
    // The new file is the old one with only the footer replaced, and reads back with the
    // statistics.
    let data_end = before.len()
        - 8
        - u32::from_le_bytes(
            before[before.len() - 8..before.len() - 4]
                .try_into()
                .unwrap(),
        ) as usize;
    assert_eq!(after[..data_end], before[..data_end]);
    let run = oe(&["stats", input.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("up to date"));
    // Nothing else was left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&input).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}

#[test]
fn stale_temporary_files_of_a_killed_run_are_removed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let stale = dir.path().join(".out.parquet.k1LLed.tmp");
    std::fs::write(&stale, b"half a file").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let unrelated = dir.path().join(".other.parquet.k1LLed.tmp");
    std::fs::write(&unrelated, b"x").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&unrelated)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let run = oe(&[
        "convert",
        example().to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    assert!(!stale.exists());
    assert!(unrelated.exists());
    assert!(out.exists());
}
