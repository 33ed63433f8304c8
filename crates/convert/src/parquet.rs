//! Parquet output: go-embeddingsdb's layout or FixedSizeList vectors.

use std::path::Path;

use crate::{ConvertError, Sink, dimensions::Dimensions};
use oembeddings::batch::Batch;
use oembeddings::record::RecordRef;
use oembeddings::write::{VectorOutput, WriteOptions, Writer};

pub(crate) struct ParquetSink {
    writer: Writer,
    /// Fixed-size output holds one dimension; the Go layout any.
    dimensions: Option<Dimensions>,
}

impl ParquetSink {
    pub(crate) fn create(
        path: &Path,
        vectors: VectorOutput,
        statistics: bool,
    ) -> Result<Self, ConvertError> {
        let options = WriteOptions::default()
            .with_vectors(vectors)
            .with_statistics(statistics);
        Ok(Self {
            writer: Writer::create(path, options)?,
            dimensions: (vectors == VectorOutput::FixedSizeList)
                .then(|| Dimensions::new("a fixed-size-list Parquet file")),
        })
    }
}

impl Sink for ParquetSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        match self.dimensions.as_mut() {
            Some(dimensions) => dimensions.admit(record.embeddings.len()),
            None => Ok(()),
        }
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        Ok(self.writer.write(batch)?)
    }

    fn finish(self: Box<Self>) -> Result<crate::Finished, ConvertError> {
        self.writer.finish()?;
        Ok(crate::Finished::default())
    }
}
