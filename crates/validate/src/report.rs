//! Findings and reports, for people (text) and machines (JSON).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::rules::{Rule, Severity};

/// One broken rule, at one place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub message: String,
    /// 0-based row of the record, for record findings.
    pub row: Option<u64>,
    /// Record key, when known.
    pub key: Option<String>,
}

/// How thoroughly a file was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Footer and schema only.
    MetadataOnly,
    /// Every record.
    Full,
}

/// The findings of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Whether the file has no errors (warnings allowed).
    pub valid: bool,
    /// How thoroughly it was checked.
    pub mode: Mode,
    /// Records checked (full mode) or declared by the footer (metadata-only).
    pub records: u64,
    /// Number of error findings, including suppressed ones.
    pub errors: u64,
    /// Number of warning findings, including suppressed ones.
    pub warnings: u64,
    /// The findings kept, file findings first, then by row.
    pub findings: Vec<Finding>,
    /// Per rule id, findings beyond the per-rule limit, counted but not listed.
    pub suppressed: BTreeMap<String, u64>,
    /// For a remote file: the requests and bytes the check took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io: Option<oembeddings::blob::IoStats>,
}

impl FileReport {
    /// Whether the file has errors, or warnings when `strict`.
    pub fn fails(&self, strict: bool) -> bool {
        self.errors > 0 || (strict && self.warnings > 0)
    }
}

/// The report of one run over one or more files.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Version of the specification checked against.
    pub spec_version: &'static str,
    /// Whether every file is valid.
    pub valid: bool,
    /// Per file.
    pub files: Vec<FileReport>,
}

impl Report {
    /// A report of `files`.
    pub fn new(files: Vec<FileReport>) -> Self {
        Self {
            spec_version: crate::SPEC_VERSION,
            valid: files.iter().all(|f| f.valid),
            files,
        }
    }

    /// Whether any file fails (has errors, or warnings when `strict`).
    pub fn fails(&self, strict: bool) -> bool {
        self.files.iter().any(|f| f.fails(strict))
    }

    /// The report for people: one line per finding, then a summary line per file.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            let path = file.path.display();
            for f in &file.findings {
                let at = match (&f.row, &f.key) {
                    (Some(row), Some(key)) => format!(" row {row} ({key})"),
                    (Some(row), None) => format!(" row {row}"),
                    (None, Some(key)) => format!(" ({key})"),
                    (None, None) => String::new(),
                };
                let _ = writeln!(out, "{path}: {} {}{at}: {}", f.rule, f.severity, f.message);
            }
            let suppressed: u64 = file.suppressed.values().sum();
            let more = if suppressed > 0 {
                let rules: Vec<String> = file
                    .suppressed
                    .iter()
                    .map(|(r, n)| format!("{r} {n}"))
                    .collect();
                format!("; {suppressed} more not listed ({})", rules.join(", "))
            } else {
                String::new()
            };
            let mode = match file.mode {
                Mode::Full => format!("{} records checked", file.records),
                Mode::MetadataOnly => format!("metadata only, {} records declared", file.records),
            };
            let _ = writeln!(
                out,
                "{path}: {}: {} {}, {} {} ({mode}{more})",
                if file.valid { "valid" } else { "INVALID" },
                file.errors,
                plural(file.errors, "error"),
                file.warnings,
                plural(file.warnings, "warning"),
            );
        }
        out
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// Collects findings, keeping at most `limit` per rule and counting the rest.
#[derive(Debug)]
pub(crate) struct Findings {
    limit: Option<usize>,
    kept: Vec<Finding>,
    per_rule: BTreeMap<Rule, u64>,
}

impl Findings {
    pub(crate) fn new(limit: Option<usize>) -> Self {
        Self {
            limit,
            kept: Vec::new(),
            per_rule: BTreeMap::new(),
        }
    }

    /// Whether another finding of `rule` would be listed (to skip building its message).
    pub(crate) fn wants(&self, rule: Rule) -> bool {
        let seen = self.per_rule.get(&rule).copied().unwrap_or(0);
        self.limit.is_none_or(|limit| seen < limit as u64)
    }

    /// Counts a finding of `rule`; builds and keeps it only while under the limit.
    pub(crate) fn add(
        &mut self,
        rule: Rule,
        row: Option<u64>,
        key: impl FnOnce() -> Option<String>,
        message: impl FnOnce() -> String,
    ) {
        if self.wants(rule) {
            self.kept.push(Finding {
                rule,
                severity: rule.severity(),
                message: message(),
                row,
                key: key(),
            });
        }
        *self.per_rule.entry(rule).or_insert(0) += 1;
    }

    /// A finding about the file as a whole.
    pub(crate) fn file(&mut self, rule: Rule, message: impl Into<String>) {
        let message = message.into();
        self.add(rule, None, || None, || message);
    }

    pub(crate) fn into_report(mut self, path: PathBuf, mode: Mode, records: u64) -> FileReport {
        let mut errors = 0;
        let mut warnings = 0;
        let mut suppressed = BTreeMap::new();
        for (&rule, &count) in &self.per_rule {
            match rule.severity() {
                Severity::Error => errors += count,
                Severity::Warning => warnings += count,
            }
            let listed = self.kept.iter().filter(|f| f.rule == rule).count() as u64;
            if count > listed {
                suppressed.insert(rule.id().to_owned(), count - listed);
            }
        }
        // File findings first, then records in row order; stable within a row.
        self.kept.sort_by_key(|f| f.row.map_or(0, |r| r + 1));
        FileReport {
            path,
            valid: errors == 0,
            mode,
            records,
            errors,
            warnings,
            findings: self.kept,
            suppressed,
            io: None,
        }
    }
}
