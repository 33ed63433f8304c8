//! A certificate chain (leaf first), its leaf's public key and a description of who it names.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1};
use const_oid::db::rfc8410::ID_ED_25519;
use der::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::error::X509Error;
use super::pem::{self, CERTIFICATE};

/// RSA moduli accepted, in bits: go-embeddingsdb's keys are at least 2048 bits (smaller ones
/// are breakable), and 4096 is the largest a TLS certificate authority issues.
pub const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// The signature algorithm a certificate's key implies, as go-embeddingsdb uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA PKCS#1 v1.5 over SHA-256, with a modulus of this many bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// ECDSA on P-256, ASN.1 signatures over SHA-256.
    EcdsaP256,
    /// ECDSA on P-384, ASN.1 signatures over SHA-256 (not SHA-384: the Go tool hashes with
    /// SHA-256 whatever the curve).
    EcdsaP384,
    /// Pure Ed25519.
    Ed25519,
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyAlgorithm::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyAlgorithm::EcdsaP384 => f.write_str("ECDSA P-384"),
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// Who a certificate names, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// The subject's distinguished name (RFC 4514 form).
    pub subject: String,
    /// The DNS names of its subject alternative names.
    pub dns_names: Vec<String>,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The serial number, hex.
    pub serial: String,
    /// SHA-256 of the certificate's DER, hex pairs joined by `:` (as `openssl x509
    /// -fingerprint -sha256` prints it).
    pub sha256_fingerprint: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// The key's algorithm, e.g. `RSA-2048`, `ECDSA P-256`, `Ed25519`.
    pub key: String,
}

/// A parsed certificate.
#[derive(Debug, Clone)]
pub struct ParsedCertificate {
    der: Vec<u8>,
    cert: Certificate,
}

impl ParsedCertificate {
    /// Parses one DER certificate (`index` is its 1-based place in its file, for errors).
    pub fn from_der(der: Vec<u8>, index: usize) -> Result<Self, X509Error> {
        let cert = Certificate::from_der(&der).map_err(|e| X509Error::BadCertificate {
            index,
            reason: e.to_string(),
        })?;
        Ok(Self { der, cert })
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Subject, RFC 4514 form.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// Issuer, RFC 4514 form.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// Unix seconds of the start and end of validity.
    pub fn validity(&self) -> (u64, u64) {
        let v = &self.cert.tbs_certificate.validity;
        (
            v.not_before.to_unix_duration().as_secs(),
            v.not_after.to_unix_duration().as_secs(),
        )
    }

    /// The SHA-256 fingerprint, `AB:CD:…`.
    pub fn fingerprint(&self) -> String {
        colon_hex(&Sha256::digest(&self.der))
    }

    /// The DER of the subjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, X509Error> {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| X509Error::BadCertificate {
                index: 1,
                reason: e.to_string(),
            })
    }

    /// The subject public key's bytes (the BIT STRING's content).
    pub fn public_key_bytes(&self) -> &[u8] {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
    }

    /// The signature algorithm the key implies; refuses RSA keys outside [`RSA_BITS`].
    pub fn key_algorithm(&self) -> Result<KeyAlgorithm, X509Error> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        let oid = spki.algorithm.oid;
        if oid == RSA_ENCRYPTION {
            let key = pkcs1::RsaPublicKey::from_der(self.public_key_bytes())
                .map_err(|e| X509Error::UnsupportedKey(format!("RSA key does not parse: {e}")))?;
            let bits = bit_length(key.modulus.as_bytes());
            if !RSA_BITS.contains(&bits) {
                return Err(X509Error::RsaKeySize {
                    bits,
                    min: *RSA_BITS.start(),
                    max: *RSA_BITS.end(),
                });
            }
            Ok(KeyAlgorithm::Rsa { bits })
        } else if oid == ID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(c) if c == SECP_256_R_1 => Ok(KeyAlgorithm::EcdsaP256),
                Some(c) if c == SECP_384_R_1 => Ok(KeyAlgorithm::EcdsaP384),
                Some(c) => Err(X509Error::UnsupportedKey(format!("ECDSA on curve {c}"))),
                None => Err(X509Error::UnsupportedKey(
                    "ECDSA key without a named curve".into(),
                )),
            }
        } else if oid == ID_ED_25519 {
            Ok(KeyAlgorithm::Ed25519)
        } else {
            Err(X509Error::UnsupportedKey(format!("algorithm {oid}")))
        }
    }

    /// Whether the certificate may issue others (basicConstraints cA).
    pub fn is_ca(&self) -> bool {
        matches!(
            self.cert
                .tbs_certificate
                .get::<x509_cert::ext::pkix::BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        )
    }

    /// The DNS names of the subject alternative names.
    pub fn dns_names(&self) -> Vec<String> {
        match self.cert.tbs_certificate.get::<SubjectAltName>() {
            Ok(Some((_, san))) => san
                .0
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DnsName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A description for reports.
    pub fn info(&self) -> CertificateInfo {
        let (not_before, not_after) = self.validity();
        CertificateInfo {
            subject: self.subject(),
            dns_names: self.dns_names(),
            issuer: self.issuer(),
            serial: hex(self.cert.tbs_certificate.serial_number.as_bytes()),
            sha256_fingerprint: self.fingerprint(),
            not_before: rfc3339(not_before),
            not_after: rfc3339(not_after),
            key: self
                .key_algorithm()
                .map(|k| k.to_string())
                .unwrap_or_else(|e| e.to_string()),
        }
    }
}

/// A certificate and the chain that issued it, leaf first, as a user gives it with `--key`
/// (go-embeddingsdb's `-signatures.pub` is the leaf alone).
#[derive(Debug, Clone)]
pub struct CertificateChain {
    certs: Vec<ParsedCertificate>,
    algorithm: KeyAlgorithm,
}

impl CertificateChain {
    /// Parses PEM `CERTIFICATE` blocks, leaf first; each must be issued by the next. The
    /// leaf's key must be one go-embeddingsdb signs with.
    pub fn from_pem(text: &[u8]) -> Result<Self, X509Error> {
        let mut certs = Vec::new();
        for (i, (label, der)) in pem::decode_blocks(text)?.into_iter().enumerate() {
            if label != CERTIFICATE {
                return Err(X509Error::WrongPemType {
                    found: label,
                    expected: CERTIFICATE,
                });
            }
            certs.push(ParsedCertificate::from_der(der, i + 1)?);
        }
        Self::from_certificates(certs)
    }

    /// A chain of parsed certificates, leaf first.
    pub fn from_certificates(certs: Vec<ParsedCertificate>) -> Result<Self, X509Error> {
        let leaf = certs.first().ok_or(X509Error::Empty("certificate"))?;
        for (i, pair) in certs.windows(2).enumerate() {
            if pair[0].cert.tbs_certificate.issuer != pair[1].cert.tbs_certificate.subject {
                return Err(X509Error::ChainOrder {
                    index: i + 1,
                    issuer: pair[0].issuer(),
                    next: i + 2,
                    subject: pair[1].subject(),
                });
            }
        }
        let algorithm = leaf.key_algorithm()?;
        Ok(Self { certs, algorithm })
    }

    /// The leaf: the certificate whose key signed.
    pub fn leaf(&self) -> &ParsedCertificate {
        &self.certs[0]
    }

    /// The certificates after the leaf.
    pub fn intermediates(&self) -> &[ParsedCertificate] {
        &self.certs[1..]
    }

    /// The leaf's signature algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The leaf as PEM, as go-embeddingsdb writes its `-signatures.pub`.
    pub fn leaf_pem(&self) -> String {
        pem::encode(CERTIFICATE, self.leaf().der())
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Uppercase hex pairs joined by `:`.
pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let bytes = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    bytes.len() * 8 - bytes[0].leading_zeros() as usize
}

/// Unix seconds as RFC 3339.
pub(crate) fn rfc3339(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{seconds}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn text_that_is_not_pem_is_named() {
        assert!(matches!(
            CertificateChain::from_pem(b"hello"),
            Err(X509Error::NotPem(_))
        ));
        assert_eq!(
            CertificateChain::from_pem(b"").unwrap_err(),
            X509Error::Empty("certificate")
        );
        let key = pem::encode("PRIVATE KEY", b"\x30\x00");
        assert!(matches!(
            CertificateChain::from_pem(key.as_bytes()),
            Err(X509Error::WrongPemType { .. })
        ));
        let garbage = pem::encode(CERTIFICATE, b"\x30\x03\x02\x01\x00");
        assert!(matches!(
            CertificateChain::from_pem(garbage.as_bytes()),
            Err(X509Error::BadCertificate { index: 1, .. })
        ));
    }
}
