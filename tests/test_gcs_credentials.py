"""Native GCS credentials and the create-only publish (manifest commits, conditional writers).

The publish is one JSON API multipart upload with ``ifGenerationMatch=0`` sent by the engine itself
(Arrow's GCS filesystem cannot send preconditions). It is sent anonymously or with an OAuth access
token (``fs.access_key_value`` without ``fs.access_key_id``); service-account, impersonated and
default credentials cannot sign it and are refused with code 9 before any request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pytest

import loon
from loon.suite import data

pytestmark = pytest.mark.timeout(120)

TOKEN = "ya29.test-token-0123456789"


class _Recorder(BaseHTTPRequestHandler):
    """Answers the endpoint probe, and the first upload of each object name with 200, later ones 412."""

    def do_GET(self) -> None:  # the engine's endpoint probe
        self._answer(200, b"{}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append((self.path, dict(self.headers), body))
        seen = sum(1 for path, _, b in self.server.requests if path == self.path and b == body)
        self._answer(200 if seen == 1 else 412, b'{"name": "x"}')

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def gcs_props(address: str, **more: str) -> loon.Properties:
    return loon.Properties(
        {
            "fs.storage_type": "remote",
            "fs.cloud_provider": "gcp",
            "fs.address": address,
            "fs.bucket_name": "bkt",
            "fs.use_ssl": "false",
            "fs.request_timeout_ms": "5000",
            **more,
        }
    )


def conditional_write(props: loon.Properties, key: str, content: bytes) -> None:
    with loon.Filesystem(props) as fs:
        w = fs.open_writer(key, conditional=True)
        try:
            w.write(content)
            w.close()
        finally:
            w.destroy()


def test_access_token_is_sent_with_the_create_only_upload(recorder):
    props = gcs_props(f"127.0.0.1:{recorder.server_port}", **{"fs.access_key_value": TOKEN})
    conditional_write(props, "a/b.bin", b"payload")
    [(path, headers, body)] = recorder.requests
    assert path == "/upload/storage/v1/b/bkt/o?uploadType=multipart&ifGenerationMatch=0"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert b'{"name":"a/b.bin"}' in body and b"payload" in body
    # The store refusing the precondition is "exists" (code 102); the token never shows in messages.
    with pytest.raises(loon.LoonError) as exc:
        conditional_write(props, "a/b.bin", b"payload")
    assert exc.value.code == 102 and "a/b.bin" in str(exc.value) and TOKEN not in str(exc.value)


def test_anonymous_upload_sends_no_credentials(recorder):
    props = gcs_props(f"127.0.0.1:{recorder.server_port}", **{"fs.gcp_native_without_auth": "true"})
    conditional_write(props, "k", b"x")
    [(_, headers, _)] = recorder.requests
    assert "Authorization" not in headers


@pytest.mark.parametrize(
    "credentials",
    [
        {"fs.gcp_credential_json": '{"type": "service_account"}'},
        {"fs.access_key_value": TOKEN, "fs.gcp_target_service_account": "sa@p.iam.gserviceaccount.com"},
        {},  # Google's default credentials
    ],
    ids=["service-account", "impersonated", "default"],
)
def test_other_credentials_cannot_publish(recorder, credentials):
    props = gcs_props(f"127.0.0.1:{recorder.server_port}", **credentials)
    with pytest.raises(loon.LoonError) as exc:
        conditional_write(props, "k", b"x")
    assert exc.value.code == 9 and "access token" in str(exc.value), exc.value
    assert recorder.requests == []


def test_commit_with_an_access_token_on_the_emulator(emulator_pool):
    """The whole path (Arrow's GCS client with the token, then the publish) on fake-gcs-server."""
    emu = emulator_pool("fake-gcs-server")
    props = {**emu.properties(), "fs.access_key_value": TOKEN}
    del props["fs.gcp_native_without_auth"]
    props = loon.Properties(props)
    ds = "token-auth/ds"
    table = pa.Table.from_batches([data.make_batch(100)])
    for _ in range(2):
        loon.commit_groups(ds, loon.write_dataset(ds, table, props), props)
    assert loon.latest_version(ds, props) == 2
    assert loon.read_dataset(ds, data.SCHEMA, props).num_rows == 200
