//! Private keys in the forms go-embeddingsdb's `tls.LoadKeyFromPEM` reads, and signing as its
//! `X509Signer.Sign` does.
//!
//! Like Go, the first PEM block's content is tried as PKCS#8, then PKCS#1 (RSA), then SEC1
//! (EC), whatever its label. Unlike Go, the key must be the certificate's: the Go signer signs
//! with a mismatched key and only its `-verify` pass then drops every record.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1};
use const_oid::db::rfc8410::ID_ED_25519;
use der::Decode;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use sha2::{Digest, Sha256};

use super::certificate::{CertificateChain, KeyAlgorithm};
use super::error::X509Error;
use super::pem;

/// A private key of one of the algorithms go-embeddingsdb signs with.
enum PrivateKey {
    Rsa(ring::rsa::KeyPair),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        f.write_str(match self {
            PrivateKey::Rsa(_) => "PrivateKey::Rsa",
            PrivateKey::P256(_) => "PrivateKey::P256",
            PrivateKey::P384(_) => "PrivateKey::P384",
            PrivateKey::Ed25519(_) => "PrivateKey::Ed25519",
        })
    }
}

/// A certificate with its private key: what go-embeddingsdb's `tls://` signer holds.
#[derive(Debug)]
pub struct X509SecretKey {
    chain: CertificateChain,
    key: PrivateKey,
    rng: ring::rand::SystemRandom,
}

impl X509SecretKey {
    /// The certificate (PEM, leaf first) and its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(certificate: &[u8], key: &[u8]) -> Result<Self, X509Error> {
        let chain = CertificateChain::from_pem(certificate)?;
        let (_, der) = pem::decode_block(key)?;
        let key = parse_private_key(&der)?;
        let out = Self {
            chain,
            key,
            rng: ring::rand::SystemRandom::new(),
        };
        out.check_pair()?;
        Ok(out)
    }

    /// The certificate chain.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// The signature of `message`, raw (go-embeddingsdb wraps it with
    /// [`pem::encode_signature`]): RSA PKCS#1 v1.5 or ECDSA ASN.1 over SHA-256(message), or
    /// Ed25519 over the message.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, X509Error> {
        match &self.key {
            PrivateKey::Rsa(k) => {
                let mut out = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    message,
                    &mut out,
                )
                .map_err(|e| X509Error::Signing(e.to_string()))?;
                Ok(out)
            }
            PrivateKey::P256(k) => {
                let signature: p256::ecdsa::Signature = k
                    .sign_prehash(&Sha256::digest(message))
                    .map_err(|e| X509Error::Signing(e.to_string()))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            PrivateKey::P384(k) => {
                let signature: p384::ecdsa::Signature = k
                    .sign_prehash(&Sha256::digest(message))
                    .map_err(|e| X509Error::Signing(e.to_string()))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(message).to_bytes().to_vec())
            }
        }
    }

    /// Refuses a key that is not the certificate's, or of another algorithm.
    fn check_pair(&self) -> Result<(), X509Error> {
        let leaf = self.chain.leaf().public_key_bytes();
        let same = match (&self.key, self.chain.algorithm()) {
            (PrivateKey::Rsa(k), KeyAlgorithm::Rsa { .. }) => k.public().as_ref() == leaf,
            (PrivateKey::P256(k), KeyAlgorithm::EcdsaP256) => {
                p256::PublicKey::from_sec1_bytes(leaf).ok() == Some(k.verifying_key().into())
            }
            (PrivateKey::P384(k), KeyAlgorithm::EcdsaP384) => {
                p384::PublicKey::from_sec1_bytes(leaf).ok() == Some(k.verifying_key().into())
            }
            (PrivateKey::Ed25519(k), KeyAlgorithm::Ed25519) => k.verifying_key().as_bytes() == leaf,
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(X509Error::KeyMismatch)
        }
    }
}

/// A private key from DER: PKCS#8, else PKCS#1, else SEC1, as Go tries them.
fn parse_private_key(der: &[u8]) -> Result<PrivateKey, X509Error> {
    if let Ok(info) = pkcs8::PrivateKeyInfo::from_der(der) {
        let oid = info.algorithm.oid;
        return if oid == RSA_ENCRYPTION {
            ring::rsa::KeyPair::from_pkcs8(der)
                .map(PrivateKey::Rsa)
                .map_err(|e| X509Error::PrivateKey(format!("RSA: {e}")))
        } else if oid == ID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let sec1 = sec1::EcPrivateKey::from_der(info.private_key)
                .map_err(|e| X509Error::PrivateKey(format!("EC key: {e}")))?;
            ec_key(curve, sec1.private_key)
        } else if oid == ID_ED_25519 {
            let seed = der::asn1::OctetStringRef::from_der(info.private_key)
                .map_err(|e| X509Error::PrivateKey(format!("Ed25519: {e}")))?;
            let seed: [u8; 32] = seed
                .as_bytes()
                .try_into()
                .map_err(|_| X509Error::PrivateKey("Ed25519: the key is not 32 bytes".into()))?;
            Ok(PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &seed,
            )))
        } else {
            Err(X509Error::PrivateKey(format!(
                "unsupported algorithm {oid} (RSA, ECDSA P-256 or P-384, or Ed25519 are)"
            )))
        };
    }
    if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return ring::rsa::KeyPair::from_der(der)
            .map(PrivateKey::Rsa)
            .map_err(|e| X509Error::PrivateKey(format!("RSA: {e}")));
    }
    if let Ok(sec1) = sec1::EcPrivateKey::from_der(der) {
        let curve = sec1.parameters.and_then(|p| p.named_curve());
        return ec_key(curve, sec1.private_key);
    }
    Err(X509Error::PrivateKey(
        "not a PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key".into(),
    ))
}

/// An ECDSA signing key from its curve and scalar.
fn ec_key(curve: Option<ObjectIdentifier>, scalar: &[u8]) -> Result<PrivateKey, X509Error> {
    let bad = |e: p256::ecdsa::Error| X509Error::PrivateKey(format!("EC key: {e}"));
    match curve {
        Some(c) if c == SECP_256_R_1 => p256::ecdsa::SigningKey::from_slice(scalar)
            .map(PrivateKey::P256)
            .map_err(bad),
        Some(c) if c == SECP_384_R_1 => p384::ecdsa::SigningKey::from_slice(scalar)
            .map(PrivateKey::P384)
            .map_err(bad),
        Some(c) => Err(X509Error::PrivateKey(format!(
            "ECDSA on curve {c} (P-256 and P-384 are supported)"
        ))),
        None => Err(X509Error::PrivateKey("EC key without a named curve".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_keys_are_refused_by_name() {
        assert!(matches!(
            parse_private_key(b"\x30\x00"),
            Err(X509Error::PrivateKey(_))
        ));
        assert!(matches!(
            X509SecretKey::from_pem(b"", b"not pem"),
            Err(X509Error::Empty("certificate"))
        ));
    }
}
