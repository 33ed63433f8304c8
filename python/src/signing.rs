//! Keys, and signatures of files, records and releases.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use oembeddings_sign::key_pair::write_key_pair;
use oembeddings_sign::keys::KeyKind;
use oembeddings_sign::x509::{self, Crls, IdentityPolicy, TrustAnchors};
use oembeddings_sign::{
    Profile, PublicKey, RecordVerifyOptions, SecretKey, SignError, compatible, file, keys, native,
    release,
};
use pyo3::prelude::*;
use serde_json::json;

use crate::errors::Error;
use crate::named;
use crate::results::{DiscoveryReport, KeyInfo, PlainData, VerifyReport};

/// Generates a key pair: `path` (secret, mode 0600) and `path.pub`; returns the key and its
/// files.
#[pyfunction]
#[pyo3(signature = (path, *, kind = "ed25519", userid = None, password = None, overwrite = false))]
fn keygen(
    py: Python<'_>,
    path: PathBuf,
    kind: &str,
    userid: Option<&str>,
    password: Option<&str>,
    overwrite: bool,
) -> Result<KeyInfo, Error> {
    let kind = named::<KeyKind>("kind", kind)?;
    let (secret, public) =
        py.detach(|| keys::generate(kind, userid.unwrap_or_default(), password))?;
    let files = write_key_pair(&path, &secret, &public, overwrite).map_err(|e| match &e {
        SignError::Io { source, .. } if source.kind() == ErrorKind::AlreadyExists => {
            Error::from(e).hint("pass overwrite=True to replace it")
        }
        _ => e.into(),
    })?;
    Ok(KeyInfo::generated(keys::describe(&files.public)?, &files))
}

/// Describes a key file.
#[pyfunction]
fn key_info(path: PathBuf) -> Result<KeyInfo, Error> {
    KeyInfo::described(keys::describe(&path)?)
}

pub(crate) fn secret_key(
    path: &Path,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> Result<SecretKey, Error> {
    Ok(SecretKey::load(path, password, fingerprint)?)
}

pub(crate) fn public_key(path: &Path, fingerprint: Option<&str>) -> Result<PublicKey, Error> {
    Ok(PublicKey::load(path, fingerprint)?)
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
) -> Result<PathBuf, Error> {
    let key = secret_key(&key, password, fingerprint)?;
    Ok(py.detach(|| file::sign_file(&path, &key))?)
}

/// Verifies a file's detached signature; returns the report.
#[pyfunction]
#[pyo3(signature = (path, key, *, signature = None, fingerprint = None, storage_options = None))]
fn verify_file(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    signature: Option<PathBuf>,
    fingerprint: Option<&str>,
    storage_options: Option<std::collections::BTreeMap<String, String>>,
) -> Result<VerifyReport, Error> {
    let _run = crate::remote::run(py, storage_options, &[&path]);
    let key = public_key(&key, fingerprint)?;
    let report = py.detach(|| file::verify_file(&path, &key, signature.as_deref()))?;
    VerifyReport::from_report(py, report)
}

/// Signs every record; returns what was written.
#[pyfunction]
#[pyo3(signature = (
    path, key, *, profile = "native", password = None, fingerprint = None, certificate = None,
    embed_public_key = false
))]
#[allow(clippy::too_many_arguments)]
fn sign_records(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    profile: &str,
    password: Option<&str>,
    fingerprint: Option<&str>,
    certificate: Option<PathBuf>,
    embed_public_key: bool,
) -> Result<PlainData, Error> {
    let profile = named::<Profile>("profile", profile)?;
    let key = match &certificate {
        Some(certificate) => SecretKey::load_x509(certificate, &key)?,
        None => secret_key(&key, password, fingerprint)?,
    };
    match profile {
        Profile::Native => {
            let signed = py.detach(|| native::sign_records(&path, &key))?;
            PlainData::of(&json!({
                "profile": "native",
                "records": signed.records,
                "sidecar": signed.sidecar,
                "manifest": signed.manifest,
                "manifest_signature": signed.manifest_signature,
            }))
        }
        Profile::Compatible => {
            let mut options = compatible::CompatibleSignOptions::default();
            options.embed_public_key = embed_public_key;
            let signed = py.detach(|| compatible::sign_records_with(&path, &key, &options))?;
            PlainData::of(&json!({
                "profile": "compatible",
                "records": signed.records,
                "sidecar": signed.sidecar,
                "public_key": signed.public_key,
            }))
        }
        other => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "profile {other}: cannot sign records"
        ))
        .into()),
    }
}

/// Verifies every record against its signatures; returns the report.
#[pyfunction]
#[pyo3(signature = (
    path, key, *, sidecar = None, profile = None, manifest = None, allow_missing = false,
    allow_rewritten = false, fingerprint = None, ca = None, webpki_roots = false, identity = None,
    at = None, crl = Vec::new(), accept_carried_attributes = false, trust_server_digest = false,
    storage_options = None
))]
#[allow(clippy::too_many_arguments)]
fn verify_records(
    py: Python<'_>,
    path: PathBuf,
    key: Option<PathBuf>,
    sidecar: Option<PathBuf>,
    profile: Option<&str>,
    manifest: Option<PathBuf>,
    allow_missing: bool,
    allow_rewritten: bool,
    fingerprint: Option<&str>,
    ca: Option<PathBuf>,
    webpki_roots: bool,
    identity: Option<String>,
    at: Option<&str>,
    crl: Vec<PathBuf>,
    accept_carried_attributes: bool,
    trust_server_digest: bool,
    storage_options: Option<std::collections::BTreeMap<String, String>>,
) -> Result<VerifyReport, Error> {
    let _run = crate::remote::run(py, storage_options, &[&path]);
    let Some(key) = key else {
        return Err(compatible::refuse_without_key(&path, sidecar.as_deref()).into());
    };
    let key = public_key(&key, fingerprint)?;
    let mut options = record_options(
        allow_missing,
        allow_rewritten,
        accept_carried_attributes,
        trust_server_digest,
        identity_policy(ca, webpki_roots, identity, at, &crl)?,
    );
    options.profile = profile
        .map(|p| named::<Profile>("profile", p))
        .transpose()?;
    options.sidecar = sidecar;
    options.manifest = manifest;
    let outcome = py.detach(|| oembeddings_sign::verify_records(&path, &key, &options));
    reported(py, &path, "records", outcome)
}

/// Verifies every signature found beside the file that the key can check; returns what was
/// found and checked.
#[pyfunction]
#[pyo3(signature = (
    path, key, *, fingerprint = None, allow_missing = false, allow_rewritten = false, ca = None,
    webpki_roots = false, identity = None, at = None, crl = Vec::new(),
    accept_carried_attributes = false, trust_server_digest = false, storage_options = None
))]
#[allow(clippy::too_many_arguments)]
fn verify(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    fingerprint: Option<&str>,
    allow_missing: bool,
    allow_rewritten: bool,
    ca: Option<PathBuf>,
    webpki_roots: bool,
    identity: Option<String>,
    at: Option<&str>,
    crl: Vec<PathBuf>,
    accept_carried_attributes: bool,
    trust_server_digest: bool,
    storage_options: Option<std::collections::BTreeMap<String, String>>,
) -> Result<DiscoveryReport, Error> {
    let _run = crate::remote::run(py, storage_options, &[&path]);
    let key = public_key(&key, fingerprint)?;
    let options = record_options(
        allow_missing,
        allow_rewritten,
        accept_carried_attributes,
        trust_server_digest,
        identity_policy(ca, webpki_roots, identity, at, &crl)?,
    );
    let report = py.detach(|| oembeddings_sign::discover::verify_found(&path, &key, options))?;
    DiscoveryReport::from_report(py, report)
}

/// The record verification options `verify` and `verify_records` both take.
fn record_options(
    allow_missing: bool,
    allow_rewritten: bool,
    accept_carried_attributes: bool,
    trust_server_digest: bool,
    identity: IdentityPolicy,
) -> RecordVerifyOptions {
    let mut options = RecordVerifyOptions::default();
    options.allow_missing = allow_missing;
    options.allow_rewritten = allow_rewritten;
    options.accept_carried_attributes = accept_carried_attributes;
    options.trust_server_digest = trust_server_digest;
    options.identity = identity;
    options
}

/// A verification's report; or, when it stopped before it began for want of a signature, the
/// report naming what is missing (see [`oembeddings_sign::VerifyReport::from_missing_signature`]).
fn reported(
    py: Python<'_>,
    data: &Path,
    unverified_check: &'static str,
    outcome: Result<oembeddings_sign::VerifyReport, SignError>,
) -> Result<VerifyReport, Error> {
    let report = outcome.or_else(|e| {
        oembeddings_sign::VerifyReport::from_missing_signature(data, unverified_check, e)
    })?;
    VerifyReport::from_report(py, report)
}

/// Signs a release directory; returns what was written.
#[pyfunction]
#[pyo3(signature = (directory, key, *, password = None, fingerprint = None))]
fn sign_release(
    py: Python<'_>,
    directory: PathBuf,
    key: PathBuf,
    password: Option<&str>,
    fingerprint: Option<&str>,
) -> Result<PlainData, Error> {
    let key = secret_key(&key, password, fingerprint)?;
    let signed = py.detach(|| release::sign_release(&directory, &key))?;
    PlainData::of(&json!({
        "manifest": signed.manifest,
        "signature": signed.signature,
        "files": signed.files,
    }))
}

/// Verifies a release directory; returns the report.
#[pyfunction]
#[pyo3(signature = (directory, key, *, fingerprint = None))]
fn verify_release(
    py: Python<'_>,
    directory: PathBuf,
    key: PathBuf,
    fingerprint: Option<&str>,
) -> Result<VerifyReport, Error> {
    let key = public_key(&key, fingerprint)?;
    let outcome = py.detach(|| release::verify_release(&directory, &key));
    reported(py, &directory, "release", outcome)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(keygen, m)?)?;
    m.add_function(wrap_pyfunction!(key_info, m)?)?;
    m.add_function(wrap_pyfunction!(sign_file, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(verify_file, m)?)?;
    m.add_function(wrap_pyfunction!(sign_records, m)?)?;
    m.add_function(wrap_pyfunction!(verify_records, m)?)?;
    m.add_function(wrap_pyfunction!(sign_release, m)?)?;
    m.add_function(wrap_pyfunction!(verify_release, m)?)?;
    Ok(())
}

/// The identity checks of an X.509 signer asked for (see `oembeddings verify --help`).
fn identity_policy(
    ca: Option<PathBuf>,
    webpki_roots: bool,
    identity: Option<String>,
    at: Option<&str>,
    crl: &[PathBuf],
) -> Result<IdentityPolicy, Error> {
    let mut policy = IdentityPolicy::default();
    match (ca, webpki_roots) {
        (Some(_), true) => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "give ca or webpki_roots, not both",
            )
            .into());
        }
        (Some(ca), false) => {
            policy.anchors = Some(TrustAnchors::from_file(&ca)?);
        }
        (None, true) => policy.anchors = Some(TrustAnchors::webpki_roots()),
        (None, false) => {}
    }
    policy.dns_name = identity;
    for path in crl {
        let crls = Crls::from_file(path)?;
        match &mut policy.crls {
            Some(all) => all.extend(crls),
            None => policy.crls = Some(crls),
        }
    }
    if let Some(at) = at {
        policy.at = Some(
            x509::identity::parse_time(at)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("at: {e}")))?,
        );
    }
    Ok(policy)
}
