//! Minisign key, signature and secret-key file formats, byte-compatible with
//! the reference `minisign` tool (C implementation, version 0.11).
//!
//! # Formats
//!
//! Every minisign file is a sequence of text lines; binary blobs are encoded
//! with standard, padded base64. Multi-byte integers are little-endian.
//!
//! * Public key (`.pub`):
//!   `untrusted comment: minisign public key <KEYID>` followed by
//!   base64(`"Ed"` ‖ key id (8) ‖ Ed25519 public key (32)).
//!   `minisign -P` takes the bare base64 line.
//! * Signature (`.minisig`), four lines:
//!   1. `untrusted comment: <text>`
//!   2. base64(algorithm (2) ‖ key id (8) ‖ Ed25519 signature (64)); the
//!      algorithm is `"ED"` (prehashed: the signed message is the 64-byte
//!      BLAKE2b-512 digest of the content) or the legacy `"Ed"` (the signed
//!      message is the content itself).
//!   3. `trusted comment: <text>`
//!   4. base64(Ed25519 signature over file-signature (64) ‖ trusted comment
//!      bytes) — the "global signature".
//! * Secret key: `untrusted comment: <text>` followed by base64 of 158 bytes:
//!   `"Ed"` ‖ KDF (`"Sc"` = scrypt, or two NUL bytes = unencrypted) ‖ `"B2"` ‖
//!   salt (32) ‖ opslimit (u64) ‖ memlimit (u64) ‖ key id (8) ‖ libsodium
//!   secret key (seed (32) ‖ public key (32)) ‖ checksum (32). The checksum is
//!   BLAKE2b with a 32-byte output over `"Ed"` ‖ key id ‖ secret key (64).
//!   With scrypt, the last 104 bytes (key id ‖ secret key ‖ checksum) are
//!   XORed with a 104-byte scrypt output derived from the password and salt,
//!   with `N`, `r`, `p` derived from opslimit/memlimit the way libsodium's
//!   `crypto_pwhash_scryptsalsa208sha256` does.
//!
//! The key id is shown (as minisign does) as the 8 bytes read as a
//! little-endian `u64`, printed in upper-case hexadecimal.

use std::io;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::VerifyingKey;
use zeroize::Zeroizing;

mod key;
mod signature;
#[cfg(test)]
mod tests;

pub use key::{PublicKey, SecretKey, scrypt_params_from_limits};
pub use signature::{Verified, VerifyOptions, sign_prehashed, verify, verify_with_options};

/// Length in bytes of a minisign key id.
pub const KEY_ID_LEN: usize = 8;

/// Prefix of the first line of every minisign file.
pub const UNTRUSTED_COMMENT_PREFIX: &str = "untrusted comment: ";
/// Prefix of the third line of a signature file.
pub const TRUSTED_COMMENT_PREFIX: &str = "trusted comment: ";

/// Untrusted comment minisign writes into signatures when none is given.
pub const DEFAULT_SIGNATURE_COMMENT: &str = "signature from minisign secret key";
/// Untrusted comment minisign writes into secret key files when none is
/// given (minisign 0.11 uses it even for unencrypted keys).
pub const DEFAULT_SECRET_KEY_COMMENT: &str = "minisign encrypted secret key";

/// Longest untrusted comment (in bytes) that `minisign -V` 0.11 can read
/// back: its line buffer is 1024 bytes including prefix and newline.
pub const MAX_UNTRUSTED_COMMENT_LEN: usize = 1024 - 1 - UNTRUSTED_COMMENT_PREFIX.len() - 1;
/// Longest trusted comment (in bytes) minisign 0.11 accepts, both when
/// signing and when verifying (8192-byte line buffer).
pub const MAX_TRUSTED_COMMENT_LEN: usize = 8192 - 1 - TRUSTED_COMMENT_PREFIX.len() - 1;
/// Longest password `minisign` can read from its prompt (1024-byte buffer
/// holding the password and its newline, minus the terminating NUL).
pub const MAX_PASSWORD_LEN: usize = 1022;

/// scrypt opslimit minisign uses when encrypting a key
/// (libsodium `crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE`).
pub const KDF_OPSLIMIT: u64 = 33_554_432;
/// scrypt memlimit minisign uses when encrypting a key
/// (libsodium `crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE`).
pub const KDF_MEMLIMIT: u64 = 1_073_741_824;

/// Largest scrypt memory (`128 · r · N` bytes) accepted when decrypting a key
/// file; minisign itself never writes more than 1 GiB.
pub const MAX_KDF_MEMORY: u64 = 2 << 30;
/// Largest scrypt work factor `N · p` accepted when decrypting a key file
/// (minisign writes `N = 2^20, p = 1`).
pub const MAX_KDF_WORK: u64 = 1 << 24;

/// Default cap on the content size read into memory to check a legacy
/// (non-prehashed) signature; see [`VerifyOptions::max_legacy_input_len`].
pub const DEFAULT_MAX_LEGACY_INPUT_LEN: u64 = 1 << 30;

pub(super) const SIGALG: [u8; 2] = *b"Ed";
pub(super) const SIGALG_PREHASHED: [u8; 2] = *b"ED";
pub(super) const KDFALG_SCRYPT: [u8; 2] = *b"Sc";
pub(super) const KDFALG_NONE: [u8; 2] = [0, 0];
pub(super) const CHKALG: [u8; 2] = *b"B2";

pub(super) const SALT_LEN: usize = 32;
pub(super) const CHECKSUM_LEN: usize = 32;
pub(super) const SODIUM_SK_LEN: usize = 64;
/// key id ‖ secret key ‖ checksum: the part the KDF stream encrypts.
pub(super) const KEYNUM_SK_LEN: usize = KEY_ID_LEN + SODIUM_SK_LEN + CHECKSUM_LEN;
pub(super) const SECRET_KEY_BLOB_LEN: usize = 2 + 2 + 2 + SALT_LEN + 8 + 8 + KEYNUM_SK_LEN;
pub(super) const PUBLIC_KEY_BLOB_LEN: usize = 2 + KEY_ID_LEN + 32;
pub(super) const SIGNATURE_BLOB_LEN: usize = 2 + KEY_ID_LEN + 64;

/// Errors from parsing minisign files, decrypting keys and verifying
/// signatures. Every message is a single line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MinisignError {
    /// A required line is absent (empty or truncated file).
    #[error("malformed {kind}: missing {line} line")]
    MissingLine {
        /// Which kind of file was being parsed.
        kind: &'static str,
        /// Which line is missing.
        line: &'static str,
    },
    /// A line does not start with the prefix the format requires.
    #[error("malformed {kind}: line {line_no} must start with {prefix:?}")]
    BadPrefix {
        /// Which kind of file was being parsed.
        kind: &'static str,
        /// 1-based line number.
        line_no: usize,
        /// The required prefix.
        prefix: &'static str,
    },
    /// A base64 field does not decode.
    #[error("malformed {kind}: {field} is not valid base64")]
    Base64 {
        /// Which kind of file was being parsed.
        kind: &'static str,
        /// Which field failed to decode.
        field: &'static str,
    },
    /// A base64 field decodes to the wrong number of bytes.
    #[error("malformed {kind}: {field} is {actual} bytes, expected {expected}")]
    WrongLength {
        /// Which kind of file was being parsed.
        kind: &'static str,
        /// Which field has the wrong length.
        field: &'static str,
        /// Required length in bytes.
        expected: usize,
        /// Decoded length in bytes.
        actual: usize,
    },
    /// Non-empty lines follow the last line of the format.
    #[error("malformed {kind}: unexpected data after the last line")]
    TrailingData {
        /// Which kind of file was being parsed.
        kind: &'static str,
    },
    /// The signature algorithm tag is not one this module knows.
    #[error("unsupported signature algorithm {0:?} (expected \"Ed\" or \"ED\")")]
    UnsupportedSignatureAlgorithm(String),
    /// The secret key's KDF tag is neither scrypt nor "none".
    #[error("unsupported key derivation function {0:?} in secret key (expected \"Sc\" or none)")]
    UnsupportedKdf(String),
    /// The secret key's checksum tag is not BLAKE2b.
    #[error("unsupported checksum algorithm {0:?} in secret key (expected \"B2\")")]
    UnsupportedChecksum(String),
    /// The secret key is encrypted and no password was given.
    #[error("the secret key is password-protected but no password was given")]
    PasswordRequired,
    /// Decryption produced a key whose checksum does not match.
    #[error("wrong password for this secret key (checksum mismatch after decryption)")]
    WrongPassword,
    /// An unencrypted secret key's checksum does not match its contents.
    #[error("secret key checksum mismatch: the key file is corrupted")]
    ChecksumMismatch,
    /// The public half stored in the secret key does not match its seed.
    #[error("secret key is inconsistent: its public half does not match its seed")]
    InconsistentSecretKey,
    /// The scrypt parameters stored in the key are unusable or too costly.
    #[error("secret key has unusable scrypt parameters (N=2^{log_n}, r={r}, p={p})")]
    KdfParameters {
        /// log2 of scrypt's N.
        log_n: u32,
        /// scrypt's r.
        r: u32,
        /// scrypt's p.
        p: u32,
    },
    /// A password cannot be used (minisign could never type it).
    #[error("unusable password: {0}")]
    InvalidPassword(&'static str),
    /// A comment cannot be written or was rejected when read.
    #[error("invalid {which} comment: {reason}")]
    InvalidComment {
        /// "trusted" or "untrusted".
        which: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The public key bytes are not a valid Ed25519 point.
    #[error("invalid public key: not a valid Ed25519 point")]
    InvalidPublicKey,
    /// The public key is a small-order (weak) point.
    #[error("weak public key rejected (small-order Ed25519 point)")]
    WeakPublicKey,
    /// The signature was made by a different key than the one supplied.
    #[error("signature key id mismatch: signed by key {signed_by}, expected key {expected}")]
    KeyIdMismatch {
        /// Key id (hex) found in the signature.
        signed_by: String,
        /// Key id (hex) of the public key supplied.
        expected: String,
    },
    /// A legacy signature was found but the caller disallowed them.
    #[error("legacy (non-prehashed \"Ed\") signature found but legacy signatures are not allowed")]
    LegacyNotAllowed,
    /// A legacy signature's content is larger than the configured cap.
    #[error("content too large to verify a legacy signature in memory (limit {limit} bytes)")]
    LegacyInputTooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The content does not match the signature.
    #[error(
        "signature verification failed: the content does not match the signature, or it was made by another key"
    )]
    SignatureInvalid,
    /// The trusted comment (or the file signature it binds) was altered.
    #[error("trusted comment signature verification failed: the trusted comment was altered")]
    TrustedCommentSignatureInvalid,
    /// Reading the content failed.
    #[error("I/O error while reading the content: {0}")]
    Io(#[from] io::Error),
}

pub(super) fn key_id_to_hex(id: &[u8; KEY_ID_LEN]) -> String {
    format!("{:016X}", u64::from_le_bytes(*id))
}

pub(super) fn b64_decode(
    line: &str,
    kind: &'static str,
    field: &'static str,
    expected: usize,
) -> Result<Zeroizing<Vec<u8>>, MinisignError> {
    let bytes = Zeroizing::new(
        B64.decode(line.trim())
            .map_err(|_| MinisignError::Base64 { kind, field })?,
    );
    if bytes.len() != expected {
        return Err(MinisignError::WrongLength {
            kind,
            field,
            expected,
            actual: bytes.len(),
        });
    }
    Ok(bytes)
}

pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn is_valid_key(vk: &VerifyingKey) -> Result<(), MinisignError> {
    if vk.is_weak() {
        Err(MinisignError::WeakPublicKey)
    } else {
        Ok(())
    }
}

/// Rejects what would break the line format or what minisign could not read.
pub(super) fn check_comment(
    comment: &str,
    which: &'static str,
    max_len: usize,
    forbid_controls: bool,
) -> Result<(), MinisignError> {
    if comment.contains(['\n', '\r']) {
        return Err(MinisignError::InvalidComment {
            which,
            reason: "contains a line break",
        });
    }
    if forbid_controls && comment.chars().any(|c| c != '\t' && c.is_control()) {
        return Err(MinisignError::InvalidComment {
            which,
            reason: "contains control characters",
        });
    }
    if comment.len() > max_len {
        return Err(MinisignError::InvalidComment {
            which,
            reason: "too long for minisign",
        });
    }
    Ok(())
}

/// Lines of a minisign text file; a trailing `\r` on each line is dropped,
/// as minisign does.
pub(super) struct Lines<'a> {
    inner: std::str::Lines<'a>,
    kind: &'static str,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str, kind: &'static str) -> Self {
        Lines {
            inner: text.lines(),
            kind,
        }
    }

    fn next(&mut self, line: &'static str) -> Result<&'a str, MinisignError> {
        self.inner.next().ok_or(MinisignError::MissingLine {
            kind: self.kind,
            line,
        })
    }

    fn next_prefixed(
        &mut self,
        line: &'static str,
        line_no: usize,
        prefix: &'static str,
    ) -> Result<&'a str, MinisignError> {
        let l = self.next(line)?;
        l.strip_prefix(prefix).ok_or(MinisignError::BadPrefix {
            kind: self.kind,
            line_no,
            prefix,
        })
    }

    fn finish(mut self) -> Result<(), MinisignError> {
        if self.inner.all(|l| l.trim().is_empty()) {
            Ok(())
        } else {
            Err(MinisignError::TrailingData { kind: self.kind })
        }
    }
}

pub(super) fn io_invalid(e: MinisignError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}
