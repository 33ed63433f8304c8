//! Hashes the `gojson` output for every float32 bit pattern, in the format of
//! `tests/data/gojson/exhaustive_f32.go`; `tests/data/gojson/exhaustive_f32.sh` compares the two.
//!
//! Run with `cargo run --release --example exhaustive_f32`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use oembeddings::gojson::write_f32;
use std::sync::atomic::{AtomicU32, Ordering};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x100_0000_01b3;

fn hash_chunk(chunk: u32) -> u64 {
    let mut h = FNV_OFFSET;
    let mut out = Vec::with_capacity(32);
    for low in 0..1u32 << 24 {
        out.clear();
        if write_f32(&mut out, f32::from_bits(chunk << 24 | low)).is_err() {
            out.extend_from_slice(b"ERR");
        }
        out.push(b'\n');
        for &c in &out {
            h ^= u64::from(c);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

fn main() {
    let next = AtomicU32::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut hashes = [0u64; 256];
    let results: Vec<Vec<(u32, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let c = next.fetch_add(1, Ordering::Relaxed);
                        if c >= 256 {
                            return mine;
                        }
                        mine.push((c, hash_chunk(c)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut done = 0;
    for (c, h) in results.into_iter().flatten() {
        hashes[c as usize] = h;
        done += 1;
    }
    if done != hashes.len() {
        eprintln!("a worker failed: only {done} of 256 chunks hashed");
        std::process::exit(1);
    }
    for (c, h) in hashes.iter().enumerate() {
        println!("{c:02x} {h:016x}");
    }
}
