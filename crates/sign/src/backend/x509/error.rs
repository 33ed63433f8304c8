//! Why an X.509 certificate, key, signature or CRL cannot be used.

/// What is wrong with X.509 input, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// The text is not PEM (or a PEM block is malformed).
    #[error("not PEM: {0}")]
    NotPem(String),
    /// A PEM block of another type than the one expected.
    #[error("a PEM block of type {found} where {expected} was expected")]
    WrongPemType {
        /// The block's type label.
        found: String,
        /// The type wanted.
        expected: &'static str,
    },
    /// A certificate does not parse.
    #[error("certificate {index}: {reason}")]
    BadCertificate {
        /// 1-based position in the file.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A chain's certificates are not in order, leaf first.
    #[error(
        "the chain is not in order (leaf first, then each issuer): certificate {index} was issued by \
         \"{issuer}\", but certificate {next} is \"{subject}\""
    )]
    ChainOrder {
        /// 1-based position of the certificate whose issuer should follow it.
        index: usize,
        /// Its issuer.
        issuer: String,
        /// 1-based position of the next certificate.
        next: usize,
        /// The next certificate's subject.
        subject: String,
    },
    /// An RSA key outside the sizes accepted.
    #[error("RSA key of {bits} bits; {min} to {max} bits are accepted")]
    RsaKeySize {
        /// The modulus size.
        bits: usize,
        /// The smallest size accepted.
        min: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// A public key of an algorithm go-embeddingsdb does not sign with.
    #[error("unsupported public key: {0} (RSA, ECDSA P-256 or P-384, or Ed25519 are)")]
    UnsupportedKey(String),
    /// A private key that does not parse, or of an unsupported algorithm.
    #[error("private key: {0}")]
    PrivateKey(String),
    /// The private key is not the certificate's.
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// A CRL does not parse.
    #[error("CRL {index}: {reason}")]
    BadCrl {
        /// 1-based position in the file.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A root certificate cannot serve as a trust anchor.
    #[error("root certificate {index}: {reason}")]
    BadAnchor {
        /// 1-based position in the file.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A file holds no PEM block of the type wanted.
    #[error("no {0} in the file")]
    Empty(&'static str),
}
