"""Signatures interoperate with the real tools: gpg --verify and sqv accept our .asc, minisign
-V our .minisig, and we accept what gpg and minisign sign; go-embeddingsdb's per-record
signatures made by us verify with gpg record by record."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pyarrow.parquet as pq
import pytest

from conftest import EXAMPLE, oe


def run(*args, input=None, env=None, check=True):
    p = subprocess.run([str(a) for a in args], input=input, capture_output=True, env=env)
    if check:
        assert p.returncode == 0, f"{args}: {p.stderr.decode(errors='replace')}"
    return p


@pytest.fixture
def data(tmp_path):
    path = tmp_path / EXAMPLE.name
    path.write_bytes(EXAMPLE.read_bytes())
    return path


@pytest.fixture
def gnupg(tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield ["gpg", "--homedir", str(home), "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    # gpg starts an agent for the home directory; it would outlive the test run.
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True)


def test_openpgp_file_signature_verifies_with_gpg_and_sqv(tmp_path, data, gnupg):
    key = tmp_path / "publisher.key"
    oe("keygen", "--openpgp", "--userid", "SFO Museum <collections@example.org>", "-o", key)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    oe("sign", data, "--key", key)
    signature = data.with_name(data.name + ".asc")
    run(*gnupg, "--import", f"{key}.pub")
    run(*gnupg, "--verify", signature, data)
    out = run("sqv", "--keyring", f"{key}.pub", signature, data).stdout.decode()
    assert oe("key", "show", f"{key}.pub", "--json").json()["id"] in out
    data.write_bytes(data.read_bytes()[:-1] + b"X")
    assert run(*gnupg, "--verify", signature, data, check=False).returncode != 0
    assert run("sqv", "--keyring", f"{key}.pub", signature, data, check=False).returncode != 0
    result = oe("verify", data, "--key", f"{key}.pub", "--format", "json", check=False)
    assert result.code == 1
    report = result.json()
    assert report["ok"] is False and [c["check"] for c in report["checked"]] == ["file"]
    assert report["checked"][0]["invalid"] == 1


def test_we_verify_what_gpg_signs(tmp_path, data, gnupg):
    run(*gnupg, "--quick-gen-key", "Met <met@example.org>", "ed25519", "sign", "never")
    run(*gnupg, "--quick-gen-key", "Other <other@example.org>", "ed25519", "sign", "never")
    met = tmp_path / "met.pub"
    met.write_bytes(run(*gnupg, "--export", "--armor", "met@example.org").stdout)
    other = tmp_path / "other.pub"
    other.write_bytes(run(*gnupg, "--export", "other@example.org").stdout)  # binary
    keyring = tmp_path / "both.pub"
    keyring.write_bytes(run(*gnupg, "--export", "--armor").stdout)
    run(*gnupg, "--local-user", "met@example.org", "--detach-sign", "--armor", data)
    run(*gnupg, "--local-user", "met@example.org", "--detach-sign", "-o", f"{data}.sig", data)
    assert "verified (file)" in oe("verify", data, "--key", met).text
    assert "verified (file)" in oe("verify", data, "--key", met, "--signature", f"{data}.sig").text
    assert oe("verify", data, "--key", other, check=False).code == 1
    # A keyring must say which certificate to trust.
    r = oe("verify", data, "--key", keyring, check=False)
    assert r.code == 1 and "give a fingerprint" in r.stderr
    fpr = oe("key", "show", met, "--json").json()["id"]
    oe("verify", data, "--key", keyring, "--fingerprint", fpr)


def test_minisign_both_ways(tmp_path, data):
    key = tmp_path / "ed.key"
    oe("keygen", "--ed25519", "-o", key)
    oe("sign", data, "--key", key)
    run("minisign", "-Vm", data, "-p", f"{key}.pub")
    # minisign's own key and signature.
    run("minisign", "-G", "-W", "-p", tmp_path / "m.pub", "-s", tmp_path / "m.key")
    run("minisign", "-S", "-s", tmp_path / "m.key", "-m", data, "-x", tmp_path / "m.minisig", "-t", "museum release")
    out = oe("verify", data, "--key", tmp_path / "m.pub", "--signature", tmp_path / "m.minisig").text
    assert "trusted comment: museum release" in out
    assert oe("verify", data, "--key", f"{key}.pub", "--signature", tmp_path / "m.minisig", check=False).code == 1


def test_compatible_record_signatures_verify_with_gpg(tmp_path, data, gnupg):
    key = tmp_path / "publisher.key"
    oe("keygen", "--openpgp", "--userid", "SFO Museum <collections@example.org>", "-o", key)
    oe("sign", data, "--key", key, "--records", "--profile", "compatible")
    root = data.with_suffix("")
    sidecar = pq.read_table(f"{root}-signatures.parquet").to_pylist()
    run(*gnupg, "--import", f"{root}-signatures.pub")
    lines = oe("emit", data).stdout.splitlines()
    assert len(sidecar) == len(lines) == 24
    for row, line in zip(sidecar[:6], lines[:6]):
        record = json.loads(line)
        assert (row["provider"], row["depiction_id"], row["model"]) == (record["provider"], record["depiction_id"], record["model"])
        assert row["record_hash"] == hashlib.sha256(line).hexdigest()
        (tmp_path / "bytes").write_bytes(line)
        (tmp_path / "sig.asc").write_text(row["record_signature"])
        run(*gnupg, "--verify", tmp_path / "sig.asc", tmp_path / "bytes")
    report = oe("verify", data, "--key", f"{root}-signatures.pub", "--records", "--format", "json").json()
    assert (report["valid"], report["invalid"], report["missing"], report["extra"]) == (24, 0, 0, 0)


def test_native_records_release_and_passwords(tmp_path, data):
    key = tmp_path / "ed.key"
    (tmp_path / "pw").write_text("s3cret\n")
    oe("keygen", "--ed25519", "-o", key, "--password-file", tmp_path / "pw")
    r = oe("sign", data, "--key", key, "--records", check=False)
    assert r.code == 1 and "password" in r.stderr
    (tmp_path / "bad").write_text("nope\n")
    r = oe("sign", data, "--key", key, "--records", "--password-file", tmp_path / "bad", check=False)
    assert r.code == 1 and "wrong password" in r.stderr.lower()
    oe("sign", data, "--key", key, "--records", "--password-file", tmp_path / "pw")
    report = oe("verify", data, "--key", f"{key}.pub", "--records", "--format", "json").json()
    assert report["ok"] and report["valid"] == 24
    key.chmod(0o644)
    r = oe("sign", data, "--key", key, "--password-file", tmp_path / "pw")
    assert "readable by others" in r.stderr

    release = tmp_path
    oe("release", "sign", release, "--key", key, "--password-file", tmp_path / "pw")
    assert "verified (release)" in oe("release", "verify", release, "--key", f"{key}.pub").text
    (release / "unlisted.txt").write_text("x")
    r = oe("release", "verify", release, "--key", f"{key}.pub", "--format", "json", check=False)
    assert r.code == 1 and r.json()["extra"] == 1
