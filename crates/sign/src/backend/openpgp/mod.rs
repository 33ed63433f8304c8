//! OpenPGP keys, detached signatures and strict (fail-closed) verification.
//!
//! This module wraps `sequoia-openpgp` 2.x for the provenance of embedding
//! files:
//!
//! * [`generate`] / [`generate_with`] make an Ed25519 certificate: a
//!   certification-only primary key plus a signing subkey (OpenPGP v4, which
//!   GnuPG 2.2+ and `sqv` understand).
//! * [`load_certs`] reads armored or binary certificates and keyrings,
//!   [`select`] picks one by fingerprint or long key id.
//! * [`sign_detached`] streams arbitrarily large data into a binary-mode
//!   (`SignatureType::Binary`) detached signature using SHA-256
//!   ([`HASH_ALGORITHM`]).  [`Signer`] unlocks a key once and signs many small
//!   records ([`sign_detached_bytes`]).
//! * [`verify_detached`] verifies with sequoia's `DetachedVerifier` and a
//!   helper that accepts nothing but a good signature by a signing-capable key
//!   of the one given certificate that was valid (bound, alive, not revoked)
//!   when the signature was made.  [`Verifier`] applies the same rules to many
//!   small records.
//!
//! The crate does not pick a sequoia crypto backend; the final binary must
//! enable exactly one (e.g. `crypto-rust`).

use std::fmt;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use sequoia_openpgp as sq;
use sq::policy::StandardPolicy;
use sq::types::HashAlgorithm;

mod canonical_armor;
mod cert;
mod policy;
mod sign;
mod verify;

pub use cert::*;
pub use sign::*;
pub use verify::*;

/// Re-export of sequoia's certificate type, so callers need not depend on
/// `sequoia-openpgp` directly.
pub use sq::Cert as OpenPgpCert;

/// Hash algorithm of every signature we make.
///
/// SHA-256: on x86-64 with SHA extensions (this machine, most current
/// server CPUs) the `sha2` crate hashes SHA-256 about 2x faster than
/// SHA-512, it is what `sha256sum` comparisons use, and every peer (GnuPG,
/// sqv, RFC 9580 implementations) accepts it for Ed25519 signatures.
pub const HASH_ALGORITHM: HashAlgorithm = HashAlgorithm::SHA256;

/// Read buffer used when streaming data into a signature.
const STREAM_BUFFER: usize = 1 << 20;

/// Upper bound of the per-[`Verifier`] key-validity cache.
const VERIFIER_CACHE_MAX: usize = 4096;

/// The policy every key and signature is checked against.
static POLICY: StandardPolicy<'static> = StandardPolicy::new();

/// Errors of this module.  Every message is a single line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading data, a key or a signature failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The ASCII armor of a signature is damaged (truncated, bad base64 or
    /// checksum, wrong block type).
    #[error("bad ASCII armor: {0}")]
    BadArmor(String),
    /// The input is not an OpenPGP signature.
    #[error("not an OpenPGP signature: {0}")]
    NotASignature(String),
    /// The signature input holds no signature at all.
    #[error("no signature found")]
    NoSignature,
    /// A signature packet could not be understood.
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// The signature is not a binary-mode document signature.
    #[error("not a binary-mode signature (signature type {0})")]
    NotBinarySignature(String),
    /// The only signatures were made by keys that are not part of the
    /// expected certificate.
    #[error("signed by unknown key {0}")]
    UnknownSigner(String),
    /// The signature does not match the data: the data or the signature
    /// were changed.
    #[error("bad signature by key {key}: the data or the signature was changed")]
    BadSignature {
        /// Fingerprint of the key the signature claims.
        key: String,
    },
    /// The certificate or the signing key is revoked.
    #[error("key {key} is revoked ({reason})")]
    KeyRevoked {
        /// Fingerprint of the revoked certificate or subkey.
        key: String,
        /// Reason given in the revocation, if any.
        reason: String,
    },
    /// The key had expired when the signature was made (or, when signing,
    /// has expired).
    #[error("key {key} had expired at signing time (signed {}, expired {})",
            fmt_time(*.signed), fmt_time(*.expired))]
    KeyExpired {
        /// Fingerprint of the expired certificate or subkey.
        key: String,
        /// Signature creation time.
        signed: SystemTime,
        /// Key expiration time.
        expired: SystemTime,
    },
    /// The key did not exist yet when the signature was made.
    #[error("key {key} was not yet valid at signing time (signed {}, key created {})",
            fmt_time(*.signed), fmt_time(*.created))]
    KeyNotYetValid {
        /// Fingerprint of the certificate or subkey.
        key: String,
        /// Signature creation time.
        signed: SystemTime,
        /// Key creation time.
        created: SystemTime,
    },
    /// The key was not validly bound to the certificate at signing time, or
    /// the policy rejects it (e.g. a weak algorithm).
    #[error("key {key} was not valid at signing time: {reason}")]
    KeyNotValid {
        /// Fingerprint of the certificate or subkey.
        key: String,
        /// What the policy said.
        reason: String,
    },
    /// The key that made the signature is not marked for signing.
    #[error("key {key} is not a signing key")]
    NotSigningCapable {
        /// Fingerprint of the key.
        key: String,
    },
    /// The signature itself is expired or dated in the future.
    #[error("signature is not valid now: {0}")]
    SignatureNotAlive(String),
    /// The policy rejects the signature (e.g. SHA-1).
    #[error("signature rejected by policy: {0}")]
    PolicyRejected(String),
    /// The password does not decrypt the secret key.
    #[error("wrong password for key {key}")]
    WrongPassword {
        /// Fingerprint of the key.
        key: String,
    },
    /// The secret key is encrypted and no password was given.
    #[error("key {key} is password-protected: a password is required")]
    PasswordRequired {
        /// Fingerprint of the key.
        key: String,
    },
    /// The certificate holds no secret key material for signing.
    #[error("certificate {cert} has no secret signing key (a public certificate cannot sign)")]
    NoSecretKey {
        /// Fingerprint of the certificate.
        cert: String,
    },
    /// The certificate has no usable signing key.
    #[error("certificate {cert} has no valid signing key")]
    NoSigningKey {
        /// Fingerprint of the certificate.
        cert: String,
    },
    /// A keyring with several certificates was given without saying which.
    #[error("the keyring holds {count} certificates: give a fingerprint to choose one")]
    KeyringNeedsFingerprint {
        /// Number of certificates in the keyring.
        count: usize,
    },
    /// No certificate matches the fingerprint.
    #[error("no certificate with key {0} found")]
    FingerprintNotFound(String),
    /// More than one certificate matches the key id.
    #[error("key id {wanted} matches {count} certificates: give the full fingerprint")]
    AmbiguousFingerprint {
        /// The requested key id.
        wanted: String,
        /// Number of matching certificates.
        count: usize,
    },
    /// The fingerprint or key id string is not valid.
    #[error("not a fingerprint or long key id: {0:?}")]
    BadFingerprint(String),
    /// No certificate was found in the input.
    #[error("no OpenPGP certificate found")]
    NoCertificate,
    /// A certificate could not be parsed or serialised.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// Generating a key failed.
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    /// Making a signature failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// Verification failed for a reason not covered above.
    #[error("verification failed: {0}")]
    Verification(String),
}

/// Alias kept for call sites that only verify.
pub type VerifyError = Error;

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Formats a (possibly anyhow) error on one line, causes joined by ": ".
fn one_line<E: fmt::Display>(e: E) -> String {
    oembeddings::error::one_line(&format!("{e:#}"))
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SSZ` (UTC, RFC 3339).
pub fn fmt_time(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} seconds after 1970-01-01T00:00:00Z"))
}
