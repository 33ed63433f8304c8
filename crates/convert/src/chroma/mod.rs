//! Chroma over its HTTP API (v2): records into a collection, and back.
//!
//! `--to chroma` adds (or upserts) records to a collection of a running server. A record's id
//! is its key, `{provider}-{depiction_id}-{model}`; its vector is sent as base64 of
//! little-endian float32 (no decimal formatting on the way); its metadata is the
//! attributes plus `x-provider`, `x-depiction-id`, `x-subject-id`, `x-model` (strings),
//! `x-created` and `x-row` (integers: Unix seconds, and the record's ordinal in this
//! conversion, so that the order of a native-profile signed file can be restored).
//!
//! Chroma refuses metadata keys that are empty or start with `#` or `$`. Such an attribute,
//! and one named like a key this module adds or starting with `x-attr-`, is stored under
//! `x-attr-` + its name; the summary lists each renamed key, and `--from chroma` undoes the
//! renaming, so that attributes come back exactly. Values are always strings, which Chroma
//! takes as they are. Vectors must be finite (JSON and Chroma's index cannot take NaN) and,
//! under the cosine distance, not all zeros.
//!
//! The batch size is the server's `max_batch_size` (`GET /api/v2/pre-flight-checks`). A
//! collection that exists must have the vectors' dimension and the distance asked for. With
//! `--mode add` (the default), records whose id the collection already holds are left as they
//! are (Chroma ignores them; they are counted as unchanged); `--mode upsert` replaces them.
//! When the conversion fails, what it added is removed: the collection, if it created it,
//! else the records it added. Upserted records that replaced others cannot be restored.
//!
//! Chroma's `cosine` space normalises what it stores: vectors read back from a cosine
//! collection differ from those sent in the last bits of some elements, and a vector whose
//! float32 norm overflows would be stored as NaN (such vectors are refused, rule
//! `norm-overflow`). `l2` and `ip` collections keep the floats exactly; a round trip through
//! them is lossless.

pub mod api;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::dimensions::Dimensions;
use crate::jsonl::non_finite;
use crate::{ConvertError, Distance, Finished, Sink, Source};
use api::{ChromaError, Client, Collection, Page};
use oembeddings::batch::{Batch, BatchBuilder};
use oembeddings::gojson;
use oembeddings::input::{limits, read_capped};
use oembeddings::record::{Attributes, RecordRef};

/// Metadata keys this module adds.
pub const PROVIDER: &str = "x-provider";
/// See [`PROVIDER`].
pub const DEPICTION_ID: &str = "x-depiction-id";
/// See [`PROVIDER`].
pub const SUBJECT_ID: &str = "x-subject-id";
/// See [`PROVIDER`].
pub const MODEL: &str = "x-model";
/// See [`PROVIDER`].
pub const CREATED: &str = "x-created";
/// The record's ordinal in the conversion that wrote it.
pub const ROW: &str = "x-row";
/// The prefix of an attribute stored under another key.
pub const RENAMED: &str = "x-attr-";

const OWN_KEYS: [&str; 6] = [PROVIDER, DEPICTION_ID, SUBJECT_ID, MODEL, CREATED, ROW];

/// The environment variable holding a token when no token file is given (the name Chroma's
/// own clients read).
pub const TOKEN_VARIABLE: &str = "CHROMA_API_KEY";

/// What `--to chroma` does with records whose id the collection already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// `add`: they are left as they are.
    #[default]
    Add,
    /// `upsert`: they are replaced.
    Upsert,
}

oembeddings::named_enum!(Mode, "mode",
    Add => "add", "Add records; ids the collection holds are left as they are";
    Upsert => "upsert", "Add records, replacing those whose id the collection holds";
);

/// Where records go (or come from) in Chroma.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChromaOptions {
    /// The collection (required).
    pub collection: Option<String>,
    /// The tenant (default `default_tenant`).
    pub tenant: String,
    /// The database (default `default_database`).
    pub database: String,
    /// The token sent as `x-chroma-token`; see [`token`].
    pub token: Option<String>,
    /// Add or upsert.
    pub mode: Mode,
}

impl Default for ChromaOptions {
    fn default() -> Self {
        Self {
            collection: None,
            tenant: "default_tenant".to_owned(),
            database: "default_database".to_owned(),
            token: None,
            mode: Mode::Add,
        }
    }
}

/// The token to send: the first line of `file` (a regular file of at most
/// [`limits::TOKEN_FILE`]), else [`TOKEN_VARIABLE`] from the environment, else none. Never
/// taken from the command line, where other users see it.
pub fn token(file: Option<&Path>) -> Result<Option<String>, ConvertError> {
    if let Some(file) = file {
        let bytes = read_capped(file, limits::TOKEN_FILE).map_err(|e| ConvertError::io(file, e))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ConvertError::io(
                file,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "the token is not UTF-8"),
            )
        })?;
        let token = text.lines().next().unwrap_or_default().trim().to_owned();
        return Ok((!token.is_empty()).then_some(token));
    }
    Ok(std::env::var(TOKEN_VARIABLE)
        .ok()
        .filter(|t| !t.trim().is_empty()))
}

/// The metadata key an attribute is stored under: itself, or [`RENAMED`] + itself when Chroma
/// would refuse it or it could be mistaken for a key of this module.
pub fn metadata_key(attribute: &str) -> std::borrow::Cow<'_, str> {
    if attribute.is_empty()
        || attribute.starts_with(['#', '$'])
        || attribute.starts_with(RENAMED)
        || OWN_KEYS.contains(&attribute)
    {
        std::borrow::Cow::Owned(format!("{RENAMED}{attribute}"))
    } else {
        std::borrow::Cow::Borrowed(attribute)
    }
}

/// The attribute a metadata key holds, or `None` for a key of this module.
pub fn attribute_of(key: &str) -> Option<&str> {
    if let Some(original) = key.strip_prefix(RENAMED) {
        return Some(original);
    }
    (!OWN_KEYS.contains(&key)).then_some(key)
}

fn collection_name(options: &ChromaOptions) -> Result<String, ConvertError> {
    let name = options.collection.as_deref().ok_or_else(|| {
        ConvertError::Options("chroma needs the collection's name (--collection)".to_owned())
    })?;
    if !api::valid_collection_name(name) {
        return Err(ConvertError::Options(format!(
            "collection name {name:?} is not valid for Chroma: 3 to 512 characters of \
             a-z, A-Z, 0-9, '.', '_' and '-', beginning and ending with a letter or digit"
        )));
    }
    Ok(name.to_owned())
}

/// The collection's name and a client of the server at `url`, both from the options.
fn connect(url: &Path, options: &ChromaOptions) -> Result<(String, Client), ConvertError> {
    let name = collection_name(options)?;
    let client = Client::new(
        url_text(url)?,
        &options.tenant,
        &options.database,
        options.token.clone(),
    )?;
    Ok((name, client))
}

fn url_text(url: &Path) -> Result<&str, ConvertError> {
    url.to_str()
        .ok_or_else(|| ConvertError::Options(format!("{}: not a URL", url.display())))
}

/// Writes records into a collection.
pub(crate) struct ChromaSink {
    client: Client,
    name: String,
    distance: Distance,
    mode: Mode,
    collection: Option<Collection>,
    created: bool,
    batch_size: usize,
    dimensions: Dimensions,
    /// Ids of the request being filled, and its encoded records.
    ids: Vec<String>,
    embeddings: Vec<u8>,
    metadatas: Vec<u8>,
    /// Ids this conversion added (to remove them on failure; add mode only).
    added: Vec<String>,
    unchanged: u64,
    row: u64,
    renamed: BTreeMap<String, String>,
    vector: Vec<u8>,
    encoded: String,
}

impl ChromaSink {
    pub(crate) fn create(
        url: &Path,
        distance: Distance,
        options: &ChromaOptions,
    ) -> Result<Self, ConvertError> {
        let (name, client) = connect(url, options)?;
        let preflight = client.preflight()?;
        let collection = client.collection(&name)?;
        let mut dimensions = Dimensions::new("the Chroma collection");
        if let Some(existing) = &collection {
            if let Some(space) = &existing.space
                && space != api::space(distance)
            {
                return Err(ConvertError::Options(format!(
                    "{}: collection {name} uses the {space} distance, not {distance}; give \
                     --distance {space} to add to it",
                    client.url()
                )));
            }
            if let Some(n) = existing.dimension {
                dimensions = Dimensions::preset("the Chroma collection", n);
            }
        }
        Ok(Self {
            client,
            name,
            distance,
            mode: options.mode,
            collection,
            created: false,
            batch_size: preflight.max_batch_size.max(1),
            dimensions,
            ids: Vec::new(),
            embeddings: Vec::new(),
            metadatas: Vec::new(),
            added: Vec::new(),
            unchanged: 0,
            row: 0,
            renamed: BTreeMap::new(),
            vector: Vec::new(),
            encoded: String::new(),
        })
    }

    fn collection_id(&mut self) -> Result<String, ConvertError> {
        if let Some(c) = &self.collection {
            return Ok(c.id.clone());
        }
        let created = self.client.create_collection(&self.name, self.distance)?;
        let id = created.id.clone();
        self.collection = Some(created);
        self.created = true;
        Ok(id)
    }

    fn encode(&mut self, record: &RecordRef<'_>) {
        if !self.ids.is_empty() {
            self.embeddings.push(b',');
            self.metadatas.push(b',');
        }
        self.ids.push(record.key().to_string());
        self.vector.clear();
        for v in record.embeddings {
            self.vector.extend_from_slice(&v.to_le_bytes());
        }
        self.encoded.clear();
        base64::engine::general_purpose::STANDARD.encode_string(&self.vector, &mut self.encoded);
        self.embeddings.push(b'"');
        self.embeddings.extend_from_slice(self.encoded.as_bytes());
        self.embeddings.push(b'"');
        let out = &mut self.metadatas;
        out.push(b'{');
        for (key, value) in [
            (PROVIDER, record.provider),
            (DEPICTION_ID, record.depiction_id),
            (SUBJECT_ID, record.subject_id),
            (MODEL, record.model),
        ] {
            gojson::write_string(out, key.as_bytes());
            out.push(b':');
            gojson::write_string(out, value.as_bytes());
            out.push(b',');
        }
        gojson::write_string(out, CREATED.as_bytes());
        out.push(b':');
        gojson::write_i64(out, record.created);
        out.push(b',');
        gojson::write_string(out, ROW.as_bytes());
        out.push(b':');
        gojson::write_i64(out, i64::try_from(self.row).unwrap_or(i64::MAX));
        for (key, value) in record.attributes.iter() {
            let stored = metadata_key(key);
            if stored != key && !self.renamed.contains_key(key) {
                self.renamed.insert(key.to_owned(), stored.to_string());
            }
            out.push(b',');
            gojson::write_string(out, stored.as_bytes());
            out.push(b':');
            gojson::write_string(out, value.as_bytes());
        }
        out.push(b'}');
        self.row += 1;
    }

    fn flush(&mut self) -> Result<(), ConvertError> {
        if self.ids.is_empty() {
            return Ok(());
        }
        let id = self.collection_id()?;
        let existing: HashSet<String> = match (self.mode, self.created) {
            // A collection this conversion created holds only what it added.
            (Mode::Add, false) => self
                .client
                .get(&id, &json!({ "ids": self.ids, "include": [] }))?
                .ids
                .into_iter()
                .collect(),
            _ => HashSet::new(),
        };
        let mut body = Vec::with_capacity(self.embeddings.len() + self.metadatas.len() + 64);
        body.extend_from_slice(b"{\"ids\":");
        body.extend_from_slice(
            serde_json::to_string(&self.ids)
                .unwrap_or_default()
                .as_bytes(),
        );
        body.extend_from_slice(b",\"embeddings\":[");
        body.extend_from_slice(&self.embeddings);
        body.extend_from_slice(b"],\"metadatas\":[");
        body.extend_from_slice(&self.metadatas);
        body.extend_from_slice(b"]}");
        let verb = match self.mode {
            Mode::Add => "add",
            Mode::Upsert => "upsert",
        };
        self.client.write(&id, verb, &body)?;
        for key in self.ids.drain(..) {
            if existing.contains(&key) {
                self.unchanged += 1;
            } else if self.mode == Mode::Add {
                self.added.push(key);
            }
        }
        self.embeddings.clear();
        self.metadatas.clear();
        Ok(())
    }
}

/// Rule: under the cosine distance, a vector whose float32 norm overflows, which Chroma's
/// normalisation turns into NaN.
pub const NORM_OVERFLOW: &str = "norm-overflow";

impl Sink for ChromaSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        non_finite(record.embeddings)?;
        self.distance.admit(record.embeddings)?;
        if self.distance == Distance::Cosine
            && !record
                .embeddings
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .is_finite()
        {
            return Err((
                NORM_OVERFLOW,
                "the vector's float32 norm overflows, so Chroma's cosine space would store NaN \
                 (use --distance l2 or ip)"
                    .to_owned(),
            ));
        }
        self.dimensions.admit(record.embeddings.len())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        for record in batch.records() {
            self.encode(&record);
            if self.ids.len() >= self.batch_size {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Finished, ConvertError> {
        if let Err(e) = self.flush().and_then(|()| self.collection_id().map(drop)) {
            self.abort();
            return Err(e);
        }
        Ok(Finished {
            files: Vec::new(),
            renamed: std::mem::take(&mut self.renamed),
            unchanged: self.unchanged,
        })
    }

    fn abort(self: Box<Self>) {
        // Best effort: the conversion's own error is the one reported.
        if self.created {
            let _ = self.client.delete_collection(&self.name);
        } else if let Some(c) = &self.collection {
            for chunk in self.added.chunks(self.batch_size) {
                let _ = self.client.delete(&c.id, chunk);
            }
        }
    }
}

/// Reads a collection's records (`--from chroma`).
pub(crate) struct ChromaSource {
    client: Client,
    url: String,
    id: String,
    total: u64,
    page: usize,
    /// By ordinal windows when every record has `x-row`, else by offset.
    ordered: bool,
    next: u64,
    fetched: u64,
    windows: u64,
    max_windows: u64,
    done: bool,
}

impl ChromaSource {
    pub(crate) fn open(url: &Path, options: &ChromaOptions) -> Result<Self, ConvertError> {
        let (name, client) = connect(url, options)?;
        let preflight = client.preflight()?;
        let collection = client.collection(&name)?.ok_or_else(|| {
            ConvertError::Options(format!(
                "{}: there is no collection {name} in tenant {}, database {}",
                client.url(),
                options.tenant,
                options.database
            ))
        })?;
        let total = client.count(&collection.id)?;
        let with_rows = client
            .get(
                &collection.id,
                &json!({ "where": { ROW: { "$gte": 0 } }, "include": [] }),
            )?
            .ids
            .len() as u64;
        let page = preflight.max_batch_size.clamp(1, 1000);
        Ok(Self {
            url: client.url().to_owned(),
            client,
            id: collection.id,
            total,
            page,
            ordered: total > 0 && with_rows == total,
            next: 0,
            fetched: 0,
            windows: 0,
            max_windows: (total / page as u64 + 1) * 64,
            done: false,
        })
    }

    fn fetch(&mut self) -> Result<Option<Page>, ConvertError> {
        if self.fetched >= self.total {
            return Ok(None);
        }
        let include = ["embeddings", "metadatas"];
        let page = if self.ordered {
            loop {
                self.windows += 1;
                if self.windows > self.max_windows {
                    return Err(ConvertError::Options(format!(
                        "{}: the {ROW} ordinals of the collection are too sparse to read in \
                         order",
                        self.url
                    )));
                }
                let (low, high) = (self.next, self.next + self.page as u64);
                self.next = high;
                let page = self.client.get(
                    &self.id,
                    &json!({
                        "where": { "$and": [ { ROW: { "$gte": low } }, { ROW: { "$lt": high } } ] },
                        "include": include,
                    }),
                )?;
                if !page.ids.is_empty() {
                    break page;
                }
            }
        } else {
            let page = self.client.get(
                &self.id,
                &json!({ "limit": self.page, "offset": self.fetched, "include": include }),
            )?;
            if page.ids.is_empty() {
                return Err(ConvertError::Options(format!(
                    "{}: the collection holds fewer records than it counted ({} of {})",
                    self.url, self.fetched, self.total
                )));
            }
            page
        };
        Ok(Some(page))
    }
}

/// The records of one page of a collection that `--to chroma` wrote, in ordinal (`x-row`)
/// order when `ordered`, else as the server sent them; `first_row` numbers the first. A
/// record without the metadata `--to chroma` writes is an error naming the server and the
/// record's id.
pub fn page_records(
    url: &str,
    page: Page,
    first_row: u64,
    ordered: bool,
) -> Result<Batch, ConvertError> {
    // A page sent without its vectors or metadata (which `get` asks for) would lose records.
    for (field, found) in [
        ("vectors", page.embeddings.len()),
        ("metadata maps", page.metadatas.len()),
    ] {
        if found != page.ids.len() {
            return Err(ConvertError::Input {
                path: url.into(),
                location: format!("record {first_row}"),
                message: format!("the server sent {found} {field} for {} ids", page.ids.len()),
            });
        }
    }
    let page = if ordered { sorted(page) } else { page };
    let mut builder = BatchBuilder::default();
    let mut attributes = BTreeMap::new();
    for (i, id) in page.ids.iter().enumerate() {
        let bad = |message: String| ConvertError::Input {
            path: url.into(),
            location: format!("record {id}"),
            message,
        };
        let metadata = page
            .metadatas
            .get(i)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                bad(
                    "has no metadata; --from chroma reads collections written by --to chroma"
                        .into(),
                )
            })?;
        let text = |key: &str| -> Result<&str, ConvertError> {
            metadata.get(key).and_then(Value::as_str).ok_or_else(|| {
                bad(format!(
                    "metadata has no string {key}; --from chroma reads collections written by \
                     --to chroma"
                ))
            })
        };
        let created = metadata
            .get(CREATED)
            .and_then(Value::as_i64)
            .ok_or_else(|| bad(format!("metadata has no integer {CREATED}")))?;
        attributes.clear();
        for (key, value) in metadata {
            let Some(attribute) = attribute_of(key) else {
                continue;
            };
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(bad(format!(
                        "metadata {key} is {other}, which a record's attribute (a string) \
                         cannot hold"
                    )));
                }
            };
            attributes.insert(attribute.to_owned(), value);
        }
        let embeddings = page
            .embeddings
            .get(i)
            .ok_or_else(|| bad("has no vector".into()))?;
        builder.push(&RecordRef {
            provider: text(PROVIDER)?,
            depiction_id: text(DEPICTION_ID)?,
            subject_id: text(SUBJECT_ID)?,
            model: text(MODEL)?,
            embeddings,
            created,
            attributes: Attributes::Map(&attributes),
        });
    }
    builder.finish(first_row).map_err(|e| ConvertError::Input {
        path: url.into(),
        location: format!("record {first_row}"),
        message: e.to_string(),
    })
}

/// The page's records in ordinal order (then by id, for ordinals written twice).
fn sorted(page: Page) -> Page {
    let row = |m: &Option<serde_json::Map<String, Value>>| {
        m.as_ref()
            .and_then(|m| m.get(ROW))
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX)
    };
    let mut rows: Vec<_> = page
        .ids
        .into_iter()
        .zip(page.embeddings)
        .zip(page.metadatas)
        .collect();
    rows.sort_by(|((a, _), ma), ((b, _), mb)| (row(ma), a).cmp(&(row(mb), b)));
    let mut sorted = Page::default();
    for ((id, embedding), metadata) in rows {
        sorted.ids.push(id);
        sorted.embeddings.push(embedding);
        sorted.metadatas.push(metadata);
    }
    sorted
}

impl Iterator for ChromaSource {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.fetch() {
            Ok(None) => {
                self.done = true;
                return None;
            }
            Ok(Some(page)) => {
                let first = self.fetched;
                self.fetched += page.ids.len() as u64;
                page_records(&self.url, page, first, self.ordered)
            }
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl Source for ChromaSource {
    fn total(&self) -> Option<u64> {
        Some(self.total)
    }
}

impl From<ChromaError> for ConvertError {
    fn from(e: ChromaError) -> Self {
        ConvertError::Chroma(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_keys_come_back() {
        for attribute in [
            "",
            "#document",
            "$x",
            "x-model",
            "x-attr-y",
            "x-image-path",
            "type",
        ] {
            let stored = metadata_key(attribute);
            assert!(!stored.is_empty() && !stored.starts_with(['#', '$']));
            assert_eq!(attribute_of(&stored), Some(attribute), "{attribute:?}");
        }
        assert_eq!(metadata_key("x-image-path"), "x-image-path");
        assert_eq!(attribute_of(MODEL), None);
    }

    /// Two records as a server sends them, the second written first (`x-row` 0).
    const PAGE: &str = r#"{"ids":["p-2-m","p-1-m"],"embeddings":[[1.5,2],[0.25,-1]],
        "metadatas":[
          {"x-provider":"p","x-depiction-id":"2","x-subject-id":"2","x-model":"m",
           "x-created":7,"x-row":1,"x-attr-$price":"3","title":"two"},
          {"x-provider":"p","x-depiction-id":"1","x-subject-id":"1","x-model":"m",
           "x-created":7,"x-row":0}]}"#;

    #[test]
    fn pages_become_records_in_ordinal_order() {
        let page = api::parse_page(PAGE.as_bytes()).unwrap();
        let batch = page_records("http://h", page, 10, true).unwrap();
        let records: Vec<_> = batch.records().collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].depiction_id, "1");
        assert_eq!(records[1].embeddings, [1.5, 2.0]);
        let attributes: Vec<_> = records[1].attributes.iter().collect();
        assert_eq!(attributes, [("$price", "3"), ("title", "two")]);
        let page = api::parse_page(PAGE.as_bytes()).unwrap();
        let batch = page_records("http://h", page, 10, false).unwrap();
        assert_eq!(batch.records().next().unwrap().depiction_id, "2");
    }

    #[test]
    fn a_page_without_its_vectors_or_metadata_is_an_error() {
        let page =
            api::parse_page(br#"{"ids":["a-1-m"],"embeddings":null,"metadatas":null}"#).unwrap();
        let error = page_records("http://h", page, 0, true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "http://h: record 0: the server sent 0 vectors for 1 ids"
        );
        let page = api::parse_page(
            br#"{"ids":["a-1-m"],"embeddings":[[1]],"metadatas":[{"x-provider":"a"}]}"#,
        )
        .unwrap();
        let error = page_records("http://h", page, 0, false).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("record a-1-m: metadata has no integer x-created"),
            "{error}"
        );
    }
}
