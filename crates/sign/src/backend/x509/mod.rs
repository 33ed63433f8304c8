//! X.509 record signatures, as go-embeddingsdb's `tls://` and `acm://` signers make them
//! (`signatures/signer_x509.go`, `verifier_x509.go`, `tls/tls.go`).
//!
//! Each record's bytes are signed with the private key of a PEM certificate: RSA PKCS#1 v1.5
//! over SHA-256, ECDSA (P-256, P-384) ASN.1 over SHA-256, or pure Ed25519. The signature is
//! stored PEM-wrapped (`-----BEGIN SIGNATURE-----`), or raw by the Go tool's first X.509
//! signer; the certificate is the public key.
//!
//! - [`pem`]: the PEM forms (certificate chains, `SIGNATURE` blocks, private keys);
//! - [`certificate`]: a parsed certificate chain, its public key and its description;
//! - [`key`]: private keys in the forms Go's `tls.LoadKeyFromPEM` reads, and signing;
//! - [`verify`]: record signature checks under a certificate's key;
//! - [`identity`]: what no peer checks: the chain to trusted roots, the name, revocation.
//!
//! Parsing is left to `der`-based crates (`x509-cert`, `pkcs8`, `pkcs1`, `sec1`,
//! `pem-rfc7468`); chains, names and revocation to `rustls-webpki`; RSA and ECDSA arithmetic
//! to `ring`, except ECDSA signing (RustCrypto's `p256`/`p384`: ring signs P-384 only with
//! SHA-384, and Go signs a SHA-256 digest on both curves); Ed25519 to the strict, batched
//! `ed25519-dalek` verifier the native profile uses.

pub mod certificate;
mod error;
pub mod identity;
pub mod key;
pub mod pem;
pub mod verify;

pub use certificate::{CertificateChain, CertificateInfo, KeyAlgorithm};
pub use error::X509Error;
pub use identity::{Check, Crls, IdentityPolicy, IdentityReport, TrustAnchors};
pub use key::X509SecretKey;
pub use verify::RecordVerifier;
