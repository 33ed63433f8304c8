//! Whole-file operations: validate, statistics, names, convert.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oembeddings::{FileName, ParquetSource, Statistics};
use oembeddings_convert::chroma::{ChromaOptions, Mode as ChromaMode};
use oembeddings_convert::duckdb::DuckdbData;
use oembeddings_convert::hf::HfOptions;
use oembeddings_convert::met::MetOptions;
use oembeddings_convert::pgvector::{PgIndex, PgvectorOptions};
use oembeddings_convert::s3vectors::S3VectorsOptions;
use oembeddings_convert::skypilot::SkypilotOptions;
use oembeddings_convert::{ConvertOptions, Distance, Format};
use oembeddings_validate::DEFAULT_MAX_FINDINGS_PER_RULE;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::Error;
use crate::named;
use crate::results::{ConvertSummary, FileName as PyFileName, PlainData, ValidationReport};

/// Validates a file; returns its report.
#[pyfunction]
#[pyo3(signature = (
    path, *, metadata_only = false, max_findings_per_rule = Some(DEFAULT_MAX_FINDINGS_PER_RULE),
    target = "any", storage_options = None
))]
fn validate(
    py: Python<'_>,
    path: PathBuf,
    metadata_only: bool,
    max_findings_per_rule: Option<usize>,
    target: &str,
    storage_options: Option<BTreeMap<String, String>>,
) -> Result<ValidationReport, Error> {
    let _run = crate::remote::run(py, storage_options, &[&path]);
    let options = oembeddings_validate::Options::default()
        .with_metadata_only(metadata_only)
        .with_target(named::<oembeddings_validate::Target>("target", target)?)
        .with_max_findings_per_rule(max_findings_per_rule);
    let report = py.detach(|| oembeddings_validate::validate(&path, &options))?;
    ValidationReport::from_report(py, report)
}

/// The statistics of a file as its footer keys would hold them.
#[pyfunction]
#[pyo3(signature = (path, *, storage_options = None))]
fn stats(
    py: Python<'_>,
    path: PathBuf,
    storage_options: Option<BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, Error> {
    let _run = crate::remote::run(py, storage_options, &[&path]);
    let statistics = py.detach(|| ParquetSource::open(&path).and_then(Statistics::gather))?;
    Ok(statistics.key_value_map())
}

/// Writes the statistics into the file's footer (or a copy at `output`); returns a summary.
#[pyfunction]
#[pyo3(signature = (path, *, output = None))]
fn append_stats(
    py: Python<'_>,
    path: PathBuf,
    output: Option<PathBuf>,
) -> Result<PlainData, Error> {
    let summary = py.detach(|| oembeddings::append::append_statistics(&path, output.as_deref()))?;
    PlainData::of(&summary)
}

/// Parses a conventional file name; returns its parts.
#[pyfunction]
fn parse_name(name: &str) -> Result<PyFileName, Error> {
    let base = std::path::Path::new(name)
        .file_name()
        .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned());
    match FileName::parse(&base) {
        Ok(parsed) => Ok(parsed.into()),
        Err(source) => Err(Error::Name { name: base, source }),
    }
}

/// Converts files (or a store's records); returns the summary.
#[pyfunction]
#[pyo3(signature = (
    inputs, output, *, to = None, from_ = None, skip_invalid = false, force = false,
    statistics = true, met = None, records = None, distance = "cosine", s3_bucket = None,
    s3_index = None, s3_non_filterable = None, duckdb_data = "parquet", collection = None,
    tenant = "default_tenant", database = "default_database", chroma_token_file = None,
    mode = "add", table = None, pg_index = "none", license = "other", title = None,
    storage_options = None
))]
#[allow(clippy::too_many_arguments)]
fn convert(
    py: Python<'_>,
    inputs: Vec<PathBuf>,
    output: PathBuf,
    to: Option<&str>,
    from_: Option<&str>,
    skip_invalid: bool,
    force: bool,
    statistics: bool,
    met: Option<MetArgs>,
    records: Option<RecordArgs>,
    distance: &str,
    s3_bucket: Option<String>,
    s3_index: Option<String>,
    s3_non_filterable: Option<Vec<String>>,
    duckdb_data: &str,
    collection: Option<String>,
    tenant: &str,
    database: &str,
    chroma_token_file: Option<PathBuf>,
    mode: &str,
    table: Option<String>,
    pg_index: &str,
    license: &str,
    title: Option<String>,
    storage_options: Option<std::collections::BTreeMap<String, String>>,
) -> Result<ConvertSummary, Error> {
    let locations: Vec<&std::path::Path> = inputs
        .iter()
        .map(PathBuf::as_path)
        .chain([output.as_path()])
        .collect();
    let _run = crate::remote::run(py, storage_options, &locations);
    let to = match to {
        Some(to) => named::<Format>("to", to)?,
        None => Format::for_output(&output),
    };
    let from = from_.map(|f| named::<Format>("from_", f)).transpose()?;
    let mut options = ConvertOptions::new(to)
        .with_skip_invalid(skip_invalid)
        .with_force(force)
        .with_statistics(statistics)
        .with_distance(named::<Distance>("distance", distance)?);
    if let Some(from) = from {
        options = options.with_from(from);
    }
    let mut met = met.map(|m| m.0).unwrap_or_default();
    let mut skypilot = SkypilotOptions::default();
    if let Some(RecordArgs(r)) = records {
        if let Some(provider) = &r.provider {
            met.provider = provider.clone();
        }
        met.provider_name = r.provider_name.clone().or(met.provider_name);
        met.provider_url = r.provider_url.clone().or(met.provider_url);
        met.templates.extend(r.templates.iter().cloned());
        met.created = r.created.or(met.created);
        skypilot = r;
    }
    options = options.with_met(met).with_skypilot(skypilot);
    let mut s3 = S3VectorsOptions::default();
    s3.bucket = s3_bucket;
    s3.index = s3_index;
    if let Some(keys) = s3_non_filterable {
        s3 = s3.with_non_filterable(keys);
    }
    let mut chroma = ChromaOptions::default();
    chroma.collection = collection;
    chroma.tenant = tenant.to_owned();
    chroma.database = database.to_owned();
    chroma.mode = named::<ChromaMode>("mode", mode)?;
    if to == Format::Chroma || from == Some(Format::Chroma) {
        chroma.token = oembeddings_convert::chroma::token(chroma_token_file.as_deref())?;
    }
    let mut pgvector = PgvectorOptions::default();
    pgvector.table = table;
    pgvector.index = named::<PgIndex>("pg_index", pg_index)?;
    let mut hf = HfOptions::default();
    hf.license = license.to_owned();
    hf.title = title;
    options = options
        .with_s3vectors(s3)
        .with_chroma(chroma)
        .with_pgvector(pgvector)
        .with_hf(hf)
        .with_duckdb_data(named::<DuckdbData>("duckdb_data", duckdb_data)?);
    let summary = py.detach(|| {
        oembeddings_convert::convert_inputs(&inputs, &output, &options, &mut |_, _| {})
    })?;
    ConvertSummary::from_summary(py, summary)
}

/// The keys of `convert`'s `met` dict: the fields of [`MetOptions`] (the command line's
/// `--provider`, ..., `--met-metadata`, `--met-key` and `--met-column`).
pub(crate) const MET_OPTIONS: [&str; 8] = [
    met::PROVIDER,
    met::PROVIDER_NAME,
    met::PROVIDER_URL,
    met::TEMPLATES,
    met::CREATED,
    met::METADATA,
    met::METADATA_KEY,
    met::COLUMNS,
];

/// The names of [`MET_OPTIONS`], for matching.
mod met {
    pub(super) const PROVIDER: &str = "provider";
    pub(super) const PROVIDER_NAME: &str = "provider_name";
    pub(super) const PROVIDER_URL: &str = "provider_url";
    pub(super) const TEMPLATES: &str = "templates";
    pub(super) const CREATED: &str = "created";
    pub(super) const METADATA: &str = "metadata";
    pub(super) const METADATA_KEY: &str = "metadata_key";
    pub(super) const COLUMNS: &str = "columns";
}

/// How records are made from layouts that are not records (the Met's, SkyPilot's), from a
/// Python dict: provider, model, provider_name, provider_url, templates, created.
struct RecordArgs(SkypilotOptions);

impl<'a, 'py> FromPyObject<'a, 'py> for RecordArgs {
    type Error = PyErr;

    fn extract(ob: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let mut options = SkypilotOptions::default();
        for (key, value) in ob.cast::<PyDict>()?.iter() {
            let key: String = key.extract()?;
            if value.is_none() {
                continue;
            }
            match key.as_str() {
                "provider" => options.provider = Some(value.extract()?),
                "model" => options.model = Some(value.extract()?),
                "provider_name" => options.provider_name = Some(value.extract()?),
                "provider_url" => options.provider_url = Some(value.extract()?),
                "templates" => options.templates = value.extract()?,
                "created" => options.created = Some(value.extract()?),
                other => {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "record option {other:?} is not one of provider, model, provider_name, \
                         provider_url, templates, created"
                    )));
                }
            }
        }
        Ok(RecordArgs(options))
    }
}

/// Met options from a Python dict.
struct MetArgs(MetOptions);

impl<'a, 'py> FromPyObject<'a, 'py> for MetArgs {
    type Error = PyErr;

    fn extract(ob: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let mut options = MetOptions::default();
        // Every key is known: a misspelt option must not be dropped without a word.
        for (key, value) in ob.cast::<PyDict>()?.iter() {
            let key: String = key.extract()?;
            if value.is_none() {
                continue;
            }
            match key.as_str() {
                met::PROVIDER => options.provider = value.extract()?,
                met::PROVIDER_NAME => options.provider_name = Some(value.extract()?),
                met::PROVIDER_URL => options.provider_url = Some(value.extract()?),
                met::TEMPLATES => options.templates = value.extract()?,
                met::CREATED => options.created = Some(value.extract()?),
                met::METADATA => options.metadata = Some(value.extract()?),
                met::METADATA_KEY => options.metadata_key = value.extract()?,
                met::COLUMNS => options.columns = value.extract()?,
                other => {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "met option {other:?} is not one of {}",
                        MET_OPTIONS.join(", ")
                    )));
                }
            }
        }
        Ok(MetArgs(options))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(append_stats, m)?)?;
    m.add_function(wrap_pyfunction!(parse_name, m)?)?;
    m.add_function(wrap_pyfunction!(convert, m)?)?;
    Ok(())
}
