//! SkyPilot's "VectorDB" parts, as input.
//!
//! SkyPilot's example computes CLIP embeddings on many machines; each writes Parquet parts
//! named `embeddings_{start}_{end}.parquet_part_{n}.parquet` with two columns, `idx` (int64,
//! the image's index in the dataset) and `output` (binary), each `output` a Python pickle of
//! `(image_path, numpy_vector)`. This reader decodes those pickles with [`pickle::decode`],
//! which runs nothing and accepts only that shape.
//!
//! Each row becomes a record: provider and model from [`SkypilotOptions`] (the parts name
//! neither), `depiction_id` and `subject_id` from `idx`, `created` from the options or the
//! part's modification time, and the attributes `type` = `image`, `x-image-path` = the path,
//! `provider_name` and `provider_url` when given, and any attribute filled from a template
//! (`{idx}` and `{path}`).
//!
//! A part is opened only if it is a regular file, and every decode of its bytes (footer,
//! pages, pickles) runs inside [`contain`], so that a decoder's panic on a corrupt part is an
//! error naming the part, as for the other inputs.

pub mod pickle;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;

use crate::template::{Template, set};
use crate::{ConvertError, Source};
use oembeddings::batch::{Batch, BatchBuilder};
use oembeddings::contain::contain;
use oembeddings::read::Narrowing;
use oembeddings::record::{Attributes, RecordRef};

/// SkyPilot's columns.
pub const COLUMNS: [&str; 2] = ["idx", "output"];

/// The attribute that keeps each row's image path.
pub const IMAGE_PATH: &str = "x-image-path";

/// Rows read from a part at a time.
const BATCH_ROWS: usize = 2048;

/// How records are made from SkyPilot's rows.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SkypilotOptions {
    /// The records' provider (required: the parts do not say).
    pub provider: Option<String>,
    /// The records' model (required: the parts do not say).
    pub model: Option<String>,
    /// `provider_name` attribute.
    pub provider_name: Option<String>,
    /// `provider_url` attribute.
    pub provider_url: Option<String>,
    /// Attributes filled from templates: `(attribute, template)`; `{idx}` and `{path}` are
    /// replaced, e.g. `("preview", "https://images.example.org/{path}")`.
    pub templates: Vec<(String, String)>,
    /// Unix time of the records; each part's modification time when `None`.
    pub created: Option<i64>,
}

/// Whether a Parquet file has exactly SkyPilot's `idx` and `output` (binary) columns.
pub(crate) fn is_skypilot_file(path: &Path) -> Result<bool, ConvertError> {
    // A footer a decoder cannot read (malformed, an error, a contained panic) is not SkyPilot's.
    Ok(crate::direct::footer(path)?.is_some_and(|builder| {
        let schema = builder.schema();
        schema.fields().len() == COLUMNS.len()
            && schema
                .field_with_name("idx")
                .is_ok_and(|f| f.data_type().is_integer())
            && schema.field_with_name("output").is_ok_and(|f| {
                matches!(
                    f.data_type(),
                    DataType::Binary | DataType::LargeBinary | DataType::BinaryView
                )
            })
    }))
}

/// Reads one SkyPilot part as canonical batches.
pub(crate) struct SkypilotReader {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    total: u64,
    provider: String,
    model: String,
    templates: Vec<(String, Template)>,
    created: i64,
    /// The attribute map, reused from record to record.
    attributes: BTreeMap<String, String>,
    narrowing: Narrowing,
    row: u64,
    done: bool,
}

impl SkypilotReader {
    /// Opens a part; a decoder's panic on a corrupt footer is an error.
    pub(crate) fn open(path: &Path, options: &SkypilotOptions) -> Result<Self, ConvertError> {
        contain(|| Self::open_uncontained(path, options)).unwrap_or_else(|panic| {
            Err(ConvertError::Input {
                path: path.to_path_buf(),
                location: "footer".into(),
                message: panic.to_string(),
            })
        })
    }

    fn open_uncontained(path: &Path, options: &SkypilotOptions) -> Result<Self, ConvertError> {
        let (Some(provider), Some(model)) = (&options.provider, &options.model) else {
            return Err(ConvertError::Options(
                "SkyPilot's parts name neither provider nor model: give both (--provider, \
                 --model)"
                    .to_owned(),
            ));
        };
        let templates: Vec<(String, Template)> = options
            .templates
            .iter()
            .map(|(attribute, text)| (attribute.clone(), Template::parse(text)))
            .collect();
        if let Some((attribute, name)) = templates.iter().find_map(|(attribute, t)| {
            t.fields()
                .find(|f| !["idx", "path"].contains(f))
                .map(|f| (attribute, f))
        }) {
            return Err(ConvertError::Options(format!(
                "the template of {attribute} uses {{{name}}}; SkyPilot's parts offer {{idx}} \
                 and {{path}}"
            )));
        }
        let (builder, modified) = crate::direct::open(path)?;
        let created = options.created.unwrap_or(modified);
        let input = |location: &str, message: String| ConvertError::Input {
            path: path.to_path_buf(),
            location: location.to_owned(),
            message,
        };
        let schema = builder.schema().clone();
        let mut indices = Vec::new();
        for name in COLUMNS {
            let (i, _) = schema.column_with_name(name).ok_or_else(|| {
                input(
                    &format!("column {name}"),
                    "missing; SkyPilot's parts have columns idx and output".to_owned(),
                )
            })?;
            indices.push(i);
        }
        let total = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| input("footer", e.to_string()))?;
        let mut attributes = BTreeMap::new();
        attributes.insert("type".to_owned(), "image".to_owned());
        if let Some(name) = &options.provider_name {
            attributes.insert("provider_name".to_owned(), name.clone());
        }
        if let Some(url) = &options.provider_url {
            attributes.insert("provider_url".to_owned(), url.clone());
        }
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            total,
            provider: provider.clone(),
            model: model.clone(),
            templates,
            created,
            attributes,
            narrowing: Narrowing::default(),
            row: 0,
            done: false,
        })
    }

    fn error(&self, row: u64, message: String) -> ConvertError {
        ConvertError::Input {
            path: self.path.clone(),
            location: format!("row {row}"),
            message,
        }
    }

    fn convert(&mut self, batch: &RecordBatch) -> Result<Batch, ConvertError> {
        let first_row = self.row;
        let column = |name: &str, to: &DataType| {
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| self.error(first_row, format!("column {name} is missing")))?;
            arrow_cast::cast(array, to).map_err(|e| {
                self.error(
                    first_row,
                    format!("column {name} ({}) cannot be read: {e}", array.data_type()),
                )
            })
        };
        let ids = column("idx", &DataType::Int64)?;
        let ids = ids.as_primitive::<Int64Type>();
        let outputs = column("output", &DataType::LargeBinary)?;
        let outputs = outputs.as_binary::<i64>();
        let mut builder = BatchBuilder::default();
        let mut attributes = std::mem::take(&mut self.attributes);
        let mut id = String::new();
        for i in 0..batch.num_rows() {
            let row = first_row + i as u64;
            if ids.is_null(i) || outputs.is_null(i) {
                let column = if ids.is_null(i) { "idx" } else { "output" };
                return Err(self.error(row, format!("{column} is null")));
            }
            id.clear();
            id.push_str(&ids.value(i).to_string());
            let pair = pickle::decode(outputs.value(i)).map_err(|source| ConvertError::Pickle {
                path: self.path.clone(),
                row,
                idx: ids.value(i),
                source,
            })?;
            if pair.narrowed > 0 {
                self.narrowing.values += pair.narrowed;
                self.narrowing.first_row.get_or_insert(row);
            }
            for (attribute, template) in &self.templates {
                if !attributes.contains_key(attribute) {
                    attributes.insert(attribute.clone(), String::new());
                }
                if let Some(slot) = attributes.get_mut(attribute) {
                    template
                        .fill(slot, |name| {
                            Ok(if name == "idx" { &id } else { &pair.path })
                        })
                        .map_err(|message| self.error(row, message))?;
                }
            }
            set(&mut attributes, IMAGE_PATH, &pair.path);
            builder.push(&RecordRef {
                provider: &self.provider,
                depiction_id: &id,
                subject_id: &id,
                model: &self.model,
                embeddings: &pair.vector,
                created: self.created,
                attributes: Attributes::Map(&attributes),
            });
        }
        self.row += batch.num_rows() as u64;
        self.attributes = attributes;
        builder
            .finish(first_row)
            .map_err(|e| self.error(first_row, e.to_string()))
    }
}

impl Iterator for SkypilotReader {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = crate::direct::next_contained(&mut self.reader)?;
        let result = match next {
            // The pickles are decoded by our own reader, which the fuzzer checks; containing
            // it too keeps a bug there an error naming the part rather than a crash.
            Ok(batch) => contain(|| self.convert(&batch))
                .unwrap_or_else(|panic| Err(self.error(self.row, panic.to_string()))),
            Err(e) => Err(self.error(self.row, format!("unreadable: {e}"))),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl Source for SkypilotReader {
    fn total(&self) -> Option<u64> {
        Some(self.total)
    }

    fn narrowing(&self) -> Narrowing {
        self.narrowing
    }
}
