"""AWS without AWS: a moto server on 127.0.0.1 (real boto3 calls over HTTP, via
``AWS_ENDPOINT_URL``), dummy credentials that exist only in the test environment, and a
guard that keeps every HTTP call of the cloud code on loopback.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadgen.cloud import master_api
from loadgen.ports import free_port

DUMMY_KEY_ID = "AKIAMOTOTESTKEY00000"
DUMMY_SECRET = "moto-test-secret-never-printed"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    """A moto server in its own process (its warnings stay out of this one)."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_up(url: str, proc: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "moto_server exited"
        try:
            urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("moto_server did not start")


@pytest.fixture
def aws(moto_url, monkeypatch, tmp_path):
    """A fresh moto state and an environment that reaches only it; returns the base env."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=5).close()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_SECURITY_TOKEN", "LOADGEN_IMAGE"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": DUMMY_KEY_ID, "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
        "AWS_DEFAULT_REGION": REGION,
        # never ask 169.254.169.254 for credentials, never read a developer's ~/.aws
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"), "HOME": str(tmp_path / "home"),
        # the caller-address lookup goes to a closed loopback port unless a test says otherwise
        "LOADGEN_CHECKIP_URL": f"http://127.0.0.1:{free_port()}/",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def new_bucket(aws):
    """``new_bucket(name)``: creates the bucket on the moto server; returns an S3 client."""
    import boto3

    def create(name: str):
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=name)
        return client

    return create


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail a test whose code would poll a master anywhere but on loopback (moto hands
    out public-looking addresses)."""
    real = master_api.get_json

    def guarded(url, **kwargs):
        host = urllib.parse.urlsplit(url).hostname
        assert host in ("127.0.0.1", "localhost"), f"test tried to reach {url}"
        return real(url, **kwargs)

    monkeypatch.setattr(master_api, "get_json", guarded)


class _Stub(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", self.server.content_type)
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_stub():
    """Start a loopback HTTP server answering every GET with a fixed body; returns a
    function ``(body, content_type) -> base URL``."""
    servers = []

    def start(body, content_type="application/json"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
        server.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        server.content_type = content_type
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def cli_env(**overrides) -> dict:
    """The current environment (the ``aws`` fixture's) for a ``loadgen`` subprocess."""
    env = {**os.environ, **overrides}
    return {k: v for k, v in env.items() if v is not None}
