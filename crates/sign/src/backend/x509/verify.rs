//! Record signature checks under a certificate's key, as go-embeddingsdb's
//! `X509Verifier.Verify` makes them, but strict: a signature of the wrong length is named as
//! such, and Ed25519 is verified strictly (canonical `s`, no small-order `R`; weak keys refused).

use super::certificate::{CertificateChain, KeyAlgorithm};
use super::error::X509Error;
use crate::backend::ed25519;

/// The longest DER ECDSA signature: SEQUENCE of two INTEGERs of the order's size plus a sign
/// byte each (P-256: 72 bytes, P-384: 104).
fn max_ecdsa_len(order_bytes: usize) -> usize {
    2 + 2 * (3 + order_bytes)
}

/// Verifies record signatures under one certificate's public key.
#[derive(Debug)]
pub struct RecordVerifier {
    algorithm: KeyAlgorithm,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// RSA and ECDSA, which sign SHA-256(message): the key parsed once, verifying the digest
    /// the caller needs too (the record's `record_hash`), so each message is hashed once.
    Hashed(aws_lc_rs::signature::ParsedPublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// The key of `algorithm` (RSA PKCS#1 v1.5 or ECDSA ASN.1, both over SHA-256, as
/// go-embeddingsdb signs), parsed once.
fn hashed_key(
    algorithm: &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    key: &[u8],
    named: KeyAlgorithm,
) -> Result<Inner, X509Error> {
    aws_lc_rs::signature::ParsedPublicKey::new(algorithm, key)
        .map(Inner::Hashed)
        .map_err(|e| X509Error::UnsupportedKey(format!("an {named} key that is malformed ({e})")))
}

impl RecordVerifier {
    /// A verifier for the leaf of `chain`.
    pub fn new(chain: &CertificateChain) -> Result<Self, X509Error> {
        let algorithm = chain.algorithm();
        let key = chain.leaf().public_key_bytes().to_vec();
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA256_ASN1, RSA_PKCS1_2048_8192_SHA256,
        };
        let inner = match algorithm {
            KeyAlgorithm::Rsa { .. } => hashed_key(&RSA_PKCS1_2048_8192_SHA256, &key, algorithm)?,
            KeyAlgorithm::EcdsaP256 => hashed_key(&ECDSA_P256_SHA256_ASN1, &key, algorithm)?,
            KeyAlgorithm::EcdsaP384 => hashed_key(&ECDSA_P384_SHA256_ASN1, &key, algorithm)?,
            KeyAlgorithm::Ed25519 => {
                let bytes: [u8; 32] = key.as_slice().try_into().map_err(|_| {
                    X509Error::UnsupportedKey("an Ed25519 key that is not 32 bytes".into())
                })?;
                let k = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                    X509Error::UnsupportedKey("an Ed25519 key that is not a point".into())
                })?;
                if k.is_weak() {
                    return Err(X509Error::UnsupportedKey(
                        "a weak Ed25519 key (a small-order point)".into(),
                    ));
                }
                Inner::Ed25519(k)
            }
        };
        Ok(Self { algorithm, inner })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// Why a signature of this length cannot be one of this key's, if it cannot.
    fn length_problem(&self, len: usize) -> Option<String> {
        let algorithm = self.algorithm;
        let fits = match algorithm {
            KeyAlgorithm::Rsa { bits } => len == bits.div_ceil(8),
            KeyAlgorithm::EcdsaP256 => (8..=max_ecdsa_len(32)).contains(&len),
            KeyAlgorithm::EcdsaP384 => (8..=max_ecdsa_len(48)).contains(&len),
            KeyAlgorithm::Ed25519 => len == 64,
        };
        (!fits).then(|| {
            let expected = match algorithm {
                KeyAlgorithm::Rsa { bits } => format!("{} bytes", bits.div_ceil(8)),
                KeyAlgorithm::EcdsaP256 => format!("8 to {} bytes (ASN.1)", max_ecdsa_len(32)),
                KeyAlgorithm::EcdsaP384 => format!("8 to {} bytes (ASN.1)", max_ecdsa_len(48)),
                KeyAlgorithm::Ed25519 => "64 bytes".to_owned(),
            };
            format!("signature of {len} bytes; an {algorithm} signature has {expected}")
        })
    }

    /// Verifies one signature; the error is the reason, in one line.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        self.verify_hashed(message, signature).map(drop)
    }

    /// Verifies one signature; when it verifies, the message's SHA-256 if the check computed
    /// it (RSA and ECDSA sign it), so that the caller need not hash the message again.
    fn verify_hashed(&self, message: &[u8], signature: &[u8]) -> Result<Option<[u8; 32]>, String> {
        if let Some(problem) = self.length_problem(signature.len()) {
            return Err(problem);
        }
        let verified = match &self.inner {
            Inner::Hashed(key) => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
                key.verify_digest_sig(&digest, signature)
                    .ok()
                    .and_then(|()| digest.as_ref().try_into().ok())
                    .map(Some)
            }
            Inner::Ed25519(key) => ed25519::verify_chunk(key, &[(message, signature)])
                .first()
                .is_some_and(|good| *good)
                .then_some(None),
        };
        verified.ok_or_else(|| format!("the {} signature does not verify", self.algorithm))
    }

    /// Verifies many signatures on this thread (Ed25519 in batches); each verdict carries
    /// the message's SHA-256 when the check computed it (see [`RecordVerifier::verify_hashed`]).
    pub fn verify_chunk(&self, items: &[(&[u8], &[u8])]) -> Vec<Result<Option<[u8; 32]>, String>> {
        match &self.inner {
            Inner::Hashed(_) => items
                .iter()
                .map(|(m, s)| self.verify_hashed(m, s))
                .collect(),
            Inner::Ed25519(key) => {
                let verdicts = ed25519::verify_chunk(key, items);
                items
                    .iter()
                    .zip(verdicts)
                    .map(|((_, s), good)| match self.length_problem(s.len()) {
                        Some(problem) => Err(problem),
                        None if good => Ok(None),
                        None => Err("the Ed25519 signature does not verify".to_owned()),
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_bounds() {
        assert_eq!(max_ecdsa_len(32), 72);
        assert_eq!(max_ecdsa_len(48), 104);
    }
}
