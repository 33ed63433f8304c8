//! go-embeddingsdb's JSON record, one per line, both ways.
//!
//! Written byte for byte as Go's `encoding/json` marshals the record (see [`oembeddings::json`]).
//! Read strictly: every field but `attributes` is required, unknown fields are errors (they
//! would otherwise be dropped without a word), and each vector element is parsed straight to
//! the nearest float32, so that the shortest form Go writes comes back bit for bit.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::output::LinesFile;
use crate::{ConvertError, Sink, Source};
use oembeddings::batch::{Batch, BatchBuilder};
use oembeddings::input::open_regular;
use oembeddings::json::{AttributesJson, write_lines_parallel};
use oembeddings::record::{Attributes, RecordRef};

/// Rule: a NaN or infinite element, which JSON cannot carry (never written as `null`).
pub const NON_FINITE: &str = "non-finite";

/// Why a record cannot be written as JSON: the first NaN or infinite element.
pub(crate) fn non_finite(embeddings: &[f32]) -> Result<(), (&'static str, String)> {
    match embeddings.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err((
            NON_FINITE,
            format!(
                "vector element {i} is {}, which JSON cannot carry",
                embeddings[i]
            ),
        )),
    }
}

/// Reads JSON Lines records as canonical batches.
pub(crate) struct JsonlReader {
    path: PathBuf,
    lines: BufReader<File>,
    line: String,
    line_number: u64,
    row: u64,
    vector: Vec<f32>,
    done: bool,
}

/// Records per batch, and vector elements per batch (8 MiB), whichever comes first.
const BATCH_RECORDS: usize = 8192;
const BATCH_VALUES: usize = 2 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    provider: Cow<'a, str>,
    #[serde(borrow)]
    depiction_id: Cow<'a, str>,
    #[serde(borrow)]
    subject_id: Cow<'a, str>,
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    embeddings: &'a RawValue,
    created: i64,
    #[serde(default)]
    attributes: Option<BTreeMap<String, String>>,
}

impl JsonlReader {
    pub(crate) fn open(path: &Path) -> Result<Self, ConvertError> {
        let file = open_regular(path).map_err(|e| ConvertError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            lines: BufReader::with_capacity(1 << 20, file),
            line: String::new(),
            line_number: 0,
            row: 0,
            vector: Vec::new(),
            done: false,
        })
    }

    fn error(&self, message: impl Into<String>) -> ConvertError {
        ConvertError::Input {
            path: self.path.clone(),
            location: format!("line {}", self.line_number),
            message: message.into(),
        }
    }

    fn next_batch(&mut self) -> Result<Option<Batch>, ConvertError> {
        let mut builder = BatchBuilder::default();
        let first_row = self.row;
        let mut records = 0usize;
        let mut values = 0usize;
        let empty = BTreeMap::new();
        while records < BATCH_RECORDS && values < BATCH_VALUES {
            self.line.clear();
            let n = self
                .lines
                .read_line(&mut self.line)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::InvalidData => {
                        self.error("not UTF-8 text; JSON Lines must be UTF-8")
                    }
                    _ => ConvertError::io(&self.path, e),
                })?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line_number += 1;
            let text = self.line.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            let line: Line<'_> = serde_json::from_str(text).map_err(|e| ConvertError::Input {
                path: self.path.clone(),
                location: format!("line {}", self.line_number),
                message: format!("not a go-embeddingsdb record: {e}"),
            })?;
            parse_f32_array(line.embeddings.get(), &mut self.vector).map_err(|message| {
                ConvertError::Input {
                    path: self.path.clone(),
                    location: format!("line {}", self.line_number),
                    message: format!("embeddings: {message}"),
                }
            })?;
            builder.push(&RecordRef {
                provider: &line.provider,
                depiction_id: &line.depiction_id,
                subject_id: &line.subject_id,
                model: &line.model,
                embeddings: &self.vector,
                created: line.created,
                attributes: Attributes::Map(line.attributes.as_ref().unwrap_or(&empty)),
            });
            records += 1;
            values += self.vector.len();
            self.row += 1;
        }
        if records == 0 {
            return Ok(None);
        }
        builder
            .finish(first_row)
            .map(Some)
            .map_err(|e| self.error(e.to_string()))
    }
}

impl Iterator for JsonlReader {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_batch() {
            Ok(Some(batch)) => Some(Ok(batch)),
            // An empty (or blank) file is not JSON Lines: a records file holds records, and
            // a wrong path or a failed export must not pass as an empty collection.
            Ok(None) if self.row == 0 => {
                self.done = true;
                Some(Err(ConvertError::EmptyInput {
                    path: self.path.clone(),
                }))
            }
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Source for JsonlReader {
    fn total(&self) -> Option<u64> {
        None
    }
}

/// Parses a JSON array of numbers (or `null`, Go's nil slice) into float32 values, each
/// rounded once from its decimal text to the nearest float32.
///
/// `text` must already be valid JSON (serde_json checked it).
pub(crate) fn parse_f32_array(text: &str, out: &mut Vec<f32>) -> Result<(), String> {
    out.clear();
    let text = text.trim();
    if text == "null" {
        return Ok(());
    }
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| "expected an array of numbers".to_owned())?;
    if inner.trim().is_empty() {
        return Ok(());
    }
    for (i, token) in inner.split(',').enumerate() {
        let token = token.trim();
        let first = token.as_bytes().first().copied().unwrap_or(b' ');
        if !(first == b'-' || first.is_ascii_digit()) {
            return Err(format!("element {i} is {token}, not a number"));
        }
        let value: f32 = token
            .parse()
            .map_err(|_| format!("element {i} is {token}, not a number"))?;
        if !value.is_finite() {
            return Err(format!(
                "element {i} ({token}) is outside the float32 range"
            ));
        }
        out.push(value);
    }
    Ok(())
}

/// Writes records as JSON Lines.
pub(crate) struct JsonlSink {
    output: LinesFile,
    buffer: Vec<u8>,
    threads: usize,
}

impl JsonlSink {
    pub(crate) fn create(path: &Path) -> Result<Self, ConvertError> {
        Ok(Self {
            output: LinesFile::create(path)?,
            buffer: Vec::new(),
            threads: oembeddings::pipeline::cores(),
        })
    }
}

impl Sink for JsonlSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        non_finite(record.embeddings)
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        self.buffer.clear();
        let path = self.output.target().to_path_buf();
        write_lines_parallel(
            &mut self.buffer,
            batch,
            0..batch.num_rows(),
            AttributesJson::Object,
            self.threads,
        )
        .map_err(|e| ConvertError::target(&path, format!("row {}: {}", e.row, e.error)))?;
        self.output.write_all(&self.buffer)
    }

    fn finish(self: Box<Self>) -> Result<crate::Finished, ConvertError> {
        self.output.commit()?;
        Ok(crate::Finished::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_parse_to_the_nearest_float32() {
        let mut out = Vec::new();
        parse_f32_array("[0.1, -2.5e-07,3,1e-45]", &mut out).unwrap();
        assert_eq!(out, vec![0.1f32, -2.5e-07, 3.0, 1e-45]);
        parse_f32_array("null", &mut out).unwrap();
        assert!(out.is_empty());
        parse_f32_array("[ ]", &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn values_a_float32_cannot_hold_are_errors() {
        let mut out = Vec::new();
        let e = parse_f32_array("[1, 1e39]", &mut out).unwrap_err();
        assert!(e.contains("element 1"), "{e}");
        assert!(parse_f32_array("[\"1\"]", &mut out).is_err());
        assert!(parse_f32_array("[true]", &mut out).is_err());
        assert!(parse_f32_array("{}", &mut out).is_err());
    }

    #[test]
    fn non_finite_values_are_refused_with_their_index() {
        assert!(non_finite(&[1.0, 2.0]).is_ok());
        let (rule, message) = non_finite(&[1.0, f32::NAN]).unwrap_err();
        assert_eq!(rule, NON_FINITE);
        assert!(message.contains("element 1 is NaN"), "{message}");
    }
}
