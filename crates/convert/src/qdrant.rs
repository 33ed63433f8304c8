//! Qdrant points as JSON Lines.
//!
//! Qdrant accepts only unsigned integers and UUIDs as point ids, so each point's id is the
//! UUIDv5 of its record key `{provider}-{depiction_id}-{model}` in the namespace
//! [`NAMESPACE`]; anyone can recompute it (`uuid.uuid5(NAMESPACE, key)` in Python). The key
//! and every field of the record are kept in the payload:
//!
//! ```json
//! {"id":"…","vector":[…],"payload":{"key":"…","provider":"…","depiction_id":"…",
//!  "subject_id":"…","model":"…","created":1700000000,"attributes":{…}}}
//! ```
//!
//! One line per point; batches of lines are the `points` of Qdrant's upsert request.

use std::collections::HashSet;
use std::path::Path;

use uuid::Uuid;

use crate::admit::{KEY_COLLISION, key_text};
use crate::dimensions::Dimensions;
use crate::jsonl::non_finite;
use crate::output::LinesFile;
use crate::{ConvertError, Sink};
use oembeddings::batch::Batch;
use oembeddings::gojson;
use oembeddings::json::write_attributes;
use oembeddings::record::{RecordKey, RecordRef};

/// The UUIDv5 namespace of point ids, `4a92e283-b815-585a-b3d1-2897e6ce27da`: itself the
/// UUIDv5 of the URL `https://github.com/oembeddings/oembeddings/spec/record-key` in the
/// standard URL namespace.
pub const NAMESPACE: Uuid = uuid::uuid!("4a92e283-b815-585a-b3d1-2897e6ce27da");

fn namespace() -> Uuid {
    NAMESPACE
}

/// The point id of a record: UUIDv5 of its key string in [`NAMESPACE`].
pub fn point_id(key: &RecordKey<'_>) -> Uuid {
    Uuid::new_v5(&namespace(), key.to_string().as_bytes())
}

/// Writes the points.
pub(crate) struct QdrantSink {
    output: LinesFile,
    namespace: Uuid,
    dimensions: Dimensions,
    ids: HashSet<Uuid>,
    line: Vec<u8>,
    key: String,
    /// Ids of admitted records not yet written.
    pending: std::collections::VecDeque<Uuid>,
}

impl QdrantSink {
    pub(crate) fn create(path: &Path) -> Result<Self, ConvertError> {
        Ok(Self {
            output: LinesFile::create(path)?,
            namespace: namespace(),
            dimensions: Dimensions::new("a Qdrant collection's vector"),
            ids: HashSet::new(),
            line: Vec::new(),
            key: String::new(),
            pending: std::collections::VecDeque::new(),
        })
    }
}

impl Sink for QdrantSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        non_finite(record.embeddings)?;
        let key = key_text(&mut self.key, &record.key());
        let id = Uuid::new_v5(&self.namespace, key.as_bytes());
        if self.ids.contains(&id) {
            return Err((
                KEY_COLLISION,
                format!("another record also has the key {key:?} and so the point id {id}"),
            ));
        }
        self.dimensions.admit(record.embeddings.len())?;
        self.ids.insert(id);
        // An admitted record is written next, in order: `write` takes its id from here.
        self.pending.push_back(id);
        Ok(())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        let path = self.output.target().to_path_buf();
        for record in batch.records() {
            let Some(id) = self.pending.pop_front() else {
                return Err(ConvertError::target(
                    &path,
                    "a record was written unadmitted",
                ));
            };
            let key = key_text(&mut self.key, &record.key());
            let out = &mut self.line;
            out.clear();
            out.extend_from_slice(b"{\"id\":\"");
            out.extend_from_slice(
                id.hyphenated()
                    .encode_lower(&mut Uuid::encode_buffer())
                    .as_bytes(),
            );
            out.extend_from_slice(b"\",\"vector\":");
            gojson::write_f32_slice(out, record.embeddings)
                .map_err(|e| ConvertError::target(&path, format!("{key}: {e}")))?;
            out.extend_from_slice(b",\"payload\":{\"key\":");
            gojson::write_string(out, key.as_bytes());
            for (name, value) in [
                ("provider", record.provider),
                ("depiction_id", record.depiction_id),
                ("subject_id", record.subject_id),
                ("model", record.model),
            ] {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                gojson::write_string(out, value.as_bytes());
            }
            out.extend_from_slice(b",\"created\":");
            gojson::write_i64(out, record.created);
            out.extend_from_slice(b",\"attributes\":");
            write_attributes(out, &record.attributes);
            out.extend_from_slice(b"}}\n");
            self.output.write_all(out)?;
        }
        Ok(())
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
    fn point_ids_are_uuid5_of_the_key() {
        let key = RecordKey::new("sfomuseum", "1729", "clip");
        let id = point_id(&key);
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(
            id,
            Uuid::new_v5(&namespace(), b"sfomuseum-1729-clip"),
            "the id is computable from the key string alone"
        );
        assert_ne!(id, point_id(&RecordKey::new("sfomuseum", "1730", "clip")));
        assert_eq!(
            NAMESPACE,
            Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                b"https://github.com/oembeddings/oembeddings/spec/record-key"
            )
        );
    }
}
