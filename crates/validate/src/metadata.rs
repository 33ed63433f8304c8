//! Checks that need only the footer: opening, statistics keys against each other, and the
//! file name; and, after a full scan, statistics and name against the data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use oembeddings::footer::FooterError;
use oembeddings::layout::{AttributesLayout, LayoutError, VectorLayout};
use oembeddings::name::{self, FileName, NameError, NameMismatch};
use oembeddings::read::{ParquetSource, ReadError};
use oembeddings::stats::{ModelStatistics, ProviderStatistics, Statistics, is_statistics_key};
use oembeddings::write::WriteOptions;

use crate::HUB_VIEWER_MAX_BYTES;
use crate::report::Findings;
use crate::rules::Rule;

/// The finding for a file that cannot be opened as a records file.
pub(crate) fn open_failure(error: &ReadError, findings: &mut Findings) {
    let rule = match error {
        ReadError::Footer { source, .. } => match source {
            FooterError::NotParquet { .. } => Rule::NotParquet,
            FooterError::Truncated { .. }
            | FooterError::NoFooter
            | FooterError::Malformed { .. } => Rule::Truncated,
            _ => Rule::Unreadable,
        },
        ReadError::Layout { source, .. } => match source {
            LayoutError::MissingColumn { .. } => Rule::MissingColumn,
            LayoutError::ColumnType { .. } => Rule::ColumnType,
            _ => Rule::DuplicateColumn,
        },
        _ => Rule::Unreadable,
    };
    findings.file(rule, strip_path(error));
}

/// An error's message without its leading `path: ` (reports name the file already).
pub(crate) fn strip_path(error: &ReadError) -> String {
    let text = error.to_string();
    let path = match error {
        ReadError::Io { path, .. }
        | ReadError::Footer { path, .. }
        | ReadError::Metadata { path, .. }
        | ReadError::Layout { path, .. }
        | ReadError::Record { path, .. }
        | ReadError::Data { path, .. } => path.display().to_string(),
        _ => String::new(),
    };
    text.strip_prefix(&format!("{path}: "))
        .map(str::to_owned)
        .unwrap_or(text)
}

/// The statistics keys of a footer, parsed.
#[derive(Debug, Default)]
pub(crate) struct FooterStatistics {
    /// Every statistics key and its value.
    pub(crate) keys: BTreeMap<String, String>,
}

impl FooterStatistics {
    pub(crate) fn of(source: &ParquetSource) -> Self {
        let keys = source
            .key_values()
            .iter()
            .filter_map(|kv| {
                let key = std::str::from_utf8(&kv.key).ok()?;
                let value = std::str::from_utf8(kv.value.as_deref().unwrap_or_default()).ok()?;
                is_statistics_key(key).then(|| (key.to_owned(), value.to_owned()))
            })
            .collect();
        Self { keys }
    }

    fn has_family(&self, prefix: &str) -> bool {
        self.keys.keys().any(|k| k.starts_with(prefix))
    }

    fn list(&self, key: &str) -> Option<Vec<String>> {
        self.keys.get(key).map(|v| {
            if v.is_empty() {
                Vec::new()
            } else {
                v.split(';').map(str::to_owned).collect()
            }
        })
    }

    /// The statistics the footer claims, as far as its keys say (for name checks without
    /// reading data). `None` without the Go tool's keys.
    pub(crate) fn claimed(&self) -> Option<Statistics> {
        let models = self.list("embeddingsdb:models")?;
        let providers = self.list("embeddingsdb:providers")?;
        let count = |key: String| {
            self.keys
                .get(&key)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let created = match (
            self.keys.get("oembeddings:created:min"),
            self.keys.get("oembeddings:created:max"),
        ) {
            (Some(lo), Some(hi)) => lo.parse().ok().zip(hi.parse().ok()),
            _ => None,
        };
        Some(Statistics {
            records: count("oembeddings:records".into()),
            models: models
                .iter()
                .map(|m| ModelStatistics {
                    name: m.clone(),
                    dimensions: count(format!("embeddingsdb:model:{m}:dimensions")) as usize,
                    mixed_dimensions: false,
                    providers: self
                        .list(&format!("embeddingsdb:model:{m}:providers"))
                        .unwrap_or_default(),
                    records: count(format!("oembeddings:model:{m}:records")),
                })
                .collect(),
            providers: providers
                .iter()
                .map(|p| ProviderStatistics {
                    name: p.clone(),
                    models: self
                        .list(&format!("embeddingsdb:provider:{p}:models"))
                        .unwrap_or_default(),
                    records: count(format!("oembeddings:provider:{p}:records")),
                })
                .collect(),
            created,
        })
    }
}

/// OE301 and OE303: presence, and agreement of the statistics keys with each other, with the
/// footer's row count and with a fixed vector length.
pub(crate) fn check_footer_statistics(
    source: &ParquetSource,
    stats: &FooterStatistics,
    findings: &mut Findings,
) {
    if !stats.has_family("embeddingsdb:") {
        findings.file(Rule::NoStatistics, "the footer holds none of the embeddingsdb statistics keys; `oembeddings stats --append` writes them");
    }
    let mut contradiction = |message: String| findings.file(Rule::StatisticsInconsistent, message);
    if let (Some(models), Some(providers)) = (
        stats.list("embeddingsdb:models"),
        stats.list("embeddingsdb:providers"),
    ) {
        let (model_set, provider_set): (BTreeSet<&String>, BTreeSet<&String>) =
            (models.iter().collect(), providers.iter().collect());
        for m in &models {
            match stats
                .keys
                .get(&format!("embeddingsdb:model:{m}:dimensions"))
            {
                None => contradiction(format!(
                    "model {m:?} is listed but embeddingsdb:model:{m}:dimensions is missing"
                )),
                Some(d) if d.parse::<u64>().is_err() => contradiction(format!(
                    "embeddingsdb:model:{m}:dimensions is {d:?}, not a number"
                )),
                Some(_) => {}
            }
            for p in stats
                .list(&format!("embeddingsdb:model:{m}:providers"))
                .unwrap_or_default()
            {
                if !provider_set.contains(&p) {
                    contradiction(format!(
                        "embeddingsdb:model:{m}:providers names {p:?}, which embeddingsdb:providers does not list"
                    ));
                } else if !stats
                    .list(&format!("embeddingsdb:provider:{p}:models"))
                    .unwrap_or_default()
                    .contains(m)
                {
                    contradiction(format!(
                        "embeddingsdb:model:{m}:providers names {p:?} but embeddingsdb:provider:{p}:models does not name {m:?}"
                    ));
                }
            }
        }
        for key in stats.keys.keys() {
            let stale = |prefix: &str, set: &BTreeSet<&String>| {
                key.strip_prefix(prefix)
                    .and_then(|rest| rest.rsplit_once(':'))
                    .is_some_and(|(name, _)| !set.iter().any(|s| s.as_str() == name))
            };
            if stale("embeddingsdb:model:", &model_set) || stale("oembeddings:model:", &model_set) {
                contradiction(format!(
                    "{key} is about a model that embeddingsdb:models does not list"
                ));
            }
            if stale("embeddingsdb:provider:", &provider_set)
                || stale("oembeddings:provider:", &provider_set)
            {
                contradiction(format!(
                    "{key} is about a provider that embeddingsdb:providers does not list"
                ));
            }
        }
        if let VectorLayout::FixedSizeList { dimensions } = source.layout().vectors {
            for m in &models {
                if let Some(d) = stats
                    .keys
                    .get(&format!("embeddingsdb:model:{m}:dimensions"))
                    .filter(|d| **d != dimensions.to_string())
                {
                    contradiction(format!(
                        "embeddingsdb:model:{m}:dimensions is {d} but the vector column is a fixed-size list of {dimensions}"
                    ));
                }
            }
        }
    }
    if let Some(records) = stats
        .keys
        .get("oembeddings:records")
        .filter(|r| **r != source.num_rows().to_string())
    {
        contradiction(format!(
            "oembeddings:records is {records} but the footer counts {} rows",
            source.num_rows()
        ));
    }
}

/// OE501 and OE502, checked for the `hub` target: what would break on the Hugging Face Hub,
/// a MAP attributes column (`datasets` has no type for it) and row groups larger than the
/// Hub copies as they are.
pub(crate) fn check_hub(source: &ParquetSource, max_row_group_bytes: u64, findings: &mut Findings) {
    if source.layout().attributes == AttributesLayout::Map {
        findings.file(
            Rule::HubMapColumn,
            "the attributes column is a Parquet MAP: Hugging Face datasets cannot load it (\"Arrow \
             type map<string, string> does not have a datasets dtype equivalent\"); `oembeddings \
             convert FILE DIR --to hf` writes a dataset directory it loads",
        );
    }
    let ours = WriteOptions::default().row_group_bytes;
    for (i, group) in source.metadata().row_groups().iter().enumerate() {
        // A negative size is a broken footer, which other rules report.
        let bytes = u64::try_from(group.total_byte_size()).unwrap_or(0);
        if bytes > max_row_group_bytes {
            findings.file(
                Rule::HubRowGroup,
                format!(
                    "row group {i} holds {bytes} bytes uncompressed, over the {max_row_group_bytes} \
                     the Hub's dataset viewer copies as they are (it converts only part of such a \
                     dataset, and its rows view fails over {HUB_VIEWER_MAX_BYTES} bytes): rewrite \
                     it with smaller row groups (`oembeddings convert FILE DIR --to hf` writes \
                     about {ours} bytes each)"
                ),
            );
        }
    }
}

/// OE302: the footer's statistics keys against those of the data, per key family present.
pub(crate) fn compare_statistics(
    stats: &FooterStatistics,
    data: &Statistics,
    findings: &mut Findings,
) {
    let computed = data.key_value_map();
    for family in ["embeddingsdb:", "oembeddings:"] {
        if !stats.has_family(family) {
            continue;
        }
        let keys: BTreeSet<&String> = computed
            .keys()
            .chain(stats.keys.keys())
            .filter(|k| k.starts_with(family))
            .collect();
        for key in keys {
            let message = match (stats.keys.get(key), computed.get(key)) {
                (Some(footer), Some(data)) if footer != data => {
                    format!("{key} is {footer:?} in the footer but {data:?} in the data")
                }
                (None, Some(data)) => {
                    format!("{key} is missing from the footer (the data gives {data:?})")
                }
                (Some(footer), None) => {
                    format!("{key} is {footer:?} in the footer but nothing in the data matches it")
                }
                _ => continue,
            };
            findings.file(Rule::StatisticsMismatch, message);
        }
    }
}

/// Where the statistics a name is checked against come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatisticsSource {
    /// Gathered from every record.
    Data,
    /// As the footer's statistics keys claim them (metadata-only mode).
    Footer,
}

/// OE401-OE406: the file name against the convention and against `statistics` (from the data,
/// or as the footer claims them in metadata-only mode; `None` when unknown).
pub(crate) fn check_name(
    path: &Path,
    statistics: Option<&Statistics>,
    source: StatisticsSource,
    findings: &mut Findings,
) {
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match FileName::parse(&base) {
        Ok(name) => name,
        Err(NameError::Date(date)) => {
            findings.file(
                Rule::NameDate,
                format!("the name's date {date:?} is not a real calendar date (YYYYMMDD)"),
            );
            return;
        }
        Err(e) => {
            findings.file(Rule::NameNotConventional, format!("{base:?} is not {{provider}}-{{source}}-{{dimensions}}-{{model}}-{{YYYYMMDD}}.parquet: {e}"));
            return;
        }
    };
    let Some(statistics) = statistics else { return };
    for mismatch in name::check(&name, statistics) {
        let rule = match mismatch {
            NameMismatch::Dimensions { .. } => Rule::NameDimensions,
            NameMismatch::Model { .. } | NameMismatch::Provider { .. } => Rule::NameLabels,
            NameMismatch::DateBeforeRecords { .. } => Rule::NameDateBeforeRecords,
            _ => Rule::NameModelCount,
        };
        let message = match source {
            StatisticsSource::Data => mismatch.to_string(),
            StatisticsSource::Footer => format!("{mismatch} (according to the footer statistics)"),
        };
        findings.file(rule, message);
    }
}
