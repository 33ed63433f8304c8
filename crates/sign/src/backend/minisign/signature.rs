//! Minisign signature files: signing (prehashed `ED`) and verifying both algorithms.

use std::io::{self, Read};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer};

use crate::format::file_digest::hash_reader_overlapped;

use super::{
    DEFAULT_MAX_LEGACY_INPUT_LEN, DEFAULT_SIGNATURE_COMMENT, KEY_ID_LEN, Lines,
    MAX_TRUSTED_COMMENT_LEN, MAX_UNTRUSTED_COMMENT_LEN, MinisignError, PublicKey, SIGALG,
    SIGALG_PREHASHED, SIGNATURE_BLOB_LEN, SecretKey, TRUSTED_COMMENT_PREFIX,
    UNTRUSTED_COMMENT_PREFIX, b64_decode, check_comment, io_invalid, is_valid_key, key_id_to_hex,
};

/// Streams `reader` through BLAKE2b-512, hashing on another thread while the next chunk is
/// read: reading a file out of the page cache costs about a seventh of hashing it, and this
/// way the two overlap.
pub(super) fn blake2b512_stream(reader: impl Read) -> io::Result<[u8; 64]> {
    let state = hash_reader_overlapped(reader, blake2b_simd::State::new(), |state, chunk| {
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
