//! Helpers shared by the integration tests: running the real `minisign`.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `minisign` binary to run: `$MINISIGN` or `minisign` from PATH.
/// Panics with an actionable message when it cannot be run: interop tests
/// must fail, not skip, without it.
pub fn minisign_bin() -> PathBuf {
    let bin = std::env::var_os("MINISIGN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("minisign"));
    match Command::new(&bin).arg("-v").output() {
        Ok(out) if out.status.success() => bin,
        Ok(out) => panic!(
            "`{} -v` failed ({}): the interop tests need a working minisign 0.11 \
             (apt-get install -y minisign, or set MINISIGN=/path/to/minisign)",
            bin.display(),
            out.status
        ),
        Err(e) => panic!(
            "cannot run `{}` ({e}): the interop tests need minisign on PATH \
             (apt-get install -y minisign, or set MINISIGN=/path/to/minisign)",
            bin.display()
        ),
    }
}

/// Runs minisign with `args`, feeding `stdin` (passwords go there, one per
/// line: minisign reads them with fgets from a non-terminal stdin).
pub fn minisign(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(minisign_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn minisign");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write minisign stdin");
    child.wait_with_output().expect("wait for minisign")
}

/// Like [`minisign`] but asserts success and returns stdout.
pub fn minisign_ok(args: &[&str], stdin: &str) -> String {
    let out = minisign(args, stdin);
    assert!(
        out.status.success(),
        "minisign {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `path` as &str.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Deterministic pseudo-random test content (xorshift64*), `len` bytes.
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    v.truncate(len);
    v
}

/// The base64 (second) line of a minisign file.
pub fn second_line(text: &str) -> &str {
    text.lines().nth(1).expect("second line")
}
