//! Keys, and signatures of files, records and releases.

use std::io::Write;
use std::path::{Path, PathBuf};

use oembeddings::atomic::AtomicFile;
use oembeddings_sign::{
    Profile, PublicKey, RecordVerifyOptions, SecretKey, compatible, file, keys, native, release,
};
use pyo3::prelude::*;
use serde_json::json;

use crate::{named, signature_error, to_json};

fn write_key(path: &Path, bytes: &[u8], private: bool, overwrite: bool) -> PyResult<()> {
    if !overwrite && path.exists() {
        return Err(signature_error(format!(
            "{}: exists; pass overwrite=True to replace it",
            path.display()
        )));
    }
    let io = |e: std::io::Error| signature_error(format!("{}: {e}", path.display()));
    let out = if private {
        AtomicFile::create_private(path)
    } else {
        AtomicFile::create(path)
    }
    .map_err(io)?;
    out.file().write_all(bytes).map_err(io)?;
    out.commit().map_err(io)
}

/// Generates a key pair: `path` (secret, mode 0600) and `path.pub`; returns a JSON
/// description of the key.
#[pyfunction]
#[pyo3(signature = (path, *, kind = "ed25519", userid = None, password = None, overwrite = false))]
fn keygen(
    py: Python<'_>,
    path: PathBuf,
    kind: &str,
    userid: Option<&str>,
    password: Option<&str>,
    overwrite: bool,
) -> PyResult<String> {
    let (secret, public) = py
        .detach(|| match kind {
            "openpgp" => keys::generate_openpgp(userid.unwrap_or_default(), password),
            "ed25519" => {
                keys::generate_ed25519(password).map(|(s, p)| (s.into_bytes(), p.into_bytes()))
            }
            other => Err(oembeddings_sign::SignError::Unsupported(format!(
                "key kind {other:?}: expected \"ed25519\" or \"openpgp\""
            ))),
        })
        .map_err(signature_error)?;
    let public_path = {
        let mut s = path.as_os_str().to_owned();
        s.push(".pub");
        PathBuf::from(s)
    };
    write_key(&path, &secret, true, overwrite)?;
    write_key(&public_path, &public, false, overwrite)?;
    let description = keys::describe(&public_path).map_err(signature_error)?;
    to_json(&json!({
        "secret": path,
        "public": public_path,
        "algorithm": description.algorithm,
        "id": description.id,
    }))
}

/// Describes a key file (JSON).
#[pyfunction]
fn key_info(path: PathBuf) -> PyResult<String> {
    to_json(&keys::describe(&path).map_err(signature_error)?)
}

pub(crate) fn secret_key(
    path: &Path,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> PyResult<SecretKey> {
    SecretKey::load(path, password, fingerprint).map_err(signature_error)
}

pub(crate) fn public_key(path: &Path, fingerprint: Option<&str>) -> PyResult<PublicKey> {
    PublicKey::load(path, fingerprint).map_err(signature_error)
}

/// Writes a detached signature next to the file; returns its path.
#[pyfunction]
#[pyo3(signature = (path, key, *, password = None, fingerprint = None))]
fn sign_file(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> PyResult<PathBuf> {
    let key = secret_key(&key, password, fingerprint)?;
    py.detach(|| file::sign_file(&path, &key))
        .map_err(signature_error)
}

/// Verifies a file's detached signature; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (path, key, *, signature = None, fingerprint = None))]
fn verify_file(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    signature: Option<PathBuf>,
    fingerprint: Option<&str>,
) -> PyResult<String> {
    let key = public_key(&key, fingerprint)?;
    let report = py
        .detach(|| file::verify_file(&path, &key, signature.as_deref()))
        .map_err(signature_error)?;
    to_json(&report)
}

/// Signs every record; returns what was written as JSON.
#[pyfunction]
#[pyo3(signature = (path, key, *, profile = "native", password = None, fingerprint = None))]
fn sign_records(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    profile: &str,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> PyResult<String> {
    let profile = named::<Profile>("profile", profile)?;
    let key = secret_key(&key, password, fingerprint)?;
    match profile {
        Profile::Native => {
            let signed = py
                .detach(|| native::sign_records(&path, &key))
                .map_err(signature_error)?;
            to_json(&json!({
                "profile": "native",
                "records": signed.records,
                "sidecar": signed.sidecar,
                "manifest": signed.manifest,
                "manifest_signature": signed.manifest_signature,
            }))
        }
        Profile::Compatible => {
            let signed = py
                .detach(|| compatible::sign_records(&path, &key))
                .map_err(signature_error)?;
            to_json(&json!({
                "profile": "compatible",
                "records": signed.records,
                "sidecar": signed.sidecar,
                "public_key": signed.public_key,
            }))
        }
        other => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "profile {other}: cannot sign records"
        ))),
    }
}

/// Verifies every record against its signatures; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (
    path, key, *, sidecar = None, profile = None, manifest = None, allow_missing = false,
    allow_rewritten = false, fingerprint = None
))]
#[allow(clippy::too_many_arguments)]
fn verify_records(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    sidecar: Option<PathBuf>,
    profile: Option<&str>,
    manifest: Option<PathBuf>,
    allow_missing: bool,
    allow_rewritten: bool,
    fingerprint: Option<&str>,
) -> PyResult<String> {
    let key = public_key(&key, fingerprint)?;
    let mut options = RecordVerifyOptions::default();
    options.profile = profile
        .map(|p| named::<Profile>("profile", p))
        .transpose()?;
    options.sidecar = sidecar;
    options.manifest = manifest;
    options.allow_missing = allow_missing;
    options.allow_rewritten = allow_rewritten;
    let report = py
        .detach(|| oembeddings_sign::verify_records(&path, &key, &options))
        .map_err(signature_error)?;
    to_json(&report)
}

/// Signs a release directory; returns what was written as JSON.
#[pyfunction]
#[pyo3(signature = (directory, key, *, password = None, fingerprint = None))]
fn sign_release(
    py: Python<'_>,
    directory: PathBuf,
    key: PathBuf,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> PyResult<String> {
    let key = secret_key(&key, password, fingerprint)?;
    let signed = py
        .detach(|| release::sign_release(&directory, &key))
        .map_err(signature_error)?;
    to_json(&json!({
        "manifest": signed.manifest,
        "signature": signed.signature,
        "files": signed.files,
    }))
}

/// Verifies a release directory; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (directory, key, *, fingerprint = None))]
fn verify_release(
    py: Python<'_>,
    directory: PathBuf,
    key: PathBuf,
    fingerprint: Option<&str>,
) -> PyResult<String> {
    let key = public_key(&key, fingerprint)?;
    let report = py
        .detach(|| release::verify_release(&directory, &key))
        .map_err(signature_error)?;
    to_json(&report)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(keygen, m)?)?;
    m.add_function(wrap_pyfunction!(key_info, m)?)?;
    m.add_function(wrap_pyfunction!(sign_file, m)?)?;
    m.add_function(wrap_pyfunction!(verify_file, m)?)?;
    m.add_function(wrap_pyfunction!(sign_records, m)?)?;
    m.add_function(wrap_pyfunction!(verify_records, m)?)?;
    m.add_function(wrap_pyfunction!(sign_release, m)?)?;
    m.add_function(wrap_pyfunction!(verify_release, m)?)?;
    Ok(())
}
