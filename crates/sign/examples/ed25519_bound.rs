//! The raw Ed25519 throughput of ed25519-dalek on this machine, on every core: signing
//! 64-byte messages, and batch-verifying them (batches of 64). The benchmark's upper bound
//! for per-record signing and verification. Prints one JSON line.
//!
//! Signing is measured two ways: `SigningKey::sign` (`sign_per_second`, the bound), and the
//! hazmat `raw_sign` with the key expanded once (`sign_expanded_per_second`), which is how
//! `oembeddings` signs records; the benchmark reports our rate against both.
//!
//! `cargo run --release -p oembeddings-sign --example ed25519_bound -- [COUNT]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{Signature, Signer, SigningKey, verify_batch};
use rand_core::OsRng;
use sha2::Sha512;

fn on_all_cores<T: Send>(count: usize, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let share = count.div_ceil(threads);
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || f(t * share..((t + 1) * share).min(count))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(200_000, |n| n.parse().unwrap());
    let key = SigningKey::generate(&mut OsRng);
    let public = key.verifying_key();
    let messages: Vec<[u8; 64]> = (0..count)
        .map(|i| {
            let mut m = [0u8; 64];
            m[..8].copy_from_slice(&(i as u64).to_le_bytes());
            m
        })
        .collect();
    let start = Instant::now();
    let signatures: Vec<Signature> = on_all_cores(count, |range| {
        range.map(|i| key.sign(&messages[i])).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let sign_seconds = start.elapsed().as_secs_f64();
    let expanded = ExpandedSecretKey::from(key.as_bytes());
    let start = Instant::now();
    let again: Vec<Signature> = on_all_cores(count, |range| {
        range
            .map(|i| raw_sign::<Sha512>(&expanded, &messages[i], &public))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let expanded_seconds = start.elapsed().as_secs_f64();
    assert!(again == signatures);
    let start = Instant::now();
    let ok = on_all_cores(count, |range| {
        let (m, s): (Vec<&[u8]>, Vec<Signature>) =
            range.map(|i| (&messages[i][..], signatures[i])).unzip();
        m.chunks(64)
            .zip(s.chunks(64))
            .all(|(m, s)| verify_batch(m, s, &vec![public; m.len()]).is_ok())
    });
    let verify_seconds = start.elapsed().as_secs_f64();
    assert!(ok.into_iter().all(|b| b));
    println!(
        "{{\"count\": {count}, \"sign_per_second\": {:.0}, \"sign_expanded_per_second\": {:.0}, \"verify_per_second\": {:.0}}}",
        count as f64 / sign_seconds,
        count as f64 / expanded_seconds,
        count as f64 / verify_seconds
    );
}
