//! Verification reports: what was checked, what verified, and every problem found.

use std::path::PathBuf;

use serde::Serialize;

/// Problems listed per report before the rest are only counted.
pub const LISTED_PROBLEMS: usize = 1000;

/// What kind of problem a record or file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// A signature does not verify, or the record differs from what was signed.
    Invalid,
    /// A record has no signature.
    Missing,
    /// A signature has no record (the record was deleted, or never in this file).
    Extra,
    /// A record whose signature covers other attributes than its own: those go-embeddingsdb's
    /// earlier signer carried over from an earlier record (see `spec/signatures.md`).
    CarriedAttributes,
}

/// One problem, at one record or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Its kind.
    pub kind: ProblemKind,
    /// 0-based row in the data file, when the record is in it.
    pub row: Option<u64>,
    /// The record key (or file name, for release problems).
    pub key: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
}

/// Who signed, and when, as the signature says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// `openpgp`, `ed25519` or `x509`.
    pub algorithm: &'static str,
    /// OpenPGP fingerprint of the signing key, the minisign key id (hex), or the X.509
    /// certificate's SHA-256 fingerprint.
    pub key: String,
    /// The primary user id of an OpenPGP certificate, or an X.509 certificate's subject.
    pub user_id: Option<String>,
    /// Signature creation time (RFC 3339), when the format records it.
    pub signed_at: Option<String>,
    /// The trusted comment of a minisign signature.
    pub trusted_comment: Option<String>,
}

/// The result of verifying one thing (a file, a file's records, or a release).
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// What was verified: the data file or release directory.
    pub path: PathBuf,
    /// `file`, `records-native`, `records-compatible` or `release`.
    pub check: &'static str,
    /// Whether verification passed (problems allowed by the options do not fail it).
    pub ok: bool,
    /// Signatures that verified for unchanged records (or files).
    pub valid: u64,
    /// Invalid signatures, changed or misplaced records (or files).
    pub invalid: u64,
    /// Records (or files) without a signature.
    pub missing: u64,
    /// Signatures without a record: deleted records (a release: files present but not
    /// listed).
    pub extra: u64,
    /// Problems of the file as a whole, apart from its records (record checks): bytes,
    /// name, sidecar or record count that differ from what was signed. They fail the
    /// verification; the other counts are records.
    pub file_problems: u64,
    /// Records signed with attributes carried over from an earlier record by
    /// go-embeddingsdb's earlier signer (compatible profile); they fail the verification
    /// unless accepted.
    pub carried: u64,
    /// The X.509 signer's certificate and what was, and was not, checked of its identity.
    pub identity: Option<crate::x509::IdentityReport>,
    /// The signer, when a signature verified.
    pub signer: Option<Signer>,
    /// Problems, at most [`LISTED_PROBLEMS`].
    pub problems: Vec<Problem>,
    /// Problems not listed.
    pub unlisted: u64,
    /// Observations that are not problems.
    pub notes: Vec<String>,
}

impl VerifyReport {
    pub(crate) fn new(path: impl Into<PathBuf>, check: &'static str) -> Self {
        Self {
            path: path.into(),
            check,
            ok: false,
            valid: 0,
            invalid: 0,
            missing: 0,
            extra: 0,
            file_problems: 0,
            carried: 0,
            identity: None,
            signer: None,
            problems: Vec::new(),
            unlisted: 0,
            notes: Vec::new(),
        }
    }

    /// Counts a problem and lists it while under the limit.
    pub(crate) fn problem(
        &mut self,
        kind: ProblemKind,
        row: Option<u64>,
        key: Option<String>,
        message: impl Into<String>,
    ) {
        match kind {
            ProblemKind::Invalid => self.invalid += 1,
            ProblemKind::Missing => self.missing += 1,
            ProblemKind::Extra => self.extra += 1,
            ProblemKind::CarriedAttributes => self.carried += 1,
        }
        if self.problems.len() < LISTED_PROBLEMS {
            self.problems.push(Problem {
                kind,
                row,
                key,
                message: message.into(),
            });
        } else {
            self.unlisted += 1;
        }
    }

    /// Counts and lists a problem of the file as a whole (see
    /// [`VerifyReport::file_problems`]), named by `name`.
    pub(crate) fn file_problem(&mut self, name: Option<String>, message: impl Into<String>) {
        self.file_problems += 1;
        if self.problems.len() < LISTED_PROBLEMS {
            self.problems.push(Problem {
                kind: ProblemKind::Invalid,
                row: None,
                key: name,
                message: message.into(),
            });
        } else {
            self.unlisted += 1;
        }
    }

    /// Whether the counts are of records (not files).
    fn counts_records(&self) -> bool {
        self.check.starts_with("records")
    }

    /// Decides `ok`: no invalid and no extra signatures, no problem of the file as a whole, no missing ones unless
    /// `allow_missing`, and at least one signature by the key verified (`anchored`). Fail
    /// closed: a check that verified nothing does not pass.
    pub(crate) fn conclude(&mut self, allow_missing: bool, anchored: bool) {
        self.ok = anchored
            && self.invalid == 0
            && self.file_problems == 0
            && self.extra == 0
            && (allow_missing || self.missing == 0);
    }

    /// Also fails on records signed with carried attributes unless `accept_carried`, and on
    /// a failed identity check.
    pub(crate) fn conclude_compatible(&mut self, accept_carried: bool) {
        self.ok = self.ok
            && (accept_carried || self.carried == 0)
            && self.identity.as_ref().is_none_or(|i| i.passed());
    }

    /// The report of a verification that stopped before it began for want of a signature
    /// (none found, a sidecar or manifest missing or malformed): not verified, naming the
    /// problem, as a missing detached signature is reported. `check` says which check could
    /// not run (`records`, `release`). Any other error is given back: unusable input (a data
    /// file or directory that is not there, a key that cannot be used, a signature file that
    /// exists but cannot be read) is an error, not a report.
    pub fn from_missing_signature(
        data: &std::path::Path,
        check: &'static str,
        error: crate::SignError,
    ) -> Result<Self, crate::SignError> {
        use crate::SignError;
        use oembeddings::read::ReadError;
        let (kind, path) = match &error {
            SignError::NoRecordSignatures { .. } => (ProblemKind::Missing, None),
            SignError::Io { path, source } | SignError::Read(ReadError::Io { path, source })
                if source.kind() == std::io::ErrorKind::NotFound && path != data =>
            {
                (ProblemKind::Missing, Some(path.display().to_string()))
            }
            SignError::Sidecar { path, .. } | SignError::Manifest { path, .. } => {
                (ProblemKind::Invalid, Some(path.display().to_string()))
            }
            _ => return Err(error),
        };
        // Missing data is unusable input, whatever else is missing with it.
        if let Err(source) = oembeddings::input::size(data) {
            return Err(SignError::Io {
                path: data.to_path_buf(),
                source,
            });
        }
        let mut report = Self::new(data, check);
        report.problem(kind, None, path, error.to_string());
        Ok(report)
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let path = self.path.display();
        for p in &self.problems {
            let at = match (&p.row, &p.key) {
                (Some(row), Some(key)) => format!(" row {row} ({key})"),
                (Some(row), None) => format!(" row {row}"),
                (None, Some(key)) => format!(" {key}"),
                (None, None) => String::new(),
            };
            let kind = match p.kind {
                ProblemKind::Invalid => "invalid",
                ProblemKind::Missing if self.counts_records() => "unsigned",
                ProblemKind::Extra if self.counts_records() => "deleted",
                ProblemKind::Missing => "missing",
                ProblemKind::Extra => "extra",
                ProblemKind::CarriedAttributes => "carried attributes",
            };
            let _ = writeln!(out, "{path}: {kind}{at}: {}", p.message);
        }
        if self.unlisted > 0 {
            let _ = writeln!(out, "{path}: {} more problems not listed", self.unlisted);
        }
        for note in &self.notes {
            let _ = writeln!(out, "{path}: note: {note}");
        }
        if let Some(s) = &self.signer {
            let who = s
                .user_id
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            let when = s
                .signed_at
                .as_deref()
                .map(|t| format!(", signed {t}"))
                .unwrap_or_default();
            let comment = s
                .trusted_comment
                .as_deref()
                .map(|c| format!(", trusted comment: {c}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{path}: signer {} key {}{who}{when}{comment}",
                s.algorithm, s.key
            );
        }
        if let Some(identity) = &self.identity {
            for line in identity.to_lines() {
                let _ = writeln!(out, "{path}: {line}");
            }
        }
        let carried = if self.carried > 0 {
            format!(", {} with carried attributes", self.carried)
        } else {
            String::new()
        };
        let verdict = if self.ok { "verified" } else { "NOT VERIFIED" };
        let check = self.check;
        let (valid, invalid, missing, extra) = (self.valid, self.invalid, self.missing, self.extra);
        if self.counts_records() {
            let file_problems = match self.file_problems {
                0 => String::new(),
                1 => "; 1 problem of the file as a whole".to_owned(),
                n => format!("; {n} problems of the file as a whole"),
            };
            let _ = writeln!(
                out,
                "{path}: {verdict} ({check}): records: {valid} valid, {invalid} invalid, \
                 {missing} unsigned, {extra} deleted{carried}{file_problems}"
            );
        } else {
            let _ = writeln!(
                out,
                "{path}: {verdict} ({check}): {valid} valid, {invalid} invalid, {missing} \
                 missing, {extra} extra{carried}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::SignError;

    fn not_found(path: &std::path::Path) -> SignError {
        SignError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        }
    }

    #[test]
    fn a_missing_signature_is_a_report_and_missing_data_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("records.parquet");
        let sidecar = dir.path().join("records.sigs.parquet");
        std::fs::write(&data, b"PAR1").unwrap();
        let report =
            VerifyReport::from_missing_signature(&data, "records", not_found(&sidecar)).unwrap();
        assert!(!report.ok);
        assert_eq!((report.missing, report.invalid, report.valid), (1, 0, 0));
        assert_eq!(
            report.problems[0].key.as_deref(),
            Some(sidecar.to_str().unwrap())
        );
        // The data itself missing: an error, whatever else is missing with it.
        std::fs::remove_file(&data).unwrap();
        assert!(
            VerifyReport::from_missing_signature(&data, "records", not_found(&sidecar)).is_err()
        );
        // The data file not found is no missing signature.
        assert!(VerifyReport::from_missing_signature(&data, "records", not_found(&data)).is_err());
    }
}
