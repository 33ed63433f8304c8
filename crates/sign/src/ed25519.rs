//! Raw Ed25519 record signatures of the native profile: signing and strict, batched,
//! multi-core verification of many short messages under one key.
//!
//! Strictness: a weak (small-order) public key is refused before anything is verified; a
//! signature whose `R` is a small-order point or whose `s` is not canonical is invalid. With
//! those two checks, batch verification accepts exactly what `verify_strict` accepts, and a
//! batch that fails is re-checked one signature at a time with `verify_strict`, so every
//! invalid signature is found and named.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// Signatures verified per batch equation.
const BATCH: usize = 64;

/// Signs each message.
pub(crate) fn sign_all(key: &SigningKey, messages: &[&[u8]]) -> Vec<[u8; 64]> {
    parallel_map(messages, |m| key.sign(m).to_bytes())
}

/// Whether each signature is a valid strict Ed25519 signature of its message under `key`.
/// `key` must not be weak (see [`VerifyingKey::is_weak`]); the caller refuses weak keys.
pub(crate) fn verify_all(key: &VerifyingKey, items: &[(&[u8], &[u8])]) -> Vec<bool> {
    let chunks: Vec<&[(&[u8], &[u8])]> = items.chunks(BATCH).collect();
    parallel_map(&chunks, |chunk| verify_chunk(key, chunk))
        .into_iter()
        .flatten()
        .collect()
}

fn verify_chunk(key: &VerifyingKey, chunk: &[(&[u8], &[u8])]) -> Vec<bool> {
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
            return vec![true; chunk.len()];
        }
    }
    chunk
        .iter()
        .zip(parsed)
        .map(|((message, _), sig)| sig.is_some_and(|s| key.verify_strict(message, &s).is_ok()))
        .collect()
}

/// Whether the signature's `R` decodes to a point of small order (or not at all), which
/// `verify_strict` rejects.
fn small_order_r(signature: &Signature) -> bool {
    CompressedEdwardsY(*signature.r_bytes())
        .decompress()
        .is_none_or(|r| r.is_small_order())
}

/// `f` over `items` on every core, in order.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let share = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use rand_core::OsRng;

    use super::*;

    #[test]
    fn batches_find_every_bad_signature() {
        let key = SigningKey::generate(&mut OsRng);
        let messages: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let mut signatures = sign_all(&key, &refs);
        signatures[7][0] ^= 1; // bad R
        signatures[100][40] ^= 1; // bad s
        let mut small_r = signatures[200];
        small_r[..32].copy_from_slice(&[0u8; 32]); // R = (0, 1)'s neighbour of small order
        small_r[0] = 1; // the identity point
        signatures[200] = small_r;
        let items: Vec<(&[u8], &[u8])> = refs
            .iter()
            .zip(&signatures)
            .map(|(m, s)| (*m, s.as_slice()))
            .collect();
        let ok = verify_all(&key.verifying_key(), &items);
        let bad: Vec<usize> = ok
            .iter()
            .enumerate()
            .filter(|(_, ok)| !**ok)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(bad, vec![7, 100, 200]);
        // A truncated signature is invalid, not a panic.
        assert_eq!(
            verify_all(&key.verifying_key(), &[(refs[0], &signatures[0][..63])]),
            vec![false]
        );
    }
}
