//! The Metropolitan Museum of Art's embeddings layout on Hugging Face, as input.
//!
//! Columns `objectID` (integer), `embedding` (list of float32 or float64), `model` (string)
//! and `dim` (integer, checked against the vector's length). Each row becomes a record:
//! provider from [`MetOptions::provider`], `subject_id` and `depiction_id` from `objectID`,
//! `created` from [`MetOptions::created`] (the input file's modification time when not
//! given), and OEmbeddings attributes: `type` = `image`, `provider_name` and `provider_url`
//! when given, and any attribute filled from a URL template (`{objectID}` and any column of
//! the joined metadata in braces) or copied from a column of a metadata CSV or Parquet file
//! joined on a key column.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field};
use oembeddings::contain::contain;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;

use crate::template::{Template, set};
use crate::{ConvertError, Source};
use oembeddings::batch::{Batch, BatchBuilder};
use oembeddings::blob::Blob;
use oembeddings::record::{Attributes, RecordRef};

/// The Met's columns.
pub const COLUMNS: [&str; 4] = ["objectID", "embedding", "model", "dim"];

/// How records are made from the Met's rows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetOptions {
    /// The records' provider (default `metmuseum`).
    pub provider: String,
    /// `provider_name` attribute, e.g. `The Metropolitan Museum of Art`.
    pub provider_name: Option<String>,
    /// `provider_url` attribute, e.g. `https://www.metmuseum.org/`.
    pub provider_url: Option<String>,
    /// Attributes filled from templates: `(attribute, template)`, e.g.
    /// `("subject_url", "https://www.metmuseum.org/art/collection/search/{objectID}")`.
    pub templates: Vec<(String, String)>,
    /// Unix time of the records; the input's modification time when `None`.
    pub created: Option<i64>,
    /// A CSV or Parquet file of metadata joined on [`MetOptions::metadata_key`].
    pub metadata: Option<PathBuf>,
    /// The metadata column holding the object id (default `objectID`).
    pub metadata_key: String,
    /// Attributes copied from metadata columns: `(attribute, column)`, e.g.
    /// `("subject_title", "Title")`.
    pub columns: Vec<(String, String)>,
}

impl Default for MetOptions {
    fn default() -> Self {
        Self {
            provider: "metmuseum".to_owned(),
            provider_name: None,
            provider_url: None,
            templates: Vec::new(),
            created: None,
            metadata: None,
            metadata_key: "objectID".to_owned(),
            columns: Vec::new(),
        }
    }
}

/// Whether a Parquet file has the Met's `objectID` and `embedding` columns.
pub(crate) fn is_met_file(path: &Path) -> Result<bool, ConvertError> {
    // A footer a decoder cannot read (malformed, an error, a contained panic) is not the Met's.
    Ok(crate::direct::footer(path)?.is_some_and(|builder| {
        let schema = builder.schema();
        schema.field_with_name("objectID").is_ok() && schema.field_with_name("embedding").is_ok()
    }))
}

/// The joined metadata: the wanted columns of each object id.
struct Metadata {
    columns: Vec<String>,
    rows: HashMap<String, Vec<String>>,
}

impl Metadata {
    /// [`Metadata::load_uncontained`], with a decoder's panic on corrupt data an error.
    fn load(path: &Path, key: &str, columns: Vec<String>) -> Result<Self, ConvertError> {
        contain(|| Self::load_uncontained(path, key, columns)).unwrap_or_else(|panic| {
            Err(ConvertError::Input {
                path: path.to_path_buf(),
                location: "data".into(),
                message: panic.to_string(),
            })
        })
    }

    fn load_uncontained(
        path: &Path,
        key: &str,
        columns: Vec<String>,
    ) -> Result<Self, ConvertError> {
        let is_parquet = {
            use std::io::Read;
            let mut magic = [0u8; 4];
            let mut f = Blob::open(path)
                .map_err(|e| ConvertError::io(path, e))?
                .cursor();
            f.read(&mut magic).map_err(|e| ConvertError::io(path, e))? == 4 && &magic == b"PAR1"
        };
        let mut rows = HashMap::new();
        let input = |location: String, message: String| ConvertError::Input {
            path: path.to_path_buf(),
            location,
            message,
        };
        if is_parquet {
            let (builder, _) = crate::direct::open(path)?;
            let reader = builder
                .build()
                .map_err(|e| input("footer".into(), e.to_string()))?;
            for batch in reader {
                let batch = batch.map_err(|e| input("data".into(), e.to_string()))?;
                let column = |name: &str| -> Result<ArrayRef, ConvertError> {
                    let array = batch.column_by_name(name).ok_or_else(|| {
                        input(
                            format!("column {name}"),
                            "no such column in the metadata file".into(),
                        )
                    })?;
                    arrow_cast::cast(array, &DataType::Utf8)
                        .map_err(|e| input(format!("column {name}"), e.to_string()))
                };
                let keys = column(key)?;
                let keys = keys.as_string::<i32>();
                let values: Vec<ArrayRef> = columns
                    .iter()
                    .map(|c| column(c))
                    .collect::<Result<_, _>>()?;
                for row in 0..batch.num_rows() {
                    if keys.is_null(row) {
                        continue;
                    }
                    let wanted = values
                        .iter()
                        .map(|v| {
                            let v = v.as_string::<i32>();
                            if v.is_null(row) {
                                String::new()
                            } else {
                                v.value(row).to_owned()
                            }
                        })
                        .collect();
                    rows.insert(keys.value(row).trim().to_owned(), wanted);
                }
            }
        } else {
            let file = Blob::open(path).map_err(|e| ConvertError::io(path, e))?;
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(file.cursor());
            let headers = reader
                .headers()
                .map_err(|e| input("header".into(), e.to_string()))?
                .clone();
            // The Met's MetObjects.csv starts with a byte order mark.
            let position = |name: &str| {
                headers
                    .iter()
                    .position(|h| h.trim_start_matches('\u{feff}') == name)
                    .ok_or_else(|| {
                        input(
                            format!("column {name}"),
                            "no such column in the metadata file".into(),
                        )
                    })
            };
            let key_at = position(key)?;
            let at: Vec<usize> = columns
                .iter()
                .map(|c| position(c))
                .collect::<Result<_, _>>()?;
            for (line, record) in reader.records().enumerate() {
                let record =
                    record.map_err(|e| input(format!("record {}", line + 1), e.to_string()))?;
                let id = record.get(key_at).unwrap_or_default().trim().to_owned();
                let wanted = at
                    .iter()
                    .map(|&i| record.get(i).unwrap_or_default().to_owned())
                    .collect();
                rows.insert(id, wanted);
            }
        }
        Ok(Self { columns, rows })
    }

    fn get(&self, id: &str, column: &str) -> Option<&str> {
        let at = self.columns.iter().position(|c| c == column)?;
        self.rows.get(id).map(|row| row[at].as_str())
    }
}

/// Reads the Met's layout as canonical batches.
pub(crate) struct MetReader {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    total: u64,
    options: MetOptions,
    templates: Vec<(String, Template)>,
    created: i64,
    metadata: Option<Metadata>,
    /// The attribute map, reused from record to record.
    attributes: BTreeMap<String, String>,
    row: u64,
    done: bool,
}

impl MetReader {
    /// Opens the Met's file; a decoder's panic on a corrupt footer is an error.
    pub(crate) fn open(path: &Path, options: &MetOptions) -> Result<Self, ConvertError> {
        contain(|| Self::open_uncontained(path, options)).unwrap_or_else(|panic| {
            Err(ConvertError::Input {
                path: path.to_path_buf(),
                location: "footer".into(),
                message: panic.to_string(),
            })
        })
    }

    fn open_uncontained(path: &Path, options: &MetOptions) -> Result<Self, ConvertError> {
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
                    format!(
                        "missing; the Met's layout has columns {}",
                        COLUMNS.join(", ")
                    ),
                )
            })?;
            indices.push(i);
        }
        let total = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(2048)
            .build()
            .map_err(|e| input("footer", e.to_string()))?;
        let mut wanted: Vec<String> = options.columns.iter().map(|(_, c)| c.clone()).collect();
        let templates: Vec<(String, Template)> = options
            .templates
            .iter()
            .map(|(attribute, text)| (attribute.clone(), Template::parse(text)))
            .collect();
        for (attribute, template) in &templates {
            for name in template.fields() {
                if name != "objectID" {
                    if options.metadata.is_none() {
                        return Err(ConvertError::Options(format!(
                            "the template of {attribute} uses {{{name}}}, which needs a metadata \
                             file (--met-metadata) with that column"
                        )));
                    }
                    wanted.push(name.to_owned());
                }
            }
        }
        wanted.sort();
        wanted.dedup();
        let metadata = match &options.metadata {
            Some(file) => Some(Metadata::load(file, &options.metadata_key, wanted)?),
            None if !options.columns.is_empty() => {
                return Err(ConvertError::Options(
                    "attributes from metadata columns need a metadata file (--met-metadata)"
                        .to_owned(),
                ));
            }
            None => None,
        };
        // Attributes every record has; the per-record ones are set in `convert`.
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
            attributes,
            options: options.clone(),
            templates,
            created,
            metadata,
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

    /// `template` filled for object `id`, into `out` (cleared first).
    fn fill(&self, template: &Template, id: &str, out: &mut String) -> Result<(), String> {
        template.fill(out, |name| {
            if name == "objectID" {
                return Ok(id);
            }
            self.metadata
                .as_ref()
                .and_then(|m| m.get(id, name))
                .ok_or_else(|| format!("object {id} has no metadata row for {{{name}}}"))
        })
    }

    fn convert(&mut self, batch: &RecordBatch) -> Result<Batch, ConvertError> {
        let first_row = self.row;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| self.error(first_row, format!("column {name} is missing")))
        };
        let cast = |name: &str, array: ArrayRef, to: &DataType| {
            arrow_cast::cast(&array, to).map_err(|e| {
                self.error(
                    first_row,
                    format!("column {name} ({}) cannot be read: {e}", array.data_type()),
                )
            })
        };
        let ids = cast("objectID", column("objectID")?, &DataType::Utf8)?;
        let ids = ids.as_string::<i32>();
        let models = cast("model", column("model")?, &DataType::Utf8)?;
        let models = models.as_string::<i32>();
        let dims = cast("dim", column("dim")?, &DataType::Int64)?;
        let dims = dims.as_primitive::<arrow_array::types::Int64Type>();
        let element = std::sync::Arc::new(Field::new("item", DataType::Float32, true));
        let embeddings = column("embedding")?;
        let vectors = match embeddings.data_type() {
            DataType::FixedSizeList(_, _) | DataType::LargeList(_) | DataType::List(_) => {
                cast("embedding", embeddings.clone(), &DataType::List(element))?
            }
            other => {
                return Err(self.error(
                    first_row,
                    format!("column embedding is {other}, not a list of floats"),
                ));
            }
        };
        let vectors = vectors.as_list::<i32>();
        let mut builder = BatchBuilder::default();
        let mut attributes = std::mem::take(&mut self.attributes);
        for i in 0..batch.num_rows() {
            let row = first_row + i as u64;
            let null = |name: &str| self.error(row, format!("{name} is null"));
            if ids.is_null(i) {
                return Err(null("objectID"));
            }
            if models.is_null(i) {
                return Err(null("model"));
            }
            if vectors.is_null(i) {
                return Err(null("embedding"));
            }
            let id = ids.value(i);
            let values = vectors.value(i);
            let values = values.as_primitive::<Float32Type>();
            if values.null_count() > 0 {
                return Err(self.error(row, "embedding has null elements".to_owned()));
            }
            let embeddings = values.values();
            if !dims.is_null(i) && dims.value(i) != embeddings.len() as i64 {
                return Err(self.error(
                    row,
                    format!(
                        "objectID {id}: dim is {} but the embedding has {} elements",
                        dims.value(i),
                        embeddings.len()
                    ),
                ));
            }
            // The map keeps its keys and value buffers from record to record: only values
            // are rewritten, so no record allocates once the buffers have grown.
            for (attribute, template) in &self.templates {
                if !attributes.contains_key(attribute) {
                    attributes.insert(attribute.clone(), String::new());
                }
                let Some(slot) = attributes.get_mut(attribute) else {
                    continue;
                };
                self.fill(template, id, slot)
                    .map_err(|message| self.error(row, message))?;
            }
            if let Some(metadata) = &self.metadata {
                for (attribute, column) in &self.options.columns {
                    match metadata.get(id, column).filter(|v| !v.is_empty()) {
                        Some(value) => set(&mut attributes, attribute, value),
                        None => {
                            attributes.remove(attribute);
                        }
                    }
                }
            }
            builder.push(&RecordRef {
                provider: &self.options.provider,
                depiction_id: id,
                subject_id: id,
                model: models.value(i),
                embeddings,
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

impl Iterator for MetReader {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = crate::direct::next_contained(&mut self.reader)?;
        let result = match next {
            Ok(batch) => self.convert(&batch),
            Err(e) => Err(self.error(self.row, format!("unreadable: {e}"))),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl Source for MetReader {
    fn total(&self) -> Option<u64> {
        Some(self.total)
    }
}
