//! `oembeddings`: inspect, check, convert and sign shared vector embeddings of museum
//! collections (see the library of this crate for the commands).

use std::process::ExitCode;

/// Batches of vectors are allocated on one thread and freed on another, megabytes at a time;
/// mimalloc reuses those pages where the system allocator returns them to the kernel and
/// faults them in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. Where the kernel splits huge pages it
/// finds mostly unused (Linux 6.x's THP shrinker), the batch buffers that mimalloc reuses are
/// taken back and faulted in again, each fault zeroing 2 MiB: measured, that was a twentieth
/// of the CPU time of `sign --records` on a 1 GB file, and it is gone with 4 KiB pages.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // Only a performance setting: a kernel without the prctl leaves things as they were.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    ExitCode::from(oembeddings_cli::run(std::env::args_os()))
}
