//! Admission of records into a target: unique keys, then the target's own rules; refused
//! records fail the conversion or are skipped and listed.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::BooleanArray;
use serde::Serialize;

use crate::{ConvertError, Sink};
use oembeddings::batch::Batch;

/// A record that was not written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Skip {
    /// The input holding the record.
    pub input: PathBuf,
    /// Row of the record in the input.
    pub row: u64,
    /// The record key.
    pub key: String,
    /// The rule it broke, e.g. `duplicate-key`.
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Skip {
    /// How many skipped records a summary lists one by one; the rest are only counted.
    pub const LISTED: usize = 1000;
}

/// Rule: a second record with the key of an earlier one.
pub const DUPLICATE_KEY: &str = "duplicate-key";

/// Rule: two records format to the same key string (`("a-b", "c")` and `("a", "b-c")`), which
/// a store that keys vectors by that string cannot tell apart.
#[cfg(any(feature = "s3vectors", feature = "qdrant"))]
pub const KEY_COLLISION: &str = "key-collision";

/// Writes `key`'s string form into `buffer` (reused: no allocation per record).
#[cfg(any(feature = "s3vectors", feature = "qdrant"))]
pub(crate) fn key_text<'b>(buffer: &'b mut String, key: &oembeddings::RecordKey<'_>) -> &'b str {
    use std::fmt::Write as _;
    buffer.clear();
    let _ = write!(buffer, "{key}");
    buffer
}

pub(crate) struct Admission {
    skip_invalid: bool,
    keys: HashSet<u128>,
    skipped: u64,
    by_rule: BTreeMap<&'static str, u64>,
    skips: Vec<Skip>,
}

impl Admission {
    pub(crate) fn new(skip_invalid: bool) -> Self {
        Self {
            skip_invalid,
            keys: HashSet::new(),
            skipped: 0,
            by_rule: BTreeMap::new(),
            skips: Vec::new(),
        }
    }

    /// The records of `batch` that `sink` admits: all of them (the batch itself, not a
    /// copy) or a filtered copy, or `None` when none is left.
    pub(crate) fn filter(
        &mut self,
        batch: &Batch,
        input: &Path,
        sink: &mut dyn Sink,
    ) -> Result<Option<Batch>, ConvertError> {
        let mut keep: Option<Vec<bool>> = None;
        for (i, record) in batch.records().enumerate() {
            let key = record.key();
            let fingerprint = key.fingerprint();
            let verdict = if self.keys.contains(&fingerprint) {
                Err((
                    DUPLICATE_KEY,
                    "an earlier record has the same provider, depiction_id and model".to_owned(),
                ))
            } else {
                sink.admit(&record)
            };
            match verdict {
                Ok(()) => {
                    self.keys.insert(fingerprint);
                    if let Some(keep) = keep.as_mut() {
                        keep.push(true);
                    }
                }
                Err((rule, message)) => {
                    let row = batch.first_row() + i as u64;
                    if !self.skip_invalid {
                        return Err(ConvertError::Record {
                            path: input.to_path_buf(),
                            row,
                            key: key.to_string(),
                            rule,
                            message,
                        });
                    }
                    let keep = keep.get_or_insert_with(|| vec![true; i]);
                    keep.push(false);
                    self.skipped += 1;
                    *self.by_rule.entry(rule).or_default() += 1;
                    if self.skips.len() < Skip::LISTED {
                        self.skips.push(Skip {
                            input: input.to_path_buf(),
                            row,
                            key: key.to_string(),
                            rule,
                            message,
                        });
                    }
                }
            }
        }
        let Some(keep) = keep else {
            return Ok((!batch.is_empty()).then(|| batch.clone()));
        };
        if !keep.contains(&true) {
            return Ok(None);
        }
        let mask = BooleanArray::from(keep);
        let filtered = arrow_select::filter::filter_record_batch(batch.record_batch(), &mask)
            .map_err(|e| ConvertError::Options(format!("filtering a batch: {e}")))?;
        Batch::try_new(filtered, batch.first_row())
            .map(Some)
            .map_err(|e| ConvertError::Options(format!("filtering a batch: {e}")))
    }

    pub(crate) fn into_skips(self) -> (u64, BTreeMap<&'static str, u64>, Vec<Skip>) {
        (self.skipped, self.by_rule, self.skips)
    }
}
