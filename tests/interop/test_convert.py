"""`oembeddings convert` against the real engines: round trips through JSON Lines and
fixed-size Parquet, DuckDB's IMPORT DATABASE, SQLite with sqlite-vec (through apsw), the
S3 Vectors service model in botocore, Qdrant's local mode, and the Met's layout."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import apsw
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlite_vec

from conftest import EXAMPLE, Records, emitted, f32, loads, make_records, oe, same_bits, write_go_layout

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/oembeddings/oembeddings/spec/record-key")


@pytest.fixture
def source(tmp_path, records) -> Path:
    return write_go_layout(tmp_path / "in.parquet", records)


def nearest(records: Records, query: np.ndarray, k: int) -> list[str]:
    """Keys of the k records nearest to `query` by Euclidean distance (numpy, float64)."""
    vectors = np.stack(records.embeddings).astype(np.float64)
    d = np.linalg.norm(vectors - query.astype(np.float64), axis=1)
    return [records.key(i) for i in np.argsort(d, kind="stable")[:k]]


# --- round trips -------------------------------------------------------------------------


def test_parquet_jsonl_parquet_is_lossless(tmp_path, source):
    oe("convert", source, tmp_path / "r.jsonl", "--to", "jsonl")
    # The JSON Lines are exactly what `emit` prints (Go's encoding/json bytes).
    assert (tmp_path / "r.jsonl").read_bytes() == oe("emit", source).stdout
    oe("convert", tmp_path / "r.jsonl", tmp_path / "back.parquet")
    assert emitted(tmp_path / "back.parquet") == emitted(source)
    a = pq.read_table(source)
    b = pq.read_table(tmp_path / "back.parquet")
    for x, y in zip(a.column("embeddings").to_pylist(), b.column("embeddings").to_pylist()):
        assert same_bits(x, y)
    assert a.column("attributes").to_pylist() != [] and [sorted(m) for m in a.column("attributes").to_pylist()] == [
        sorted(m) for m in b.column("attributes").to_pylist()
    ]


def test_parquet_fixed_parquet_is_lossless(tmp_path, source):
    oe("convert", source, tmp_path / "fixed.parquet", "--to", "parquet-fixed")
    schema = pq.read_schema(tmp_path / "fixed.parquet")
    assert pa.types.is_fixed_size_list(schema.field("embeddings").type)
    oe("convert", tmp_path / "fixed.parquet", tmp_path / "back.parquet")
    assert oe("emit", tmp_path / "back.parquet").stdout == oe("emit", source).stdout
    assert pq.read_schema(tmp_path / "back.parquet").field("embeddings").type == pa.list_(
        pa.field("element", pa.float32(), nullable=False)
    )


def test_json_summary_and_detection(tmp_path, source):
    oe("convert", source, tmp_path / "r.jsonl", "--to", "jsonl")
    run = oe("convert", tmp_path / "r.jsonl", tmp_path / "x.parquet", "--format", "json")
    summary = run.json()
    assert summary["from"] == "jsonl" and summary["to"] == "parquet"
    assert summary["read"] == summary["written"] == 40 and summary["skipped"] == 0


# --- bad input ---------------------------------------------------------------------------


def test_nan_is_refused_for_json_never_written_as_null(tmp_path, records):
    records.embeddings[3][5] = np.float32("nan")
    src = write_go_layout(tmp_path / "nan.parquet", records)
    for to in ["jsonl", "qdrant"]:
        out = tmp_path / f"out.{to}"
        run = oe("convert", src, out, "--to", to, check=False)
        assert run.code == 1
        assert f"row 3 (key {records.key(3)})" in run.stderr and "NaN" in run.stderr, run.stderr
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.parquet"], "no partial output left"
    run = oe("convert", src, tmp_path / "ok.jsonl", "--to", "jsonl", "--skip-invalid")
    assert "skipped: non-finite" in run.stderr and records.key(3) in run.stderr
    lines = (tmp_path / "ok.jsonl").read_bytes().splitlines()
    assert len(lines) == 39 and b"null" not in b"".join(lines).replace(b'"attributes":null', b"")


def test_duplicate_keys_fail_or_are_listed(tmp_path, records):
    records.depiction_id[9] = records.depiction_id[8]
    records.provider[9] = records.provider[8]
    records.model[9] = records.model[8]
    src = write_go_layout(tmp_path / "dup.parquet", records)
    run = oe("convert", src, tmp_path / "o.db", "--to", "sqlite", check=False)
    assert run.code == 1 and "row 9" in run.stderr and "duplicate-key" in run.stderr
    assert not (tmp_path / "o.db").exists()
    run = oe("convert", src, tmp_path / "o.db", "--to", "sqlite", "--skip-invalid", "--format", "json")
    summary = run.json()
    assert summary["skipped"] == 1 and summary["skips"][0]["row"] == 9
    assert summary["skipped_by_rule"] == {"duplicate-key": 1}


def test_mixed_dimensions_fail_for_one_table(tmp_path, records):
    records.embeddings[4] = records.embeddings[4][:8]
    src = write_go_layout(tmp_path / "mixed.parquet", records)
    for to, out in [("duckdb", "d"), ("sqlite", "s.db"), ("parquet-fixed", "f.parquet")]:
        run = oe("convert", src, tmp_path / out, "--to", to, check=False)
        assert run.code == 1 and "mixed-dimensions" in run.stderr and "row 4" in run.stderr, run.stderr
        assert not (tmp_path / out).exists()
    # The Go layout holds any dimension per record.
    oe("convert", src, tmp_path / "go.parquet")


def test_existing_directory_is_not_replaced_without_force(tmp_path, source):
    out = tmp_path / "export"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    run = oe("convert", source, out, "--to", "duckdb", check=False)
    assert run.code == 1 and "--force" in run.stderr
    assert (out / "precious.txt").read_text() == "keep me"
    oe("convert", source, out, "--to", "duckdb", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["embeddings.parquet", "load.sql", "schema.sql", "vss.sql"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "in.parquet"]


def test_malformed_jsonl_names_the_line(tmp_path, source):
    oe("convert", source, tmp_path / "r.jsonl", "--to", "jsonl")
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    bad = [
        (lines[2].replace('"created":', '"extra":1,"created":'), "unknown field `extra`"),
        (lines[2][:-10], "not a go-embeddingsdb record"),
        (lines[2].replace('"embeddings":[', '"embeddings":["x",'), "embeddings: element 0"),
        (lines[2].replace('"embeddings":[', '"embeddings":[1e39,'), "float32 range"),
        (lines[2].replace('"created":', '"created_":'), "unknown field"),
    ]
    for text, message in bad:
        path = tmp_path / "bad.jsonl"
        path.write_text("\n".join(lines[:2] + [text] + lines[3:]) + "\n")
        run = oe("convert", path, tmp_path / "o.parquet", check=False)
        assert run.code == 1 and "line 3" in run.stderr and message in run.stderr, run.stderr
        assert not (tmp_path / "o.parquet").exists()


# --- DuckDB ------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["parquet", "csv"])
def test_duckdb_imports_and_finds_nearest_neighbours(tmp_path, source, records, data):
    out = tmp_path / "duck"
    oe("convert", source, out, "--to", "duckdb", "--duckdb-data", data)
    # go-embeddingsdb's server imports a directory holding these files (CSV data).
    expected = {"schema.sql", "load.sql", "vss.sql", f"embeddings.{data}"}
    assert {p.name for p in out.iterdir()} == expected
    con = duckdb.connect()  # without the VSS extension, which cannot be downloaded here
    con.execute(f"IMPORT DATABASE '{out}'")
    columns = con.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                          "WHERE table_name = 'embeddings' ORDER BY ordinal_position").fetchall()
    assert columns == [
        ("provider", "VARCHAR", "NO"),
        ("depiction_id", "VARCHAR", "NO"),
        ("subject_id", "VARCHAR", "NO"),
        ("model", "VARCHAR", "NO"),
        ("attributes", "VARCHAR", "NO"),
        ("vec", "FLOAT[16]", "YES"),
        ("created", "BIGINT", "NO"),
        ("lastmodified", "BIGINT", "NO"),
    ]
    indexes = {r[0]: r[1] for r in con.execute("SELECT index_name, is_unique FROM duckdb_indexes()").fetchall()}
    assert indexes == {"id_model": True, "by_provider": False, "by_model": False, "by_lastmod": False}
    rows = con.execute("SELECT provider, depiction_id, subject_id, model, attributes, vec, created "
                       "FROM embeddings").fetchall()
    assert len(rows) == len(records)
    for i, (p, d, s, m, attrs, vec, created) in enumerate(rows):
        assert (p, d, s, m, created) == (records.provider[i], records.depiction_id[i], records.subject_id[i],
                                         records.model[i], records.created[i])
        assert json.loads(attrs) == records.attributes[i]
        assert same_bits(vec, records.embeddings[i]), records.key(i)
    for q in [0, 7, 21]:
        query = records.embeddings[q]
        got = con.execute(
            "SELECT provider || '-' || depiction_id || '-' || model FROM embeddings "
            "ORDER BY array_distance(vec, ?::FLOAT[16]), depiction_id LIMIT 5",
            [query.tolist()],
        ).fetchall()
        assert [g[0] for g in got] == nearest(records, query, 5)
    # The unique index holds: inserting a record again fails.
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO embeddings SELECT * FROM embeddings LIMIT 1")
    assert "USING HNSW (vec)" in (out / "vss.sql").read_text()


# --- SQLite + sqlite-vec -----------------------------------------------------------------


def test_sqlite_vec_knn_match(tmp_path, source, records):
    db = tmp_path / "records.db"
    oe("convert", source, db, "--to", "sqlite")
    con = apsw.Connection(str(db))
    con.enable_load_extension(True)
    sqlite_vec.load(con)
    cols = [(r[1], r[2]) for r in con.execute("PRAGMA table_info(records)")]
    assert cols == [("id", "INTEGER"), ("provider", "TEXT"), ("depiction_id", "TEXT"), ("subject_id", "TEXT"),
                    ("model", "TEXT"), ("attributes", "TEXT"), ("created", "INTEGER"), ("lastmodified", "INTEGER")]
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'vec'").fetchone()[0]
    assert sql == "CREATE VIRTUAL TABLE vec USING vec0(embedding float[16])"
    rows = list(con.execute("SELECT r.provider, r.depiction_id, r.subject_id, r.model, r.attributes, r.created, "
                            "v.embedding FROM records r JOIN vec v ON v.rowid = r.id ORDER BY r.id"))
    assert len(rows) == len(records)
    for i, (p, d, s, m, attrs, created, blob) in enumerate(rows):
        assert (p, d, s, m, created) == (records.provider[i], records.depiction_id[i], records.subject_id[i],
                                         records.model[i], records.created[i])
        assert json.loads(attrs) == records.attributes[i]
        assert blob == records.embeddings[i].astype("<f4").tobytes()
    for q in [1, 12, 33]:
        query = records.embeddings[q]
        got = list(con.execute(
            "SELECT r.provider || '-' || r.depiction_id || '-' || r.model, v.distance FROM vec v "
            "JOIN records r ON r.id = v.rowid WHERE v.embedding MATCH ? AND k = 5 ORDER BY v.distance",
            (query.astype("<f4").tobytes(),),
        ))
        assert [g[0] for g in got] == nearest(records, query, 5)
        assert got[0][1] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(apsw.ConstraintError):
        con.execute("INSERT INTO records (provider, depiction_id, model) "
                    "SELECT provider, depiction_id, model FROM records LIMIT 1")


# --- S3 Vectors --------------------------------------------------------------------------


def s3_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("s3vectors")


def validate_s3(operation: str, body: dict) -> None:
    from botocore.validate import ParamValidator

    shape = s3_model().operation_model(operation).input_shape
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def test_s3vectors_bodies_match_the_service_model(tmp_path, source, records):
    out = tmp_path / "s3"
    oe("convert", source, out, "--to", "s3vectors", "--s3-bucket", "museum-vectors", "--s3-index", "sfom-clip")
    index = json.loads((out / "create-index.json").read_text())
    validate_s3("CreateIndex", index)
    assert index["dimension"] == 16 and index["distanceMetric"] == "cosine"
    assert "subject_title" in index["metadataConfiguration"]["nonFilterableMetadataKeys"]
    bodies = sorted(out.glob("put-vectors-*.json"))
    vectors = []
    for body in bodies:
        data = loads(body.read_text())
        validate_s3("PutVectors", data)
        vectors += data["vectors"]
    assert [v["key"] for v in vectors] == [records.key(i) for i in range(len(records))]
    for i, v in enumerate(vectors):
        assert same_bits(f32(v["data"]["float32"]), records.embeddings[i])
        meta = v["metadata"]
        assert meta["x-created"] == records.created[i]
        assert {k: meta[k] for k in ("x-model", "x-provider", "x-subject-id", "x-depiction-id")} == {
            "x-model": records.model[i], "x-provider": records.provider[i],
            "x-subject-id": records.subject_id[i], "x-depiction-id": records.depiction_id[i]}
        assert {k: x for k, x in meta.items() if not k.startswith("x-")} == records.attributes[i]


def test_s3vectors_requests_respect_count_and_size_limits(tmp_path):
    # 1,200 small vectors: 500 + 500 + 200.
    r = make_records(n=1200, dims=8)
    src = write_go_layout(tmp_path / "many.parquet", r)
    oe("convert", src, tmp_path / "a", "--to", "s3vectors", "--s3-bucket", "bkt", "--s3-index", "idx")
    counts = [len(json.loads(p.read_text())["vectors"]) for p in sorted((tmp_path / "a").glob("put-*.json"))]
    assert counts == [500, 500, 200]
    # 4096-dimension vectors: 500 of them would pass 20 MiB, so requests split by size.
    r = make_records(n=520, dims=4096, seed=3)
    src = write_go_layout(tmp_path / "wide.parquet", r)
    oe("convert", src, tmp_path / "b", "--to", "s3vectors", "--s3-bucket", "bkt", "--s3-index", "idx")
    bodies = sorted((tmp_path / "b").glob("put-*.json"))
    assert len(bodies) >= 2
    assert all(p.stat().st_size <= 20 * 1024 * 1024 for p in bodies)
    assert sum(len(json.loads(p.read_text())["vectors"]) for p in bodies) == 520
    for p in bodies:
        validate_s3("PutVectors", json.loads(p.read_text()))


def test_s3vectors_limits_are_checked_before_writing(tmp_path, records):
    args = ["--to", "s3vectors", "--s3-bucket", "bkt", "--s3-index", "idx"]
    # A zero vector has no cosine distance; euclidean takes it.
    records.embeddings[2] = np.zeros(16, dtype=np.float32)
    records.attributes[5] = {"type": "image", "note": "x" * 3000}
    src = write_go_layout(tmp_path / "z.parquet", records)
    run = oe("convert", src, tmp_path / "z", *args, check=False)
    assert run.code == 1 and "zero-vector" in run.stderr and records.key(2) in run.stderr
    assert not (tmp_path / "z").exists()
    run = oe("convert", src, tmp_path / "z", *args, "--skip-invalid", "--format", "json")
    assert run.json()["skipped_by_rule"] == {"metadata-limit": 1, "zero-vector": 1}
    run = oe("convert", src, tmp_path / "e", *args, "--s3-distance", "euclidean", check=False)
    assert run.code == 1 and "filterable metadata" in run.stderr and "row 5" in run.stderr
    oe("convert", src, tmp_path / "e", *args, "--s3-distance", "euclidean", "--s3-non-filterable", "note")
    # Too many dimensions for an index.
    wide = write_go_layout(tmp_path / "w.parquet", make_records(n=2, dims=4097))
    run = oe("convert", wide, tmp_path / "w", *args, check=False)
    assert run.code == 1 and "dimensions-out-of-range" in run.stderr
    # Keys that collide once formatted.
    r = make_records(n=2, dims=4)
    r.provider, r.depiction_id, r.model = ["a-b", "a"], ["c", "b-c"], ["m", "m"]
    clash = write_go_layout(tmp_path / "k.parquet", r)
    run = oe("convert", clash, tmp_path / "k", *args, check=False)
    assert run.code == 1 and "key-collision" in run.stderr
    # Names the service would refuse.
    run = oe("convert", src, tmp_path / "n", "--to", "s3vectors", "--s3-bucket", "Bad_Name", "--s3-index", "idx",
             check=False)
    assert run.code == 1 and "not valid for S3 Vectors" in run.stderr


# --- Qdrant ------------------------------------------------------------------------------


def test_qdrant_points_load_and_search(tmp_path, source, records):
    from qdrant_client import QdrantClient, models

    out = tmp_path / "points.jsonl"
    oe("convert", source, out, "--to", "qdrant")
    points = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["id"] for p in points] == [str(uuid.uuid5(NAMESPACE, records.key(i))) for i in range(len(records))]
    client = QdrantClient(":memory:")
    client.create_collection("museum", vectors_config=models.VectorParams(size=16, distance=models.Distance.EUCLID))
    client.upsert("museum", points=[models.PointStruct(**p) for p in points])
    assert client.count("museum").count == len(records)
    for q in [0, 17]:
        hits = client.query_points("museum", query=records.embeddings[q].tolist(), limit=5).points
        assert [h.payload["key"] for h in hits] == nearest(records, records.embeddings[q], 5)
        top = hits[0].payload
        assert top["attributes"] == records.attributes[q] and top["created"] == records.created[q]


# --- The Met -----------------------------------------------------------------------------


def met_table(n: int, dims: int, element=pa.float32()) -> pa.Table:
    rng = np.random.default_rng(11)
    return pa.table({
        "objectID": pa.array([436_000 + i for i in range(n)], pa.int64()),
        "embedding": pa.array([rng.standard_normal(dims).astype(np.float32).tolist() for _ in range(n)],
                              pa.list_(element)),
        "model": ["mobileclip-s2"] * n,
        "dim": pa.array([dims] * n, pa.int32()),
    })


def test_met_layout_becomes_records_with_attributes(tmp_path):
    table = met_table(6, 8)
    src = tmp_path / "met.parquet"
    pq.write_table(table, src)
    meta = tmp_path / "MetObjects.csv"
    meta.write_text("\ufeffObject ID,Title,Credit Line\n436000,\"Wheat Field, with Cypresses\",Purchase\n"
                    "436001,Irises,\"Gift of \"\"A\"\"\"\n", encoding="utf-8")
    out = tmp_path / "met-records.parquet"
    oe("convert", src, out, "--created", "1767225600",
       "--provider-name", "The Metropolitan Museum of Art", "--provider-url", "https://www.metmuseum.org/",
       "--subject-url-template", "https://www.metmuseum.org/art/collection/search/{objectID}",
       "--met-metadata", meta, "--met-key", "Object ID",
       "--met-column", "subject_title=Title", "--met-column", "subject_creditline=Credit Line")
    got = emitted(out)
    assert len(got) == 6
    first = got[0]
    assert (first["provider"], first["depiction_id"], first["subject_id"], first["model"], first["created"]) == (
        "metmuseum", "436000", "436000", "mobileclip-s2", 1767225600)
    assert first["attributes"] == {
        "type": "image",
        "provider_name": "The Metropolitan Museum of Art",
        "provider_url": "https://www.metmuseum.org/",
        "subject_url": "https://www.metmuseum.org/art/collection/search/436000",
        "subject_title": "Wheat Field, with Cypresses",
        "subject_creditline": "Purchase",
    }
    assert got[1]["attributes"]["subject_creditline"] == 'Gift of "A"'
    assert "subject_title" not in got[2]["attributes"]
    for i, rec in enumerate(got):
        assert same_bits(f32(rec["embeddings"]), np.asarray(table.column("embedding")[i].as_py(), np.float32))


def test_met_dim_must_match_the_vector(tmp_path):
    table = met_table(4, 8)
    table = table.set_column(3, "dim", pa.array([8, 8, 7, 8], pa.int32()))
    src = tmp_path / "met.parquet"
    pq.write_table(table, src)
    run = oe("convert", src, tmp_path / "o.parquet", "--from", "met", check=False)
    assert run.code == 1 and "row 2" in run.stderr and "dim is 7" in run.stderr, run.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_example_converts_to_every_store(tmp_path):
    for to, out in [("jsonl", "e.jsonl"), ("duckdb", "duck"), ("sqlite", "e.db"), ("qdrant", "q.jsonl"),
                    ("parquet-fixed", "f.parquet")]:
        oe("convert", EXAMPLE, tmp_path / out, "--to", to)
    oe("convert", EXAMPLE, tmp_path / "s3", "--to", "s3vectors", "--s3-bucket", "sfomuseum", "--s3-index", "clip")
    con = duckdb.connect()
    con.execute(f"IMPORT DATABASE '{tmp_path / 'duck'}'")
    assert con.execute("SELECT count(*) FROM embeddings").fetchone()[0] == pq.read_metadata(EXAMPLE).num_rows


def test_parquet_fixed_is_fixed_size_for_daft_and_lancedb(tmp_path, source, records):
    import daft
    import lancedb

    out = tmp_path / "fixed.parquet"
    oe("convert", source, out, "--to", "parquet-fixed")
    dtype = daft.read_parquet(str(out)).schema()["embeddings"].dtype
    assert dtype == daft.DataType.fixed_size_list(daft.DataType.float32(), 16), dtype
    table = pq.read_table(out)
    db = lancedb.connect(tmp_path / "lance")
    lance = db.create_table("museum", table)
    assert lance.count_rows() == len(records)
    for q in [2, 30]:
        hits = lance.search(records.embeddings[q].tolist(), vector_column_name="embeddings").limit(5).to_arrow()
        keys = [f"{p}-{d}-{m}" for p, d, m in zip(hits.column("provider").to_pylist(),
                                                   hits.column("depiction_id").to_pylist(),
                                                   hits.column("model").to_pylist())]
        assert keys == nearest(records, records.embeddings[q], 5)
        assert dict(hits.column("attributes")[0].as_py()) == records.attributes[q]


def test_a_json_lines_name_gets_json_lines(tmp_path):
    """Without --to, OUTPUT's extension decides: .jsonl and .ndjson get JSON Lines (not
    Parquet bytes under a JSON Lines name), anything else Parquet."""
    for name in ("out.jsonl", "out.NDJSON"):
        oe("convert", EXAMPLE, tmp_path / name)
        assert (tmp_path / name).read_bytes().startswith(b"{")
    oe("convert", EXAMPLE, tmp_path / "out.parquet")
    assert (tmp_path / "out.parquet").read_bytes().startswith(b"PAR1")
