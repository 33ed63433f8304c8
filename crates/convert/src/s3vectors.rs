//! AWS S3 Vectors request bodies: a `CreateIndex` body and `PutVectors` bodies.
//!
//! The output directory holds `create-index.json` and `put-vectors-00001.json`, ... Each is
//! the JSON input of one API call, ready for `aws s3vectors create-index --cli-input-json
//! file://create-index.json` and `aws s3vectors put-vectors --cli-input-json
//! file://put-vectors-00001.json`. A vector's key is `{provider}-{depiction_id}-{model}`;
//! its metadata is the record's attributes plus `x-model`, `x-provider`, `x-subject-id`,
//! `x-depiction-id` (strings) and `x-created` (a number, so that time ranges can be
//! filtered).
//!
//! The service's limits are checked before anything is written: at most 500 vectors and
//! 20 MiB per request; dimension 1 to 4096 and one per index; keys of 1 to 1024 characters,
//! unique after formatting (`("a-b", "c")` and `("a", "b-c")` collide); finite values; no
//! zero vector under the cosine metric; per vector at most 50 metadata keys, 40 KiB of
//! metadata and 2 KiB of filterable metadata, metadata size being counted as the UTF-8
//! bytes of keys and values (numbers in their decimal form). Long attributes are declared
//! non-filterable in the index (at most 10 keys): by default the OEmbeddings attributes
//! that hold titles, credit lines and URLs.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

pub use crate::admit::KEY_COLLISION;
use crate::admit::key_text;
use crate::dimensions::Dimensions;
use crate::distance::Distance;
use crate::jsonl::non_finite;
use crate::{ConvertError, OutputDir, Sink};
use oembeddings::batch::Batch;
use oembeddings::gojson;
use oembeddings::record::RecordRef;

/// At most this many vectors per `PutVectors` request.
pub const MAX_VECTORS_PER_REQUEST: usize = 500;
/// At most this many bytes per `PutVectors` request.
pub const MAX_REQUEST_BYTES: usize = 20 << 20;
/// Dimensions an index accepts.
pub const DIMENSIONS: std::ops::RangeInclusive<usize> = 1..=4096;
/// Characters in a vector key.
pub const KEY_LENGTH: std::ops::RangeInclusive<usize> = 1..=1024;
/// Metadata keys per vector.
pub const MAX_METADATA_KEYS: usize = 50;
/// Bytes of metadata per vector.
pub const MAX_METADATA_BYTES: usize = 40 << 10;
/// Bytes of filterable metadata per vector.
pub const MAX_FILTERABLE_BYTES: usize = 2 << 10;
/// Non-filterable keys per index.
pub const MAX_NON_FILTERABLE_KEYS: usize = 10;

/// Attributes declared non-filterable unless the caller chooses: the long ones.
pub const DEFAULT_NON_FILTERABLE: [&str; 6] = [
    "subject_title",
    "subject_creditline",
    "subject_url",
    "depiction_url",
    "preview",
    "provider_url",
];

/// Rule: the formatted key is too short or too long.
pub const KEY_LENGTH_RULE: &str = "key-length";
/// Rule: metadata over a size or count limit.
pub const METADATA_LIMIT: &str = "metadata-limit";

/// The name S3 Vectors gives a distance; it has no inner product.
fn metric_name(distance: Distance) -> Result<&'static str, ConvertError> {
    match distance {
        Distance::Cosine => Ok("cosine"),
        Distance::L2 => Ok("euclidean"),
        other => Err(ConvertError::Options(format!(
            "S3 Vectors indexes offer the distances cosine and euclidean (l2), not {other}"
        ))),
    }
}

/// Where the vectors go and how the index is configured.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct S3VectorsOptions {
    /// The vector bucket's name (3 to 63 characters).
    pub bucket: Option<String>,
    /// The index's name (3 to 63 characters).
    pub index: Option<String>,
    /// Metadata keys stored but not filterable; [`DEFAULT_NON_FILTERABLE`] by default.
    pub non_filterable: Vec<String>,
}

impl Default for S3VectorsOptions {
    fn default() -> Self {
        Self {
            bucket: None,
            index: None,
            non_filterable: DEFAULT_NON_FILTERABLE.map(String::from).to_vec(),
        }
    }
}

impl S3VectorsOptions {
    /// Options for `bucket` and `index`, with the defaults otherwise.
    pub fn new(bucket: impl Into<String>, index: impl Into<String>) -> Self {
        Self {
            bucket: Some(bucket.into()),
            index: Some(index.into()),
            ..Self::default()
        }
    }

    /// Sets the non-filterable metadata keys.
    pub fn with_non_filterable(mut self, keys: Vec<String>) -> Self {
        self.non_filterable = keys;
        self
    }
}

fn check_name(what: &str, flag: &str, name: Option<&str>) -> Result<String, ConvertError> {
    let name = name.ok_or_else(|| {
        ConvertError::Options(format!("s3vectors output needs the {what} name ({flag})"))
    })?;
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ConvertError::Options(format!(
            "{what} name {name:?} is not valid for S3 Vectors: 3 to 63 characters of a-z, \
             0-9, '-' and '.', beginning and ending with a letter or digit"
        )))
    }
}

/// Digits (and sign) of `n` in decimal, without formatting it.
fn decimal_len(n: i64) -> usize {
    let sign = usize::from(n < 0);
    let mut digits = 1;
    let mut rest = n.unsigned_abs();
    while rest >= 10 {
        rest /= 10;
        digits += 1;
    }
    sign + digits
}

/// Writes the request bodies.
pub(crate) struct S3VectorsSink {
    dir: OutputDir,
    bucket: String,
    index: String,
    distance: Distance,
    metric: &'static str,
    non_filterable: Vec<String>,
    dimensions: Dimensions,
    keys: HashSet<u128>,
    /// Encoded vectors of the request being filled, comma-separated.
    pending: Vec<u8>,
    pending_vectors: usize,
    envelope: usize,
    files: Vec<String>,
    scratch: Vec<u8>,
    key: String,
}

impl S3VectorsSink {
    pub(crate) fn create(
        path: &Path,
        force: bool,
        distance: Distance,
        options: S3VectorsOptions,
    ) -> Result<Self, ConvertError> {
        let bucket = check_name("vector bucket", "--s3-bucket", options.bucket.as_deref())?;
        let index = check_name("index", "--s3-index", options.index.as_deref())?;
        let metric = metric_name(distance)?;
        if options.non_filterable.len() > MAX_NON_FILTERABLE_KEYS {
            return Err(ConvertError::Options(format!(
                "S3 Vectors allows at most {MAX_NON_FILTERABLE_KEYS} non-filterable metadata \
                 keys; {} were given",
                options.non_filterable.len()
            )));
        }
        if let Some(bad) = options
            .non_filterable
            .iter()
            .find(|k| !(1..=63).contains(&k.chars().count()))
        {
            return Err(ConvertError::Options(format!(
                "non-filterable metadata key {bad:?} must have 1 to 63 characters"
            )));
        }
        let dir = OutputDir::create(path, force)?;
        let envelope = Self::envelope(&bucket, &index, b"").len();
        Ok(Self {
            dir,
            bucket,
            index,
            distance,
            metric,
            non_filterable: options.non_filterable,
            dimensions: Dimensions::within("an S3 Vectors index", DIMENSIONS),
            keys: HashSet::new(),
            pending: Vec::new(),
            pending_vectors: 0,
            envelope,
            files: Vec::new(),
            scratch: Vec::new(),
            key: String::new(),
        })
    }

    fn envelope(bucket: &str, index: &str, vectors: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(vectors.len() + 128);
        out.extend_from_slice(b"{\"vectorBucketName\":");
        gojson::write_string(&mut out, bucket.as_bytes());
        out.extend_from_slice(b",\"indexName\":");
        gojson::write_string(&mut out, index.as_bytes());
        out.extend_from_slice(b",\"vectors\":[");
        out.extend_from_slice(vectors);
        out.extend_from_slice(b"]}\n");
        out
    }

    /// The string metadata entries of a record: attributes, then the `x-` keys (`x-created`
    /// is the one number, written apart).
    fn metadata<'a>(record: &RecordRef<'a>) -> impl Iterator<Item = (&'a str, &'a str)> + Clone {
        record.attributes.iter().chain([
            ("x-model", record.model),
            ("x-provider", record.provider),
            ("x-subject-id", record.subject_id),
            ("x-depiction-id", record.depiction_id),
        ])
    }

    fn check_metadata(&self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        let entries = Self::metadata(record);
        let keys = entries.clone().count() + 1;
        if keys > MAX_METADATA_KEYS {
            return Err((
                METADATA_LIMIT,
                format!("{keys} metadata keys; S3 Vectors allows {MAX_METADATA_KEYS}"),
            ));
        }
        let mut total = 0usize;
        let mut filterable = 0usize;
        for (i, (key, value)) in entries.clone().enumerate() {
            // At most 50 keys: a quadratic scan beats allocating a set per record.
            if key == "x-created" || entries.clone().take(i).any(|(k, _)| k == key) {
                return Err((
                    METADATA_LIMIT,
                    format!(
                        "metadata key {key:?} occurs twice (an attribute clashes with a key \
                         oembeddings adds)"
                    ),
                ));
            }
            let size = key.len() + value.len();
            total += size;
            if !self.non_filterable.iter().any(|k| k == key) {
                filterable += size;
            }
        }
        let created_size = "x-created".len() + decimal_len(record.created);
        total += created_size;
        filterable += created_size;
        if total > MAX_METADATA_BYTES {
            return Err((
                METADATA_LIMIT,
                format!("{total} bytes of metadata; S3 Vectors allows {MAX_METADATA_BYTES}"),
            ));
        }
        if filterable > MAX_FILTERABLE_BYTES {
            return Err((
                METADATA_LIMIT,
                format!(
                    "{filterable} bytes of filterable metadata; S3 Vectors allows \
                     {MAX_FILTERABLE_BYTES} (declare long attributes non-filterable with \
                     --s3-non-filterable)"
                ),
            ));
        }
        Ok(())
    }

    fn encode(&mut self, record: &RecordRef<'_>) {
        let out = &mut self.scratch;
        out.clear();
        out.extend_from_slice(b"{\"key\":");
        gojson::write_string(out, key_text(&mut self.key, &record.key()).as_bytes());
        out.extend_from_slice(b",\"data\":{\"float32\":");
        // Admission refused non-finite values, so this cannot fail.
        if gojson::write_f32_slice(out, record.embeddings).is_err() {
            out.extend_from_slice(b"[]");
        }
        out.extend_from_slice(b"},\"metadata\":{");
        for (i, (key, value)) in Self::metadata(record).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            gojson::write_string(out, key.as_bytes());
            out.push(b':');
            gojson::write_string(out, value.as_bytes());
        }
        out.extend_from_slice(b",\"x-created\":");
        gojson::write_i64(out, record.created);
        out.extend_from_slice(b"}}");
    }

    fn flush(&mut self) -> Result<(), ConvertError> {
        if self.pending_vectors == 0 {
            return Ok(());
        }
        let name = format!("put-vectors-{:05}.json", self.files.len() + 1);
        let body = Self::envelope(&self.bucket, &self.index, &self.pending);
        let target = self.dir.target().to_path_buf();
        std::fs::write(self.dir.path().join(&name), body)
            .map_err(|e| ConvertError::io(&target, e))?;
        self.files.push(name);
        self.pending.clear();
        self.pending_vectors = 0;
        Ok(())
    }
}

impl Sink for S3VectorsSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        let key = key_text(&mut self.key, &record.key());
        let length = key.chars().count();
        if !KEY_LENGTH.contains(&length) {
            return Err((
                KEY_LENGTH_RULE,
                format!(
                    "key has {length} characters; S3 Vectors allows {} to {}",
                    KEY_LENGTH.start(),
                    KEY_LENGTH.end()
                ),
            ));
        }
        non_finite(record.embeddings)?;
        self.distance.admit(record.embeddings)?;
        // The formatted key, fingerprinted as a one-part identity: collisions of the
        // formatted form are what the service would see.
        let hash = oembeddings::RecordKey::new(key, "", "").fingerprint();
        if self.keys.contains(&hash) {
            return Err((
                KEY_COLLISION,
                format!("another record also has the S3 Vectors key {key:?}"),
            ));
        }
        self.check_metadata(record)?;
        self.dimensions.admit(record.embeddings.len())?;
        self.keys.insert(hash);
        Ok(())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        for record in batch.records() {
            self.encode(&record);
            let separator = usize::from(self.pending_vectors > 0);
            if self.pending_vectors == MAX_VECTORS_PER_REQUEST
                || self.envelope + self.pending.len() + separator + self.scratch.len()
                    > MAX_REQUEST_BYTES
            {
                self.flush()?;
            }
            if self.pending_vectors > 0 {
                self.pending.push(b',');
            }
            self.pending.extend_from_slice(&self.scratch);
            self.pending_vectors += 1;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<crate::Finished, ConvertError> {
        self.flush()?;
        let target = self.dir.target().to_path_buf();
        let dimensions = self.dimensions.required(&target)?;
        let mut body = Vec::new();
        body.extend_from_slice(b"{\"vectorBucketName\":");
        gojson::write_string(&mut body, self.bucket.as_bytes());
        body.extend_from_slice(b",\"indexName\":");
        gojson::write_string(&mut body, self.index.as_bytes());
        body.extend_from_slice(b",\"dataType\":\"float32\",\"dimension\":");
        gojson::write_i64(&mut body, dimensions as i64);
        body.extend_from_slice(b",\"distanceMetric\":");
        gojson::write_string(&mut body, self.metric.as_bytes());
        body.extend_from_slice(b",\"metadataConfiguration\":{\"nonFilterableMetadataKeys\":[");
        for (i, key) in self.non_filterable.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            gojson::write_string(&mut body, key.as_bytes());
        }
        body.extend_from_slice(b"]}}\n");
        let mut file = std::fs::File::create(self.dir.path().join("create-index.json"))
            .map_err(|e| ConvertError::io(&target, e))?;
        file.write_all(&body)
            .map_err(|e| ConvertError::io(&target, e))?;
        let mut files = vec!["create-index.json".to_owned()];
        files.append(&mut self.files);
        let Self { dir, .. } = *self;
        dir.commit()?;
        Ok(crate::Finished::files(files))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_lengths() {
        for n in [0i64, 7, 10, -10, 1_700_000_000, i64::MIN, i64::MAX] {
            assert_eq!(decimal_len(n), n.to_string().len(), "{n}");
        }
    }
}
