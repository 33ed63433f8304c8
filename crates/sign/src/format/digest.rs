//! The native profile's record digest: a domain-separated, length-prefixed SHA-256 over a
//! record's identity and every field, independent of the file layout it is stored in.
//!
//! ```text
//! digest = SHA-256( "oembeddings.record.v1" 0x00
//!                   str(provider) str(depiction_id) str(subject_id) str(model)
//!                   u64(n) f32(e1) ... f32(en)
//!                   i64(created)
//!                   u64(m) str(k1) str(v1) ... str(km) str(vm) )
//! str(s) = u64(byte length of s) || UTF-8 bytes of s
//! u64, i64: 8 bytes little-endian; f32: the 4 bytes of the IEEE 754 value, little-endian
//! attributes sorted by key bytes; a key that occurs twice counts once, with its last value
//! ```
//!
//! `spec/signatures.md` specifies it with test vectors.

use sha2::{Digest, Sha256};

use oembeddings::record::RecordRef;

/// Domain separation tag of record digests.
pub const RECORD_DOMAIN: &[u8] = b"oembeddings.record.v1\0";
/// Domain separation tag of the message a record signature signs.
pub const SIGNATURE_DOMAIN: &[u8] = b"oembeddings.record-signature.v1\0";
/// Domain separation tag of the root over a file's ordered record digests.
pub const ROOT_DOMAIN: &[u8] = b"oembeddings.records-root.v1\0";

/// A 32-byte record digest.
pub type RecordDigest = [u8; 32];

/// The digest of one record.
pub fn record_digest(record: &RecordRef<'_>) -> RecordDigest {
    Encoding::default().digest(record)
}

/// The digests of many records, in order: the same as [`record_digest`] of each, with the
/// encoding buffers reused from record to record.
pub fn record_digests<'a>(records: impl IntoIterator<Item = RecordRef<'a>>) -> Vec<RecordDigest> {
    let records = records.into_iter();
    let mut digests = Vec::with_capacity(records.size_hint().0);
    let mut encoding = Encoding::default();
    for record in records {
        digests.push(encoding.digest(&record));
    }
    digests
}

/// A record's digest input in three parts, so that its vector is hashed where it lies: the
/// bytes before the elements, the elements, and the bytes after them. The buffers are
/// reused from record to record.
#[derive(Debug, Default)]
struct Encoding<'a> {
    head: Vec<u8>,
    tail: Vec<u8>,
    /// The attributes, sorted by key.
    entries: Vec<(&'a str, &'a str)>,
    /// The elements as little-endian bytes, on machines where memory is not.
    #[cfg(not(target_endian = "little"))]
    elements: Vec<u8>,
}

impl<'a> Encoding<'a> {
    fn digest(&mut self, record: &RecordRef<'a>) -> RecordDigest {
        let mut hasher = Sha256::new();
        for part in self.encode(record) {
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    fn encode<'s>(&'s mut self, record: &'s RecordRef<'a>) -> [&'s [u8]; 3] {
        let head = &mut self.head;
        head.clear();
        head.extend_from_slice(RECORD_DOMAIN);
        for s in [
            record.provider,
            record.depiction_id,
            record.subject_id,
            record.model,
        ] {
            string(head, s);
        }
        head.extend_from_slice(&(record.embeddings.len() as u64).to_le_bytes());
        let tail = &mut self.tail;
        tail.clear();
        tail.extend_from_slice(&record.created.to_le_bytes());
        let entries = &mut self.entries;
        entries.clear();
        entries.extend(record.attributes.iter());
        // Stable sort, then keep the last of equal keys: what a Go map built in order holds.
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut kept = 0;
        for next in 0..entries.len() {
            if kept > 0 && entries[kept - 1].0 == entries[next].0 {
                entries[kept - 1] = entries[next];
            } else {
                entries[kept] = entries[next];
                kept += 1;
            }
        }
        entries.truncate(kept);
        tail.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        for &(k, v) in entries.iter() {
            string(tail, k);
            string(tail, v);
        }
        // The elements' little-endian bytes: the vector's memory as it is on little-endian
        // machines.
        #[cfg(target_endian = "little")]
        let elements: &[u8] = zerocopy::IntoBytes::as_bytes(record.embeddings);
        #[cfg(not(target_endian = "little"))]
        let elements: &[u8] = {
            self.elements.clear();
            for value in record.embeddings {
                self.elements.extend_from_slice(&value.to_le_bytes());
            }
            &self.elements
        };
        [&self.head, elements, &self.tail]
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Length of the message a record signature signs: the domain tag and a digest.
pub const SIGNED_MESSAGE_LEN: usize = SIGNATURE_DOMAIN.len() + 32;

/// The message a record signature signs.
pub type SignedMessage = [u8; SIGNED_MESSAGE_LEN];

/// The message a record signature signs: `SIGNATURE_DOMAIN || digest`.
pub fn signed_message(digest: &RecordDigest) -> SignedMessage {
    let mut message = [0u8; SIGNED_MESSAGE_LEN];
    message[..SIGNATURE_DOMAIN.len()].copy_from_slice(SIGNATURE_DOMAIN);
    message[SIGNATURE_DOMAIN.len()..].copy_from_slice(digest);
    message
}

/// The root over a file's record digests, in file order.
#[derive(Debug, Clone)]
pub struct RootBuilder {
    hasher: Sha256,
    rows: u64,
    digests: Sha256,
}

impl Default for RootBuilder {
    fn default() -> Self {
        Self {
            hasher: Sha256::new(),
            rows: 0,
            digests: Sha256::new(),
        }
    }
}

impl RootBuilder {
    /// Adds the next record's digest.
    pub fn push(&mut self, digest: &RecordDigest) {
        self.digests.update(digest);
        self.rows += 1;
    }

    /// `SHA-256(ROOT_DOMAIN || u64(rows) || SHA-256(digest1 || ... || digestn))`.
    pub fn finish(self) -> RecordDigest {
        let mut h = self.hasher;
        h.update(ROOT_DOMAIN);
        h.update(self.rows.to_le_bytes());
        h.update(self.digests.finalize());
        h.finalize().into()
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Parses lowercase or uppercase hex of exactly `N` bytes.
pub fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use oembeddings::Record;
    use oembeddings::record::Attributes;
    use sha2::{Digest, Sha256};

    use super::*;

    fn record() -> Record {
        Record {
            provider: "sfomuseum".into(),
            depiction_id: "1527858923".into(),
            subject_id: "1511924931".into(),
            model: "mobileclip".into(),
            embeddings: vec![0.5, -0.25, 0.0, -0.0],
            created: 1_776_070_800,
            attributes: BTreeMap::from([
                ("type".into(), "image".into()),
                ("preview".into(), "https://x/".into()),
            ]),
        }
    }

    #[test]
    fn every_field_and_the_identity_change_the_digest() {
        let base = record_digest(&record().as_ref());
        let mut changed = Vec::new();
        let mut r = record();
        r.provider = "sfomuseum2".into();
        changed.push(r);
        let mut r = record();
        r.subject_id = "1511924932".into();
        changed.push(r);
        let mut r = record();
        r.embeddings[3] = 0.0; // -0.0 and 0.0 differ
        changed.push(r);
        let mut r = record();
        r.created += 1;
        changed.push(r);
        let mut r = record();
        r.attributes.insert("type".into(), "text".into());
        changed.push(r);
        // Parts do not run together: ("ab", "c") differs from ("a", "bc").
        let mut r = record();
        r.provider = "sfomuseum1".into();
        r.depiction_id = "527858923".into();
        changed.push(r);
        for r in changed {
            assert_ne!(record_digest(&r.as_ref()), base, "{r:?}");
        }
        assert_eq!(record_digest(&record().as_ref()), base);
    }

    #[test]
    fn digests_of_many_are_the_digests_one_by_one() {
        // Records whose encodings differ in length on both sides of the vector, so that the
        // reused buffers must be cleared between records.
        let records: Vec<Record> = (0..9usize)
            .map(|i| {
                let mut r = record();
                r.depiction_id = "9".repeat(i * 11);
                r.embeddings = (0..i * 97).map(|e| e as f32 * 0.5 - 7.0).collect();
                for a in 0..i {
                    r.attributes.insert(format!("k{a}"), "v".repeat(a * 13));
                }
                r
            })
            .collect();
        for n in 0..=records.len() {
            let refs = records[..n].iter().map(Record::as_ref);
            let one_by_one: Vec<RecordDigest> = records[..n]
                .iter()
                .map(|r| record_digest(&r.as_ref()))
                .collect();
            assert_eq!(record_digests(refs), one_by_one, "{n} records");
        }
    }

    #[test]
    fn the_encoding_is_the_specified_one() {
        // The test record's digest input, written out as spec/signatures.md gives it.
        let r = record();
        let mut expected = RECORD_DOMAIN.to_vec();
        for s in [&r.provider, &r.depiction_id, &r.subject_id, &r.model] {
            expected.extend_from_slice(&(s.len() as u64).to_le_bytes());
            expected.extend_from_slice(s.as_bytes());
        }
        expected.extend_from_slice(&(r.embeddings.len() as u64).to_le_bytes());
        for e in &r.embeddings {
            expected.extend_from_slice(&e.to_le_bytes());
        }
        expected.extend_from_slice(&r.created.to_le_bytes());
        expected.extend_from_slice(&(r.attributes.len() as u64).to_le_bytes());
        for (k, v) in &r.attributes {
            for s in [k, v] {
                expected.extend_from_slice(&(s.len() as u64).to_le_bytes());
                expected.extend_from_slice(s.as_bytes());
            }
        }
        let digest: RecordDigest = Sha256::digest(&expected).into();
        assert_eq!(record_digest(&r.as_ref()), digest);
    }

    #[test]
    fn a_key_twice_counts_once_with_its_last_value() {
        // Column attributes may repeat a key; the digest is that of the record whose map
        // holds each key once, with the value that came last.
        let keys = arrow_array::StringArray::from(vec!["type", "a", "type", "a", "z"]);
        let values = arrow_array::StringArray::from(vec!["text", "1", "image", "2", "x"]);
        let owned = record();
        let mut repeated = owned.as_ref();
        repeated.attributes = Attributes::Columns {
            keys: &keys,
            values: &values,
            start: 0,
            end: 5,
        };
        let mut expected = record();
        expected.attributes = BTreeMap::from([
            ("type".into(), "image".into()),
            ("a".into(), "2".into()),
            ("z".into(), "x".into()),
        ]);
        let digest = record_digest(&expected.as_ref());
        assert_eq!(record_digest(&repeated), digest);
        assert_eq!(record_digests([repeated, repeated, repeated]), [digest; 3]);
        // The first value instead of the last is another record.
        expected.attributes.insert("type".into(), "text".into());
        assert_ne!(record_digest(&expected.as_ref()), digest);
    }

    #[test]
    fn hex_round_trips() {
        let d = record_digest(&record().as_ref());
        assert_eq!(unhex::<32>(&hex(&d)), Some(d));
        assert_eq!(unhex::<32>("zz"), None);
    }
}
