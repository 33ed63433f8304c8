//! A Hugging Face dataset directory, which the Hub and `datasets` load as it is.
//!
//! `--to hf DIR` writes
//!
//! ```text
//! DIR/README.md                              the dataset card: YAML header (configs and
//!                                            data_files, license, tags, size category),
//!                                            the statistics, how the files were made
//! DIR/data/train-00000-of-0000N.parquet      shards of about 500 MB of vectors
//! ```
//!
//! `datasets` has no type for a Parquet MAP ("Arrow type map<string, string> does not have a
//! datasets dtype equivalent"), so the shards store attributes as a list of `{key, value}`
//! string structs (the same entries, in the same order; `datasets` reads them as a list of
//! dicts) and vectors as FixedSizeList float32 (`List(Value('float32'), length=N)`). Row
//! groups hold about 64 MB (the Hub's viewer copies row groups up to 100 MB as they are, see
//! `validate --target hub`) and each shard has a page index. Every shard carries the
//! statistics of its own records in its footer, and oembeddings reads the directory back
//! record for record (`oembeddings convert DIR out.parquet`).

use std::fmt::Write as _;
use std::path::Path;

use crate::dimensions::Dimensions;
use crate::{ConvertError, Finished, OutputDir, Sink};
use oembeddings::batch::Batch;
use oembeddings::record::RecordRef;
use oembeddings::stats::{Statistics, StatisticsBuilder};
use oembeddings::write::{AttributesOutput, VectorOutput, WriteOptions, Writer};

/// Vector bytes per shard (the size `datasets`' `push_to_hub` aims at).
pub const SHARD_BYTES: usize = 500 << 20;

/// What the dataset card says beyond what the records say.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HfOptions {
    /// The card's `license` (a Hub license id; default `other`).
    pub license: String,
    /// The card's title (default: the output directory's name).
    pub title: Option<String>,
}

impl Default for HfOptions {
    fn default() -> Self {
        Self {
            license: "other".to_owned(),
            title: None,
        }
    }
}

/// Writes a dataset directory.
pub(crate) struct HfSink {
    dir: OutputDir,
    options: HfOptions,
    dimensions: Dimensions,
    writer: Option<Writer>,
    shard_records: u64,
    in_shard: u64,
    shards: Vec<String>,
    statistics: StatisticsBuilder,
}

impl HfSink {
    pub(crate) fn create(
        path: &Path,
        force: bool,
        options: HfOptions,
    ) -> Result<Self, ConvertError> {
        let dir = OutputDir::create(path, force)?;
        std::fs::create_dir(dir.path().join("data")).map_err(|e| ConvertError::io(path, e))?;
        Ok(Self {
            dir,
            options,
            dimensions: Dimensions::new("a Hugging Face dataset's vector column"),
            writer: None,
            shard_records: 0,
            in_shard: 0,
            shards: Vec::new(),
            statistics: StatisticsBuilder::default(),
        })
    }

    fn open_shard(&mut self) -> Result<(), ConvertError> {
        let name = format!("data/train-{:05}.parquet", self.shards.len());
        let options = WriteOptions::default()
            .with_vectors(VectorOutput::FixedSizeList)
            .with_attributes(AttributesOutput::KeyValueList)
            .with_page_index(true);
        self.writer = Some(Writer::create(self.dir.path().join(&name), options)?);
        self.shards.push(name);
        self.in_shard = 0;
        Ok(())
    }

    fn close_shard(&mut self) -> Result<(), ConvertError> {
        if let Some(writer) = self.writer.take() {
            writer.finish()?;
        }
        Ok(())
    }
}

impl Sink for HfSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        self.dimensions.admit(record.embeddings.len())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.shard_records == 0 {
            let bytes = batch.vector(0).len() * 4 + 256;
            self.shard_records = (SHARD_BYTES / bytes).max(1) as u64;
        }
        self.statistics.observe_batch(batch);
        let mut start = 0usize;
        while start < batch.num_rows() {
            if self.writer.is_none() || self.in_shard >= self.shard_records {
                self.close_shard()?;
                self.open_shard()?;
            }
            let room = usize::try_from(self.shard_records - self.in_shard).unwrap_or(usize::MAX);
            let n = room.min(batch.num_rows() - start);
            let part = if start == 0 && n == batch.num_rows() {
                batch.clone()
            } else {
                batch.slice(start, n)
            };
            if let Some(writer) = self.writer.as_mut() {
                writer.write(&part)?;
            }
            self.in_shard += n as u64;
            start += n;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Finished, ConvertError> {
        if self.writer.is_none() && self.shards.is_empty() {
            self.open_shard()?;
        }
        self.close_shard()?;
        let target = self.dir.target().to_path_buf();
        let count = self.shards.len();
        let mut files = Vec::with_capacity(count + 1);
        for (i, old) in self.shards.iter().enumerate() {
            let name = format!("data/train-{i:05}-of-{count:05}.parquet");
            std::fs::rename(self.dir.path().join(old), self.dir.path().join(&name))
                .map_err(|e| ConvertError::io(&target, e))?;
            files.push(name);
        }
        let title = self.options.title.clone().unwrap_or_else(|| {
            target.file_name().map_or_else(
                || "embeddings".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            )
        });
        let card = card(
            &title,
            &self.options.license,
            &self.statistics.finish(),
            &files,
        );
        std::fs::write(self.dir.path().join("README.md"), card)
            .map_err(|e| ConvertError::io(&target, e))?;
        files.insert(0, "README.md".to_owned());
        let Self { dir, .. } = *self;
        dir.commit()?;
        Ok(Finished::files(files))
    }
}

/// The Hub's size category of a number of records.
fn size_category(records: u64) -> &'static str {
    match records {
        0..1_000 => "n<1K",
        1_000..10_000 => "1K<n<10K",
        10_000..100_000 => "10K<n<100K",
        100_000..1_000_000 => "100K<n<1M",
        1_000_000..10_000_000 => "1M<n<10M",
        10_000_000..100_000_000 => "10M<n<100M",
        _ => "100M<n<1B",
    }
}

/// A YAML string (double-quoted, JSON escaping is valid YAML).
fn yaml(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// The dataset card.
fn card(title: &str, license: &str, statistics: &Statistics, files: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "license: {}", yaml(license));
    let _ = writeln!(out, "tags:");
    for tag in ["embeddings", "oembeddings", "museum"] {
        let _ = writeln!(out, "- {tag}");
    }
    for model in &statistics.models {
        let _ = writeln!(out, "- {}", yaml(&model.name));
    }
    let _ = writeln!(out, "size_categories:");
    let _ = writeln!(out, "- {}", size_category(statistics.records));
    let _ = writeln!(out, "configs:");
    let _ = writeln!(out, "- config_name: default");
    let _ = writeln!(out, "  data_files:");
    let _ = writeln!(out, "  - split: train");
    let _ = writeln!(out, "    path: data/train-*.parquet");
    let _ = writeln!(out, "---");
    let _ = writeln!(out);
    let _ = writeln!(out, "# {title}");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Vector embeddings of museum collection images as OEmbeddings records: {} records in \
         {} Parquet file{}.",
        statistics.records,
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| model | dimensions | records | providers |");
    let _ = writeln!(out, "|---|---|---|---|");
    for m in &statistics.models {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            m.name,
            m.dimensions,
            m.records,
            m.providers.join(", ")
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| provider | records | models |");
    let _ = writeln!(out, "|---|---|---|");
    for p in &statistics.providers {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            p.name,
            p.records,
            p.models.join(", ")
        );
    }
    if let Some((first, last)) = statistics.created {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Records created between Unix times {first} and {last}."
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Columns");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "`provider`, `depiction_id`, `subject_id`, `model` (strings; a record's key is \
         `{{provider}}-{{depiction_id}}-{{model}}`), `embeddings` (float32, one length per \
         dataset), `created` (Unix seconds) and `attributes` (a list of `{{key, value}}` \
         strings: the OEmbeddings attributes `type`, `preview`, `subject_url`, \
         `subject_title`, `subject_creditline`, `provider_name`, `provider_url`, ...)."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "```python");
    let _ = writeln!(out, "from datasets import load_dataset");
    let _ = writeln!(out, "ds = load_dataset(\"ORG/NAME\", split=\"train\")");
    let _ = writeln!(out, "```");
    let _ = writeln!(out);
    let _ = writeln!(out, "## How it was made");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Written by `oembeddings convert --to hf` (oembeddings {}). Each file's footer holds \
         its statistics under go-embeddingsdb's keys (`embeddingsdb:models`, ...). \
         `oembeddings convert DIR records.parquet` turns the directory back into one file in \
         go-embeddingsdb's layout, record for record; `oembeddings validate` and `oembeddings \
         verify` check the records.",
        env!("CARGO_PKG_VERSION")
    );
    out
}
