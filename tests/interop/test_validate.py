"""Files written by pyarrow, DuckDB and oembeddings validate as they should, and the
validator's counts agree with numpy's on the same data."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.parquet as pq

from conftest import go_table, make_records, oe, write_go_layout


def clean_records(n: int = 200, dims: int = 32):
    """One provider, one model, unit vectors, full OEmbeddings attributes."""
    r = make_records(n=n, dims=dims, seed=4)
    r.provider = ["sfomuseum"] * n
    r.model = ["mobileclip"] * n
    for i in range(n):
        v = np.random.default_rng(i).standard_normal(dims).astype(np.float32)
        r.embeddings[i] = v / np.float32(np.linalg.norm(v))
        r.attributes[i] = {
            "type": "image",
            "preview": f"https://static.sfomuseum.org/media/{i}_z.jpg",
            "subject_url": f"https://collection.sfomuseum.org/objects/{i}/",
            "subject_title": "Postcard <SFO> & \u2028",
            "subject_creditline": "",
            "provider_name": "SFO Museum",
            "provider_url": "x-sfomuseum:object:1846754371",
        }
    return r


def findings(path, *args) -> tuple[int, dict]:
    run = oe("validate", "--format", "json", "--max-errors", "0", *args, path, check=False)
    report = run.json()
    return run.code, report["files"][0]


def rules(file) -> set[str]:
    return {f["rule"] for f in file["findings"]}


def test_pyarrow_file_needs_only_statistics_then_ours_is_clean(tmp_path):
    r = clean_records()
    path = write_go_layout(tmp_path / "sfomuseum-pyarrow-32-mobileclip-20260601.parquet", r)
    code, file = findings(path)
    assert (code, rules(file)) == (0, {"OE301"}), file["findings"]
    oe("stats", path, "--append")
    code, file = findings(path)
    assert (code, file["findings"], file["records"]) == (0, [], 200)

    ours = tmp_path / "sfomuseum-ours-32-mobileclip-20260601.parquet"
    oe("convert", path, ours)
    assert findings(ours)[1]["findings"] == []
    assert findings(ours, "--metadata-only")[1]["findings"] == []


def test_duckdb_copy_loses_statistics_but_nothing_else(tmp_path):
    r = clean_records()
    src = write_go_layout(tmp_path / "in.parquet", r)
    out = tmp_path / "sfomuseum-duckdb-32-mobileclip-20260601.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{src}')) TO '{out}' (FORMAT parquet)")
    code, file = findings(out)
    assert (code, rules(file)) == (0, {"OE301"}), file["findings"]


def test_counts_agree_with_numpy(tmp_path):
    r = clean_records(n=500, dims=16)
    rng = np.random.default_rng(1)
    for i in rng.choice(500, 37, replace=False):
        r.embeddings[i][rng.integers(16)] = np.nan if i % 2 else np.inf
    for i in range(0, 500, 50):
        r.embeddings[i][:] = 0.0
    r.depiction_id[7] = r.depiction_id[8]
    r.created[20] = -5
    path = write_go_layout(tmp_path / "sfomuseum-bad-16-mobileclip-20260601.parquet", r)
    code, file = findings(path)
    assert code == 1

    table = pq.read_table(path)
    vectors = np.stack([np.asarray(v, dtype=np.float32) for v in table.column("embeddings").to_pylist()])
    nonfinite = int((~np.isfinite(vectors).all(axis=1)).sum())
    zero = int((vectors == 0).all(axis=1).sum())
    keys = table.select(["provider", "depiction_id", "model"]).to_pylist()
    duplicates = len(keys) - len({tuple(k.values()) for k in keys})
    counts: dict[str, int] = {}
    for f in file["findings"]:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    assert counts.get("OE112") == nonfinite == 37
    assert counts.get("OE113") == zero - sum(1 for i in range(0, 500, 50) if not np.isfinite(vectors[i]).all())
    assert counts.get("OE120") == duplicates == 1
    assert counts.get("OE130") == 1
    assert file["errors"] == nonfinite + duplicates + 1
