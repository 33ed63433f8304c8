//! `oembeddings schema`: the JSON Schemas of the project's documents.

use std::process::ExitCode;

use oembeddings::schema::Document;

use crate::output::{self, CliResult};

/// Print the JSON Schema (draft 2020-12) of a document.
///
/// `record` is one line of `oembeddings emit`, `attributes` the OEmbeddings attribute set,
/// `statistics` the object printed by `oembeddings stats --json`. The same schemas are in
/// spec/schemas/.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema.
    #[arg(value_enum)]
    document: Document,
}

pub fn run(args: &Args) -> CliResult {
    output::out!("{}", args.document.schema_text())?;
    Ok(ExitCode::SUCCESS)
}
