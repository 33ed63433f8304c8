"""The README's Met and DuckDB examples run as written, on the files shipped in examples/data/
(the Python package's example is python/tests/test_readme.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pyarrow.parquet as pq

from conftest import ROOT, binary, emitted

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)


def block(language: str, marker: str) -> str:
    """The one README block in `language` that contains `marker`."""
    found = [code for lang, code in BLOCKS if lang == language and marker in code]
    assert len(found) == 1, f"{len(found)} {language} blocks contain {marker!r}"
    return found[0]


def run_shell(code: str, cwd) -> subprocess.CompletedProcess:
    """Runs README shell lines with `oembeddings` on PATH, as a reader would."""
    env = {**os.environ, "PATH": f"{binary().parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, f"{code}\n{run.stderr}"
    return run


def readme_tree(tmp_path):
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "examples" / "data")
    return tmp_path


def test_met_example_converts_the_shipped_inputs(tmp_path):
    cwd = readme_tree(tmp_path)
    run_shell(block("sh", "--from met"), cwd)
    records = emitted(cwd / "met.parquet")
    objects = pq.read_table(ROOT / "examples" / "data" / "met-objects.parquet").to_pylist()
    assert len(records) == len(objects) == 3
    for record, obj in zip(records, objects):
        assert record["provider"] == "metmuseum"
        assert record["depiction_id"] == record["subject_id"] == str(obj["objectID"])
        attributes = record["attributes"]
        assert attributes["subject_url"] == f"https://www.metmuseum.org/art/collection/search/{obj['objectID']}"
        assert (attributes["subject_title"], attributes["subject_creditline"], attributes["preview"]) == (
            obj["title"], obj["creditLine"], obj["primaryImageSmall"])


def test_met_inputs_are_what_their_script_makes(tmp_path):
    subprocess.run([sys.executable, ROOT / "examples" / "python" / "met_inputs.py", tmp_path], check=True,
                   capture_output=True)
    for name in ["met-mobileclip.parquet", "met-objects.parquet"]:
        assert pq.read_table(tmp_path / name).equals(pq.read_table(ROOT / "examples" / "data" / name)), name


def test_duckdb_example_runs_with_pythons_duckdb(tmp_path):
    cwd = readme_tree(tmp_path)
    run_shell(block("sh", "F=examples/data/") + block("sh", "--to duckdb"), cwd)
    run = subprocess.run([sys.executable, "-c", block("python", "import duckdb")], cwd=cwd,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # DuckDB's table of the five nearest: the query vector itself first, at distance 0.
    first = emitted(ROOT / "examples" / "data" / "sfomuseum-collection-512-mobileclip-20260413.parquet")[0]
    assert "depiction_id" in run.stdout and first["depiction_id"] in run.stdout, run.stdout
