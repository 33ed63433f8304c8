//! Writes a synthetic records file shaped like SFO Museum's published embeddings:
//! deterministic, unit-norm float32 vectors and OEmbeddings attributes.
//!
//! Used to make the shipped example (`examples/data/`) and the benchmark file (`bench/`):
//!
//! ```sh
//! cargo run --release -p oembeddings --example generate -- \
//!     --records 200000 --dimensions 1152 --model siglip2 --out bench/data/big.parquet
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::{Batch, Record, VectorOutput, WriteOptions, Writer};

struct Options {
    records: usize,
    dimensions: usize,
    model: String,
    provider: String,
    out: PathBuf,
    seed: u64,
    created: i64,
    fixed: bool,
    statistics: bool,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        records: 24,
        dimensions: 512,
        model: "mobileclip".into(),
        provider: "sfomuseum".into(),
        out: PathBuf::from("out.parquet"),
        seed: 1,
        // 2026-04-13T09:00:00Z
        created: 1_776_070_800,
        fixed: false,
        statistics: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--fixed" {
            o.fixed = true;
            continue;
        }
        if flag == "--no-statistics" {
            o.statistics = false;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--records" => o.records = number()? as usize,
            "--dimensions" => o.dimensions = number()? as usize,
            "--seed" => o.seed = number()?,
            "--created" => o.created = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--model" => o.model = value,
            "--provider" => o.provider = value,
            "--out" => o.out = PathBuf::from(value),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

/// splitmix64: deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }
}

fn record(o: &Options, rng: &mut Rng, i: usize) -> Record {
    let mut embeddings: Vec<f32> = (0..o.dimensions).map(|_| rng.unit()).collect();
    let norm = embeddings
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    embeddings.iter_mut().for_each(|v| *v /= norm);
    let subject = 1_511_900_000 + (i as u64 / 2);
    let depiction = 1_527_800_000 + i as u64;
    let attributes = BTreeMap::from([
        ("type".to_owned(), "image".to_owned()),
        (
            "preview".to_owned(),
            format!("https://static.sfomuseum.org/media/{depiction}/{depiction}_z.jpg"),
        ),
        (
            "subject_url".to_owned(),
            format!("https://collection.sfomuseum.org/objects/{subject}/"),
        ),
        (
            "subject_title".to_owned(),
            format!("Postcard: San Francisco International Airport, view {i}"),
        ),
        (
            "subject_creditline".to_owned(),
            "Gift of the Thomas G. Dragges Collection".to_owned(),
        ),
        ("provider_name".to_owned(), "SFO Museum".to_owned()),
        (
            "provider_url".to_owned(),
            "https://www.sfomuseum.org/".to_owned(),
        ),
        (
            "depiction_url".to_owned(),
            format!("https://collection.sfomuseum.org/images/{depiction}/"),
        ),
    ]);
    Record {
        provider: o.provider.clone(),
        depiction_id: depiction.to_string(),
        subject_id: subject.to_string(),
        model: o.model.clone(),
        embeddings,
        created: o.created + i as i64,
        attributes,
    }
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let vectors = if o.fixed {
        VectorOutput::FixedSizeList
    } else {
        VectorOutput::Go
    };
    let result = (|| -> Result<u64, Box<dyn std::error::Error>> {
        let mut writer = Writer::create(
            &o.out,
            WriteOptions::default()
                .with_vectors(vectors)
                .with_statistics(o.statistics),
        )?;
        let mut rng = Rng(o.seed);
        let chunk = 2048;
        for start in (0..o.records).step_by(chunk) {
            let records: Vec<Record> = (start..(start + chunk).min(o.records))
                .map(|i| record(&o, &mut rng, i))
                .collect();
            writer.write(&Batch::from_records(records.iter().map(Record::as_ref))?)?;
        }
        Ok(writer.finish()?.records)
    })();
    match result {
        Ok(n) => {
            eprintln!(
                "{}: wrote {n} records of {} dimensions",
                o.out.display(),
                o.dimensions
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
