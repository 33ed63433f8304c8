//! Panics of dependencies, contained: hostile bytes can reach a `panic!` or an `unwrap` deep
//! inside a decoder we do not own (arrow-rs and parquet-rs have had dozens). Every decode of
//! outside bytes runs inside [`contain`], which turns such a panic into a [`Contained`] value
//! the caller reports as corrupt data, naming the file. A contained panic prints nothing: the
//! process-wide panic hook is wrapped once so that panics inside a containment boundary are
//! recorded for the error message instead of printed, and every other panic is handed to the
//! hook that was there before.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, PoisonError};

thread_local! {
    /// How many containment boundaries this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// What the last contained panic on this thread said, and where.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Panics contained in this process so far.
static CONTAINED: AtomicU64 = AtomicU64::new(0);

/// The distinct places (file and line in a dependency) of the panics contained so far.
static SITES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// How many panics [`contain`] has caught in this process (for fuzzing harnesses, which
/// count contained decoder bugs apart from crashes).
pub fn contained_count() -> u64 {
    CONTAINED.load(Ordering::Relaxed)
}

/// The distinct places in the dependencies' sources where contained panics arose, in this
/// process so far: the decoder bugs that remain upstream.
pub fn contained_sites() -> Vec<String> {
    SITES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .cloned()
        .collect()
}

/// A panic caught at a containment boundary: a bug of a decoder, reached by bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decoder panicked: {message}")]
pub struct Contained {
    /// The panic's message and its location in the dependency's source.
    pub message: String,
}

/// Runs `f`; a panic inside it (on this thread) becomes `Err(Contained)`, printed nowhere.
///
/// What `f` touched may be left inconsistent by the panic: callers drop it and report the
/// input as corrupt, never use it again.
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, Contained> {
    HOOK.call_once(install_hook);
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    result.map_err(|payload| {
        CONTAINED.fetch_add(1, Ordering::Relaxed);
        let recorded = LAST.with(|last| last.borrow_mut().take());
        Contained {
            message: recorded.unwrap_or_else(|| payload_text(payload.as_ref())),
        }
    })
}

/// Wraps the current hook: quiet inside a boundary, unchanged outside.
fn install_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if DEPTH.with(Cell::get) > 0 {
            LAST.with(|last| *last.borrow_mut() = Some(describe(info)));
        } else {
            previous(info);
        }
    }));
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let message = payload_text(info.payload());
    match info.location() {
        Some(at) => {
            let site = format!("{}:{}", short_path(at.file()), at.line());
            SITES
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(site.clone());
            format!("{message}, at {site}")
        }
        None => message,
    }
}

/// A dependency's source path from its crate directory on (`parquet-59.3.2/src/...`).
fn short_path(file: &str) -> &str {
    file.rfind("/registry/src/")
        .and_then(|i| file[i..].splitn(5, '/').nth(4))
        .unwrap_or(file)
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message_and_place() {
        let e = contain(|| -> u32 { panic!("column start and length should not be negative") })
            .unwrap_err();
        assert!(
            e.message
                .starts_with("column start and length should not be negative, at ")
        );
        assert!(e.message.contains("contain.rs:"), "{}", e.message);
        assert_eq!(contain(|| 7), Ok(7));
    }

    #[test]
    fn boundaries_nest_and_unwind() {
        let outer = contain(|| -> u8 {
            let inner = contain(|| -> u8 { panic!("inner") });
            assert!(inner.is_err());
            panic!("outer {}", 1)
        });
        let e = outer.unwrap_err();
        assert!(e.message.starts_with("outer 1"), "{}", e.message);
        DEPTH.with(|d| assert_eq!(d.get(), 0));
    }

    #[test]
    fn registry_paths_are_shortened() {
        assert_eq!(
            short_path("/root/.cargo/registry/src/index.crates.io-1949cf/parquet-59.3.2/src/a.rs"),
            "parquet-59.3.2/src/a.rs"
        );
        assert_eq!(short_path("src/contain.rs"), "src/contain.rs");
    }
}
