"""go-embeddingsdb's X.509 record signatures (its tls:// and acm:// signers), both ways, against
a Go peer of our own (tests/interop/go/x509peer.go: standard library only, written from the Go
tool's signer_x509.go, verifier_x509.go and tls/tls.go) with RSA, ECDSA and Ed25519
certificates from a test CA that OpenSSL makes here; the identity checks (chain, name, time,
revocation) against that CA; the earlier signer's two quirks; and bad input."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_records, oe, write_go_layout
from test_go_json import go_binary

PEER = Path(__file__).parent / "go" / "x509peer.go"
NAMES = "subjectAltName=DNS:sfomuseum.org,DNS:*.sfomuseum.org\nextendedKeyUsage=serverAuth\n"
KINDS = ["rsa", "ecdsa-p256", "ecdsa-p384", "ed25519"]


def openssl(*args, cwd: Path) -> None:
    p = subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert p.returncode == 0, f"openssl {args}: {p.stderr}"


@pytest.fixture(scope="module")
def peer(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("go") / "x509peer"
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "", "CGO_ENABLED": "0"}
    env.setdefault("GOCACHE", str(tmp_path_factory.mktemp("gocache")))
    subprocess.run([go_binary(), "build", "-o", str(exe), str(PEER)], check=True, env=env)
    return exe


class Pki:
    """A test CA (root, an intermediate) and leaf certificates for sfomuseum.org, one per key
    kind, each key in another of the forms go-embeddingsdb reads (PKCS#1, SEC1, PKCS#8)."""

    def __init__(self, root: Path):
        self.dir = root
        if shutil.which("openssl") is None:
            raise RuntimeError("openssl not found: run scripts/setup")
        ca_ext = root / "ca.ext"
        ca_ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        (root / "names.ext").write_text(NAMES)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "3650", "-subj", "/CN=Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=root)
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "int.key", cwd=root)
        openssl("req", "-new", "-key", "int.key", "-subj", "/CN=Test Intermediate", "-out", "int.csr", cwd=root)
        openssl("x509", "-req", "-in", "int.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "3650", "-extfile", "ca.ext", "-out", "int.pem", cwd=root)
        keygen = {
            "rsa": ["genrsa", "-traditional", "-out", "{k}", "2048"],  # PKCS#1
            "ecdsa-p256": ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "{k}"],  # SEC1
            "ecdsa-p384": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "{k}"],
            "ed25519": ["genpkey", "-algorithm", "ed25519", "-out", "{k}"],  # PKCS#8
            "rsa-1024": ["genrsa", "-out", "{k}", "1024"],
        }
        for kind, args in keygen.items():
            openssl(*[a.format(k=f"{kind}.key") for a in args], cwd=root)
            self.issue(kind, "ca", days=3650)
        # A leaf under the intermediate, and an expired-soon one for time checks.
        self.issue("rsa", "int", days=3650, name="rsa-via-int")
        pem = (root / "rsa-via-int.pem").read_text()
        (root / "chain.pem").write_text(pem + (root / "int.pem").read_text())
        (root / "chain-reversed.pem").write_text((root / "int.pem").read_text() + pem)

    def issue(self, kind: str, issuer: str, days: int, name: str | None = None) -> None:
        name = name or kind
        openssl("req", "-new", "-key", f"{kind}.key", "-subj", "/CN=sfomuseum.org", "-out", f"{name}.csr", cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
                "-CAcreateserial", "-days", str(days), "-extfile", "names.ext", "-out", f"{name}.pem", cwd=self.dir)

    def cert(self, name: str) -> Path:
        return self.dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"

    def crl(self, revoke: str | None) -> Path:
        """A CRL of the root, revoking the certificate `revoke` if given."""
        d = self.dir / f"crl-{revoke or 'none'}"
        d.mkdir()
        (d / "index.txt").write_text("")
        (d / "crlnumber").write_text("01\n")
        (d / "ca.cnf").write_text(
            f"[ca]\ndefault_ca=CA_default\n[CA_default]\ndir={d}\ndatabase={d}/index.txt\n"
            f"new_certs_dir={d}\ncertificate={self.dir}/ca.pem\nprivate_key={self.dir}/ca.key\n"
            f"serial={d}/serial\ncrlnumber={d}/crlnumber\ndefault_md=sha256\ndefault_crl_days=3650\n"
            "policy=any\n[any]\ncommonName=supplied\n"
        )
        if revoke:
            openssl("ca", "-config", "ca.cnf", "-revoke", self.cert(revoke), cwd=d)
        openssl("ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem", cwd=d)
        return d / "crl.pem"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


def data_file(tmp_path: Path, n: int = 60, created=None) -> Path:
    r = make_records(n=n, dims=8)
    if created is not None:
        r = replace(r, created=[created] * n)
    return write_go_layout(tmp_path / "sfomuseum-collection-8-test-20260413.parquet", r)


def sidecar_of(data: Path) -> Path:
    return data.with_name(data.stem + "-signatures.parquet")


def go_sign(peer: Path, pki: Pki, data: Path, kind: str, *flags: str, cert: str | None = None) -> None:
    """Signs `data`'s records with the Go peer and writes the sidecar and the .pub as the Go
    tool does (string columns; raw signatures as bytes)."""
    records = oe("emit", data).stdout
    p = subprocess.run([str(peer), "sign", "-certificate", str(pki.cert(cert or kind)), "-key", str(pki.key(kind)), *flags],
                       input=records, capture_output=True, check=True)
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    raw = "-raw" in flags
    signatures = [base64.b64decode(r["raw_signature"]) if raw else r["record_signature"] for r in rows]
    table = pa.table({
        "provider": [r["provider"] for r in rows],
        "depiction_id": [r["depiction_id"] for r in rows],
        "model": [r["model"] for r in rows],
        "record_hash": [r["record_hash"] for r in rows],
        "record_signature": pa.array(signatures, pa.binary() if raw else pa.string()),
    })
    pq.write_table(table, sidecar_of(data), store_schema=False)
    shutil.copy(pki.cert(cert or kind), data.with_name(data.stem + "-signatures.pub"))


def verify(data: Path, *args) -> tuple[int, dict]:
    r = oe("verify", data, "--records", "--format", "json", *args, check=False)
    return r.code, r.json()


@pytest.mark.parametrize("kind", KINDS)
def test_go_signatures_verify_in_ours(tmp_path, peer, pki, kind):
    data = data_file(tmp_path)
    go_sign(peer, pki, data, kind)
    code, report = verify(data, "--key", pki.cert(kind))
    assert code == 0 and report["valid"] == 60, report
    assert report["signer"]["algorithm"] == "x509"
    identity = report["identity"]
    assert identity["certificate"]["subject"] == "CN=sfomuseum.org"
    assert identity["certificate"]["dns_names"] == ["sfomuseum.org", "*.sfomuseum.org"]
    assert identity["chain"]["status"] == "not-checked" and "pinned" in identity["trust"]
    # Another certificate's key verifies nothing.
    other = "ed25519" if kind != "ed25519" else "rsa"
    code, report = verify(data, "--key", pki.cert(other))
    assert code == 1 and report["valid"] == 0 and report["invalid"] == 60


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_raw_go_signatures_verify_in_ours(tmp_path, peer, pki, kind):
    data = data_file(tmp_path)
    go_sign(peer, pki, data, kind, "-raw")
    code, report = verify(data, "--key", pki.cert(kind))
    assert code == 0 and report["valid"] == 60, report
    assert "X.509 (raw)" in oe("inspect", sidecar_of(data)).text


@pytest.mark.parametrize("kind", KINDS)
def test_our_signatures_verify_in_go(tmp_path, peer, pki, kind):
    data = data_file(tmp_path)
    oe("sign", data, "--records", "--profile", "compatible", "--certificate", pki.cert(kind), "--key", pki.key(kind))
    assert data.with_name(data.stem + "-signatures.pub").read_text() == pki.cert(kind).read_text()
    rows = pq.read_table(sidecar_of(data)).to_pylist()
    by_key = {(r["provider"], r["depiction_id"], r["model"]): r for r in rows}
    lines = []
    # Each record as emit writes it (Go's bytes), not re-encoded by Python.
    for line in oe("emit", data).stdout.splitlines():
        rec = json.loads(line)
        row = by_key[(rec["provider"], rec["depiction_id"], rec["model"])]
        assert row["record_signature"].startswith("-----BEGIN SIGNATURE-----\n")
        lines.append(b'{"record":' + line + b',"record_signature":' + json.dumps(row["record_signature"]).encode() + b"}")
    out = subprocess.run([str(peer), "verify", "-certificate", str(pki.cert(kind))],
                         input=b"\n".join(lines), capture_output=True, check=True).stdout.decode()
    assert out.splitlines() == ["valid"] * 60
    # And ours verify ours, with the chain to the test root checked at a time the certificate covers.
    code, report = verify(data, "--key", pki.cert(kind), "--ca", pki.cert("ca"), "--at",
                          time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400)))
    assert code == 0, report


def test_identity_checks(tmp_path, peer, pki):
    # Records made after the certificates (which start now): their newest `created` is the time.
    data = data_file(tmp_path, created=int(time.time()) + 120)
    go_sign(peer, pki, data, "rsa", cert="chain")
    ok = ("--ca", pki.cert("ca"), "--identity", "www.sfomuseum.org")
    # The leaf alone cannot reach the root: the intermediate is missing.
    code, report = verify(data, "--key", pki.cert("rsa-via-int"), *ok)
    assert code == 1 and report["identity"]["chain"]["status"] == "failed"
    assert "unknown issuer" in report["identity"]["chain"]["detail"]
    # With the chain (leaf first), at the newest `created` of the verified records.
    code, report = verify(data, "--key", pki.cert("chain"), *ok)
    assert code == 0, report
    identity = report["identity"]
    assert identity["chain"]["status"] == "passed" and identity["name"]["status"] == "passed"
    assert identity["revocation"]["status"] == "not-checked"
    assert "newest `created`" in identity["time_source"]
    assert identity["intermediates"] == ["CN=Test Intermediate"]
    # A name the certificate does not carry.
    code, report = verify(data, "--key", pki.cert("chain"), "--ca", pki.cert("ca"), "--identity", "example.org")
    assert code == 1 and report["identity"]["name"]["status"] == "failed"
    # Expired, and not yet valid, at the time given.
    code, report = verify(data, "--key", pki.cert("chain"), *ok, "--at", "2099-01-01")
    assert code == 1 and "expired" in report["identity"]["chain"]["detail"]
    code, report = verify(data, "--key", pki.cert("chain"), *ok, "--at", "2001-01-01")
    assert code == 1 and "not yet valid" in report["identity"]["chain"]["detail"]
    # Mozilla's roots do not know the test root.
    code, report = verify(data, "--key", pki.cert("chain"), "--webpki-roots")
    assert code == 1 and report["identity"]["chain"]["status"] == "failed"
    # A chain in the wrong order is refused in one line.
    r = oe("verify", data, "--records", "--key", pki.cert("chain-reversed"), check=False)
    assert r.code != 0 and "not in order" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # --identity without roots means nothing, and is refused.
    r = oe("verify", data, "--records", "--key", pki.cert("chain"), "--identity", "sfomuseum.org", check=False)
    assert r.code != 0 and "--ca" in r.stderr


def test_revocation(tmp_path, peer, pki):
    data = data_file(tmp_path, created=int(time.time()) + 120)
    go_sign(peer, pki, data, "ed25519")
    key = ("--key", pki.cert("ed25519"), "--ca", pki.cert("ca"))
    code, report = verify(data, *key, "--crl", pki.crl(None))
    assert code == 0 and report["identity"]["revocation"]["status"] == "passed", report
    code, report = verify(data, *key, "--crl", pki.crl("ed25519"))
    assert code == 1 and "revoked" in report["identity"]["revocation"]["detail"]


def shrinking_records(n: int):
    """Records whose attribute key sets shrink from one batch of 100 to the next (and some
    without attributes), so that the earlier signer's reused maps carry keys over."""
    r = make_records(n=n, dims=8, seed=11)
    attributes = []
    for i in range(n):
        keys = 6 - (i // 100) * 2
        attrs = {f"k{j}": f"v{i}-{j}" for j in range(max(keys, 1))}
        if i % 37 == 0:
            attrs = {}
        attributes.append(attrs)
    return replace(r, attributes=attributes)


@pytest.mark.parametrize("n", [250, 300])
def test_the_earlier_signers_records_are_diagnosed(tmp_path, peer, pki, n):
    data = write_go_layout(tmp_path / "sfomuseum-collection-8-test-20260413.parquet", shrinking_records(n))
    go_sign(peer, pki, data, "ecdsa-p256", "-earlier")
    code, report = verify(data, "--key", pki.cert("ecdsa-p256"))
    tail = (n - 1) % 100 + 1
    assert code == 1
    assert report["missing"] == tail
    assert any(f"rows {n - tail}-{n - 1} ({tail} records)" in note and "earlier signer" in note
               for note in report["notes"]), report["notes"]
    carried = [p for p in report["problems"] if p["kind"] == "carried-attributes"]
    assert report["carried"] == len(carried) > 0 and report["invalid"] == 0, report
    assert all(p["row"] >= 100 and "carried over from row" in p["message"] for p in carried)
    assert report["valid"] + report["carried"] == n - tail
    code, report = verify(data, "--key", pki.cert("ecdsa-p256"), "--accept-carried-attributes", "--allow-missing")
    assert code == 0, report


def test_embedded_key_is_reported_never_trusted(tmp_path, pki):
    data = data_file(tmp_path)
    oe("sign", data, "--records", "--profile", "compatible", "--certificate", pki.cert("ecdsa-p384"),
       "--key", pki.key("ecdsa-p384"), "--embed-public-key")
    meta = pq.read_metadata(sidecar_of(data)).metadata
    assert meta[b"embeddingsdb:signatures:public_key"].decode() == pki.cert("ecdsa-p384").read_text()
    fingerprint = oe("key", "show", pki.cert("ecdsa-p384"), "--format", "json").json()["id"]
    r = oe("verify", data, "--records", check=False)
    assert r.code != 0 and fingerprint in r.stderr and "not trusted" in r.stderr
    code, report = verify(data, "--key", pki.cert("rsa"))
    assert code == 1 and any("embeds another key" in n and fingerprint in n for n in report["notes"])
    code, report = verify(data, "--key", pki.cert("ecdsa-p384"))
    assert code == 0 and any("same key" in n for n in report["notes"])
    text = oe("inspect", sidecar_of(data)).text
    assert "60 X.509 (PEM)" in text and fingerprint in text


def test_bad_input_is_named(tmp_path, peer, pki):
    data = data_file(tmp_path)
    go_sign(peer, pki, data, "rsa")

    def one_line_error(key: Path, needle: str) -> None:
        r = oe("verify", data, "--records", "--key", key, check=False)
        assert r.code not in (0, 1) or r.code == 1 and not r.stdout
        assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

    not_pem = tmp_path / "not-pem.pem"
    not_pem.write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
    one_line_error(not_pem, "not PEM")
    one_line_error(pki.cert("rsa-1024"), "RSA key of 1024 bits")
    one_line_error(pki.key("rsa"), "private key")
    r = oe("sign", data, "--records", "--profile", "compatible", "--certificate", pki.cert("rsa"),
           "--key", pki.key("ed25519"), check=False)
    assert r.code != 0 and "does not belong to the certificate" in r.stderr

    # Rows with a block of another type, a signature of the wrong length, and OpenPGP rows.
    table = pq.read_table(sidecar_of(data))
    sigs = table.column("record_signature").to_pylist()
    sigs[0] = sigs[0].replace("SIGNATURE", "CERTIFICATE")
    body = base64.b64decode("".join(sigs[1].splitlines()[1:-1]))
    b64 = base64.b64encode(body[:-1]).decode()
    lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    sigs[1] = f"-----BEGIN SIGNATURE-----\n{lines}\n-----END SIGNATURE-----\n"
    pgp = tmp_path / "pgp.key"
    oe("keygen", "--openpgp", "--userid", "SFO Museum <collections@example.org>", "-o", pgp)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(data, other / data.name)
    oe("sign", other / data.name, "--records", "--profile", "compatible", "--key", pgp)
    pgp_sigs = pq.read_table(sidecar_of(other / data.name)).column("record_signature").to_pylist()
    sigs[2] = pgp_sigs[2]
    table = table.set_column(4, "record_signature", pa.array(sigs, pa.string()))
    pq.write_table(table, sidecar_of(data))
    code, report = verify(data, "--key", pki.cert("rsa"))
    assert code == 1 and report["invalid"] == 3 and report["valid"] == 57
    problems = {p["row"]: p for p in report["problems"]}
    keys = table.to_pylist()
    for row, needle in [(0, "type CERTIFICATE"), (1, "signature of 255 bytes"), (2, "OpenPGP signature")]:
        p = next(p for p in report["problems"] if p["key"] == "-".join((keys[row]["provider"], keys[row]["depiction_id"], keys[row]["model"])))
        assert needle in p["message"] and p["row"] is not None, p
    assert any("mixes signature schemes" in n for n in report["notes"])
    assert problems
