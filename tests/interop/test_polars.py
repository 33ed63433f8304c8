"""polars reads what we write, and we read what polars writes."""

from __future__ import annotations

import numpy as np
import polars as pl

from conftest import assert_emitted_equals, oe, same_bits, write_go_layout


def test_polars_reads_our_files_with_identical_values(tmp_path, records):
    out = tmp_path / "ours.parquet"
    oe("convert", write_go_layout(tmp_path / "in.parquet", records), out)
    df = pl.read_parquet(out)
    assert df.columns == ["provider", "depiction_id", "subject_id", "model", "embeddings", "created", "attributes"]
    assert df.schema["embeddings"] == pl.List(pl.Float32)
    assert df.schema["created"] == pl.Int64
    assert df.schema["attributes"] == pl.Map(pl.String, pl.String)
    for i, row in enumerate(df.iter_rows(named=True)):
        assert row["depiction_id"] == records.depiction_id[i]
        assert same_bits(np.asarray(row["embeddings"], dtype=np.float32), records.embeddings[i])
        assert row["attributes"] == records.attributes[i]

    fixed = tmp_path / "fixed.parquet"
    oe("convert", out, fixed, "--to", "parquet-fixed")
    assert pl.read_parquet(fixed).schema["embeddings"] == pl.Array(pl.Float32, 16)


def test_we_read_what_polars_writes(tmp_path, records):
    df = pl.DataFrame(
        {
            "provider": records.provider,
            "depiction_id": records.depiction_id,
            "subject_id": records.subject_id,
            "model": records.model,
            "embeddings": [v.tolist() for v in records.embeddings],
            "created": records.created,
            "attributes": [[{"key": k, "value": v} for k, v in a.items()] for a in records.attributes],
        },
        schema={
            "provider": pl.String,
            "depiction_id": pl.String,
            "subject_id": pl.String,
            "model": pl.Categorical,
            "embeddings": pl.List(pl.Float32),
            "created": pl.Int64,
            "attributes": pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
        },
    )
    path = tmp_path / "polars-list.parquet"
    df.write_parquet(path)
    assert_emitted_equals(path, records)

    # polars 2 has a Map type, written as a Parquet MAP.
    path = tmp_path / "polars-map.parquet"
    df.with_columns(pl.col("attributes").cast(pl.Map(pl.String, pl.String))).write_parquet(path)
    assert_emitted_equals(path, records)
    assert oe("inspect", path, "--json").json()["layout"]["attributes"] == "map"

    path = tmp_path / "polars-array.parquet"
    df.with_columns(pl.col("embeddings").cast(pl.Array(pl.Float32, 16))).write_parquet(path)
    assert_emitted_equals(path, records)
    assert oe("inspect", path, "--json").json()["layout"]["vectors"] == {"kind": "fixed-size-list", "dimensions": 16}
