//! Records as JSON, byte for byte as `go-embeddingsdb` marshals them with Go's
//! `encoding/json` (see [`crate::gojson`] for the value rules).

use std::ops::Range;

use crate::batch::Batch;
use crate::gojson::{self, NonFiniteFloat};
use crate::record::RecordRef;

/// How a record without attributes is written.
///
/// Whether the Go reader yields a nil map (`null`) or an empty one (`{}`) for a record with
/// no attributes is not known for certain, so signature verification tries both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributesJson {
    /// Always an object: `{}` when empty.
    Object,
    /// `null` when empty (a nil Go map), an object otherwise.
    NullWhenEmpty,
}

/// Appends the record as Go's `json.Marshal(record)` writes it: fields `provider`,
/// `depiction_id`, `subject_id`, `model`, `embeddings`, `created`, `attributes`, in that
/// order, no spaces, attribute keys sorted.
///
/// Fails (writing nothing) when a vector element is NaN or infinite, which JSON cannot carry.
pub fn write_record(
    out: &mut Vec<u8>,
    record: &RecordRef<'_>,
    attributes: AttributesJson,
) -> Result<(), NonFiniteFloat> {
    let start = out.len();
    out.extend_from_slice(b"{\"provider\":");
    gojson::write_string(out, record.provider.as_bytes());
    out.extend_from_slice(b",\"depiction_id\":");
    gojson::write_string(out, record.depiction_id.as_bytes());
    out.extend_from_slice(b",\"subject_id\":");
    gojson::write_string(out, record.subject_id.as_bytes());
    out.extend_from_slice(b",\"model\":");
    gojson::write_string(out, record.model.as_bytes());
    out.extend_from_slice(b",\"embeddings\":");
    if let Err(e) = gojson::write_f32_slice(out, record.embeddings) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(b",\"created\":");
    gojson::write_i64(out, record.created);
    out.extend_from_slice(b",\"attributes\":");
    if record.attributes.is_empty() && attributes == AttributesJson::NullWhenEmpty {
        out.extend_from_slice(b"null");
    } else {
        let mut entries: Vec<(&[u8], &[u8])> = record
            .attributes
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        gojson::write_string_map(out, &mut entries);
    }
    out.push(b'}');
    Ok(())
}

/// Appends a record's attributes as Go's `json.Marshal` writes a `map[string]string`: keys
/// sorted, `{}` when empty.
pub fn write_attributes(out: &mut Vec<u8>, attributes: &crate::record::Attributes<'_>) {
    let mut entries: Vec<(&[u8], &[u8])> = attributes
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    gojson::write_string_map(out, &mut entries);
}

/// A record of a batch that cannot be written as JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineError {
    /// Row of the record within the batch.
    pub row: usize,
    /// The element JSON cannot carry.
    pub error: NonFiniteFloat,
}

/// Appends rows `rows` of `batch` as JSON Lines (each record followed by `\n`).
///
/// On error, `out` holds the lines of the rows before the failing one.
pub fn write_lines(
    out: &mut Vec<u8>,
    batch: &Batch,
    rows: Range<usize>,
    attributes: AttributesJson,
) -> Result<(), LineError> {
    for row in rows {
        write_record(out, &batch.record(row), attributes)
            .map_err(|error| LineError { row, error })?;
        out.push(b'\n');
    }
    Ok(())
}

/// [`write_lines`] on `threads` threads, each encoding a contiguous share of the rows; the
/// lines come out in row order. Float formatting dominates JSON output, so this scales with
/// the cores.
pub fn write_lines_parallel(
    out: &mut Vec<u8>,
    batch: &Batch,
    rows: Range<usize>,
    attributes: AttributesJson,
    threads: usize,
) -> Result<(), LineError> {
    let threads = threads.clamp(1, rows.len().max(1));
    if threads == 1 {
        return write_lines(out, batch, rows, attributes);
    }
    let share = rows.len().div_ceil(threads);
    let parts: Vec<Range<usize>> = (0..threads)
        .map(|t| {
            (rows.start + t * share).min(rows.end)..(rows.start + (t + 1) * share).min(rows.end)
        })
        .collect();
    let mut buffers: Vec<(Vec<u8>, Result<(), LineError>)> =
        crate::pipeline::parallel_map(&parts, |part| {
            let mut buffer = Vec::new();
            let result = write_lines(&mut buffer, batch, part.clone(), attributes);
            (buffer, result)
        });
    for (buffer, result) in buffers.drain(..) {
        out.extend_from_slice(&buffer);
        result?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::record::Record;

    #[test]
    fn record_fields_in_go_order() {
        let record = Record {
            provider: "sfomuseum".into(),
            depiction_id: "1527858923".into(),
            subject_id: "1511924931".into(),
            model: "mobileclip".into(),
            embeddings: vec![0.1, -2.5, 1e-7, 0.0],
            created: 1_760_000_000,
            attributes: BTreeMap::from([
                ("type".into(), "image".into()),
                ("subject_title".into(), "A & B <c>".into()),
            ]),
        };
        let mut out = Vec::new();
        write_record(&mut out, &record.as_ref(), AttributesJson::Object).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"provider":"sfomuseum","depiction_id":"1527858923","subject_id":"1511924931","model":"mobileclip","embeddings":[0.1,-2.5,1e-7,0],"created":1760000000,"attributes":{"subject_title":"A \u0026 B \u003cc\u003e","type":"image"}}"#
        );
    }

    #[test]
    fn parallel_lines_equal_sequential_lines_and_stop_at_the_first_bad_record() {
        let records: Vec<Record> = (0..101)
            .map(|i| Record {
                provider: "p".into(),
                depiction_id: i.to_string(),
                subject_id: "s".into(),
                model: "m".into(),
                embeddings: vec![i as f32 / 3.0; 5],
                created: i,
                attributes: BTreeMap::from([("k".into(), format!("<{i}>"))]),
            })
            .collect();
        let batch = Batch::from_records(records.iter().map(Record::as_ref)).unwrap();
        let mut one = Vec::new();
        write_lines(&mut one, &batch, 0..101, AttributesJson::Object).unwrap();
        for threads in [1, 2, 3, 8, 200] {
            let mut many = Vec::new();
            write_lines_parallel(&mut many, &batch, 0..101, AttributesJson::Object, threads)
                .unwrap();
            assert_eq!(many, one, "{threads} threads");
        }
        let mut bad = records.clone();
        bad[70].embeddings[1] = f32::INFINITY;
        bad[90].embeddings[0] = f32::NAN;
        let batch = Batch::from_records(bad.iter().map(Record::as_ref)).unwrap();
        let mut out = Vec::new();
        let err =
            write_lines_parallel(&mut out, &batch, 0..101, AttributesJson::Object, 2).unwrap_err();
        assert_eq!((err.row, err.error.index), (70, 1));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 70);
    }

    #[test]
    fn empty_attributes_as_object_or_null_and_nan_is_refused() {
        let mut record = Record {
            provider: "p".into(),
            depiction_id: "d".into(),
            subject_id: "s".into(),
            model: "m".into(),
            embeddings: vec![],
            created: -1,
            attributes: BTreeMap::new(),
        };
        let mut out = Vec::new();
        write_record(&mut out, &record.as_ref(), AttributesJson::NullWhenEmpty).unwrap();
        assert!(out.ends_with(br#""embeddings":[],"created":-1,"attributes":null}"#));
        out.clear();
        write_record(&mut out, &record.as_ref(), AttributesJson::Object).unwrap();
        assert!(out.ends_with(br#""attributes":{}}"#));
        record.embeddings = vec![1.0, f32::NAN];
        let mut out = b"kept".to_vec();
        let err = write_record(&mut out, &record.as_ref(), AttributesJson::Object).unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(out, b"kept");
    }
}
