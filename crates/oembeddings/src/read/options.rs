//! Reader settings.

use std::sync::Arc;

use super::FileObserver;

/// Reader settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Records per batch; by default chosen so that a batch holds about 8 MiB of vectors.
    pub batch_size: Option<usize>,
    /// Whether the Go layout's vector column may be read by the direct decoder (default);
    /// when false, every layout goes through the general Arrow list reader. Both give the
    /// same records; the direct decoder is several times faster.
    pub direct_vectors: bool,
    /// Whether to read on past values that break record rules (nulls, text that is not
    /// UTF-8, attributes that are not a JSON object of strings): each is replaced the way the
    /// Go tool would read it (empty string, empty vector, 0.0, 0, empty map, dropped
    /// attribute) and listed in [`Batch::repairs`](crate::Batch::repairs). Off by default:
    /// the first such value is an error.
    pub repair: bool,
    /// Who sees every byte of the file as it is read (see [`ReadOptions::with_observer`]).
    pub observer: Option<Observer>,
}

/// A [`FileObserver`] held by [`ReadOptions`].
#[derive(Clone)]
pub struct Observer(pub Arc<dyn FileObserver>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_size: None,
            direct_vectors: true,
            repair: false,
            observer: None,
        }
    }
}

impl ReadOptions {
    /// Sets the number of records per batch.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = Some(batch_size.max(1));
        self
    }

    /// Reads on past bad values, replacing and listing them (see [`ReadOptions::repair`]).
    pub fn with_repair(mut self, repair: bool) -> Self {
        self.repair = repair;
        self
    }

    /// Allows or forbids the direct decoder of the Go layout's vector column.
    pub fn with_direct_vectors(mut self, direct: bool) -> Self {
        self.direct_vectors = direct;
        self
    }

    /// Shows every byte of the file to `observer`, once, in order, while the records are
    /// read: the file is then read front to back in large chunks, the Go layout's vectors are
    /// decoded from the very bytes observed, and [`Reader::read_to_end`](super::Reader::read_to_end)
    /// shows the rest of the file once the records are read. A consumer that must see the
    /// whole file (a signer hashing it) thus reads it once.
    pub fn with_observer(mut self, observer: Arc<dyn FileObserver>) -> Self {
        self.observer = Some(Observer(observer));
        self
    }
}
