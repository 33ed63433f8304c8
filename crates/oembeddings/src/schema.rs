//! JSON Schemas of the project's documents, generated from the Rust types.
//!
//! The same schemas are committed under `spec/schemas/`; a test fails when they drift.

use serde_json::Value;

use crate::attributes::OEmbeddings;
use crate::record::Record;
use crate::stats::StatisticsDocument;

/// The documents that have a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Document {
    /// A record as JSON (one line of `oembeddings emit`).
    Record,
    /// The OEmbeddings attributes of a record.
    Attributes,
    /// The flat key/value object of `oembeddings stats --json`.
    Statistics,
}

crate::named_enum!(Document, "document",
    Record => "record", "One line of oembeddings emit";
    Attributes => "attributes", "The OEmbeddings attribute set";
    Statistics => "statistics", "The object printed by oembeddings stats --json";
);

impl Document {
    /// The JSON Schema (draft 2020-12).
    pub fn schema(self) -> Value {
        let mut schema = match self {
            Document::Record => schemars::schema_for!(Record),
            Document::Attributes => schemars::schema_for!(OEmbeddings),
            Document::Statistics => schemars::schema_for!(StatisticsDocument),
        };
        schema.insert(
            "$id".into(),
            Value::String(format!(
                "https://oembeddings.org/schemas/{}.json",
                self.name()
            )),
        );
        schema.to_value()
    }

    /// The schema as committed: pretty JSON with a trailing newline.
    pub fn schema_text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regenerate with `scripts/update-schemas` (or `oembeddings schema NAME`).
    #[test]
    fn committed_schemas_match_the_code() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/schemas");
        for &doc in Document::ALL {
            let path = dir.join(format!("{}.json", doc.name()));
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; run scripts/update-schemas", path.display()));
            assert_eq!(
                committed,
                doc.schema_text(),
                "{} drifted from the code; run scripts/update-schemas and review the diff",
                path.display()
            );
        }
    }

    #[test]
    fn attributes_schema_requires_a_uri_preview_for_images() {
        let schema = Document::Attributes.schema();
        assert_eq!(schema["then"]["properties"]["preview"]["format"], "uri");
        assert_eq!(schema["properties"]["subject_url"]["format"], "uri");
        let required = schema["required"].as_array().unwrap();
        assert_eq!(required.len(), 7, "{required:?}");
    }
}
