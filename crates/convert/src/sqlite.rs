//! A SQLite database in go-embeddingsdb's SQLite schema, searchable with sqlite-vec.
//!
//! Two tables, as go-embeddingsdb creates them: `records` (identity, attributes as JSON
//! text, `created`, `lastmodified`) and the sqlite-vec virtual table
//! `vec USING vec0(embedding float[N])`, joined on `records.id = vec.rowid`. Vectors are
//! stored as sqlite-vec stores float32 vectors: little-endian blobs. A KNN query:
//!
//! ```sql
//! SELECT r.provider, r.depiction_id, v.distance
//! FROM vec v JOIN records r ON r.id = v.rowid
//! WHERE v.embedding MATCH ? AND k = 10 ORDER BY v.distance;
//! ```
//!
//! The database is built in a temporary file next to the target (an [`AtomicFile`]) without
//! a journal, since nothing else can see it, and renamed into place when complete.

use std::path::Path;
use std::sync::Once;

use rusqlite::{Connection, params};

use crate::dimensions::Dimensions;
use crate::{ConvertError, Sink};
use oembeddings::atomic::AtomicFile;
use oembeddings::batch::Batch;
use oembeddings::json::write_attributes;
use oembeddings::record::RecordRef;

/// The records table (go-embeddingsdb's `records`).
pub const RECORDS_TABLE: &str = "records";

/// The sqlite-vec table (go-embeddingsdb's `vec`).
pub const VECTORS_TABLE: &str = "vec";

/// go-embeddingsdb's `records` table.
pub const RECORDS_SCHEMA: &str = "CREATE TABLE records (
       id INTEGER PRIMARY KEY,
       provider TEXT,
       depiction_id TEXT,
       subject_id TEXT,
       model TEXT,
       attributes TEXT,
       created INTEGER,
       lastmodified INTEGER
);";

/// go-embeddingsdb's indexes on `records`, created after the rows are in.
pub const RECORDS_INDEXES: &str =
    "CREATE UNIQUE INDEX id_model ON records (provider, depiction_id, model);
CREATE INDEX by_model ON records (model, provider, created);
CREATE INDEX by_lastmod ON records (lastmodified);";

/// go-embeddingsdb's sqlite-vec table for vectors of `dimensions` elements.
pub fn vectors_schema(dimensions: usize) -> String {
    format!("CREATE VIRTUAL TABLE vec USING vec0(embedding float[{dimensions}]);")
}

/// sqlite-vec's limit on a vec0 column's dimensions.
const MAX_DIMENSIONS: usize = 8192;

static REGISTER: Once = Once::new();

/// Makes sqlite-vec (compiled into this binary) available to every connection opened from
/// now on.
#[allow(unsafe_code)]
fn register_sqlite_vec() {
    REGISTER.call_once(|| {
        // SAFETY: `sqlite3_vec_init` is sqlite-vec's extension entry point, compiled with
        // SQLITE_CORE against the SQLite that rusqlite bundles, so it has exactly the
        // signature `sqlite3_auto_extension` expects (the C API declares the parameter as
        // `void(*)(void)` and casts it back). Registration is process-wide and idempotent.
        unsafe {
            let init: unsafe extern "C" fn() = sqlite_vec::sqlite3_vec_init;
            type Entry = unsafe extern "C" fn(
                *mut rusqlite::ffi::sqlite3,
                *mut *mut std::os::raw::c_char,
                *const rusqlite::ffi::sqlite3_api_routines,
            ) -> std::os::raw::c_int;
            let entry = std::mem::transmute::<unsafe extern "C" fn(), Entry>(init);
            rusqlite::ffi::sqlite3_auto_extension(Some(entry));
        }
    });
}

/// Opens a connection with sqlite-vec loaded.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    register_sqlite_vec();
    Connection::open(path)
}

/// Writes the database.
pub(crate) struct SqliteSink {
    output: AtomicFile,
    connection: Connection,
    dimensions: Dimensions,
    created_tables: bool,
    next_id: i64,
    lastmodified: i64,
    blob: Vec<u8>,
    attributes: Vec<u8>,
}

impl SqliteSink {
    pub(crate) fn create(path: &Path) -> Result<Self, ConvertError> {
        let output = AtomicFile::create(path).map_err(|e| ConvertError::io(path, e))?;
        let sql = |e: rusqlite::Error| ConvertError::target(path, e);
        let connection = open(output.temp_path()).map_err(sql)?;
        // A private temporary file: no journal, no syncs until the end.
        connection
            .execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
                 PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
            )
            .map_err(sql)?;
        Ok(Self {
            output,
            connection,
            dimensions: Dimensions::within("a sqlite-vec float[N] column", 1..=MAX_DIMENSIONS),
            created_tables: false,
            next_id: 1,
            lastmodified: crate::now_unix(),
            blob: Vec::new(),
            attributes: Vec::new(),
        })
    }
}

impl Sink for SqliteSink {
    fn admit(&mut self, record: &RecordRef<'_>) -> Result<(), (&'static str, String)> {
        self.dimensions.admit(record.embeddings.len())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ConvertError> {
        let target = self.output.target().to_path_buf();
        let sql = |e: rusqlite::Error| ConvertError::target(&target, e);
        if !self.created_tables {
            let Some(dimensions) = self.dimensions.get() else {
                return Ok(());
            };
            self.connection
                .execute_batch(&format!(
                    "BEGIN; {RECORDS_SCHEMA} {} COMMIT;",
                    vectors_schema(dimensions)
                ))
                .map_err(sql)?;
            self.created_tables = true;
        }
        let transaction = self.connection.transaction().map_err(sql)?;
        {
            let mut records = transaction
                .prepare_cached(
                    "INSERT INTO records (id, provider, depiction_id, subject_id, model, \
                     attributes, created, lastmodified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .map_err(sql)?;
            let mut vectors = transaction
                .prepare_cached("INSERT INTO vec (rowid, embedding) VALUES (?, ?)")
                .map_err(sql)?;
            for record in batch.records() {
                let id = self.next_id;
                self.next_id += 1;
                self.blob.clear();
                for v in record.embeddings {
                    self.blob.extend_from_slice(&v.to_le_bytes());
                }
                self.attributes.clear();
                write_attributes(&mut self.attributes, &record.attributes);
                let attributes = String::from_utf8_lossy(&self.attributes);
                records
                    .execute(params![
                        id,
                        record.provider,
                        record.depiction_id,
                        record.subject_id,
                        record.model,
                        attributes,
                        record.created,
                        self.lastmodified
                    ])
                    .map_err(sql)?;
                vectors.execute(params![id, self.blob]).map_err(sql)?;
            }
        }
        transaction.commit().map_err(sql)
    }

    fn finish(self: Box<Self>) -> Result<crate::Finished, ConvertError> {
        let Self {
            output,
            connection,
            dimensions,
            ..
        } = *self;
        let target = output.target().to_path_buf();
        let sql = |e: rusqlite::Error| ConvertError::target(&target, e);
        dimensions.required(&target)?;
        connection.execute_batch(RECORDS_INDEXES).map_err(sql)?;
        connection
            .execute_batch("PRAGMA journal_mode = DELETE; PRAGMA optimize;")
            .map_err(sql)?;
        connection.close().map_err(|(_, e)| sql(e))?;
        // Syncs the file SQLite wrote and renames it into place.
        output.commit().map_err(|e| ConvertError::io(&target, e))?;
        Ok(crate::Finished::default())
    }
}
