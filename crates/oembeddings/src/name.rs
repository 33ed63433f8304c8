//! The file naming convention `{provider}-{source}-{dimensions}-{model}-{YYYYMMDD}.parquet`,
//! e.g. `nga-opendata-1152-siglip2-patch14-20260522.parquet`.
//!
//! Parts are lowercase slugs of `a-z`, `0-9`, `.` and `_`, separated by `-`. The provider is
//! the first part; source and model may contain hyphens; the dimensions are the first
//! all-digit part after the provider and at least one source part; the date is the last part
//! and must be a real calendar date.

use std::fmt;
use std::path::Path;

use serde::Serialize;
use time::{Date, Month};

use crate::stats::Statistics;

/// File extension of the convention.
pub const EXTENSION: &str = ".parquet";

/// A conventional file name, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileName {
    /// Provider slug, e.g. `nga`.
    pub provider: String,
    /// Source slug, e.g. `opendata` (may contain `-`).
    pub source: String,
    /// Vector dimensions.
    pub dimensions: usize,
    /// Model slug, e.g. `siglip2-patch14` (may contain `-`).
    pub model: String,
    /// Release date.
    #[serde(serialize_with = "serialize_date")]
    pub date: Date,
}

fn serialize_date<S: serde::Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_date(*date))
}

/// `YYYYMMDD`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Why a name is not conventional.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name does not end in `.parquet`.
    #[error("name does not end in '.parquet'")]
    Extension,
    /// Fewer than five `-`-separated parts.
    #[error("name has {0} '-'-separated parts; expected provider-source-dimensions-model-YYYYMMDD")]
    TooFewParts(usize),
    /// A part is empty (`--` or a leading or trailing `-`).
    #[error("name has an empty part (two '-' in a row, or '-' at the start or end)")]
    EmptyPart,
    /// A part holds a character outside the slug alphabet.
    #[error("part {part:?} holds {character:?}; parts use lowercase a-z, 0-9, '.' and '_'")]
    Character {
        /// The part.
        part: String,
        /// The character.
        character: char,
    },
    /// No all-digit dimensions part between the source and the model.
    #[error(
        "no dimensions: expected an all-digit part after the provider and source, before the model"
    )]
    NoDimensions,
    /// The dimensions part is zero or has a leading zero.
    #[error("dimensions {0:?} must be a positive number without leading zeros")]
    Dimensions(String),
    /// The last part is not a real `YYYYMMDD` date.
    #[error("date {0:?} is not a real calendar date in the form YYYYMMDD")]
    Date(String),
}

impl FileName {
    /// Parses a file name (a path is accepted; its last component is parsed).
    pub fn parse(name: &str) -> Result<Self, NameError> {
        let base = Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name);
        let stem = base.strip_suffix(EXTENSION).ok_or(NameError::Extension)?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() < 5 {
            return Err(NameError::TooFewParts(parts.len()));
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err(NameError::EmptyPart);
        }
        for part in &parts {
            if let Some(character) = part.chars().find(|&c| !is_slug_char(c)) {
                return Err(NameError::Character {
                    part: (*part).to_owned(),
                    character,
                });
            }
        }
        let last = parts.len() - 1;
        let date =
            parse_date(parts[last]).ok_or_else(|| NameError::Date(parts[last].to_owned()))?;
        let at = (2..last - 1)
            .find(|&i| parts[i].bytes().all(|b| b.is_ascii_digit()))
            .ok_or(NameError::NoDimensions)?;
        let digits = parts[at];
        let dimensions = match digits.parse::<usize>() {
            Ok(d) if d > 0 && !digits.starts_with('0') => d,
            _ => return Err(NameError::Dimensions(digits.to_owned())),
        };
        Ok(Self {
            provider: parts[0].to_owned(),
            source: parts[1..at].join("-"),
            dimensions,
            model: parts[at + 1..last].join("-"),
            date,
        })
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}-{}{EXTENSION}",
            self.provider,
            self.source,
            self.dimensions,
            self.model,
            format_date(self.date)
        )
    }
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'
}

/// Parses `YYYYMMDD` into a real calendar date.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = s[0..4].parse().ok()?;
    let month: u8 = s[4..6].parse().ok()?;
    let day: u8 = s[6..8].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The slug of a provider or model label: lowercase, with every run of characters outside
/// `a-z0-9._` turned into one `-`, e.g. `apple/MobileCLIP-S2` -> `apple-mobileclip-s2`.
pub fn slug(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars().flat_map(char::to_lowercase) {
        if is_slug_char(c) {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// How a conventional name disagrees with the file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NameMismatch {
    /// The file holds no records, so nothing can be checked.
    #[error("the file holds no records")]
    NoRecords,
    /// The file holds several models; a conventional file holds one.
    #[error("the file holds {count} models ({models}); a conventional file holds one")]
    SeveralModels {
        /// Number of models.
        count: usize,
        /// The models, `;`-joined.
        models: String,
    },
    /// The name's dimensions differ from those of a model's vectors (in a file of several
    /// models, one mismatch per model whose vectors differ).
    #[error("name says {name} dimensions but the vectors of model '{model}' have {data}")]
    Dimensions {
        /// Dimensions in the name.
        name: usize,
        /// The model whose vectors differ.
        model: String,
        /// Dimensions of that model's vectors.
        data: usize,
    },
    /// The name's model slug is not the slug of the data's model.
    #[error("name says model '{name}' but the records' model is '{data}' (slug '{slug}')")]
    Model {
        /// Model slug in the name.
        name: String,
        /// Model of the records.
        data: String,
        /// Its slug.
        slug: String,
    },
    /// The name's provider slug is not the slug of the data's only provider.
    #[error("name says provider '{name}' but the records' provider is '{data}' (slug '{slug}')")]
    Provider {
        /// Provider slug in the name.
        name: String,
        /// Provider of the records.
        data: String,
        /// Its slug.
        slug: String,
    },
    /// The name's date is before the newest record was created.
    #[error("name is dated {name} but the newest record was created on {newest}")]
    DateBeforeRecords {
        /// Date in the name, `YYYYMMDD`.
        name: String,
        /// Day of the newest `created`, `YYYYMMDD` (UTC).
        newest: String,
    },
}

impl NameMismatch {
    /// Whether the name contradicts the data (as opposed to merely not matching its labels).
    pub fn is_error(&self) -> bool {
        matches!(self, NameMismatch::Dimensions { .. })
    }
}

/// Every way in which `name` disagrees with statistics of the file's contents.
///
/// The name's dimensions are a claim about every vector of the file: each model whose
/// vectors have other dimensions contradicts it ([`NameMismatch::Dimensions`], one per such
/// model), whether the file holds one model or several.
pub fn check(name: &FileName, statistics: &Statistics) -> Vec<NameMismatch> {
    let mut found = Vec::new();
    for model in &statistics.models {
        if model.dimensions != name.dimensions {
            found.push(NameMismatch::Dimensions {
                name: name.dimensions,
                model: model.name.clone(),
                data: model.dimensions,
            });
        }
    }
    match statistics.models.as_slice() {
        [] => found.push(NameMismatch::NoRecords),
        [model] => {
            let model_slug = slug(&model.name);
            if model_slug != name.model {
                found.push(NameMismatch::Model {
                    name: name.model.clone(),
                    data: model.name.clone(),
                    slug: model_slug,
                });
            }
        }
        models => found.push(NameMismatch::SeveralModels {
            count: models.len(),
            models: models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        }),
    }
    if let [provider] = statistics.providers.as_slice() {
        let provider_slug = slug(&provider.name);
        if provider_slug != name.provider {
            found.push(NameMismatch::Provider {
                name: name.provider.clone(),
                data: provider.name.clone(),
                slug: provider_slug,
            });
        }
    }
    if let Some(newest) = statistics.created.and_then(|(_, max)| utc_date(max))
        && name.date < newest
    {
        found.push(NameMismatch::DateBeforeRecords {
            name: format_date(name.date),
            newest: format_date(newest),
        });
    }
    found
}

/// The UTC calendar day of a Unix time.
pub fn utc_date(unix_seconds: i64) -> Option<Date> {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .map(|t| t.date())
}

/// A conventional name for a file with these statistics.
///
/// Provider, dimensions and model come from the data (the first of each when there are
/// several); `source` and `date` from the arguments, else from `current` (the file's present
/// name, when conventional), else `source` is `SOURCE` and the date the day of the newest
/// record.
pub fn suggest(
    statistics: &Statistics,
    current: Option<&FileName>,
    source: Option<&str>,
    date: Option<Date>,
) -> Option<FileName> {
    let model = statistics.models.first()?;
    let provider = statistics.providers.first()?;
    let date = date
        .or(current.map(|c| c.date))
        .or_else(|| statistics.created.and_then(|(_, max)| utc_date(max)))?;
    let source = source
        .map(slug)
        .or_else(|| current.map(|c| c.source.clone()))
        .unwrap_or_else(|| "SOURCE".to_owned());
    Some(FileName {
        provider: slug(&provider.name),
        source,
        dimensions: model.dimensions,
        model: slug(&model.name),
        date,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let n = FileName::parse("nga-opendata-1152-siglip2-patch14-20260522.parquet").unwrap();
        assert_eq!(
            (
                n.provider.as_str(),
                n.source.as_str(),
                n.dimensions,
                n.model.as_str(),
                n.date
            ),
            (
                "nga",
                "opendata",
                1152,
                "siglip2-patch14",
                date!(2026 - 05 - 22)
            )
        );
        assert_eq!(
            n.to_string(),
            "nga-opendata-1152-siglip2-patch14-20260522.parquet"
        );
        let n =
            FileName::parse("/data/sfomuseum-open-data-512-mobileclip-20260413.parquet").unwrap();
        assert_eq!((n.source.as_str(), n.dimensions), ("open-data", 512));
        // The first all-digit part after the source is the dimensions; a numeric model part stays.
        let n = FileName::parse("met-hf-768-dinov2-2-20260101.parquet").unwrap();
        assert_eq!((n.dimensions, n.model.as_str()), (768, "dinov2-2"));
    }

    #[test]
    fn rejects_unconventional_names_with_the_reason() {
        let cases = [
            (
                "nga-opendata-512-mobileclip-20260413.csv",
                NameError::Extension,
            ),
            (
                "nga-512-mobileclip-20260413.parquet",
                NameError::TooFewParts(4),
            ),
            ("nga--512-mobileclip-20260413.parquet", NameError::EmptyPart),
            (
                "nga-opendata-512-mobileclip-20260230.parquet",
                NameError::Date("20260230".into()),
            ),
            (
                "nga-opendata-512-mobileclip-2026041.parquet",
                NameError::Date("2026041".into()),
            ),
            (
                "nga-opendata-mobileclip-x-20260413.parquet",
                NameError::NoDimensions,
            ),
            (
                "nga-opendata-0512-mobileclip-20260413.parquet",
                NameError::Dimensions("0512".into()),
            ),
            (
                "NGA-opendata-512-mobileclip-20260413.parquet",
                NameError::Character {
                    part: "NGA".into(),
                    character: 'N',
                },
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(FileName::parse(name), Err(expected), "{name}");
        }
        assert!(FileName::parse("nga-opendata-512-mobileclip-20240229.parquet").is_ok());
        assert!(FileName::parse("nga-opendata-512-mobileclip-20230229.parquet").is_err());
    }

    #[test]
    fn dimensions_are_checked_for_every_model() {
        use crate::stats::{ModelStatistics, ProviderStatistics};
        let model = |name: &str, dimensions| ModelStatistics {
            name: name.into(),
            dimensions,
            mixed_dimensions: false,
            providers: vec!["sfomuseum".into()],
            records: 1,
        };
        let statistics = |models: Vec<ModelStatistics>| Statistics {
            records: models.len() as u64,
            providers: vec![ProviderStatistics {
                name: "sfomuseum".into(),
                models: models.iter().map(|m| m.name.clone()).collect(),
                records: models.len() as u64,
            }],
            models,
            created: None,
        };
        let dimensions = |name: &str, models| -> Vec<(String, usize)> {
            check(&FileName::parse(name).unwrap(), &statistics(models))
                .into_iter()
                .filter_map(|m| match m {
                    NameMismatch::Dimensions { model, data, .. } => Some((model, data)),
                    _ => None,
                })
                .collect()
        };
        let name = "sfomuseum-collection-512-clip-20260101.parquet";
        assert_eq!(dimensions(name, vec![model("clip", 512)]), []);
        assert_eq!(
            dimensions(name, vec![model("clip", 768)]),
            [("clip".to_owned(), 768)]
        );
        // Several models: each whose vectors differ from the name contradicts it, the
        // name's own model or another.
        assert_eq!(
            dimensions(name, vec![model("clip", 512), model("siglip", 1152)]),
            [("siglip".to_owned(), 1152)]
        );
        assert_eq!(
            dimensions(name, vec![model("clip", 768), model("siglip", 768)]),
            [("clip".to_owned(), 768), ("siglip".to_owned(), 768)]
        );
        assert_eq!(
            dimensions(name, vec![model("clip", 512), model("siglip", 512)]),
            []
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("apple/MobileCLIP-S2"), "apple-mobileclip-s2");
        assert_eq!(slug("SFO Museum"), "sfo-museum");
        assert_eq!(slug("siglip2_patch14"), "siglip2_patch14");
        assert_eq!(slug("  --x--  "), "x");
    }
}
