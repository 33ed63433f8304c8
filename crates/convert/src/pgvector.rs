//! PostgreSQL with pgvector: records into a table by binary `COPY`, in one transaction, and
//! back.
//!
//! `--to pgvector` writes to the database of a `postgresql://` URL (or key=value connection
//! string): `CREATE EXTENSION IF NOT EXISTS vector`, then a table
//!
//! ```sql
//! CREATE TABLE name (
//!   id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the order records came in
//!   provider text NOT NULL, depiction_id text NOT NULL, subject_id text NOT NULL,
//!   model text NOT NULL, embeddings vector(N) NOT NULL,  -- or halfvec(N)
//!   created bigint NOT NULL, attributes jsonb NOT NULL,
//!   UNIQUE (provider, depiction_id, model))
//! ```
//!
//! filled by one binary `COPY`, then the index asked for (`--pg-index hnsw|ivfflat`, with the
//! operator class of `--distance`), all in one transaction: on any failure nothing is left.
//! A table that exists must have the vectors' type and dimension; records are appended to it
//! (a key it already holds fails the whole load), or with `--force` it is replaced.
//!
//! pgvector's limits are checked on the first record, before anything is written: a `vector`
//! holds at most 16,000 dimensions, and its HNSW and IVFFlat indexes take at most 2,000; a
//! `halfvec` (float16) index takes up to 4,000. So with an index, 2,001 to 4,000 dimensions
//! are stored as `halfvec(N)`, which rounds every element to float16 (read back, such values
//! differ from the float32 ones); everything else is stored as `vector(N)`, exactly.
//!
//! The connection has no TLS: use a local server or a tunnel (`sslmode=require` is refused).

use std::collections::BTreeMap;
use std::error::Error as _;
use std::path::Path;
use std::str::FromStr;

use bytes::BytesMut;
use pgvector::{HalfVector, Vector};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, NoTls};

use crate::dimensions::Dimensions;
use crate::jsonl::non_finite;
use crate::{ConvertError, Distance, Finished, Sink, Source};
use oembeddings::batch::{Batch, BatchBuilder};
use oembeddings::json::write_attributes;
use oembeddings::pipeline::{Background, Feed};
use oembeddings::record::{Attributes, RecordRef};

/// Most dimensions a `vector` column holds.
pub const MAX_VECTOR_DIMENSIONS: usize = 16_000;
/// Most dimensions of a `vector` an HNSW or IVFFlat index takes.
pub const MAX_VECTOR_INDEX_DIMENSIONS: usize = 2_000;
/// Most dimensions of a `halfvec` an HNSW or IVFFlat index takes.
pub const MAX_HALFVEC_INDEX_DIMENSIONS: usize = 4_000;

/// The index built after the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PgIndex {
    /// No index (exact search by scanning).
    #[default]
    None,
    /// HNSW (`USING hnsw`).
    Hnsw,
    /// IVFFlat with `lists` = rows / 1000 (at least 1), as pgvector suggests.
    Ivfflat,
}

oembeddings::named_enum!(PgIndex, "pgvector index",
    None => "none", "No index";
    Hnsw => "hnsw", "An HNSW index (up to 2,000 dimensions, or 4,000 as halfvec)";
    Ivfflat => "ivfflat", "An IVFFlat index, lists = rows / 1000 (same limits as HNSW)";
);

/// Where records go (or come from) in PostgreSQL.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PgvectorOptions {
    /// The table, `name` or `schema.name` (required).
    pub table: Option<String>,
    /// The index to build.
    pub index: PgIndex,
}

/// Why PostgreSQL failed or refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The connection string does not parse.
    #[error("not a PostgreSQL connection string (postgresql://USER@HOST/DB): {0}")]
    Url(String),
    /// A statement failed; `doing` says which.
    #[error("{target}: {doing}: {message}")]
    Server {
        /// The server and database (without the password).
        target: String,
        /// What was being done.
        doing: &'static str,
        /// The server's or the client's message.
        message: String,
    },
    /// The table exists with another vector type or dimension.
    #[error(
        "{target}: table {table} holds {found}, not {wanted}: load into another table, or \
         replace it with --force"
    )]
    TableType {
        /// The server and database.
        target: String,
        /// The table.
        table: String,
        /// Its vector column's type.
        found: String,
        /// What the records need.
        wanted: String,
    },
}

/// A PostgreSQL error's message with its detail, for one line.
fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// The connection string parsed, and how to name it without its password.
fn config(url: &Path) -> Result<(Config, String), ConvertError> {
    config_with(url, std::env::var_os(PASSWORD_VARIABLE))
}

/// Where a password not in the connection string comes from, as libpq reads it: so that it
/// need not be on the command line, where every user of the machine can read it.
const PASSWORD_VARIABLE: &str = "PGPASSWORD";

/// [`config`], with the value of [`PASSWORD_VARIABLE`] given.
fn config_with(
    url: &Path,
    password: Option<std::ffi::OsString>,
) -> Result<(Config, String), ConvertError> {
    let text = url
        .to_str()
        .ok_or_else(|| PgError::Url(url.display().to_string()))?;
    let mut config = Config::from_str(text).map_err(|e| PgError::Url(e.to_string()))?;
    if config.get_password().is_none()
        && let Some(password) = password.filter(|p| !p.is_empty())
    {
        config.password(password.as_encoded_bytes());
    }
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let target = format!(
        "postgresql://{}@{}/{}",
        config.get_user().unwrap_or_default(),
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    );
    Ok((config, target))
}

/// A table name quoted for SQL: `name` or `schema.name`, each part a plain identifier.
fn quoted(table: Option<&str>) -> Result<(String, String), ConvertError> {
    let table = table.ok_or_else(|| {
        ConvertError::Options("pgvector needs the table's name (--table)".to_owned())
    })?;
    let plain = |part: &str| {
        !part.is_empty()
            && part.len() <= 63
            && part
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| plain(p)) {
        return Err(ConvertError::Options(format!(
            "table name {table:?} must be NAME or SCHEMA.NAME, each of letters, digits and _ \
             (at most 63), not starting with a digit"
        )));
    }
    let quoted = parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(".");
    Ok((table.to_owned(), quoted))
}

/// The column type a vector of `dimensions` is stored in with `index`, or why none fits.
fn column_type(dimensions: usize, index: PgIndex) -> Result<&'static str, (&'static str, String)> {
    let out_of_range = |message: String| Err((crate::dimensions::DIMENSIONS_OUT_OF_RANGE, message));
    match index {
        PgIndex::None if dimensions <= MAX_VECTOR_DIMENSIONS => Ok("vector"),
        PgIndex::None => out_of_range(format!(
            "vector has {dimensions} dimensions; a pgvector column holds at most \
             {MAX_VECTOR_DIMENSIONS}"
        )),
        _ if dimensions <= MAX_VECTOR_INDEX_DIMENSIONS => Ok("vector"),
        _ if dimensions <= MAX_HALFVEC_INDEX_DIMENSIONS => Ok("halfvec"),
        _ => out_of_range(format!(
            "vector has {dimensions} dimensions; pgvector's {index} index takes at most \
             {MAX_HALFVEC_INDEX_DIMENSIONS} (as halfvec; {MAX_VECTOR_INDEX_DIMENSIONS} as \
             vector): load without --pg-index"
        )),
    }
}

/// pgvector's operator class for a distance and column type.
fn operator_class(column: &str, distance: Distance) -> String {
    let ops = match distance {
        Distance::Cosine => "cosine",
        Distance::L2 => "l2",
        Distance::Ip => "ip",
    };
    format!("{column}_{ops}_ops")
}

/// The `type(N)` of a table's `embeddings` column, if the table exists.
fn existing_type(client: &mut Client, table: &str) -> Result<Option<String>, postgres::Error> {
    let row = client.query_opt(
        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
         WHERE a.attrelid = to_regclass($1) AND a.attname = 'embeddings' AND NOT a.attisdropped",
        &[&table],
    )?;
    Ok(row.map(|r| r.get(0)))
}

/// A jsonb value from JSON text we wrote (version 1 of jsonb's binary input: the text).
#[derive(Debug)]
struct JsonbText<'a>(&'a [u8]);

impl ToSql for JsonbText<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&[1]);
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}

/// A record's vector as pgvector's binary input reads it, borrowed rather than copied into
/// a `pgvector::Vector` for every row: the dimension and a reserved zero as u16, then each
/// element big-endian, as float32 (`vector`, `HALF` false) or float16 (`halfvec`), the
/// encoding of the `pgvector` crate's own `ToSql`.
#[derive(Debug)]
struct Embedding<'a, const HALF: bool>(&'a [f32]);

impl<const HALF: bool> ToSql for Embedding<'_, HALF> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let dimensions = u16::try_from(self.0.len())?;
        out.reserve(4 + self.0.len() * if HALF { 2 } else { 4 });
        out.extend_from_slice(&dimensions.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        for v in self.0 {
            if HALF {
                out.extend_from_slice(&half::f16::from_f32(*v).to_be_bytes());
            } else {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == if HALF { "halfvec" } else { "vector" }
    }

    to_sql_checked!();
}

/// What the loading thread is sent.
enum Message {
    /// Boxed: a batch is large and `Commit` is empty.
    Batch(Box<Batch>),
    /// Everything was sent: build the index and commit.
    Commit,
}

type Loader = Background<Message, Result<u64, ConvertError>>;

/// Loads records into a table.
pub(crate) struct PgvectorSink {
    target: String,
    table: String,
    quoted: String,
    index: PgIndex,
    distance: Distance,
    force: bool,
    client: Option<Client>,
    existing: Option<String>,
    dimensions: Dimensions,
    loader: Option<(Loader, Feed<Message>)>,
}

impl PgvectorSink {
    pub(crate) fn create(
        url: &Path,
        force: bool,
        distance: Distance,
        options: &PgvectorOptions,
    ) -> Result<Self, ConvertError> {
        let (table, quoted) = quoted(options.table.as_deref())?;
        let (config, target) = config(url)?;
        let server = |doing| {
            let target = target.clone();
            move |e: postgres::Error| PgError::Server {
                target,
                doing,
                message: message(&e),
            }
        };
        let mut client = config.connect(NoTls).map_err(server("connecting"))?;
        let existing = if force {
            None
        } else {
            existing_type(&mut client, &table).map_err(server("looking up the table"))?
        };
        // The first record sets the dimension; a table of another is refused in `start`.
        let dimensions = Dimensions::within("a pgvector column", 1..=MAX_VECTOR_DIMENSIONS);
        Ok(Self {
            target,
            table,
            quoted,
            index: options.index,
            distance,
            force,
            client: Some(client),
            existing,
            dimensions,
            loader: None,
        })
    }

    fn server(&self, doing: &'static str) -> impl Fn(postgres::Error) -> ConvertError + '_ {
        move |e| {
            PgError::Server {
                target: self.target.clone(),
                doing,
                message: message(&e),
            }
            .into()
        }
    }

    /// Opens the transaction, makes the table and starts the `COPY` on a thread of its own.
    fn start(&mut self, dimensions: usize) -> Result<(), ConvertError> {
        let column = column_type(dimensions, self.index)
            .map_err(|(_, message)| ConvertError::Options(format!("{}: {message}", self.target)))?;
        let wanted = format!("{column}({dimensions})");
        if let Some(found) = &self.existing
            && *found != wanted
        {
            return Err(PgError::TableType {
                target: self.target.clone(),
                table: self.table.clone(),
                found: found.clone(),
                wanted,
            }
            .into());
        }
        let mut client = self
            .client
            .take()
            .ok_or_else(|| ConvertError::Options("the load was started twice".to_owned()))?;
        let quoted = &self.quoted;
        let mut setup = String::from("BEGIN; CREATE EXTENSION IF NOT EXISTS vector;");
        if self.force {
            setup.push_str(&format!("DROP TABLE IF EXISTS {quoted};"));
        }
        setup.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {quoted} (\
               id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
               provider text NOT NULL, depiction_id text NOT NULL, subject_id text NOT NULL, \
               model text NOT NULL, embeddings {wanted} NOT NULL, created bigint NOT NULL, \
               attributes jsonb NOT NULL, UNIQUE (provider, depiction_id, model));"
        ));
        client
            .batch_execute(&setup)
            .map_err(self.server("creating the table"))?;
        let vector_type = client
            .prepare(&format!("SELECT $1::{column}"))
            .map_err(self.server("looking up the vector type"))?
            .params()
            .first()
            .cloned()
            .ok_or_else(|| ConvertError::Options("pgvector's type was not found".to_owned()))?;
        let copy = format!(
            "COPY {quoted} (provider, depiction_id, subject_id, model, embeddings, created, \
             attributes) FROM STDIN (FORMAT binary)"
        );
        let index = match self.index {
            PgIndex::None => None,
            kind => Some((kind, operator_class(column, self.distance))),
        };
        let target = self.target.clone();
        let half = column == "halfvec";
        let table = quoted.clone();
        let loader: Loader = Background::spawn(4, move |batches| {
            load(
                &mut client,
                &target,
                &copy,
                &table,
                vector_type,
                half,
                index,
                batches,
            )
        });
        let feed = loader.feed();
        self.loader = Some((loader, feed));
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn load(
    client: &mut Client,
    target: &str,
    copy: &str,
    table: &str,
    vector_type: Type,
    half: bool,
    index: Option<(PgIndex, String)>,
    batches: std::sync::mpsc::Receiver<Message>,
) -> Result<u64, ConvertError> {
    let server = |doing| {
        move |e: postgres::Error| -> ConvertError {
            PgError::Server {
                target: target.to_owned(),
                doing,
                message: message(&e),
            }
            .into()
        }
    };
    let writer = client.copy_in(copy).map_err(server("starting COPY"))?;
    let mut writer = BinaryCopyInWriter::new(
        writer,
        &[
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            vector_type,
            Type::INT8,
            Type::JSONB,
        ],
    );
    let mut json = Vec::new();
    let mut committed = false;
    for message in batches {
        let batch = match message {
            Message::Batch(batch) => batch,
            Message::Commit => {
                committed = true;
                break;
            }
        };
        for record in batch.records() {
            json.clear();
            write_attributes(&mut json, &record.attributes);
            let attributes = json.as_slice();
            let created = record.created;
            let (half_vector, full_vector);
            let vector: &(dyn ToSql + Sync) = if half {
                half_vector = Embedding::<true>(record.embeddings);
                &half_vector
            } else {
                full_vector = Embedding::<false>(record.embeddings);
                &full_vector
            };
            writer
                .write(&[
                    &record.provider,
                    &record.depiction_id,
                    &record.subject_id,
                    &record.model,
                    vector,
                    &created,
                    &JsonbText(attributes),
                ])
                .map_err(server("copying rows"))?;
        }
    }
    if !committed {
        // The sender gave up: dropping the connection rolls the transaction back.
        return Ok(0);
    }
    let rows = writer.finish().map_err(server("finishing COPY"))?;
    if let Some((kind, class)) = index {
        let sql = match kind {
            PgIndex::Ivfflat => format!(
                "CREATE INDEX ON {table} USING ivfflat (embeddings {class}) WITH (lists = {})",
                (rows / 1000).max(1)
            ),
            _ => format!("CREATE INDEX ON {table} USING hnsw (embeddings {class})"),
        };
        client
            .batch_execute(&sql)
            .map_err(server("building the index"))?;
    }
    client
        .batch_execute("COMMIT")
        .map_err(server("committing"))?;
    Ok(rows)
}

/// Rule: an element a `halfvec` (float16) cannot hold: beyond ±65,504.
pub const HALFVEC_RANGE: &str = "halfvec-range";

/// Largest magnitude of a float16.
const HALF_MAX: f32 = 65_504.0;

/// Rule: a text with the character U+0000, which PostgreSQL's `text` and `jsonb` refuse.
pub const NUL_CHARACTER: &str = "nul-character";

fn no_nul(record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
    let fields = [
        ("provider", record.provider),
        ("depiction_id", record.depiction_id),
        ("subject_id", record.subject_id),
        ("model", record.model),
    ];
    let attributes = record
        .attributes
        .iter()
        .flat_map(|(k, v)| [("an attribute key", k), ("an attribute value", v)]);
    match fields
        .into_iter()
        .chain(attributes)
        .find(|(_, text)| text.contains('\0'))
    {
        Some((what, _)) => Err((
            NUL_CHARACTER,
            format!("{what} holds the character U+0000, which PostgreSQL text cannot hold"),
        )),
        None => Ok(()),
    }
}

impl Sink for PgvectorSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        non_finite(record.embeddings)?;
        no_nul(record)?;
        self.distance.admit(record.embeddings)?;
        if column_type(record.embeddings.len(), self.index)? == "halfvec"
            && let Some(i) = record.embeddings.iter().position(|v| v.abs() > HALF_MAX)
        {
            return Err((
                HALFVEC_RANGE,
                format!(
                    "vector element {i} is {}, beyond the ±65504 a halfvec (float16) holds",
                    record.embeddings[i]
                ),
            ));
        }
        self.dimensions.admit(record.embeddings.len())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.loader.is_none() {
            self.start(batch.vector(0).len())?;
        }
        let sent = self
            .loader
            .as_ref()
            .is_some_and(|(_, feed)| feed.send(Message::Batch(Box::new(batch.clone()))));
        if !sent {
            // The loader stopped: its error says why.
            return match self.loader.take() {
                Some((loader, feed)) => {
                    drop(feed);
                    loader.finish().map(drop)
                }
                None => Ok(()),
            };
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Finished, ConvertError> {
        let Some((loader, feed)) = self.loader.take() else {
            return Err(ConvertError::Options(format!(
                "{}: no records to load; a pgvector table needs at least one vector to know \
                 its dimension",
                self.target
            )));
        };
        feed.send(Message::Commit);
        drop(feed);
        loader.finish()?;
        Ok(Finished::default())
    }

    fn abort(mut self: Box<Self>) {
        if let Some((loader, feed)) = self.loader.take() {
            drop(feed);
            let _ = loader.finish();
        }
    }
}

impl From<PgError> for ConvertError {
    fn from(e: PgError) -> Self {
        ConvertError::Postgres(e)
    }
}

/// Reads a table's records in the order they were loaded (`--from pgvector`).
pub(crate) struct PgvectorSource {
    client: Client,
    target: String,
    total: u64,
    half: bool,
    row: u64,
    done: bool,
}

/// Rows fetched at a time.
const FETCH_ROWS: usize = 2048;

impl PgvectorSource {
    pub(crate) fn open(url: &Path, options: &PgvectorOptions) -> Result<Self, ConvertError> {
        let (table, quoted) = quoted(options.table.as_deref())?;
        let (config, target) = config(url)?;
        let server = |doing| {
            let target = target.clone();
            move |e: postgres::Error| -> ConvertError {
                PgError::Server {
                    target,
                    doing,
                    message: message(&e),
                }
                .into()
            }
        };
        let mut client = config.connect(NoTls).map_err(server("connecting"))?;
        let column = existing_type(&mut client, &table)
            .map_err(server("looking up the table"))?
            .ok_or_else(|| {
                ConvertError::Options(format!(
                    "{target}: there is no table {table} with an embeddings column"
                ))
            })?;
        let total: i64 = client
            .query_one(&format!("SELECT count(*) FROM {quoted}"), &[])
            .map_err(server("counting rows"))?
            .get(0);
        client
            .batch_execute(&format!(
                "BEGIN READ ONLY; DECLARE oembeddings_rows NO SCROLL CURSOR FOR \
                 SELECT provider, depiction_id, subject_id, model, embeddings, created, \
                 attributes::text FROM {quoted} ORDER BY id"
            ))
            .map_err(server("reading the table"))?;
        Ok(Self {
            client,
            target,
            total: u64::try_from(total).unwrap_or(0),
            half: column.starts_with("halfvec"),
            row: 0,
            done: false,
        })
    }

    fn fetch(&mut self) -> Result<Option<Batch>, ConvertError> {
        let target = self.target.clone();
        let rows = self
            .client
            .query(&format!("FETCH {FETCH_ROWS} FROM oembeddings_rows"), &[])
            .map_err(|e| PgError::Server {
                target: target.clone(),
                doing: "reading the table",
                message: message(&e),
            })?;
        if rows.is_empty() {
            return Ok(None);
        }
        let first_row = self.row;
        let mut builder = BatchBuilder::default();
        for (i, row) in rows.iter().enumerate() {
            let bad = |message: String| ConvertError::Input {
                path: target.clone().into(),
                location: format!("row {}", first_row + i as u64),
                message,
            };
            let column = |e: postgres::Error| bad(message(&e));
            let embeddings: Vec<f32> = if self.half {
                let v: HalfVector = row.try_get(4).map_err(column)?;
                v.to_vec().into_iter().map(half::f16::to_f32).collect()
            } else {
                let v: Vector = row.try_get(4).map_err(column)?;
                v.to_vec()
            };
            let text: String = row.try_get(6).map_err(column)?;
            let attributes: BTreeMap<String, String> = serde_json::from_str(&text)
                .map_err(|e| bad(format!("attributes are not an object of strings: {e}")))?;
            let provider: String = row.try_get(0).map_err(column)?;
            let depiction_id: String = row.try_get(1).map_err(column)?;
            let subject_id: String = row.try_get(2).map_err(column)?;
            let model: String = row.try_get(3).map_err(column)?;
            let created: i64 = row.try_get(5).map_err(column)?;
            builder.push(&RecordRef {
                provider: &provider,
                depiction_id: &depiction_id,
                subject_id: &subject_id,
                model: &model,
                embeddings: &embeddings,
                created,
                attributes: Attributes::Map(&attributes),
            });
        }
        self.row += rows.len() as u64;
        builder
            .finish(first_row)
            .map(Some)
            .map_err(|e| ConvertError::Options(e.to_string()))
    }
}

impl Iterator for PgvectorSource {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.fetch() {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Source for PgvectorSource {
    fn total(&self) -> Option<u64> {
        Some(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_comes_from_pgpassword_unless_the_url_has_one() {
        let url = Path::new("postgresql://me@localhost/museum");
        let (config, target) = config_with(url, Some("s3cret".into())).unwrap();
        assert_eq!(config.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(target, "postgresql://me@localhost/museum");
        let (config, _) = config_with(url, Some("".into())).unwrap();
        assert_eq!(config.get_password(), None);
        let given = Path::new("postgresql://me:given@localhost/museum");
        let (config, target) = config_with(given, Some("s3cret".into())).unwrap();
        assert_eq!(config.get_password(), Some(&b"given"[..]));
        assert!(!target.contains("given"));
    }

    #[test]
    fn limits_pick_the_column_type() {
        assert_eq!(column_type(1152, PgIndex::Hnsw), Ok("vector"));
        assert_eq!(column_type(2001, PgIndex::Hnsw), Ok("halfvec"));
        assert_eq!(column_type(4000, PgIndex::Ivfflat), Ok("halfvec"));
        assert!(column_type(4001, PgIndex::Hnsw).is_err());
        assert_eq!(column_type(4001, PgIndex::None), Ok("vector"));
        assert!(column_type(16_001, PgIndex::None).is_err());
        assert_eq!(operator_class("halfvec", Distance::Ip), "halfvec_ip_ops");
    }

    #[test]
    fn table_names_are_plain_identifiers() {
        assert_eq!(
            quoted(Some("public.sfom_1")).ok().map(|(_, q)| q),
            Some("\"public\".\"sfom_1\"".to_owned())
        );
        for bad in ["1x", "a-b", "a.b.c", "x\"; DROP TABLE y", ""] {
            assert!(quoted(Some(bad)).is_err(), "{bad}");
        }
    }
}
