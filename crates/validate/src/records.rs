//! Checks of every record, streaming over batches: identity, vectors, keys, times,
//! attributes. Memory is bounded by a batch, the key fingerprints and one entry per model.

use oembeddings::attributes::{AttributeProblem, OEmbeddings};
use oembeddings::problem::RecordProblem;
use oembeddings::problem::Repair;
use oembeddings::record::RecordRef;
use oembeddings::{Batch, StatisticsBuilder};

use crate::keys::KeySet;
use crate::report::Findings;
use crate::rules::Rule;

/// What the record checks need from the options.
#[derive(Debug, Clone)]
pub(crate) struct RecordRules {
    /// Lowercase substrings of model names known to emit unit-norm vectors.
    pub(crate) unit_norm_models: Vec<String>,
    /// Allowed distance of a vector's norm from 1.
    pub(crate) unit_norm_tolerance: f32,
    /// Latest acceptable `created`.
    pub(crate) latest_created: i64,
}

/// State of one model: the length of its first vector and whether it is unit-norm.
#[derive(Debug)]
struct ModelState {
    name: String,
    dimensions: usize,
    unit_norm: bool,
}

/// Which values of a record were replaced while reading (and so are not judged).
#[derive(Debug, Default, Clone, Copy)]
struct Replaced {
    vector: bool,
    created: bool,
    attributes: bool,
}

/// Streams the record checks.
#[derive(Debug)]
pub(crate) struct RecordChecker {
    rules: RecordRules,
    models: Vec<ModelState>,
    last_model: usize,
    providers: Vec<String>,
    keys: KeySet,
    statistics: StatisticsBuilder,
    records: u64,
}

impl RecordChecker {
    pub(crate) fn new(rules: RecordRules) -> Self {
        Self {
            rules,
            models: Vec::new(),
            last_model: 0,
            providers: Vec::new(),
            keys: KeySet::default(),
            statistics: StatisticsBuilder::default(),
            records: 0,
        }
    }

    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    pub(crate) fn statistics(&self) -> &StatisticsBuilder {
        &self.statistics
    }

    /// Checks every record of a batch.
    pub(crate) fn check(&mut self, batch: &Batch, findings: &mut Findings) {
        let repairs = batch.repairs();
        for repair in repairs {
            report_repair(repair, batch, findings);
        }
        let mut next_repair = 0;
        for i in 0..batch.num_rows() {
            let row = batch.first_row() + i as u64;
            // Values replaced while reading were reported above; do not judge the stand-ins.
            let mut replaced = Replaced::default();
            while let Some(r) = repairs.get(next_repair).filter(|r| r.row == row) {
                match r.problem {
                    RecordProblem::Null {
                        column: "embeddings",
                    }
                    | RecordProblem::NullElement { .. } => replaced.vector = true,
                    RecordProblem::Null { column: "created" }
                    | RecordProblem::CreatedOutOfRange => replaced.created = true,
                    RecordProblem::Null {
                        column: "attributes",
                    }
                    | RecordProblem::InvalidUtf8 {
                        column: "attributes",
                    }
                    | RecordProblem::NullAttributeValue { .. }
                    | RecordProblem::InvalidJson { .. } => replaced.attributes = true,
                    _ => {}
                }
                next_repair += 1;
            }
            self.check_record(row, &batch.record(i), replaced, findings);
        }
    }

    fn check_record(
        &mut self,
        row: u64,
        r: &RecordRef<'_>,
        replaced: Replaced,
        findings: &mut Findings,
    ) {
        self.records += 1;
        let key = || Some(r.key().to_string());
        for (value, rule, column) in [
            (r.provider, Rule::EmptyProvider, "provider"),
            (r.depiction_id, Rule::EmptyDepictionId, "depiction_id"),
            (r.subject_id, Rule::EmptySubjectId, "subject_id"),
            (r.model, Rule::EmptyModel, "model"),
        ] {
            if value.is_empty() {
                findings.add(rule, Some(row), key, || {
                    format!("{column} is the empty string")
                });
            }
        }
        self.statistics.observe(r.provider, r.model, r.created);
        self.statistics
            .observe_dimensions(r.model, r.embeddings.len());
        self.check_names(r, findings);
        if !replaced.vector {
            self.check_vector(row, r, findings);
        }
        if !self.keys.insert(r.provider, r.depiction_id, r.model) {
            findings.add(Rule::DuplicateKey, Some(row), key, || {
                format!("record key {} occurs more than once (provider, depiction_id and model repeat an earlier record)", r.key())
            });
        }
        if !replaced.created {
            if r.created <= 0 {
                findings.add(Rule::CreatedNotPositive, Some(row), key, || {
                    format!(
                        "created is {}; it must be a positive Unix time in seconds",
                        r.created
                    )
                });
            } else if r.created > self.rules.latest_created {
                findings.add(Rule::CreatedInFuture, Some(row), key, || {
                    let when = time::OffsetDateTime::from_unix_timestamp(r.created)
                        .map(|t| t.date().to_string())
                        .unwrap_or_else(|_| "far future".into());
                    format!(
                        "created is {} ({when}), later than the time of validation",
                        r.created
                    )
                });
            }
        }
        if replaced.attributes {
            // Reported as read; the stand-in attributes say nothing about the record.
        } else if r.attributes.is_empty() {
            findings.add(Rule::NoAttributes, Some(row), key, || {
                "record has no attributes, so none of the OEmbeddings keys".into()
            });
        } else {
            OEmbeddings::check(&r.attributes, |problem| {
                let rule = match &problem {
                    AttributeProblem::Missing { .. } => Rule::MissingAttribute,
                    AttributeProblem::InvalidType { .. } => Rule::AttributeType,
                    AttributeProblem::Empty { .. } => Rule::EmptyAttribute,
                    AttributeProblem::NotUri { key: "preview", .. } => Rule::PreviewNotUri,
                    AttributeProblem::NotUri { .. } => Rule::NotUri,
                    _ => Rule::MissingAttribute,
                };
                findings.add(rule, Some(row), key, || problem.to_string());
            });
        }
    }

    /// OE304 for each new model or provider name holding `;` or `:`.
    fn check_names(&mut self, r: &RecordRef<'_>, findings: &mut Findings) {
        if !self.providers.iter().any(|p| p == r.provider) {
            self.providers.push(r.provider.to_owned());
            if r.provider.contains([';', ':']) {
                findings.file(Rule::AmbiguousName, format!("provider {:?} holds ';' or ':', which make the embeddingsdb statistics keys ambiguous", r.provider));
            }
        }
    }

    fn model(&mut self, name: &str, dimensions: usize, findings: &mut Findings) -> usize {
        if self
            .models
            .get(self.last_model)
            .is_some_and(|m| m.name == name)
        {
            return self.last_model;
        }
        let index = match self.models.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                let lower = name.to_lowercase();
                self.models.push(ModelState {
                    name: name.to_owned(),
                    dimensions,
                    unit_norm: self
                        .rules
                        .unit_norm_models
                        .iter()
                        .any(|p| lower.contains(p.as_str())),
                });
                if name.contains([';', ':']) {
                    findings.file(Rule::AmbiguousName, format!("model {name:?} holds ';' or ':', which make the embeddingsdb statistics keys ambiguous"));
                }
                self.models.len() - 1
            }
        };
        self.last_model = index;
        index
    }

    fn check_vector(&mut self, row: u64, r: &RecordRef<'_>, findings: &mut Findings) {
        let v = r.embeddings;
        let key = || Some(r.key().to_string());
        let m = self.model(r.model, v.len(), findings);
        let model = &self.models[m];
        if v.is_empty() {
            findings.add(Rule::EmptyVector, Some(row), key, || {
                "vector has no elements".into()
            });
            return;
        }
        if v.len() != model.dimensions {
            findings.add(Rule::MixedDimensions, Some(row), key, || {
                format!(
                    "vector has {} dimensions; the first vector of model {:?} has {}",
                    v.len(),
                    model.name,
                    model.dimensions
                )
            });
        }
        let squares = sum_of_squares(v);
        if !squares.is_finite() {
            if let Some((index, value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                findings.add(Rule::NonFinite, Some(row), key, || {
                    format!("element {index} is {value}")
                });
                return;
            }
            // Finite elements whose squares overflow: no norm to judge.
            return;
        }
        if squares == 0.0 && v.iter().all(|&x| x == 0.0) {
            findings.add(Rule::ZeroVector, Some(row), key, || {
                "every element is zero; cosine similarity is undefined".into()
            });
            return;
        }
        if model.unit_norm {
            let norm = squares.sqrt();
            if (norm - 1.0).abs() > self.rules.unit_norm_tolerance {
                findings.add(Rule::NotUnitNorm, Some(row), key, || {
                    format!(
                        "norm is {norm}; model {:?} emits unit-norm vectors (tolerance {})",
                        model.name, self.rules.unit_norm_tolerance
                    )
                });
            }
        }
    }
}

/// Sum of squares in 16 independent lanes, which the compiler vectorises.
fn sum_of_squares(v: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = v.chunks_exact(16);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x * x;
        }
    }
    lanes.iter().sum::<f32>() + rest.iter().map(|x| x * x).sum::<f32>()
}

/// A value replaced while reading, as a finding.
fn report_repair(repair: &Repair, batch: &Batch, findings: &mut Findings) {
    let rule = match repair.problem {
        RecordProblem::Null { .. }
        | RecordProblem::NullElement { .. }
        | RecordProblem::NullAttributeValue { .. } => Rule::NullValue,
        RecordProblem::InvalidUtf8 { .. } => Rule::InvalidUtf8,
        RecordProblem::InvalidJson { .. } => Rule::InvalidAttributesJson,
        RecordProblem::CreatedOutOfRange => Rule::CreatedNotPositive,
        _ => Rule::Unreadable,
    };
    let index = usize::try_from(repair.row - batch.first_row()).unwrap_or(0);
    let key = || {
        let r = batch.record(index);
        // A key built from replaced parts would mislead.
        (!r.provider.is_empty() && !r.depiction_id.is_empty() && !r.model.is_empty())
            .then(|| r.key().to_string())
    };
    findings.add(rule, Some(repair.row), key, || repair.problem.to_string());
}

#[cfg(test)]
mod tests {
    use super::sum_of_squares;

    #[test]
    fn sum_of_squares_matches_the_plain_sum() {
        let v: Vec<f32> = (0..1153).map(|i| (i as f32 * 0.37).sin()).collect();
        let plain: f32 = v.iter().map(|x| x * x).sum();
        assert!((sum_of_squares(&v) - plain).abs() < 1e-3);
        assert_eq!(sum_of_squares(&[]), 0.0);
        assert!(sum_of_squares(&[1.0, f32::NAN]).is_nan());
    }
}
