//! Streams every record of a file through the reader (every page decoded, every record
//! materialised as a `RecordRef`, as `pyarrow.parquet.read_table` materialises its table):
//! the "bare streaming read" the benchmarks compare against. Prints one JSON line.
//!
//! `cargo run --release -p oembeddings --example read_all -- FILE`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

/// The allocator of the `oembeddings` binary, so that both are measured alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let path = std::env::args().nth(1).expect("usage: read_all FILE");
    let start = Instant::now();
    let mut records = 0u64;
    let mut checksum = 0f64;
    for batch in oembeddings::read(&path).unwrap() {
        let batch = batch.unwrap();
        for record in batch.records() {
            // Touch each record so that nothing is optimised away.
            checksum += record.embeddings.len() as f64
                + f64::from(record.embeddings.first().copied().unwrap_or(0.0));
            records += 1;
        }
    }
    println!(
        "{{\"records\": {records}, \"seconds\": {:.6}, \"checksum\": {checksum}}}",
        start.elapsed().as_secs_f64()
    );
}
