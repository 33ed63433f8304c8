"""Bad input gets one clear line naming the file, the row or record key and the rule:
never a panic, never a partial output file, never a changed input."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import EXAMPLE, go_schema, go_table, make_records, oe


def error_line(run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), run.stderr
    return lines[0]


def relaxed(table: pa.Table) -> pa.Table:
    """The table with every field nullable, so that nulls can be written."""
    def loosen(t: pa.DataType) -> pa.DataType:
        if pa.types.is_list(t):
            return pa.list_(pa.field(t.value_field.name, loosen(t.value_type), nullable=True))
        if pa.types.is_map(t):
            return pa.map_(t.key_type, pa.field("value", t.item_type, nullable=True))
        return t
    schema = pa.schema([pa.field(f.name, loosen(f.type), nullable=True) for f in table.schema])
    return table.cast(schema)


@pytest.fixture
def base(records):
    return relaxed(go_table(records))


def write(tmp_path, name, table, **kw):
    path = tmp_path / name
    pq.write_table(table, path, store_schema=False, **kw)
    return path


COMMANDS = [["emit"], ["stats"], ["convert", "{out}"], ["name"]]


def run_all(path, tmp_path):
    """Every reading command on `path`: each fails with exit 1 and leaves no output file."""
    lines = []
    for command in COMMANDS:
        out = tmp_path / "out.parquet"
        args = [a.format(out=out) for a in command]
        run = oe(args[0], path, *args[1:], check=False)
        assert run.code == 1, (command, run.stderr)
        lines.append(error_line(run))
        assert not out.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.parquet")] == []
    return lines


def test_null_vector(tmp_path, records, base):
    vectors = base.column("embeddings").to_pylist()
    vectors[5] = None
    path = write(tmp_path, "null-vector.parquet", base.set_column(4, "embeddings", pa.array(vectors, base.schema.field("embeddings").type)))
    # stats and name read no vectors but each model's first; emit and convert read them all.
    for command in (["emit"], ["convert", str(tmp_path / "out.parquet")]):
        line = error_line(oe(command[0], path, *command[1:], check=False))
        assert f"{path}: row 5 (key {records.key(5)}): column 'embeddings' is null" in line
    assert not (tmp_path / "out.parquet").exists()


def test_null_vector_element(tmp_path, records, base):
    vectors = base.column("embeddings").to_pylist()
    vectors[7][3] = None
    path = write(tmp_path, "null-element.parquet", base.set_column(4, "embeddings", pa.array(vectors, base.schema.field("embeddings").type)))
    line = error_line(oe("emit", path, check=False))
    assert f"row 7 (key {records.key(7)}): embeddings element 3 is null" in line


def test_null_attribute_value(tmp_path, records, base):
    attrs = [list(a.items()) for a in records.attributes]
    attrs[2] = [("type", "image"), ("subject_title", None)]
    col = pa.array(attrs, base.schema.field("attributes").type)
    path = write(tmp_path, "null-attr.parquet", base.set_column(6, "attributes", col))
    line = error_line(oe("convert", path, tmp_path / "x.parquet", check=False))
    assert f"{path}: row 2 (key {records.key(2)}): attribute 'subject_title' has a null value" in line


def test_truncated_and_not_parquet_and_directory(tmp_path):
    data = EXAMPLE.read_bytes()
    cases = {
        "truncated.parquet": (data[: len(data) // 2], "no PAR1 magic at the end"),
        "csv.parquet": (b"provider,model\n", "not a Parquet file: no PAR1 magic at the start"),
        "empty.parquet": (b"", "not a Parquet file: file is empty"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for line in run_all(path, tmp_path):
            assert line.startswith(f"error: {path}: ") and message in line, line
    run = oe("inspect", tmp_path, check=False)
    assert run.code == 1 and "is a directory" in error_line(run)
    run = oe("inspect", tmp_path / "missing.parquet", check=False)
    assert run.code == 1 and "missing.parquet: No such file or directory" in error_line(run)


def test_wrong_and_missing_columns(tmp_path, base):
    path = write(tmp_path, "missing.parquet", base.drop_columns(["created"]))
    assert error_line(oe("inspect", path, check=False)) == f"error: {path}: required column 'created' is missing"
    path = write(tmp_path, "wrong.parquet", base.set_column(4, "embeddings", pa.array(["x"] * base.num_rows)))
    line = error_line(oe("inspect", path, check=False))
    assert f"{path}: column 'embeddings' has type utf8" in line.lower() and "expected a list" in line


def test_zero_rows(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.Table.from_pylist([], schema=go_schema()), path, store_schema=False)
    assert oe("emit", path).stdout == b""
    assert oe("stats", path, "--json").json()["oembeddings:records"] == "0"
    assert oe("inspect", path, "--json").json()["rows"] == 0
    run = oe("name", path, check=False)
    assert run.code == 1  # not a conventional name
    oe("stats", path, "--append")
    oe("convert", path, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0


def test_huge_vector_and_huge_attribute_map(tmp_path):
    r = make_records(n=2, dims=100_000)
    r.attributes[0] = {f"k{i}": str(i) for i in range(50_000)}
    path = tmp_path / "huge.parquet"
    pq.write_table(go_table(r), path, store_schema=False)
    assert oe("stats", path, "--json").json()["embeddingsdb:model:siglip2:dimensions"] == "100000"
    out = tmp_path / "out.parquet"
    oe("convert", path, out)
    assert pq.read_table(out).equals(pq.read_table(path))


def test_invalid_utf8_footer_key_values(tmp_path, records):
    path = tmp_path / "kv.parquet"
    t = go_table(records).replace_schema_metadata({b"bad\xffkey": b"\xfe value"})
    pq.write_table(t, path, store_schema=True)
    info = oe("inspect", path, "--json").json()
    bad = [kv for kv in info["key_values"] if kv["escaped"]]
    assert bad == [{"key": "bad\\xffkey", "value": "\\xfe value", "escaped": True}]
    assert len(oe("emit", path).stdout.splitlines()) == len(records)
    # Appending statistics keeps the undecodable key byte for byte.
    oe("stats", path, "--append")
    assert pq.read_metadata(path).metadata[b"bad\xffkey"] == b"\xfe value"


def test_nan_cannot_be_emitted_as_json(tmp_path, records):
    records.embeddings[3][2] = float("nan")
    path = tmp_path / "nan.parquet"
    pq.write_table(go_table(records), path, store_schema=False)
    run = oe("emit", path, check=False)
    assert run.code == 1
    assert f"row 3 (key {records.key(3)}): json: unsupported value: NaN (float32 element 2)" in error_line(run)
    assert len(run.stdout.splitlines()) == 3
    # Parquet carries NaN: conversion keeps it.
    out = tmp_path / "out.parquet"
    oe("convert", path, out)
    assert pq.read_table(out).column("embeddings")[3].as_py()[2] != pq.read_table(out).column("embeddings")[3].as_py()[2]


def test_failed_conversion_leaves_no_file_and_keeps_existing_output(tmp_path, records):
    records.embeddings[9] = records.embeddings[9][:5]
    path = tmp_path / "mixed.parquet"
    pq.write_table(go_table(records), path, store_schema=False)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous")
    run = oe("convert", path, out, "--to", "parquet-fixed", check=False)
    assert run.code == 1
    assert f"row 9 (key {records.key(9)}): mixed-dimensions: vector has 5 dimensions but a fixed-size-list Parquet file holds one dimension, 16" in error_line(run)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed.parquet", "out.parquet"]


def test_emit_stops_quietly_when_the_reader_goes_away(tmp_path):
    r = make_records(n=20_000, dims=64)
    path = tmp_path / "many.parquet"
    pq.write_table(go_table(r), path, store_schema=False)
    import subprocess

    from conftest import binary

    p = subprocess.Popen([str(binary()), "emit", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    # 141 = 128 + SIGPIPE, as `cat` or `grep` end: quietly, without a message.
    assert p.wait(timeout=60) == 141
    assert first.startswith(b'{"provider":')
    assert p.stderr.read() == b""
