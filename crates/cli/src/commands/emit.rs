//! `oembeddings emit`: records as JSON Lines, exactly as Go's encoding/json writes them.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::ParquetSource;
use oembeddings::json::{AttributesJson, write_record};
use oembeddings::read::ReadOptions;

use crate::output::{self, CliResult};

/// Print records as JSON Lines, one record per line, streaming.
///
/// Each line is the record as go-embeddingsdb's Go code marshals it (encoding/json): fields
/// provider, depiction_id, subject_id, model, embeddings, created, attributes; float32
/// values in Go's shortest form; attribute keys sorted. Works on multi-GB files with
/// `| head`: it reads one batch at a time and stops when the reader goes away. A NaN or
/// infinite vector element cannot be written as JSON and stops the output with an error
/// naming the record.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Parquet file.
    file: PathBuf,
    /// Print at most N records.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
}

pub fn run(args: &Args) -> CliResult {
    let source = ParquetSource::open(&args.file)?;
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut options = ReadOptions::default();
    if limit < 1024 {
        options = options.with_batch_size(usize::try_from(limit.max(1)).unwrap_or(1));
    }
    let reader = source.records(&options)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut line = Vec::with_capacity(64 << 10);
    let mut written = 0u64;
    'batches: for batch in reader {
        let batch = batch?;
        for (i, record) in batch.records().enumerate() {
            if written >= limit {
                break 'batches;
            }
            line.clear();
            if let Err(e) = write_record(&mut line, &record, AttributesJson::Object) {
                return Err(format!(
                    "{}: row {} (key {}): {e}",
                    args.file.display(),
                    batch.first_row() + i as u64,
                    record.key()
                )
                .into());
            }
            line.push(b'\n');
            if let Err(e) = out.write_all(&line) {
                return stop_on_closed_pipe(e);
            }
            written += 1;
        }
    }
    match out.flush() {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => stop_on_closed_pipe(e),
    }
}

/// A reader that went away (`| head`) ends the output quietly and successfully.
fn stop_on_closed_pipe(e: io::Error) -> CliResult {
    if output::is_broken_pipe(&e) {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!("writing to stdout: {e}").into())
    }
}
