#!/usr/bin/env python3
"""The script a user would write to load an embeddings Parquet file into PostgreSQL with
pgvector: the peer of `oembeddings convert FILE postgresql://... --to pgvector` in
bench/run.py.

    .venv/bin/python bench/peers/to_pgvector.py INPUT.parquet postgresql://... TABLE

pyarrow reads the file in batches; psycopg inserts the rows with executemany in one
transaction, each vector as pgvector's text form ('[0.1,0.2,...]') and the attributes as
jsonb. The same extension, table, unique key and column types as ours.
"""

import json
import sys

import psycopg
import pyarrow.parquet as pq


def main() -> None:
    src, url, table = sys.argv[1], sys.argv[2], sys.argv[3]
    with psycopg.connect(url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        created = False
        for batch in pq.ParquetFile(src).iter_batches(batch_size=8192):
            n = batch.num_rows
            vectors = batch.column("embeddings").flatten().to_numpy().reshape(n, -1)
            if not created:
                conn.execute(
                    f"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                    "provider text NOT NULL, depiction_id text NOT NULL, subject_id text NOT NULL, "
                    f"model text NOT NULL, embeddings vector({vectors.shape[1]}) NOT NULL, "
                    "created bigint NOT NULL, attributes jsonb NOT NULL, "
                    "UNIQUE (provider, depiction_id, model))"
                )
                created = True
            rows = zip(
                batch.column("provider").to_pylist(),
                batch.column("depiction_id").to_pylist(),
                batch.column("subject_id").to_pylist(),
                batch.column("model").to_pylist(),
                ("[" + ",".join(map(repr, v.tolist())) + "]" for v in vectors),
                batch.column("created").to_pylist(),
                (json.dumps(dict(a)) for a in batch.column("attributes").to_pylist()),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {table} (provider, depiction_id, subject_id, model, embeddings, "
                    "created, attributes) VALUES (%s, %s, %s, %s, %s::vector, %s, %s::jsonb)",
                    list(rows),
                )
        conn.commit()


if __name__ == "__main__":
    main()
