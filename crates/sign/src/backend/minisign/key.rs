//! Minisign public and secret key files: parsing, writing, and the scrypt-encrypted secret.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use super::{
    CHECKSUM_LEN, CHKALG, DEFAULT_SECRET_KEY_COMMENT, KDF_MEMLIMIT, KDF_OPSLIMIT, KDFALG_NONE,
    KDFALG_SCRYPT, KEY_ID_LEN, KEYNUM_SK_LEN, Lines, MAX_KDF_MEMORY, MAX_KDF_WORK,
    MAX_PASSWORD_LEN, MAX_UNTRUSTED_COMMENT_LEN, MinisignError, PUBLIC_KEY_BLOB_LEN, SALT_LEN,
    SECRET_KEY_BLOB_LEN, SIGALG, SODIUM_SK_LEN, UNTRUSTED_COMMENT_PREFIX, b64_decode,
    check_comment, ct_eq, is_valid_key, key_id_to_hex,
};

/// A minisign public key: an 8-byte key id and an Ed25519 verifying key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub(super) key_id: [u8; KEY_ID_LEN],
    pub(super) verifying_key: VerifyingKey,
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
    pub(super) key_id: [u8; KEY_ID_LEN],
    pub(super) signing_key: SigningKey,
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

pub(super) fn kdf_stream(
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
