"""Validate, sign, verify and convert shared vector embeddings of museum collections.

A thin layer over the Rust crates of `oembeddings` (the same code as the ``oembeddings``
command, which ``pip install`` also installs). Every long call releases the GIL.

>>> import oembeddings, pyarrow as pa
>>> report = oembeddings.validate("records.parquet")
>>> report.ok, report.errors, report.warnings
>>> table = pa.table(oembeddings.read("records.parquet"))   # zero-copy Arrow stream
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence, Union

from . import _native
from ._native import FormatError, OEmbeddingsError, SignatureError, ValidationError

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "OEmbeddingsError",
    "FormatError",
    "ValidationError",
    "SignatureError",
    "Finding",
    "ValidationReport",
    "FileName",
    "KeyInfo",
    "VerifyReport",
    "Problem",
    "Signer",
    "ConvertSummary",
    "read",
    "write",
    "validate",
    "stats",
    "append_stats",
    "parse_name",
    "keygen",
    "key_info",
    "sign_file",
    "verify_file",
    "sign_records",
    "verify_records",
    "sign_release",
    "verify_release",
    "convert",
    "record_digests",
    "sign_batch",
    "verify_batch",
    "validate_batch",
]


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One broken rule at one place: `rule` is a stable id such as ``OE110``."""

    rule: str
    severity: Literal["error", "warning"]
    message: str
    row: int | None = None
    key: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    """The findings of one file (or batch). ``ok`` is true when there are no errors."""

    path: str
    ok: bool
    mode: str
    records: int
    errors: int
    warnings: int
    findings: list[Finding]
    suppressed: dict[str, int]

    @classmethod
    def _from_json(cls, text: str) -> "ValidationReport":
        d = json.loads(text)
        return cls(
            path=d["path"],
            ok=d["valid"],
            mode=d["mode"],
            records=d["records"],
            errors=d["errors"],
            warnings=d["warnings"],
            findings=[Finding(**f) for f in d["findings"]],
            suppressed=d["suppressed"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (the CLI's ``--format json`` shape, ``valid`` = ``ok``)."""
        return {
            "path": self.path,
            "valid": self.ok,
            "mode": self.mode,
            "records": self.records,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.__dict__.copy() for f in self.findings],
            "suppressed": dict(self.suppressed),
        }


@dataclass(frozen=True)
class FileName:
    """The parts of a conventional name ``{provider}-{source}-{dimensions}-{model}-{YYYYMMDD}.parquet``."""

    provider: str
    source: str
    dimensions: int
    model: str
    date: str


@dataclass(frozen=True)
class KeyInfo:
    """A key file: algorithm (``ed25519`` or ``openpgp``), id (key id or fingerprint)."""

    algorithm: str
    id: str
    secret: str | None = None
    public: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One thing verification found wrong: ``invalid``, ``missing`` or ``extra``, at a row
    and record key (or file name, for releases)."""

    kind: Literal["invalid", "missing", "extra"]
    message: str
    row: int | None = None
    key: str | None = None


@dataclass(frozen=True)
class Signer:
    """Who signed, as the signature says."""

    algorithm: str
    key: str
    user_id: str | None = None
    signed_at: str | None = None
    trusted_comment: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a verification. ``ok`` is true only when every signature checked is
    by the given key and valid (and none is missing, unless allowed): it fails closed. The
    report is also truthy exactly when ``ok``."""

    path: str
    check: str
    ok: bool
    valid: int
    invalid: int
    missing: int
    extra: int
    signer: Signer | None
    problems: list[Problem]
    unlisted: int
    notes: list[str]

    @classmethod
    def _from_json(cls, text: str) -> "VerifyReport":
        d = json.loads(text)
        return cls(
            path=d["path"],
            check=d["check"],
            ok=d["ok"],
            valid=d["valid"],
            invalid=d["invalid"],
            missing=d["missing"],
            extra=d["extra"],
            signer=None if d["signer"] is None else Signer(**d["signer"]),
            problems=[Problem(**p) for p in d["problems"]],
            unlisted=d["unlisted"],
            notes=d["notes"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as the CLI's ``--format json`` prints it."""
        return {
            "path": self.path,
            "check": self.check,
            "ok": self.ok,
            "valid": self.valid,
            "invalid": self.invalid,
            "missing": self.missing,
            "extra": self.extra,
            "signer": None if self.signer is None else dict(self.signer.__dict__),
            "problems": [dict(p.__dict__) for p in self.problems],
            "unlisted": self.unlisted,
            "notes": list(self.notes),
        }

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class ConvertSummary:
    """What a conversion did: records read, written and skipped (with the first skips)."""

    input: str
    output: str
    source_format: str
    target_format: str
    read: int
    written: int
    skipped: int
    skipped_by_rule: dict[str, int]
    skips: list[dict[str, Any]]
    files: list[str]


# --- files -------------------------------------------------------------------------------


def read(path: PathLike, *, batch_size: int | None = None) -> Any:
    """Streams a records file (any accepted layout) as canonical Arrow record batches.

    The result implements the Arrow PyCapsule stream interface (``__arrow_c_stream__``):
    ``pyarrow.table(r)``, ``polars.from_arrow(r)`` or DuckDB consume it without copying. It
    can be consumed once.
    """
    return _native.read(os.fspath(path), batch_size=batch_size)


def write(
    path: PathLike,
    data: Any,
    *,
    vector_layout: Literal["go", "fixed"] = "go",
    statistics: bool = True,
) -> dict[str, Any]:
    """Writes Arrow data (any object with ``__arrow_c_stream__`` or ``__arrow_c_array__``,
    such as a pyarrow Table or a polars DataFrame) in go-embeddingsdb's layout, atomically.

    The data may be in any accepted layout (list, large list or fixed-size list vectors of
    float16/32/64; attributes as a map, a list of key/value structs or JSON text). Returns a
    summary (records, row groups, statistics). Vectors are stored as float32: when narrowing
    float64 vectors changes values, a ``UserWarning`` says how many and the first row.
    """
    if hasattr(data, "to_arrow") and not hasattr(data, "__arrow_c_stream__"):
        data = data.to_arrow()
    return json.loads(_native.write(os.fspath(path), data, vector_layout=vector_layout, statistics=statistics))


def validate(
    path: PathLike, *, metadata_only: bool = False, max_findings_per_rule: int | None = 100
) -> ValidationReport:
    """Validates a file against the specification (every rule, or footer and schema only)."""
    return ValidationReport._from_json(
        _native.validate(os.fspath(path), metadata_only=metadata_only, max_findings_per_rule=max_findings_per_rule)
    )


def stats(path: PathLike) -> dict[str, str]:
    """The statistics of a file, as the footer keys (``embeddingsdb:*``, ``oembeddings:*``) hold them."""
    return json.loads(_native.stats(os.fspath(path)))


def append_stats(path: PathLike, *, output: PathLike | None = None) -> dict[str, Any]:
    """Writes the statistics into the file's footer without rewriting its data pages (or
    into a copy at ``output``)."""
    return json.loads(_native.append_stats(os.fspath(path), output=None if output is None else os.fspath(output)))


def parse_name(name: PathLike) -> FileName:
    """Parses a conventional file name; raises ValidationError when it is not one."""
    return FileName(**json.loads(_native.parse_name(os.fspath(name))))


def convert(
    input: PathLike,
    output: PathLike,
    *,
    to: str = "parquet",
    from_: str | None = None,
    skip_invalid: bool = False,
    force: bool = False,
    statistics: bool = True,
    met: Mapping[str, Any] | None = None,
    s3_bucket: str | None = None,
    s3_index: str | None = None,
    s3_distance: Literal["cosine", "euclidean"] = "cosine",
    s3_non_filterable: Sequence[str] | None = None,
    duckdb_data: Literal["parquet", "csv"] = "parquet",
) -> ConvertSummary:
    """Converts records between formats (``parquet``, ``parquet-fixed``, ``jsonl``, ``met``
    (input), ``duckdb``, ``sqlite``, ``s3vectors``, ``qdrant``), as ``oembeddings convert``.

    ``met`` holds the Met input's options: ``provider``, ``provider_name``, ``provider_url``,
    ``templates`` (list of (attribute, template)), ``created``, ``metadata`` (a CSV or
    Parquet path), ``metadata_key``, ``columns`` (list of (attribute, column)).
    ``duckdb_data="csv"`` writes a DuckDB export's rows as ``embeddings.csv``, which
    go-embeddingsdb's server imports.
    """
    met_options = None
    if met is not None:
        met_options = dict(met)
        if "metadata" in met_options and met_options["metadata"] is not None:
            met_options["metadata"] = os.fspath(met_options["metadata"])
        for k in ("templates", "columns"):
            if k in met_options and met_options[k] is not None:
                met_options[k] = [tuple(p) for p in (met_options[k].items() if isinstance(met_options[k], Mapping) else met_options[k])]
    d = json.loads(
        _native.convert(
            os.fspath(input),
            os.fspath(output),
            to=to,
            from_=from_,
            skip_invalid=skip_invalid,
            force=force,
            statistics=statistics,
            met=met_options,
            s3_bucket=s3_bucket,
            s3_index=s3_index,
            s3_distance=s3_distance,
            s3_non_filterable=None if s3_non_filterable is None else list(s3_non_filterable),
            duckdb_data=duckdb_data,
        )
    )
    return ConvertSummary(
        input=d["input"],
        output=d["output"],
        source_format=d["from"],
        target_format=d["to"],
        read=d["read"],
        written=d["written"],
        skipped=d["skipped"],
        skipped_by_rule=d["skipped_by_rule"],
        skips=d["skips"],
        files=d["files"],
    )


# --- keys and signatures -----------------------------------------------------------------


def keygen(
    path: PathLike,
    *,
    kind: Literal["ed25519", "openpgp"] = "ed25519",
    userid: str | None = None,
    password: str | None = None,
    overwrite: bool = False,
) -> KeyInfo:
    """Generates a key pair: ``path`` (secret, mode 0600) and ``path.pub``. Ed25519 keys are
    in minisign's formats; OpenPGP keys are armored certificates with an Ed25519 signing key."""
    d = json.loads(
        _native.keygen(os.fspath(path), kind=kind, userid=userid, password=password, overwrite=overwrite)
    )
    return KeyInfo(algorithm=d["algorithm"], id=d["id"], secret=str(d["secret"]), public=str(d["public"]))


def key_info(path: PathLike) -> KeyInfo:
    """Describes a secret or public key file."""
    d = json.loads(_native.key_info(os.fspath(path)))
    return KeyInfo(algorithm=d.pop("algorithm"), id=d.pop("id"), details=d)


def sign_file(
    path: PathLike, key: PathLike, *, password: str | None = None, fingerprint: str | None = None
) -> Path:
    """Writes a detached signature next to the file (``.asc`` for OpenPGP keys, ``.minisig``
    for Ed25519 keys) and returns its path."""
    return Path(_native.sign_file(os.fspath(path), os.fspath(key), password=password, fingerprint=fingerprint))


def verify_file(
    path: PathLike, key: PathLike, *, signature: PathLike | None = None, fingerprint: str | None = None
) -> VerifyReport:
    """Verifies a file's detached signature against the one key you trust."""
    return VerifyReport._from_json(
        _native.verify_file(
            os.fspath(path),
            os.fspath(key),
            signature=None if signature is None else os.fspath(signature),
            fingerprint=fingerprint,
        )
    )


def sign_records(
    path: PathLike,
    key: PathLike,
    *,
    profile: Literal["native", "compatible"] = "native",
    password: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """Signs every record (native profile: sidecar plus signed manifest; compatible profile:
    go-embeddingsdb's sidecar). Returns the files written and the record count."""
    return json.loads(
        _native.sign_records(os.fspath(path), os.fspath(key), profile=profile, password=password, fingerprint=fingerprint)
    )


def verify_records(
    path: PathLike,
    key: PathLike,
    *,
    sidecar: PathLike | None = None,
    profile: Literal["native", "compatible"] | None = None,
    manifest: PathLike | None = None,
    allow_missing: bool = False,
    allow_rewritten: bool = False,
    fingerprint: str | None = None,
) -> VerifyReport:
    """Verifies every record against its signatures; fails closed."""
    return VerifyReport._from_json(
        _native.verify_records(
            os.fspath(path),
            os.fspath(key),
            sidecar=None if sidecar is None else os.fspath(sidecar),
            profile=profile,
            manifest=None if manifest is None else os.fspath(manifest),
            allow_missing=allow_missing,
            allow_rewritten=allow_rewritten,
            fingerprint=fingerprint,
        )
    )


def sign_release(
    directory: PathLike, key: PathLike, *, password: str | None = None, fingerprint: str | None = None
) -> dict[str, Any]:
    """Signs a release directory: ``release.json`` listing every file, and its signature."""
    return json.loads(
        _native.sign_release(os.fspath(directory), os.fspath(key), password=password, fingerprint=fingerprint)
    )


def verify_release(directory: PathLike, key: PathLike, *, fingerprint: str | None = None) -> VerifyReport:
    """Verifies a release directory: missing, extra and changed files."""
    return VerifyReport._from_json(
        _native.verify_release(os.fspath(directory), os.fspath(key), fingerprint=fingerprint)
    )


# --- batches, for engines ----------------------------------------------------------------


def record_digests(batch: Any) -> Any:
    """The native-profile digest of each record of an Arrow batch, stream or table: an Arrow
    ``fixed_size_binary(32)`` array (``__arrow_c_array__``; ``pyarrow.array(...)`` takes it)."""
    return _native.record_digests(batch)


def sign_batch(batch: Any, key: PathLike, *, password: str | None = None, fingerprint: str | None = None) -> Any:
    """Native-profile signatures of each record of an Arrow batch: a ``binary`` array."""
    return _native.sign_batch(batch, os.fspath(key), password=password, fingerprint=fingerprint)


def verify_batch(batch: Any, signatures: Any, key: PathLike, *, fingerprint: str | None = None) -> Any:
    """Whether each record's signature verifies under ``key``: a ``bool`` array. A null or
    empty signature is false."""
    return _native.verify_batch(batch, signatures, os.fspath(key), fingerprint=fingerprint)


def validate_batch(batch: Any, *, name: str = "<batch>", max_findings_per_rule: int | None = 100) -> ValidationReport:
    """The record rules (not the file rules) over an Arrow batch, stream or table."""
    return ValidationReport._from_json(
        _native.validate_batch(batch, name=name, max_findings_per_rule=max_findings_per_rule)
    )
