"""Shared fixtures: real demo Flows (from .venv-flow), one per protocol, for the whole session.

Each Flow runs on 127.0.0.1 with a free port, is pre-indexed with a few small documents so
that /search returns ``TOP_K`` matches, and is stopped at the end of the session. ``flow``
(gRPC) serves most tests; ``flow_ws`` and ``flow_http`` start only when a test asks for them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loadgen.config import PayloadConfig
from loadgen.encoding import encode
from loadgen.flowctl import FlowConfig, start_flow
from loadgen.ports import free_port
from loadgen.pools import build_pools, request_specs
from loadgen.protocols import open_transport

ROOT = Path(__file__).resolve().parent.parent
TOP_K = 5
SMALL_IMAGE = (16, 16, 3)
RAISE_MARKER = "boom-marker"


@pytest.fixture
def launch_fake_gateway():
    """``launch(*options) -> port``: tests/fakegateway.py as a process of its own (so that its
    work does not share the test's GIL) on a free port, ready; killed at teardown."""
    procs = []

    def launch(*options) -> int:
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakegateway.py"), "--port", str(port),
                                 *map(str, options)], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "ready"
        return port

    yield launch
    for proc in procs:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.fixture(scope="session")
def flow(tmp_path_factory):
    """A running gRPC demo Flow; its indexer raises on texts containing ``RAISE_MARKER``."""
    yield from _running_flow("grpc", tmp_path_factory)


@pytest.fixture(scope="session")
def flow_ws(tmp_path_factory):
    """Like ``flow``, with a websocket gateway."""
    yield from _running_flow("websocket", tmp_path_factory)


@pytest.fixture(scope="session")
def flow_http(tmp_path_factory):
    """Like ``flow``, with an HTTP gateway."""
    yield from _running_flow("http", tmp_path_factory)


def _running_flow(protocol: str, tmp_path_factory):
    config = FlowConfig(flow="image", protocol=protocol, top_k=TOP_K, raise_on=RAISE_MARKER, startup_timeout_s=120)
    with start_flow(config, log_dir=tmp_path_factory.mktemp(f"flow-{protocol}")) as running:
        _preindex(running.target)
        yield running


def _preindex(target) -> None:
    for kind in ("image", "text"):
        payload = PayloadConfig(kind=kind, request_size=4, image_shape=SMALL_IMAGE, top_k=TOP_K)
        specs = request_specs(payload, "/index", seed=123)
        with open_transport(target) as transport:
            for _ in range(3):
                result = transport.send(encode(next(specs), wire=target.wire))
                assert result.ok, result.error


def send_pooled(target, kind: str, endpoints=("/index", "/search", "/search")):
    """Send pooled requests of ``kind`` (3 docs each, ``target``'s wire format) over one
    transport, check that each succeeded; returns the transport's class and the results."""
    payload = PayloadConfig(kind=kind, request_size=3, image_shape=SMALL_IMAGE, top_k=TOP_K, pool_size=2)
    pools = build_pools(payload, ["/index", "/search"], seed=5, wire=target.wire).pools
    with open_transport(target) as transport:
        results = [transport.send(pools[endpoint].next()) for endpoint in endpoints]
    for result in results:
        assert result.ok, result.error
        assert result.protocol == target.protocol and result.docs_returned == 3 and result.bytes_in > 0
        assert 0 < result.latency_s < 10
    return type(transport), results


def run_locust(args: list[str], *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``locust`` command of the test virtualenv; returns the finished process."""
    locust = Path(sys.executable).parent / "locust"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(locust), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
