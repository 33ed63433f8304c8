//! Records as JSON, byte for byte as `go-embeddingsdb` marshals them with Go's
//! `encoding/json` (see [`crate::gojson`] for the value rules).

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
