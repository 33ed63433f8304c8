//! `oembeddings inspect`: what a file is, from its footer alone.

use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings::ParquetSource;
use oembeddings::inspect::Inspection;
use oembeddings::layout::{AttributesLayout, VectorLayout};

use oembeddings_sign::compatible;

use crate::output::{self, CliResult, FormatArgs};

/// Show a file's layout, record count, row groups, column sizes and footer key/values.
///
/// Reads only the footer, so it is instant on files of any size. The layout is reported as
/// `go-embeddingsdb` (exactly the Go tool's Parquet schema), `fixed-size-list` (FixedSizeList
/// vectors with the ARROW:schema hint) or `compatible` (any other layout oembeddings reads).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Parquet file.
    file: PathBuf,
    #[command(flatten)]
    format: FormatArgs,
    /// Show footer values in full (text output cuts long values).
    #[arg(long)]
    full: bool,
}

/// A compatible-profile sidecar is also described: its rows' signature schemes and the keys
/// named in and next to it (described, not trusted).
pub fn run(args: &Args) -> CliResult {
    let signatures = match oembeddings_sign::profile_of(&args.file) {
        Ok("compatible") => Some(compatible::inspect_sidecar(&args.file)?),
        _ => None,
    };
    // A sidecar holds no records: it is described by its signatures alone.
    let source = match (ParquetSource::open(&args.file), &signatures) {
        (Ok(source), _) => source,
        (Err(_), Some(s)) => {
            if args.format.is_json() {
                output::json(s)?;
            } else {
                println!("file        {}", args.file.display());
                print_signatures(s);
            }
            return Ok(ExitCode::SUCCESS);
        }
        (Err(e), None) => return Err(e.into()),
    };
    let inspection = Inspection::of(&source);
    if args.format.is_json() {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            inspection: &'a Inspection,
            #[serde(skip_serializing_if = "Option::is_none")]
            signatures: Option<&'a compatible::SidecarInspection>,
        }
        output::json(&Out {
            inspection: &inspection,
            signatures: signatures.as_ref(),
        })?;
    } else {
        print_text(&inspection, args.full);
        if let Some(s) = &signatures {
            print_signatures(s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_signatures(s: &compatible::SidecarInspection) {
    let schemes: Vec<String> = s.schemes.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "signatures  go-embeddingsdb sidecar (compatible profile): {} rows; scheme: {}",
        s.rows,
        if schemes.is_empty() {
            "none".to_owned()
        } else {
            schemes.join(", ")
        }
    );
    match &s.embedded_key {
        Some(k) => println!("            embedded key (not trusted by itself): {k}"),
        None => println!("            no embedded key"),
    }
    if let (Some(file), Some(key)) = (&s.public_key_file, &s.public_key) {
        println!("            {}: {key}", file.display());
    }
}

fn print_text(i: &Inspection, full: bool) {
    let layout = &i.layout;
    let vectors = match layout.vectors {
        VectorLayout::List => "list".to_owned(),
        VectorLayout::LargeList => "large list".to_owned(),
        VectorLayout::FixedSizeList { dimensions } => format!("fixed-size list of {dimensions}"),
        _ => "other".to_owned(),
    };
    let attributes = match layout.attributes {
        AttributesLayout::Map => "map",
        AttributesLayout::KeyValueList => "list of {key, value}",
        AttributesLayout::JsonString => "JSON string",
        _ => "other",
    };
    println!("file        {}", i.path.display());
    println!(
        "size        {} (footer {})",
        output::bytes(i.file_bytes),
        output::bytes(u64::from(i.footer_bytes))
    );
    println!(
        "created by  {}",
        i.created_by.as_deref().unwrap_or("(not recorded)")
    );
    println!("records     {}", i.rows);
    println!("layout      {}", i.layout_kind);
    println!(
        "            vectors: {vectors} of {}; attributes: {attributes}; ARROW:schema hint: {}; column order: {}",
        format!("{:?}", layout.element).to_lowercase(),
        if layout.arrow_schema_hint {
            "yes"
        } else {
            "no"
        },
        if layout.conventional_order {
            "go-embeddingsdb"
        } else {
            "other"
        },
    );
    if !layout.extra_columns.is_empty() {
        println!(
            "            extra columns (ignored): {}",
            layout.extra_columns.join(", ")
        );
    }
    let rows: Vec<u64> = i.row_groups.iter().map(|r| r.rows).collect();
    match (rows.iter().min(), rows.iter().max()) {
        (Some(min), Some(max)) if min == max => {
            println!("row groups  {} of {min} rows", rows.len())
        }
        (Some(min), Some(max)) => println!("row groups  {} of {min} to {max} rows", rows.len()),
        _ => println!("row groups  0"),
    }
    println!("columns");
    let width = i.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &i.columns {
        println!(
            "  {:width$}  {:>10} stored  {:>10} raw  {}  {}  {}",
            c.name,
            output::bytes(c.compressed_bytes),
            output::bytes(c.uncompressed_bytes),
            c.compression.join(","),
            c.encodings.join(","),
            c.arrow_type,
        );
    }
    println!("footer key/values ({})", i.key_values.len());
    let width = i
        .key_values
        .iter()
        .map(|kv| kv.key.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for kv in &i.key_values {
        let value = kv.value.as_deref().unwrap_or("(no value)");
        let shown = if full || value.chars().count() <= 80 {
            value.to_owned()
        } else {
            let head: String = value.chars().take(60).collect();
            format!("{head}... ({} bytes; --full shows all)", value.len())
        };
        println!(
            "  {:width$}  {shown}{}",
            kv.key,
            if kv.escaped {
                "  (not UTF-8; bytes shown as \\xNN)"
            } else {
                ""
            }
        );
    }
    if !i.has_statistics {
        println!(
            "(no embeddingsdb statistics in the footer: `oembeddings stats --append {}` adds them)",
            i.path.display()
        );
    }
}
