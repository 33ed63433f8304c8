"""pyarrow reads what we write, and we read what pyarrow writes, value for value."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import (
    EXAMPLE,
    Records,
    assert_emitted_equals,
    emitted,
    f32,
    go_schema,
    go_table,
    make_records,
    oe,
    same_bits,
    write_go_layout,
)


def test_pyarrow_reads_our_go_layout_with_identical_values(tmp_path, records):
    src = write_go_layout(tmp_path / "in.parquet", records)
    out = tmp_path / "out.parquet"
    oe("convert", src, out)
    table = pq.read_table(out)
    assert table.schema.remove_metadata() == go_schema()
    meta = pq.read_metadata(out).metadata
    assert b"ARROW:schema" not in meta
    assert meta[b"embeddingsdb:models"] == b"siglip2;mobileclip"
    assert meta[b"embeddingsdb:providers"] == b"nga;sfomuseum"
    assert meta[b"embeddingsdb:model:mobileclip:dimensions"] == b"16"
    assert meta[b"oembeddings:records"] == str(len(records)).encode()
    for i, row in enumerate(table.to_pylist()):
        assert row["provider"] == records.provider[i]
        assert row["depiction_id"] == records.depiction_id[i]
        assert same_bits(row["embeddings"], records.embeddings[i])
        assert row["created"] == records.created[i]
        assert dict(row["attributes"]) == records.attributes[i]


def test_parquet_schema_and_column_settings_are_the_go_tools(tmp_path, records):
    out = tmp_path / "out.parquet"
    oe("convert", write_go_layout(tmp_path / "in.parquet", records), out)
    f = pq.ParquetFile(out)
    text = str(f.schema)
    for expected in [
        "required binary field_id=-1 provider (String);",
        "required group field_id=-1 embeddings (List) {\n    repeated group field_id=-1 list {\n      required float field_id=-1 element;",
        "required int64 field_id=-1 created;",
        "required group field_id=-1 attributes (Map) {\n    repeated group field_id=-1 key_value {\n      required binary field_id=-1 key (String);\n      required binary field_id=-1 value (String);",
    ]:
        assert expected in text, text
    names = [f.schema.column(i).path for i in range(len(f.schema))]
    assert names == [
        "provider",
        "depiction_id",
        "subject_id",
        "model",
        "embeddings.list.element",
        "created",
        "attributes.key_value.key",
        "attributes.key_value.value",
    ]
    rg = f.metadata.row_group(0)
    for i, name in enumerate(names):
        col = rg.column(i)
        strings = name in ("provider", "depiction_id", "subject_id", "model")
        assert col.has_dictionary_page == strings, name
        assert col.compression == ("ZSTD" if strings else "UNCOMPRESSED"), name
        if name == "embeddings.list.element":
            assert "PLAIN" in col.encodings and "RLE_DICTIONARY" not in col.encodings


LAYOUTS = ["go", "fixed-hint", "large-list-f64", "list-f16", "json-attributes", "reordered-extra", "dictionary-large-view", "kv-list"]


def layout_table(r: Records, layout: str) -> tuple[pa.Table, bool, list[np.ndarray]]:
    """A table in `layout`, whether to store the ARROW:schema hint, and the vectors expected back."""
    t = go_table(r)
    vectors = r.embeddings
    if layout == "go":
        return t, False, vectors
    if layout == "fixed-hint":
        dims = len(r.embeddings[0])
        flat = pa.array(np.concatenate(r.embeddings), pa.float32())
        return t.set_column(4, "embeddings", pa.FixedSizeListArray.from_arrays(flat, dims)), True, vectors
    if layout == "large-list-f64":
        col = pa.array([v.astype(np.float64).tolist() for v in r.embeddings], pa.large_list(pa.float64()))
        return t.set_column(4, "embeddings", col), True, vectors
    if layout == "list-f16":
        # float16 tops out at 65504: larger specials would become infinities.
        halves = [np.clip(v, -60000, 60000).astype(np.float16) for v in r.embeddings]
        col = pa.array([h.tolist() for h in halves], pa.list_(pa.float16()))
        return t.set_column(4, "embeddings", col), True, [h.astype(np.float32) for h in halves]
    if layout == "json-attributes":
        col = pa.array([json.dumps(a) for a in r.attributes], pa.string())
        return t.set_column(6, "attributes", col), False, vectors
    if layout == "reordered-extra":
        t = t.append_column("note", pa.array(["x"] * len(r)))
        return t.select(["note", "attributes", "created", "embeddings", "model", "subject_id", "depiction_id", "provider"]), False, vectors
    if layout == "dictionary-large-view":
        t = t.set_column(0, "provider", pa.array(r.provider).dictionary_encode())
        t = t.set_column(1, "depiction_id", pa.array(r.depiction_id, pa.large_string()))
        t = t.set_column(2, "subject_id", pa.array(r.subject_id, pa.string_view()))
        return t, True, vectors
    if layout == "kv-list":
        kv = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
        col = pa.array([[{"key": k, "value": v} for k, v in a.items()] for a in r.attributes], kv)
        return t.set_column(6, "attributes", col), True, vectors
    raise AssertionError(layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_we_read_every_layout_pyarrow_writes(tmp_path, records, layout):
    table, hint, vectors = layout_table(records, layout)
    path = tmp_path / f"{layout}.parquet"
    pq.write_table(table, path, store_schema=hint)
    assert_emitted_equals(path, records, vectors=vectors)
    info = oe("inspect", path, "--json").json()
    assert info["rows"] == len(records)
    assert info["layout"]["arrow_schema_hint"] == hint
    expected_kind = {"go": "go-embeddingsdb", "fixed-hint": "fixed-size-list"}.get(layout, "compatible")
    # pyarrow's Go-layout file names the list child "element" and has required fields:
    # exactly the Go tool's Parquet schema.
    assert info["layout_kind"] == expected_kind
    # Converting to the Go layout keeps every value.
    out = tmp_path / f"{layout}-go.parquet"
    oe("convert", path, out)
    assert_emitted_equals(out, records, vectors=vectors)


def test_float64_that_loses_precision_is_reported(tmp_path, records):
    t = go_table(records)
    col = pa.array([(v.astype(np.float64) + 1e-12).tolist() for v in records.embeddings], pa.list_(pa.float64()))
    path = tmp_path / "f64.parquet"
    pq.write_table(t.set_column(4, "embeddings", col), path)
    run = oe("convert", path, tmp_path / "out.parquet")
    assert "float64 vector elements changed when narrowed to float32 (first in row 0)" in run.stderr


def test_fixed_output_is_fixed_for_pyarrow_and_round_trips_bit_identically(tmp_path):
    fixed = tmp_path / "fixed.parquet"
    back = tmp_path / "back.parquet"
    oe("convert", EXAMPLE, fixed, "--to", "parquet-fixed")
    t = pq.read_table(fixed)
    assert t.schema.field("embeddings").type == pa.list_(pa.field("element", pa.float32(), nullable=False), 512)
    assert b"embeddingsdb:models" in pq.read_metadata(fixed).metadata
    assert oe("inspect", fixed, "--json").json()["layout_kind"] == "fixed-size-list"
    oe("convert", fixed, back, "--vector-layout", "go")
    assert oe("emit", EXAMPLE).stdout == oe("emit", fixed).stdout == oe("emit", back).stdout
    assert pq.read_table(back).equals(pq.read_table(EXAMPLE))


def test_stats_append_replaces_only_the_footer(tmp_path, records):
    path = tmp_path / "in.parquet"
    t = go_table(records).replace_schema_metadata(
        {"publisher": "SFO Museum", "embeddingsdb:models": "stale", "embeddingsdb:model:gone:dimensions": "3"}
    )
    # store_schema keeps the custom keys (and an ARROW:schema key, which must be kept too).
    pq.write_table(t, path, store_schema=True, write_page_index=True, row_group_size=7)
    before = path.read_bytes()
    data_end = len(before) - 8 - int.from_bytes(before[-8:-4], "little")
    original = pq.read_table(path)

    copy = tmp_path / "copy.parquet"
    oe("stats", path, "--append", "-o", copy)
    assert path.read_bytes() == before
    oe("stats", path, "--append")
    after = path.read_bytes()
    assert after[:data_end] == before[:data_end]
    assert after == copy.read_bytes()
    assert pq.read_table(path).equals(original)
    meta = pq.read_metadata(path).metadata
    assert meta[b"publisher"] == b"SFO Museum"
    assert b"ARROW:schema" in meta
    assert meta[b"embeddingsdb:models"] == b"siglip2;mobileclip"
    assert b"embeddingsdb:model:gone:dimensions" not in meta
    stats = oe("stats", path, "--json").json()
    assert {k.encode(): v.encode() for k, v in stats.items()}.items() <= meta.items()
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == 6
    assert f.metadata.row_group(0).column(0).has_offset_index


def test_stats_reports_stale_and_absent_footer_statistics(tmp_path, records):
    path = write_go_layout(tmp_path / "in.parquet", records)
    run = oe("stats", path)
    assert "footer holds no statistics" in run.stderr
    assert ["embeddingsdb:model:siglip2:dimensions", "16"] in [line.split() for line in run.text.splitlines()]
    oe("stats", path, "--append")
    assert "up to date" in oe("stats", path).stderr


def test_emit_and_inspect_on_our_example(tmp_path):
    recs = emitted(EXAMPLE)
    assert len(recs) == 24
    table = pq.read_table(EXAMPLE)
    for rec, row in zip(recs, table.to_pylist()):
        assert same_bits(f32(rec["embeddings"]), row["embeddings"])
        assert rec["attributes"] == dict(row["attributes"])
    info = oe("inspect", EXAMPLE, "--json").json()
    assert info["layout_kind"] == "go-embeddingsdb"
    assert info["has_statistics"] is True
    assert {kv["key"] for kv in info["key_values"]} >= {"embeddingsdb:models", "oembeddings:records"}


def test_big_example_set_round_trips(tmp_path):
    r = make_records(n=3000, dims=384, seed=11)
    src = write_go_layout(tmp_path / "in.parquet", r, row_group_size=500)
    out = tmp_path / "out.parquet"
    oe("convert", src, out)
    assert pq.read_table(out).equals(pq.read_table(src).cast(go_schema()))


@pytest.mark.parametrize(
    "options",
    [
        {"data_page_version": "2.0", "compression": "zstd", "data_page_size": 512},
        {"data_page_version": "1.0", "compression": "snappy", "data_page_size": 100, "write_batch_size": 3},
        {"data_page_version": "1.0", "compression": "none", "row_group_size": 7},
    ],
)
def test_go_layout_pages_of_every_shape_read_identically(tmp_path, options):
    # Variable lengths and empty vectors in the Go tool's exact schema, PLAIN floats: the
    # layout oembeddings decodes directly, with pages split every which way.
    r = make_records(n=60, dims=40, seed=2)
    for i in range(0, 60, 9):
        r.embeddings[i] = r.embeddings[i][: i % 5]
    path = tmp_path / "pages.parquet"
    pq.write_table(go_table(r), path, store_schema=False, use_dictionary=["provider", "depiction_id", "subject_id", "model"], **options)
    assert oe("inspect", path, "--json").json()["layout_kind"] == "go-embeddingsdb"
    assert_emitted_equals(path, r)
