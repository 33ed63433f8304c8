//! The `oembeddings` command line: inspect, check, convert and sign shared vector embeddings
//! of museum collections. A thin layer: it parses arguments, calls the library crates and
//! prints. A library too, so that the Python package installs the same command.

mod commands;
mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Provenance and interchange for shared vector embeddings of museum collections.
///
/// Reads the Parquet files SFO Museum's go-embeddingsdb writes (and the layouts pyarrow,
/// DuckDB, polars, Daft and LanceDB write), validates them against the specification, checks
/// their names, gathers and appends their statistics, prints and converts their records, and
/// signs and verifies files, records and releases (OpenPGP and minisign Ed25519 keys).
///
/// Every command that reads a file also reads it where it is: https://HOST/PATH,
/// s3://BUCKET/KEY (AWS_* variables and ~/.aws; AWS_ENDPOINT_URL for S3-compatible stores),
/// gs://BUCKET/PATH (GOOGLE_* variables), az://CONTAINER/PATH (AZURE_STORAGE_* variables) and
/// hf://datasets/ORG/NAME[@REVISION]/PATH (HF_ENDPOINT, HF_TOKEN), reading only the bytes it
/// needs.
#[derive(Debug, Parser)]
#[command(name = "oembeddings", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Seconds one request to a remote location (https://, s3://, gs://, az://, hf://) may take
    /// before it is retried.
    #[arg(long, global = true, value_name = "SECONDS",
          default_value_t = oembeddings::blob::DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,

    /// Retries of a request to a remote location that failed in a way worth retrying (a
    /// timeout, a dropped connection, HTTP 5xx or 429), with exponential backoff.
    #[arg(long, global = true, value_name = "N", default_value_t = oembeddings::blob::DEFAULT_RETRIES)]
    retries: usize,

    /// Draw no progress bars (they are drawn only on a terminal anyway).
    #[arg(long, global = true)]
    no_progress: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    Inspect(commands::inspect::Args),
    Stats(commands::stats::Args),
    Validate(commands::validate::Args),
    Name(commands::name::Args),
    Emit(commands::emit::Args),
    Convert(Box<commands::convert::Args>),
    Keygen(commands::keys::KeygenArgs),
    #[command(subcommand)]
    Key(commands::keys::KeyCommand),
    Sign(commands::sign::SignArgs),
    Verify(commands::sign::VerifyArgs),
    #[command(subcommand)]
    Release(commands::sign::ReleaseCommand),
    Schema(commands::schema::Args),
}

/// Runs the command line `args` (the program name first) and returns the exit code: 0 on
/// success, 1 on failure, 2 on a usage error (after printing it).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let code = execute(cli);
    if code == ExitCode::SUCCESS {
        0
    } else if code == ExitCode::from(2) {
        2
    } else if code == ExitCode::from(output::CLOSED_PIPE_EXIT) {
        output::CLOSED_PIPE_EXIT
    } else {
        1
    }
}

fn execute(cli: Cli) -> ExitCode {
    // One version of each remote object for the whole command (see `blob::Run`).
    let _run = oembeddings::blob::run();
    if cli.no_progress {
        output::disable_progress();
    }
    oembeddings::blob::set_remote_options(
        oembeddings::blob::RemoteOptions::default()
            .with_timeout(std::time::Duration::from_secs(cli.timeout))
            .with_retries(cli.retries),
    );
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Stats(args) => commands::stats::run(&args),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Name(args) => commands::name::run(&args),
        Command::Emit(args) => commands::emit::run(&args),
        Command::Convert(args) => commands::convert::run(&args),
        Command::Keygen(args) => commands::keys::keygen(&args),
        Command::Key(command) => commands::keys::key(&command),
        Command::Sign(args) => commands::sign::sign(&args),
        Command::Verify(args) => commands::sign::verify(&args),
        Command::Release(command) => commands::sign::release(&command),
        Command::Schema(args) => commands::schema::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) if output::is_closed_pipe(&error) => ExitCode::from(output::CLOSED_PIPE_EXIT),
        Err(error) => {
            output::error(&error);
            ExitCode::from(1)
        }
    }
}
