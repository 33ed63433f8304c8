#!/usr/bin/env python3
"""The script a user would write to load an embeddings Parquet file into a Chroma server:
the peer of `oembeddings convert FILE http://HOST:PORT --to chroma` in bench/run.py (and
what SkyPilot's build_vectordb.py does with its parts, minus the unpickling).

    .venv/bin/python bench/peers/to_chroma.py INPUT.parquet http://HOST:PORT COLLECTION

The chromadb client adds the same batches as ours (the server's max_batch_size records),
with the same ids (record keys), the vectors as numpy float32 arrays (the client sends them
as base64 when the server supports it) and the same metadata (x-provider, x-depiction-id,
x-subject-id, x-model, x-created, x-row and the attributes), into a collection of the
cosine space.
"""

import sys

import chromadb
import pyarrow.parquet as pq


def main() -> None:
    src, url, name = sys.argv[1], sys.argv[2], sys.argv[3]
    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port))
    collection = client.create_collection(name, configuration={"hnsw": {"space": "cosine"}})
    batch_size = client.get_max_batch_size()
    row = 0
    for batch in pq.ParquetFile(src).iter_batches(batch_size=batch_size):
        n = batch.num_rows
        vectors = batch.column("embeddings").flatten().to_numpy().reshape(n, -1)
        providers = batch.column("provider").to_pylist()
        depictions = batch.column("depiction_id").to_pylist()
        subjects = batch.column("subject_id").to_pylist()
        models = batch.column("model").to_pylist()
        created = batch.column("created").to_pylist()
        attributes = batch.column("attributes").to_pylist()
        ids, metadatas = [], []
        for i in range(n):
            ids.append(f"{providers[i]}-{depictions[i]}-{models[i]}")
            metadata = {"x-provider": providers[i], "x-depiction-id": depictions[i], "x-subject-id": subjects[i],
                        "x-model": models[i], "x-created": created[i], "x-row": row}
            metadata.update(attributes[i])
            metadatas.append(metadata)
            row += 1
        collection.add(ids=ids, embeddings=vectors, metadatas=metadatas)


if __name__ == "__main__":
    main()
