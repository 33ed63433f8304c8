"""The README's Python example runs as written, in a fresh virtualenv where the package was
installed with the README's install line, and prints what its comments say."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Wheels of the build backend and of the extra's packages, which scripts/setup downloads, so
# that this test runs offline.
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"


def readme_install_line(readme: str) -> list[str]:
    """The `pip install ...` line of the README's set-up section, as arguments."""
    setup = readme.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    lines = [line.split("#", 1)[0].strip() for block in re.findall(r"```sh\n(.*?)```", setup, re.S)
             for line in block.splitlines() if line.startswith("pip install ")]
    assert len(lines) == 1, lines
    return shlex.split(lines[0])[2:]


def test_readme_python_example_in_a_fresh_virtualenv(tmp_path):
    readme = (ROOT / "README.md").read_text()
    assert WHEELHOUSE.is_dir(), f"{WHEELHOUSE} is missing: run scripts/setup"
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    python = str(fresh / "bin" / "python")
    offline = ["--no-index", "--find-links", str(WHEELHOUSE), "--disable-pip-version-check", "-q"]

    def pip(*args: str) -> None:
        # The README's line, built as scripts/test builds the package: with the dev profile
        # (so cargo reuses the suite's build) and maturin from the virtualenv, not fetched.
        env = {**os.environ, "PATH": f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}",
               "MATURIN_PEP517_ARGS": "--profile dev"}
        run = subprocess.run([python, "-m", "pip", "install", *offline, *args], cwd=ROOT, env=env,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr

    pip("maturin")
    pip("--no-build-isolation", *readme_install_line(readme))

    section = readme.split("\n## Python\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "examples" / "data")
    code = code.replace("/tmp/", f"{tmp_path}/")
    run = subprocess.run([python, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    expected = [m.group(1).strip() for line in code.splitlines()
                if line.startswith("print(") and (m := re.search(r"#\s*(.+)$", line))]
    assert run.stdout.splitlines() == expected
    # The package came from this clone, into the fresh virtualenv, not from the suite's.
    where = subprocess.run([python, "-c", "import oembeddings; print(oembeddings.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert Path(where).resolve().is_relative_to(fresh.resolve()), where
