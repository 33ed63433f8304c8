//! What can be wrong with one record, and what the reader did about it: the leaf that the
//! reader, the batch and the validator all name.

/// What is wrong with one record, as part of [`ReadError::Record`](crate::read::ReadError::Record).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordProblem {
    /// A required column holds a null.
    #[error("column '{column}' is null")]
    Null {
        /// The column.
        column: &'static str,
    },
    /// A vector holds a null element.
    #[error("embeddings element {index} is null")]
    NullElement {
        /// Index of the element within the vector.
        index: usize,
    },
    /// An attribute has a null value.
    #[error("attribute '{key}' has a null value")]
    NullAttributeValue {
        /// The attribute key.
        key: String,
    },
    /// A string column holds bytes that are not UTF-8.
    #[error("column '{column}' is not valid UTF-8")]
    InvalidUtf8 {
        /// The column.
        column: &'static str,
    },
    /// The JSON attributes string is not a JSON object of strings.
    #[error("attributes are not a JSON object of strings: {message}")]
    InvalidJson {
        /// What is wrong.
        message: String,
    },
    /// The column data is structurally invalid (offsets, lengths) for its Arrow type.
    #[error("column data is malformed: {message}")]
    Malformed {
        /// What Arrow reported.
        message: String,
    },
    /// `created` does not fit in 64-bit Unix seconds.
    #[error("column 'created' is out of range for Unix seconds")]
    CreatedOutOfRange,
}

/// A value that broke a record rule and was replaced while reading (see
/// [`crate::read::ReadOptions::repair`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// 0-based row index in the file.
    pub row: u64,
    /// What was wrong; the value was replaced as the Go tool would read it.
    pub problem: RecordProblem,
}
