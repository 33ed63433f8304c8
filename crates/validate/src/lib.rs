//! # oembeddings-validate
//!
//! Is this downloaded embeddings file well formed? A catalogue of rules with stable ids
//! ([`Rule`]), each with a severity and the section of `spec/oembeddings.md` it enforces, and
//! a streaming validator that checks a file against all of them in bounded memory.
//!
//! ```no_run
//! let report = oembeddings_validate::validate(
//!     "nga-opendata-1152-siglip2-20260522.parquet",
//!     &oembeddings_validate::Options::default(),
//! )?;
//! for finding in &report.findings {
//!     println!("{} {} {}", finding.rule, finding.severity, finding.message);
//! }
//! assert!(report.valid);
//! # Ok::<(), oembeddings::read::ReadError>(())
//! ```

mod keys;
mod metadata;
mod records;
pub mod report;
pub mod rules;

use std::path::Path;

use oembeddings::read::{ParquetSource, ReadError, ReadOptions};

pub use report::{FileReport, Finding, Mode, Report};
pub use rules::{Rule, RuleDescription, Severity};

use crate::metadata::{FooterStatistics, StatisticsSource};
use crate::records::{RecordChecker, RecordRules};
use crate::report::Findings;

/// Version of `spec/oembeddings.md` the rules implement.
pub const SPEC_VERSION: &str = "0.1";

/// Model name parts (lowercase substrings) of models known to emit unit-norm vectors:
/// CLIP-family and SigLIP image encoders as museums publish them.
pub const UNIT_NORM_MODELS: &[&str] = &["clip", "siglip"];

/// Findings listed per rule and file by default; the rest are counted.
pub const DEFAULT_MAX_FINDINGS_PER_RULE: usize = 100;

/// Validation settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Read only the footer and schema (instant on any file size); record rules are skipped.
    pub metadata_only: bool,
    /// Findings listed per rule; the rest are counted. `None`: list every finding. Default
    /// [`DEFAULT_MAX_FINDINGS_PER_RULE`].
    pub max_findings_per_rule: Option<usize>,
    /// Lowercase substrings of model names whose vectors must be unit-norm (OE114).
    pub unit_norm_models: Vec<String>,
    /// Allowed distance of a norm from 1 for OE114.
    pub unit_norm_tolerance: f32,
    /// "Now" in Unix seconds for OE131 (default: the system clock).
    pub now: Option<i64>,
    /// Clock skew allowed before `created` counts as in the future, in seconds (one day).
    pub future_tolerance: i64,
    /// Where the file is meant to go: `hub` adds the checks of what would break on the
    /// Hugging Face Hub (OE501, OE502).
    pub target: Target,
    /// Largest row group, in uncompressed bytes, that OE502 allows (default
    /// [`HUB_MAX_ROW_GROUP_BYTES`]).
    pub hub_max_row_group_bytes: u64,
}

/// Uncompressed bytes of the largest row group whose Parquet files the Hugging Face Hub's
/// dataset viewer copies as they are (its `PARQUET_AND_INFO_MAX_ROW_GROUP_BYTE_SIZE_FOR_COPY`);
/// a dataset with larger row groups is converted again, only in part.
pub const HUB_MAX_ROW_GROUP_BYTES: u64 = 100_000_000;

/// Uncompressed bytes of row groups beyond which the Hub's rows view fails ("Rows from
/// parquet row groups are too big to be read: … (max=286.10 MiB)", its
/// `ROWS_INDEX_MAX_ARROW_DATA_IN_MEMORY`).
pub const HUB_VIEWER_MAX_BYTES: u64 = 300_000_000;

/// Where a file is meant to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Target {
    /// Anywhere: the specification's rules.
    #[default]
    Any,
    /// The Hugging Face Hub: also MAP columns (OE501) and oversized row groups (OE502).
    Hub,
}

oembeddings::named_enum!(Target, "target",
    Any => "any", "The specification's rules";
    Hub => "hub", "Also what would break on the Hugging Face Hub (MAP columns, large row groups)";
);

impl Default for Options {
    fn default() -> Self {
        Self {
            metadata_only: false,
            max_findings_per_rule: Some(DEFAULT_MAX_FINDINGS_PER_RULE),
            unit_norm_models: UNIT_NORM_MODELS.iter().map(|s| (*s).to_owned()).collect(),
            unit_norm_tolerance: 1e-3,
            now: None,
            future_tolerance: 86_400,
            target: Target::Any,
            hub_max_row_group_bytes: HUB_MAX_ROW_GROUP_BYTES,
        }
    }
}

impl Options {
    /// Checks only the footer and schema.
    pub fn with_metadata_only(mut self, metadata_only: bool) -> Self {
        self.metadata_only = metadata_only;
        self
    }

    /// Lists at most `n` findings per rule (`None`: all).
    pub fn with_max_findings_per_rule(mut self, n: Option<usize>) -> Self {
        self.max_findings_per_rule = n;
        self
    }

    /// Sets where the file is meant to go.
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Sets the largest row group OE502 allows.
    pub fn with_hub_max_row_group_bytes(mut self, bytes: u64) -> Self {
        self.hub_max_row_group_bytes = bytes;
        self
    }

    /// Sets "now" for OE131.
    pub fn with_now(mut self, unix_seconds: i64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    /// Sets the model name parts that require unit-norm vectors.
    pub fn with_unit_norm_models(mut self, models: Vec<String>) -> Self {
        self.unit_norm_models = models.into_iter().map(|m| m.to_lowercase()).collect();
        self
    }
}

/// Validates one file. Everything about its contents (not Parquet, truncated, undecodable,
/// any rule) is a finding of the report; an error is returned only when the file cannot be
/// opened at all ([`ReadError::Io`]: absent, unreadable, not a regular file), which says
/// nothing about its contents.
pub fn validate(path: impl AsRef<Path>, options: &Options) -> Result<FileReport, ReadError> {
    validate_with_progress(path, options, &mut |_, _| {})
}

/// Like [`validate`], calling `progress(records_done, records_total)` after each batch.
pub fn validate_with_progress(
    path: impl AsRef<Path>,
    options: &Options,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<FileReport, ReadError> {
    let path = path.as_ref();
    let source = match ParquetSource::open(path) {
        Ok(source) => Ok(source),
        // What cannot be opened (absent, unreadable, not a regular file) has no contents to
        // judge: an I/O error, not a rule.
        Err(e @ ReadError::Io { .. }) => return Err(e),
        Err(e) => Err(e),
    };
    let blob = source.as_ref().ok().map(|s| s.blob().clone());
    let mut report = validate_source(path, source, options, progress)?;
    report.io = blob.and_then(|b| b.io());
    Ok(report)
}

/// [`validate_with_progress`] of a file opened (or not) already.
fn validate_source(
    path: &Path,
    source: Result<ParquetSource, ReadError>,
    options: &Options,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<FileReport, ReadError> {
    let mut findings = Findings::new(options.max_findings_per_rule);
    let mode = if options.metadata_only {
        Mode::MetadataOnly
    } else {
        Mode::Full
    };
    let source = match source {
        Ok(source) => source,
        Err(e) => {
            metadata::open_failure(&e, &mut findings);
            return Ok(findings.into_report(path.to_path_buf(), mode, 0));
        }
    };
    if source.arrow_schema_hint_ignored() {
        findings.file(
            Rule::DamagedArrowSchema,
            "the footer's ARROW:schema value cannot be decoded; it was ignored and the columns \
             read by their Parquet schema (pyarrow refuses such a file: \"Corrupted metadata length\")",
        );
    }
    let footer = FooterStatistics::of(&source);
    metadata::check_footer_statistics(&source, &footer, &mut findings);
    if options.target == Target::Hub {
        metadata::check_hub(&source, options.hub_max_row_group_bytes, &mut findings);
    }
    if options.metadata_only {
        let declared = source.num_rows();
        metadata::check_name(
            path,
            footer.claimed().as_ref(),
            StatisticsSource::Footer,
            &mut findings,
        );
        return Ok(findings.into_report(path.to_path_buf(), mode, declared));
    }
    let total = source.num_rows();
    let now = options
        .now
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let mut checker = RecordChecker::new(RecordRules {
        unit_norm_models: options.unit_norm_models.clone(),
        unit_norm_tolerance: options.unit_norm_tolerance,
        latest_created: now.saturating_add(options.future_tolerance),
    });
    let reader = match source.records(&ReadOptions::default().with_repair(true)) {
        Ok(reader) => reader,
        Err(e) => {
            metadata::open_failure(&e, &mut findings);
            return Ok(findings.into_report(path.to_path_buf(), mode, 0));
        }
    };
    // Decoding and checking take about as long as each other: the reader runs ahead on its
    // own thread, at most two batches, so that both cores work and memory stays bounded.
    let (narrowing, complete) = oembeddings::pipeline::read_ahead(
        2,
        |feed| {
            let mut reader = reader;
            for batch in reader.by_ref() {
                let failed = batch.is_err();
                if !feed.send(batch) || failed {
                    break;
                }
            }
            reader.narrowing()
        },
        |batches| {
            let mut complete = true;
            for batch in batches {
                match batch {
                    Ok(batch) => checker.check(&batch, &mut findings),
                    Err(e) => {
                        metadata::open_failure(&e, &mut findings);
                        complete = false;
                    }
                }
                progress(checker.records(), total);
            }
            complete
        },
    );
    if narrowing.values > 0 {
        findings.file(crate::Rule::Narrowed, narrowing.to_string());
    }
    if complete {
        let statistics = checker.statistics().finish();
        metadata::compare_statistics(&footer, &statistics, &mut findings);
        metadata::check_name(
            path,
            Some(&statistics),
            StatisticsSource::Data,
            &mut findings,
        );
    }
    Ok(findings.into_report(path.to_path_buf(), mode, checker.records()))
}

/// The record rules over canonical batches that do not come from one file: a partition of a
/// distributed engine, an Arrow stream in memory. File rules (footer, statistics, name) do
/// not apply; duplicate keys are found across every batch given to one validator.
#[derive(Debug)]
pub struct BatchValidator {
    checker: RecordChecker,
    findings: Findings,
}

impl BatchValidator {
    /// A validator with the record settings of `options`.
    pub fn new(options: &Options) -> Self {
        let now = options
            .now
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
        Self {
            checker: RecordChecker::new(RecordRules {
                unit_norm_models: options.unit_norm_models.clone(),
                unit_norm_tolerance: options.unit_norm_tolerance,
                latest_created: now.saturating_add(options.future_tolerance),
            }),
            findings: Findings::new(options.max_findings_per_rule),
        }
    }

    /// Checks the records of `batch`; rows are numbered as the batch's `first_row` says.
    pub fn check(&mut self, batch: &oembeddings::Batch) {
        self.checker.check(batch, &mut self.findings);
    }

    /// The report, naming the data `name` (in place of a file path).
    pub fn finish(self, name: impl Into<std::path::PathBuf>) -> FileReport {
        let records = self.checker.records();
        self.findings.into_report(name.into(), Mode::Full, records)
    }
}

/// Validates several files into one report; the first file that cannot be opened is the
/// error (see [`validate`]).
pub fn validate_all<P: AsRef<Path>>(paths: &[P], options: &Options) -> Result<Report, ReadError> {
    let files = paths
        .iter()
        .map(|p| validate(p, options))
        .collect::<Result<_, _>>()?;
    Ok(Report::new(files))
}
