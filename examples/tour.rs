//! The README's library example: stream the shipped example file and gather its statistics.
//!
//! `cargo run --example tour` (no `-p`: features resolved over the whole workspace, as the
//! test suite builds it, so that one build serves both)

use oembeddings::{ParquetSource, Statistics, read};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/sfomuseum-collection-512-mobileclip-20260413.parquet"
    );
    for batch in read(path)? {
        let batch = batch?; // a bounded, canonical Arrow RecordBatch
        for record in batch.records() {
            println!(
                "{} has {} dimensions",
                record.key(),
                record.embeddings.len()
            );
        }
    }
    let stats = Statistics::gather(ParquetSource::open(path)?)?;
    println!("{} records", stats.records);
    Ok(())
}
