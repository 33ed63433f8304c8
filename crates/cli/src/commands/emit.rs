//! `oembeddings emit`: records as JSON Lines, exactly as Go's encoding/json writes them.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::ParquetSource;
use oembeddings::json::{AttributesJson, LineError, write_lines_parallel};
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
    let mut reader = source.records(&options)?;
    let threads = oembeddings::pipeline::cores();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut lines = Vec::with_capacity(16 << 20);
    let mut left = limit;
    for batch in reader.by_ref() {
        let batch = batch?;
        let rows = batch
            .num_rows()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        lines.clear();
        let result =
            write_lines_parallel(&mut lines, &batch, 0..rows, AttributesJson::Object, threads);
        // Lines before a bad record are still written: the output is a stream.
        if let Err(e) = out.write_all(&lines) {
            return stop_on_closed_pipe(e);
        }
        if let Err(LineError { row, error }) = result {
            return Err(format!(
                "{}: row {} (key {}): {error}",
                args.file.display(),
                batch.first_row() + row as u64,
                batch.record(row).key()
            )
            .into());
        }
        left -= rows as u64;
        if left == 0 {
            break;
        }
    }
    if let Err(e) = out.flush() {
        return stop_on_closed_pipe(e);
    }
    output::warn_narrowing(&args.file, reader.narrowing());
    Ok(ExitCode::SUCCESS)
}

/// A write error: a reader that went away (`| head`) stays an I/O error, which ends every
/// command quietly ([`output::CLOSED_PIPE_EXIT`]); any other error says it was stdout.
fn stop_on_closed_pipe(e: io::Error) -> CliResult {
    if output::is_broken_pipe(&e) {
        Err(e.into())
    } else {
        Err(format!("writing to stdout: {e}").into())
    }
}
