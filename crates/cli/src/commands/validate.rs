//! `oembeddings validate`: check files against the specification's rules.

use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings_validate::{
    DEFAULT_MAX_FINDINGS_PER_RULE, Options, Report, Rule, RuleDescription, Target,
    validate_with_progress,
};

use crate::output::{self, CliResult, FormatArgs, ReportFormat};

/// Check files against the OEmbeddings specification (spec/oembeddings.md).
///
/// Every finding names a rule with a stable id (OE0xx file and schema, OE1xx records and
/// vectors, OE2xx attributes, OE3xx statistics, OE4xx naming), a severity, the row and record
/// key where it applies, and a message. `--rules` lists the catalogue.
///
/// Full validation streams every record in bounded memory; --metadata-only reads only the
/// footer and schema and is instant on files of any size.
///
/// Exit code: 0 when no file has errors (warnings allowed unless --strict), 1 when any file
/// has errors (an unreadable or non-Parquet file counts), 2 for usage errors.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Parquet files.
    #[arg(required_unless_present = "rules")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    format: FormatArgs,
    /// Read only the footer and schema; skip the record rules.
    #[arg(long)]
    metadata_only: bool,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    strict: bool,
    /// List at most N findings per rule and file, counting the rest (0: list all).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_FINDINGS_PER_RULE)]
    max_errors: usize,
    /// Model name parts (case-insensitive) whose vectors must be unit-norm (OE114); repeat
    /// the option for several. Default: clip, siglip.
    #[arg(long = "unit-norm-model", value_name = "NAME")]
    unit_norm_models: Vec<String>,
    /// Where the files are meant to go: hub also warns about what would break on the
    /// Hugging Face Hub (a MAP attributes column, OE501; row groups over 100 MB
    /// uncompressed, which its dataset viewer does not copy as they are, OE502).
    #[arg(long, value_enum, default_value_t = Target::Any)]
    target: Target,
    /// List the rules and exit.
    #[arg(long, conflicts_with = "files")]
    rules: bool,
}

pub fn run(args: &Args) -> CliResult {
    if args.rules {
        return list_rules(args.format.get());
    }
    let mut options = Options::default()
        .with_metadata_only(args.metadata_only)
        .with_target(args.target)
        .with_max_findings_per_rule((args.max_errors > 0).then_some(args.max_errors));
    if !args.unit_norm_models.is_empty() {
        options = options.with_unit_norm_models(args.unit_norm_models.clone());
    }
    let mut files = Vec::with_capacity(args.files.len());
    let mut unreadable = false;
    for file in &args.files {
        let what = format!("validating {}", file.display());
        let bar = output::progress(0, &what);
        let report = validate_with_progress(file, &options, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
            output::progress_message(&bar, &what);
        });
        bar.finish_and_clear();
        match report {
            Ok(report) => files.push(report),
            // Not a finding about contents: an error line, and the other files go on.
            Err(e) => {
                output::error(&e.into());
                unreadable = true;
            }
        }
    }
    let mut report = Report::new(files);
    // A file that could not be read is not valid, though it has no report of its own.
    report.valid &= !unreadable;
    match args.format.get() {
        ReportFormat::Text => output::out!("{}", report.to_text())?,
        ReportFormat::Json => output::json(&report)?,
    }
    Ok(if unreadable || report.fails(args.strict) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn list_rules(format: ReportFormat) -> CliResult {
    match format {
        ReportFormat::Json => {
            let rules: Vec<RuleDescription> = Rule::ALL.iter().map(|&r| r.into()).collect();
            output::json(&rules)?;
        }
        ReportFormat::Text => {
            for rule in Rule::ALL {
                output::outln!(
                    "{}  {:7}  §{:4} {}",
                    rule.id(),
                    rule.severity().to_string(),
                    rule.section(),
                    rule.title()
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
