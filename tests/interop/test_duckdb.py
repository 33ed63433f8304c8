"""DuckDB reads what we write, and we read what DuckDB writes."""

from __future__ import annotations

import duckdb
import numpy as np

from conftest import EXAMPLE, assert_emitted_equals, emitted, f32, oe, same_bits, write_go_layout


def test_duckdb_reads_our_files_with_identical_values(tmp_path, records):
    out = tmp_path / "ours.parquet"
    oe("convert", write_go_layout(tmp_path / "in.parquet", records), out)
    con = duckdb.connect()
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()}
    assert types == {
        "provider": "VARCHAR",
        "depiction_id": "VARCHAR",
        "subject_id": "VARCHAR",
        "model": "VARCHAR",
        "embeddings": "FLOAT[]",
        "created": "BIGINT",
        "attributes": "MAP(VARCHAR, VARCHAR)",
    }
    rows = con.execute(f"SELECT * FROM read_parquet('{out}')").fetchall()
    assert len(rows) == len(records)
    for i, (provider, depiction, subject, model, vector, created, attributes) in enumerate(rows):
        assert (provider, depiction, subject, model, created) == (
            records.provider[i], records.depiction_id[i], records.subject_id[i], records.model[i], records.created[i]
        )
        assert same_bits(np.asarray(vector, dtype=np.float32), records.embeddings[i])
        assert dict(attributes) == records.attributes[i]
    # The footer statistics are visible to DuckDB users too.
    kv = dict(con.execute(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{out}')").fetchall())
    assert kv["embeddingsdb:models"] == "siglip2;mobileclip"


def test_we_read_what_duckdb_writes(tmp_path, records):
    con = duckdb.connect()
    src = write_go_layout(tmp_path / "in.parquet", records)
    variants = {
        # DuckDB's own rendering of the Go layout: FLOAT[] and MAP(VARCHAR, VARCHAR).
        "list": f"SELECT * FROM read_parquet('{src}')",
        # Fixed-size FLOAT[16] arrays (DuckDB's VSS type), columns in another order,
        # created as a TIMESTAMP.
        "array": f"""SELECT attributes, embeddings::FLOAT[16] AS embeddings, model, subject_id,
                    depiction_id, provider, to_timestamp(created) AS created FROM read_parquet('{src}')""",
        # DOUBLE[] vectors (exact float32 values) and JSON attributes.
        "double-json": f"""SELECT provider, depiction_id, subject_id, model, embeddings::DOUBLE[] AS embeddings,
                    created, to_json(attributes)::VARCHAR AS attributes FROM read_parquet('{src}')""",
    }
    for name, query in variants.items():
        path = tmp_path / f"duckdb-{name}.parquet"
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        assert_emitted_equals(path, records)


def test_example_through_duckdb_and_back(tmp_path):
    con = duckdb.connect()
    path = tmp_path / "copy.parquet"
    con.execute(f"COPY (SELECT * FROM read_parquet('{EXAMPLE}')) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    ours, theirs = emitted(EXAMPLE), emitted(path)
    assert len(ours) == len(theirs) == 24
    for a, b in zip(ours, theirs):
        assert same_bits(f32(a["embeddings"]), f32(b["embeddings"]))
        assert a == b
