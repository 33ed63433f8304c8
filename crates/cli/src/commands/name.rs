//! `oembeddings name`: check a file name against the convention and the file's contents.

use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::name::{self, FileName, NameMismatch};
use oembeddings::{ParquetSource, Statistics};
use serde::Serialize;

use crate::output::{self, CliResult, FormatArgs};

/// Check a file's name against the convention and its contents, and suggest one.
///
/// The convention is {provider}-{source}-{dimensions}-{model}-{YYYYMMDD}.parquet, e.g.
/// nga-opendata-1152-siglip2-patch14-20260522.parquet: lowercase slugs separated by '-',
/// source and model may contain '-', dimensions is the first all-digit part after the
/// source, the date a real calendar date.
///
/// With FILE: exits 1 when the name is not conventional or contradicts the data
/// (dimensions), 0 otherwise (label mismatches are warnings). With --parse NAME: prints the
/// parts of NAME as JSON without reading any file.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["file", "parse"]))]
pub struct Args {
    /// The Parquet file to check.
    file: Option<PathBuf>,
    /// Only parse NAME and print its parts as JSON.
    #[arg(long, value_name = "NAME")]
    parse: Option<String>,
    /// Source slug for the suggested name (default: from the current name).
    #[arg(long)]
    source: Option<String>,
    /// Date (YYYYMMDD) for the suggested name (default: from the current name, else the day
    /// of the newest record).
    #[arg(long, value_parser = parse_date)]
    date: Option<time::Date>,
    #[command(flatten)]
    format: FormatArgs,
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    name::parse_date(s).ok_or_else(|| format!("{s:?} is not a real date in the form YYYYMMDD"))
}

#[derive(Serialize)]
struct Report {
    file: PathBuf,
    conventional: bool,
    name_error: Option<String>,
    parts: Option<FileName>,
    mismatches: Vec<NameMismatch>,
    suggestion: Option<String>,
}

pub fn run(args: &Args) -> CliResult {
    if let Some(name) = &args.parse {
        return match FileName::parse(name) {
            Ok(parts) => {
                output::json(&parts)?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(format!("{name}: not a conventional name: {e}").into()),
        };
    }
    let Some(file) = &args.file else {
        return Err("give a FILE or --parse NAME".into());
    };
    let source = ParquetSource::open(file)?;
    let statistics = Statistics::gather(source)?;
    let base = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parsed = FileName::parse(&base);
    let mismatches = match &parsed {
        Ok(parts) => name::check(parts, &statistics),
        Err(_) => Vec::new(),
    };
    let suggestion = name::suggest(
        &statistics,
        parsed.as_ref().ok(),
        args.source.as_deref(),
        args.date,
    )
    .map(|s| s.to_string());
    let report = Report {
        file: file.clone(),
        conventional: parsed.is_ok(),
        name_error: parsed.as_ref().err().map(ToString::to_string),
        parts: parsed.as_ref().ok().cloned(),
        mismatches,
        suggestion,
    };
    let failed = !report.conventional || report.mismatches.iter().any(NameMismatch::is_error);
    if args.format.is_json() {
        output::json(&report)?;
    } else {
        let shown = file.display();
        match &report.name_error {
            Some(e) => output::outln!("{shown}: not conventional: {e}")?,
            None if report.mismatches.is_empty() => {
                output::outln!("{shown}: conventional, and it matches the contents")?
            }
            None => output::outln!("{shown}: conventional")?,
        }
        for m in &report.mismatches {
            output::outln!("  {}: {m}", if m.is_error() { "error" } else { "warning" })?;
        }
        match &report.suggestion {
            Some(s) if Some(s) != Some(&base) => output::outln!("  suggested name: {s}")?,
            _ => {}
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
