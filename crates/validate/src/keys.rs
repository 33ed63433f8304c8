//! Duplicate record keys in bounded memory: a set of 128-bit fingerprints, not the keys.

use std::collections::HashSet;

/// Remembers record keys by their 128-bit fingerprint ([`oembeddings::RecordKey::fingerprint`]),
/// 16 bytes each whatever the key length: below 10⁻²¹ chance of a false duplicate for a
/// billion records. The set hashes the fingerprints again with a per-process random key: the
/// fingerprint's own key is fixed and public, so a hostile file could otherwise pick keys
/// whose fingerprints share their low bits and make every insertion probe the same buckets.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    seen: HashSet<u128>,
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
