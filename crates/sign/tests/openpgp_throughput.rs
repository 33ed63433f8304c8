//! Throughput measurements (single thread).  Run in release mode:
//! `cargo test --release --test openpgp_throughput -- --nocapture --include-ignored`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/openpgp.rs"]
mod common;

use std::io::Write;
use std::time::Instant;

use common::{gpg, gpg_home, kill_agent, require_tool, run_ok};
use oembeddings_sign::openpgp::{
    Signer, Verifier, generate, sign_detached, sign_detached_bytes, verify_detached,
};

#[test]
fn per_record_sign_and_verify_10k() {
    const N: usize = 10_000;
    let (secret, public) = generate("bench", Some("pw")).unwrap();
    let records: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"object\":\"museum/obj/{i:08}\",\"sha256\":\"{:064x}\"}}",
                i * 7919
            )
            .into_bytes()
        })
        .collect();
    let avg = records.iter().map(Vec::len).sum::<usize>() / N;

    let t = Instant::now();
    let mut signer = Signer::new(secret.cert(), Some("pw")).unwrap();
    let unlock = t.elapsed();
    let t = Instant::now();
    let sigs: Vec<Vec<u8>> = records
        .iter()
        .map(|r| sign_detached_bytes(&mut signer, r).unwrap())
        .collect();
    let sign = t.elapsed();

    let mut verifier = Verifier::new(public.cert());
    let t = Instant::now();
    for (r, s) in records.iter().zip(&sigs) {
        verifier.verify(r, s).unwrap();
    }
    let fast = t.elapsed();

    // Fresh signatures: sequoia caches good verifications process-wide,
    // so re-verifying `sigs` would measure the cache, not the crypto.
    let m = 2_000;
    let fresh: Vec<Vec<u8>> = records
        .iter()
        .take(m)
        .map(|r| sign_detached_bytes(&mut signer, r).unwrap())
        .collect();
    let t = Instant::now();
    for (r, s) in records.iter().zip(&fresh) {
        verify_detached(public.cert(), &r[..], s).unwrap();
    }
    let slow = t.elapsed();
    // Re-verification (cache hits) for comparison.
    let t = Instant::now();
    for (r, s) in records.iter().zip(&sigs) {
        verifier.verify(r, s).unwrap();
    }
    let cached = t.elapsed();

    let sig_len = sigs.iter().map(Vec::len).sum::<usize>() / N;
    eprintln!(
        "THROUGHPUT per-record ({N} msgs of ~{avg} B, sig ~{sig_len} B, 1 thread): \
         unlock {:.1} ms; sign {:.0}/s; verify (Verifier) {:.0}/s; \
         verify (verify_detached, {m}) {:.0}/s; re-verify same sigs (sequoia cache hit) {:.0}/s",
        unlock.as_secs_f64() * 1e3,
        N as f64 / sign.as_secs_f64(),
        N as f64 / fast.as_secs_f64(),
        m as f64 / slow.as_secs_f64(),
        N as f64 / cached.as_secs_f64()
    );
}

#[test]
fn hash_choice_sha256_vs_sha512() {
    use sequoia_openpgp::types::HashAlgorithm;
    let buf: Vec<u8> = (0..(64u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut line = String::from("THROUGHPUT sequoia hash (crypto-rust, 64 MiB in memory):");
    for algo in [HashAlgorithm::SHA256, HashAlgorithm::SHA512] {
        let mut ctx = algo.context().unwrap().for_digest();
        let t = Instant::now();
        for chunk in buf.chunks(1 << 20) {
            ctx.update(chunk);
        }
        let _ = ctx.into_digest().unwrap();
        let s = t.elapsed().as_secs_f64();
        line.push_str(&format!(" {algo} {:.0} MB/s;", buf.len() as f64 / 1e6 / s));
    }
    eprintln!("{line}");
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
#[ignore = "benchmark: 200,000 records"]
fn per_record_200k_memory() {
    const N: usize = 200_000;
    let (secret, public) = generate("bench", None).unwrap();
    let mut signer = Signer::new(secret.cert(), None).unwrap();
    let mut verifier = Verifier::new(public.cert());
    let t = Instant::now();
    let sigs: Vec<(Vec<u8>, Vec<u8>)> = (0..N)
        .map(|i| {
            let r = format!("record {i:010} {:0>90}", i).into_bytes();
            let s = sign_detached_bytes(&mut signer, &r).unwrap();
            (r, s)
        })
        .collect();
    let sign = t.elapsed().as_secs_f64();
    let before = rss_kib();
    let t = Instant::now();
    for (r, s) in &sigs {
        verifier.verify(r, s).unwrap();
    }
    let verify = t.elapsed().as_secs_f64();
    let after = rss_kib();
    eprintln!(
        "THROUGHPUT 200k records: sign {:.0}/s, verify {:.0}/s, RSS growth during verify {} KiB",
        N as f64 / sign,
        N as f64 / verify,
        after.saturating_sub(before)
    );
}

#[test]
#[ignore = "benchmark: writes a 1 GiB file; run with --include-ignored in release"]
fn detached_1gib_vs_sha256sum_and_gpg() {
    require_tool("gpg");
    require_tool("sha256sum");
    const SIZE: usize = 1 << 30;
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let path = dir.path().join("big.bin");
    {
        let mut f =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        let mut block = vec![0u8; 1 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for chunk in 0..(SIZE >> 20) {
            for b in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b.copy_from_slice(&x.to_le_bytes());
            }
            block[0] = chunk as u8;
            f.write_all(&block).unwrap();
        }
        f.flush().unwrap();
    }
    let mb = SIZE as f64 / 1e6;
    // Warm the page cache so every contender reads from memory.
    run_ok(
        std::process::Command::new("cat")
            .arg(&path)
            .stdout(std::process::Stdio::null()),
    );

    let (secret, public) = generate("bench", None).unwrap();
    let t = Instant::now();
    let sig = sign_detached(
        secret.cert(),
        None,
        std::fs::File::open(&path).unwrap(),
        true,
    )
    .unwrap();
    let ours = t.elapsed().as_secs_f64();

    let t = Instant::now();
    verify_detached(public.cert(), std::fs::File::open(&path).unwrap(), &sig).unwrap();
    let ours_verify = t.elapsed().as_secs_f64();

    let t = Instant::now();
    run_ok(std::process::Command::new("sha256sum").arg(&path));
    let sha = t.elapsed().as_secs_f64();

    let t = Instant::now();
    run_ok(std::process::Command::new("sha512sum").arg(&path));
    let sha512 = t.elapsed().as_secs_f64();

    let home = gpg_home();
    run_ok(gpg(home.path()).args([
        "--quick-gen-key",
        "b <b@example.org>",
        "ed25519",
        "sign",
        "never",
    ]));
    let mut gpg_times = Vec::new();
    for algo in ["SHA256", "SHA512"] {
        let out = dir.path().join(format!("big.{algo}.sig"));
        let t = Instant::now();
        run_ok(
            gpg(home.path())
                .args([
                    "--digest-algo",
                    algo,
                    "--detach-sign",
                    "--armor",
                    "--output",
                ])
                .arg(&out)
                .arg(&path),
        );
        gpg_times.push((algo, t.elapsed().as_secs_f64()));
    }
    kill_agent(home.path());
    drop(dir); // deletes the 1 GiB file

    eprintln!(
        "THROUGHPUT 1 GiB detached: ours sign (SHA-256) {:.0} MB/s, ours verify {:.0} MB/s, \
         sha256sum {:.0} MB/s, sha512sum {:.0} MB/s, {}",
        mb / ours,
        mb / ours_verify,
        mb / sha,
        mb / sha512,
        gpg_times
            .iter()
            .map(|(a, s)| format!("gpg --detach-sign {a} {:.0} MB/s", mb / s))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
