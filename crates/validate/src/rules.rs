//! The rule catalogue: every check has a stable id, a severity, a one-line title and the
//! section of `spec/oembeddings.md` it enforces. Ids never change meaning; retired rules are
//! not reused.

use std::fmt;

use serde::{Serialize, Serializer};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file breaks a MUST of the specification: it is not valid.
    Error,
    /// The file breaks a SHOULD, or holds something suspicious; it is still valid.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident = ($id:literal, $severity:ident, $section:literal, $title:literal); )*) => {
        /// A validation rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $name, )*
        }

        impl Rule {
            /// Every rule, in id order.
            pub const ALL: &'static [Rule] = &[$(Rule::$name),*];

            /// The stable id, e.g. `OE112`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$name => $id,)* }
            }

            /// Error or warning.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$name => Severity::$severity,)* }
            }

            /// A one-line title.
            pub fn title(self) -> &'static str {
                match self { $(Rule::$name => $title,)* }
            }

            /// The section of `spec/oembeddings.md` the rule enforces.
            pub fn section(self) -> &'static str {
                match self { $(Rule::$name => $section,)* }
            }
        }
    };
}

rules! {
    /// The file does not start and end with the Parquet magic bytes.
    NotParquet = ("OE001", Error, "2", "file is not Parquet");
    /// The file is shorter than its footer says, or its footer is damaged.
    Truncated = ("OE002", Error, "2", "file is truncated or its footer is damaged");
    /// The metadata or the data pages cannot be decoded (or the file is encrypted).
    Unreadable = ("OE003", Error, "2", "file cannot be decoded");
    /// A record column is absent.
    MissingColumn = ("OE004", Error, "2.2", "required column is missing");
    /// A record column has a type no accepted layout allows.
    ColumnType = ("OE005", Error, "2.2", "required column has a type no layout allows");
    /// A column name occurs twice.
    DuplicateColumn = ("OE006", Error, "2.2", "column name occurs more than once");
    /// The footer's `ARROW:schema` hint cannot be decoded; it was ignored and the columns
    /// read by their Parquet schema.
    DamagedArrowSchema = ("OE007", Warning, "2.2", "ARROW:schema hint cannot be decoded and was ignored");
    /// `provider` is the empty string.
    EmptyProvider = ("OE101", Error, "1", "provider is empty");
    /// `depiction_id` is the empty string.
    EmptyDepictionId = ("OE102", Error, "1", "depiction_id is empty");
    /// `subject_id` is the empty string.
    EmptySubjectId = ("OE103", Error, "1", "subject_id is empty");
    /// `model` is the empty string.
    EmptyModel = ("OE104", Error, "1", "model is empty");
    /// A required value, a vector element or an attribute value is null.
    NullValue = ("OE105", Error, "2.2", "required value is null");
    /// Text is not valid UTF-8.
    InvalidUtf8 = ("OE106", Error, "2.2", "text is not valid UTF-8");
    /// JSON attributes are not a JSON object of strings.
    InvalidAttributesJson = ("OE107", Error, "2.2", "attributes are not a JSON object of strings");
    /// A vector has no elements.
    EmptyVector = ("OE110", Error, "1", "vector is empty");
    /// A vector's length differs from the first vector of its model.
    MixedDimensions = ("OE111", Error, "1", "vector length differs from its model's");
    /// A vector element is NaN or infinite.
    NonFinite = ("OE112", Error, "1", "vector element is NaN or infinite");
    /// Every element of a vector is zero.
    ZeroVector = ("OE113", Warning, "1", "vector is all zeros");
    /// The model is known to emit unit-norm vectors and this one is not.
    NotUnitNorm = ("OE114", Warning, "1", "vector is not unit-norm for a model that emits normalised vectors");
    /// float64 elements changed when narrowed to float32.
    Narrowed = ("OE115", Warning, "2.2", "float64 vector elements lost precision as float32");
    /// Two records share provider, depiction_id and model.
    DuplicateKey = ("OE120", Error, "1", "record key occurs more than once");
    /// `created` is zero, negative, or not representable in Unix seconds.
    CreatedNotPositive = ("OE130", Error, "1", "created is not a positive Unix time");
    /// `created` is later than the time of validation (beyond one day of clock skew).
    CreatedInFuture = ("OE131", Error, "1", "created is in the future");
    /// The record has no attributes at all, so no OEmbeddings attributes.
    NoAttributes = ("OE200", Warning, "4", "record has no OEmbeddings attributes");
    /// A required OEmbeddings attribute is absent.
    MissingAttribute = ("OE201", Error, "4", "required OEmbeddings attribute is missing");
    /// `type` is neither `image` nor `text`.
    AttributeType = ("OE202", Error, "4", "attribute type is neither image nor text");
    /// `preview` or `provider_name` (or a URI attribute) is empty.
    EmptyAttribute = ("OE203", Error, "4", "attribute that must not be empty is empty");
    /// `subject_url`, `provider_url` or `depiction_url` is not an absolute URI.
    NotUri = ("OE204", Error, "4", "attribute that must be a URI is not an absolute URI");
    /// An image's `preview` is not an absolute URI.
    PreviewNotUri = ("OE205", Error, "4", "image preview is not an absolute URI");
    /// The footer holds none of the go-embeddingsdb statistics keys.
    NoStatistics = ("OE301", Warning, "3", "footer has no statistics");
    /// A statistics key is missing, stale or wrong for the records.
    StatisticsMismatch = ("OE302", Error, "3", "footer statistics disagree with the data");
    /// Statistics keys contradict each other or the rest of the footer.
    StatisticsInconsistent = ("OE303", Error, "3", "footer statistics contradict each other or the footer");
    /// A model or provider name holds `;` or `:`, which the statistics keys do not escape.
    AmbiguousName = ("OE304", Warning, "3", "model or provider name holds ';' or ':' (ambiguous statistics keys)");
    /// The file name does not follow the convention.
    NameNotConventional = ("OE401", Warning, "5", "file name is not conventional");
    /// The name's dimensions differ from the vectors' (in a file of several models, from
    /// those of any one model: one finding per such model).
    NameDimensions = ("OE402", Error, "5", "file name's dimensions contradict the data");
    /// The name's date is not a real calendar date.
    NameDate = ("OE403", Error, "5", "file name's date is not a real calendar date");
    /// The name's model or provider slug differs from the records'.
    NameLabels = ("OE404", Warning, "5", "file name's model or provider differs from the data");
    /// The name's date is before the newest record's `created`.
    NameDateBeforeRecords = ("OE405", Warning, "5", "file name is dated before the newest record");
    /// The file holds several models (or none) where a conventional file holds one.
    NameModelCount = ("OE406", Warning, "5", "a conventionally named file holds one model");
    /// The attributes are a Parquet MAP, which Hugging Face `datasets` cannot load (checked
    /// with the `hub` target).
    HubMapColumn = ("OE501", Warning, "2.3", "attributes are a MAP, which Hugging Face datasets cannot load");
    /// A row group is larger than the Hugging Face Hub's dataset viewer copies as it is
    /// (checked with the `hub` target).
    HubRowGroup = ("OE502", Warning, "2.3", "row group larger than the Hugging Face Hub copies as it is");
}

impl Rule {
    /// The rule with id `id`.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One rule as `oembeddings validate --rules --format json` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleDescription {
    /// The id.
    pub id: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The title.
    pub title: &'static str,
    /// The spec section.
    pub section: &'static str,
}

impl From<Rule> for RuleDescription {
    fn from(rule: Rule) -> Self {
        Self {
            id: rule.id(),
            severity: rule.severity(),
            title: rule.title(),
            section: rule.section(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_well_formed() {
        let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for id in ids {
            assert!(
                id.len() == 5
                    && id.starts_with("OE")
                    && id[2..].bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
            assert_eq!(Rule::from_id(id).map(Rule::id), Some(id));
        }
    }
}
