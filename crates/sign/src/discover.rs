//! Verifying whatever signatures sit beside a file, as `gpg --verify FILE` and `minisign -V`
//! find theirs: detached signatures (`FILE.asc`, `FILE.sig`, `FILE.minisig`), the native
//! profile's signed manifest (`{root}.manifest.json`, with its sidecar) and go-embeddingsdb's
//! sidecar (`{root}-signatures.parquet`).
//!
//! Each signature found whose kind the key can check is verified; the others are listed as
//! not checked, with the kind of key they need. The file verifies when at least one
//! signature was checked and none failed: a signature beside the file that fails is never
//! outweighed by another that passes.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::SignError;
use crate::file::{signature_path, verify_file};
use crate::keys::{
    MINISIGN_SIGNATURE_EXTENSION, OPENPGP_BINARY_SIGNATURE_EXTENSION, OPENPGP_SIGNATURE_EXTENSION,
    PublicKey,
};
use crate::profile::records::{Profile, RecordVerifyOptions, verify_records};
use crate::report::VerifyReport;
use crate::{compatible, native};

/// A kind of signature that can sit beside a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SignatureKind {
    /// A detached OpenPGP signature, armored (`.asc`) or binary (`.sig`).
    OpenPgpFile,
    /// A detached minisign signature (`.minisig`).
    MinisignFile,
    /// The native profile's record signatures: the signed manifest and its sidecar.
    NativeRecords,
    /// go-embeddingsdb's record signatures (the compatible profile's sidecar).
    CompatibleRecords,
}

impl SignatureKind {
    /// Whether `key` is of the kind that checks this signature.
    fn checked_by(self, key: &PublicKey) -> bool {
        matches!(
            (self, key),
            (SignatureKind::OpenPgpFile, PublicKey::OpenPgp(_))
                | (SignatureKind::MinisignFile, PublicKey::Ed25519(_))
                | (
                    SignatureKind::NativeRecords,
                    PublicKey::OpenPgp(_) | PublicKey::Ed25519(_)
                )
                | (
                    SignatureKind::CompatibleRecords,
                    PublicKey::OpenPgp(_) | PublicKey::X509(_)
                )
        )
    }

    /// The keys that check it, as a message says.
    fn needs(self) -> &'static str {
        match self {
            SignatureKind::OpenPgpFile => "an OpenPGP key",
            SignatureKind::MinisignFile => "an Ed25519 (minisign) key",
            SignatureKind::NativeRecords => "the OpenPGP or Ed25519 key that signed its manifest",
            SignatureKind::CompatibleRecords => "an OpenPGP key or an X.509 certificate",
        }
    }
}

/// A signature file found beside a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// What it is.
    pub kind: SignatureKind,
    /// The file: the detached signature, the native manifest or the compatible sidecar.
    pub path: PathBuf,
}

/// A signature found but not checked, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotChecked {
    /// The signature.
    #[serde(flatten)]
    pub found: Found,
    /// Why it was not checked.
    pub reason: String,
}

/// What verifying everything beside a file found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DiscoveryReport {
    /// The data file.
    pub path: PathBuf,
    /// Whether at least one signature was checked and every checked one verified.
    pub ok: bool,
    /// The report of each signature checked.
    pub checked: Vec<VerifyReport>,
    /// Signatures found that the key cannot check.
    pub not_checked: Vec<NotChecked>,
    /// Where signatures were looked for (all of them, found or not).
    pub looked_for: Vec<PathBuf>,
}

impl DiscoveryReport {
    /// The report for people: each check's report, the signatures not checked, and a
    /// closing line.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let path = self.path.display();
        for report in &self.checked {
            out.push_str(&report.to_text());
        }
        for n in &self.not_checked {
            let _ = writeln!(
                out,
                "{path}: not checked: {}: {}",
                n.found.path.display(),
                n.reason
            );
        }
        let verdict = if self.ok { "VERIFIED" } else { "NOT VERIFIED" };
        let checks: Vec<&str> = self.checked.iter().map(|r| r.check).collect();
        let summary = match (self.checked.len(), self.not_checked.len()) {
            (0, 0) => format!(
                "no signature found beside it (looked for {})",
                self.looked_for
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (0, _) => "no signature found that this key can check".to_owned(),
            (n, _) => format!(
                "{n} {} checked ({}), {} failed",
                if n == 1 { "signature" } else { "signatures" },
                checks.join(", "),
                self.checked.iter().filter(|r| !r.ok).count()
            ),
        };
        let not_checked = match self.not_checked.len() {
            0 => String::new(),
            1 => "; 1 not checked".to_owned(),
            n => format!("; {n} not checked"),
        };
        let _ = writeln!(out, "{path}: {verdict}: {summary}{not_checked}");
        out
    }
}

/// Every place a signature of `data` may sit, with its kind, in the order they are checked.
pub fn candidates(data: &Path) -> Vec<Found> {
    let detached = [
        (OPENPGP_SIGNATURE_EXTENSION, SignatureKind::OpenPgpFile),
        (
            OPENPGP_BINARY_SIGNATURE_EXTENSION,
            SignatureKind::OpenPgpFile,
        ),
        (MINISIGN_SIGNATURE_EXTENSION, SignatureKind::MinisignFile),
    ];
    detached
        .into_iter()
        .map(|(extension, kind)| Found {
            kind,
            path: signature_path(data, extension),
        })
        .chain([
            Found {
                kind: SignatureKind::NativeRecords,
                path: native::manifest_path(data),
            },
            Found {
                kind: SignatureKind::CompatibleRecords,
                path: compatible::sidecar_path(data),
            },
        ])
        .collect()
}

/// The signatures of `data` that exist (see [`candidates`]).
pub fn find(data: &Path) -> Vec<Found> {
    candidates(data)
        .into_iter()
        .filter(|f| oembeddings::input::exists(&f.path))
        .collect()
}

/// Verifies every signature beside `data` that `key` can check; `options` apply to record
/// signatures (their profile, sidecar and manifest are those found here).
///
/// Fails only when a check cannot run at all (a data file that is missing or unreadable, a
/// malformed signature file); a missing or failing signature is in the report.
pub fn verify_found(
    data: &Path,
    key: &PublicKey,
    mut options: RecordVerifyOptions,
) -> Result<DiscoveryReport, SignError> {
    // Data that is not there (or is no regular file) is unusable input, not a file without
    // signatures.
    oembeddings::blob::Blob::open(data).map_err(|source| SignError::Io {
        path: data.to_path_buf(),
        source,
    })?;
    let looked_for: Vec<PathBuf> = candidates(data).into_iter().map(|f| f.path).collect();
    let mut checked = Vec::new();
    let mut not_checked = Vec::new();
    for found in find(data) {
        if !found.kind.checked_by(key) {
            not_checked.push(NotChecked {
                reason: format!(
                    "needs {}; this is an {} key",
                    found.kind.needs(),
                    key.algorithm()
                ),
                found,
            });
            continue;
        }
        let report = match found.kind {
            SignatureKind::OpenPgpFile | SignatureKind::MinisignFile => {
                verify_file(data, key, Some(&found.path))?
            }
            SignatureKind::NativeRecords => {
                // The manifest's signature must be of the key's kind (`.asc` or `.minisig`).
                let signed = key
                    .signature_extensions()
                    .iter()
                    .any(|e| oembeddings::input::exists(signature_path(&found.path, e)));
                if !signed {
                    not_checked.push(NotChecked {
                        reason: format!(
                            "its signature is not of this key's kind (looked for {})",
                            key.signature_extensions()
                                .iter()
                                .map(|e| signature_path(&found.path, e).display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        found,
                    });
                    continue;
                }
                let mut native = records_options(&mut options, Profile::Native);
                native.manifest = Some(found.path.clone());
                verify_records(data, key, &native)?
            }
            SignatureKind::CompatibleRecords => {
                let mut compatible = records_options(&mut options, Profile::Compatible);
                compatible.sidecar = Some(found.path.clone());
                verify_records(data, key, &compatible)?
            }
        };
        checked.push(report);
    }
    let ok = !checked.is_empty() && checked.iter().all(|r| r.ok);
    Ok(DiscoveryReport {
        path: data.to_path_buf(),
        ok,
        checked,
        not_checked,
        looked_for,
    })
}

/// `options` for one record profile. The identity policy (X.509, compatible profile only)
/// moves into the options of the one compatible sidecar checked.
fn records_options(options: &mut RecordVerifyOptions, profile: Profile) -> RecordVerifyOptions {
    RecordVerifyOptions {
        profile: Some(profile),
        sidecar: None,
        manifest: None,
        allow_missing: options.allow_missing,
        allow_rewritten: options.allow_rewritten,
        identity: if profile == Profile::Compatible {
            std::mem::take(&mut options.identity)
        } else {
            crate::x509::IdentityPolicy::default()
        },
        accept_carried_attributes: options.accept_carried_attributes,
        trust_server_digest: options.trust_server_digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_cover_every_kind_beside_the_file() {
        let found = candidates(Path::new("dir/sfomuseum-512-clip-20260101.parquet"));
        let paths: Vec<String> = found.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "dir/sfomuseum-512-clip-20260101.parquet.asc",
                "dir/sfomuseum-512-clip-20260101.parquet.sig",
                "dir/sfomuseum-512-clip-20260101.parquet.minisig",
                "dir/sfomuseum-512-clip-20260101.manifest.json",
                "dir/sfomuseum-512-clip-20260101-signatures.parquet",
            ]
        );
    }
}
