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

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sequoia_openpgp as sq;
use sq::armor;
use sq::cert::amalgamation::{ValidAmalgamation, ValidateAmalgamation};
use sq::cert::prelude::{CertBuilder, CertParser, CipherSuite, ValidErasedKeyAmalgamation};
use sq::crypto::{KeyPair, Password};
use sq::packet::key::{PublicParts, SecretParts, UnspecifiedRole};
use sq::packet::signature::SignatureBuilder;
use sq::packet::{Key, Signature};
use sq::parse::Parse;
use sq::parse::stream::{
    DetachedVerifierBuilder, GoodChecksum, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use sq::policy::{HashAlgoSecurity, Policy, StandardPolicy};
use sq::serialize::SerializeInto;
use sq::serialize::stream::{Armorer, Message};
use sq::types::{HashAlgorithm, RevocationStatus, SignatureType};
use sq::{Cert, Fingerprint, KeyHandle, KeyID, Packet, PacketPile, Profile};

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

/// Formats a time as `YYYY-MM-DDTHH:MM:SSZ` (UTC) without external crates.
pub fn fmt_time(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days since 1970-01-01 to a proleptic Gregorian date (era = 400 years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

/// A freshly generated certificate with its secret keys (a TSK) and the
/// revocation certificate made at generation time.
#[derive(Clone)]
pub struct SecretCert {
    cert: Cert,
    revocation: Signature,
}

impl fmt::Debug for SecretCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretCert")
            .field("fingerprint", &self.cert.fingerprint().to_hex())
            .finish_non_exhaustive()
    }
}

impl SecretCert {
    /// The certificate, including secret key material.
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// Armored transferable secret key (`PGP PRIVATE KEY BLOCK`).
    pub fn to_armored(&self) -> Result<Vec<u8>> {
        armored_secret(&self.cert)
    }

    /// The armored public certificate with the revocation signature merged
    /// in.  Keep it offline: publishing it revokes the key.
    pub fn revocation_certificate(&self) -> Result<Vec<u8>> {
        let (revoked, _) = self
            .cert
            .clone()
            .strip_secret_key_material()
            .insert_packets(Some(Packet::from(self.revocation.clone())))
            .map_err(|e| Error::BadCertificate(one_line(e)))?;
        armored_public(&revoked)
    }

    /// The public half.
    pub fn public(&self) -> PublicCert {
        PublicCert {
            cert: self.cert.clone().strip_secret_key_material(),
        }
    }
}

/// A certificate without secret key material.
#[derive(Clone, Debug)]
pub struct PublicCert {
    cert: Cert,
}

impl PublicCert {
    /// The certificate.
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// Armored certificate (`PGP PUBLIC KEY BLOCK`).
    pub fn to_armored(&self) -> Result<Vec<u8>> {
        armored_public(&self.cert)
    }
}

/// Generates an Ed25519 certificate with no expiry; see [`generate_with`].
pub fn generate(userid: &str, password: Option<&str>) -> Result<(SecretCert, PublicCert)> {
    generate_with(userid, password, None, None)
}

/// Generates an OpenPGP v4 Ed25519 certificate: a certification-only primary
/// key and one Ed25519 signing subkey, bound to `userid`.
///
/// * `password`: when given, all secret key material is encrypted with it.
/// * `creation_time`: key creation time (default: now, backdated a minute
///   by sequoia to tolerate clock skew).
/// * `validity`: lifetime of the certificate from its creation (default:
///   no expiry).
pub fn generate_with(
    userid: &str,
    password: Option<&str>,
    creation_time: Option<SystemTime>,
    validity: Option<Duration>,
) -> Result<(SecretCert, PublicCert)> {
    let builder = CertBuilder::new()
        .set_profile(Profile::RFC4880)
        .map_err(|e| Error::KeyGeneration(one_line(e)))?
        .set_cipher_suite(CipherSuite::Cv25519)
        .add_userid(userid)
        .add_signing_subkey()
        .set_creation_time(creation_time)
        .set_validity_period(validity)
        .set_password(password.map(Password::from));
    let (cert, revocation) = builder
        .generate()
        .map_err(|e| Error::KeyGeneration(one_line(e)))?;
    let public = PublicCert {
        cert: cert.clone().strip_secret_key_material(),
    };
    Ok((SecretCert { cert, revocation }, public))
}

/// Armored certificate without secret key material.
pub fn armored_public(cert: &Cert) -> Result<Vec<u8>> {
    cert.armored()
        .to_vec()
        .map_err(|e| Error::BadCertificate(one_line(e)))
}

/// Armored transferable secret key; fails if `cert` holds no secret key.
pub fn armored_secret(cert: &Cert) -> Result<Vec<u8>> {
    if !cert.is_tsk() {
        return Err(Error::NoSecretKey {
            cert: cert.fingerprint().to_hex(),
        });
    }
    cert.as_tsk()
        .armored()
        .to_vec()
        .map_err(|e| Error::BadCertificate(one_line(e)))
}

/// Parses one certificate or a keyring (several certificates), armored or
/// binary.  Copies of the same certificate are merged.  Fails if the input
/// holds no certificate or anything unparsable.
pub fn load_certs(bytes: &[u8]) -> Result<Vec<Cert>> {
    let parser = CertParser::from_bytes(bytes).map_err(|e| Error::BadCertificate(one_line(e)))?;
    let mut certs: Vec<Cert> = Vec::new();
    for cert in parser {
        let cert = cert.map_err(|e| Error::BadCertificate(one_line(e)))?;
        if let Some(pos) = certs
            .iter()
            .position(|c| c.fingerprint() == cert.fingerprint())
        {
            let old = certs.swap_remove(pos);
            let merged = old
                .merge_public_and_secret(cert)
                .map_err(|e| Error::BadCertificate(one_line(e)))?;
            certs.push(merged);
        } else {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(Error::NoCertificate);
    }
    Ok(certs)
}

/// Reads a certificate file or keyring; see [`load_certs`].
pub fn load_certs_file(path: &std::path::Path) -> Result<Vec<Cert>> {
    load_certs(&std::fs::read(path)?)
}

/// Loads certificates and [`select`]s one.
pub fn load_cert(bytes: &[u8], fingerprint: Option<&str>) -> Result<Cert> {
    select(load_certs(bytes)?, fingerprint)
}

/// Parses a fingerprint (40 or 64 hex digits) or long key id (16 hex
/// digits), ignoring whitespace, an optional `0x` and case.  Short key ids
/// are refused: they collide too easily.
pub fn parse_key_handle(s: &str) -> Result<KeyHandle> {
    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let hex = cleaned
        .strip_prefix("0x")
        .or_else(|| cleaned.strip_prefix("0X"))
        .unwrap_or(&cleaned);
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::BadFingerprint(s.to_string()));
    }
    let handle = match hex.len() {
        40 | 64 => Fingerprint::from_hex(hex).map(KeyHandle::from),
        16 => KeyID::from_hex(hex).map(KeyHandle::from),
        _ => return Err(Error::BadFingerprint(s.to_string())),
    };
    handle.map_err(|_| Error::BadFingerprint(s.to_string()))
}

/// Chooses a certificate.
///
/// Without `fingerprint`, `certs` must hold exactly one certificate (a
/// keyring is refused with [`Error::KeyringNeedsFingerprint`]).  With it,
/// the certificate whose primary key or any subkey matches the fingerprint
/// or long key id is returned (see [`parse_key_handle`] for the format).
pub fn select(certs: Vec<Cert>, fingerprint: Option<&str>) -> Result<Cert> {
    match fingerprint {
        None => {
            let count = certs.len();
            let mut it = certs.into_iter();
            match (it.next(), count) {
                (Some(cert), 1) => Ok(cert),
                (None, _) => Err(Error::NoCertificate),
                _ => Err(Error::KeyringNeedsFingerprint { count }),
            }
        }
        Some(wanted) => {
            let handle = parse_key_handle(wanted)?;
            let mut matches: Vec<Cert> = certs
                .into_iter()
                .filter(|c| c.keys().any(|k| k.key().key_handle().aliases(&handle)))
                .collect();
            match matches.len() {
                0 => Err(Error::FingerprintNotFound(handle.to_hex())),
                1 => matches.pop().ok_or(Error::NoCertificate),
                count => Err(Error::AmbiguousFingerprint {
                    wanted: handle.to_hex(),
                    count,
                }),
            }
        }
    }
}

/// Facts about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// Primary key fingerprint, upper-case hex without spaces.
    pub fingerprint: String,
    /// Primary key long key id, upper-case hex.
    pub key_id: String,
    /// User IDs (lossy UTF-8).
    pub user_ids: Vec<String>,
    /// Primary key creation time.
    pub created: SystemTime,
    /// Expiration time of the certificate, if any (under the standard
    /// policy, now).
    pub expires: Option<SystemTime>,
    /// Whether the certificate is revoked (now).
    pub revoked: bool,
    /// Fingerprints of the keys that are currently valid for signing.
    pub signing_keys: Vec<String>,
    /// Whether any key carries secret key material.
    pub has_secret: bool,
    /// Whether any secret key material is password-encrypted.
    pub secret_encrypted: bool,
}

/// Describes a certificate.
pub fn key_info(cert: &Cert) -> KeyInfo {
    let valid = cert.with_policy(&POLICY, None).ok();
    KeyInfo {
        fingerprint: cert.fingerprint().to_hex(),
        key_id: cert.keyid().to_hex(),
        user_ids: cert
            .userids()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
            .collect(),
        created: cert.primary_key().key().creation_time(),
        expires: valid
            .as_ref()
            .and_then(|vc| vc.primary_key().key_expiration_time()),
        revoked: matches!(
            cert.revocation_status(&POLICY, None),
            RevocationStatus::Revoked(_)
        ),
        signing_keys: valid
            .as_ref()
            .map(|vc| {
                vc.keys()
                    .for_signing()
                    .alive()
                    .revoked(false)
                    .map(|k| k.key().fingerprint().to_hex())
                    .collect()
            })
            .unwrap_or_default(),
        has_secret: cert.is_tsk(),
        secret_encrypted: cert
            .keys()
            .secret()
            .any(|k| k.key().secret().is_encrypted()),
    }
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

/// Reason text of the first revocation signature.
fn revocation_reason(sigs: &[&Signature]) -> String {
    sigs.first()
        .and_then(|s| s.reason_for_revocation())
        .map(|(code, msg)| {
            let msg = String::from_utf8_lossy(msg);
            if msg.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {msg}")
            }
        })
        .unwrap_or_else(|| "no reason given".to_string())
}

/// Explains why a key amalgamation is not alive at `at`.
fn not_alive_error(
    key: String,
    at: SystemTime,
    created: SystemTime,
    expires: Option<SystemTime>,
) -> Error {
    match expires {
        Some(expired) if expired <= at => Error::KeyExpired {
            key,
            signed: at,
            expired,
        },
        _ if created > at => Error::KeyNotYetValid {
            key,
            signed: at,
            created,
        },
        _ => Error::KeyNotValid {
            key,
            reason: "not alive".to_string(),
        },
    }
}

/// Why the policy rejects a key (or certificate) created at `created` for a signature made at
/// `at`: not yet valid when it was created after the signature, else the policy's reason.
fn policy_error(key: &str, created: SystemTime, at: SystemTime, e: impl fmt::Display) -> Error {
    if created > at {
        Error::KeyNotYetValid {
            key: key.to_owned(),
            signed: at,
            created,
        }
    } else {
        Error::KeyNotValid {
            key: key.to_owned(),
            reason: one_line(e),
        }
    }
}

/// Checks that the certificate itself is valid, alive and not revoked at
/// `at`.
fn valid_cert_at(cert: &Cert, at: SystemTime) -> Result<sq::cert::ValidCert<'_>> {
    let fpr = cert.fingerprint().to_hex();
    let vc = cert
        .with_policy(&POLICY, at)
        .map_err(|e| policy_error(&fpr, cert.primary_key().key().creation_time(), at, e))?;
    if let RevocationStatus::Revoked(sigs) = vc.revocation_status() {
        return Err(Error::KeyRevoked {
            key: fpr,
            reason: revocation_reason(&sigs),
        });
    }
    if vc.alive().is_err() {
        return Err(not_alive_error(
            fpr,
            at,
            vc.primary_key().key().creation_time(),
            vc.primary_key().key_expiration_time(),
        ));
    }
    Ok(vc)
}

/// Picks the newest signing-capable, alive, unrevoked key with secret
/// material, valid at `at`.
fn signing_key_at(cert: &Cert, at: SystemTime) -> Result<Key<SecretParts, UnspecifiedRole>> {
    let cert_fpr = cert.fingerprint().to_hex();
    if !cert.is_tsk() {
        return Err(Error::NoSecretKey { cert: cert_fpr });
    }
    let vc = valid_cert_at(cert, at)?;
    let mut best: Option<ValidErasedKeyAmalgamation<'_, PublicParts>> = None;
    let mut last_err: Option<Error> = None;
    for ka in vc.keys().for_signing() {
        let fpr = ka.key().fingerprint().to_hex();
        if let RevocationStatus::Revoked(sigs) = ka.revocation_status() {
            last_err = Some(Error::KeyRevoked {
                key: fpr,
                reason: revocation_reason(&sigs),
            });
        } else if ka.alive().is_err() {
            last_err = Some(not_alive_error(
                fpr,
                at,
                ka.key().creation_time(),
                ka.key_expiration_time(),
            ));
        } else if !ka.key().has_secret() {
            last_err = Some(Error::NoSecretKey {
                cert: cert_fpr.clone(),
            });
        } else if best
            .as_ref()
            .is_none_or(|b| ka.key().creation_time() > b.key().creation_time())
        {
            best = Some(ka);
        }
    }
    match best {
        Some(ka) => ka
            .key()
            .clone()
            .parts_into_secret()
            .map_err(|_| Error::NoSecretKey { cert: cert_fpr }),
        None => Err(last_err.unwrap_or(Error::NoSigningKey { cert: cert_fpr })),
    }
}

/// Decrypts (if needed) a secret key and turns it into a key pair.
fn unlock(key: Key<SecretParts, UnspecifiedRole>, password: Option<&str>) -> Result<KeyPair> {
    let fpr = key.fingerprint().to_hex();
    let key = if key.secret().is_encrypted() {
        let password = password.ok_or_else(|| Error::PasswordRequired { key: fpr.clone() })?;
        key.decrypt_secret(&Password::from(password))
            .map_err(|_| Error::WrongPassword { key: fpr.clone() })?
    } else {
        key
    };
    key.into_keypair().map_err(|e| Error::Signing(one_line(e)))
}

/// A reusable signer: the signing key is selected and decrypted once, then
/// any number of signatures can be made.
#[derive(Clone)]
pub struct Signer {
    keypair: KeyPair,
    cert_fingerprint: String,
    key_fingerprint: String,
    /// Fixed signature creation time, if any (otherwise: now).
    time: Option<SystemTime>,
    /// Pre-filled template (type, hash, issuer subpackets).
    template: SignatureBuilder,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("cert", &self.cert_fingerprint)
            .field("key", &self.key_fingerprint)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Selects the signing key of `secret` that is valid now and unlocks it
    /// with `password` (needed only if the key is encrypted).
    pub fn new(secret: &Cert, password: Option<&str>) -> Result<Self> {
        Self::build(secret, password, SystemTime::now(), None)
    }

    /// Like [`Signer::new`], but selects the key valid at `time` and dates
    /// every signature at `time` (for backdating and tests).  Verification
    /// checks the key against that time.
    pub fn new_at(secret: &Cert, password: Option<&str>, time: SystemTime) -> Result<Self> {
        Self::build(secret, password, time, Some(time))
    }

    fn build(
        secret: &Cert,
        password: Option<&str>,
        at: SystemTime,
        time: Option<SystemTime>,
    ) -> Result<Self> {
        let key = signing_key_at(secret, at)?;
        let key_fingerprint = key.fingerprint().to_hex();
        let keypair = unlock(key, password)?;
        let signing = |e| Error::Signing(one_line(e));
        let mut template = SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(HASH_ALGORITHM)
            .set_issuer_fingerprint(keypair.public().fingerprint())
            .map_err(signing)?
            .set_issuer(keypair.public().keyid())
            .map_err(signing)?;
        if let Some(t) = time {
            template = template.set_signature_creation_time(t).map_err(signing)?;
        }
        Ok(Signer {
            keypair,
            cert_fingerprint: secret.fingerprint().to_hex(),
            key_fingerprint,
            time,
            template,
        })
    }

    /// Fingerprint of the certificate (primary key).
    pub fn cert_fingerprint(&self) -> &str {
        &self.cert_fingerprint
    }

    /// Fingerprint of the (sub)key that signs.
    pub fn signing_key_fingerprint(&self) -> &str {
        &self.key_fingerprint
    }

    /// Makes a binary detached signature over a small in-memory message.
    /// The result is a single binary signature packet (no armor).
    pub fn sign_bytes(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let sig = self
            .template
            .clone()
            .sign_message(&mut self.keypair, data)
            .map_err(|e| Error::Signing(one_line(e)))?;
        Packet::from(sig)
            .to_vec()
            .map_err(|e| Error::Signing(one_line(e)))
    }

    /// Streams `data` (any size; read in 1 MiB chunks) into a binary-mode
    /// detached signature, armored (`PGP SIGNATURE`) if `armored`.
    pub fn sign_reader<R: Read>(&self, mut data: R, armored: bool) -> Result<Vec<u8>> {
        let signing = |e| Error::Signing(one_line(e));
        let mut out = Vec::new();
        {
            let mut message = Message::new(&mut out);
            if armored {
                message = Armorer::new(message)
                    .kind(armor::Kind::Signature)
                    .build()
                    .map_err(signing)?;
            }
            let mut builder = sq::serialize::stream::Signer::new(message, self.keypair.clone())
                .map_err(signing)?
                .detached()
                .hash_algo(HASH_ALGORITHM)
                .map_err(signing)?;
            if let Some(t) = self.time {
                builder = builder.creation_time(t);
            }
            let mut sink = builder.build().map_err(signing)?;
            let mut buf = vec![0u8; STREAM_BUFFER];
            loop {
                let n = match data.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::Io(e)),
                };
                let chunk = buf
                    .get(..n)
                    .ok_or_else(|| io::Error::other("reader returned more bytes than asked"))?;
                sink.write_all(chunk)?;
            }
            sink.finalize().map_err(signing)?;
        }
        Ok(out)
    }
}

/// ASCII-armors a binary signature (`-----BEGIN PGP SIGNATURE-----`).
pub fn armor_signature(binary: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(binary.len() * 4 / 3 + 128);
    {
        let mut writer = sq::armor::Writer::new(&mut out, armor::Kind::Signature)
            .map_err(|e| Error::Signing(one_line(e)))?;
        writer.write_all(binary)?;
        writer.finalize().map_err(|e| Error::Signing(one_line(e)))?;
    }
    String::from_utf8(out).map_err(|e| Error::Signing(one_line(e)))
}

/// Signs `data` (streamed) with the signing key of `secret`, unlocked with
/// `password`.  Returns a binary-mode detached signature, ASCII-armored if
/// `armored`.  Hash: [`HASH_ALGORITHM`].
pub fn sign_detached<R: Read>(
    secret: &Cert,
    password: Option<&str>,
    data: R,
    armored: bool,
) -> Result<Vec<u8>> {
    Signer::new(secret, password)?.sign_reader(data, armored)
}

/// Signs one small message with an already unlocked [`Signer`]; returns a
/// binary signature packet.  Meant for per-record signatures.
pub fn sign_detached_bytes(signer: &mut Signer, data: &[u8]) -> Result<Vec<u8>> {
    signer.sign_bytes(data)
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

/// A signature that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Fingerprint of the certificate (primary key) that signed.
    pub signer_fingerprint: String,
    /// Fingerprint of the (sub)key that made the signature.
    pub signing_key_fingerprint: String,
    /// Signature creation time.
    pub created: SystemTime,
}

/// Turns armored or binary signature input into binary packets.
/// The binary form of an armored or binary signature (armor checked and removed).
pub fn dearmor(signature: &[u8]) -> Result<Vec<u8>> {
    dearmor_signature(signature)
}

fn dearmor_signature(signature: &[u8]) -> Result<Vec<u8>> {
    let trimmed = signature.trim_ascii_start();
    let first = *trimmed.first().ok_or(Error::NoSignature)?;
    if trimmed.starts_with(b"-----") {
        let header = trimmed.split(|b| *b == b'\n').next().unwrap_or_default();
        let header = String::from_utf8_lossy(header);
        let header = header.trim();
        if header != "-----BEGIN PGP SIGNATURE-----" {
            return Err(Error::BadArmor(format!(
                "expected a PGP SIGNATURE block, found {:?}",
                header.chars().take(64).collect::<String>()
            )));
        }
        if let Some(bytes) = crate::armor::canonical_signature(trimmed) {
            return Ok(bytes);
        }
        let mut reader = armor::Reader::from_bytes(
            trimmed,
            armor::ReaderMode::Tolerant(Some(armor::Kind::Signature)),
        );
        let mut out = Vec::new();
        reader
            .read_to_end(&mut out)
            .map_err(|e| Error::BadArmor(one_line(e)))?;
        if out.is_empty() {
            return Err(Error::BadArmor("no PGP SIGNATURE block found".to_string()));
        }
        Ok(out)
    } else if first & 0x80 == 0 {
        Err(Error::NotASignature(
            "neither ASCII armor nor binary OpenPGP data".to_string(),
        ))
    } else {
        Ok(signature.to_vec())
    }
}

/// Parses binary packets that must all be signatures.
fn parse_signatures(binary: &[u8]) -> Result<Vec<Signature>> {
    let pile = PacketPile::from_bytes(binary).map_err(|e| Error::NotASignature(one_line(e)))?;
    let mut sigs = Vec::new();
    for packet in pile.into_children() {
        match packet {
            Packet::Signature(sig) => sigs.push(sig),
            Packet::Unknown(u) if u.tag() == sq::packet::Tag::Signature => {
                return Err(Error::MalformedSignature(one_line(u.error())));
            }
            other => {
                return Err(Error::NotASignature(format!(
                    "found a {} instead",
                    other.tag()
                )));
            }
        }
    }
    if sigs.is_empty() {
        return Err(Error::NoSignature);
    }
    Ok(sigs)
}

/// The signing key a signature names, checked for validity at the
/// signature's creation time.
#[derive(Clone)]
struct CheckedKey {
    key: Key<PublicParts, UnspecifiedRole>,
    fingerprint: String,
}

/// Every check except the cryptographic one and the per-signature checks:
/// the issuer must be a key of `cert`, that key and the certificate must be
/// bound, alive and unrevoked at the signature creation time, and the key
/// must be signing-capable.  `Err(UnknownSigner)` means "not our key".
fn check_key(cert: &Cert, sig: &Signature) -> Result<CheckedKey> {
    let sig_time = sig
        .signature_creation_time()
        .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
    let issuers = sig.get_issuers();
    let first = issuers
        .first()
        .ok_or_else(|| Error::MalformedSignature("no issuer".to_string()))?
        .to_hex();
    let mut result = Err(Error::UnknownSigner(first));
    for ka in cert.keys().key_handles(issuers.iter()) {
        let fpr = ka.key().fingerprint().to_hex();
        result = (|| {
            valid_cert_at(cert, sig_time)?;
            let vka = ka
                .clone()
                .with_policy(&POLICY, sig_time)
                .map_err(|e| policy_error(&fpr, ka.key().creation_time(), sig_time, e))?;
            if let RevocationStatus::Revoked(sigs) = vka.revocation_status() {
                return Err(Error::KeyRevoked {
                    key: fpr.clone(),
                    reason: revocation_reason(&sigs),
                });
            }
            if vka.alive().is_err() {
                return Err(not_alive_error(
                    fpr.clone(),
                    sig_time,
                    vka.key().creation_time(),
                    vka.key_expiration_time(),
                ));
            }
            if !vka.for_signing() {
                return Err(Error::NotSigningCapable { key: fpr.clone() });
            }
            Ok(CheckedKey {
                key: vka.key().clone(),
                fingerprint: fpr.clone(),
            })
        })();
        if result.is_ok() {
            break;
        }
    }
    result
}

/// Per-signature checks that do not depend on the key: binary type, policy
/// (hash algorithm etc.), and that the signature is alive now.
fn check_signature_itself(sig: &Signature) -> Result<()> {
    if sig.typ() != SignatureType::Binary {
        return Err(Error::NotBinarySignature(sig.typ().to_string()));
    }
    POLICY
        .signature(sig, HashAlgoSecurity::CollisionResistance)
        .map_err(|e| Error::PolicyRejected(one_line(e)))?;
    sig.signature_alive(None, None)
        .map_err(|e| Error::SignatureNotAlive(one_line(e)))?;
    Ok(())
}

/// Full explanation of why `sig` is not acceptable, or `Ok` if every check
/// except the digest passes.
fn diagnose(cert: &Cert, sig: &Signature) -> Result<CheckedKey> {
    check_signature_itself(sig)?;
    check_key(cert, sig)
}

/// Combines per-signature outcomes: at least one good signature, no
/// failure other than "not our key".
fn combine(outcomes: Vec<Result<Verified>>) -> Result<Verified> {
    let mut good = None;
    let mut unknown = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(v) => {
                if good.is_none() {
                    good = Some(v);
                }
            }
            Err(Error::UnknownSigner(k)) => unknown.push(k),
            Err(e) => return Err(e),
        }
    }
    match good {
        Some(v) => Ok(v),
        None if unknown.is_empty() => Err(Error::NoSignature),
        None => Err(Error::UnknownSigner(unknown.join(", "))),
    }
}

/// Verification helper for sequoia's `DetachedVerifier`.
struct Helper<'c> {
    cert: &'c Cert,
    outcome: Option<Result<Verified>>,
}

impl Helper<'_> {
    fn judge_good(&self, good: &GoodChecksum<'_>) -> Result<Verified> {
        let ka = &good.ka;
        let key = ka.key().fingerprint().to_hex();
        if ka.cert().fingerprint() != self.cert.fingerprint() {
            return Err(Error::UnknownSigner(key));
        }
        if !ka.for_signing() {
            return Err(Error::NotSigningCapable { key });
        }
        // Defence in depth: our own checks must agree with sequoia's.
        let checked = diagnose(self.cert, good.sig)?;
        let created = good
            .sig
            .signature_creation_time()
            .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
        Ok(Verified {
            signer_fingerprint: self.cert.fingerprint().to_hex(),
            signing_key_fingerprint: checked.fingerprint,
            created,
        })
    }

    fn judge_error(&self, err: &VerificationError<'_>) -> Error {
        let sig = match err {
            VerificationError::MalformedSignature { error, .. } => {
                return Error::MalformedSignature(one_line(error));
            }
            VerificationError::UnknownSignature { sig } => {
                return Error::MalformedSignature(one_line(sig.error()));
            }
            VerificationError::MissingKey { sig } => sig,
            VerificationError::UnboundKey { sig, .. } => sig,
            VerificationError::BadKey { sig, .. } => sig,
            VerificationError::BadSignature { sig, .. } => sig,
            other => return Error::Verification(one_line(other)),
        };
        match (diagnose(self.cert, sig), err) {
            (Err(e), _) => e,
            (Ok(k), VerificationError::BadSignature { .. }) => {
                Error::BadSignature { key: k.fingerprint }
            }
            // Sequoia rejected something our checks accept: fail closed.
            (Ok(k), other) => Error::KeyNotValid {
                key: k.fingerprint,
                reason: one_line(other),
            },
        }
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> sq::Result<Vec<Cert>> {
        Ok(vec![self.cert.clone()])
    }

    fn check(&mut self, structure: MessageStructure<'_>) -> sq::Result<()> {
        let mut outcomes = Vec::new();
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        outcomes.push(match r {
                            Ok(good) => self.judge_good(&good),
                            Err(e) => Err(self.judge_error(&e)),
                        });
                    }
                }
                _ => {
                    outcomes.push(Err(Error::NotASignature(
                        "unexpected compression or encryption layer".to_string(),
                    )));
                }
            }
        }
        let outcome = combine(outcomes);
        let failed = outcome.is_err();
        self.outcome = Some(outcome);
        if failed {
            Err(sq::Error::BadSignature("rejected".to_string()).into())
        } else {
            Ok(())
        }
    }
}

/// Verifies a detached signature (armored or binary) over `data` (streamed)
/// against exactly one certificate.  Fails closed: see [`Error`] for the
/// reasons.  The signature must be a binary-mode signature made by a
/// signing-capable key of `cert` that was bound, alive and not revoked at
/// the signature's creation time (hard revocations count at any time).
pub fn verify_detached<R: Read + Send + Sync>(
    cert: &Cert,
    data: R,
    signature: &[u8],
) -> Result<Verified> {
    let binary = dearmor_signature(signature)?;
    // Classify garbage up front so the error says what is wrong.
    parse_signatures(&binary)?;
    let helper = Helper {
        cert,
        outcome: None,
    };
    let mut verifier = DetachedVerifierBuilder::from_bytes(&binary)
        .map_err(|e| Error::NotASignature(one_line(e)))?
        .with_policy(&POLICY, None, helper)
        .map_err(|e| Error::Verification(one_line(e)))?;
    let result = verifier.verify_reader(data);
    let outcome = verifier.helper_mut().outcome.take();
    match (result, outcome) {
        (Ok(()), Some(Ok(v))) => Ok(v),
        (_, Some(Err(e))) => Err(e),
        (Err(e), _) => match e.downcast::<io::Error>() {
            Ok(io) => Err(Error::Io(io)),
            Err(e) => Err(Error::Verification(one_line(e))),
        },
        (Ok(()), None) => Err(Error::Verification(
            "verifier did not check any signature".to_string(),
        )),
    }
}

/// Reads a whole signature file and verifies `data` against it; see
/// [`verify_detached`].
pub fn verify_detached_file(
    cert: &Cert,
    data: &std::path::Path,
    signature: &std::path::Path,
) -> Result<Verified> {
    let sig = std::fs::read(signature)?;
    let file = std::fs::File::open(data)?;
    verify_detached(
        cert,
        io::BufReader::with_capacity(STREAM_BUFFER, file),
        &sig,
    )
}

/// A verified signature of a message, and the message's SHA-256 when computed on the way
/// (see [`Verifier::verify_many`]).
pub type VerifiedMessage = (Verified, Option<[u8; 32]>);

/// A signature made ready for the signature equation (see [`Verifier::verify_many`]).
struct Prepared {
    sig: Signature,
    checked: CheckedKey,
    created: SystemTime,
    digest: Vec<u8>,
    message_sha256: Option<[u8; 32]>,
    ed25519: Option<(ed25519_dalek::VerifyingKey, ed25519_dalek::Signature)>,
}

/// The Ed25519 public key and signature when `key` is an Ed25519 key (legacy EdDSA or v6
/// Ed25519) and `sig` an Ed25519 signature; `None` for anything else, including a weak key
/// or a signature whose `R` is of small order (left to sequoia, which rejects them).
fn ed25519_values(
    key: &Key<PublicParts, UnspecifiedRole>,
    sig: &Signature,
) -> Option<(ed25519_dalek::VerifyingKey, ed25519_dalek::Signature)> {
    use sq::crypto::mpi;
    use sq::types::Curve;
    let public: [u8; 32] = match key.mpis() {
        mpi::PublicKey::EdDSA {
            curve: Curve::Ed25519,
            q,
        } => q.decode_point(&Curve::Ed25519).ok()?.0.try_into().ok()?,
        mpi::PublicKey::Ed25519 { a } => *a,
        _ => return None,
    };
    let bytes: [u8; 64] = match sig.mpis() {
        mpi::Signature::EdDSA { r, s } => {
            let mut b = [0u8; 64];
            b[..32].copy_from_slice(&r.value_padded(32).ok()?);
            b[32..].copy_from_slice(&s.value_padded(32).ok()?);
            b
        }
        mpi::Signature::Ed25519 { s } => **s,
        _ => return None,
    };
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
        .ok()
        .filter(|k| !k.is_weak())?;
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    if crate::ed25519::small_order_r(&signature) {
        return None;
    }
    Some((key, signature))
}

/// Fast verifier of many small messages against one certificate.
///
/// Applies the same rules as [`verify_detached`], but hashes in memory and
/// caches the key-validity result per (issuer, signature creation second),
/// which is sound because the certificate and policy never change during the
/// verifier's life.  Use one per thread.
#[derive(Clone)]
pub struct Verifier {
    cert: Cert,
    cache: HashMap<(Vec<u8>, SystemTime), CheckedKey>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("cert", &self.cert.fingerprint().to_hex())
            .field("cached_keys", &self.cache.len())
            .finish()
    }
}

impl Verifier {
    /// A verifier for signatures by `cert`.
    pub fn new(cert: &Cert) -> Self {
        Verifier {
            cert: cert.clone(),
            cache: HashMap::new(),
        }
    }

    /// Verifies `signature` (armored or binary) over `data`.
    pub fn verify(&mut self, data: &[u8], signature: &[u8]) -> Result<Verified> {
        let binary = dearmor_signature(signature)?;
        let sigs = parse_signatures(&binary)?;
        let mut outcomes = Vec::with_capacity(sigs.len());
        for sig in &sigs {
            outcomes.push(self.verify_one(data, sig));
        }
        combine(outcomes)
    }

    /// Verifies many signatures of short messages (records), each one binary-mode signature,
    /// armored or not, with the same checks as [`Verifier::verify`] but the Ed25519 arithmetic
    /// batched. Each result also carries the SHA-256 of the message when the signature hashes
    /// with unsalted SHA-256 (computed in the same pass as the signature's digest), so that a
    /// caller comparing record hashes need not hash the message again.
    pub fn verify_many(
        &mut self,
        items: &[(&[u8], &[u8])],
    ) -> Vec<Result<(Verified, Option<[u8; 32]>)>> {
        let mut results: Vec<Option<Result<VerifiedMessage>>> =
            items.iter().map(|_| None).collect();
        let mut batch: Vec<(usize, Prepared)> = Vec::with_capacity(items.len());
        for (i, (message, signature)) in items.iter().enumerate() {
            match self.prepare(message, signature) {
                Ok(Some(p)) => batch.push((i, p)),
                // Several signatures in one: the general path decides.
                Ok(None) => results[i] = Some(self.verify(message, signature).map(|v| (v, None))),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        // Ed25519 signatures first as batches of 64, then one by one where a batch fails and
        // for other algorithms (sequoia's own verification, with its exact errors).
        let eddsa: Vec<usize> = (0..batch.len())
            .filter(|&j| batch[j].1.ed25519.is_some())
            .collect();
        let mut verified = vec![false; batch.len()];
        for chunk in eddsa.chunks(64) {
            let mut messages: Vec<&[u8]> = Vec::with_capacity(chunk.len());
            let mut signatures = Vec::with_capacity(chunk.len());
            let mut keys = Vec::with_capacity(chunk.len());
            for &j in chunk {
                if let Some((key, sig)) = &batch[j].1.ed25519 {
                    messages.push(&batch[j].1.digest);
                    signatures.push(*sig);
                    keys.push(*key);
                }
            }
            if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
                for &j in chunk {
                    verified[j] = true;
                }
            }
        }
        for (j, (i, p)) in batch.into_iter().enumerate() {
            let ok = verified[j] || p.sig.verify_digest(&p.checked.key, &p.digest).is_ok();
            results[i] = Some(if ok {
                Ok((
                    Verified {
                        signer_fingerprint: self.cert.fingerprint().to_hex(),
                        signing_key_fingerprint: p.checked.fingerprint,
                        created: p.created,
                    },
                    p.message_sha256,
                ))
            } else {
                Err(Error::BadSignature {
                    key: p.checked.fingerprint,
                })
            });
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Verification("not verified".to_string()))))
            .collect()
    }

    /// Everything but the signature equation: parsing, the checks of [`Verifier::verify`],
    /// the digest, and the Ed25519 values when the key and signature are Ed25519. `None` when
    /// the input holds more than one signature.
    fn prepare(&mut self, message: &[u8], signature: &[u8]) -> Result<Option<Prepared>> {
        let binary = dearmor_signature(signature)?;
        let mut sigs = parse_signatures(&binary)?;
        if sigs.len() != 1 {
            return Ok(None);
        }
        let Some(sig) = sigs.pop() else {
            return Err(Error::NoSignature);
        };
        check_signature_itself(&sig)?;
        let created = sig
            .signature_creation_time()
            .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
        let cache_key = sig
            .get_issuers()
            .first()
            .map(|h| (h.as_bytes().to_vec(), created));
        let checked = match cache_key.as_ref().and_then(|k| self.cache.get(k)) {
            Some(c) => c.clone(),
            None => {
                let c = check_key(&self.cert, &sig)?;
                if let Some(k) = cache_key {
                    if self.cache.len() >= VERIFIER_CACHE_MAX {
                        self.cache.clear();
                    }
                    self.cache.insert(k, c.clone());
                }
                c
            }
        };
        fn failed<E: fmt::Display>(e: E) -> Error {
            Error::Verification(one_line(e))
        }
        let mut hash = sig
            .hash_algo()
            .context()
            .map_err(failed)?
            .for_signature(sig.version());
        if let Some(salt) = sig.salt() {
            hash.update(salt);
        }
        hash.update(message);
        let message_sha256 = if sig.hash_algo() == HashAlgorithm::SHA256 && sig.salt().is_none() {
            hash.clone()
                .into_digest()
                .ok()
                .and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
        } else {
            None
        };
        sq::crypto::hash::Hash::hash(&sig, &mut hash).map_err(failed)?;
        let digest = hash.into_digest().map_err(failed)?;
        let ed25519 = ed25519_values(&checked.key, &sig);
        Ok(Some(Prepared {
            sig,
            checked,
            created,
            digest,
            message_sha256,
            ed25519,
        }))
    }

    fn verify_one(&mut self, data: &[u8], sig: &Signature) -> Result<Verified> {
        check_signature_itself(sig)?;
        let created = sig
            .signature_creation_time()
            .ok_or_else(|| Error::MalformedSignature("no signature creation time".to_string()))?;
        let cache_key = sig
            .get_issuers()
            .first()
            .map(|h| (h.as_bytes().to_vec(), created));
        let checked = match cache_key.as_ref().and_then(|k| self.cache.get(k)) {
            Some(c) => c.clone(),
            None => {
                let c = check_key(&self.cert, sig)?;
                if let Some(k) = cache_key {
                    if self.cache.len() >= VERIFIER_CACHE_MAX {
                        self.cache.clear();
                    }
                    self.cache.insert(k, c.clone());
                }
                c
            }
        };
        sig.verify_message(&checked.key, data)
            .map_err(|_| Error::BadSignature {
                key: checked.fingerprint.clone(),
            })?;
        Ok(Verified {
            signer_fingerprint: self.cert.fingerprint().to_hex(),
            signing_key_fingerprint: checked.fingerprint,
            created,
        })
    }
}
