"""A small Range-capable HTTP server for the remote-source tests, run on loopback.

It serves files from a directory with ETags and byte ranges (single ranges, suffix ranges),
counts requests and bytes, and can play the Hugging Face Hub: a HEAD or GET of
`/{datasets/}ORG/NAME/resolve/REV/PATH` answers with `X-Repo-Commit` and, for files it
calls LFS, `X-Linked-Etag` (the SHA-256) and `X-Linked-Size`, redirecting to a second path
as the Hub redirects to its CDN. Faults are switched on per path by the tests.

It can also play Google Cloud Storage's XML API (https://cloud.google.com/storage/docs/xml-api/
overview) for the buckets named in `State.gcs_buckets`, the folders of the root: objects
carry `x-goog-generation` and are read at a `generation` (404 once it is not the current one),
a bucket is listed (`GET /BUCKET?list-type=2`, two objects a page), and objects are written by
`PUT` or by an XML multipart upload (`POST ?uploads`, `PUT ?partNumber&uploadId`,
`POST ?uploadId`, `DELETE ?uploadId`), visible only once complete. No GCS emulator
object_store speaks to installs from this machine's registries; this is written from the
API's documentation.

Run standalone: `python range_server.py DIR [PORT]` prints the port and serves until killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qs, quote, unquote
from xml.sax.saxutils import escape

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class State:
    root: Path
    requests: int = 0
    bytes: int = 0
    log: list[str] = field(default_factory=list)
    # path -> fault name: "ignore-range", "403", "slow" (half a second an answer), "truncate", "stall", "no-etag", "redirect",
    # "change-after-first", "redirect-elsewhere", "no-etag" (Last-Modified only),
    # "no-etag-change-after-first"
    faults: dict[str, str] = field(default_factory=dict)
    # Hub mode: repository revisions that resolve to COMMIT; files that are "LFS".
    hub_revisions: tuple[str, ...] = ("main",)
    # Fault "redirect-elsewhere" sends the client here (another server's base URL).
    elsewhere: str = ""
    # Folders of the root served as Google Cloud Storage buckets, and their multipart uploads
    # in progress (upload id -> object path, parts by number).
    gcs_buckets: tuple[str, ...] = ()
    uploads: dict[str, tuple[str, dict[int, bytes]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def generation_of(path: Path) -> str:
    """The object's GCS generation: its modification time in nanoseconds."""
    return str(path.stat().st_mtime_ns)


def etag_of(path: Path) -> str:
    st = path.stat()
    return '"' + hashlib.sha1(f"{st.st_size}-{st.st_mtime_ns}".encode()).hexdigest() + '"'


class Handler(BaseHTTPRequestHandler):
    server_version = "range-server"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, fmt: str, *args) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self.handle_request(head=True)

    def do_GET(self) -> None:
        self.handle_request(head=False)

    def do_PUT(self) -> None:
        self.gcs_write()

    def do_POST(self) -> None:
        self.gcs_write()

    def do_DELETE(self) -> None:
        self.gcs_write()

    def gcs_bucket(self, raw: str) -> str | None:
        bucket = raw.lstrip("/").split("/", 1)[0]
        return bucket if bucket in self.state.gcs_buckets else None

    def send_xml(self, status: int, xml: str, headers: dict[str, str] | None = None) -> None:
        body = ('<?xml version="1.0" encoding="UTF-8"?>' + xml).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml; charset=UTF-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def gcs_list(self, bucket: str, query: dict[str, list[str]]) -> None:
        """GET /BUCKET?list-type=2: the objects under `prefix`, two a page."""
        prefix = query.get("prefix", [""])[0]
        base = self.state.root / bucket
        keys = sorted(
            p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
        keys = [k for k in keys if k.startswith(prefix)]
        start = int(query.get("continuation-token", ["0"])[0])
        page = keys[start : start + 2]
        contents = "".join(
            f"<Contents><Key>{escape(k)}</Key><Size>{(base / k).stat().st_size}</Size>"
            f"<LastModified>{time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime((base / k).stat().st_mtime))}"
            f"</LastModified><ETag>{escape(etag_of(base / k))}</ETag></Contents>"
            for k in page
        )
        more = start + 2 < len(keys)
        token = f"<NextContinuationToken>{start + 2}</NextContinuationToken>" if more else ""
        self.send_xml(
            200,
            f'<ListBucketResult xmlns="http://doc.s3.amazonaws.com/2006-03-01"><Name>{bucket}</Name>'
            f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{contents}{token}</ListBucketResult>",
        )

    def gcs_write(self) -> None:
        """PUT, POST and DELETE of GCS objects and multipart uploads."""
        st = self.state
        raw, _, query_text = self.path.partition("?")
        raw = unquote(raw)
        query = parse_qs(query_text, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with st.lock:
            st.requests += 1
            st.log.append(f"{self.command} {self.path}")
        bucket = self.gcs_bucket(raw)
        if bucket is None or "/" not in raw.lstrip("/"):
            return self.send_plain(405, "method not allowed")
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            # GCS writes nothing for an anonymous caller.
            return self.send_plain(401, "anonymous caller does not have storage.objects.create access")
        rel = raw.lstrip("/")
        target = st.root / rel

        def commit(data: bytes) -> str:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(f".{target.name}.{threading.get_ident()}")
            staging.write_bytes(data)
            staging.replace(target)
            return etag_of(target)

        if self.command == "PUT" and "uploadId" in query:
            upload = st.uploads.get(query["uploadId"][0])
            if upload is None:
                return self.send_plain(404, "no such upload")
            number = int(query["partNumber"][0])
            upload[1][number] = body
            return self.send_xml(200, "", {"ETag": '"' + hashlib.md5(body).hexdigest() + '"'})
        if self.command == "PUT":
            return self.send_xml(200, "", {"ETag": commit(body), "x-goog-generation": generation_of(target)})
        if self.command == "POST" and "uploads" in query:
            upload_id = hashlib.sha1(f"{rel}{time.time_ns()}".encode()).hexdigest()
            with st.lock:
                st.uploads[upload_id] = (rel, {})
            return self.send_xml(
                200,
                f"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{escape(rel)}</Key>"
                f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>",
            )
        if self.command == "POST" and "uploadId" in query:
            with st.lock:
                upload = st.uploads.pop(query["uploadId"][0], None)
            if upload is None:
                return self.send_plain(404, "no such upload")
            numbers = [int(n) for n in re.findall(rb"<PartNumber>(\d+)</PartNumber>", body)]
            if not numbers or numbers != sorted(numbers) or any(n not in upload[1] for n in numbers):
                return self.send_plain(400, "invalid part order")
            etag = commit(b"".join(upload[1][n] for n in numbers))
            return self.send_xml(
                200,
                f"<CompleteMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{escape(rel)}</Key>"
                f"<ETag>{escape(etag)}</ETag></CompleteMultipartUploadResult>",
                {"x-goog-generation": generation_of(target)},
            )
        if self.command == "DELETE" and "uploadId" in query:
            with st.lock:
                st.uploads.pop(query["uploadId"][0], None)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self.send_plain(405, "method not allowed")

    def send_plain(self, status: int, text: str = "") -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def server_url(self) -> str:
        host, port = self.server.server_address[:2]  # type: ignore[misc]
        return f"http://{host}:{port}"

    def send_json(self, value, link: str | None = None) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_request(self, head: bool) -> None:
        st = self.state
        with st.lock:
            st.requests += 1
            st.log.append(f"{self.command} {self.path} {self.headers.get('Range', '')}")
        raw = unquote(self.path.split("?", 1)[0])
        query = parse_qs(self.path.partition("?")[2], keep_blank_values=True)
        bucket = self.gcs_bucket(raw)
        if bucket is not None and "/" not in raw.strip("/"):
            if "list-type" not in query:
                return self.send_plain(400, "only list-type=2 listings are played")
            return self.gcs_list(bucket, query)
        # Counters for a benchmark in another process: read them, or read and reset.
        if raw in ("/__counts", "/__reset"):
            with st.lock:
                counts = {"requests": st.requests - 1, "bytes": st.bytes}
                if raw == "/__reset":
                    st.requests, st.bytes = 0, 0
                else:
                    st.requests -= 1
            return self.send_json(counts)
        # The Hub: /[datasets/|spaces/]ORG/NAME/resolve/REV/PATH
        m = re.fullmatch(r"/((?:datasets/|spaces/)?[^/]+/[^/]+)/resolve/([^/]+)/(.+)", raw)
        if m:
            repo, rev, inner = m.groups()
            if rev not in st.hub_revisions and rev != COMMIT:
                return self.send_plain(404, "revision not found")
            target = st.root / inner
            if not target.is_file():
                return self.send_plain(404, "entry not found")
            if st.faults.get(inner) == "401":
                return self.send_plain(401, "gated")
            # LFS files redirect to the "CDN"; the redirect carries the digest.
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            self.send_response(302)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("X-Linked-Etag", f'"{digest}"')
            self.send_header("X-Linked-Size", str(target.stat().st_size))
            self.send_header("ETag", f'"{digest}"')
            self.send_header("Location", f"/cdn/{inner}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # The Hub's API: a revision's commit, and a tree listing (two entries per page, to
        # exercise the Link header's pagination).
        m = re.fullmatch(r"/api/(datasets|models|spaces)/([^/]+/[^/]+)/revision/([^/]+)", raw)
        if m:
            if m.group(3) not in st.hub_revisions and m.group(3) != COMMIT:
                return self.send_plain(404, "revision not found")
            return self.send_json({"sha": COMMIT, "id": m.group(2)})
        m = re.fullmatch(r"/api/(datasets|models|spaces)/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?", raw)
        if m:
            prefix = (m.group(4) or "").strip("/")
            base = st.root / prefix
            entries = []
            for path in sorted(base.rglob("*")) if base.is_dir() else []:
                rel_path = path.relative_to(st.root).as_posix()
                if path.is_dir():
                    entries.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": rel_path})
                else:
                    entries.append({"type": "file", "oid": "0" * 40, "size": path.stat().st_size, "path": rel_path})
            page = int(self.path.split("page=")[1].split("&")[0]) if "page=" in self.path else 0
            chunk = entries[page * 2 : page * 2 + 2]
            link = None
            if page * 2 + 2 < len(entries):
                link = f'<{self.server_url()}{self.path.split("?")[0]}?recursive=true&page={page + 1}>; rel="next"'
            return self.send_json(chunk, link=link)
        rel = raw.lstrip("/")
        if rel.startswith("cdn/"):
            rel = rel[4:]
        target = st.root / rel
        fault = st.faults.get(rel) or ""
        if fault == "403":
            return self.send_plain(403, "forbidden")
        if fault == "slow":
            time.sleep(0.5)
        if fault == "redirect-elsewhere":
            self.send_response(307)
            self.send_header("Location", f"{st.elsewhere}/{rel}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "redirect" and not raw.startswith("/moved/"):
            self.send_response(302)
            self.send_header("Location", f"/moved/{rel}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if raw.startswith("/moved/"):
            target = st.root / rel[len("moved/"):]
        if not target.is_file():
            return self.send_plain(404, "not found")
        data_len = target.stat().st_size
        etag = etag_of(target)
        if bucket is not None and "generation" in query and query["generation"][0] != generation_of(target):
            # GCS: a generation that is no longer the object's (not versioned) is gone.
            return self.send_plain(404, "no such object generation")
        if_match = self.headers.get("If-Match")
        if if_match and if_match != etag and not fault.startswith("no-etag"):
            return self.send_plain(412, "precondition failed")
        mtime = int(target.stat().st_mtime)
        since = self.headers.get("If-Unmodified-Since")
        if since and mtime > int(parsedate_to_datetime(since).timestamp()):
            return self.send_plain(412, "precondition failed")
        rng = self.headers.get("Range")
        start, end = 0, data_len
        partial = False
        if rng and fault != "ignore-range":
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m:
                return self.send_plain(416, "bad range")
            a, b = m.groups()
            if a == "":
                n = int(b)
                start, end = max(0, data_len - n), data_len
            else:
                start = int(a)
                end = min(data_len, int(b) + 1) if b else data_len
            if start >= data_len or start >= end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{data_len}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            partial = True
        length = end - start
        self.send_response(206 if partial else 200)
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{data_len}")
        self.send_header("Accept-Ranges", "bytes")
        if not fault.startswith("no-etag"):
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
        if bucket is not None:
            self.send_header("x-goog-generation", generation_of(target))
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            return
        if fault == "stall":
            time.sleep(30)
            return
        count = length if fault != "truncate" else length // 2
        # Counted before it is sent, so that a client that has it sees it counted.
        with st.lock:
            st.bytes += count
        with open(target, "rb") as f:
            # sendfile(2): the server's copying would otherwise take most of a core on
            # loopback, a core the client being measured shares on a small machine.
            try:
                self.connection.sendfile(f, start, count)
            except (BrokenPipeError, ConnectionResetError):
                return
        if fault == "truncate":
            self.close_connection = True
        if fault in ("change-after-first", "no-etag-change-after-first"):
            # The file is replaced (here: its ETag changes) once its first answer is sent.
            with st.lock:
                st.faults.pop(rel, None)
            later = time.time_ns() + 2 * 10**9
            os.utime(target, ns=(later, later))


class RangeServer:
    """The server on a loopback port, in a thread."""

    def __init__(self, root: Path, gcs_buckets: tuple[str, ...] = ()) -> None:
        self.state = State(root=Path(root), gcs_buckets=gcs_buckets)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "RangeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset_counts(self) -> None:
        with self.state.lock:
            self.state.requests = 0
            self.state.bytes = 0
            self.state.log.clear()


if __name__ == "__main__":
    server = RangeServer(Path(sys.argv[1]))
    if len(sys.argv) > 2:
        server.httpd.server_close()
        server.httpd = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler)
        server.httpd.daemon_threads = True
        server.httpd.state = server.state  # type: ignore[attr-defined]
        server.port = server.httpd.server_address[1]
    print(server.port, flush=True)
    server.httpd.serve_forever()
