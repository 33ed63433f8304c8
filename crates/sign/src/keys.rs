//! Keys of each kind (OpenPGP certificates, minisign Ed25519 keys, X.509 certificates):
//! generating, loading, describing, and the signing and verification operations the profiles
//! build on. X.509 certificates sign and verify record signatures of the compatible profile
//! only (go-embeddingsdb's `tls://` and `acm://` signers).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use oembeddings::input::{limits, read_capped};
use oembeddings::pipeline::{cores, parallel_map};

use crate::backend::ed25519;
use crate::backend::minisign;
use crate::backend::openpgp::{self, OpenPgpCert as Cert};
use crate::backend::x509::{self, CertificateChain, RecordVerifier, X509SecretKey};
use crate::error::SignError;
use crate::report::Signer as SignerInfo;

/// Extension of the detached signatures an OpenPGP key writes (armored).
pub const OPENPGP_SIGNATURE_EXTENSION: &str = ".asc";
/// Another extension of detached OpenPGP signatures, binary ones (`gpg --detach-sign`),
/// which verification also looks for.
pub const OPENPGP_BINARY_SIGNATURE_EXTENSION: &str = ".sig";
/// Extension of the detached signatures an Ed25519 key writes (minisign's format).
pub const MINISIGN_SIGNATURE_EXTENSION: &str = ".minisig";
/// The extensions of every detached signature this crate writes.
pub const WRITTEN_SIGNATURE_EXTENSIONS: [&str; 2] =
    [OPENPGP_SIGNATURE_EXTENSION, MINISIGN_SIGNATURE_EXTENSION];

/// A key that signs.
#[derive(Debug)]
#[non_exhaustive]
pub enum SecretKey {
    /// An OpenPGP certificate with secret signing material, unlocked.
    OpenPgp {
        /// The certificate.
        cert: Box<Cert>,
        /// Its unlocked signing key.
        signer: Box<openpgp::Signer>,
    },
    /// A minisign Ed25519 secret key.
    Ed25519(Box<minisign::SecretKey>),
    /// An X.509 certificate with its private key (compatible profile only).
    X509(Box<X509SecretKey>),
}

/// A key that verifies: the one key the user trusts for this verification.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PublicKey {
    /// An OpenPGP certificate.
    OpenPgp(Box<Cert>),
    /// A minisign Ed25519 public key.
    Ed25519(minisign::PublicKey),
    /// An X.509 certificate, leaf first with the chain that issued it (compatible profile).
    X509(Arc<X509PublicKey>),
}

/// An X.509 certificate chain and the verifier of its leaf's key.
#[derive(Debug)]
pub struct X509PublicKey {
    /// The chain, leaf first.
    pub chain: CertificateChain,
    verifier: RecordVerifier,
}

impl X509PublicKey {
    /// Parses a PEM chain (leaf first).
    pub fn from_pem(text: &[u8]) -> Result<Self, x509::X509Error> {
        let chain = CertificateChain::from_pem(text)?;
        let verifier = RecordVerifier::new(&chain)?;
        Ok(Self { chain, verifier })
    }

    /// The record signature verifier.
    pub fn verifier(&self) -> &RecordVerifier {
        &self.verifier
    }
}

/// The name of X.509 keys in messages and reports.
pub const X509: &str = "x509";

/// Whether a key file is an X.509 certificate (PEM).
fn is_certificate(bytes: &[u8]) -> bool {
    x509::pem::label(bytes) == Some(x509::pem::CERTIFICATE)
}

/// Whether a key file is a PEM private key of the kinds X.509 signers use.
fn is_pem_private_key(bytes: &[u8]) -> bool {
    matches!(
        x509::pem::label(bytes),
        Some("PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY")
    )
}

/// What `oembeddings key show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct KeyDescription {
    /// `openpgp`, `ed25519` or `x509`.
    pub algorithm: &'static str,
    /// OpenPGP primary fingerprint, minisign key id, or X.509 SHA-256 fingerprint.
    pub id: String,
    /// OpenPGP long key id of the primary key.
    pub key_id: Option<String>,
    /// OpenPGP user ids.
    pub user_ids: Vec<String>,
    /// Creation time (RFC 3339), OpenPGP.
    pub created: Option<String>,
    /// Expiry (RFC 3339), OpenPGP, when set.
    pub expires: Option<String>,
    /// Whether the certificate is revoked.
    pub revoked: bool,
    /// Fingerprints of the keys valid for signing now, OpenPGP.
    pub signing_keys: Vec<String>,
    /// Whether the file holds secret key material.
    pub secret: bool,
    /// Whether that material is password-protected.
    pub encrypted: bool,
}

/// A key file's bytes: a regular file of at most [`limits::KEY_FILE`].
fn read_text(path: &Path) -> Result<Vec<u8>, SignError> {
    read_capped(path, limits::KEY_FILE).map_err(SignError::io(path))
}

fn is_minisign(bytes: &[u8]) -> bool {
    bytes.starts_with(minisign::UNTRUSTED_COMMENT_PREFIX.as_bytes())
}

/// Warnings about a secret key file: readable by others.
pub fn secret_file_warnings(path: &Path) -> Vec<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return vec![format!(
                    "{}: secret key file is readable by others (mode {mode:o}); `chmod 600` it",
                    path.display()
                )];
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Vec::new()
}

impl SecretKey {
    /// Loads a secret key: an armored or binary OpenPGP TSK (one certificate, or the one
    /// `fingerprint` names), or a minisign secret key file. `password` unlocks protected keys.
    pub fn load(
        path: &Path,
        password: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<Self, SignError> {
        let bytes = read_text(path)?;
        if is_pem_private_key(&bytes) {
            return Err(SignError::key(
                path,
                "an X.509 private key: give its certificate too (--certificate)",
            ));
        }
        if is_minisign(&bytes) {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| SignError::key(path, "minisign key file is not UTF-8"))?;
            let key = minisign::SecretKey::from_file_text(text, password)
                .map_err(|e| SignError::key(path, e.to_string()))?;
            return Ok(SecretKey::Ed25519(Box::new(key)));
        }
        let certs = openpgp::load_certs(&bytes).map_err(|e| SignError::key(path, e.to_string()))?;
        let cert =
            openpgp::select(certs, fingerprint).map_err(|e| SignError::key(path, e.to_string()))?;
        let signer = openpgp::Signer::new(&cert, password)
            .map_err(|e| SignError::key(path, e.to_string()))?;
        Ok(SecretKey::OpenPgp {
            cert: Box::new(cert),
            signer: Box::new(signer),
        })
    }

    /// Loads an X.509 signer: the certificate (PEM, leaf first) and its private key (PEM:
    /// PKCS#8, PKCS#1 or SEC1, as go-embeddingsdb's `tls.LoadKeyFromPEM` reads them).
    pub fn load_x509(certificate: &Path, key: &Path) -> Result<Self, SignError> {
        let cert_bytes = read_text(certificate)?;
        let key_bytes = read_text(key)?;
        // Which file is at fault: the certificate parses alone, or the key is.
        CertificateChain::from_pem(&cert_bytes)
            .map_err(|e| SignError::key(certificate, e.to_string()))?;
        X509SecretKey::from_pem(&cert_bytes, &key_bytes)
            .map(|k| SecretKey::X509(Box::new(k)))
            .map_err(|e| SignError::key(key, e.to_string()))
    }

    /// `openpgp`, `ed25519` or `x509`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            SecretKey::OpenPgp { .. } => "openpgp",
            SecretKey::Ed25519(_) => "ed25519",
            SecretKey::X509(_) => X509,
        }
    }

    /// OpenPGP primary fingerprint, minisign key id, or the certificate's SHA-256 fingerprint.
    pub fn key_id(&self) -> String {
        match self {
            SecretKey::OpenPgp { signer, .. } => signer.cert_fingerprint().to_owned(),
            SecretKey::Ed25519(k) => k.key_id_hex(),
            SecretKey::X509(k) => k.chain().leaf().fingerprint(),
        }
    }

    /// Extension of detached signatures: `.asc` or `.minisig` (X.509 keys make none).
    pub fn signature_extension(&self) -> &'static str {
        match self {
            SecretKey::OpenPgp { .. } => OPENPGP_SIGNATURE_EXTENSION,
            SecretKey::Ed25519(_) | SecretKey::X509(_) => MINISIGN_SIGNATURE_EXTENSION,
        }
    }

    /// Refuses X.509 keys for what only OpenPGP and Ed25519 keys do (file, native and
    /// release signatures).
    pub(crate) fn require_not_x509(&self, operation: &'static str) -> Result<(), SignError> {
        if matches!(self, SecretKey::X509(_)) {
            return Err(SignError::WrongKeyKind {
                operation,
                needed: "openpgp or ed25519",
                given: X509,
            });
        }
        Ok(())
    }

    /// The public half, as a key file's text (armored certificate or minisign `.pub`).
    pub fn public_armored(&self) -> Result<String, SignError> {
        match self {
            SecretKey::OpenPgp { cert, .. } => {
                // ASCII armor: every byte is ASCII.
                let bytes = openpgp::armored_public(cert)?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            SecretKey::Ed25519(k) => Ok(k.public_key().to_file_text()),
            SecretKey::X509(k) => Ok(k.chain().leaf_pem()),
        }
    }

    /// A detached signature of a stream: armored OpenPGP, or a `.minisig` with
    /// `trusted_comment`. `name` is the file the stream reads, for errors.
    pub fn sign_detached(
        &self,
        reader: &mut dyn Read,
        name: &Path,
        trusted_comment: &str,
    ) -> Result<Vec<u8>, SignError> {
        match self {
            SecretKey::OpenPgp { signer, .. } => {
                signer.sign_reader(reader, true).map_err(|e| match e {
                    openpgp::Error::Io(source) => SignError::Io {
                        path: name.to_path_buf(),
                        source,
                    },
                    other => SignError::OpenPgp(other),
                })
            }
            SecretKey::Ed25519(k) => minisign::sign_prehashed(k, reader, trusted_comment, "")
                .map(String::into_bytes)
                .map_err(SignError::io(name)),
            SecretKey::X509(_) => Err(SignError::WrongKeyKind {
                operation: "a detached file signature",
                needed: "openpgp or ed25519",
                given: X509,
            }),
        }
    }

    /// Record signatures (native profile): raw 64-byte Ed25519, or binary OpenPGP packets.
    /// Uses every core.
    pub fn sign_record_messages(&self, messages: &[&[u8]]) -> Result<Vec<Vec<u8>>, SignError> {
        let signing = self.record_signing();
        let chunks: Vec<&[&[u8]]> = messages
            .chunks(messages.len().div_ceil(cores()).max(1))
            .collect();
        let mut out = Vec::with_capacity(messages.len());
        for part in parallel_map(&chunks, |chunk| signing.sign(chunk)) {
            out.extend(part?.iter().map(<[u8]>::to_vec));
        }
        Ok(out)
    }

    /// A signer of record messages on the calling thread, for signing records in the same
    /// pass that digests them.
    pub(crate) fn record_signing(&self) -> RecordSigning<'_> {
        match self {
            SecretKey::Ed25519(k) => {
                RecordSigning::Ed25519(Box::new(ed25519::RecordSigner::new(k.signing_key())))
            }
            SecretKey::OpenPgp { signer, .. } => RecordSigning::OpenPgp(signer),
            SecretKey::X509(k) => RecordSigning::X509(k),
        }
    }

    /// Record signatures of the compatible profile, as go-embeddingsdb writes them: armored
    /// OpenPGP signatures, or PEM `SIGNATURE` blocks for X.509 keys. Uses every core.
    pub fn sign_compatible_messages(&self, messages: &[&[u8]]) -> Result<Vec<Vec<u8>>, SignError> {
        match self {
            SecretKey::OpenPgp { .. } => Ok(self
                .sign_armored_messages(messages)?
                .into_iter()
                .map(String::into_bytes)
                .collect()),
            SecretKey::X509(k) => parallel_map(messages, |m| {
                k.sign(m)
                    .map(|s| x509::pem::encode_signature(&s).into_bytes())
                    .map_err(SignError::X509)
            })
            .into_iter()
            .collect(),
            SecretKey::Ed25519(_) => Err(SignError::WrongKeyKind {
                operation: "the compatible profile (go-embeddingsdb signs with OpenPGP or X.509 \
                            certificates; or sign with the native profile)",
                needed: "openpgp or x509",
                given: "ed25519",
            }),
        }
    }

    /// Armored OpenPGP record signatures (compatible profile). Uses every core.
    pub fn sign_armored_messages(&self, messages: &[&[u8]]) -> Result<Vec<String>, SignError> {
        if !matches!(self, SecretKey::OpenPgp { .. }) {
            return Err(SignError::WrongKeyKind {
                operation: "armored OpenPGP signatures",
                needed: "openpgp",
                given: self.algorithm(),
            });
        }
        self.sign_record_messages(messages)?
            .iter()
            .map(|binary| Ok(openpgp::armor_signature(binary)?))
            .collect()
    }
}

/// Signatures of consecutive messages stored end to end, so that signing a record allocates
/// nothing of its own (OpenPGP signatures vary in length; Ed25519 ones are 64 bytes).
#[derive(Debug, Default)]
pub(crate) struct Signatures {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Signatures {
    fn push(&mut self, signature: &[u8]) {
        self.bytes.extend_from_slice(signature);
        self.ends.push(self.bytes.len());
    }

    /// Total bytes of the signatures.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Each signature, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.bytes[start..end])
    }
}

/// Signs record messages (native profile) on the calling thread: raw 64-byte Ed25519 with
/// the key expanded once, or binary OpenPGP signature packets.
pub(crate) enum RecordSigning<'a> {
    /// An Ed25519 key.
    Ed25519(Box<ed25519::RecordSigner>),
    /// An unlocked OpenPGP signing key.
    OpenPgp(&'a openpgp::Signer),
    /// An X.509 certificate's key (raw signatures).
    X509(&'a X509SecretKey),
}

impl RecordSigning<'_> {
    /// The signature of each message, in order.
    pub(crate) fn sign(&self, messages: &[&[u8]]) -> Result<Signatures, SignError> {
        let mut out = Signatures {
            bytes: Vec::with_capacity(messages.len() * 64),
            ends: Vec::with_capacity(messages.len()),
        };
        match self {
            RecordSigning::Ed25519(signer) => {
                for m in messages {
                    out.push(&signer.sign(m));
                }
            }
            RecordSigning::OpenPgp(signer) => {
                let mut signer = (*signer).clone();
                for m in messages {
                    let signature = signer.sign_bytes(m)?;
                    out.push(&signature);
                }
            }
            RecordSigning::X509(key) => {
                for m in messages {
                    let signature = key.sign(m).map_err(SignError::X509)?;
                    out.push(&signature);
                }
            }
        }
        Ok(out)
    }
}

/// A fingerprint without separators, in one case, for comparing.
fn normalise_fingerprint(f: &str) -> String {
    f.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn rfc3339(t: SystemTime) -> Option<String> {
    let t = time::OffsetDateTime::from(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

impl PublicKey {
    /// Loads the key to trust: an armored or binary OpenPGP certificate or keyring (with
    /// `fingerprint` choosing one certificate; required when there are several), or a
    /// minisign public key (`.pub` file or its base64 line). A secret key file is accepted
    /// too: its public half is used.
    pub fn load(path: &Path, fingerprint: Option<&str>) -> Result<Self, SignError> {
        let bytes = read_text(path)?;
        Self::from_bytes(&bytes, path, fingerprint)
    }

    /// [`PublicKey::load`] of bytes already read; `path` names them in errors. A PEM X.509
    /// certificate (or chain, leaf first) is an X.509 key.
    pub fn from_bytes(
        bytes: &[u8],
        path: &Path,
        fingerprint: Option<&str>,
    ) -> Result<Self, SignError> {
        if is_certificate(bytes) {
            let key =
                X509PublicKey::from_pem(bytes).map_err(|e| SignError::key(path, e.to_string()))?;
            if let Some(wanted) = fingerprint {
                let have = key.chain.leaf().fingerprint();
                if normalise_fingerprint(wanted) != normalise_fingerprint(&have) {
                    return Err(SignError::key(
                        path,
                        format!("certificate SHA-256 fingerprint is {have}, not {wanted}"),
                    ));
                }
            }
            return Ok(PublicKey::X509(Arc::new(key)));
        }
        if is_pem_private_key(bytes) {
            return Err(SignError::key(
                path,
                "a private key; give the signer's certificate (PEM CERTIFICATE) to verify",
            ));
        }
        if x509::pem::is_pem(bytes) && !bytes.trim_ascii_start().starts_with(b"-----BEGIN PGP") {
            let found = x509::pem::label(bytes).unwrap_or("malformed");
            return Err(SignError::key(
                path,
                format!(
                    "a PEM block of type {found}: a key is an OpenPGP certificate, a minisign \
                     public key, or an X.509 certificate (PEM CERTIFICATE)"
                ),
            ));
        }
        let bytes = bytes.to_vec();
        if is_minisign(&bytes) || (bytes.len() < 100 && !bytes.starts_with(b"-----")) {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| SignError::key(path, "minisign key file is not UTF-8"))?;
            let public = match minisign::PublicKey::from_file_text(text) {
                Ok(k) => k,
                Err(public_error) => match minisign::SecretKey::from_file_text(text, None) {
                    Ok(secret) => secret.public_key(),
                    Err(_) => return Err(SignError::key(path, public_error.to_string())),
                },
            };
            if let Some(wanted) = fingerprint
                && !wanted.eq_ignore_ascii_case(&public.key_id_hex())
            {
                return Err(SignError::key(
                    path,
                    format!("key id is {}, not {wanted}", public.key_id_hex()),
                ));
            }
            if public.verifying_key().is_weak() {
                return Err(SignError::key(
                    path,
                    "weak Ed25519 public key (a small-order point) refused",
                ));
            }
            return Ok(PublicKey::Ed25519(public));
        }
        let certs = openpgp::load_certs(&bytes).map_err(|e| SignError::key(path, e.to_string()))?;
        let cert =
            openpgp::select(certs, fingerprint).map_err(|e| SignError::key(path, e.to_string()))?;
        Ok(PublicKey::OpenPgp(Box::new(
            cert.strip_secret_key_material(),
        )))
    }

    /// `openpgp`, `ed25519` or `x509`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::OpenPgp(_) => "openpgp",
            PublicKey::Ed25519(_) => "ed25519",
            PublicKey::X509(_) => X509,
        }
    }

    /// OpenPGP primary fingerprint, minisign key id, or the certificate's SHA-256 fingerprint.
    pub fn key_id(&self) -> String {
        match self {
            PublicKey::OpenPgp(cert) => cert.fingerprint().to_hex(),
            PublicKey::Ed25519(k) => k.key_id_hex(),
            PublicKey::X509(k) => k.chain.leaf().fingerprint(),
        }
    }

    /// Who an X.509 key names, for a report.
    pub fn x509_signer(&self) -> Option<SignerInfo> {
        let PublicKey::X509(k) = self else {
            return None;
        };
        Some(SignerInfo {
            algorithm: X509,
            key: k.chain.leaf().fingerprint(),
            user_id: Some(k.chain.leaf().subject()),
            signed_at: None,
            trusted_comment: None,
        })
    }

    /// Refuses X.509 keys for what only OpenPGP and Ed25519 keys do.
    pub(crate) fn require_not_x509(&self, operation: &'static str) -> Result<(), SignError> {
        if matches!(self, PublicKey::X509(_)) {
            return Err(SignError::WrongKeyKind {
                operation,
                needed: "openpgp or ed25519",
                given: X509,
            });
        }
        Ok(())
    }

    /// Extension of detached signatures this key writes: `.asc` or `.minisig`.
    pub fn signature_extension(&self) -> &'static str {
        self.signature_extensions()[0]
    }

    /// Extensions of detached signatures to look for, in order.
    pub fn signature_extensions(&self) -> &'static [&'static str] {
        match self {
            PublicKey::OpenPgp(_) => &[
                OPENPGP_SIGNATURE_EXTENSION,
                OPENPGP_BINARY_SIGNATURE_EXTENSION,
            ],
            PublicKey::Ed25519(_) | PublicKey::X509(_) => &[MINISIGN_SIGNATURE_EXTENSION],
        }
    }

    /// Verifies a detached signature (armored or binary OpenPGP, or `.minisig`) of a stream;
    /// the error is the reason, in one line.
    pub fn verify_detached<R: Read + Send + Sync>(
        &self,
        reader: R,
        signature: &[u8],
    ) -> Result<SignerInfo, String> {
        match self {
            PublicKey::OpenPgp(cert) => openpgp::verify_detached(cert, reader, signature)
                .map(|v| self.openpgp_signer(&v))
                .map_err(|e| e.to_string()),
            PublicKey::Ed25519(k) => {
                let text = std::str::from_utf8(signature)
                    .map_err(|_| "the signature file is not text (not a .minisig)".to_owned())?;
                let verified = minisign::verify(k, reader, text).map_err(|e| e.to_string())?;
                let signed_at = verified
                    .trusted_comment
                    .split('\t')
                    .find_map(|p| p.strip_prefix("timestamp:"))
                    .and_then(|t| t.parse::<i64>().ok())
                    .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    });
                Ok(SignerInfo {
                    algorithm: "ed25519",
                    key: k.key_id_hex(),
                    user_id: None,
                    signed_at,
                    trusted_comment: Some(verified.trusted_comment),
                })
            }
            PublicKey::X509(_) => Err(
                "an X.509 certificate verifies record signatures (compatible profile) only"
                    .to_owned(),
            ),
        }
    }

    /// Who signed, for a report (built once per report: it describes the certificate).
    pub fn openpgp_signer(&self, v: &openpgp::Verified) -> SignerInfo {
        let user_id = match self {
            PublicKey::OpenPgp(cert) => openpgp::key_info(cert).user_ids.into_iter().next(),
            PublicKey::Ed25519(_) | PublicKey::X509(_) => None,
        };
        SignerInfo {
            algorithm: "openpgp",
            key: v.signing_key_fingerprint.clone(),
            user_id,
            signed_at: rfc3339(v.created),
            trusted_comment: None,
        }
    }

    /// Whether each record signature (native profile) verifies: strict batched Ed25519, or
    /// binary OpenPGP packets, on every core.
    pub fn verify_record_messages(&self, items: &[(&[u8], &[u8])]) -> Vec<bool> {
        match self {
            PublicKey::Ed25519(k) => ed25519::verify_all(k.verifying_key(), items),
            PublicKey::OpenPgp(_) => self
                .verify_openpgp_all(items)
                .into_iter()
                .map(|r| r.is_ok())
                .collect(),
            PublicKey::X509(k) => parallel_map(items, |(m, s)| k.verifier.verify(m, s).is_ok()),
        }
    }

    /// [`PublicKey::verify_record_messages`] on this thread alone, for callers that already
    /// spread chunks of records over every core.
    pub(crate) fn verify_record_chunk(&self, items: &[(&[u8], &[u8])]) -> Vec<bool> {
        match self {
            PublicKey::Ed25519(k) => ed25519::verify_chunk(k.verifying_key(), items),
            PublicKey::OpenPgp(_) => items
                .iter()
                .map(|(message, signature)| self.verify_openpgp(message, signature).is_ok())
                .collect(),
            PublicKey::X509(k) => k
                .verifier
                .verify_chunk(items)
                .into_iter()
                .map(|r| r.is_ok())
                .collect(),
        }
    }

    /// Verifies an armored or binary OpenPGP signature of a short message (a record), with a
    /// verifier kept per thread; the error is the reason, in one line.
    pub fn verify_openpgp(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<openpgp::Verified, String> {
        let PublicKey::OpenPgp(cert) = self else {
            return Err("not an OpenPGP key".to_owned());
        };
        with_verifier(cert, |verifier| {
            verifier
                .verify(message, signature)
                .map_err(|e| e.to_string())
        })
    }

    /// Verifies OpenPGP signatures of many short messages (records) on every core, batching
    /// Ed25519 arithmetic; each result carries the message's SHA-256 when the signature
    /// computed it anyway (unsalted SHA-256 signatures).
    pub fn verify_openpgp_many(
        &self,
        items: &[(&[u8], &[u8])],
    ) -> Vec<Result<openpgp::VerifiedMessage, String>> {
        let PublicKey::OpenPgp(cert) = self else {
            return items
                .iter()
                .map(|_| Err("not an OpenPGP key".to_owned()))
                .collect();
        };
        let chunks: Vec<&[(&[u8], &[u8])]> = items.chunks(64).collect();
        parallel_map(&chunks, |chunk| {
            with_verifier(cert, |verifier| {
                verifier
                    .verify_many(chunk)
                    .into_iter()
                    .map(|r| r.map_err(|e| e.to_string()))
                    .collect::<Vec<_>>()
            })
        })
        .into_iter()
        .flatten()
        .collect()
    }

    /// Verifies OpenPGP signatures of many messages, on every core.
    pub fn verify_openpgp_all(
        &self,
        items: &[(&[u8], &[u8])],
    ) -> Vec<Result<openpgp::Verified, String>> {
        parallel_map(items, |(message, signature)| {
            self.verify_openpgp(message, signature)
        })
    }
}

/// Runs `f` with this thread's verifier for `cert` (made once per thread and certificate:
/// it caches the certificate's key checks).
fn with_verifier<R>(cert: &Cert, f: impl FnOnce(&mut openpgp::Verifier) -> R) -> R {
    thread_local! {
        static VERIFIER: std::cell::RefCell<Option<(sequoia_openpgp::Fingerprint, openpgp::Verifier)>> =
            const { std::cell::RefCell::new(None) };
    }
    let fingerprint = cert.fingerprint();
    VERIFIER.with(|slot| {
        let mut slot = slot.borrow_mut();
        match slot.as_mut() {
            Some((held, verifier)) if *held == fingerprint => f(verifier),
            _ => {
                let mut verifier = openpgp::Verifier::new(cert);
                let result = f(&mut verifier);
                *slot = Some((fingerprint, verifier));
                result
            }
        }
    })
}

/// The kinds of key pair `keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// Ed25519 in minisign's formats.
    Ed25519,
    /// An OpenPGP certificate with an Ed25519 signing key.
    OpenPgp,
}

oembeddings::named_enum!(KeyKind, "key kind",
    Ed25519 => "ed25519", "Ed25519 in minisign's formats (minisign -V verifies its signatures)";
    OpenPgp => "openpgp",
        "an OpenPGP certificate with an Ed25519 signing key (gpg --verify and sqv verify its \
         signatures)";
);

/// Generates a key pair of `kind`; returns (secret key file bytes, public key file bytes).
/// `user_id` names an OpenPGP certificate's holder; Ed25519 keys have none.
pub fn generate(
    kind: KeyKind,
    user_id: &str,
    password: Option<&str>,
) -> Result<(Vec<u8>, Vec<u8>), SignError> {
    match kind {
        KeyKind::OpenPgp => generate_openpgp(user_id, password),
        KeyKind::Ed25519 => {
            generate_ed25519(password).map(|(s, p)| (s.into_bytes(), p.into_bytes()))
        }
    }
}

/// Generates an OpenPGP key; returns (secret armored TSK, public armored certificate).
pub fn generate_openpgp(
    user_id: &str,
    password: Option<&str>,
) -> Result<(Vec<u8>, Vec<u8>), SignError> {
    let (secret, public) = openpgp::generate(user_id, password)?;
    Ok((secret.to_armored()?, public.to_armored()?))
}

/// Generates a minisign Ed25519 key; returns (secret key file text, public key file text).
pub fn generate_ed25519(password: Option<&str>) -> Result<(String, String), SignError> {
    let secret = minisign::SecretKey::generate();
    let text = secret.to_file_text(password, minisign::DEFAULT_SECRET_KEY_COMMENT)?;
    Ok((text, secret.public_key().to_file_text()))
}

/// Describes the key in a file (secret or public, either kind).
pub fn describe(path: &Path) -> Result<KeyDescription, SignError> {
    let bytes = read_text(path)?;
    if is_certificate(&bytes) {
        let chain =
            CertificateChain::from_pem(&bytes).map_err(|e| SignError::key(path, e.to_string()))?;
        let info = chain.leaf().info();
        let mut user_ids = vec![info.subject];
        user_ids.extend(info.dns_names.into_iter().map(|d| format!("DNS:{d}")));
        return Ok(KeyDescription {
            algorithm: X509,
            id: info.sha256_fingerprint,
            key_id: None,
            user_ids,
            created: Some(info.not_before),
            expires: Some(info.not_after),
            revoked: false,
            signing_keys: Vec::new(),
            secret: false,
            encrypted: false,
        });
    }
    if is_pem_private_key(&bytes) {
        return Ok(KeyDescription {
            algorithm: X509,
            id: String::new(),
            key_id: None,
            user_ids: Vec::new(),
            created: None,
            expires: None,
            revoked: false,
            signing_keys: Vec::new(),
            secret: true,
            encrypted: false,
        });
    }
    if is_minisign(&bytes) || (bytes.len() < 100 && !bytes.starts_with(b"-----")) {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| SignError::key(path, "minisign key file is not UTF-8"))?;
        let (id, secret, encrypted) = match minisign::PublicKey::from_file_text(text) {
            Ok(k) => (k.key_id_hex(), false, false),
            Err(e) => match minisign::SecretKey::from_file_text(text, None) {
                Ok(k) => (k.key_id_hex(), true, false),
                Err(minisign::MinisignError::PasswordRequired) => (String::new(), true, true),
                Err(_) => return Err(SignError::key(path, e.to_string())),
            },
        };
        return Ok(KeyDescription {
            algorithm: "ed25519",
            id,
            key_id: None,
            user_ids: Vec::new(),
            created: None,
            expires: None,
            revoked: false,
            signing_keys: Vec::new(),
            secret,
            encrypted,
        });
    }
    let certs = openpgp::load_certs(&bytes).map_err(|e| SignError::key(path, e.to_string()))?;
    let cert = openpgp::select(certs, None).map_err(|e| SignError::key(path, e.to_string()))?;
    let info = openpgp::key_info(&cert);
    Ok(KeyDescription {
        algorithm: "openpgp",
        id: info.fingerprint,
        key_id: Some(info.key_id),
        user_ids: info.user_ids,
        created: rfc3339(info.created),
        expires: info.expires.and_then(rfc3339),
        revoked: info.revoked,
        signing_keys: info.signing_keys,
        secret: info.has_secret,
        encrypted: info.secret_encrypted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_of_any_lengths_come_back_as_pushed() {
        let parts: [&[u8]; 4] = [b"abc", b"", b"0123456789", b"z"];
        let mut signatures = Signatures::default();
        for p in parts {
            signatures.push(p);
        }
        assert_eq!(signatures.iter().collect::<Vec<_>>(), parts);
        assert_eq!(signatures.byte_len(), 14);
        assert_eq!(Signatures::default().iter().count(), 0);
    }
}
