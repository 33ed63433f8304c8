"""Type stubs of the Rust extension module (``python/src``): functions take paths as
``str`` (``oembeddings/__init__.py`` coerces path-like objects) and return the frozen result
classes below, plain dicts, or Arrow data through the PyCapsule interface. Checked against
the module by ``python -m mypy.stubtest oembeddings`` (``scripts/test``)."""

from typing import Any, Mapping, Protocol, Sequence, final

__version__: str

# pyo3 lists what the module adds, in the order it adds it.
__all__ = [
    "__version__",
    "run_cli",
    "Finding",
    "ValidationReport",
    "FileName",
    "KeyInfo",
    "Problem",
    "Signer",
    "VerifyReport",
    "DiscoveryReport",
    "ConvertSummary",
    "validate",
    "stats",
    "append_stats",
    "parse_name",
    "convert",
    "keygen",
    "key_info",
    "sign_file",
    "verify",
    "verify_file",
    "sign_records",
    "verify_records",
    "sign_release",
    "verify_release",
    "read",
    "write",
    "record_digests",
    "sign_batch",
    "verify_batch",
    "validate_batch",
]

@final
class Finding:
    """One broken rule at one place: `rule` is a stable id such as `OE110`."""

    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def row(self) -> int | None: ...
    @property
    def key(self) -> str | None: ...
    def __new__(
        cls, rule: str, severity: str, message: str, row: int | None = None, key: str | None = None
    ) -> Finding: ...
    def __hash__(self) -> int: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class ValidationReport:
    """The findings of one file (or batch). `ok` is true when there are no errors."""

    @property
    def path(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def mode(self) -> str: ...
    @property
    def records(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def warnings(self) -> int: ...
    @property
    def findings(self) -> list[Finding]: ...
    @property
    def suppressed(self) -> dict[str, int]: ...
    def __new__(
        cls,
        path: str,
        ok: bool,
        mode: str,
        records: int,
        errors: int,
        warnings: int,
        findings: list[Finding],
        suppressed: dict[str, int],
    ) -> ValidationReport: ...
    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (the CLI's `--format json` shape, `valid` = `ok`)."""
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class FileName:
    """The parts of a conventional name
    `{provider}-{source}-{dimensions}-{model}-{YYYYMMDD}.parquet`."""

    @property
    def provider(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def dimensions(self) -> int: ...
    @property
    def model(self) -> str: ...
    @property
    def date(self) -> str: ...
    def __new__(cls, provider: str, source: str, dimensions: int, model: str, date: str) -> FileName: ...
    def __hash__(self) -> int: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class KeyInfo:
    """A key file: algorithm (`ed25519` or `openpgp`) and id (key id or fingerprint); the
    files written, for a key just generated; the other details, for a key described."""

    @property
    def algorithm(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def public(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    def __new__(
        cls,
        algorithm: str,
        id: str,
        secret: str | None = None,
        public: str | None = None,
        details: dict[str, Any] = ...,
    ) -> KeyInfo: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class Problem:
    """One thing verification found wrong: `invalid`, `missing` or `extra`, at a row and
    record key (or file name, for releases)."""

    @property
    def kind(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def row(self) -> int | None: ...
    @property
    def key(self) -> str | None: ...
    def __new__(cls, kind: str, message: str, row: int | None = None, key: str | None = None) -> Problem: ...
    def __hash__(self) -> int: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class Signer:
    """Who signed, as the signature says."""

    @property
    def algorithm(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def signed_at(self) -> str | None: ...
    @property
    def trusted_comment(self) -> str | None: ...
    def __new__(
        cls,
        algorithm: str,
        key: str,
        user_id: str | None = None,
        signed_at: str | None = None,
        trusted_comment: str | None = None,
    ) -> Signer: ...
    def __hash__(self) -> int: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class VerifyReport:
    """The outcome of a verification. `ok` is true only when every signature checked is by
    the given key and valid (and none is missing, unless allowed): it fails closed. The
    report is also truthy exactly when `ok`."""

    @property
    def path(self) -> str: ...
    @property
    def check(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def valid(self) -> int: ...
    @property
    def invalid(self) -> int: ...
    @property
    def missing(self) -> int: ...
    @property
    def extra(self) -> int: ...
    @property
    def signer(self) -> Signer | None: ...
    @property
    def problems(self) -> list[Problem]: ...
    @property
    def unlisted(self) -> int: ...
    @property
    def notes(self) -> list[str]: ...
    @property
    def carried(self) -> int: ...
    @property
    def identity(self) -> dict[str, Any] | None: ...
    def __new__(
        cls,
        path: str,
        check: str,
        ok: bool,
        valid: int,
        invalid: int,
        missing: int,
        extra: int,
        signer: Signer | None,
        problems: list[Problem],
        unlisted: int,
        notes: Sequence[str],
        carried: int = 0,
        identity: Any = None,
    ) -> VerifyReport: ...
    def to_dict(self) -> dict[str, Any]:
        """The report as the CLI's `--format json` prints it."""
    def __bool__(self) -> bool: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class DiscoveryReport:
    """What `verify` found beside a file and checked, as `gpg --verify FILE` finds its
    signature: each signature the key can check is verified (`checked`, one report each),
    the others are listed with the key they need (`not_checked`). `ok` (and the report's
    truth) only when at least one was checked and every one checked verified."""

    @property
    def path(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def checked(self) -> list[VerifyReport]: ...
    @property
    def not_checked(self) -> list[dict[str, str]]: ...
    @property
    def looked_for(self) -> list[str]: ...
    def __new__(
        cls,
        path: str,
        ok: bool,
        checked: list[VerifyReport],
        not_checked: Any,
        looked_for: Sequence[str],
    ) -> DiscoveryReport: ...
    def to_dict(self) -> dict[str, Any]:
        """The report as the CLI's `verify --format json` prints it."""
    def __bool__(self) -> bool: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

@final
class ConvertSummary:
    """What a conversion did: records read, written and skipped (with the first skips)."""

    @property
    def input(self) -> str: ...
    @property
    def inputs(self) -> list[str]: ...
    @property
    def output(self) -> str: ...
    @property
    def source_format(self) -> str: ...
    @property
    def target_format(self) -> str: ...
    @property
    def read(self) -> int: ...
    @property
    def written(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def skipped_by_rule(self) -> dict[str, int]: ...
    @property
    def skips(self) -> list[dict[str, Any]]: ...
    @property
    def files(self) -> list[str]: ...
    @property
    def renamed(self) -> dict[str, str]: ...
    def __new__(
        cls,
        input: str,
        inputs: Sequence[str],
        output: str,
        source_format: str,
        target_format: str,
        read: int,
        written: int,
        unchanged: int,
        skipped: int,
        skipped_by_rule: dict[str, int],
        skips: Sequence[dict[str, Any]],
        files: Sequence[str],
        renamed: dict[str, str],
    ) -> ConvertSummary: ...
    def __getnewargs__(self) -> tuple[Any, ...]: ...

class _ArrowStream(Protocol):
    """A one-shot stream of Arrow record batches."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class _ArrowArray(Protocol):
    """An Arrow array."""

    def __arrow_c_array__(self, requested_schema: object | None = None) -> tuple[object, object]: ...
    def __len__(self) -> int: ...

def run_cli(argv: Sequence[str]) -> int: ...
def read(
    path: str,
    *,
    batch_size: int | None = None,
    vector_layout: str = "go",
    storage_options: Mapping[str, str] | None = None,
) -> _ArrowStream: ...
def write(path: str, data: Any, *, vector_layout: str = "go", statistics: bool = True) -> dict[str, Any]: ...
def validate(
    path: str,
    *,
    metadata_only: bool = False,
    max_findings_per_rule: int | None = ...,
    target: str = "any",
    storage_options: Mapping[str, str] | None = None,
) -> ValidationReport: ...
def stats(path: str, *, storage_options: Mapping[str, str] | None = None) -> dict[str, str]: ...
def append_stats(path: str, *, output: str | None = None) -> dict[str, Any]: ...
def parse_name(name: str) -> FileName: ...
def convert(
    inputs: Sequence[str],
    output: str,
    *,
    to: str | None = None,
    from_: str | None = None,
    skip_invalid: bool = False,
    force: bool = False,
    statistics: bool = True,
    met: dict[str, Any] | None = None,
    records: dict[str, Any] | None = None,
    distance: str = "cosine",
    s3_bucket: str | None = None,
    s3_index: str | None = None,
    s3_non_filterable: list[str] | None = None,
    duckdb_data: str = "parquet",
    collection: str | None = None,
    tenant: str = "default_tenant",
    database: str = "default_database",
    chroma_token_file: str | None = None,
    mode: str = "add",
    table: str | None = None,
    pg_index: str = "none",
    license: str = "other",
    title: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> ConvertSummary: ...
def keygen(
    path: str,
    *,
    kind: str = "ed25519",
    userid: str | None = None,
    password: str | None = None,
    overwrite: bool = False,
) -> KeyInfo: ...
def key_info(path: str) -> KeyInfo: ...
def sign_file(path: str, key: str, *, password: str | None = None, fingerprint: str | None = None) -> str: ...
def verify(
    path: str,
    key: str,
    *,
    fingerprint: str | None = None,
    allow_missing: bool = False,
    allow_rewritten: bool = False,
    ca: str | None = None,
    webpki_roots: bool = False,
    identity: str | None = None,
    at: str | None = None,
    crl: list[str] = ...,
    accept_carried_attributes: bool = False,
    trust_server_digest: bool = False,
    storage_options: Mapping[str, str] | None = None,
) -> DiscoveryReport: ...
def verify_file(
    path: str,
    key: str,
    *,
    signature: str | None = None,
    fingerprint: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> VerifyReport: ...
def sign_records(
    path: str,
    key: str,
    *,
    profile: str = "native",
    password: str | None = None,
    fingerprint: str | None = None,
    certificate: str | None = None,
    embed_public_key: bool = False,
) -> dict[str, Any]: ...
def verify_records(
    path: str,
    key: str | None,
    *,
    sidecar: str | None = None,
    profile: str | None = None,
    manifest: str | None = None,
    allow_missing: bool = False,
    allow_rewritten: bool = False,
    fingerprint: str | None = None,
    ca: str | None = None,
    webpki_roots: bool = False,
    identity: str | None = None,
    at: str | None = None,
    crl: list[str] = ...,
    accept_carried_attributes: bool = False,
    trust_server_digest: bool = False,
    storage_options: Mapping[str, str] | None = None,
) -> VerifyReport: ...
def sign_release(directory: str, key: str, *, password: str | None = None, fingerprint: str | None = None) -> dict[str, Any]: ...
def verify_release(directory: str, key: str, *, fingerprint: str | None = None) -> VerifyReport: ...
def record_digests(batch: Any) -> _ArrowArray: ...
def sign_batch(batch: Any, key: str, *, password: str | None = None, fingerprint: str | None = None) -> _ArrowArray: ...
def verify_batch(batch: Any, signatures: Any, key: str, *, fingerprint: str | None = None) -> _ArrowArray: ...
def validate_batch(batch: Any, *, name: str = "<batch>", max_findings_per_rule: int | None = ...) -> ValidationReport: ...
