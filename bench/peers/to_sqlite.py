#!/usr/bin/env python3
"""The script a user would write to load an embeddings Parquet file into go-embeddingsdb's
SQLite schema, searchable with sqlite-vec: the peer of `oembeddings convert FILE OUT --to
sqlite` in bench/run.py.

    .venv/bin/python bench/peers/to_sqlite.py INPUT.parquet OUTPUT.db

pyarrow reads the file in batches; apsw rather than the standard library's sqlite3, which
on many CPython builds (this machine's among them) cannot load extensions; `sqlite_vec.load`
for the vec0 table. The same tables, indexes and pragmas as ours: rows inserted with
executemany in one transaction, the indexes built after the rows are in.
"""

import json
import sys
import time

import apsw
import pyarrow.parquet as pq
import sqlite_vec

RECORDS = """CREATE TABLE records (
       id INTEGER PRIMARY KEY,
       provider TEXT,
       depiction_id TEXT,
       subject_id TEXT,
       model TEXT,
       attributes TEXT,
       created INTEGER,
       lastmodified INTEGER
)"""

INDEXES = """CREATE UNIQUE INDEX id_model ON records (provider, depiction_id, model);
CREATE INDEX by_model ON records (model, provider, created);
CREATE INDEX by_lastmod ON records (lastmodified);"""


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    conn = apsw.Connection(dst)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    conn.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;")

    now = int(time.time())
    next_id = 1
    dimensions = None
    conn.execute("BEGIN")
    for batch in pq.ParquetFile(src).iter_batches(batch_size=8192):
        n = batch.num_rows
        vectors = batch.column("embeddings").flatten().to_numpy().reshape(n, -1)
        if dimensions is None:
            dimensions = vectors.shape[1]
            conn.execute(RECORDS)
            conn.execute(f"CREATE VIRTUAL TABLE vec USING vec0(embedding float[{dimensions}])")
        ids = range(next_id, next_id + n)
        next_id += n
        attributes = [json.dumps(dict(a), sort_keys=True, separators=(",", ":")) for a in batch.column("attributes").to_pylist()]
        conn.executemany(
            "INSERT INTO records (id, provider, depiction_id, subject_id, model, attributes, created, lastmodified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            zip(ids, batch.column("provider").to_pylist(), batch.column("depiction_id").to_pylist(),
                batch.column("subject_id").to_pylist(), batch.column("model").to_pylist(), attributes,
                batch.column("created").to_pylist(), [now] * n),
        )
        conn.executemany("INSERT INTO vec (rowid, embedding) VALUES (?, ?)", ((i, v.tobytes()) for i, v in zip(ids, vectors)))
    conn.execute(INDEXES)
    conn.execute("COMMIT")
    conn.close()


if __name__ == "__main__":
    main()
