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

use std::fmt;
use std::io::{self, Read};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::file_digest::hash_reader;

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

const SIGALG: [u8; 2] = *b"Ed";
const SIGALG_PREHASHED: [u8; 2] = *b"ED";
const KDFALG_SCRYPT: [u8; 2] = *b"Sc";
const KDFALG_NONE: [u8; 2] = [0, 0];
const CHKALG: [u8; 2] = *b"B2";

const SALT_LEN: usize = 32;
const CHECKSUM_LEN: usize = 32;
const SODIUM_SK_LEN: usize = 64;
/// key id ‖ secret key ‖ checksum: the part the KDF stream encrypts.
const KEYNUM_SK_LEN: usize = KEY_ID_LEN + SODIUM_SK_LEN + CHECKSUM_LEN;
const SECRET_KEY_BLOB_LEN: usize = 2 + 2 + 2 + SALT_LEN + 8 + 8 + KEYNUM_SK_LEN;
const PUBLIC_KEY_BLOB_LEN: usize = 2 + KEY_ID_LEN + 32;
const SIGNATURE_BLOB_LEN: usize = 2 + KEY_ID_LEN + 64;

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

fn key_id_to_hex(id: &[u8; KEY_ID_LEN]) -> String {
    format!("{:016X}", u64::from_le_bytes(*id))
}

fn b64_decode(
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

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn is_valid_key(vk: &VerifyingKey) -> Result<(), MinisignError> {
    if vk.is_weak() {
        Err(MinisignError::WeakPublicKey)
    } else {
        Ok(())
    }
}

/// Rejects what would break the line format or what minisign could not read.
fn check_comment(
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
struct Lines<'a> {
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

/// A minisign public key: an 8-byte key id and an Ed25519 verifying key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key_id: [u8; KEY_ID_LEN],
    verifying_key: VerifyingKey,
}

impl PublicKey {
    const KIND: &'static str = "public key";

    /// Builds a public key from a key id and verifying key, rejecting weak
    /// (small-order) keys.
    pub fn new(
        key_id: [u8; KEY_ID_LEN],
        verifying_key: VerifyingKey,
    ) -> Result<Self, MinisignError> {
        is_valid_key(&verifying_key)?;
        Ok(PublicKey {
            key_id,
            verifying_key,
        })
    }

    /// The 8-byte key id, as stored in files.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        self.key_id
    }

    /// The key id as minisign prints it: 16 upper-case hex digits of the id
    /// read as a little-endian `u64`.
    pub fn key_id_hex(&self) -> String {
        key_id_to_hex(&self.key_id)
    }

    /// The Ed25519 verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    /// The bare base64 line (`minisign -P` argument).
    pub fn to_base64(&self) -> String {
        let mut blob = Vec::with_capacity(PUBLIC_KEY_BLOB_LEN);
        blob.extend_from_slice(&SIGALG);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(self.verifying_key.as_bytes());
        B64.encode(blob)
    }

    /// The `.pub` file text, as `minisign -G` writes it (the key id in the
    /// comment is zero-padded to 16 digits as in minisign ≥ 0.12).
    pub fn to_file_text(&self) -> String {
        format!(
            "{UNTRUSTED_COMMENT_PREFIX}minisign public key {}\n{}\n",
            self.key_id_hex(),
            self.to_base64()
        )
    }

    /// Parses either a `.pub` file (comment line + base64 line, what
    /// `minisign -p` reads) or a bare base64 line (what `minisign -P` takes).
    /// Weak (small-order) keys and invalid points are rejected.
    pub fn from_file_text(text: &str) -> Result<Self, MinisignError> {
        let mut lines = Lines::new(text, Self::KIND);
        let first = lines.next("public key")?;
        let b64_line = if first.starts_with(UNTRUSTED_COMMENT_PREFIX) {
            lines.next("public key")?
        } else {
            first
        };
        lines.finish()?;
        Self::from_base64(b64_line)
    }

    /// Parses the bare base64 form of a public key.
    pub fn from_base64(line: &str) -> Result<Self, MinisignError> {
        let blob = b64_decode(line, Self::KIND, "public key", PUBLIC_KEY_BLOB_LEN)?;
        if blob[..2] != SIGALG {
            return Err(MinisignError::UnsupportedSignatureAlgorithm(
                String::from_utf8_lossy(&blob[..2]).into_owned(),
            ));
        }
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&blob[2..2 + KEY_ID_LEN]);
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&blob[2 + KEY_ID_LEN..]);
        let verifying_key =
            VerifyingKey::from_bytes(&pk).map_err(|_| MinisignError::InvalidPublicKey)?;
        Self::new(key_id, verifying_key)
    }
}

/// A minisign secret key: an Ed25519 signing key and an 8-byte key id.
/// The signing key is zeroized on drop.
pub struct SecretKey {
    key_id: [u8; KEY_ID_LEN],
    signing_key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &key_id_to_hex(&self.key_id))
            .finish_non_exhaustive()
    }
}

/// scrypt parameters `(log2 N, r, p)` that libsodium's
/// `crypto_pwhash_scryptsalsa208sha256` derives from opslimit and memlimit.
pub fn scrypt_params_from_limits(opslimit: u64, memlimit: u64) -> (u32, u32, u32) {
    let opslimit = opslimit.max(32_768);
    let r: u32 = 8;
    let smallest_log_n_above = |max_n: u64| {
        let mut log_n = 1u32;
        while log_n < 63 && (1u64 << log_n) <= max_n / 2 {
            log_n += 1;
        }
        log_n
    };
    if opslimit < memlimit / 32 {
        let max_n = opslimit / (u64::from(r) * 4);
        (smallest_log_n_above(max_n), r, 1)
    } else {
        let max_n = memlimit / (u64::from(r) * 128);
        let log_n = smallest_log_n_above(max_n);
        let max_rp = ((opslimit / 4) >> log_n).min(0x3fff_ffff);
        // max_rp <= 0x3fffffff, so it fits in u32.
        let p = u32::try_from(max_rp).unwrap_or(0x3fff_ffff) / r;
        (log_n, r, p)
    }
}

fn kdf_stream(
    password: &str,
    salt: &[u8],
    opslimit: u64,
    memlimit: u64,
) -> Result<Zeroizing<[u8; KEYNUM_SK_LEN]>, MinisignError> {
    let (log_n, r, p) = scrypt_params_from_limits(opslimit, memlimit);
    let bad = || MinisignError::KdfParameters { log_n, r, p };
    // Bound memory (128 · r · N bytes) and work (N · p) before allocating:
    // the limits come from the key file. log_n < 63, so the shift is fine.
    let n = 1u64 << log_n;
    let memory = u64::from(r).checked_mul(128).and_then(|x| x.checked_mul(n));
    let work = u64::from(p).checked_mul(n);
    match (memory, work) {
        (Some(m), Some(w)) if p >= 1 && m <= MAX_KDF_MEMORY && w <= MAX_KDF_WORK => {}
        _ => return Err(bad()),
    }
    let log_n_u8 = u8::try_from(log_n).map_err(|_| bad())?;
    let params = scrypt::Params::new(log_n_u8, r, p, 32).map_err(|_| bad())?;
    let mut out = Zeroizing::new([0u8; KEYNUM_SK_LEN]);
    scrypt::scrypt(password.as_bytes(), salt, &params, out.as_mut_slice()).map_err(|_| bad())?;
    Ok(out)
}

fn secret_key_checksum(key_id: &[u8], sodium_sk: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut h = blake2b_simd::Params::new()
        .hash_length(CHECKSUM_LEN)
        .to_state();
    h.update(&SIGALG);
    h.update(key_id);
    h.update(sodium_sk);
    let mut checksum = [0u8; CHECKSUM_LEN];
    checksum.copy_from_slice(h.finalize().as_bytes());
    checksum
}

impl SecretKey {
    const KIND: &'static str = "secret key file";

    /// Generates a new key pair with a random key id, using the OS RNG.
    pub fn generate() -> SecretKey {
        let mut key_id = [0u8; KEY_ID_LEN];
        OsRng.fill_bytes(&mut key_id);
        SecretKey {
            key_id,
            signing_key: SigningKey::generate(&mut OsRng),
        }
    }

    /// Builds a secret key from a key id and an Ed25519 signing key.
    pub fn from_parts(key_id: [u8; KEY_ID_LEN], signing_key: SigningKey) -> SecretKey {
        SecretKey {
            key_id,
            signing_key,
        }
    }

    /// The 8-byte key id.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        self.key_id
    }

    /// The Ed25519 signing key (native record signatures use the same key).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The key id as minisign prints it (see [`PublicKey::key_id_hex`]).
    pub fn key_id_hex(&self) -> String {
        key_id_to_hex(&self.key_id)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id,
            verifying_key: self.signing_key.verifying_key(),
        }
    }

    /// Serializes the key in minisign's secret key file format.
    ///
    /// With `Some(password)` the key is encrypted with scrypt using the
    /// parameters `minisign -G` uses (opslimit 2^25, memlimit 2^30, i.e.
    /// N = 2^20, r = 8, p = 1: about 1 GiB of memory for a moment). With `None`
    /// the key is stored unencrypted, as `minisign -G -W` does (minisign 0.11
    /// leaves the checksum zero there; this writes the real checksum, which
    /// minisign also accepts). An empty `untrusted_comment` is replaced by
    /// minisign's default. Fails for comments with line breaks or over
    /// [`MAX_UNTRUSTED_COMMENT_LEN`] bytes, and for passwords minisign could
    /// not read back (containing NUL/CR/LF or longer than
    /// [`MAX_PASSWORD_LEN`] bytes). Without a password the returned text is
    /// the secret key in clear: write it to a file readable only by its owner.
    pub fn to_file_text(
        &self,
        password: Option<&str>,
        untrusted_comment: &str,
    ) -> Result<String, MinisignError> {
        let comment = if untrusted_comment.is_empty() {
            DEFAULT_SECRET_KEY_COMMENT
        } else {
            untrusted_comment
        };
        check_comment(comment, "untrusted", MAX_UNTRUSTED_COMMENT_LEN, false)?;

        let sodium_sk = Zeroizing::new(self.signing_key.to_keypair_bytes());
        let checksum = secret_key_checksum(&self.key_id, sodium_sk.as_slice());
        let mut keynum_sk = Zeroizing::new([0u8; KEYNUM_SK_LEN]);
        keynum_sk[..KEY_ID_LEN].copy_from_slice(&self.key_id);
        keynum_sk[KEY_ID_LEN..KEY_ID_LEN + SODIUM_SK_LEN].copy_from_slice(sodium_sk.as_slice());
        keynum_sk[KEY_ID_LEN + SODIUM_SK_LEN..].copy_from_slice(&checksum);

        let mut blob = Zeroizing::new(Vec::with_capacity(SECRET_KEY_BLOB_LEN));
        blob.extend_from_slice(&SIGALG);
        match password {
            Some(pw) => {
                if pw.contains(['\0', '\r', '\n']) {
                    return Err(MinisignError::InvalidPassword(
                        "contains NUL, CR or LF, which minisign cannot read",
                    ));
                }
                if pw.len() > MAX_PASSWORD_LEN {
                    return Err(MinisignError::InvalidPassword(
                        "longer than minisign can read (1022 bytes)",
                    ));
                }
                let mut salt = [0u8; SALT_LEN];
                OsRng.fill_bytes(&mut salt);
                let stream = kdf_stream(pw, &salt, KDF_OPSLIMIT, KDF_MEMLIMIT)?;
                for (b, s) in keynum_sk.iter_mut().zip(stream.iter()) {
                    *b ^= s;
                }
                blob.extend_from_slice(&KDFALG_SCRYPT);
                blob.extend_from_slice(&CHKALG);
                blob.extend_from_slice(&salt);
                blob.extend_from_slice(&KDF_OPSLIMIT.to_le_bytes());
                blob.extend_from_slice(&KDF_MEMLIMIT.to_le_bytes());
            }
            None => {
                blob.extend_from_slice(&KDFALG_NONE);
                blob.extend_from_slice(&CHKALG);
                blob.extend_from_slice(&[0u8; SALT_LEN + 16]);
            }
        }
        blob.extend_from_slice(keynum_sk.as_slice());
        let encoded = Zeroizing::new(B64.encode(blob.as_slice()));
        Ok(format!(
            "{UNTRUSTED_COMMENT_PREFIX}{comment}\n{}\n",
            encoded.as_str()
        ))
    }

    /// Parses (and if needed decrypts) a minisign secret key file.
    ///
    /// Encrypted keys (KDF `Sc`) need `password`; a wrong password is
    /// reported as [`MinisignError::WrongPassword`]. For unencrypted keys the
    /// password is ignored, as minisign does, and the checksum must be either
    /// valid or all zero (what `minisign -G -W` 0.11 writes). The public half
    /// must match the seed.
    pub fn from_file_text(text: &str, password: Option<&str>) -> Result<SecretKey, MinisignError> {
        let mut lines = Lines::new(text, Self::KIND);
        // minisign does not check the comment line of a secret key file.
        lines.next("untrusted comment")?;
        let b64_line = lines.next("secret key")?;
        lines.finish()?;
        let mut blob = b64_decode(b64_line, Self::KIND, "secret key", SECRET_KEY_BLOB_LEN)?;

        let tag = |range: std::ops::Range<usize>, blob: &[u8]| {
            String::from_utf8_lossy(&blob[range])
                .escape_debug()
                .to_string()
        };
        if blob[0..2] != SIGALG {
            return Err(MinisignError::UnsupportedSignatureAlgorithm(tag(
                0..2,
                &blob,
            )));
        }
        if blob[4..6] != CHKALG {
            return Err(MinisignError::UnsupportedChecksum(tag(4..6, &blob)));
        }
        let salt_start = 6;
        let ops_start = salt_start + SALT_LEN;
        let mem_start = ops_start + 8;
        let keynum_start = mem_start + 8;
        let encrypted = if blob[2..4] == KDFALG_SCRYPT {
            true
        } else if blob[2..4] == KDFALG_NONE {
            false
        } else {
            return Err(MinisignError::UnsupportedKdf(tag(2..4, &blob)));
        };

        if encrypted {
            let pw = password.ok_or(MinisignError::PasswordRequired)?;
            let mut ops = [0u8; 8];
            ops.copy_from_slice(&blob[ops_start..mem_start]);
            let mut mem = [0u8; 8];
            mem.copy_from_slice(&blob[mem_start..keynum_start]);
            let stream = kdf_stream(
                pw,
                &blob[salt_start..ops_start],
                u64::from_le_bytes(ops),
                u64::from_le_bytes(mem),
            )?;
            for (b, s) in blob[keynum_start..].iter_mut().zip(stream.iter()) {
                *b ^= s;
            }
        }

        let keynum_sk = &blob[keynum_start..];
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&keynum_sk[..KEY_ID_LEN]);
        let sodium_sk = &keynum_sk[KEY_ID_LEN..KEY_ID_LEN + SODIUM_SK_LEN];
        let stored_chk = &keynum_sk[KEY_ID_LEN + SODIUM_SK_LEN..];
        let mut computed_chk = secret_key_checksum(&key_id, sodium_sk);
        let chk_ok = ct_eq(&computed_chk, stored_chk);
        computed_chk.zeroize();
        if !chk_ok {
            if encrypted {
                return Err(MinisignError::WrongPassword);
            }
            if stored_chk.iter().any(|&b| b != 0) {
                return Err(MinisignError::ChecksumMismatch);
            }
        }

        let mut keypair = Zeroizing::new([0u8; SODIUM_SK_LEN]);
        keypair.copy_from_slice(sodium_sk);
        let signing_key = SigningKey::from_keypair_bytes(&keypair)
            .map_err(|_| MinisignError::InconsistentSecretKey)?;
        is_valid_key(&signing_key.verifying_key())?;
        Ok(SecretKey {
            key_id,
            signing_key,
        })
    }
}

fn io_invalid(e: MinisignError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// Streams `reader` through BLAKE2b-512, hashing on another thread while the next chunk is
/// read: reading a file out of the page cache costs about a seventh of hashing it, and this
/// way the two overlap.
fn blake2b512_stream(reader: impl Read) -> io::Result<[u8; 64]> {
    let state = hash_reader(reader, blake2b_simd::State::new(), |state, chunk| {
        state.update(chunk);
    })?;
    Ok(*state.finalize().as_array())
}

/// Signs the content read from `reader` with the prehashed algorithm `ED`
/// (Ed25519 over the BLAKE2b-512 digest of the content, which is streamed in
/// 1 MiB chunks) and returns the `.minisig` text exactly as `minisign -S`
/// writes it.
///
/// An empty `untrusted_comment` is replaced by minisign's default. Comments
/// with line breaks, a trusted comment with control characters other than
/// tab, or comments too long for minisign to read back are rejected with
/// [`io::ErrorKind::InvalidInput`].
pub fn sign_prehashed(
    secret: &SecretKey,
    reader: impl Read,
    trusted_comment: &str,
    untrusted_comment: &str,
) -> io::Result<String> {
    let untrusted_comment = if untrusted_comment.is_empty() {
        DEFAULT_SIGNATURE_COMMENT
    } else {
        untrusted_comment
    };
    check_comment(
        untrusted_comment,
        "untrusted",
        MAX_UNTRUSTED_COMMENT_LEN,
        false,
    )
    .map_err(io_invalid)?;
    check_comment(trusted_comment, "trusted", MAX_TRUSTED_COMMENT_LEN, true).map_err(io_invalid)?;

    let digest = blake2b512_stream(reader)?;
    let signature = secret.signing_key.sign(&digest).to_bytes();

    let mut sig_blob = Vec::with_capacity(SIGNATURE_BLOB_LEN);
    sig_blob.extend_from_slice(&SIGALG_PREHASHED);
    sig_blob.extend_from_slice(&secret.key_id);
    sig_blob.extend_from_slice(&signature);

    let mut global_msg = Vec::with_capacity(64 + trusted_comment.len());
    global_msg.extend_from_slice(&signature);
    global_msg.extend_from_slice(trusted_comment.as_bytes());
    let global = secret.signing_key.sign(&global_msg).to_bytes();

    Ok(format!(
        "{UNTRUSTED_COMMENT_PREFIX}{untrusted_comment}\n{}\n{TRUSTED_COMMENT_PREFIX}{trusted_comment}\n{}\n",
        B64.encode(sig_blob),
        B64.encode(global)
    ))
}

/// Options for [`verify_with_options`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept legacy `Ed` (non-prehashed) signatures. Default `true`, as
    /// `minisign -V` 0.11 does unless given `-H`.
    pub allow_legacy: bool,
    /// Legacy signatures sign the whole content, so it is read into memory;
    /// larger content fails with [`MinisignError::LegacyInputTooLarge`].
    pub max_legacy_input_len: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            allow_legacy: true,
            max_legacy_input_len: DEFAULT_MAX_LEGACY_INPUT_LEN,
        }
    }
}

/// The outcome of a successful verification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The trusted comment, authenticated by the global signature.
    pub trusted_comment: String,
    /// The key id of the signing key (equal to the public key's).
    pub key_id: [u8; KEY_ID_LEN],
    /// `true` if the signature used the legacy `Ed` (non-prehashed) algorithm.
    pub legacy: bool,
}

struct ParsedSignature {
    legacy: bool,
    key_id: [u8; KEY_ID_LEN],
    signature: Signature,
    signature_bytes: [u8; 64],
    trusted_comment: String,
    global: Signature,
}

fn parse_signature(text: &str) -> Result<ParsedSignature, MinisignError> {
    const KIND: &str = "signature file";
    let mut lines = Lines::new(text, KIND);
    lines.next_prefixed("untrusted comment", 1, UNTRUSTED_COMMENT_PREFIX)?;
    let sig_line = lines.next("signature")?;
    let trusted = lines.next_prefixed("trusted comment", 3, TRUSTED_COMMENT_PREFIX)?;
    let global_line = lines.next("global signature")?;
    lines.finish()?;

    let blob = b64_decode(sig_line, KIND, "signature", SIGNATURE_BLOB_LEN)?;
    let legacy = if blob[..2] == SIGALG_PREHASHED {
        false
    } else if blob[..2] == SIGALG {
        true
    } else {
        return Err(MinisignError::UnsupportedSignatureAlgorithm(
            String::from_utf8_lossy(&blob[..2])
                .escape_debug()
                .to_string(),
        ));
    };
    let mut key_id = [0u8; KEY_ID_LEN];
    key_id.copy_from_slice(&blob[2..2 + KEY_ID_LEN]);
    let mut signature_bytes = [0u8; 64];
    signature_bytes.copy_from_slice(&blob[2 + KEY_ID_LEN..]);

    check_comment(trusted, "trusted", MAX_TRUSTED_COMMENT_LEN, true)?;

    let global_blob = b64_decode(global_line, KIND, "global signature", 64)?;
    let mut global_bytes = [0u8; 64];
    global_bytes.copy_from_slice(&global_blob);

    Ok(ParsedSignature {
        legacy,
        key_id,
        signature: Signature::from_bytes(&signature_bytes),
        signature_bytes,
        trusted_comment: trusted.to_owned(),
        global: Signature::from_bytes(&global_bytes),
    })
}

/// Verifies `signature_text` (a `.minisig` file) for the content read from
/// `reader`, with default options (legacy signatures allowed, as
/// `minisign -V` does by default). See [`verify_with_options`].
pub fn verify(
    public: &PublicKey,
    reader: impl Read,
    signature_text: &str,
) -> Result<Verified, MinisignError> {
    verify_with_options(public, reader, signature_text, &VerifyOptions::default())
}

/// Verifies `signature_text` (a `.minisig` file) for the content read from
/// `reader`, failing closed: the signature's key id must equal the public
/// key's, the public key must not be weak, and both the content signature
/// and the trusted-comment signature must pass Ed25519 strict verification.
///
/// Prehashed (`ED`) signatures stream the content; legacy (`Ed`) ones are
/// accepted only if `options.allow_legacy` and read the content into memory
/// (up to `options.max_legacy_input_len` bytes). The untrusted comment is
/// not authenticated and is ignored.
pub fn verify_with_options(
    public: &PublicKey,
    mut reader: impl Read,
    signature_text: &str,
    options: &VerifyOptions,
) -> Result<Verified, MinisignError> {
    let parsed = parse_signature(signature_text)?;
    if parsed.legacy && !options.allow_legacy {
        return Err(MinisignError::LegacyNotAllowed);
    }
    if parsed.key_id != public.key_id {
        return Err(MinisignError::KeyIdMismatch {
            signed_by: key_id_to_hex(&parsed.key_id),
            expected: public.key_id_hex(),
        });
    }
    let vk = &public.verifying_key;
    is_valid_key(vk)?;

    // Same order as minisign: the content signature, then the global one.
    if parsed.legacy {
        let limit = options.max_legacy_input_len;
        let mut content = Vec::new();
        reader
            .by_ref()
            .take(limit.saturating_add(1))
            .read_to_end(&mut content)?;
        if content.len() as u64 > limit {
            return Err(MinisignError::LegacyInputTooLarge { limit });
        }
        vk.verify_strict(&content, &parsed.signature)
            .map_err(|_| MinisignError::SignatureInvalid)?;
    } else {
        let digest = blake2b512_stream(reader)?;
        vk.verify_strict(&digest, &parsed.signature)
            .map_err(|_| MinisignError::SignatureInvalid)?;
    }

    let mut global_msg = Vec::with_capacity(64 + parsed.trusted_comment.len());
    global_msg.extend_from_slice(&parsed.signature_bytes);
    global_msg.extend_from_slice(parsed.trusted_comment.as_bytes());
    vk.verify_strict(&global_msg, &parsed.global)
        .map_err(|_| MinisignError::TrustedCommentSignatureInvalid)?;

    Ok(Verified {
        trusted_comment: parsed.trusted_comment,
        key_id: parsed.key_id,
        legacy: parsed.legacy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_digest::READ_CHUNK;

    #[test]
    fn scrypt_params_match_libsodium() {
        // SENSITIVE (what minisign uses) and INTERACTIVE limits.
        assert_eq!(
            scrypt_params_from_limits(33_554_432, 1_073_741_824),
            (20, 8, 1)
        );
        assert_eq!(scrypt_params_from_limits(524_288, 16_777_216), (14, 8, 1));
        // minisign halves both on allocation failure.
        assert_eq!(
            scrypt_params_from_limits(16_777_216, 536_870_912),
            (19, 8, 1)
        );
        // opslimit-bound branch.
        assert_eq!(scrypt_params_from_limits(32_768, 1 << 30), (10, 8, 1));
        // Degenerate inputs must not panic.
        let _ = scrypt_params_from_limits(0, 0);
        let _ = scrypt_params_from_limits(u64::MAX, u64::MAX);
        let _ = scrypt_params_from_limits(u64::MAX, 0);
    }

    #[test]
    fn key_id_hex_is_little_endian() {
        let id = [0x5c, 0x3d, 0x06, 0x70, 0x76, 0xaa, 0x95, 0x1e];
        assert_eq!(key_id_to_hex(&id), "1E95AA7670063D5C");
        assert_eq!(key_id_to_hex(&[1, 0, 0, 0, 0, 0, 0, 0]), "0000000000000001");
    }

    #[test]
    fn unencrypted_roundtrip_and_sign_verify() {
        let sk = SecretKey::generate();
        let text = sk.to_file_text(None, "test").unwrap();
        let sk2 = SecretKey::from_file_text(&text, None).unwrap();
        assert_eq!(sk.key_id(), sk2.key_id());
        assert_eq!(sk.public_key(), sk2.public_key());
        let pk = PublicKey::from_file_text(&sk.public_key().to_file_text()).unwrap();
        let sig = sign_prehashed(&sk2, &b"hello"[..], "tc", "uc").unwrap();
        let v = verify(&pk, &b"hello"[..], &sig).unwrap();
        assert_eq!(v.trusted_comment, "tc");
        assert!(!v.legacy);
        assert!(matches!(
            verify(&pk, &b"hellO"[..], &sig),
            Err(MinisignError::SignatureInvalid)
        ));
    }

    #[test]
    fn degenerate_kdf_parameters_are_errors() {
        assert!(matches!(
            kdf_stream("x", &[0; 32], u64::MAX, u64::MAX),
            Err(MinisignError::KdfParameters { .. })
        ));
    }

    /// Returns at most `step` bytes per read, `Interrupted` before every other read, and
    /// fails once `fail_at` bytes have been read.
    struct Awkward<'a> {
        data: &'a [u8],
        at: usize,
        step: usize,
        interrupt: bool,
        fail_at: Option<usize>,
    }

    impl Read for Awkward<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            if self.fail_at.is_some_and(|f| self.at >= f) {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn streamed_digest_survives_short_reads_and_reports_errors() {
        let data: Vec<u8> = (0..(3 * READ_CHUNK + 12_345))
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        for len in [0, 10, READ_CHUNK, READ_CHUNK + 1, data.len()] {
            let reader = Awkward {
                data: &data[..len],
                at: 0,
                step: 100_003,
                interrupt: false,
                fail_at: None,
            };
            let digest = blake2b512_stream(reader).unwrap();
            assert_eq!(
                &digest,
                blake2b_simd::blake2b(&data[..len]).as_array(),
                "{len}"
            );
        }
        for fail_at in [0, READ_CHUNK / 2, 2 * READ_CHUNK + 5] {
            let reader = Awkward {
                data: &data,
                at: 0,
                step: 100_003,
                interrupt: false,
                fail_at: Some(fail_at),
            };
            let err = blake2b512_stream(reader).unwrap_err();
            assert_eq!(err.to_string(), "disk on fire");
        }
    }
}
