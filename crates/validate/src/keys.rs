//! Duplicate record keys in bounded memory: a set of 128-bit fingerprints, not the keys.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// Remembers record keys by a 128-bit fingerprint (16 bytes each, whatever the key length).
///
/// Two different keys are mistaken for each other with probability about n² / 2¹²⁹ for n
/// records: below 10⁻²¹ for a billion records.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    seen: HashSet<u128, BuildHasherDefault<FingerprintHasher>>,
}

impl KeySet {
    /// Records a key; returns false when it was already present.
    pub(crate) fn insert(&mut self, provider: &str, depiction_id: &str, model: &str) -> bool {
        self.seen.insert(fingerprint(provider, depiction_id, model))
    }
}

/// Two independent SipHash-1-3 digests (fixed keys, so fingerprints are reproducible) of the
/// length-prefixed parts: `("a-b", "c")` and `("a", "b-c")` differ.
fn fingerprint(provider: &str, depiction_id: &str, model: &str) -> u128 {
    let digest = |domain: u8| {
        let mut h = DefaultHasher::new();
        domain.hash(&mut h);
        for part in [provider, depiction_id, model] {
            part.len().hash(&mut h);
            h.write(part.as_bytes());
        }
        h.finish()
    };
    (u128::from(digest(1)) << 64) | u128::from(digest(2))
}

/// The set's own hashing: a fingerprint is already uniformly distributed.
#[derive(Debug, Default)]
pub(crate) struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_and_parts_do_not_run_together() {
        let mut keys = KeySet::default();
        assert!(keys.insert("sfomuseum", "1", "clip"));
        assert!(!keys.insert("sfomuseum", "1", "clip"));
        assert!(keys.insert("sfomuseum", "1", "clip2"));
        assert!(keys.insert("a-b", "c", "m"));
        assert!(keys.insert("a", "b-c", "m"));
        assert!(keys.insert("", "", ""));
        assert!(!keys.insert("", "", ""));
    }
}
