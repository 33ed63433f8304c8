//! OpenPGP certificates: generating, loading, selecting and describing them.

use std::fmt;
use std::time::{Duration, SystemTime};

use sequoia_openpgp as sq;
use sq::cert::prelude::{CertBuilder, CertParser, CipherSuite};
use sq::crypto::Password;
use sq::packet::Signature;
use sq::parse::Parse;
use sq::serialize::SerializeInto;
use sq::types::RevocationStatus;
use sq::{Cert, Fingerprint, KeyHandle, KeyID, Packet, Profile};

use super::{Error, POLICY, Result, one_line};

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

/// Reads a certificate file or keyring (a regular file of at most
/// [`oembeddings::input::limits::KEY_FILE`]); see [`load_certs`].
pub fn load_certs_file(path: &std::path::Path) -> Result<Vec<Cert>> {
    load_certs(&oembeddings::input::read_capped(
        path,
        oembeddings::input::limits::KEY_FILE,
    )?)
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
