//! Signed manifests: what a native record signature set, or a whole release, covers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SignError;
use crate::keys::PublicKey;
use crate::report::{ProblemKind, VerifyReport};

/// `format` of a record manifest.
pub const RECORDS_FORMAT: &str = "oembeddings.records-manifest.v1";
/// `format` of a release manifest.
pub const RELEASE_FORMAT: &str = "oembeddings.release-manifest.v1";

/// A file as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name (relative path inside a release directory, `/`-separated).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Number of records, for record files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Root over the file's record digests in order (see `spec/signatures.md`), for record
    /// files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_root: Option<String>,
}

/// The record signatures of one data file (native profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsSection {
    /// Record digest algorithm: `oembeddings.record.v1` (SHA-256).
    pub digest: String,
    /// Record signature algorithm: `ed25519` or `openpgp`.
    pub signature: String,
    /// The sidecar holding the record signatures.
    pub sidecar: FileEntry,
}

/// A record manifest: binds a data file (name, size, SHA-256, rows, record-digest root) to
/// its sidecar of record signatures. Signed as a whole, detached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsManifest {
    /// [`RECORDS_FORMAT`].
    pub format: String,
    /// The data file.
    pub file: FileEntry,
    /// Its record signatures.
    pub records: RecordsSection,
    /// The signing key: OpenPGP fingerprint or minisign key id.
    pub key: String,
    /// When it was signed (RFC 3339, UTC).
    pub created: String,
}

/// A release manifest: every file of a release directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseManifest {
    /// [`RELEASE_FORMAT`].
    pub format: String,
    /// The files, sorted by name.
    pub files: Vec<FileEntry>,
    /// The signing key: OpenPGP fingerprint or minisign key id.
    pub key: String,
    /// When it was signed (RFC 3339, UTC).
    pub created: String,
}

/// Reads the manifest `file` (a regular file of at most `limit`), checks its detached
/// signature against `key`, and only then parses it, checking its format tag.
///
/// A manifest whose signature does not verify is not parsed: its bytes are not what the key
/// signed, so nothing in them is trusted, and what `report` says is that its signature
/// failed (`None` is returned) rather than whatever a parser would make of the changed
/// bytes.
pub(crate) fn read_verified<T: for<'de> Deserialize<'de>>(
    report: &mut VerifyReport,
    file: &Path,
    limit: oembeddings::input::Limit,
    key: &PublicKey,
    format: &str,
) -> Result<Option<T>, SignError> {
    let bytes = oembeddings::input::read_capped(file, limit).map_err(SignError::io(file))?;
    if !check_signature(report, file, &bytes, key) {
        return Ok(None);
    }
    parse(file, &bytes, format).map(Some)
}

/// Checks the detached signature of the manifest `file`, whose bytes are `bytes`, against
/// `key`: records the signer in `report`, or the reason as a problem naming the manifest.
/// Returns whether the manifest is anchored to the key; a report whose manifest is not can
/// never conclude valid.
pub(crate) fn check_signature(
    report: &mut VerifyReport,
    file: &Path,
    bytes: &[u8],
    key: &PublicKey,
) -> bool {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reason = match crate::file::read_signature(file, key) {
        Err(reason) => reason,
        Ok(signature) => match key.verify_detached(bytes, &signature) {
            Ok(signer) => {
                report.signer = Some(signer);
                return true;
            }
            Err(reason) => format!("manifest signature: {reason}"),
        },
    };
    report.problem(ProblemKind::Invalid, None, Some(name), reason);
    false
}

/// Pretty JSON with a trailing newline: what is written and signed.
pub(crate) fn to_bytes<T: Serialize>(manifest: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(manifest).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Parses a manifest, checking its format tag.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(
    path: &Path,
    bytes: &[u8],
    format: &str,
) -> Result<T, SignError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| SignError::manifest(path, e.to_string()))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(f) if f == format => {}
        Some(f) => {
            return Err(SignError::manifest(
                path,
                format!("format is {f:?}, expected {format:?}"),
            ));
        }
        None => return Err(SignError::manifest(path, "no format field")),
    }
    serde_json::from_value(value).map_err(|e| SignError::manifest(path, e.to_string()))
}

/// Size and SHA-256 (hex) of a file, streamed.
pub(crate) fn hash_file(path: &Path) -> Result<(u64, String), SignError> {
    let digest = crate::FileDigest::of_file(path).map_err(SignError::io(path))?;
    Ok((digest.size, digest.sha256_hex()))
}

/// The current time as RFC 3339 UTC, seconds.
pub(crate) fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `dir/name` for a `/`-separated manifest name.
pub(crate) fn join(dir: &Path, name: &str) -> PathBuf {
    name.split('/')
        .fold(dir.to_path_buf(), |p, part| p.join(part))
}
