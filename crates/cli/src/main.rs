//! `oembeddings`: inspect, check, convert and sign shared vector embeddings of museum
//! collections (see the library of this crate for the commands).

use std::process::ExitCode;

/// Batches of vectors are allocated on one thread and freed on another, megabytes at a time;
/// mimalloc reuses those pages where the system allocator returns them to the kernel and
/// faults them in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(oembeddings_cli::run(std::env::args_os()))
}
