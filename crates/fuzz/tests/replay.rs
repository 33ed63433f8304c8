//! Replays every committed fuzz input (the minimized corpora in `fuzz/corpus/` and the
//! regressions in `fuzz/regressions/`) through its harness, without libFuzzer: a finding
//! fixed once stays fixed, and the suite needs no instrumented build.

use std::path::Path;

use oembeddings_fuzz::{TARGETS, contained_panics, contained_sites, harness};

fn inputs(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

#[test]
fn every_committed_input_runs_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for (name, _) in TARGETS {
        let run = harness(name).unwrap();
        for kind in ["corpus", "regressions"] {
            for input in inputs(&root.join(kind).join(name)) {
                let bytes = std::fs::read(&input).unwrap();
                // A panic that is not contained fails this test, naming the input.
                let outcome = std::panic::catch_unwind(|| run(&bytes));
                assert!(outcome.is_ok(), "{name}: {} panicked", input.display());
                replayed += 1;
            }
        }
    }
    assert!(
        replayed > 0,
        "no committed fuzz inputs found under {}",
        root.display()
    );
    eprintln!(
        "{replayed} inputs replayed, {} decoder panics contained, at: {}",
        contained_panics(),
        contained_sites().join("; ")
    );
}

#[test]
fn every_target_has_a_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, _) in TARGETS {
        assert!(
            !inputs(&root.join(name)).is_empty(),
            "fuzz/corpus/{name} holds no seeds"
        );
    }
}
