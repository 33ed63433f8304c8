//! The one vector dimension a table or index holds.

/// Rule: a vector whose length differs from the table's.
pub const MIXED_DIMENSIONS: &str = "mixed-dimensions";

/// Rule: a vector with a length the target does not accept.
pub const DIMENSIONS_OUT_OF_RANGE: &str = "dimensions-out-of-range";

/// The dimension of a target that holds one, set by the first admitted record.
#[derive(Debug, Clone)]
pub(crate) struct Dimensions {
    target: &'static str,
    value: Option<usize>,
    range: std::ops::RangeInclusive<usize>,
    /// Whether the dimension is the target's own rather than the first record's.
    preset: bool,
}

impl Dimensions {
    /// A target described as `target` ("a DuckDB FLOAT[N] column") accepting any non-zero
    /// length.
    pub(crate) fn new(target: &'static str) -> Self {
        Self::within(target, 1..=usize::MAX)
    }

    /// A target that already holds vectors of `dimension`.
    #[cfg(feature = "chroma")]
    pub(crate) fn preset(target: &'static str, dimension: usize) -> Self {
        Self {
            target,
            value: Some(dimension),
            range: 1..=usize::MAX,
            preset: true,
        }
    }

    /// A target accepting lengths in `range`.
    pub(crate) fn within(target: &'static str, range: std::ops::RangeInclusive<usize>) -> Self {
        Self {
            target,
            value: None,
            range,
            preset: false,
        }
    }

    /// The dimension, once a record has been admitted.
    #[cfg(feature = "sqlite")]
    pub(crate) fn get(&self) -> Option<usize> {
        self.value
    }

    /// The dimension, or the error of an output that got no record and so cannot declare
    /// its vector column.
    #[cfg(any(feature = "duckdb", feature = "s3vectors", feature = "sqlite"))]
    pub(crate) fn required(&self, output: &std::path::Path) -> Result<usize, crate::ConvertError> {
        self.value.ok_or_else(|| {
            crate::ConvertError::Options(format!(
                "{}: no records to write; {} needs at least one vector to know its dimension",
                output.display(),
                self.target
            ))
        })
    }

    pub(crate) fn admit(&mut self, len: usize) -> Result<(), (&'static str, String)> {
        match self.value {
            Some(expected) if expected != len => Err((
                MIXED_DIMENSIONS,
                format!(
                    "vector has {len} dimensions but {} holds one dimension, {expected} ({})",
                    self.target,
                    if self.preset {
                        "the vectors it holds"
                    } else {
                        "the first record's"
                    }
                ),
            )),
            Some(_) => Ok(()),
            None if !self.range.contains(&len) => Err((
                DIMENSIONS_OUT_OF_RANGE,
                if *self.range.end() == usize::MAX {
                    format!(
                        "vector has {len} dimensions; {} needs at least {}",
                        self.target,
                        self.range.start()
                    )
                } else {
                    format!(
                        "vector has {len} dimensions; {} accepts {} to {}",
                        self.target,
                        self.range.start(),
                        self.range.end()
                    )
                },
            )),
            None => {
                self.value = Some(len);
                Ok(())
            }
        }
    }
}
