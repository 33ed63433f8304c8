"""The Python API: every function, good input and bad, against pyarrow, polars and DuckDB."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import oembeddings
from oembeddings import FormatError, OEmbeddingsError, SignatureError, ValidationError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "data" / "sfomuseum-collection-512-mobileclip-20260413.parquet"
CORPUS = ROOT / "spec" / "conformance"


def bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).view(np.uint32)


@pytest.fixture
def example(tmp_path) -> Path:
    """A private copy of the example, which tests may sign or modify."""
    path = tmp_path / EXAMPLE.name
    path.write_bytes(EXAMPLE.read_bytes())
    return path


# --- reading and writing -----------------------------------------------------------------


def test_read_into_pyarrow_polars_and_duckdb():
    expected = pq.read_table(EXAMPLE)
    table = pa.table(oembeddings.read(EXAMPLE))
    assert table.num_rows == expected.num_rows == 24
    assert table.column_names == expected.column_names
    for a, b in zip(table.column("embeddings").to_pylist(), expected.column("embeddings").to_pylist()):
        assert np.array_equal(bits(a), bits(b))
    assert table.column("attributes").to_pylist() == expected.column("attributes").to_pylist()
    df = pl.DataFrame(oembeddings.read(EXAMPLE, batch_size=5))
    assert df.shape == (24, 7) and df["depiction_id"].to_list() == expected.column("depiction_id").to_pylist()
    stream = oembeddings.read(EXAMPLE)
    assert duckdb.sql("SELECT count(*) FROM stream").fetchall() == [(24,)]


def test_read_errors_are_format_errors_naming_the_file(tmp_path):
    bad = tmp_path / "x.parquet"
    bad.write_text("provider,model\n")
    with pytest.raises(FormatError, match="x.parquet"):
        oembeddings.read(bad)
    with pytest.raises(OEmbeddingsError, match="missing.parquet"):
        oembeddings.read(tmp_path / "missing.parquet")
    with pytest.raises(FormatError, match="created"):
        oembeddings.read(CORPUS / "invalid" / "oe004-missing-column.parquet")


def test_write_any_layout_and_round_trip(tmp_path):
    source = pq.read_table(EXAMPLE)
    # Another layout: fixed-size vectors, JSON text attributes, other column order.
    dims = len(source.column("embeddings")[0])
    fixed = pa.FixedSizeListArray.from_arrays(
        pa.array(np.concatenate([np.asarray(v, np.float32) for v in source.column("embeddings").to_pylist()])), dims
    )
    import json

    other = pa.table({
        "model": source.column("model"),
        "embeddings": fixed,
        "provider": source.column("provider"),
        "depiction_id": source.column("depiction_id"),
        "subject_id": source.column("subject_id"),
        "created": source.column("created"),
        "attributes": [json.dumps(dict(m)) for m in source.column("attributes").to_pylist()],
    })
    out = tmp_path / "w.parquet"
    summary = oembeddings.write(out, other)
    assert summary["records"] == 24
    assert oembeddings.validate(out).ok
    back = pq.read_table(out)
    assert back.schema == source.schema
    assert back.column("attributes").to_pylist() == source.column("attributes").to_pylist()
    # From polars, and FixedSizeList output.
    oembeddings.write(tmp_path / "p.parquet", pl.from_arrow(source), vector_layout="fixed")
    assert pa.types.is_fixed_size_list(pq.read_schema(tmp_path / "p.parquet").field("embeddings").type)


def test_write_warns_when_float64_vectors_lose_precision(tmp_path):
    import warnings

    source = pq.read_table(EXAMPLE)
    vectors = [np.asarray(v, np.float64) for v in source.column("embeddings").to_pylist()]
    exact = source.set_column(4, "embeddings", pa.array(vectors, pa.list_(pa.float64())))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float32 values widened to float64 narrow back exactly
        oembeddings.write(tmp_path / "exact.parquet", exact)
    vectors[3] = vectors[3] + 1e-12
    vectors[5][0] = 0.1
    lossy = source.set_column(4, "embeddings", pa.array(vectors, pa.list_(pa.float64())))
    n = int(np.sum(vectors[3].astype(np.float32).astype(np.float64) != vectors[3])) + 1
    with pytest.warns(UserWarning, match=rf"lossy.parquet: {n} float64 vector elements changed .* \(first in row 3\)"):
        # Batches of 2: rows are counted across batches.
        oembeddings.write(tmp_path / "lossy.parquet", pa.RecordBatchReader.from_batches(lossy.schema, lossy.to_batches(2)))
    assert pq.read_table(tmp_path / "lossy.parquet").num_rows == 24


def test_write_bad_data_fails_without_output(tmp_path):
    source = pq.read_table(EXAMPLE)
    out = tmp_path / "bad.parquet"
    with pytest.raises(FormatError, match="created"):
        oembeddings.write(out, source.drop_columns(["created"]))
    nulls = source.set_column(0, "provider", pa.array([None] + source.column("provider").to_pylist()[1:]))
    with pytest.raises(ValidationError, match="row 0"):
        oembeddings.write(out, nulls)
    with pytest.raises(ValueError, match="vector_layout"):
        oembeddings.write(out, source, vector_layout="sideways")
    assert list(tmp_path.iterdir()) == []


# --- validation, statistics, names -------------------------------------------------------


def test_validate_reports_findings_with_rule_ids():
    good = oembeddings.validate(EXAMPLE)
    assert good.ok and good.errors == 0 and good.records == 24 and good.mode == "full"
    bad = oembeddings.validate(CORPUS / "invalid" / "sfomuseum-oe112-4-clip-20260601.parquet")
    assert not bad.ok
    assert [f.rule for f in bad.findings] == ["OE112"]
    finding = bad.findings[0]
    assert finding.severity == "error" and finding.row is not None and finding.key
    assert bad.to_dict()["findings"][0]["rule"] == "OE112"
    meta = oembeddings.validate(CORPUS / "invalid" / "oe001-not-parquet.parquet", metadata_only=True)
    assert meta.mode == "metadata-only" and [f.rule for f in meta.findings] == ["OE001"]


def test_validate_for_the_hub_warns_about_map_attributes():
    # The example stores attributes as a MAP, which Hugging Face datasets cannot load.
    assert [f.rule for f in oembeddings.validate(EXAMPLE).findings] == []
    hub = oembeddings.validate(EXAMPLE, target="hub")
    assert [(f.rule, f.severity) for f in hub.findings] == [("OE501", "warning")] and hub.ok
    # Attributes as key/value structs pass; OE502's limit (100 MB) is far above this file.
    kv = CORPUS / "invalid" / "sfomuseum-oe502-4-clip-20260601.parquet"
    assert [f.rule for f in oembeddings.validate(kv, target="hub").findings] == []
    with pytest.raises(ValueError, match="target"):
        oembeddings.validate(EXAMPLE, target="hf")  # type: ignore[arg-type]


def test_stats_and_append_stats(tmp_path, example):
    stats = oembeddings.stats(example)
    assert stats["oembeddings:records"] == "24" and stats["embeddingsdb:models"] == "mobileclip"
    stripped = tmp_path / "stripped.parquet"
    pq.write_table(pq.read_table(example), stripped, store_schema=False)
    before = stripped.read_bytes()
    copy = tmp_path / "copy.parquet"
    summary = oembeddings.append_stats(stripped, output=copy)
    assert stripped.read_bytes() == before, "the input is not modified when output is given"
    assert pq.read_metadata(copy).metadata[b"oembeddings:records"] == b"24"
    assert summary["written_keys"] == len(stats)
    oembeddings.append_stats(stripped)
    assert pq.read_metadata(stripped).metadata[b"oembeddings:records"] == b"24"


def test_parse_name():
    name = oembeddings.parse_name(EXAMPLE)
    assert name == oembeddings.FileName("sfomuseum", "collection", 512, "mobileclip", "20260413")
    with pytest.raises(ValidationError):
        oembeddings.parse_name("embeddings.parquet")


# --- keys and signatures -----------------------------------------------------------------


@pytest.fixture(params=["ed25519", "openpgp"])
def keypair(request, tmp_path):
    info = oembeddings.keygen(tmp_path / f"key-{request.param}", kind=request.param, userid="Test <t@example.org>")
    return info


def test_keygen_writes_private_secret_keys(tmp_path, keypair):
    secret = Path(keypair.secret)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert Path(keypair.public).exists()
    assert oembeddings.key_info(keypair.public).id == keypair.id
    # An existing key is never replaced unless asked: a FileExistsError (and a FormatError),
    # naming the file and how to replace it.
    with pytest.raises(FileExistsError, match=r"exists; pass overwrite=True") as raised:
        oembeddings.keygen(secret, kind=keypair.algorithm)
    assert isinstance(raised.value, FormatError) and str(secret) in str(raised.value)
    # A kind that does not exist is a bad argument, and nothing is written.
    with pytest.raises(ValueError, match="kind"):
        oembeddings.keygen(tmp_path / "k", kind="rsa")
    assert not (tmp_path / "k").exists()


def test_sign_and_verify_a_file(tmp_path, example, keypair):
    signature = oembeddings.sign_file(example, keypair.secret)
    assert signature.suffix in (".asc", ".minisig")
    report = oembeddings.verify_file(example, keypair.public)
    assert report.ok and bool(report) and report.valid == 1 and report.signer.algorithm == keypair.algorithm
    other = oembeddings.keygen(tmp_path / "other", kind=keypair.algorithm, userid="Other <o@example.org>")
    assert not oembeddings.verify_file(example, other.public).ok
    data = bytearray(example.read_bytes())
    data[100] ^= 1
    example.write_bytes(bytes(data))
    tampered = oembeddings.verify_file(example, keypair.public)
    assert not tampered.ok and tampered.invalid == 1


def test_sign_and_verify_records(tmp_path, example, keypair):
    signed = oembeddings.sign_records(example, keypair.secret)
    assert signed["records"] == 24
    report = oembeddings.verify_records(example, keypair.public)
    assert report.ok and report.valid == 24 and report.check == "records-native"
    # A sidecar row deleted: detected and listed, fail closed.
    sidecar = Path(signed["sidecar"])
    t = pq.read_table(sidecar)
    pq.write_table(t.slice(1), sidecar)
    broken = oembeddings.verify_records(example, keypair.public)
    assert not broken.ok and broken.missing >= 1 and broken.problems[0].kind in ("missing", "invalid")
    assert oembeddings.verify_records(example, keypair.public, allow_missing=True).missing >= 1


def test_verify_finds_what_was_signed_beside_the_file(tmp_path, example, keypair):
    # Nothing beside it: a report that says so and where it looked, not an exception.
    nothing = oembeddings.verify(example, keypair.public)
    assert type(nothing) is oembeddings.DiscoveryReport and not nothing.ok and not nothing
    assert nothing.checked == [] and nothing.not_checked == []
    assert any(p.endswith(".minisig") or p.endswith(".asc") for p in nothing.looked_for)
    # Records signed: found without naming the profile, the sidecar or the manifest.
    oembeddings.sign_records(example, keypair.secret)
    found = oembeddings.verify(example, keypair.public)
    assert found.ok and [r.check for r in found.checked] == ["records-native"]
    assert found.checked[0].valid == 24
    # And a detached signature too: both checked; one failing fails the whole.
    oembeddings.sign_file(example, keypair.secret)
    both = oembeddings.verify(example, keypair.public)
    assert both.ok and sorted(r.check for r in both.checked) == ["file", "records-native"]
    assert both.to_dict()["checked"][0]["ok"] is True
    data = bytearray(example.read_bytes())
    data[100] ^= 1
    example.write_bytes(bytes(data))
    tampered = oembeddings.verify(example, keypair.public)
    assert not tampered.ok and any(not r.ok for r in tampered.checked)
    # A signature that another kind of key checks is listed, not counted as checked.
    other_kind = "ed25519" if keypair.algorithm == "openpgp" else "openpgp"
    other = oembeddings.keygen(tmp_path / "other", kind=other_kind, userid="Other <o@example.org>")
    mixed = oembeddings.verify(example, other.public)
    assert not mixed.ok and mixed.not_checked and all("reason" in n for n in mixed.not_checked)
    with pytest.raises(FileNotFoundError):
        oembeddings.verify(tmp_path / "none.parquet", keypair.public)


def test_compatible_profile_needs_openpgp(tmp_path, example):
    pgp = oembeddings.keygen(tmp_path / "pgp", kind="openpgp", userid="SFO <s@example.org>")
    signed = oembeddings.sign_records(example, pgp.secret, profile="compatible")
    assert Path(signed["sidecar"]).name.endswith("-signatures.parquet")
    report = oembeddings.verify_records(example, pgp.public)
    assert report.ok and report.check == "records-compatible" and report.valid == 24
    ed = oembeddings.keygen(tmp_path / "ed")
    with pytest.raises(SignatureError):
        oembeddings.sign_records(example, ed.secret, profile="compatible")
    with pytest.raises(ValueError, match="profile"):
        oembeddings.sign_records(example, ed.secret, profile="other")


def test_releases(tmp_path, example, keypair):
    release = tmp_path / "release"
    release.mkdir()
    (release / example.name).write_bytes(example.read_bytes())
    oembeddings.sign_release(release, keypair.secret)
    assert oembeddings.verify_release(release, keypair.public).ok
    (release / "extra.txt").write_text("x")
    report = oembeddings.verify_release(release, keypair.public)
    assert not report.ok and any(p.kind == "extra" for p in report.problems)


def test_verification_reports_missing_or_malformed_signatures_and_raises_only_for_unusable_input(
    tmp_path, example, keypair
):
    def not_verified(report, check, kind, named):
        assert type(report) is oembeddings.VerifyReport and not report.ok and not report
        assert report.check == check and report.valid == 0 and len(report.problems) == 1
        assert report.problems[0].kind == kind and named in report.problems[0].message, report
        assert (report.missing, report.invalid) == ((1, 0) if kind == "missing" else (0, 1))

    # Unsigned: a report saying so, from every verification, as from verify_file.
    not_verified(oembeddings.verify_file(example, keypair.public), "file", "missing", "no signature")
    not_verified(oembeddings.verify_records(example, keypair.public), "records", "missing",
                 example.stem + ".manifest.json")
    release = tmp_path / "release"
    release.mkdir()
    not_verified(oembeddings.verify_release(release, keypair.public), "release", "missing", "release.json")
    # Signature files named but absent, or there but malformed: reports too.
    not_verified(oembeddings.verify_records(example, keypair.public, sidecar=tmp_path / "none.parquet"),
                 "records", "missing", "none.parquet")
    not_verified(oembeddings.verify_records(example, keypair.public, manifest=tmp_path / "none.json"),
                 "records", "missing", "none.json")
    signed = oembeddings.sign_records(example, keypair.secret)
    sidecar = Path(signed["sidecar"])
    sidecar.write_bytes(b"not parquet")
    not_verified(oembeddings.verify_records(example, keypair.public), "records", "invalid", "not a signature sidecar")
    sidecar.unlink()
    not_verified(oembeddings.verify_records(example, keypair.public), "records", "missing", sidecar.name)
    # Unusable input raises: a data file or release directory that is not there (signed or
    # not), a key file that is not there or is no key.
    for call in (
        lambda: oembeddings.verify_records(tmp_path / "unsigned.parquet", keypair.public),
        lambda: oembeddings.verify_release(tmp_path / "no-release", keypair.public),
        lambda: oembeddings.verify_records(example, tmp_path / "none.pub"),
    ):
        with pytest.raises(FileNotFoundError):
            call()
    (tmp_path / "bad.pub").write_text("not a key\n")
    with pytest.raises(SignatureError, match="bad.pub"):
        oembeddings.verify_records(example, tmp_path / "bad.pub")


def test_messages_name_python_arguments_not_command_line_options(tmp_path, example):
    def message(call, cls=OEmbeddingsError):
        with pytest.raises(cls) as raised:
            call()
        text = str(raised.value)
        assert " --" not in text and "(--" not in text, text
        return text

    (tmp_path / "notes.txt").write_text("neither Parquet nor JSON Lines\n")
    assert "name the input format with from_=" in message(
        lambda: oembeddings.convert(tmp_path / "notes.txt", tmp_path / "o.parquet"))
    assert "(s3_bucket=)" in message(lambda: oembeddings.convert(example, tmp_path / "s3", to="s3vectors"), ValueError)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    assert "replace it with force=True" in message(
        lambda: oembeddings.convert(example, tmp_path / "full", to="duckdb"), FileExistsError)
    met = tmp_path / "met.parquet"
    pq.write_table(pa.table({"objectID": [1], "embedding": pa.array([[0.5, 0.5]], pa.list_(pa.float32())),
                             "model": ["clip"], "dim": [2]}), met)
    assert 'need a metadata file (met["metadata"])' in message(
        lambda: oembeddings.convert(met, tmp_path / "m.parquet", met={"columns": [("subject_title", "title")]}),
        ValueError)
    assert "(key=)" in message(lambda: oembeddings.verify_records(example, None), SignatureError)
    # Reports too: a rewritten signed file says which argument accepts it.
    key = oembeddings.keygen(tmp_path / "k")
    oembeddings.sign_records(example, key.secret)
    # Other bytes, the same records: the file rewritten with fixed-size vectors.
    oembeddings.convert(example, tmp_path / "fixed.parquet", to="parquet-fixed")
    os.replace(tmp_path / "fixed.parquet", example)
    report = oembeddings.verify_records(example, key.public)
    assert not report.ok and any("(allow_rewritten=True accepts that)" in p.message for p in report.problems), report
    assert oembeddings.verify_records(example, key.public, allow_rewritten=True).ok


def test_password_protected_keys(tmp_path, example):
    key = oembeddings.keygen(tmp_path / "k", password="correct horse")
    with pytest.raises(SignatureError):
        oembeddings.sign_file(example, key.secret, password="wrong")
    oembeddings.sign_file(example, key.secret, password="correct horse")
    assert oembeddings.verify_file(example, key.public).ok


# --- conversion --------------------------------------------------------------------------


def test_convert(tmp_path):
    summary = oembeddings.convert(EXAMPLE, tmp_path / "e.jsonl", to="jsonl")
    assert (summary.read, summary.written, summary.skipped) == (24, 24, 0)
    assert summary.source_format == "parquet" and summary.target_format == "jsonl"
    back = oembeddings.convert(tmp_path / "e.jsonl", tmp_path / "e.parquet")
    assert back.source_format == "jsonl"
    assert pq.read_table(tmp_path / "e.parquet").equals(pq.read_table(EXAMPLE))
    oembeddings.convert(EXAMPLE, tmp_path / "e.db", to="sqlite")
    duck = oembeddings.convert(EXAMPLE, tmp_path / "duck", to="duckdb", duckdb_data="csv")
    assert "embeddings.csv" in duck.files
    s3 = oembeddings.convert(EXAMPLE, tmp_path / "s3", to="s3vectors", s3_bucket="museum", s3_index="clip")
    assert s3.files[0] == "create-index.json"
    with pytest.raises(FormatError, match=r"\(s3_bucket=\)"):
        oembeddings.convert(EXAMPLE, tmp_path / "s3b", to="s3vectors")
    with pytest.raises(ValueError, match="format"):
        oembeddings.convert(EXAMPLE, tmp_path / "x", to="csv")
    # Without `to`, the output's name decides, as on the command line.
    assert oembeddings.convert(EXAMPLE, tmp_path / "n.ndjson").target_format == "jsonl"
    assert oembeddings.convert(EXAMPLE, tmp_path / "n.out").target_format == "parquet"


def test_convert_refusals_are_validation_errors_or_skips(tmp_path):
    table = pq.read_table(EXAMPLE)
    emb = table.column("embeddings").to_pylist()
    emb[3][0] = float("nan")
    src = tmp_path / "nan.parquet"
    pq.write_table(table.set_column(4, "embeddings", pa.array(emb, table.schema.field("embeddings").type)), src)
    with pytest.raises(ValidationError, match="row 3"):
        oembeddings.convert(src, tmp_path / "o.jsonl", to="jsonl")
    assert not (tmp_path / "o.jsonl").exists()
    summary = oembeddings.convert(src, tmp_path / "o.jsonl", to="jsonl", skip_invalid=True)
    assert summary.skipped == 1 and summary.skips[0]["rule"] == "non-finite"


def test_convert_met_layout(tmp_path):
    met = pa.table({
        "objectID": pa.array([1, 2], pa.int64()),
        "embedding": pa.array([[0.5, 0.5], [0.25, 1.0]], pa.list_(pa.float32())),
        "model": ["clip", "clip"],
        "dim": [2, 2],
    })
    pq.write_table(met, tmp_path / "met.parquet")
    summary = oembeddings.convert(
        tmp_path / "met.parquet", tmp_path / "out.parquet",
        met={"created": 1700000000, "provider_name": "The Met",
             "templates": {"subject_url": "https://www.metmuseum.org/art/collection/search/{objectID}"}},
    )
    assert summary.source_format == "met" and summary.written == 2
    attrs = dict(pq.read_table(tmp_path / "out.parquet").column("attributes")[1].as_py())
    assert attrs["subject_url"].endswith("/2") and attrs["provider_name"] == "The Met"
    # A misspelt option is an error naming it, and nothing is written.
    with pytest.raises(ValueError, match='"provder"'):
        oembeddings.convert(tmp_path / "met.parquet", tmp_path / "typo.parquet", met={"provder": "met"})
    assert not (tmp_path / "typo.parquet").exists()


# --- batches, for engines ----------------------------------------------------------------


def test_record_digests_match_the_signed_sidecar(tmp_path, example):
    key = oembeddings.keygen(tmp_path / "k")
    signed = oembeddings.sign_records(example, key.secret)
    sidecar = pq.read_table(signed["sidecar"])
    digest_column = next(c for c in sidecar.column_names if "digest" in c)
    digests = pa.array(oembeddings.record_digests(pq.read_table(example)))
    assert digests.type == pa.binary(32)
    assert digests.to_pylist() == [bytes(d) for d in sidecar.column(digest_column).to_pylist()]


def test_sign_and_verify_batches(tmp_path):
    key = oembeddings.keygen(tmp_path / "k")
    table = pq.read_table(EXAMPLE)
    signatures = pa.array(oembeddings.sign_batch(table, key.secret))
    assert len(signatures) == 24 and all(len(s) == 64 for s in signatures.to_pylist())
    ok = pa.array(oembeddings.verify_batch(table, signatures, key.public))
    assert ok.to_pylist() == [True] * 24
    emb = table.column("embeddings").to_pylist()
    emb[5][7] += 1e-3
    changed = table.set_column(4, "embeddings", pa.array(emb, table.schema.field("embeddings").type))
    result = pa.array(oembeddings.verify_batch(changed, signatures, key.public)).to_pylist()
    assert result == [i != 5 for i in range(24)]
    nulls = pa.array([None] + signatures.to_pylist()[1:], pa.binary())
    assert pa.array(oembeddings.verify_batch(table, nulls, key.public)).to_pylist()[0] is False
    with pytest.raises(ValidationError, match="signatures"):
        oembeddings.verify_batch(table, signatures.slice(1), key.public)
    # A batch stream and a table give the same answer.
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7))
    assert pa.array(oembeddings.verify_batch(reader, signatures, key.public)).to_pylist() == [True] * 24


def test_validate_batch_finds_record_problems():
    table = pq.read_table(EXAMPLE)
    assert oembeddings.validate_batch(table).ok
    doubled = pa.concat_tables([table, table.slice(0, 1)])
    report = oembeddings.validate_batch(doubled, name="partition-7")
    assert not report.ok and report.path == "partition-7"
    assert [f.rule for f in report.findings] == ["OE120"] and report.findings[0].row == 24


# --- the command line --------------------------------------------------------------------


def test_console_script_and_module():
    scripts = Path(sysconfig.get_path("scripts"))
    run = subprocess.run([scripts / "oembeddings", "validate", EXAMPLE], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "oembeddings", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("oembeddings ")
    run = subprocess.run([sys.executable, "-m", "oembeddings", "validate"], capture_output=True, text=True)
    assert run.returncode == 2 and "Usage" in run.stderr
    bad = subprocess.run([sys.executable, "-m", "oembeddings", "validate", CORPUS / "invalid" / "oe001-not-parquet.parquet"],
                         capture_output=True, text=True)
    assert bad.returncode == 1


def test_exception_hierarchy():
    for cls in (FormatError, ValidationError, SignatureError):
        assert issubclass(cls, OEmbeddingsError) and issubclass(cls, Exception)
    assert oembeddings.__version__ == "0.1.0"
    assert os.path.exists(Path(oembeddings.__file__).parent / "py.typed")


def test_a_missing_file_is_a_file_not_found_error_and_an_oembeddings_error(tmp_path, example):
    key = oembeddings.keygen(tmp_path / "k")
    # A data file whose signatures are there but which is not.
    missing = tmp_path / "missing.parquet"
    missing.write_bytes(example.read_bytes())
    oembeddings.sign_file(missing, key.secret)
    oembeddings.sign_records(missing, key.secret)
    missing.unlink()
    calls = {
        "read": lambda: oembeddings.read(missing),
        "stats": lambda: oembeddings.stats(missing),
        "append_stats": lambda: oembeddings.append_stats(missing),
        "convert": lambda: oembeddings.convert(missing, tmp_path / "out.jsonl", to="jsonl"),
        # A missing data file, not a signature problem (these raised SignatureError before).
        "sign_file": lambda: oembeddings.sign_file(missing, key.secret),
        "verify_file": lambda: oembeddings.verify_file(missing, key.public),
        "sign_records": lambda: oembeddings.sign_records(missing, key.secret),
        "verify_records": lambda: oembeddings.verify_records(missing, key.public),
        "sign_release": lambda: oembeddings.sign_release(tmp_path / "missing", key.secret),
        # A missing key file.
        "sign_file key": lambda: oembeddings.sign_file(example, tmp_path / "missing.key"),
        "verify_records key": lambda: oembeddings.verify_records(example, tmp_path / "missing.pub"),
        "key_info": lambda: oembeddings.key_info(tmp_path / "missing.pub"),
    }
    for name, call in calls.items():
        with pytest.raises(FileNotFoundError) as raised:
            call()
        error = raised.value
        assert isinstance(error, FormatError) and isinstance(error, OEmbeddingsError), name
        assert not isinstance(error, SignatureError), name
        assert "missing" in str(error) and "\n" not in str(error), (name, str(error))


def test_other_os_errors_and_bad_options_keep_both_classes(tmp_path):
    with pytest.raises(IsADirectoryError) as raised:
        oembeddings.stats(tmp_path)
    assert isinstance(raised.value, FormatError) and str(tmp_path) in str(raised.value)
    with pytest.raises(ValueError, match="met cannot be written") as bad:
        oembeddings.convert(EXAMPLE, tmp_path / "x", to="met")
    assert isinstance(bad.value, FormatError)
    # A record that breaks a rule every record keeps is a validation error, whichever call
    # reads it.
    table = pq.read_table(EXAMPLE)
    nulls = tmp_path / "nulls.parquet"
    pq.write_table(table.set_column(0, "provider", pa.array([None] + table.column("provider").to_pylist()[1:])), nulls)
    with pytest.raises(ValidationError, match=r"nulls.parquet: row 0: column 'provider' is null"):
        oembeddings.stats(nulls)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may read any file")
def test_an_unreadable_file_is_a_permission_error(tmp_path, example):
    example.chmod(0)
    with pytest.raises(PermissionError) as raised:
        oembeddings.stats(example)
    assert isinstance(raised.value, FormatError) and example.name in str(raised.value)


def test_errors_pickle_with_their_classes(tmp_path):
    import pickle

    with pytest.raises(FileNotFoundError) as raised:
        oembeddings.read(tmp_path / "missing.parquet")
    again = pickle.loads(pickle.dumps(raised.value))
    assert type(again) is type(raised.value) and str(again) == str(raised.value)


def test_results_are_frozen_typed_objects(tmp_path, example):
    import copy
    import pickle

    report = oembeddings.validate(CORPUS / "invalid" / "sfomuseum-oe112-4-clip-20260601.parquet")
    assert type(report) is oembeddings.ValidationReport and type(report).__module__ == "oembeddings"
    finding = report.findings[0]
    assert type(finding) is oembeddings.Finding
    assert report.findings is report.findings, "one list, not a new one per access"
    assert repr(finding).startswith("Finding(rule='OE112', severity='error', message=")
    with pytest.raises(AttributeError):
        report.ok = True  # type: ignore[misc]
    # Value equality, hashing where every field is hashable, pickling and copying.
    assert report == oembeddings.validate(CORPUS / "invalid" / "sfomuseum-oe112-4-clip-20260601.parquet")
    assert report != oembeddings.validate(EXAMPLE)
    assert len({finding, copy.copy(finding), oembeddings.Finding(**report.to_dict()["findings"][0])}) == 1
    with pytest.raises(TypeError):
        hash(report)
    for value in (report, finding, oembeddings.parse_name(EXAMPLE)):
        assert pickle.loads(pickle.dumps(value)) == value
    assert oembeddings.Finding("OE1", "error", "m") == oembeddings.Finding("OE1", "error", "m", row=None, key=None)

    key = oembeddings.keygen(tmp_path / "k")
    assert type(key) is oembeddings.KeyInfo and key.details == {}
    described = oembeddings.key_info(key.public)
    assert (described.secret, described.public) == (None, None)
    assert described.details["secret"] is False and described.details["user_ids"] == []
    assert pickle.loads(pickle.dumps(described)) == described
    oembeddings.sign_file(example, key.secret)
    verified = oembeddings.verify_file(example, key.public)
    assert type(verified) is oembeddings.VerifyReport and type(verified.signer) is oembeddings.Signer
    assert verified.to_dict()["signer"]["key"] == key.id and verified.to_dict()["ok"] is True
    assert pickle.loads(pickle.dumps(verified)) == verified
    summary = oembeddings.convert(EXAMPLE, tmp_path / "e.jsonl", to="jsonl")
    assert type(summary) is oembeddings.ConvertSummary
    assert pickle.loads(pickle.dumps(summary)) == summary
    assert "written=24" in repr(summary)


def test_the_public_namespace_is_the_api():
    public = {name for name in dir(oembeddings) if not name.startswith("_")}
    assert public == set(oembeddings.__all__)
    assert not public & {"Any", "Literal", "os", "json", "dataclass", "annotations", "Path", "Mapping"}
    assert all(hasattr(oembeddings, name) for name in oembeddings.__all__)


def test_stubs_match_the_runtime(tmp_path):
    """The stubs (``_native.pyi``) and annotations (``__init__.py``) agree with the installed
    module, and the package type-checks against them."""
    for check in (["mypy.stubtest", "oembeddings"], ["mypy", "--strict", "-p", "oembeddings"]):
        run = subprocess.run([sys.executable, "-m", *check], cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_long_calls_release_the_gil(tmp_path):
    import threading

    rng = np.random.default_rng(1)
    n, dims = 20_000, 256
    table = pa.table({
        "provider": ["sfomuseum"] * n,
        "depiction_id": [str(i) for i in range(n)],
        "subject_id": [str(i) for i in range(n)],
        "model": ["dinov2"] * n,
        "embeddings": pa.FixedSizeListArray.from_arrays(pa.array(rng.standard_normal(n * dims, dtype=np.float32)), dims),
        "created": [1_700_000_000] * n,
        "attributes": pa.array([[("type", "image")]] * n, pa.map_(pa.string(), pa.string())),
    })
    path = tmp_path / "big.parquet"
    oembeddings.write(path, table)
    import time

    done = threading.Event()
    span = []

    def work():
        start = time.perf_counter()
        oembeddings.validate(path)
        span.append(time.perf_counter() - start)
        done.set()

    worker = threading.Thread(target=work)
    last, longest = time.perf_counter(), 0.0
    worker.start()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    # This thread kept waking up while the call ran: the call did not hold the GIL (had it,
    # this thread would have stalled for the whole call).
    assert span[0] > 0.05, "the call was too short to tell"
    assert longest < span[0] / 2, (longest, span[0])


def test_x509_signatures_and_identity(example, tmp_path):
    """go-embeddingsdb's X.509 records, signed and verified from Python, with the identity
    checked against a CA that openssl makes here."""

    def openssl(*args):
        subprocess.run(["openssl", *map(str, args)], cwd=tmp_path, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "3650", "-subj", "/CN=Test Root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("genpkey", "-algorithm", "ed25519", "-out", "leaf.key")
    openssl("req", "-new", "-key", "leaf.key", "-subj", "/CN=sfomuseum.org", "-out", "leaf.csr")
    (tmp_path / "ext").write_text("subjectAltName=DNS:sfomuseum.org\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "3650", "-extfile", "ext", "-out", "leaf.pem")
    written = oembeddings.sign_records(example, tmp_path / "leaf.key", profile="compatible",
                                       certificate=tmp_path / "leaf.pem", embed_public_key=True)
    assert written["records"] == 24
    report = oembeddings.verify_records(example, tmp_path / "leaf.pem")
    assert report.ok and report.valid == 24 and report.carried == 0
    assert report.identity is not None and report.identity["chain"]["status"] == "not-checked"
    # The certificates start now; the example's records were made before: check at a later time.
    later = "2030-01-01"
    report = oembeddings.verify_records(example, tmp_path / "leaf.pem", ca=tmp_path / "ca.pem",
                                        identity="sfomuseum.org", at=later)
    assert report.ok, report.to_dict()
    assert report.identity is not None and report.identity["name"]["status"] == "passed"
    assert report.to_dict()["identity"] == report.identity
    report = oembeddings.verify_records(example, tmp_path / "leaf.pem", ca=tmp_path / "ca.pem",
                                        identity="example.org", at=later)
    assert not report.ok
    with pytest.raises(SignatureError, match="embeds an X.509 certificate"):
        oembeddings.verify_records(example, None)
    # Python's argument names, not the command line's options.
    with pytest.raises(SignatureError, match=r"identity= needs ca= or webpki_roots=True"):
        oembeddings.verify_records(example, tmp_path / "leaf.pem", identity="sfomuseum.org")
    unchecked = oembeddings.verify_records(example, tmp_path / "leaf.pem").identity
    assert unchecked is not None and unchecked["chain"]["detail"] == "no ca= or webpki_roots=True", unchecked


@pytest.mark.parametrize("entry", ["console script", "python -m"])
@pytest.mark.parametrize("args", [["inspect", str(EXAMPLE)], ["emit", str(EXAMPLE)], ["validate", "--rules"]])
def test_a_closed_stdout_ends_quietly_with_141(entry, args):
    # stdout is a pipe whose reader is already closed, as after `| head` has exited.
    reader, writer = os.pipe()
    os.close(reader)
    script = Path(sysconfig.get_path("scripts")) / "oembeddings"
    command = [str(script)] if entry == "console script" else [sys.executable, "-m", "oembeddings"]
    try:
        done = subprocess.run([*command, *args], stdout=writer, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(writer)
    assert done.returncode == 141, done.stderr.decode()
    assert done.stderr == b""
