//! Raw Ed25519 record signatures of the native profile: signing and strict, batched,
//! multi-core verification of many short messages under one key.
//!
//! Strictness: a weak (small-order) public key is refused before anything is verified; a
//! signature whose `R` is a small-order point or whose `s` is not canonical is invalid. With
//! those two checks, batch verification accepts exactly what `verify_strict` accepts, and a
//! batch that fails is re-checked in smaller batches, and a small batch that fails one
//! signature at a time with `verify_strict`, so every invalid signature is found and named.

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use oembeddings::pipeline::{cores, parallel_map};
use sha2::Sha512;

/// Signatures verified per batch equation. Larger batches share more of the multiscalar
/// multiplication: on the benchmark machine one core verifies about 50,000 signatures a
/// second in batches of 64, 67,000 in batches of 1024 and 75,000 in batches of 4096, with
/// no further gain at 8192 or 16384.
pub(crate) const BATCH: usize = 4096;

/// The batch size a failed batch is re-checked in, before one signature at a time: one bad
/// signature among 4096 then costs 64 batches of 64 and 64 single checks, not 4096 single
/// checks (each about three times the cost of a signature in a batch).
const RECHECK_BATCH: usize = 64;

/// An Ed25519 key ready to sign many messages. `SigningKey::sign` hashes the secret key
/// into its scalar and nonce prefix at every call; this does it once. The signatures are the
/// same bytes (Ed25519 signing is deterministic), which a test checks.
pub(crate) struct RecordSigner {
    expanded: ExpandedSecretKey,
    public: VerifyingKey,
}

impl RecordSigner {
    /// Prepares `key`.
    pub(crate) fn new(key: &SigningKey) -> Self {
        Self {
            expanded: ExpandedSecretKey::from(key.as_bytes()),
            public: key.verifying_key(),
        }
    }

    /// The Ed25519 signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        raw_sign::<Sha512>(&self.expanded, message, &self.public).to_bytes()
    }
}

/// Whether each signature is a valid strict Ed25519 signature of its message under `key`.
/// `key` must not be weak (see [`VerifyingKey::is_weak`]); the caller refuses weak keys.
pub(crate) fn verify_all(key: &VerifyingKey, items: &[(&[u8], &[u8])]) -> Vec<bool> {
    // Batches of up to BATCH, but at least one per core when there are fewer items.
    let batch = items.len().div_ceil(cores()).clamp(RECHECK_BATCH, BATCH);
    let chunks: Vec<&[(&[u8], &[u8])]> = items.chunks(batch).collect();
    parallel_map(&chunks, |chunk| verify_chunk(key, chunk))
        .into_iter()
        .flatten()
        .collect()
}

/// [`verify_all`] of one batch, on this thread.
pub(crate) fn verify_chunk(key: &VerifyingKey, chunk: &[(&[u8], &[u8])]) -> Vec<bool> {
    let mut verdicts = Vec::with_capacity(chunk.len());
    for batch in chunk.chunks(BATCH) {
        verify_batch_or_recheck(key, batch, &mut verdicts);
    }
    verdicts
}

/// Appends whether each signature of `chunk` verifies: one batch equation when all of them
/// do, else smaller batches, else one at a time.
fn verify_batch_or_recheck(key: &VerifyingKey, chunk: &[(&[u8], &[u8])], verdicts: &mut Vec<bool>) {
    let parsed: Vec<Option<Signature>> = chunk
        .iter()
        .map(|(_, sig)| {
            Signature::from_slice(sig)
                .ok()
                .filter(|s| !small_order_r(s))
        })
        .collect();
    if parsed.iter().all(Option::is_some) {
        let messages: Vec<&[u8]> = chunk.iter().map(|(m, _)| *m).collect();
        let signatures: Vec<Signature> = parsed.iter().flatten().copied().collect();
        let keys = vec![*key; chunk.len()];
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
            verdicts.resize(verdicts.len() + chunk.len(), true);
            return;
        }
    }
    if chunk.len() > RECHECK_BATCH {
        for smaller in chunk.chunks(RECHECK_BATCH) {
            verify_batch_or_recheck(key, smaller, verdicts);
        }
        return;
    }
    verdicts.extend(
        chunk
            .iter()
            .zip(parsed)
            .map(|((message, _), sig)| sig.is_some_and(|s| key.verify_strict(message, &s).is_ok())),
    );
}

/// Whether the signature's `R` encodes a point of small order, which `verify_strict` rejects.
/// (An `R` that does not decode at all fails the batch, then `verify_strict`.)
///
/// Decoding every `R` would cost a square root each; instead `R` is compared with the 14
/// encodings of the 8 small-order points: each point's canonical encoding and, for `y` < 19,
/// the non-canonical `y + p`, each with either sign bit (the torsion group is closed under
/// negation, and `x = 0` points decode with either bit).
pub(crate) fn small_order_r(signature: &Signature) -> bool {
    small_order_encodings().contains(signature.r_bytes())
}

fn small_order_encodings() -> &'static [[u8; 32]] {
    static ENCODINGS: std::sync::OnceLock<Vec<[u8; 32]>> = std::sync::OnceLock::new();
    ENCODINGS.get_or_init(|| {
        let mut out: Vec<[u8; 32]> = Vec::new();
        for point in curve25519_dalek::constants::EIGHT_TORSION {
            let mut y = point.compress().to_bytes();
            y[31] &= 0x7f;
            let mut ys = vec![y];
            // y + p fits in 255 bits only when y < 19.
            if y[1..].iter().all(|&b| b == 0) && y[0] < 19 {
                let mut noncanonical = [0xffu8; 32];
                noncanonical[0] = 0xed + y[0];
                noncanonical[31] = 0x7f;
                ys.push(noncanonical);
            }
            for y in ys {
                for sign in [0u8, 0x80] {
                    let mut e = y;
                    e[31] |= sign;
                    if !out.contains(&e) {
                        out.push(e);
                    }
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use rand_core::OsRng;

    use super::*;

    #[test]
    fn the_small_order_table_is_exactly_what_decodes_to_small_order() {
        let table = small_order_encodings();
        assert_eq!(table.len(), 14);
        for e in table {
            let point = CompressedEdwardsY(*e).decompress().unwrap();
            assert!(point.is_small_order(), "{e:?}");
        }
        // Random encodings that decode are of small order exactly when in the table.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut e = [0u8; 32];
            for b in e.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            if let Some(p) = CompressedEdwardsY(e).decompress() {
                assert_eq!(p.is_small_order(), table.contains(&e));
            }
        }
    }

    #[test]
    fn the_record_signer_signs_what_the_signing_key_signs() {
        use ed25519_dalek::Signer as _;
        let key = SigningKey::generate(&mut OsRng);
        let signer = RecordSigner::new(&key);
        for len in [0usize, 1, 63, 64, 65, 200] {
            let message: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            assert_eq!(
                signer.sign(&message),
                key.sign(&message).to_bytes(),
                "{len}"
            );
        }
    }

    #[test]
    fn batches_find_every_bad_signature() {
        // Three batches, the last partial; bad signatures in each, at the edges of a batch
        // and of a re-check batch, and two in one re-check batch.
        let key = SigningKey::generate(&mut OsRng);
        let count = 2 * BATCH + 300;
        let messages: Vec<Vec<u8>> = (0..count as u32)
            .map(|i| i.to_le_bytes().to_vec())
            .collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let signer = RecordSigner::new(&key);
        let mut signatures: Vec<[u8; 64]> = refs.iter().map(|m| signer.sign(m)).collect();
        signatures[0][40] ^= 1; // bad s
        signatures[7][0] ^= 1; // bad R
        signatures[100][40] ^= 1;
        let mut small_r = signatures[200];
        small_r[..32].copy_from_slice(&[0u8; 32]);
        small_r[0] = 1; // the identity point
        signatures[200] = small_r;
        for i in [
            RECHECK_BATCH - 1,
            BATCH + RECHECK_BATCH,
            BATCH + RECHECK_BATCH + 3,
            count - 1,
        ] {
            signatures[i][63] ^= 0x10;
        }
        let expected = vec![
            0,
            7,
            RECHECK_BATCH - 1,
            100,
            200,
            BATCH + RECHECK_BATCH,
            BATCH + RECHECK_BATCH + 3,
            count - 1,
        ];
        let items: Vec<(&[u8], &[u8])> = refs
            .iter()
            .zip(&signatures)
            .map(|(m, s)| (*m, s.as_slice()))
            .collect();
        let bad = |ok: Vec<bool>| -> Vec<usize> {
            assert_eq!(ok.len(), count);
            ok.iter()
                .enumerate()
                .filter(|(_, ok)| !**ok)
                .map(|(i, _)| i)
                .collect()
        };
        assert_eq!(bad(verify_all(&key.verifying_key(), &items)), expected);
        assert_eq!(bad(verify_chunk(&key.verifying_key(), &items)), expected);
        // Everything valid: every verdict true, in batches.
        let valid: Vec<[u8; 64]> = refs.iter().map(|m| signer.sign(m)).collect();
        let items: Vec<(&[u8], &[u8])> = refs
            .iter()
            .zip(&valid)
            .map(|(m, s)| (*m, s.as_slice()))
            .collect();
        assert!(
            verify_chunk(&key.verifying_key(), &items)
                .into_iter()
                .all(|ok| ok)
        );
        // A truncated signature is invalid, not a panic.
        assert_eq!(
            verify_all(&key.verifying_key(), &[(refs[0], &signatures[1][..63])]),
            vec![false]
        );
    }
}
