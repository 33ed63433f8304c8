//! File statistics in the footer's key/value metadata: the `embeddingsdb:*` keys exactly as
//! `go-embeddingsdb` writes them, and this project's `oembeddings:*` keys.
//!
//! ```text
//! embeddingsdb:models                        m1;m2
//! embeddingsdb:providers                     p1;p2
//! embeddingsdb:model:<model>:dimensions      512
//! embeddingsdb:model:<model>:providers       p1;p2
//! embeddingsdb:provider:<provider>:models    m1;m2
//! oembeddings:records                        1234
//! oembeddings:model:<model>:records          1000
//! oembeddings:provider:<provider>:records    234
//! oembeddings:created:min                    1760000000
//! oembeddings:created:max                    1760003600
//! ```
//!
//! Lists are joined with `;` in first-seen order; neither `;` nor `:` is escaped (as in the
//! Go tool). `spec/statistics.md` documents every key.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use schemars::JsonSchema;
use serde::Serialize;

use crate::batch::{Batch, COLUMNS, col};
use crate::layout::VectorLayout;
use crate::read::{Normalizer, ParquetSource, ReadError, RecordProblem};
use crate::record::RecordKey;

/// Prefix of the Go tool's keys.
pub const EMBEDDINGSDB_PREFIX: &str = "embeddingsdb:";
/// Prefix of this project's keys.
pub const OEMBEDDINGS_PREFIX: &str = "oembeddings:";

/// Statistics of one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelStatistics {
    /// The model label.
    pub name: String,
    /// Length of the model's first vector (what `embeddingsdb:model:<m>:dimensions` holds).
    pub dimensions: usize,
    /// Whether some of the model's vectors have another length (only known after a full scan).
    pub mixed_dimensions: bool,
    /// Providers with records of this model, first-seen order.
    pub providers: Vec<String>,
    /// Number of records of this model.
    pub records: u64,
}

/// Statistics of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderStatistics {
    /// The provider name.
    pub name: String,
    /// Models with records of this provider, first-seen order.
    pub models: Vec<String>,
    /// Number of records of this provider.
    pub records: u64,
}

/// Statistics of a records file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Statistics {
    /// Number of records.
    pub records: u64,
    /// Per model, first-seen order.
    pub models: Vec<ModelStatistics>,
    /// Per provider, first-seen order.
    pub providers: Vec<ProviderStatistics>,
    /// Smallest and largest `created`, when there are records.
    pub created: Option<(i64, i64)>,
}

impl Statistics {
    /// The footer key/values, Go tool's keys first, in a stable order.
    pub fn key_values(&self) -> Vec<(String, String)> {
        let join = |items: &mut dyn Iterator<Item = &String>| {
            items.map(String::as_str).collect::<Vec<_>>().join(";")
        };
        let mut kvs = vec![
            (
                "embeddingsdb:models".to_owned(),
                join(&mut self.models.iter().map(|m| &m.name)),
            ),
            (
                "embeddingsdb:providers".to_owned(),
                join(&mut self.providers.iter().map(|p| &p.name)),
            ),
        ];
        for m in &self.models {
            kvs.push((
                format!("embeddingsdb:model:{}:dimensions", m.name),
                m.dimensions.to_string(),
            ));
            kvs.push((
                format!("embeddingsdb:model:{}:providers", m.name),
                join(&mut m.providers.iter()),
            ));
        }
        for p in &self.providers {
            kvs.push((
                format!("embeddingsdb:provider:{}:models", p.name),
                join(&mut p.models.iter()),
            ));
        }
        kvs.push(("oembeddings:records".to_owned(), self.records.to_string()));
        for m in &self.models {
            kvs.push((
                format!("oembeddings:model:{}:records", m.name),
                m.records.to_string(),
            ));
        }
        for p in &self.providers {
            kvs.push((
                format!("oembeddings:provider:{}:records", p.name),
                p.records.to_string(),
            ));
        }
        if let Some((min, max)) = self.created {
            kvs.push(("oembeddings:created:min".to_owned(), min.to_string()));
            kvs.push(("oembeddings:created:max".to_owned(), max.to_string()));
        }
        kvs
    }

    /// The key/values as a map (for JSON output and comparisons).
    pub fn key_value_map(&self) -> BTreeMap<String, String> {
        self.key_values().into_iter().collect()
    }

    /// Gathers the statistics of a file without reading its vectors: the provider, model and
    /// created columns are scanned, and each model's dimensions are taken from its first
    /// vector (the page index lets the reader skip to it). Use the validator for a full
    /// check that every vector of a model has the same length.
    pub fn gather(source: ParquetSource) -> Result<Statistics, ReadError> {
        let path = source.path().to_path_buf();
        // A decoder's panic on corrupt data is an error naming the file.
        crate::contain::contain(|| Self::gather_uncontained(source)).unwrap_or_else(|panic| {
            Err(ReadError::Corrupt {
                path,
                place: crate::read::CorruptPlace::Unknown,
                source: panic,
            })
        })
    }

    fn gather_uncontained(source: ParquetSource) -> Result<Statistics, ReadError> {
        let source = source.with_page_index()?;
        let layout = source.layout().clone();
        let roots = {
            let mut r = vec![
                layout.columns[col::PROVIDER],
                layout.columns[col::DEPICTION_ID],
                layout.columns[col::MODEL],
                layout.columns[col::CREATED],
            ];
            r.sort_unstable();
            r
        };
        let position = |column: usize| {
            roots
                .iter()
                .position(|&r| r == layout.columns[column])
                .unwrap_or(0)
        };
        let (p_at, d_at, m_at, c_at) = (
            position(col::PROVIDER),
            position(col::DEPICTION_ID),
            position(col::MODEL),
            position(col::CREATED),
        );
        let mask = ProjectionMask::roots(
            source.metadata().file_metadata().schema_descr(),
            roots.clone(),
        );
        let reader = source
            .builder()?
            .with_projection(mask)
            .with_batch_size(8192)
            .build()
            .map_err(|e| source.metadata_error(e))?;
        let mut builder = StatisticsBuilder::default();
        let mut first_rows: Vec<(u64, usize)> = Vec::new();
        let mut row = 0u64;
        for raw in reader {
            let raw = raw.map_err(|e| source.data_error(row, e))?;
            let normalizer = Normalizer {
                layout: &layout,
                first_row: row,
            };
            let fail = |(i, problem): (usize, RecordProblem), key: Option<String>| {
                source.record_error(row + i as u64, key, problem)
            };
            let providers = normalizer
                .strings(raw.column(p_at), col::PROVIDER)
                .map_err(|e| fail(e, None))?;
            let models = normalizer
                .strings(raw.column(m_at), col::MODEL)
                .map_err(|e| fail(e, None))?;
            let depictions = normalizer
                .strings(raw.column(d_at), col::DEPICTION_ID)
                .map_err(|e| fail(e, None))?;
            let created = normalizer.created(raw.column(c_at)).map_err(|e| {
                let key = RecordKey::new(
                    providers.value(e.0),
                    depictions.value(e.0),
                    models.value(e.0),
                );
                fail(e, Some(key.to_string()))
            })?;
            for i in 0..raw.num_rows() {
                let model = models.value(i);
                if builder.observe(providers.value(i), model, created.value(i)) {
                    first_rows.push((row + i as u64, builder.model_index(model)));
                }
            }
            row += raw.num_rows() as u64;
        }
        match layout.vectors {
            VectorLayout::FixedSizeList { dimensions } => {
                for model in &mut builder.models {
                    model.dimensions = Some(dimensions);
                }
            }
            _ => first_vector_lengths(&source, &first_rows, &mut builder)?,
        }
        Ok(builder.finish())
    }
}

/// Reads only the first vector of each model and records its length.
fn first_vector_lengths(
    source: &ParquetSource,
    first_rows: &[(u64, usize)],
    builder: &mut StatisticsBuilder,
) -> Result<(), ReadError> {
    if first_rows.is_empty() {
        return Ok(());
    }
    let mut selectors = Vec::with_capacity(first_rows.len() * 2 + 1);
    let mut at = 0u64;
    for &(row, _) in first_rows {
        selectors.push(RowSelector::skip(
            usize::try_from(row - at).unwrap_or(usize::MAX),
        ));
        selectors.push(RowSelector::select(1));
        at = row + 1;
    }
    let rest = source.num_rows().saturating_sub(at);
    selectors.push(RowSelector::skip(
        usize::try_from(rest).unwrap_or(usize::MAX),
    ));
    let root = source.layout().columns[col::EMBEDDINGS];
    let mask = ProjectionMask::roots(source.metadata().file_metadata().schema_descr(), [root]);
    let reader = source
        .builder()?
        .with_projection(mask)
        .with_row_selection(RowSelection::from(selectors))
        .with_batch_size(first_rows.len().max(1))
        .build()
        .map_err(|e| source.metadata_error(e))?;
    let mut next = first_rows.iter();
    for raw in reader {
        let raw = raw.map_err(|e| source.data_error(0, e))?;
        let column = raw.column(0);
        for i in 0..raw.num_rows() {
            let Some(&(row, model)) = next.next() else {
                break;
            };
            let length = list_length(column, i).ok_or_else(|| {
                source.record_error(
                    row,
                    None,
                    RecordProblem::Null {
                        column: COLUMNS[col::EMBEDDINGS],
                    },
                )
            })?;
            builder.models[model].dimensions = Some(length);
        }
    }
    Ok(())
}

/// Length of the list at `i`, or `None` when it is null.
fn list_length(column: &ArrayRef, i: usize) -> Option<usize> {
    if column.is_null(i) {
        return None;
    }
    match column.data_type() {
        DataType::List(_) => {
            let o = column.as_list::<i32>().value_offsets();
            usize::try_from(o[i + 1] - o[i]).ok()
        }
        DataType::LargeList(_) => {
            let o = column.as_list::<i64>().value_offsets();
            usize::try_from(o[i + 1] - o[i]).ok()
        }
        DataType::FixedSizeList(_, n) => usize::try_from(*n).ok(),
        _ => None,
    }
}

/// Accumulates [`Statistics`] record by record, in first-seen order.
#[derive(Debug, Default, Clone)]
pub struct StatisticsBuilder {
    records: u64,
    models: Vec<ModelEntry>,
    providers: Vec<ProviderEntry>,
    created: Option<(i64, i64)>,
    /// The last (provider, model) pair seen: records usually come in runs.
    last: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct ModelEntry {
    name: String,
    dimensions: Option<usize>,
    mixed_dimensions: bool,
    providers: Vec<usize>,
    records: u64,
}

#[derive(Debug, Clone)]
struct ProviderEntry {
    name: String,
    models: Vec<usize>,
    records: u64,
}

impl StatisticsBuilder {
    /// Counts one record; returns whether its model was seen for the first time.
    pub fn observe(&mut self, provider: &str, model: &str, created: i64) -> bool {
        self.records += 1;
        self.created = Some(match self.created {
            None => (created, created),
            Some((lo, hi)) => (lo.min(created), hi.max(created)),
        });
        let (p, m, new_model) = match self.last {
            Some((p, m)) if self.providers[p].name == provider && self.models[m].name == model => {
                (p, m, false)
            }
            _ => {
                let p = match self.providers.iter().position(|e| e.name == provider) {
                    Some(p) => p,
                    None => {
                        self.providers.push(ProviderEntry {
                            name: provider.to_owned(),
                            models: Vec::new(),
                            records: 0,
                        });
                        self.providers.len() - 1
                    }
                };
                let (m, new_model) = match self.models.iter().position(|e| e.name == model) {
                    Some(m) => (m, false),
                    None => {
                        self.models.push(ModelEntry {
                            name: model.to_owned(),
                            dimensions: None,
                            mixed_dimensions: false,
                            providers: Vec::new(),
                            records: 0,
                        });
                        (self.models.len() - 1, true)
                    }
                };
                if !self.providers[p].models.contains(&m) {
                    self.providers[p].models.push(m);
                }
                if !self.models[m].providers.contains(&p) {
                    self.models[m].providers.push(p);
                }
                self.last = Some((p, m));
                (p, m, new_model)
            }
        };
        self.providers[p].records += 1;
        self.models[m].records += 1;
        new_model
    }

    /// Records the length of a vector of `model` (after [`StatisticsBuilder::observe`]).
    pub fn observe_dimensions(&mut self, model: &str, dimensions: usize) {
        let m = match self.last {
            Some((_, m)) if self.models[m].name == model => m,
            _ => self.model_index(model),
        };
        if let Some(entry) = self.models.get_mut(m) {
            match entry.dimensions {
                None => entry.dimensions = Some(dimensions),
                Some(d) if d != dimensions => entry.mixed_dimensions = true,
                Some(_) => {}
            }
        }
    }

    /// Counts every record of a batch, with its vector length.
    pub fn observe_batch(&mut self, batch: &Batch) {
        let offsets = batch.vectors().value_offsets();
        for row in 0..batch.num_rows() {
            let model = batch.models().value(row);
            self.observe(batch.providers().value(row), model, batch.created()[row]);
            let length = (offsets[row + 1] - offsets[row]) as usize;
            self.observe_dimensions(model, length);
        }
    }

    fn model_index(&self, model: &str) -> usize {
        self.models
            .iter()
            .position(|e| e.name == model)
            .unwrap_or(usize::MAX)
    }

    /// The statistics of everything observed.
    pub fn finish(&self) -> Statistics {
        Statistics {
            records: self.records,
            models: self
                .models
                .iter()
                .map(|m| ModelStatistics {
                    name: m.name.clone(),
                    dimensions: m.dimensions.unwrap_or(0),
                    mixed_dimensions: m.mixed_dimensions,
                    providers: m
                        .providers
                        .iter()
                        .map(|&p| self.providers[p].name.clone())
                        .collect(),
                    records: m.records,
                })
                .collect(),
            providers: self
                .providers
                .iter()
                .map(|p| ProviderStatistics {
                    name: p.name.clone(),
                    models: p
                        .models
                        .iter()
                        .map(|&m| self.models[m].name.clone())
                        .collect(),
                    records: p.records,
                })
                .collect(),
            created: self.created,
        }
    }
}

/// Whether a footer key is one of the statistics keys written here (and so replaced when
/// statistics are appended). `embeddingsdb:signatures:*` and other keys are not.
pub fn is_statistics_key(key: &str) -> bool {
    key == "embeddingsdb:models"
        || key == "embeddingsdb:providers"
        || (key.starts_with("embeddingsdb:model:")
            && (key.ends_with(":dimensions") || key.ends_with(":providers")))
        || (key.starts_with("embeddingsdb:provider:") && key.ends_with(":models"))
        || key == "oembeddings:records"
        || (key.starts_with("oembeddings:model:") && key.ends_with(":records"))
        || (key.starts_with("oembeddings:provider:") && key.ends_with(":records"))
        || key == "oembeddings:created:min"
        || key == "oembeddings:created:max"
}

/// JSON Schema of the flat key -> value object that `oembeddings stats --json` prints.
#[derive(Debug, JsonSchema)]
#[schemars(
    title = "Statistics",
    description = "Footer statistics of a records file: a flat object of key/value metadata.",
    transform = statistics_key_patterns
)]
pub struct StatisticsDocument {
    /// Models, `;`-joined in first-seen order.
    #[serde(rename = "embeddingsdb:models")]
    pub models: String,
    /// Providers, `;`-joined in first-seen order.
    #[serde(rename = "embeddingsdb:providers")]
    pub providers: String,
    /// Number of records, decimal.
    #[serde(rename = "oembeddings:records")]
    #[schemars(regex(pattern = r"^(0|[1-9][0-9]*)$"))]
    pub records: String,
}

fn statistics_key_patterns(schema: &mut schemars::Schema) {
    let count = serde_json::json!({ "type": "string", "pattern": "^(0|[1-9][0-9]*)$" });
    let list = serde_json::json!({ "type": "string" });
    let seconds = serde_json::json!({ "type": "string", "pattern": "^-?(0|[1-9][0-9]*)$" });
    schema.insert(
        "patternProperties".into(),
        serde_json::json!({
            "^embeddingsdb:model:.+:dimensions$": count,
            "^embeddingsdb:model:.+:providers$": list,
            "^embeddingsdb:provider:.+:models$": list,
            "^oembeddings:model:.+:records$": count,
            "^oembeddings:provider:.+:records$": count,
            "^oembeddings:created:(min|max)$": seconds,
        }),
    );
    schema.insert(
        "additionalProperties".into(),
        serde_json::json!({ "type": "string" }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_follow_the_go_tool_in_first_seen_order() {
        let mut b = StatisticsBuilder::default();
        for (p, m, d, c) in [
            ("sfomuseum", "siglip2", 1152, 20),
            ("sfomuseum", "mobileclip", 512, 10),
            ("nga", "mobileclip", 512, 30),
            ("sfomuseum", "siglip2", 1152, 25),
        ] {
            b.observe(p, m, c);
            b.observe_dimensions(m, d);
        }
        let kv = b.finish().key_value_map();
        let expect = [
            ("embeddingsdb:models", "siglip2;mobileclip"),
            ("embeddingsdb:providers", "sfomuseum;nga"),
            ("embeddingsdb:model:siglip2:dimensions", "1152"),
            ("embeddingsdb:model:siglip2:providers", "sfomuseum"),
            ("embeddingsdb:model:mobileclip:dimensions", "512"),
            ("embeddingsdb:model:mobileclip:providers", "sfomuseum;nga"),
            (
                "embeddingsdb:provider:sfomuseum:models",
                "siglip2;mobileclip",
            ),
            ("embeddingsdb:provider:nga:models", "mobileclip"),
            ("oembeddings:records", "4"),
            ("oembeddings:model:siglip2:records", "2"),
            ("oembeddings:model:mobileclip:records", "2"),
            ("oembeddings:provider:sfomuseum:records", "3"),
            ("oembeddings:provider:nga:records", "1"),
            ("oembeddings:created:min", "10"),
            ("oembeddings:created:max", "30"),
        ];
        assert_eq!(kv.len(), expect.len());
        for (k, v) in expect {
            assert_eq!(kv.get(k).map(String::as_str), Some(v), "{k}");
            assert!(is_statistics_key(k), "{k}");
        }
        assert!(!is_statistics_key("embeddingsdb:signatures:public_key"));
        assert!(!is_statistics_key("ARROW:schema"));
    }

    #[test]
    fn mixed_dimensions_are_noticed() {
        let mut b = StatisticsBuilder::default();
        b.observe("p", "m", 1);
        b.observe_dimensions("m", 3);
        b.observe("p", "m", 1);
        b.observe_dimensions("m", 4);
        let s = b.finish();
        assert_eq!(s.models[0].dimensions, 3);
        assert!(s.models[0].mixed_dimensions);
    }
}
