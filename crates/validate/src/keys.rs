//! Duplicate record keys in bounded memory: a set of 128-bit fingerprints, not the keys.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Remembers record keys by their 128-bit fingerprint ([`oembeddings::RecordKey::fingerprint`]),
/// 16 bytes each whatever the key length: below 10⁻²¹ chance of a false duplicate for a
/// billion records.
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

fn fingerprint(provider: &str, depiction_id: &str, model: &str) -> u128 {
    oembeddings::RecordKey::new(provider, depiction_id, model).fingerprint()
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
