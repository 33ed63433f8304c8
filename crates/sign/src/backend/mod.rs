//! The signature algorithms and their own key and signature formats.

pub(crate) mod ed25519;
pub mod minisign;
pub mod openpgp;
pub mod x509;
