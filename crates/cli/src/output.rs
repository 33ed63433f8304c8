//! Printing: one-line errors and warnings on stderr, JSON and aligned text on stdout.

use std::fmt::Display;
use std::io::{self, Write};

use oembeddings::error::one_line;
use serde::Serialize;

/// An error ready for the user: one line, naming the file, the record and the rule.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Result of a command: the exit code, or an error (exit code 1).
pub type CliResult = Result<std::process::ExitCode, CliError>;

/// Prints `error: ...` on stderr, on one line.
pub fn error(error: &CliError) {
    eprintln!("error: {}", one_line(&error.to_string()));
}

/// Prints `warning: ...` on stderr, on one line.
pub fn warning(message: impl Display) {
    eprintln!("warning: {}", one_line(&message.to_string()));
}

/// Warns when float64 vectors lost precision on their way to float32.
pub fn warn_narrowing(path: &std::path::Path, narrowing: oembeddings::read::Narrowing) {
    if narrowing.values > 0 {
        warning(format!("{}: {narrowing}", path.display()));
    }
}

/// Prints a note on stderr.
pub fn note(message: impl Display) {
    eprintln!("{message}");
}

/// How a command prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Text,
    /// One JSON object, for machines.
    Json,
}

/// `--format text|json`, and `--json` for `--format json`: every command that prints a report
/// takes these two.
#[derive(Debug, Clone, clap::Args)]
pub struct FormatArgs {
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Short for --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

impl FormatArgs {
    /// The format asked for.
    pub fn get(&self) -> ReportFormat {
        if self.json {
            ReportFormat::Json
        } else {
            self.format
        }
    }

    /// Whether the report is JSON.
    pub fn is_json(&self) -> bool {
        self.get() == ReportFormat::Json
    }
}

/// Writes `value` as pretty JSON and a newline to stdout.
pub fn json(value: &impl Serialize) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `1 file`, `2 files`: a count and its noun, singular or plural.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1234567` -> `1.2 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Whether an error is a closed stdout (`| head`), which ends output quietly.
pub fn is_broken_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// The exit status of a command whose reader went away (`| head`): what a shell reports for
/// a process ended by SIGPIPE (128 + 13), as `cat` or `grep` would end. Rust ignores SIGPIPE,
/// so that the Python module can run the CLI in its own process; writes then fail with
/// `BrokenPipe` instead, and end the command quietly with this status.
pub const CLOSED_PIPE_EXIT: u8 = 141;

/// Whether a command's error is a write to a closed stdout, however it was wrapped.
pub fn is_closed_pipe(error: &CliError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(e) = cause {
        if e.downcast_ref::<io::Error>().is_some_and(is_broken_pipe)
            || e.downcast_ref::<serde_json::Error>()
                .is_some_and(|json| json.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// `println!` that returns the write's error instead of panicking on a closed stdout.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `print!` that returns the write's error instead of panicking on a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

pub(crate) use {out, outln};

/// Whether progress bars may be drawn (`--no-progress` turns them off).
static PROGRESS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns progress bars off for the rest of the run.
pub fn disable_progress() {
    PROGRESS.store(false, std::sync::atomic::Ordering::Relaxed);
}

/// A progress bar on stderr, drawn only when stderr is a terminal (and not `--no-progress`).
pub fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    if !PROGRESS.load(std::sync::atomic::Ordering::Relaxed) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {msg} {wide_bar} {human_pos}/{human_len} records ({per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// Shows `what`, and for remote files the bytes received so far, as `bar`'s message.
pub fn progress_message(bar: &indicatif::ProgressBar, what: &str) {
    match oembeddings::blob::run_io() {
        Some(io) => bar.set_message(format!(
            "{what} ({} received)",
            indicatif::HumanBytes(io.bytes)
        )),
        None => bar.set_message(what.to_owned()),
    }
}

/// Bytes received before [`transfer_progress`] draws: a footer check stays silent.
const TRANSFER_SHOWN: u64 = 8 << 20;

/// How often [`transfer_progress`] looks at the bytes received.
const TRANSFER_TICK: std::time::Duration = std::time::Duration::from_millis(150);

/// A spinner of the bytes the run's remote objects receive, for commands with no count of
/// their own to show (a verification reads a whole file before it counts records), drawn
/// once a transfer exceeds [`TRANSFER_SHOWN`], only when stderr is a terminal; it is cleared
/// when dropped.
#[must_use = "the spinner stops when this is dropped"]
pub struct TransferProgress {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts a [`TransferProgress`] whose message is `what`.
pub fn transfer_progress(what: String) -> TransferProgress {
    use std::io::IsTerminal as _;
    use std::sync::atomic::Ordering;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drawn = PROGRESS.load(Ordering::Relaxed) && io::stderr().is_terminal();
    let thread = drawn.then(|| {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !stop.load(Ordering::Relaxed) {
                std::thread::park_timeout(TRANSFER_TICK);
                let Some(io) = oembeddings::blob::run_io().filter(|io| io.bytes >= TRANSFER_SHOWN)
                else {
                    continue;
                };
                let bar = bar.get_or_insert_with(|| {
                    let bar = indicatif::ProgressBar::with_draw_target(
                        None,
                        indicatif::ProgressDrawTarget::stderr(),
                    );
                    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                        bar.set_style(style);
                    }
                    bar
                });
                let rate = io.bytes as f64 / started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!(
                    "{what}: {} received ({}/s)",
                    indicatif::BinaryBytes(io.bytes),
                    indicatif::BinaryBytes(rate as u64)
                ));
                bar.tick();
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
        })
    });
    TransferProgress { stop, thread }
}

impl Drop for TransferProgress {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// A spinner on stderr for work of unknown size, drawn only when stderr is a terminal.
pub fn spinner(what: &str) -> indicatif::ProgressBar {
    if !PROGRESS.load(std::sync::atomic::Ordering::Relaxed) {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {msg} {human_pos} records ({per_sec})")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}
