//! Throughput of `sign_prehashed` on a generated 1 GiB file, compared with
//! `sha256sum` and `minisign -S` on the same file. Ignored by default:
//!
//! `cargo test --release --test throughput -- --ignored --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/minisign.rs"]
mod common;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{minisign_ok, s};
use oembeddings_sign::minisign::{SecretKey, sign_prehashed, verify};

const SIZE: u64 = 1 << 30;
const RUNS: usize = 2;

fn write_big_file(path: &Path) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let mut chunk = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..SIZE / chunk.len() as u64 {
        for word in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        w.write_all(&chunk).unwrap();
    }
    w.into_inner().unwrap().sync_all().unwrap();
}

fn best<F: FnMut()>(mut f: F) -> Duration {
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn mbps(d: Duration) -> f64 {
    SIZE as f64 / 1e6 / d.as_secs_f64()
}

#[test]
#[ignore = "writes a 1 GiB file; run with --release -- --ignored --nocapture"]
fn throughput_1gib() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    write_big_file(&big);
    assert_eq!(fs::metadata(&big).unwrap().len(), SIZE);
    // Warm the page cache so every contender reads from memory.
    assert!(
        Command::new("cat")
            .arg(&big)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
    );

    let sk = SecretKey::generate();
    let key_file = dir.path().join("k.key");
    fs::write(&key_file, sk.to_file_text(None, "").unwrap()).unwrap();
    let pk = sk.public_key();

    let mut ours = String::new();
    let t_ours = best(|| {
        ours = sign_prehashed(&sk, File::open(&big).unwrap(), "tc", "uc").unwrap();
    });
    let t_verify = best(|| {
        verify(&pk, File::open(&big).unwrap(), &ours).unwrap();
    });
    let t_sha = best(|| {
        let out = Command::new("sha256sum").arg(&big).output().unwrap();
        assert!(out.status.success());
    });
    let msig = dir.path().join("big.minisig");
    let t_minisign = best(|| {
        minisign_ok(
            &[
                "-S",
                "-s",
                s(&key_file),
                "-m",
                s(&big),
                "-x",
                s(&msig),
                "-t",
                "tc",
                "-c",
                "uc",
            ],
            "",
        );
    });
    assert_eq!(
        fs::read_to_string(&msig).unwrap(),
        ours,
        "same bytes as minisign"
    );

    println!("1 GiB file, best of {RUNS} runs, page cache warm:");
    println!(
        "  sign_prehashed (ours): {:>7.0} MB/s ({:.2} s)",
        mbps(t_ours),
        t_ours.as_secs_f64()
    );
    println!(
        "  verify (ours):         {:>7.0} MB/s ({:.2} s)",
        mbps(t_verify),
        t_verify.as_secs_f64()
    );
    println!(
        "  sha256sum:             {:>7.0} MB/s ({:.2} s)",
        mbps(t_sha),
        t_sha.as_secs_f64()
    );
    println!(
        "  minisign -S:           {:>7.0} MB/s ({:.2} s)",
        mbps(t_minisign),
        t_minisign.as_secs_f64()
    );

    drop(dir);
    assert!(!big.exists(), "the 1 GiB file must be deleted");
}
