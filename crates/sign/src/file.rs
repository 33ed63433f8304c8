//! Detached signatures of whole files: `FILE.asc` (armored OpenPGP) that `gpg --verify` and
//! `sqv` accept, or `FILE.minisig` (minisign's prehashed format) that `minisign -V` accepts.

use std::io::{BufReader, ErrorKind};
use std::path::{Path, PathBuf};

use oembeddings::input::{limits, open_regular, read_capped};

use crate::error::SignError;
use crate::keys::{PublicKey, SecretKey};
use crate::report::{ProblemKind, VerifyReport};

/// The signature file next to `path` for `extension` (`.asc`, `.sig`, `.minisig`).
pub fn signature_path(path: &Path, extension: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(extension);
    PathBuf::from(s)
}

/// The trusted comment minisign itself writes: `timestamp:<unix>\tfile:<name>\thashed`.
pub(crate) fn trusted_comment(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    format!("timestamp:{now}\tfile:{name}\thashed")
}

/// Signs `path`, writing `path.asc` or `path.minisig` (by key type) atomically.
pub fn sign_file(path: &Path, key: &SecretKey) -> Result<PathBuf, SignError> {
    key.require_not_x509("a detached file signature")?;
    let out = signature_path(path, key.signature_extension());
    oembeddings::atomic::check_target(&out).map_err(SignError::io(&out))?;
    let file = open_regular(path).map_err(SignError::io(path))?;
    let signature = key.sign_detached(
        &mut BufReader::with_capacity(1 << 20, file),
        path,
        &trusted_comment(path),
    )?;
    crate::write_atomically(&out, &signature)?;
    Ok(out)
}

/// Reads a detached signature file: a regular file of at most [`limits::SIGNATURE_FILE`].
pub(crate) fn read_signature_file(path: &Path) -> std::io::Result<Vec<u8>> {
    read_capped(path, limits::SIGNATURE_FILE)
}

/// Reads the detached signature next to `path` for `key`'s kind (`.minisig`, or `.asc` then
/// `.sig`); the error says which files were looked for, or why the one found is unusable.
pub(crate) fn read_signature(path: &Path, key: &PublicKey) -> Result<Vec<u8>, String> {
    for extension in key.signature_extensions() {
        let candidate = signature_path(path, extension);
        match read_signature_file(&candidate) {
            Ok(bytes) => return Ok(bytes),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", candidate.display())),
        }
    }
    let looked: Vec<String> = key
        .signature_extensions()
        .iter()
        .map(|e| signature_path(path, e).display().to_string())
        .collect();
    Err(format!(
        "no signature for an {} key: {} not found",
        key.algorithm(),
        looked.join(" or ")
    ))
}

/// Verifies a detached signature of `path` by `key`. Without `signature`, looks for
/// `path.minisig` (Ed25519 keys) or `path.asc`, then `path.sig` (OpenPGP keys).
pub fn verify_file(
    path: &Path,
    key: &PublicKey,
    signature: Option<&Path>,
) -> Result<VerifyReport, SignError> {
    key.require_not_x509("verifying a detached file signature")?;
    let mut report = VerifyReport::new(path, "file");
    let signature_file = match signature {
        Some(s) => s.to_path_buf(),
        None => key
            .signature_extensions()
            .iter()
            .map(|e| signature_path(path, e))
            .find(|p| oembeddings::input::exists(p))
            .unwrap_or_else(|| signature_path(path, key.signature_extension())),
    };
    let signature_bytes = match read_signature_file(&signature_file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() != ErrorKind::NotFound => {
            return Err(SignError::Io {
                path: signature_file,
                source: e,
            });
        }
        Err(e) => {
            report.problem(
                ProblemKind::Missing,
                None,
                Some(signature_file.display().to_string()),
                format!("no signature: {e}"),
            );
            report.conclude(false, false);
            return Ok(report);
        }
    };
    let file = oembeddings::input::open_stream(path).map_err(SignError::io(path))?;
    match key.verify_detached(BufReader::with_capacity(1 << 20, file), &signature_bytes) {
        Ok(signer) => {
            if let Some(comment) = &signer.trusted_comment {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if let Some(signed_name) = comment
                    .split('\t')
                    .find_map(|part| part.strip_prefix("file:"))
                    .filter(|n| *n != name)
                {
                    report.notes.push(format!("the trusted comment names file {signed_name:?}; the content is what was signed"));
                }
            }
            report.valid = 1;
            report.signer = Some(signer);
            report.conclude(false, true);
        }
        Err(reason) => {
            report.problem(
                ProblemKind::Invalid,
                None,
                Some(signature_file.display().to_string()),
                reason,
            );
            report.conclude(false, false);
        }
    }
    Ok(report)
}
