//! `oembeddings convert`: records from one format into another, streaming and atomically.

use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::VectorOutput;
use oembeddings_convert::chroma::{self, ChromaOptions, Mode as ChromaMode};
use oembeddings_convert::duckdb::DuckdbData;
use oembeddings_convert::hf::HfOptions;
use oembeddings_convert::met::MetOptions;
use oembeddings_convert::pgvector::{PgIndex, PgvectorOptions};
use oembeddings_convert::s3vectors::{DEFAULT_NON_FILTERABLE, S3VectorsOptions};
use oembeddings_convert::skypilot::SkypilotOptions;
use oembeddings_convert::{ConvertOptions, ConvertSummary, Distance, Format, convert_inputs};

use crate::output::{self, CliResult, FormatArgs};

/// Convert records between the formats publishers and vector stores use.
///
/// Streams INPUT (format detected unless --from is given) into OUTPUT, which appears only
/// when the whole conversion succeeded. Several inputs are read one after another into one
/// output; a directory stands for the data files in it and a quoted glob pattern for the
/// files it matches (SkyPilot's parts in the order of their {start} number). Every value and attribute is carried; a record the
/// target cannot carry (a duplicate key, a vector of another dimension than the table's,
/// NaN for a JSON format, a store's size limits) stops the conversion with an error naming
/// the row and key, or with --skip-invalid is skipped and listed.
///
/// Examples:
///
///   oembeddings convert sfom.parquet sfom.jsonl
///
///   oembeddings convert sfom.jsonl sfom.parquet
///
///   oembeddings convert sfom.parquet sfom-duckdb --to duckdb
///   duckdb -c "IMPORT DATABASE 'sfom-duckdb'; SELECT count(*) FROM embeddings"
///
///   oembeddings convert sfom.parquet sfom.db --to sqlite
///
///   oembeddings convert sfom.parquet s3 --to s3vectors --s3-bucket museum --s3-index sfom
///
///   oembeddings convert sfom.parquet http://localhost:8000 --to chroma --collection sfom
///
///   oembeddings convert sfom.parquet sfom-dataset --to hf --license cc0-1.0
///
///   oembeddings convert sfom.parquet postgresql://me@localhost/museum --to pgvector \
///     --table sfom --pg-index hnsw
///
///   oembeddings convert met-clip.parquet met.parquet --from met \
///     --provider-name "The Metropolitan Museum of Art" \
///     --subject-url-template 'https://www.metmuseum.org/art/collection/search/{objectID}'
///
///   oembeddings convert 'parts/embeddings_*' clip.parquet --from skypilot \
///     --provider imagenet --model vit-bigg-14 --preview-url-template 'https://img.example/{path}'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The files to read (or directories, or quoted glob patterns).
    #[arg(required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// The file (or, for duckdb and s3vectors, the directory; for a store, its URL) to write.
    output: PathBuf,
    /// Output format (default: jsonl when OUTPUT ends in .jsonl or .ndjson, else parquet).
    #[arg(long, value_enum)]
    to: Option<Format>,
    /// Input format (detected from the contents when not given).
    #[arg(long, value_enum)]
    from: Option<Format>,
    /// Vector layout of Parquet output (fixed is the same as --to parquet-fixed).
    #[arg(long, value_enum)]
    vector_layout: Option<VectorOutput>,
    /// Do not write statistics into Parquet output's footer.
    #[arg(long)]
    no_statistics: bool,
    /// Skip records the target cannot carry, listing each, instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Replace an existing, non-empty output directory (duckdb, s3vectors, hf) or an
    /// existing pgvector table.
    #[arg(long)]
    force: bool,
    // The summary: text on stderr (skipped records listed), or JSON on stdout.
    #[command(flatten)]
    format: FormatArgs,
    /// DuckDB output: the rows as Parquet, or as CSV (embeddings.csv), which
    /// go-embeddingsdb's server looks for when it imports a directory.
    #[arg(long, value_enum, default_value_t = DuckdbData::Parquet)]
    duckdb_data: DuckdbData,

    /// Met and SkyPilot input: the records' provider (required for SkyPilot; default for
    /// the Met: metmuseum).
    #[arg(long, value_name = "PROVIDER", help_heading = HEADING_RECORDS)]
    provider: Option<String>,
    /// SkyPilot input: the records' model (required; the Met's rows name their own).
    #[arg(long, value_name = "MODEL", help_heading = HEADING_RECORDS)]
    model: Option<String>,
    /// Met and SkyPilot input: the provider_name attribute.
    #[arg(long, value_name = "NAME", help_heading = HEADING_RECORDS)]
    provider_name: Option<String>,
    /// Met and SkyPilot input: the provider_url attribute.
    #[arg(long, value_name = "URL", help_heading = HEADING_RECORDS)]
    provider_url: Option<String>,
    /// Met and SkyPilot input: subject_url from a template; {objectID} and {COLUMN} of the
    /// metadata (Met), {idx} and {path} (SkyPilot) are replaced.
    #[arg(long, value_name = "TEMPLATE", help_heading = HEADING_RECORDS)]
    subject_url_template: Option<String>,
    /// Met and SkyPilot input: preview (the image URL) from a template, like
    /// --subject-url-template.
    #[arg(long, value_name = "TEMPLATE", help_heading = HEADING_RECORDS)]
    preview_url_template: Option<String>,
    /// Met and SkyPilot input: any attribute from a template, as ATTRIBUTE=TEMPLATE
    /// (repeatable).
    #[arg(long, value_name = "ATTRIBUTE=TEMPLATE", help_heading = HEADING_RECORDS)]
    template: Vec<String>,
    /// Met and SkyPilot input: the records' created time, Unix seconds (default: each
    /// input's modification time).
    #[arg(long, value_name = "SECONDS", help_heading = HEADING_RECORDS)]
    created: Option<i64>,
    /// Met input: a CSV or Parquet file of object metadata to join (e.g. MetObjects.csv).
    #[arg(long, value_name = "FILE", help_heading = "Met input")]
    met_metadata: Option<PathBuf>,
    /// Met input: the metadata column holding the object id.
    #[arg(
        long,
        value_name = "COLUMN",
        default_value = "objectID",
        help_heading = "Met input"
    )]
    met_key: String,
    /// Met input: an attribute copied from a metadata column, as ATTRIBUTE=COLUMN
    /// (repeatable), e.g. subject_title=Title.
    #[arg(long, value_name = "ATTRIBUTE=COLUMN", help_heading = "Met input")]
    met_column: Vec<String>,

    /// S3 Vectors output: the vector bucket.
    #[arg(long, value_name = "NAME", help_heading = "S3 Vectors output")]
    s3_bucket: Option<String>,
    /// S3 Vectors output: the index.
    #[arg(long, value_name = "NAME", help_heading = "S3 Vectors output")]
    s3_index: Option<String>,
    /// Store output: the distance the index ranks by (S3 Vectors: cosine or l2).
    #[arg(long, alias = "s3-distance", value_enum, default_value_t = Distance::Cosine)]
    distance: Distance,

    /// Chroma: the collection to write or read (OUTPUT or INPUT is the server,
    /// http://HOST:PORT).
    #[arg(long, value_name = "NAME", help_heading = "Chroma")]
    collection: Option<String>,
    /// Chroma: the tenant.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "default_tenant",
        help_heading = "Chroma"
    )]
    tenant: String,
    /// Chroma: the database.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "default_database",
        help_heading = "Chroma"
    )]
    database: String,
    /// Chroma: a file whose first line is the token to send (x-chroma-token); without it,
    /// the CHROMA_API_KEY environment variable. Never given on the command line.
    #[arg(long, value_name = "FILE", help_heading = "Chroma")]
    chroma_token_file: Option<PathBuf>,
    /// Chroma output: add (ids the collection holds are left as they are) or upsert.
    #[arg(long, value_enum, default_value_t = ChromaMode::Add, help_heading = "Chroma")]
    mode: ChromaMode,

    /// Hugging Face output: the dataset card's license (a Hub license id).
    #[arg(
        long,
        value_name = "ID",
        default_value = "other",
        help_heading = "Hugging Face"
    )]
    license: String,
    /// Hugging Face output: the dataset card's title (default: the directory's name).
    #[arg(long, value_name = "TITLE", help_heading = "Hugging Face")]
    title: Option<String>,

    /// pgvector: the table to write or read, NAME or SCHEMA.NAME (OUTPUT or INPUT is the
    /// database, postgresql://USER@HOST/DB, its password from PGPASSWORD rather than the URL;
    /// --force replaces an existing table).
    #[arg(long, value_name = "NAME", help_heading = "pgvector")]
    table: Option<String>,
    /// pgvector output: the index to build after the load, with the --distance operator
    /// class (with an index, 2,001 to 4,000 dimensions are stored as float16 halfvec).
    #[arg(long, value_enum, default_value_t = PgIndex::None, help_heading = "pgvector")]
    pg_index: PgIndex,
    /// S3 Vectors output: metadata keys stored but not filterable, comma-separated (at most
    /// 10; default: subject_title, subject_creditline, subject_url, depiction_url, preview,
    /// provider_url).
    #[arg(
        long,
        value_name = "KEYS",
        value_delimiter = ',',
        help_heading = "S3 Vectors output"
    )]
    s3_non_filterable: Option<Vec<String>>,
}

const HEADING_RECORDS: &str = "Records from other layouts (Met, SkyPilot)";

fn pairs(flag: &str, values: &[String]) -> Result<Vec<(String, String)>, String> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, t)) if !k.is_empty() => Ok((k.to_owned(), t.to_owned())),
            _ => Err(format!("--{flag} {v:?}: expected ATTRIBUTE=VALUE")),
        })
        .collect()
}

pub fn run(args: &Args) -> CliResult {
    let named = args.to.unwrap_or_else(|| Format::for_output(&args.output));
    let to = match (args.vector_layout, named) {
        (Some(VectorOutput::FixedSizeList), Format::Parquet) => Format::ParquetFixed,
        (Some(VectorOutput::Go), Format::ParquetFixed) => Format::Parquet,
        (Some(_), Format::Parquet | Format::ParquetFixed) | (None, _) => named,
        (Some(_), other) => {
            return Err(
                format!("--vector-layout applies to Parquet output, not --to {other}").into(),
            );
        }
    };
    let mut templates = pairs("template", &args.template)?;
    if let Some(t) = &args.subject_url_template {
        templates.push(("subject_url".to_owned(), t.clone()));
    }
    if let Some(t) = &args.preview_url_template {
        templates.push(("preview".to_owned(), t.clone()));
    }
    let mut met = MetOptions::default();
    if let Some(provider) = &args.provider {
        met.provider = provider.clone();
    }
    met.provider_name = args.provider_name.clone();
    met.provider_url = args.provider_url.clone();
    met.templates = templates.clone();
    met.created = args.created;
    met.metadata = args.met_metadata.clone();
    met.metadata_key = args.met_key.clone();
    met.columns = pairs("met-column", &args.met_column)?;
    let mut skypilot = SkypilotOptions::default();
    skypilot.provider = args.provider.clone();
    skypilot.model = args.model.clone();
    skypilot.provider_name = args.provider_name.clone();
    skypilot.provider_url = args.provider_url.clone();
    skypilot.templates = templates;
    skypilot.created = args.created;
    let mut s3 = S3VectorsOptions::default();
    s3.bucket = args.s3_bucket.clone();
    s3.index = args.s3_index.clone();
    s3 = s3.with_non_filterable(match &args.s3_non_filterable {
        Some(keys) => keys
            .iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect(),
        None => DEFAULT_NON_FILTERABLE.map(String::from).to_vec(),
    });
    let mut chroma = ChromaOptions::default();
    chroma.collection = args.collection.clone();
    chroma.tenant = args.tenant.clone();
    chroma.database = args.database.clone();
    chroma.mode = args.mode;
    if to == Format::Chroma || args.from == Some(Format::Chroma) {
        chroma.token = chroma::token(args.chroma_token_file.as_deref())?;
    }
    let mut hf = HfOptions::default();
    hf.license = args.license.clone();
    hf.title = args.title.clone();
    let mut pgvector = PgvectorOptions::default();
    pgvector.table = args.table.clone();
    pgvector.index = args.pg_index;
    let mut options = ConvertOptions::new(to)
        .with_skip_invalid(args.skip_invalid)
        .with_force(args.force)
        .with_statistics(!args.no_statistics)
        .with_met(met)
        .with_skypilot(skypilot)
        .with_distance(args.distance)
        .with_chroma(chroma)
        .with_pgvector(pgvector)
        .with_hf(hf)
        .with_s3vectors(s3)
        .with_duckdb_data(args.duckdb_data);
    if let Some(from) = args.from {
        options = options.with_from(from);
    }
    let mut bar: Option<indicatif::ProgressBar> = None;
    let result = convert_inputs(&args.input, &args.output, &options, &mut |done, total| {
        let bar = bar.get_or_insert_with(|| match total {
            Some(total) => output::progress(total, "converting"),
            None => output::spinner("converting"),
        });
        bar.set_position(done);
        output::progress_message(bar, "converting");
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = result.map_err(|e| -> output::CliError {
        match e {
            oembeddings_convert::ConvertError::Record { .. } => {
                format!("{e} (--skip-invalid skips such records)").into()
            }
            other => other.into(),
        }
    })?;
    report(&summary, &args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn report(summary: &ConvertSummary, format: &FormatArgs) -> Result<(), output::CliError> {
    if format.is_json() {
        return output::json(summary);
    }
    for skip in &summary.skips {
        output::warning(format!(
            "{}: row {} (key {}): skipped: {}: {}",
            skip.input.display(),
            skip.row,
            skip.key,
            skip.rule,
            skip.message
        ));
    }
    if summary.skipped > summary.skips.len() as u64 {
        output::warning(format!(
            "{} more skipped records not listed",
            summary.skipped - summary.skips.len() as u64
        ));
    }
    for (attribute, stored) in &summary.renamed {
        output::warning(format!(
            "{}: attribute {attribute:?} is stored as {stored:?} (the store cannot take the key \
             as it is; reading back restores it)",
            summary.output.display()
        ));
    }
    output::warn_narrowing(
        &summary.input,
        oembeddings::read::Narrowing {
            values: summary.narrowed_values,
            first_row: summary.narrowed_first_row,
        },
    );
    let skipped = if summary.skipped == 0 {
        String::new()
    } else {
        let rules: Vec<String> = summary
            .skipped_by_rule
            .iter()
            .map(|(rule, n)| format!("{rule}: {n}"))
            .collect();
        format!(", skipped {} ({})", summary.skipped, rules.join(", "))
    };
    let unchanged = if summary.unchanged == 0 {
        String::new()
    } else {
        format!(
            ", {} already there and left unchanged (--mode upsert replaces them)",
            summary.unchanged
        )
    };
    output::note(format!(
        "{}: wrote {} of {} records ({} -> {}){skipped}{unchanged}",
        summary.output.display(),
        summary.written,
        summary.read,
        summary.from,
        summary.to,
    ));
    Ok(())
}
