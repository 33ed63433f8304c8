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
    Ring(ring::signature::UnparsedPublicKey<Vec<u8>>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl RecordVerifier {
    /// A verifier for the leaf of `chain`.
    pub fn new(chain: &CertificateChain) -> Result<Self, X509Error> {
        let algorithm = chain.algorithm();
        let key = chain.leaf().public_key_bytes().to_vec();
        let inner = match algorithm {
            KeyAlgorithm::Rsa { .. } => Inner::Ring(ring::signature::UnparsedPublicKey::new(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                key,
            )),
            KeyAlgorithm::EcdsaP256 => Inner::Ring(ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_ASN1,
                key,
            )),
            KeyAlgorithm::EcdsaP384 => Inner::Ring(ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P384_SHA256_ASN1,
                key,
            )),
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
        if let Some(problem) = self.length_problem(signature.len()) {
            return Err(problem);
        }
        let good = match &self.inner {
            Inner::Ring(key) => key.verify(message, signature).is_ok(),
            Inner::Ed25519(key) => ed25519::verify_chunk(key, &[(message, signature)])
                .first()
                .copied()
                .unwrap_or(false),
        };
        if good {
            Ok(())
        } else {
            Err(format!("the {} signature does not verify", self.algorithm))
        }
    }

    /// Verifies many signatures on this thread (Ed25519 in batches).
    pub fn verify_chunk(&self, items: &[(&[u8], &[u8])]) -> Vec<Result<(), String>> {
        match &self.inner {
            Inner::Ring(_) => items.iter().map(|(m, s)| self.verify(m, s)).collect(),
            Inner::Ed25519(key) => {
                let verdicts = ed25519::verify_chunk(key, items);
                items
                    .iter()
                    .zip(verdicts)
                    .map(|((_, s), good)| match self.length_problem(s.len()) {
                        Some(problem) => Err(problem),
                        None if good => Ok(()),
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
