//! The distance a vector index ranks by: one option for every store.

/// The distance a store's index uses (`--distance`).
///
/// Each store spells it its own way: S3 Vectors `cosine` and `euclidean` (no inner product),
/// Chroma's `space` `cosine`, `l2` and `ip`, pgvector's operator classes
/// `vector_cosine_ops`, `vector_l2_ops` and `vector_ip_ops`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Distance {
    /// Cosine distance; a zero vector has none and is refused.
    #[default]
    Cosine,
    /// Euclidean (L2) distance.
    L2,
    /// Inner product (larger is nearer; for normalised vectors the same order as cosine).
    Ip,
}

oembeddings::named_enum!(Distance, "distance",
    Cosine => "cosine", "Cosine distance (zero vectors are refused)";
    L2 => "l2" | "euclidean", "Euclidean distance";
    Ip => "ip", "Inner product";
);

/// Rule: a zero vector under the cosine distance, which has no direction.
pub const ZERO_VECTOR: &str = "zero-vector";

impl Distance {
    /// Refuses a zero vector when the distance is cosine.
    #[cfg_attr(
        not(any(feature = "chroma", feature = "pgvector", feature = "s3vectors")),
        allow(dead_code)
    )]
    pub(crate) fn admit(self, embeddings: &[f32]) -> Result<(), (&'static str, String)> {
        if self == Distance::Cosine && embeddings.iter().all(|v| *v == 0.0) {
            return Err((
                ZERO_VECTOR,
                "the vector is all zeros, which has no cosine distance".to_owned(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn euclidean_is_l2() {
        assert_eq!("euclidean".parse::<Distance>().unwrap(), Distance::L2);
        assert_eq!("l2".parse::<Distance>().unwrap(), Distance::L2);
        assert_eq!(Distance::L2.to_string(), "l2");
        assert!("dot".parse::<Distance>().is_err());
    }
}
