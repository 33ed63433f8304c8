"""Files where they are: every read command on http://, s3://, hf://, az:// and gs://
locations, against real servers on loopback: a Range-capable HTTP server written here
(range_server.py, which also plays the Hugging Face Hub's resolve endpoint and Google Cloud
Storage's XML API, for which no emulator installs here), moto's S3 server and Azurite,
Microsoft's Azure Storage emulator (from npm, installed by scripts/setup). Each command's
output must equal the same command's on the local file; faults must end in one line naming
the URL and the cause, never a panic, never an output left behind."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import binary, free_port, make_records, oe, wait_until_listening, write_go_layout
from range_server import COMMIT, RangeServer

NAME = "sfomuseum-collection-512-mobileclip-20260413.parquet"
BIG = "sfomuseum-collection-512-clip-20260413.parquet"


def run(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run(
        [str(binary()), *map(str, args)],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    assert p.returncode != 101, f"panic: {p.stderr.decode(errors='replace')}"
    return p


def one_error(p: subprocess.CompletedProcess, url: str) -> str:
    """The one error line of a failed run, which names `url`."""
    assert p.returncode == 1, (p.returncode, p.stderr)
    lines = [line for line in p.stderr.decode(errors="replace").splitlines() if line.startswith("error")]
    assert len(lines) == 1, p.stderr
    assert url in lines[0], lines[0]
    assert "panicked" not in p.stderr.decode(errors="replace")
    return lines[0]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A release as a museum publishes it: the example file, a bigger one (2,000 records of
    512 dimensions, several row groups), and their signatures (file and records)."""
    root = tmp_path_factory.mktemp("published")
    shutil.copy(Path(__file__).resolve().parents[2] / "examples/data" / NAME, root / NAME)
    r = make_records(n=2000, dims=512, seed=11)
    r.model = ["clip"] * len(r)
    r.provider = ["sfomuseum"] * len(r)
    write_go_layout(root / BIG, r, row_group_size=500)
    key = root.parent / f"{root.name}-key"
    oe("keygen", "--ed25519", "-o", key)
    for name in (NAME, BIG):
        oe("sign", root / name, "--key", key)
        oe("sign", root / name, "--key", key, "--records")
    shutil.copy(f"{key}.pub", root.parent / "publisher.pub")
    return root


def s3_client(env: dict):
    """boto3's client of the moto server that `env` names."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_REGION"],
    )


@pytest.fixture(scope="module")
def http(published):
    with RangeServer(published) as server:
        yield server


@pytest.fixture(scope="module")
def s3(published):
    """moto's S3 server, in a process of its own (as a real store is: the Python tests'
    calls hold no lock it needs)."""
    port = free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    server = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_listening(server, port, "moto_server")
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "museum",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "us-east-1",
    }
    client = s3_client(env)
    client.create_bucket(Bucket="museum")
    for path in published.iterdir():
        client.put_object(Bucket="museum", Key=f"release/{path.name}", Body=path.read_bytes())
    yield env
    server.terminate()
    server.wait(timeout=30)


AZURITE = Path(__file__).resolve().parents[2] / ".venv" / "node" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's one account and its well-known key (public, in Microsoft's documentation).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azure_container(env: dict):
    """The `museum` container of the Azurite server that `env` names."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={env['AZURITE_BLOB_STORAGE_URL']}/{AZURITE_ACCOUNT};"
    )
    return service.get_container_client("museum")


@pytest.fixture(scope="module")
def azure(published, tmp_path_factory):
    """Azurite's blob service on a loopback port, holding the release under `museum/release/`;
    yields the environment that points the command at it."""
    assert AZURITE.exists(), f"{AZURITE} is missing: run scripts/setup"
    port = free_port()
    server = subprocess.Popen(
        [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--silent", "--skipApiVersionCheck", "--loose"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_until_listening(server, port, "azurite")
    env = {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": f"http://127.0.0.1:{port}"}
    container = azure_container(env)
    container.create_container()
    for path in published.iterdir():
        if path.is_file():
            container.upload_blob(f"release/{path.name}", path.read_bytes())
    yield env
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def gcs(published, tmp_path_factory):
    """range_server.py playing Google Cloud Storage, the release under `museum/release/`;
    yields the environment that points the command at it (GOOGLE_BASE_URL, as object_store
    reads it; no credentials, so requests go unsigned as to a public bucket)."""
    root = tmp_path_factory.mktemp("gcs")
    (root / "museum" / "release").mkdir(parents=True)
    for path in published.iterdir():
        if path.is_file():
            shutil.copy(path, root / "museum" / "release" / path.name)
    with RangeServer(root, gcs_buckets=("museum",)) as server:
        yield {"GOOGLE_BASE_URL": server.url, "__server": server}


def gcs_env(gcs: dict) -> dict:
    return {k: v for k, v in gcs.items() if not k.startswith("__")}


def location(scheme: str, http: RangeServer, env: dict | None, name: str) -> tuple[str, dict]:
    if scheme == "http":
        return f"{http.url}/{name}", {}
    if scheme == "hf":
        return f"hf://datasets/sfomuseum/collection/{name}", {"HF_ENDPOINT": http.url}
    assert env is not None
    if scheme == "az":
        return f"az://museum/release/{name}", env
    if scheme == "gs":
        return f"gs://museum/release/{name}", gcs_env(env)
    return f"s3://museum/release/{name}", env


@pytest.fixture(params=["http", "s3", "hf", "az", "gs"])
def scheme(request) -> str:
    return request.param


@pytest.fixture
def where(scheme, http, request):
    stores = {"s3": "s3", "az": "azure", "gs": "gcs"}
    env = request.getfixturevalue(stores[scheme]) if scheme in stores else None
    return lambda name: location(scheme, http, env, name)


@pytest.mark.parametrize("name", [NAME, BIG])
def test_every_read_command_gives_what_it_gives_locally(published, where, name, tmp_path):
    url, env = where(name)
    local = published / name
    # Outputs that do not print the location itself are equal byte for byte.
    for args in (["emit"], ["stats", "--format", "json"], ["emit", "--limit", "3"]):
        remote_out = run(*args, url, env=env)
        assert remote_out.returncode == 0, remote_out.stderr
        assert remote_out.stdout == run(*args, local).stdout, args
    # Reports name the location; their verdicts and counts are those of the local file.
    for args in (["validate", "--format", "json"], ["validate", "--metadata-only", "--format", "json"]):
        remote_report = json.loads(run(*args, url, env=env).stdout)["files"][0]
        local_report = json.loads(run(*args, local).stdout)["files"][0]
        for key in ("valid", "records", "errors", "warnings", "mode"):
            assert remote_report[key] == local_report[key], key
        assert remote_report["path"] == url
        assert remote_report["io"]["requests"] >= 1
        assert "io" not in local_report
    inspected = json.loads(run("inspect", "--format", "json", url, env=env).stdout)
    assert inspected["rows"] == json.loads(run("inspect", "--format", "json", local).stdout)["rows"]
    named = run("name", url, env=env)
    assert named.returncode == 0, named.stderr
    # verify finds the file signature and the records' signatures beside the file.
    key = published.parent / "publisher.pub"
    verified = run("verify", url, "--key", key, env=env)
    assert verified.returncode == 0, verified.stderr
    assert b"VERIFIED: 2 signatures checked (file, records-native)" in verified.stdout
    records = run("verify", url, "--key", key, "--records", env=env)
    assert records.returncode == 0, records.stderr
    # convert reads it as it reads the local file.
    out_remote, out_local = tmp_path / "remote.parquet", tmp_path / "local.parquet"
    assert run("convert", url, out_remote, "--to", "parquet-fixed", env=env).returncode == 0
    oe("convert", local, out_local, "--to", "parquet-fixed")
    assert run("emit", out_remote).stdout == run("emit", out_local).stdout


def test_a_footer_check_costs_a_few_requests(published, http):
    """inspect and validate --metadata-only read the footer in at most three requests and
    under 256 KiB, whatever the file's size (here 4 MB)."""
    url = f"{http.url}/{BIG}"
    assert (published / BIG).stat().st_size > 2 << 20
    for args in (["inspect", "--format", "json"], ["validate", "--metadata-only", "--format", "json"]):
        http.reset_counts()
        report = json.loads(run(*args, url).stdout)
        io = report["io"] if "io" in report else report["files"][0]["io"]
        assert io["requests"] <= 3 and io["bytes"] < 256 << 10, io
        # What the server saw agrees with what we report.
        assert http.state.requests == io["requests"], http.state.log
        assert http.state.bytes == io["bytes"]


def test_a_gcs_footer_check_is_one_suffix_read(gcs):
    """GCS answers a suffix range (unlike Azure, which needs a HEAD first): the footer check
    starts with one, and every later request is pinned to the generation it answered with."""
    server, url = gcs["__server"], f"gs://museum/release/{BIG}"
    server.reset_counts()
    report = json.loads(run("validate", "--metadata-only", "--format", "json", url, env=gcs_env(gcs)).stdout)
    assert report["files"][0]["io"]["requests"] <= 3, server.state.log
    assert "bytes=-" in server.state.log[0] and "generation=" not in server.state.log[0], server.state.log
    assert all("generation=" in line for line in server.state.log[1:]), server.state.log
    server.reset_counts()
    assert run("emit", url, env=gcs_env(gcs)).returncode == 0
    assert all("generation=" in line for line in server.state.log[1:]), server.state.log


def test_the_hub_is_read_at_the_commit_its_revision_resolves_to(published, http):
    env = {"HF_ENDPOINT": http.url}
    http.reset_counts()
    assert run("inspect", f"hf://datasets/sfomuseum/collection/{NAME}", env=env).returncode == 0
    # One HEAD to resolve `main` (not following the redirect), then reads at the commit.
    log = http.state.log
    assert log[0].startswith("HEAD /datasets/sfomuseum/collection/resolve/main/"), log
    # (The loopback Hub redirects those to its "CDN", as the Hub does.)
    assert all(f"/resolve/{COMMIT}/" in entry or entry.startswith("GET /cdn/") for entry in log[1:]), log
    missing = run("inspect", f"hf://datasets/sfomuseum/collection@v9/{NAME}", env=env)
    assert "not found" in one_error(missing, "hf://datasets/sfomuseum/collection@v9/")


def test_s3_credentials_come_from_the_environment_or_the_shared_files(published, s3, tmp_path):
    url = f"s3://museum/release/{NAME}"
    credentials = tmp_path / "credentials"
    credentials.write_text("[museum]\naws_access_key_id = museum\naws_secret_access_key = secret\n")
    config = tmp_path / "config"
    config.write_text("[profile sso]\nsso_session = museum\nregion = us-east-1\n")
    files = {
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(config),
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_ENDPOINT_URL": s3["AWS_ENDPOINT_URL"],
        "AWS_REGION": "us-east-1",
    }
    assert run("inspect", url, env={**files, "AWS_PROFILE": "museum"}).returncode == 0
    sso = run("inspect", url, env={**files, "AWS_PROFILE": "sso"})
    assert "sso_session" in one_error(sso, url)


def test_faults_end_in_one_line_naming_the_url(published, http, tmp_path):
    big = f"{http.url}/{BIG}"
    out = tmp_path / "out.parquet"

    def fails(url: str, *args, cause: str, faults: dict | None = None, command=("emit",)) -> None:
        http.state.faults.clear()
        http.state.faults.update(faults or {})
        try:
            p = run(*command, url, *args, timeout=60)
        finally:
            http.state.faults.clear()
        line = one_error(p, url)
        assert cause in line, line

    fails(f"{http.url}/nope.parquet", cause="not found on the server")
    fails(big, cause="403", faults={BIG: "403"})
    fails(big, cause="does not answer byte ranges", faults={BIG: "ignore-range"})
    fails(big, "--timeout", "2", "--retries", "0", cause="", faults={BIG: "stall"})
    # A connection refused: nothing listens on the port any more.
    closed = RangeServer(published)
    port = closed.port
    closed.httpd.server_close()
    fails(f"http://127.0.0.1:{port}/{BIG}", "--retries", "0", cause="")
    # A redirect is followed.
    http.state.faults[BIG] = "redirect"
    try:
        assert run("emit", big).stdout == run("emit", published / BIG).stdout
    finally:
        http.state.faults.clear()
    # A redirect to another host is followed too (as the Hub's to its CDN).
    with RangeServer(published) as other:
        http.state.elsewhere = other.url
        http.state.faults[BIG] = "redirect-elsewhere"
        try:
            assert run("emit", big).stdout == run("emit", published / BIG).stdout
        finally:
            http.state.faults.clear()
        assert other.state.requests > 0
    # A short body.
    fails(big, "--retries", "0", cause="", faults={BIG: "truncate"})
    # convert leaves nothing behind on failure.
    fails(big, out, cause="403", faults={BIG: "403"}, command=("convert",))
    assert not out.exists() and not list(tmp_path.iterdir())
    # A footer whose length points outside the object.
    hostile = published / "footer-outside.parquet"
    data = bytearray((published / NAME).read_bytes())
    data[-8:-4] = (len(data) * 2).to_bytes(4, "little")
    hostile.write_bytes(bytes(data))
    fails(f"{http.url}/footer-outside.parquet", cause="", command=("inspect",))
    hostile.unlink()


def test_a_file_of_several_blocks_reads_as_it_does_locally(published, http, tmp_path):
    """A file of several of the reader's 8 MiB blocks: reads ahead, pages across two blocks,
    and the signer's whole-file digest taken from shared slices of the blocks."""
    name = "sfomuseum-collection-1024-clip-20260413.parquet"
    r = make_records(n=5000, dims=1024, seed=12)
    r.model = ["clip"] * len(r)
    r.provider = ["sfomuseum"] * len(r)
    write_go_layout(published / name, r, row_group_size=1000)
    try:
        assert (published / name).stat().st_size > 2 * (8 << 20)
        key = tmp_path / "key"
        oe("keygen", "--ed25519", "-o", key)
        oe("sign", published / name, "--key", key, "--records")
        url = f"{http.url}/{name}"
        http.reset_counts()
        verified = run("verify", url, "--key", f"{key}.pub", "--records", "--format", "json")
        assert verified.returncode == 0, verified.stderr
        report = json.loads(verified.stdout)
        assert report["ok"] and report["valid"] == 5000 and report["file_problems"] == 0, report
        # Read once, in blocks: a few requests, not one per page.
        assert http.state.requests < 16, http.state.log
        for args in (["stats", "--format", "json"], ["validate", "--format", "json"]):
            remote = json.loads(run(*args, url).stdout)
            local = json.loads(run(*args, published / name).stdout)
            if args[0] == "validate":
                remote, local = remote["files"][0], local["files"][0]
                for key_ in ("valid", "records", "errors", "warnings"):
                    assert remote[key_] == local[key_], key_
            else:
                assert remote == local
        out = tmp_path / "copy.parquet"
        assert run("convert", url, out, "--to", "parquet-fixed").returncode == 0
        assert run("emit", out).stdout == run("emit", published / name).stdout
    finally:
        for leftover in published.glob(name.removesuffix(".parquet") + "*"):
            leftover.unlink()


def test_a_file_replaced_during_the_run_fails_instead_of_mixing_versions(published, http):
    name = "replaced.parquet"
    shutil.copy(published / BIG, published / name)
    url = f"{http.url}/{name}"
    # The server changes the file's ETag right after its first answer (the footer's): the
    # reads of the data that follow carry If-Match and are refused.
    http.state.faults[name] = "change-after-first"
    try:
        p = run("emit", url)
    finally:
        http.state.faults.clear()
        (published / name).unlink()
    assert "changed on the server during the run" in one_error(p, url)
    # A server that gives no ETag: the run is pinned to the first answer's Last-Modified.
    shutil.copy(published / BIG, published / name)
    http.state.faults[name] = "no-etag-change-after-first"
    try:
        p = run("emit", url)
    finally:
        http.state.faults.clear()
        (published / name).unlink()
    assert "pinned to Last-Modified" in one_error(p, url)


def test_stats_append_is_refused_for_a_remote_file(http):
    p = run("stats", "--append", f"{http.url}/{NAME}")
    assert "cannot be done where a remote file is" in one_error(p, f"{http.url}/{NAME}")
    import oembeddings

    with pytest.raises(oembeddings.OEmbeddingsError, match="remote file"):
        oembeddings.append_stats(f"{http.url}/{NAME}")


def test_the_hubs_digest_matches_the_file(published, http):
    """What the loopback Hub announces is the file's SHA-256 (as the real Hub's
    X-Linked-Etag is), so the digest tests below compare like with like."""
    digest = hashlib.sha256((published / NAME).read_bytes()).hexdigest()
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        f"{http.url}/datasets/sfomuseum/collection/resolve/main/{NAME}", method="HEAD"
    )
    try:
        opener.open(request)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302
        assert answer.headers["X-Linked-Etag"].strip('"') == digest
        assert answer.headers["X-Repo-Commit"] == COMMIT


def test_python_reads_where_the_file_is(published, http, s3, gcs):
    import oembeddings
    import pyarrow as pa

    local = pa.table(oembeddings.read(published / BIG))
    # storage_options as pyarrow and polars take them, instead of the environment.
    options = {
        "aws_endpoint": s3["AWS_ENDPOINT_URL"],
        "aws_access_key_id": "museum",
        "aws_secret_access_key": "secret",
        "aws_region": "us-east-1",
        "allow_http": "true",
    }
    remote = pa.table(oembeddings.read(f"s3://museum/release/{BIG}", storage_options=options))
    assert remote.equals(local)
    report = oembeddings.validate(f"{http.url}/{BIG}", metadata_only=True)
    assert report.ok and report.records == 2000
    assert oembeddings.stats(f"{http.url}/{NAME}") == oembeddings.stats(published / NAME)
    key = published.parent / "publisher.pub"
    assert oembeddings.verify_file(f"{http.url}/{NAME}", key).ok
    assert oembeddings.verify_records(f"{http.url}/{BIG}", key).ok
    # The options reach every location of the call: the sidecar and manifest beside the
    # file, and convert's input and output.
    assert oembeddings.verify_records(f"s3://museum/release/{BIG}", key, storage_options=options).ok
    summary = oembeddings.convert(
        f"s3://museum/release/{BIG}", "s3://museum/copies/fixed.parquet", to="parquet-fixed", storage_options=options
    )
    assert summary.written == 2000
    copy = pa.table(oembeddings.read("s3://museum/copies/fixed.parquet", storage_options=options))
    assert copy.num_rows == 2000 and copy.column("embeddings").equals(local.column("embeddings"))
    with pytest.raises(FileNotFoundError, match="not found on the server"):
        oembeddings.validate(f"{http.url}/nope.parquet")
    # GCS, its endpoint named in the options alone (an http:// one allowed because named).
    gcs_options = {"google_base_url": gcs["GOOGLE_BASE_URL"]}
    assert pa.table(oembeddings.read(f"gs://museum/release/{BIG}", storage_options=gcs_options)).equals(local)
    assert oembeddings.verify_records(f"gs://museum/release/{BIG}", key, storage_options=gcs_options).ok


def test_python_calls_at_the_same_time_reach_a_store_each_with_their_own_options(published, tmp_path):
    """Two threads name the same gs:// object through two endpoints (as two credentials would
    reach two views of a bucket): each reads its own, never the other's options or objects.
    The second waits while the first, slowed by its server, holds the store."""
    import threading

    import oembeddings

    servers = []
    for name, source in (("one", BIG), ("two", NAME)):
        root = tmp_path / name
        (root / "museum").mkdir(parents=True)
        shutil.copy(published / source, root / "museum" / "same.parquet")
        servers.append(RangeServer(root, gcs_buckets=("museum",)).__enter__())
    one, two = servers
    one.state.faults["museum/same.parquet"] = "slow"
    url = "gs://museum/same.parquet"
    results: dict[str, int] = {}
    try:
        first = threading.Thread(
            target=lambda: results.update(
                one=oembeddings.validate(url, storage_options={"google_base_url": one.url}).records
            )
        )
        first.start()
        while one.state.requests == 0:
            time.sleep(0.01)
        results["two"] = oembeddings.validate(url, storage_options={"google_base_url": two.url}).records
        first.join(timeout=60)
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    assert results == {"one": 2000, "two": 24}
    assert two.state.requests > 0


def test_trust_server_digest_verifies_an_hf_file_without_reading_its_data(published, http):
    env = {"HF_ENDPOINT": http.url}
    url = f"hf://datasets/sfomuseum/collection/{BIG}"
    key = published.parent / "publisher.pub"
    http.reset_counts()
    p = run("verify", url, "--key", key, "--records", "--trust-server-digest", "--format", "json", env=env)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["ok"] and report["valid"] == 2000
    assert any("its data was not read" in note for note in report["notes"]), report["notes"]
    # Of the data file, only the footer's tail was asked for.
    data_reads = [e for e in http.state.log if e.startswith("GET") and BIG in e]
    assert data_reads and all(e.endswith("bytes=-65536") for e in data_reads), data_reads
    # Without the flag the bytes are read and hashed.
    http.reset_counts()
    p = run("verify", url, "--key", key, "--records", "--format", "json", env=env)
    assert json.loads(p.stdout)["ok"]
    assert http.state.bytes >= (published / BIG).stat().st_size
    # Elsewhere no digest is announced: the bytes are read, and the report says why.
    p = run("verify", f"{http.url}/{BIG}", "--key", key, "--records", "--trust-server-digest", "--format", "json")
    assert any("announces no SHA-256" in note for note in json.loads(p.stdout)["notes"])


def test_release_verify_on_a_remote_prefix(published, http, s3, azure, gcs, tmp_path):
    """S3, Azure, GCS and the Hub list the release (the Hub at one commit, page after page): extra
    and missing files are found. Plain HTTP cannot list: the files the manifest names are checked
    and the report says the rest could not be looked for."""

    release = published / "release"
    (release / "data").mkdir(parents=True)
    shutil.copy(published / NAME, release / "data" / NAME)
    shutil.copy(published / BIG, release / BIG)
    (release / "README.md").write_text("# a museum's release\n")
    key = published.parent / f"{published.name}-key"
    oe("release", "sign", release, "--key", key)
    public = published.parent / "publisher.pub"
    client = s3_client(s3)
    container = azure_container(azure)
    bucket = gcs["__server"].state.root / "museum"
    for path in release.rglob("*"):
        if path.is_file():
            client.put_object(Bucket="museum", Key=f"rel/{path.relative_to(release).as_posix()}", Body=path.read_bytes())
            container.upload_blob(f"rel/{path.relative_to(release).as_posix()}", path.read_bytes())
            (bucket / "rel" / path.relative_to(release)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, bucket / "rel" / path.relative_to(release))
    hf = {"HF_ENDPOINT": http.url}
    for url, env in (
        (f"{http.url}/release", {}),
        ("hf://datasets/sfomuseum/collection/release", hf),
        ("s3://museum/rel", s3),
        ("az://museum/rel", azure),
        ("gs://museum/rel", gcs_env(gcs)),
    ):
        p = run("release", "verify", url, "--key", public, "--format", "json", env=env)
        assert p.returncode == 0, p.stderr
        report = json.loads(p.stdout)
        assert report["ok"] and report["valid"] == 3, report
        assert any("cannot be listed" in n for n in report["notes"]) == url.startswith("http")
    # An extra file and a missing one.
    (release / "extra.parquet").write_bytes(b"PAR1")
    (release / "README.md").unlink()
    client.put_object(Bucket="museum", Key="rel/extra.parquet", Body=b"PAR1")
    client.delete_object(Bucket="museum", Key="rel/README.md")
    container.upload_blob("rel/extra.parquet", b"PAR1")
    container.delete_blob("rel/README.md")
    (bucket / "rel" / "extra.parquet").write_bytes(b"PAR1")
    (bucket / "rel" / "README.md").unlink()
    for url, env in (
        ("hf://datasets/sfomuseum/collection/release", hf),
        ("s3://museum/rel", s3),
        ("az://museum/rel", azure),
        ("gs://museum/rel", gcs_env(gcs)),
    ):
        p = run("release", "verify", url, "--key", public, "--format", "json", env=env)
        assert p.returncode == 1
        report = json.loads(p.stdout)
        assert (report["missing"], report["extra"]) == (1, 1), report
    p = run("release", "verify", f"{http.url}/release", "--key", public, "--format", "json")
    report = json.loads(p.stdout)
    assert (report["missing"], report["extra"]) == (1, 0), report
    shutil.rmtree(release)


def test_convert_writes_to_s3_in_one_multipart_upload(published, s3, tmp_path):

    client = s3_client(s3)
    url = "s3://museum/converted/clip.parquet"
    p = run("convert", published / BIG, url, "--to", "parquet-fixed", env=s3)
    assert p.returncode == 0, p.stderr
    local = tmp_path / "local.parquet"
    oe("convert", published / BIG, local, "--to", "parquet-fixed")
    body = client.get_object(Bucket="museum", Key="converted/clip.parquet")["Body"].read()
    (tmp_path / "uploaded.parquet").write_bytes(body)
    assert run("emit", tmp_path / "uploaded.parquet").stdout == run("emit", local).stdout
    # An existing object is replaced, as a local output file is.
    assert run("convert", published / BIG, url, "--to", "jsonl", env=s3).returncode == 0
    assert client.get_object(Bucket="museum", Key="converted/clip.parquet")["Body"].read(1) == b"{"
    assert run("convert", published / BIG, url, "--to", "parquet-fixed", env=s3).returncode == 0
    # A failed conversion leaves no object (and no multipart upload behind).
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"provider": 1}\n')
    failed = run("convert", bad, "s3://museum/converted/bad.parquet", env=s3)
    assert failed.returncode == 1
    listed = client.list_objects_v2(Bucket="museum", Prefix="converted/")
    assert [o["Key"] for o in listed.get("Contents", [])] == ["converted/clip.parquet"]
    assert not client.list_multipart_uploads(Bucket="museum").get("Uploads")
    # Reading it back from S3 gives the same records.
    assert run("emit", url, env=s3).stdout == run("emit", local).stdout


def test_convert_writes_to_azure_in_one_block_list(published, azure, tmp_path):
    url = "az://museum/converted/clip.parquet"
    p = run("convert", published / BIG, url, "--to", "parquet-fixed", env=azure)
    assert p.returncode == 0, p.stderr
    local = tmp_path / "local.parquet"
    oe("convert", published / BIG, local, "--to", "parquet-fixed")
    assert run("emit", url, env=azure).stdout == run("emit", local).stdout
    container = azure_container(azure)
    # A failed conversion leaves no blob.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"provider": 1}\n')
    assert run("convert", bad, "az://museum/converted/bad.parquet", env=azure).returncode == 1
    assert [b.name for b in container.list_blobs(name_starts_with="converted/")] == ["converted/clip.parquet"]
    # Without an account (and no emulator), one line says where to give it.
    p = run("inspect", "az://museum/release/" + NAME, env={"AZURE_STORAGE_USE_EMULATOR": ""})
    assert "AZURE_STORAGE_ACCOUNT_NAME" in one_error(p, "az://museum/release/" + NAME)


def test_convert_writes_to_gcs_in_one_multipart_upload(published, gcs, tmp_path):
    server = gcs["__server"]
    url = "gs://museum/converted/clip.parquet"
    local = tmp_path / "local.parquet"
    oe("convert", published / BIG, local, "--to", "parquet-fixed")
    # Without credentials nothing is written, and one line says which to give.
    p = run("convert", published / BIG, url, "--to", "parquet-fixed", env=gcs_env(gcs))
    assert "GOOGLE_APPLICATION_CREDENTIALS" in one_error(p, url)
    # A token as `gcloud auth print-access-token` prints one.
    env = {**gcs_env(gcs), "GOOGLE_BEARER_TOKEN": "ya29.test-token"}
    server.reset_counts()
    p = run("convert", published / BIG, url, "--to", "parquet-fixed", env=env)
    assert p.returncode == 0, p.stderr
    # One XML multipart upload: initiated, its parts, completed.
    writes = [line.split(" ")[0:2] for line in server.state.log if not line.startswith(("GET", "HEAD"))]
    assert writes[0][0] == "POST" and "?uploads" in writes[0][1], writes
    assert writes[-1][0] == "POST" and "uploadId=" in writes[-1][1], writes
    uploaded = server.state.root / "museum" / "converted" / "clip.parquet"
    assert uploaded.read_bytes() == local.read_bytes()
    assert run("emit", url, env=env).stdout == run("emit", local).stdout
    # A failed conversion leaves no object and no upload behind.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"provider": 1}\n')
    assert run("convert", bad, "gs://museum/converted/bad.parquet", env=env).returncode == 1
    assert sorted(p.name for p in uploaded.parent.iterdir()) == ["clip.parquet"]
    assert not server.state.uploads
    # A file replaced on the store during a run fails instead of mixing two generations.
    replaced = f"gs://museum/release/{BIG}"
    server.state.faults[f"museum/release/{BIG}"] = "change-after-first"
    assert "changed on the server during the run" in one_error(run("emit", replaced, env=env), replaced)


def test_go_embeddingsdb_signatures_verify_where_they_are(published, http, tmp_path):
    """The compatible profile's sidecar (and the public key beside it) read over HTTP."""
    release = published / "compatible"
    shutil.rmtree(release, ignore_errors=True)
    release.mkdir()
    shutil.copy(published / NAME, release / NAME)
    key = tmp_path / "pgp"
    oe("keygen", "--openpgp", "-o", key, "--userid", "SFO Museum <collections@example.org>")
    oe("sign", release / NAME, "--key", key, "--records", "--profile", "compatible")
    url = f"{http.url}/compatible/{NAME}"
    p = run("verify", url, "--key", f"{key}.pub")
    assert p.returncode == 0 and b"VERIFIED: 1 signature checked (records-compatible)" in p.stdout, p.stderr
    sidecar = url.replace(".parquet", "-signatures.parquet")
    described = json.loads(run("inspect", "--format", "json", sidecar).stdout)
    assert described["profile"] == "compatible" and described["rows"] == 24
    assert described["public_key_file"] == sidecar.replace(".parquet", ".pub")
    shutil.rmtree(release)
