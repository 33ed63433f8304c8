//! Parquet inputs that parquet-rs reads directly (the Met's file, SkyPilot's parts, and the
//! footer of any Parquet input for its row count): opened once, local or remote, their
//! footer walked by our bounded checker before parquet-rs decodes it, every decode of their
//! bytes contained.

use std::path::Path;

use oembeddings::blob::Blob;
use oembeddings::contain::contain;
use oembeddings::read::GuardedFile;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::ConvertError;

/// A reader's builder over `file`, or why the footer is not a readable Parquet footer.
fn builder(file: Blob) -> Result<ParquetRecordBatchReaderBuilder<GuardedFile>, String> {
    oembeddings::footer::check(&mut file.cursor()).map_err(|e| e.to_string())?;
    contain(|| ParquetRecordBatchReaderBuilder::try_new(GuardedFile(file)))
        .map_err(|panic| panic.to_string())?
        .map_err(|e| e.to_string())
}

/// The builder of the Parquet file at `path`, or `None` when its footer is not readable (a
/// format's detection then says "not this format"; its reader says why). Fails only when
/// the file cannot be opened.
pub(crate) fn footer(
    path: &Path,
) -> Result<Option<ParquetRecordBatchReaderBuilder<GuardedFile>>, ConvertError> {
    let file = Blob::open(path).map_err(|e| ConvertError::io(path, e))?;
    Ok(builder(file).ok())
}

/// An input opened to be read: its builder, and when it was last modified in Unix seconds
/// (a remote file's `Last-Modified`), the `created` of records whose input does not say.
pub(crate) fn open(
    path: &Path,
) -> Result<(ParquetRecordBatchReaderBuilder<GuardedFile>, i64), ConvertError> {
    let file = Blob::open(path).map_err(|e| ConvertError::io(path, e))?;
    if file.is_empty() {
        return Err(ConvertError::EmptyInput {
            path: path.to_path_buf(),
        });
    }
    let modified = file
        .modified_unix()
        .map_err(|e| ConvertError::io(path, e))?;
    let builder = builder(file).map_err(|message| ConvertError::Input {
        path: path.to_path_buf(),
        location: "footer".to_owned(),
        message: format!("not a readable Parquet file: {message}"),
    })?;
    Ok((builder, modified))
}

/// The next batch, with a decoder's panic on hostile bytes turned into an error.
pub(crate) fn next_contained(
    reader: &mut ParquetRecordBatchReader,
) -> Option<Result<arrow_array::RecordBatch, arrow_schema::ArrowError>> {
    match contain(|| reader.next()) {
        Ok(next) => next,
        Err(panic) => Some(Err(arrow_schema::ArrowError::ParquetError(
            panic.to_string(),
        ))),
    }
}
