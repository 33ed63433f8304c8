"""Type stubs of the Rust extension module (``python/src``). Results are JSON text that
``oembeddings/__init__.py`` turns into typed objects, or Arrow data through the PyCapsule
interface."""

from typing import Any, Sequence

__version__: str

class OEmbeddingsError(Exception):
    """Base class of every oembeddings error."""

class FormatError(OEmbeddingsError):
    """A file or Arrow stream that cannot be read, written or converted."""

class ValidationError(OEmbeddingsError):
    """Records that break the specification or a target's rules."""

class SignatureError(OEmbeddingsError):
    """Keys that cannot be loaded or used, and signing failures."""

class _ArrowStream:
    """A one-shot stream of Arrow record batches."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    @property
    def schema(self) -> Any: ...

class _ArrowArray:
    """An Arrow array."""

    def __arrow_c_array__(self, requested_schema: object | None = None) -> tuple[object, object]: ...
    def __len__(self) -> int: ...

def run_cli(argv: Sequence[str]) -> int: ...
def read(path: str, *, batch_size: int | None = None) -> _ArrowStream: ...
def write(path: str, data: Any, *, vector_layout: str = "go", statistics: bool = True) -> str: ...
def validate(path: str, *, metadata_only: bool = False, max_findings_per_rule: int | None = 100) -> str: ...
def stats(path: str) -> str: ...
def append_stats(path: str, *, output: str | None = None) -> str: ...
def parse_name(name: str) -> str: ...
def convert(
    input: str,
    output: str,
    *,
    to: str = "parquet",
    from_: str | None = None,
    skip_invalid: bool = False,
    force: bool = False,
    statistics: bool = True,
    met: dict[str, Any] | None = None,
    s3_bucket: str | None = None,
    s3_index: str | None = None,
    s3_distance: str = "cosine",
    s3_non_filterable: list[str] | None = None,
    duckdb_data: str = "parquet",
) -> str: ...
def keygen(
    path: str,
    *,
    kind: str = "ed25519",
    userid: str | None = None,
    password: str | None = None,
    overwrite: bool = False,
) -> str: ...
def key_info(path: str) -> str: ...
def sign_file(path: str, key: str, *, password: str | None = None, fingerprint: str | None = None) -> str: ...
def verify_file(path: str, key: str, *, signature: str | None = None, fingerprint: str | None = None) -> str: ...
def sign_records(
    path: str, key: str, *, profile: str = "native", password: str | None = None, fingerprint: str | None = None
) -> str: ...
def verify_records(
    path: str,
    key: str,
    *,
    sidecar: str | None = None,
    profile: str | None = None,
    manifest: str | None = None,
    allow_missing: bool = False,
    allow_rewritten: bool = False,
    fingerprint: str | None = None,
) -> str: ...
def sign_release(directory: str, key: str, *, password: str | None = None, fingerprint: str | None = None) -> str: ...
def verify_release(directory: str, key: str, *, fingerprint: str | None = None) -> str: ...
def record_digests(batch: Any) -> _ArrowArray: ...
def sign_batch(batch: Any, key: str, *, password: str | None = None, fingerprint: str | None = None) -> _ArrowArray: ...
def verify_batch(batch: Any, signatures: Any, key: str, *, fingerprint: str | None = None) -> _ArrowArray: ...
def validate_batch(batch: Any, *, name: str = "<batch>", max_findings_per_rule: int | None = 100) -> str: ...
