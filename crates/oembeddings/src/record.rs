//! The embeddings record of `go-embeddingsdb`, owned and borrowed, and its key.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One embedding of one depiction by one model: the record of SFO Museum's `go-embeddingsdb`.
///
/// `(provider, depiction_id, model)` identifies a record; see [`Record::key`].
/// Field names and order are those of the Go tool's JSON and Parquet encodings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Record",
    description = "One vector embedding of one depiction by one model."
)]
pub struct Record {
    /// Name (or context) of the provider responsible for `depiction_id`, e.g. `sfomuseum`.
    pub provider: String,
    /// Identifier of the depiction (usually an image) the embeddings were computed for.
    pub depiction_id: String,
    /// Identifier of the subject (object, artwork) that the depiction depicts.
    pub subject_id: String,
    /// Label of the model that produced the embeddings, e.g. `siglip2-patch14`.
    pub model: String,
    /// The embedding vector, as 32-bit floats.
    #[schemars(with = "Vec<f32>")]
    pub embeddings: Vec<f32>,
    /// Unix time (seconds) at which the embeddings were generated.
    pub created: i64,
    /// Free-form string attributes; see the OEmbeddings convention for the expected keys.
    pub attributes: BTreeMap<String, String>,
}

impl Record {
    /// The record key `{provider}-{depiction_id}-{model}`, as the Go tool formats it.
    pub fn key(&self) -> RecordKey<'_> {
        RecordKey::new(&self.provider, &self.depiction_id, &self.model)
    }

    /// Borrows this record as a [`RecordRef`].
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            provider: &self.provider,
            depiction_id: &self.depiction_id,
            subject_id: &self.subject_id,
            model: &self.model,
            embeddings: &self.embeddings,
            created: self.created,
            attributes: Attributes::Map(&self.attributes),
        }
    }
}

/// The identity of a record, displayed as `{provider}-{depiction_id}-{model}`.
///
/// The displayed form is ambiguous when a part contains `-` (the Go tool's key has the same
/// property); compare the parts, not the string, when identity matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey<'a> {
    /// The record's provider.
    pub provider: &'a str,
    /// The record's depiction id.
    pub depiction_id: &'a str,
    /// The record's model.
    pub model: &'a str,
}

impl<'a> RecordKey<'a> {
    /// A key from its three parts.
    pub fn new(provider: &'a str, depiction_id: &'a str, model: &'a str) -> Self {
        Self {
            provider,
            depiction_id,
            model,
        }
    }
}

impl RecordKey<'_> {
    /// A 128-bit fingerprint of the identity: two independent SipHash-1-3 digests (fixed
    /// keys, so reproducible) of the length-prefixed parts, so that `("a-b", "c")` and
    /// `("a", "b-c")` differ. Sets of fingerprints find duplicates in bounded memory; two
    /// keys collide with probability about n² / 2¹²⁹ among n records.
    pub fn fingerprint(&self) -> u128 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let digest = |domain: u8| {
            let mut h = DefaultHasher::new();
            domain.hash(&mut h);
            for part in [self.provider, self.depiction_id, self.model] {
                part.len().hash(&mut h);
                h.write(part.as_bytes());
            }
            h.finish()
        };
        (u128::from(digest(1)) << 64) | u128::from(digest(2))
    }
}

impl fmt::Display for RecordKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.provider, self.depiction_id, self.model)
    }
}

/// A record borrowed from a [`Record`] or from a [`crate::Batch`], without copying.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// See [`Record::provider`].
    pub provider: &'a str,
    /// See [`Record::depiction_id`].
    pub depiction_id: &'a str,
    /// See [`Record::subject_id`].
    pub subject_id: &'a str,
    /// See [`Record::model`].
    pub model: &'a str,
    /// See [`Record::embeddings`].
    pub embeddings: &'a [f32],
    /// See [`Record::created`].
    pub created: i64,
    /// See [`Record::attributes`].
    pub attributes: Attributes<'a>,
}

impl<'a> RecordRef<'a> {
    /// The record key `{provider}-{depiction_id}-{model}`.
    pub fn key(&self) -> RecordKey<'a> {
        RecordKey::new(self.provider, self.depiction_id, self.model)
    }

    /// Copies the record into an owned [`Record`].
    ///
    /// When an attribute key occurs more than once (possible in a Parquet MAP, impossible in a
    /// Go map), the last value wins, as it does when the Go tool decodes the file.
    pub fn to_record(&self) -> Record {
        Record {
            provider: self.provider.to_owned(),
            depiction_id: self.depiction_id.to_owned(),
            subject_id: self.subject_id.to_owned(),
            model: self.model.to_owned(),
            embeddings: self.embeddings.to_vec(),
            created: self.created,
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

/// A record's attributes, borrowed either from a map or from a batch's key and value columns.
#[derive(Debug, Clone, Copy)]
pub enum Attributes<'a> {
    /// Attributes of an owned [`Record`].
    Map(&'a BTreeMap<String, String>),
    /// Attributes stored as entries `start..end` of a batch's key and value columns.
    Columns {
        /// All keys of the batch.
        keys: &'a arrow_array::StringArray,
        /// All values of the batch.
        values: &'a arrow_array::StringArray,
        /// Index of this record's first entry.
        start: usize,
        /// Index one past this record's last entry.
        end: usize,
    },
}

impl<'a> Attributes<'a> {
    /// Number of entries (duplicated keys counted each time).
    pub fn len(&self) -> usize {
        match self {
            Attributes::Map(map) => map.len(),
            Attributes::Columns { start, end, .. } => end - start,
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries in storage order (sorted by key for a [`Record`]).
    pub fn iter(&self) -> AttributesIter<'a> {
        match *self {
            Attributes::Map(map) => AttributesIter::Map(map.iter()),
            Attributes::Columns {
                keys,
                values,
                start,
                end,
            } => AttributesIter::Columns {
                keys,
                values,
                next: start,
                end,
            },
        }
    }

    /// The value of `key`; the last one when the key occurs more than once.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        match self {
            Attributes::Map(map) => map.get(key).map(String::as_str),
            Attributes::Columns { .. } => self
                .iter()
                .filter(|(k, _)| *k == key)
                .last()
                .map(|(_, v)| v),
        }
    }
}

/// Iterator over `(key, value)` pairs of [`Attributes`].
#[derive(Debug, Clone)]
pub enum AttributesIter<'a> {
    /// Over a map.
    #[doc(hidden)]
    Map(std::collections::btree_map::Iter<'a, String, String>),
    /// Over batch columns.
    #[doc(hidden)]
    Columns {
        /// Keys column.
        keys: &'a arrow_array::StringArray,
        /// Values column.
        values: &'a arrow_array::StringArray,
        /// Next entry.
        next: usize,
        /// End of entries.
        end: usize,
    },
}

impl<'a> Iterator for AttributesIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            AttributesIter::Map(it) => it.next().map(|(k, v)| (k.as_str(), v.as_str())),
            AttributesIter::Columns {
                keys,
                values,
                next,
                end,
            } => {
                if *next >= *end {
                    return None;
                }
                let i = *next;
                *next += 1;
                Some((keys.value(i), values.value(i)))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            AttributesIter::Map(it) => it.len(),
            AttributesIter::Columns { next, end, .. } => end.saturating_sub(*next),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for AttributesIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_formatted_like_the_go_tool() {
        let r = Record {
            provider: "sfomuseum".into(),
            depiction_id: "1527858923".into(),
            subject_id: "1511924931".into(),
            model: "mobileclip".into(),
            embeddings: vec![0.5, -0.25],
            created: 1_760_000_000,
            attributes: BTreeMap::new(),
        };
        assert_eq!(r.key().to_string(), "sfomuseum-1527858923-mobileclip");
        assert_eq!(r.as_ref().to_record(), r);
    }
}
