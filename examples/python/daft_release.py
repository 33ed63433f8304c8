"""Validate and sign a multi-file release partition by partition with Daft, then merge the
per-partition results into one signed release manifest.

The record work (validation, digests, signatures) runs inside Daft batch functions, so it
runs wherever Daft runs them: on this machine with the native runner, or across a cluster
with ``daft.set_runner_ray()``, unchanged. Only small results come back to the driver: one
finding list, digest and signature per record. The driver then checks the findings, orders
the digests of each file, computes each file's record-digest root and writes
``release.json`` in the format ``oembeddings release sign`` writes, signs it, and checks it
with ``oembeddings.verify_release``.

Usage:
    python examples/python/daft_release.py DIR --key SECRET [--public PUBLIC]
    python examples/python/daft_release.py --check      # on a generated release (CI)

The same batch functions plug into other engines:

- Ray Data: ``ds.map_batches(lambda t: t.append_column("signature",
  pa.array(oembeddings.sign_batch(t, KEY))), batch_format="pyarrow")``.
- Spark: ``df.mapInArrow(lambda batches: (b.append_column("digest",
  pa.array(oembeddings.record_digests(b))) for b in batches), schema)``; every Arrow
  ``RecordBatch`` Spark hands over is accepted as is.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import struct
import sys
import tempfile
from pathlib import Path

import daft
import pyarrow as pa
import pyarrow.parquet as pq

import oembeddings

COLUMNS = ["provider", "depiction_id", "subject_id", "model", "embeddings", "created", "attributes"]
ROOT_DOMAIN = b"oembeddings.records-root.v1\0"


def as_table(*series: daft.Series) -> pa.Table:
    """The record columns of one Daft batch as a pyarrow Table."""
    return pa.table({name: s.to_arrow() for name, s in zip(COLUMNS, series)})


def findings_udf(batch_size: int):
    @daft.func.batch(return_dtype=daft.DataType.list(daft.DataType.string()), batch_size=batch_size)
    def findings(*series: daft.Series) -> pa.Array:
        table = as_table(*series)
        report = oembeddings.validate_batch(table, max_findings_per_rule=None)
        per_row: list[list[str]] = [[] for _ in range(table.num_rows)]
        for f in report.findings:
            if f.row is not None and f.severity == "error":
                per_row[f.row].append(f"{f.rule}: {f.message}")
        return pa.array(per_row, pa.list_(pa.string()))

    return findings


def signing_udf(key: str, password: str | None, batch_size: int):
    @daft.func.batch(return_dtype=daft.DataType.struct({"digest": daft.DataType.binary(),
                                                         "signature": daft.DataType.binary()}),
                     batch_size=batch_size)
    def sign(*series: daft.Series) -> pa.Array:
        table = as_table(*series)
        digests = pa.array(oembeddings.record_digests(table)).cast(pa.binary())
        signatures = pa.array(oembeddings.sign_batch(table, key, password=password))
        return pa.StructArray.from_arrays([digests, signatures], names=["digest", "signature"])

    return sign


def records_root(digests: list[bytes]) -> str:
    """``SHA-256(ROOT_DOMAIN || u64le(rows) || SHA-256(digest1 || ... || digestn))``, hex."""
    inner = hashlib.sha256(b"".join(digests)).digest()
    return hashlib.sha256(ROOT_DOMAIN + struct.pack("<Q", len(digests)) + inner).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sign_release_with_daft(directory: Path, key: Path, public: Path, password: str | None = None,
                           batch_size: int = 4096) -> dict:
    """Validates and signs every record of every ``*.parquet`` file under ``directory`` with
    Daft, then writes and signs ``release.json``. Returns a summary."""
    files = sorted(p for p in directory.rglob("*.parquet"))
    if not files:
        raise SystemExit(f"{directory}: no .parquet files")
    df = daft.read_parquet([str(p) for p in files], file_path_column="file")
    df = df.with_column("row", daft.functions.monotonically_increasing_id())
    cols = [daft.col(c) for c in COLUMNS]
    df = df.with_column("findings", findings_udf(batch_size)(*cols))
    df = df.with_column("signed", signing_udf(str(key), password, batch_size)(*cols))
    results = df.select("file", "row", "provider", "depiction_id", "model", "findings",
                        daft.col("signed")["digest"].alias("digest"),
                        daft.col("signed")["signature"].alias("signature")).to_arrow()

    errors = [(f, p, d, m, e) for f, p, d, m, es in zip(
        results.column("file").to_pylist(), results.column("provider").to_pylist(),
        results.column("depiction_id").to_pylist(), results.column("model").to_pylist(),
        results.column("findings").to_pylist()) for e in es]
    if errors:
        for f, p, d, m, e in errors[:20]:
            print(f"{f}: {p}-{d}-{m}: {e}", file=sys.stderr)
        raise SystemExit(f"{len(errors)} record errors: not signing")

    by_file: dict[str, list[tuple[int, bytes]]] = {}
    for f, row, digest in zip(results.column("file").to_pylist(), results.column("row").to_pylist(),
                              results.column("digest").to_pylist()):
        by_file.setdefault(f, []).append((row, digest))

    entries = []
    for path in sorted(directory.rglob("*"), key=lambda p: p.relative_to(directory).as_posix()):
        if not path.is_file() or path.name.startswith("release.json"):
            continue
        name = path.relative_to(directory).as_posix()
        entry = {"name": name, "size": path.stat().st_size, "sha256": sha256_file(path)}
        if path.suffix == ".parquet":
            rows = sorted(by_file.get(str(path), []))
            if len(rows) != pq.read_metadata(path).num_rows:
                raise SystemExit(f"{name}: {len(rows)} records came back of {pq.read_metadata(path).num_rows}")
            entry["rows"] = len(rows)
            entry["records_root"] = records_root([d for _, d in rows])
        entries.append(entry)
    manifest = {
        "format": "oembeddings.release-manifest.v1",
        "files": entries,
        "key": oembeddings.key_info(public).id,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    manifest_path = directory / "release.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    signature = oembeddings.sign_file(manifest_path, key, password=password)
    signatures: dict[str, list[bytes]] = {}
    for f, row, sig in sorted(zip(results.column("file").to_pylist(), results.column("row").to_pylist(),
                                  results.column("signature").to_pylist())):
        signatures.setdefault(f, []).append(sig)
    return {"manifest": manifest_path, "signature": signature, "files": len(entries),
            "records": results.num_rows, "signatures": signatures}


def check() -> None:
    """CI: a generated three-file release, signed with Daft, verified by oembeddings, with
    the same record-digest roots as ``oembeddings release sign``; every Daft-made record
    signature verifies with ``verify_batch``."""
    example = Path(__file__).resolve().parents[1] / "data" / "sfomuseum-collection-512-mobileclip-20260413.parquet"
    table = pq.read_table(example)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        release = tmp / "release"
        (release / "nested").mkdir(parents=True)
        pq.write_table(table.slice(0, 10), release / "a.parquet")
        pq.write_table(table.slice(10, 9), release / "b.parquet")
        pq.write_table(table.slice(19), release / "nested" / "c.parquet")
        (release / "README.txt").write_text("three record files\n")
        key = oembeddings.keygen(tmp / "key")
        # Small batches, so that every file is cut into several.
        summary = sign_release_with_daft(release, Path(key.secret), Path(key.public), batch_size=4)
        report = oembeddings.verify_release(release, key.public)
        assert report.ok and report.valid == 4, report
        ours = json.loads((release / "release.json").read_text())
        # The same release signed by oembeddings itself lists the same files, rows and roots.
        reference = tmp / "reference"
        reference.mkdir()
        for entry in ours["files"]:
            (reference / entry["name"]).parent.mkdir(parents=True, exist_ok=True)
            (reference / entry["name"]).write_bytes((release / entry["name"]).read_bytes())
        oembeddings.sign_release(reference, key.secret)
        theirs = json.loads((reference / "release.json").read_text())
        strip = lambda m: [{k: v for k, v in e.items()} for e in m["files"]]  # noqa: E731
        assert strip(ours) == strip(theirs), (ours, theirs)
        # Every record signature made in Daft verifies against its file's records.
        for file, sigs in summary["signatures"].items():
            verified = pa.array(oembeddings.verify_batch(pq.read_table(file), pa.array(sigs, pa.binary()), key.public))
            assert verified.to_pylist() == [True] * len(sigs), file
        # Tampering is caught.
        (release / "b.parquet").write_bytes((release / "a.parquet").read_bytes())
        assert not oembeddings.verify_release(release, key.public).ok
        print(f"daft release: {summary['files']} files, {summary['records']} records signed and verified")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("directory", nargs="?", type=Path)
    ap.add_argument("--key", type=Path, help="secret key")
    ap.add_argument("--public", type=Path, help="public key (default: KEY.pub)")
    ap.add_argument("--batch-size", type=int, default=4096, help="records per batch function call")
    ap.add_argument("--check", action="store_true", help="run on a generated release and verify it")
    args = ap.parse_args()
    if args.check:
        check()
        return
    if args.directory is None or args.key is None:
        ap.error("give DIR and --key (or --check)")
    public = args.public or Path(str(args.key) + ".pub")
    summary = sign_release_with_daft(args.directory, args.key, public, batch_size=args.batch_size)
    print(f"{summary['manifest']}: {summary['files']} files, {summary['records']} records; signature {summary['signature']}")


if __name__ == "__main__":
    main()
