//! `oembeddings convert`: rewrite a records file into another layout.

use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::read::ReadOptions;
use oembeddings::{ParquetSource, VectorOutput, WriteOptions, Writer};

use crate::output::{self, CliResult};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Parquet in go-embeddingsdb's layout (variable-length list vectors).
    Parquet,
    /// Parquet with FixedSizeList vectors and the ARROW:schema hint (Daft, LanceDB, datasets).
    ParquetFixed,
}

/// Vector layouts of Parquet output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VectorLayoutArg {
    /// Variable-length lists, as go-embeddingsdb writes.
    Go,
    /// FixedSizeList with the ARROW:schema hint; every vector must have the same length.
    Fixed,
}

/// Convert a records file into another layout, streaming and atomically.
///
/// Reads any layout oembeddings accepts (see `oembeddings inspect`) and writes
/// go-embeddingsdb's layout with statistics in the footer, or FixedSizeList vectors with
/// --to parquet-fixed (same as --vector-layout fixed). Every value and attribute is kept;
/// float64 vectors are narrowed to float32 and values that change are reported. OUTPUT
/// appears only when the whole conversion succeeded.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read.
    input: PathBuf,
    /// The file to write (replaced atomically if it exists).
    output: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "parquet")]
    to: Format,
    /// Vector layout of Parquet output (overrides the one implied by --to).
    #[arg(long, value_enum)]
    vector_layout: Option<VectorLayoutArg>,
    /// Do not write statistics into the output's footer.
    #[arg(long)]
    no_statistics: bool,
}

pub fn run(args: &Args) -> CliResult {
    let vectors = match (args.vector_layout, args.to) {
        (Some(VectorLayoutArg::Fixed), _) | (None, Format::ParquetFixed) => {
            VectorOutput::FixedSizeList
        }
        (Some(VectorLayoutArg::Go), _) | (None, Format::Parquet) => VectorOutput::Go,
    };
    let source = ParquetSource::open(&args.input)?;
    let total = source.num_rows();
    let mut reader = source.records(&ReadOptions::default())?;
    let options = WriteOptions::default()
        .with_vectors(vectors)
        .with_statistics(!args.no_statistics);
    let mut writer = Writer::create(&args.output, options)?;
    let bar = output::progress(total, "converting");
    for batch in reader.by_ref() {
        let batch = batch?;
        writer.write(&batch)?;
        bar.inc(batch.num_rows() as u64);
    }
    bar.finish_and_clear();
    let narrowing = reader.narrowing();
    let summary = writer.finish()?;
    output::warn_narrowing(&args.input, narrowing);
    output::note(format!(
        "{}: wrote {} records in {} row groups ({} layout)",
        summary.path.display(),
        summary.records,
        summary.row_groups,
        match vectors {
            VectorOutput::FixedSizeList => "fixed-size-list",
            _ => "go-embeddingsdb",
        }
    ));
    Ok(ExitCode::SUCCESS)
}
