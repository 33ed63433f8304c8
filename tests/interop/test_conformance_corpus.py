"""The committed conformance corpus is exactly what spec/conformance/generate.py writes."""

from __future__ import annotations

import filecmp
import subprocess
import sys

from conftest import ROOT

CORPUS = ROOT / "spec" / "conformance"


def test_generator_reproduces_the_committed_corpus(tmp_path):
    subprocess.run([sys.executable, str(CORPUS / "generate.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "manifest.json").read_text() == (CORPUS / "manifest.json").read_text()
    for sub in ("valid", "invalid"):
        ours = sorted(p.name for p in (CORPUS / sub).iterdir())
        assert sorted(p.name for p in (tmp_path / sub).iterdir()) == ours
        _, mismatch, errors = filecmp.cmpfiles(CORPUS / sub, tmp_path / sub, ours, shallow=False)
        assert (mismatch, errors) == ([], []), f"regenerate with spec/conformance/generate.py: {mismatch} {errors}"
