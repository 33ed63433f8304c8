"""Mutation test: the commands as a user runs them, on mutants of real inputs (bit flips,
byte overwrites, truncations, insertions, biased towards the footer), with a fixed seed.

Every run must end with exit 0 or 1 (never a panic), and a failure must be one `error:` line
naming a file. Verification must fail closed: a mutant of any signed input (the data file,
the sidecar, the manifest or its signature) that still verifies is a fail-open bug, except
under the compatible profile, which signs records rather than files: there a mutant that
verifies must hold exactly the signed records.

OEMBEDDINGS_MUTANTS sets the number of mutants per command (default 150); the test suite
runs the default, about a minute and a half in all.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLE, oe

MUTANTS = int(os.environ.get("OEMBEDDINGS_MUTANTS", "150"))
SEED = 20261206


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One mutant of `data`: a few changes, half of them within the last 2 KiB (the footer)."""
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 8])):
        if not b:
            b = bytearray(rng.randbytes(rng.randrange(1, 64)))
            continue
        tail = rng.random() < 0.5
        lo = max(0, len(b) - 2048) if tail else 0
        pos = rng.randrange(lo, len(b))
        kind = rng.random()
        if kind < 0.45:
            b[pos] ^= 1 << rng.randrange(8)
        elif kind < 0.75:
            b[pos] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif kind < 0.85:
            del b[pos:]
        elif kind < 0.95:
            b[pos:pos] = rng.randbytes(rng.randrange(1, 16))
        else:
            n = rng.randrange(1, 64)
            b[pos:pos + n] = b[pos:pos + n][::-1]
    return bytes(b)


def unsigned_change(name: str, original: bytes, mutant: bytes) -> bool:
    """Whether `mutant` differs from `original` only where nothing is signed: the first line
    of a `.minisig` is minisign's untrusted comment, which no signature covers (minisign -V
    accepts any)."""
    if not name.endswith(".minisig"):
        return False
    return original.split(b"\n")[1:] == mutant.split(b"\n")[1:]


def check_clean(run, what: str) -> None:
    assert run.code in (0, 1), f"{what}: exit {run.code}: {run.stderr}"
    assert "panicked at" not in run.stderr, f"{what}: {run.stderr}"
    if run.code == 1:
        errors = [line for line in run.stderr.splitlines() if line.startswith("error")]
        assert len(errors) <= 1, f"{what}: more than one error line: {run.stderr}"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A data file signed with both profiles and as a release, with its keys."""
    d = tmp_path_factory.mktemp("signed")
    data = d / EXAMPLE.name
    shutil.copy(EXAMPLE, data)
    oe("keygen", "--ed25519", "-o", d / "ed.key")
    oe("keygen", "--openpgp", "--userid", "Mutant <m@example.org>", "-o", d / "pgp.key")
    oe("sign", data, "--key", d / "ed.key", "--records")
    oe("sign", data, "--key", d / "pgp.key", "--records", "--profile", "compatible")
    release = d / "release"
    release.mkdir()
    shutil.copy(EXAMPLE, release / EXAMPLE.name)
    oe("release", "sign", release, "--key", d / "ed.key")
    return d


def test_reading_commands_never_panic_on_mutants(tmp_path):
    rng = random.Random(SEED)
    original = EXAMPLE.read_bytes()
    path = tmp_path / EXAMPLE.name
    commands = [
        ["inspect"], ["stats"], ["validate"], ["validate", "--metadata-only"],
        ["emit", "--limit", "3"], ["name"],
    ]
    for i in range(MUTANTS):
        path.write_bytes(mutate(original, rng))
        for command in commands:
            run = oe(*command, path, check=False)
            check_clean(run, f"mutant {i}: {' '.join(command)}")
        out = tmp_path / "out.parquet"
        run = oe("convert", path, out, check=False)
        check_clean(run, f"mutant {i}: convert")
        if run.code != 0:
            assert not out.exists(), f"mutant {i}: a failed convert left {out.name}"
        out.unlink(missing_ok=True)
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], f"mutant {i}: files left behind"


# Each signed input, and the verification that must reject every mutant of it.
NATIVE_INPUTS = [
    "{root}.parquet",
    "{root}.sigs.parquet",
    "{root}.manifest.json",
    "{root}.manifest.json.minisig",
]


@pytest.mark.parametrize("target", NATIVE_INPUTS)
def test_native_verification_rejects_every_mutant(signed, tmp_path, target):
    rng = random.Random(f"{SEED}-{target}")
    root = EXAMPLE.name.removesuffix(".parquet")
    for name in [n.format(root=root) for n in NATIVE_INPUTS] + ["ed.key.pub"]:
        shutil.copy(signed / name, tmp_path / name)
    victim = tmp_path / target.format(root=root)
    original = victim.read_bytes()
    data = tmp_path / EXAMPLE.name
    assert oe("verify", data, "--key", tmp_path / "ed.key.pub", "--records").code == 0
    for i in range(MUTANTS):
        mutant = mutate(original, rng)
        if mutant == original or unsigned_change(victim.name, original, mutant):
            continue
        victim.write_bytes(mutant)
        run = oe("verify", data, "--key", tmp_path / "ed.key.pub", "--records", check=False)
        check_clean(run, f"{target} mutant {i}")
        assert run.code == 1, f"FAIL-OPEN: {target} mutant {i} verified: {run.text}"
    victim.write_bytes(original)


@pytest.mark.parametrize("target", ["data", "sidecar"])
def test_compatible_verification_fails_closed(signed, tmp_path, target):
    rng = random.Random(f"{SEED}-compatible-{target}")
    root = EXAMPLE.name.removesuffix(".parquet")
    sidecar = f"{root}-signatures.parquet"
    for name in [EXAMPLE.name, sidecar, f"{root}-signatures.pub"]:
        shutil.copy(signed / name, tmp_path / name)
    data = tmp_path / EXAMPLE.name
    key = tmp_path / f"{root}-signatures.pub"
    victim = data if target == "data" else tmp_path / sidecar
    original = victim.read_bytes()
    signed_records = oe("emit", data).stdout
    args = ["verify", data, "--key", key, "--records", tmp_path / sidecar]
    assert oe(*args).code == 0
    for i in range(MUTANTS):
        mutant = mutate(original, rng)
        if mutant == original:
            continue
        victim.write_bytes(mutant)
        run = oe(*args, check=False)
        check_clean(run, f"compatible {target} mutant {i}")
        if run.code == 0:
            # Signatures cover records, not files: a mutant may verify only if it holds
            # exactly the signed records (a changed footer comment, say).
            shown = oe("emit", data, check=False)
            assert shown.code == 0 and shown.stdout == signed_records, (
                f"FAIL-OPEN: compatible {target} mutant {i} verified with other records"
            )
    victim.write_bytes(original)


def test_release_verification_rejects_every_mutant(signed, tmp_path):
    rng = random.Random(f"{SEED}-release")
    release = tmp_path / "release"
    shutil.copytree(signed / "release", release)
    shutil.copy(signed / "ed.key.pub", tmp_path / "ed.key.pub")
    targets = sorted(p for p in release.iterdir())
    assert oe("release", "verify", release, "--key", tmp_path / "ed.key.pub").code == 0
    for i in range(MUTANTS):
        victim = rng.choice(targets)
        original = victim.read_bytes()
        mutant = mutate(original, rng)
        if mutant == original or unsigned_change(victim.name, original, mutant):
            continue
        victim.write_bytes(mutant)
        try:
            run = oe("release", "verify", release, "--key", tmp_path / "ed.key.pub", check=False)
            check_clean(run, f"release {victim.name} mutant {i}")
            assert run.code == 1, f"FAIL-OPEN: release {victim.name} mutant {i} verified: {run.text}"
        finally:
            victim.write_bytes(original)
