#!/usr/bin/env python3
"""The script a user would write to turn an embeddings Parquet file into go-embeddingsdb's
DuckDB database, exported for `IMPORT DATABASE`: the peer of `oembeddings convert FILE OUTDIR
--to duckdb` in bench/run.py.

    .venv/bin/python bench/peers/to_duckdb.py INPUT.parquet OUTDIR

pyarrow reads the file; the attributes map becomes JSON text with json.dumps per row; DuckDB
takes the Arrow table as it is (registered, no copy), casts the vectors to FLOAT[N] into
go-embeddingsdb's table, builds the indexes after the rows are in, and `EXPORT DATABASE`
writes the directory.
"""

import json
import sys
import time

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    table = pq.read_table(src)
    dimensions = pc.list_value_length(table.column("embeddings")).to_numpy()[0]
    attributes = pa.array(
        [json.dumps(dict(a), sort_keys=True, separators=(",", ":")) for a in table.column("attributes").to_pylist()],
        pa.string(),
    )
    table = table.set_column(table.schema.get_field_index("attributes"), "attributes", attributes)

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE embeddings(provider TEXT NOT NULL, depiction_id TEXT NOT NULL, subject_id TEXT NOT NULL, "
        f"model TEXT NOT NULL, attributes TEXT NOT NULL, vec FLOAT[{dimensions}], created BIGINT NOT NULL, "
        "lastmodified BIGINT NOT NULL)"
    )
    con.register("source", table)
    con.execute(
        "INSERT INTO embeddings SELECT provider, depiction_id, subject_id, model, attributes, "
        f"embeddings::FLOAT[{dimensions}], created, {int(time.time())} FROM source"
    )
    con.execute("CREATE UNIQUE INDEX id_model ON embeddings (provider, depiction_id, model)")
    con.execute("CREATE INDEX by_provider ON embeddings (provider, model, created)")
    con.execute("CREATE INDEX by_model ON embeddings (model, provider, created)")
    con.execute("CREATE INDEX by_lastmod ON embeddings (lastmodified)")
    con.execute(f"EXPORT DATABASE '{dst}' (FORMAT parquet)")
    con.close()


if __name__ == "__main__":
    main()
