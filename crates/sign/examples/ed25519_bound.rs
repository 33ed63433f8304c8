//! The raw Ed25519 throughput of ed25519-dalek on this machine, on every core: signing
//! 64-byte messages, and batch-verifying them (in the fastest of batches of 64 to 8192,
//! reported as `verify_batch`). The benchmark's upper bound
//! for per-record signing and verification. Prints one JSON line.
//!
//! Signing is measured two ways: `SigningKey::sign` (`sign_per_second`, the bound), and the
//! hazmat `raw_sign` with the key expanded once (`sign_expanded_per_second`), which is how
//! `oembeddings` signs records; the benchmark reports our rate against both.
//!
//! Both phases also measure one SHA-256 stream with `sha2` on one core
//! (`sha256_stream_bytes_per_second`): a signed file's manifest binds the file's SHA-256,
//! which is one stream that cannot be split, and the benchmark derives from it the ceiling
//! that hashing puts on per-record signing and verification. The `sign` phase also measures
//! SHA-256 over record-sized messages on every core (`sha256_bytes_per_second`), the rate of
//! record digests.
//!
//! `cargo run --release -p oembeddings-sign --example ed25519_bound -- [COUNT] [sign|verify|all]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{Signature, Signer, SigningKey, verify_batch};
use rand_core::OsRng;
use sha2::{Digest, Sha256, Sha512};

/// Runs `f` over `0..count` on every core and returns the results in order. Chunks are
/// claimed by whichever thread is free: with a fixed split, a core slowed for a while by the
/// host left the other idle at the end, and the bound came out about 8% low.
fn on_all_cores<T: Send>(
    count: usize,
    chunk: usize,
    f: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<T>)> = std::thread::scope(|s| {
        let (f, next) = (&f, &next);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(chunk, Ordering::Relaxed);
                        if start >= count {
                            return done;
                        }
                        done.push((start, f(start..(start + chunk).min(count))));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    parts.sort_unstable_by_key(|&(start, _)| start);
    parts.into_iter().flat_map(|(_, v)| v).collect()
}

/// Count per second of a timed run of `f`, and its result.
fn timed<T>(count: usize, f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (count as f64 / start.elapsed().as_secs_f64(), out)
}

/// Bytes per second of one SHA-256 stream (`sha2`, SHA-NI where the CPU has it) on one core,
/// over a buffer larger than the caches, after a warm-up.
fn sha256_stream_rate() -> f64 {
    const BUFFER: usize = 32 << 20;
    const PASSES: usize = 16;
    let buffer: Vec<u8> = (0..BUFFER).map(|i| (i * 31 % 251) as u8).collect();
    let mut hasher = Sha256::new();
    hasher.update(&buffer);
    let (rate, digest) = timed(BUFFER * PASSES, || {
        for _ in 0..PASSES {
            hasher.update(&buffer);
        }
        hasher.finalize()
    });
    assert_ne!(digest[0..8], [0u8; 8]);
    rate
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(200_000, |n| n.parse().unwrap());
    let phase = args.next().unwrap_or_else(|| "all".to_owned());
    assert!(
        matches!(phase.as_str(), "sign" | "verify" | "all"),
        "phase is sign, verify or all"
    );
    let key = SigningKey::generate(&mut OsRng);
    let public = key.verifying_key();
    let expanded = ExpandedSecretKey::from(key.as_bytes());
    let messages: Vec<[u8; 64]> = (0..count)
        .map(|i| {
            let mut m = [0u8; 64];
            m[..8].copy_from_slice(&(i as u64).to_le_bytes());
            m
        })
        .collect();
    let sign_expanded = |range: std::ops::Range<usize>| -> Vec<Signature> {
        range
            .map(|i| raw_sign::<Sha512>(&expanded, &messages[i], &public))
            .collect()
    };
    let mut fields = vec![format!("\"count\": {count}")];
    let signatures = if phase == "verify" {
        on_all_cores(count, 64, sign_expanded)
    } else {
        // Both ways in ABBA order over halves of the messages, after a warm-up, so that
        // neither gains from going second (caches, clock) or from a drift of the machine.
        let plain = |range: std::ops::Range<usize>| -> Vec<Signature> {
            range.map(|i| key.sign(&messages[i])).collect()
        };
        let half = count / 2;
        let halves = [0..half, half..count];
        on_all_cores(count.min(4096), 64, sign_expanded);
        let mut seconds = [0.0f64; 2];
        let mut signed: [[Vec<Signature>; 2]; 2] = Default::default();
        for (which, way) in [(0, 0), (0, 1), (1, 1), (1, 0)] {
            let range = halves[which].clone();
            let start = Instant::now();
            signed[way][which] = on_all_cores(range.len(), 64, |r| {
                let r = r.start + range.start..r.end + range.start;
                if way == 1 { sign_expanded(r) } else { plain(r) }
            });
            seconds[way] += start.elapsed().as_secs_f64();
        }
        let [plain_signed, expanded_signed] = signed;
        assert!(plain_signed == expanded_signed);
        let signatures: Vec<Signature> = plain_signed.concat();
        let (plain_seconds, expanded_seconds) = (seconds[0], seconds[1]);
        fields.push(format!(
            "\"sign_per_second\": {:.0}",
            count as f64 / plain_seconds
        ));
        fields.push(format!(
            "\"sign_expanded_per_second\": {:.0}",
            count as f64 / expanded_seconds
        ));
        // A record's vector (1152 float32) and a row number.
        const RECORD: usize = 4608;
        let record = vec![0x5au8; RECORD];
        let (rate, _) = timed(count * (RECORD + 8), || {
            on_all_cores(count, 64, |range| {
                range
                    .map(|i| {
                        Sha256::new()
                            .chain_update(&record)
                            .chain_update(i.to_le_bytes())
                            .finalize()[0]
                    })
                    .collect()
            })
        });
        fields.push(format!("\"sha256_bytes_per_second\": {rate:.0}"));
        signatures
    };
    fields.push(format!(
        "\"sha256_stream_bytes_per_second\": {:.0}",
        sha256_stream_rate()
    ));
    if phase != "sign" {
        // Batch verification gains from larger batches up to a size that depends on the
        // machine (here, a core: 50,000/s in batches of 64, 75,000/s in 4096, no more
        // beyond), so the bound is the best of several sizes, each tried on a sample first,
        // then measured in full.
        let verify = |count: usize, batch: usize| -> bool {
            on_all_cores(count, batch, |range| {
                let (m, s): (Vec<&[u8]>, Vec<Signature>) =
                    range.map(|i| (&messages[i][..], signatures[i])).unzip();
                vec![verify_batch(&m, &s, &vec![public; m.len()]).is_ok()]
            })
            .into_iter()
            .all(|ok| ok)
        };
        let sample = count.min(1 << 16);
        verify(sample.min(4096), 64);
        let mut tried = Vec::new();
        for batch in [64usize, 256, 1024, 2048, 4096, 8192] {
            let (rate, ok) = timed(sample, || verify(sample, batch));
            assert!(ok);
            tried.push((batch, rate));
        }
        let best = tried
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(64, |(batch, _)| batch);
        let (rate, ok) = timed(count, || verify(count, best));
        assert!(ok);
        fields.push(format!("\"verify_per_second\": {rate:.0}"));
        fields.push(format!("\"verify_batch\": {best}"));
        let sampled: Vec<String> = tried
            .iter()
            .map(|(batch, rate)| format!("\"{batch}\": {rate:.0}"))
            .collect();
        fields.push(format!(
            "\"verify_sample_per_second\": {{{}}}",
            sampled.join(", ")
        ));
    }
    println!("{{{}}}", fields.join(", "));
}
