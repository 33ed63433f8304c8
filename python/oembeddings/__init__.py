"""Validate, sign, verify and convert shared vector embeddings of museum collections.

A thin layer over the Rust crates of `oembeddings` (the same code as the ``oembeddings``
command, which ``pip install`` also installs). Every long call releases the GIL. Results are
frozen objects with value equality (``ValidationReport``, ``VerifyReport``, ...), dicts, or
Arrow data; errors are ``OEmbeddingsError`` subclasses (a missing file is also a
``FileNotFoundError``).

>>> import oembeddings, pyarrow as pa
>>> report = oembeddings.validate("records.parquet")
>>> report.ok, report.errors, report.warnings
>>> table = pa.table(oembeddings.read("records.parquet"))   # zero-copy Arrow stream
"""

from __future__ import annotations

import collections.abc as _abc
import os as _os
import pathlib as _pathlib
import typing as _typing

from . import _native
from ._errors import FormatError, OEmbeddingsError, SignatureError, ValidationError
from ._native import (
    ConvertSummary,
    DiscoveryReport,
    FileName,
    Finding,
    KeyInfo,
    Problem,
    Signer,
    ValidationReport,
    VerifyReport,
)

if _typing.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from os import PathLike
    from pathlib import Path
    from typing import Any, Literal

__version__: str = _native.__version__

# The future import binds a name; the package's namespace is its API.
del annotations

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
    "DiscoveryReport",
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
    "verify",
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


def _path(path: str | PathLike[str] | None) -> str | None:
    return None if path is None else _os.fspath(path)


# --- files -------------------------------------------------------------------------------


def read(
    path: str | PathLike[str],
    *,
    batch_size: int | None = None,
    vector_layout: Literal["go", "fixed"] = "go",
    storage_options: Mapping[str, str] | None = None,
) -> Any:
    """Streams a records file (any accepted layout) as canonical Arrow record batches.

    The result implements the Arrow PyCapsule stream interface (``__arrow_c_stream__``):
    ``pyarrow.table(r)``, ``polars.from_arrow(r)`` or DuckDB consume it without copying. It
    can be consumed once. With ``vector_layout="fixed"`` the vectors are a FixedSizeList of
    the first record's length (every record must have it), the type vector search engines
    want: ``lance.write_dataset(oembeddings.read(F, vector_layout="fixed"), "f.lance")``.

    ``path`` may be a URL: ``https://``, ``s3://BUCKET/KEY``, ``gs://BUCKET/PATH``,
    ``az://CONTAINER/PATH`` or ``hf://datasets/ORG/NAME[@REVISION]/PATH``, read without
    downloading the file; ``storage_options`` (``object_store``'s names: ``aws_region``,
    ``aws_endpoint``, ``google_base_url``, ``allow_http``, ``timeout``, ...) configure its
    store, as in pyarrow and polars.
    """
    return _native.read(
        _os.fspath(path), batch_size=batch_size, vector_layout=vector_layout, storage_options=storage_options
    )


def write(
    path: str | PathLike[str],
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
    return _native.write(_os.fspath(path), data, vector_layout=vector_layout, statistics=statistics)


def validate(
    path: str | PathLike[str],
    *,
    metadata_only: bool = False,
    max_findings_per_rule: int | None = 100,
    target: Literal["any", "hub"] = "any",
    storage_options: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Validates a file against the specification (every rule, or footer and schema only);
    ``target="hub"`` also warns about what would break on the Hugging Face Hub (OE501, OE502).
    A URL is read where it is (see ``read``); ``metadata_only`` then costs a few requests."""
    return _native.validate(
        _os.fspath(path),
        metadata_only=metadata_only,
        max_findings_per_rule=max_findings_per_rule,
        target=target,
        storage_options=storage_options,
    )


def stats(path: str | PathLike[str], *, storage_options: Mapping[str, str] | None = None) -> dict[str, str]:
    """The statistics of a file, as the footer keys (``embeddingsdb:*``, ``oembeddings:*``) hold them."""
    return _native.stats(_os.fspath(path), storage_options=storage_options)


def append_stats(path: str | PathLike[str], *, output: str | PathLike[str] | None = None) -> dict[str, Any]:
    """Writes the statistics into the file's footer without rewriting its data pages (or
    into a copy at ``output``)."""
    return _native.append_stats(_os.fspath(path), output=_path(output))


def parse_name(name: str | PathLike[str]) -> FileName:
    """Parses a conventional file name; raises ValidationError when it is not one."""
    return _native.parse_name(_os.fspath(name))


def convert(
    input: str | PathLike[str] | Sequence[str | PathLike[str]],
    output: str | PathLike[str],
    *,
    to: str | None = None,
    from_: str | None = None,
    skip_invalid: bool = False,
    force: bool = False,
    statistics: bool = True,
    provider: str | None = None,
    model: str | None = None,
    provider_name: str | None = None,
    provider_url: str | None = None,
    templates: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    created: int | None = None,
    met: Mapping[str, Any] | None = None,
    distance: Literal["cosine", "l2", "euclidean", "ip"] | None = None,
    s3_bucket: str | None = None,
    s3_index: str | None = None,
    s3_distance: Literal["cosine", "euclidean", "l2"] | None = None,
    s3_non_filterable: Sequence[str] | None = None,
    duckdb_data: Literal["parquet", "csv"] = "parquet",
    collection: str | None = None,
    tenant: str = "default_tenant",
    database: str = "default_database",
    chroma_token_file: str | PathLike[str] | None = None,
    mode: Literal["add", "upsert"] = "add",
    table: str | None = None,
    pg_index: Literal["none", "hnsw", "ivfflat"] = "none",
    license: str = "other",
    title: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> ConvertSummary:
    """Converts records between formats and stores, as ``oembeddings convert``.

    Formats: ``parquet``, ``parquet-fixed``, ``jsonl``, ``met`` and ``skypilot`` (inputs),
    ``duckdb``, ``sqlite``, ``s3vectors``, ``qdrant``, ``hf`` (a Hugging Face dataset
    directory), and the stores ``chroma`` (``output``/``input`` is the server's URL,
    ``http://HOST:PORT``, with ``collection``) and ``pgvector`` (a ``postgresql://`` URL, with
    ``table``). ``input`` may be several files, a directory or a glob pattern. Without
    ``to``, a ``.jsonl`` or ``.ndjson`` output gets JSON Lines and any other Parquet.

    ``provider``, ``model``, ``provider_name``, ``provider_url``, ``templates`` (attribute ->
    template; ``{objectID}`` for the Met, ``{idx}`` and ``{path}`` for SkyPilot) and
    ``created`` make records of the Met's layout and SkyPilot's parts (SkyPilot needs
    ``provider`` and ``model``). ``met`` holds the Met's metadata join: ``metadata`` (a CSV or
    Parquet path), ``metadata_key``, ``columns`` (attribute -> column); it also takes the
    record options above, as before. ``distance`` is the index's distance of every store
    (``s3_distance`` is its old name). ``duckdb_data="csv"`` writes a DuckDB export's rows as
    ``embeddings.csv``. Chroma's token is read from ``chroma_token_file``, else the
    ``CHROMA_API_KEY`` environment variable. Inputs may be URLs, read where they are (see
    ``read``), and a Parquet or JSON Lines ``output`` an ``s3://``, ``gs://`` or ``az://`` URL, uploaded in one
    multipart upload once complete; ``storage_options`` reach both.
    """
    if distance is not None and s3_distance is not None and distance != s3_distance:
        raise ValueError(f"distance={distance!r} and its old name s3_distance={s3_distance!r} disagree")
    chosen = distance if distance is not None else (s3_distance if s3_distance is not None else "cosine")

    def pairs(value: Any) -> list[tuple[Any, ...]]:
        return [tuple(p) for p in (value.items() if isinstance(value, _abc.Mapping) else value)]

    met_options: dict[str, Any] | None = None
    if met is not None:
        met_options = dict(met)
        if met_options.get("metadata") is not None:
            met_options["metadata"] = _os.fspath(met_options["metadata"])
        for k in ("templates", "columns"):
            if met_options.get(k) is not None:
                met_options[k] = pairs(met_options[k])
    records = {
        "provider": provider,
        "model": model,
        "provider_name": provider_name,
        "provider_url": provider_url,
        "templates": None if templates is None else pairs(templates),
        "created": created,
    }
    if isinstance(input, (str, _os.PathLike)):
        inputs = [_os.fspath(input)]
    else:
        inputs = [_os.fspath(i) for i in input]
    return _native.convert(
        inputs,
        _os.fspath(output),
        to=to,
        from_=from_,
        skip_invalid=skip_invalid,
        force=force,
        statistics=statistics,
        met=met_options,
        records=records if any(v is not None for v in records.values()) else None,
        distance=chosen,
        s3_bucket=s3_bucket,
        s3_index=s3_index,
        s3_non_filterable=None if s3_non_filterable is None else list(s3_non_filterable),
        duckdb_data=duckdb_data,
        collection=collection,
        tenant=tenant,
        database=database,
        chroma_token_file=_path(chroma_token_file),
        mode=mode,
        table=table,
        pg_index=pg_index,
        license=license,
        title=title,
        storage_options=storage_options,
    )


# --- keys and signatures -----------------------------------------------------------------


def keygen(
    path: str | PathLike[str],
    *,
    kind: Literal["ed25519", "openpgp"] = "ed25519",
    userid: str | None = None,
    password: str | None = None,
    overwrite: bool = False,
) -> KeyInfo:
    """Generates a key pair: ``path`` (secret, mode 0600) and ``path.pub``. Ed25519 keys are
    in minisign's formats; OpenPGP keys are armored certificates with an Ed25519 signing key.
    Unless ``overwrite``, an existing file raises ``FileExistsError`` and nothing is written."""
    return _native.keygen(_os.fspath(path), kind=kind, userid=userid, password=password, overwrite=overwrite)


def key_info(path: str | PathLike[str]) -> KeyInfo:
    """Describes a secret or public key file."""
    return _native.key_info(_os.fspath(path))


def sign_file(
    path: str | PathLike[str], key: str | PathLike[str], *, password: str | None = None, fingerprint: str | None = None
) -> Path:
    """Writes a detached signature next to the file (``.asc`` for OpenPGP keys, ``.minisig``
    for Ed25519 keys) and returns its path."""
    return _pathlib.Path(
        _native.sign_file(_os.fspath(path), _os.fspath(key), password=password, fingerprint=fingerprint)
    )


def verify(
    path: str | PathLike[str],
    key: str | PathLike[str],
    *,
    fingerprint: str | None = None,
    allow_missing: bool = False,
    allow_rewritten: bool = False,
    ca: str | PathLike[str] | None = None,
    webpki_roots: bool = False,
    identity: str | None = None,
    at: str | None = None,
    crl: Sequence[str | PathLike[str]] = (),
    accept_carried_attributes: bool = False,
    trust_server_digest: bool = False,
    storage_options: Mapping[str, str] | None = None,
) -> DiscoveryReport:
    """Verifies whatever signatures sit beside the file, as ``oembeddings verify FILE --key K``
    and ``gpg --verify FILE`` find theirs: the detached signatures (``FILE.asc``, ``.sig``,
    ``.minisig``), the native profile's signed manifest with its sidecar, and
    go-embeddingsdb's sidecar. Each one the key can check is verified (``report.checked``);
    the others are listed with the key they need (``report.not_checked``). ``report.ok`` only
    when at least one was checked and none failed; nothing found gives a report whose ``ok``
    is false, not an exception. The other arguments are ``verify_records``'s, for the record
    signatures found. Use ``verify_file`` or ``verify_records`` to name one signature."""
    return _native.verify(
        _os.fspath(path),
        _os.fspath(key),
        fingerprint=fingerprint,
        allow_missing=allow_missing,
        allow_rewritten=allow_rewritten,
        ca=_path(ca),
        webpki_roots=webpki_roots,
        identity=identity,
        at=at,
        crl=[_os.fspath(c) for c in crl],
        accept_carried_attributes=accept_carried_attributes,
        trust_server_digest=trust_server_digest,
        storage_options=storage_options,
    )


def verify_file(
    path: str | PathLike[str],
    key: str | PathLike[str],
    *,
    signature: str | PathLike[str] | None = None,
    fingerprint: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> VerifyReport:
    """Verifies a file's detached signature against the one key you trust. A URL is read
    where it is (see ``read``), its signature beside it unless ``signature`` names one."""
    return _native.verify_file(
        _os.fspath(path),
        _os.fspath(key),
        signature=_path(signature),
        fingerprint=fingerprint,
        storage_options=storage_options,
    )


def sign_records(
    path: str | PathLike[str],
    key: str | PathLike[str],
    *,
    profile: Literal["native", "compatible"] = "native",
    password: str | None = None,
    fingerprint: str | None = None,
    certificate: str | PathLike[str] | None = None,
    embed_public_key: bool = False,
) -> dict[str, Any]:
    """Signs every record (native profile: sidecar plus signed manifest; compatible profile:
    go-embeddingsdb's sidecar). With `certificate` (compatible profile), `key` is that X.509
    certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1), as go-embeddingsdb's tls://
    signer; `embed_public_key` also writes the public key into the sidecar's footer. Returns
    the files written and the record count."""
    return _native.sign_records(
        _os.fspath(path),
        _os.fspath(key),
        profile=profile,
        password=password,
        fingerprint=fingerprint,
        certificate=_path(certificate),
        embed_public_key=embed_public_key,
    )


def verify_records(
    path: str | PathLike[str],
    key: str | PathLike[str] | None,
    *,
    sidecar: str | PathLike[str] | None = None,
    profile: Literal["native", "compatible"] | None = None,
    manifest: str | PathLike[str] | None = None,
    allow_missing: bool = False,
    allow_rewritten: bool = False,
    fingerprint: str | None = None,
    ca: str | PathLike[str] | None = None,
    webpki_roots: bool = False,
    identity: str | None = None,
    at: str | None = None,
    crl: Sequence[str | PathLike[str]] = (),
    accept_carried_attributes: bool = False,
    trust_server_digest: bool = False,
    storage_options: Mapping[str, str] | None = None,
) -> VerifyReport:
    """Verifies every record against its signatures; fails closed.

    Like ``verify_file``, it never raises for a failed or missing signature: an unsigned
    file, or a sidecar or manifest that is missing or malformed, gives a report whose ``ok``
    is false (``check == "records"``) naming what is missing. It raises for unusable input
    only: a data or key file that is missing (``FileNotFoundError``) or unreadable, or a key
    that cannot be used (``SignatureError``).

    go-embeddingsdb's X.509 signatures verify with the signer's PEM certificate (or chain,
    leaf first) as `key`. Its identity is checked only when asked: the chain to the roots in
    `ca` or Mozilla's (`webpki_roots`), the DNS name `identity`, revocation by the CRL files
    `crl`, at the time `at` (YYYY-MM-DD or RFC 3339; default: the newest `created` among the
    verified records); `report.identity` says what was and was not checked. `key=None`
    raises `SignatureError` naming the key embedded in the sidecar, which is never trusted
    by itself. `accept_carried_attributes` lets records signed with attributes carried over
    by go-embeddingsdb's earlier signer pass (`report.carried` counts them). A URL is read
    where it is (see ``read``), with its signatures beside it; for an ``hf://`` file,
    `trust_server_digest` compares the signed size and SHA-256 with those the Hub announces
    instead of reading the data (`report.notes` says so)."""
    return _native.verify_records(
        _os.fspath(path),
        _path(key),
        sidecar=_path(sidecar),
        profile=profile,
        manifest=_path(manifest),
        allow_missing=allow_missing,
        allow_rewritten=allow_rewritten,
        fingerprint=fingerprint,
        ca=_path(ca),
        webpki_roots=webpki_roots,
        identity=identity,
        at=at,
        crl=[_os.fspath(c) for c in crl],
        accept_carried_attributes=accept_carried_attributes,
        trust_server_digest=trust_server_digest,
        storage_options=storage_options,
    )


def sign_release(
    directory: str | PathLike[str], key: str | PathLike[str], *, password: str | None = None, fingerprint: str | None = None
) -> dict[str, Any]:
    """Signs a release directory: ``release.json`` listing every file, and its signature."""
    return _native.sign_release(_os.fspath(directory), _os.fspath(key), password=password, fingerprint=fingerprint)


def verify_release(
    directory: str | PathLike[str], key: str | PathLike[str], *, fingerprint: str | None = None
) -> VerifyReport:
    """Verifies a release directory: missing, extra and changed files. An unsigned directory
    (no ``release.json``) gives a report whose ``ok`` is false, not an exception; a directory
    that does not exist raises ``FileNotFoundError``."""
    return _native.verify_release(_os.fspath(directory), _os.fspath(key), fingerprint=fingerprint)


# --- batches, for engines ----------------------------------------------------------------


def record_digests(batch: Any) -> Any:
    """The native-profile digest of each record of an Arrow batch, stream or table: an Arrow
    ``fixed_size_binary(32)`` array (``__arrow_c_array__``; ``pyarrow.array(...)`` takes it)."""
    return _native.record_digests(batch)


def sign_batch(
    batch: Any, key: str | PathLike[str], *, password: str | None = None, fingerprint: str | None = None
) -> Any:
    """Native-profile signatures of each record of an Arrow batch: a ``binary`` array."""
    return _native.sign_batch(batch, _os.fspath(key), password=password, fingerprint=fingerprint)


def verify_batch(batch: Any, signatures: Any, key: str | PathLike[str], *, fingerprint: str | None = None) -> Any:
    """Whether each record's signature verifies under ``key``: a ``bool`` array. A null or
    empty signature is false."""
    return _native.verify_batch(batch, signatures, _os.fspath(key), fingerprint=fingerprint)


def validate_batch(batch: Any, *, name: str = "<batch>", max_findings_per_rule: int | None = 100) -> ValidationReport:
    """The record rules (not the file rules) over an Arrow batch, stream or table."""
    return _native.validate_batch(batch, name=name, max_findings_per_rule=max_findings_per_rule)
