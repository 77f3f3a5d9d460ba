"""Shared fixtures: one real demo Flow (from .venv-flow) for the whole session.

The Flow runs on 127.0.0.1 with a free port, is pre-indexed with a few small documents so
that /search returns ``TOP_K`` matches, and is stopped at the end of the session.
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
from loadgen.pools import request_specs
from loadgen.protocols.grpc import GrpcTransport

ROOT = Path(__file__).resolve().parent.parent
TOP_K = 5
SMALL_IMAGE = (16, 16, 3)
RAISE_MARKER = "boom-marker"


@pytest.fixture(scope="session")
def flow(tmp_path_factory):
    """A running demo Flow; its indexer raises on texts containing ``RAISE_MARKER``."""
    config = FlowConfig(flow="image", top_k=TOP_K, raise_on=RAISE_MARKER, startup_timeout_s=120)
    with start_flow(config, log_dir=tmp_path_factory.mktemp("flow")) as running:
        _preindex(running.target)
        yield running


def _preindex(target) -> None:
    for kind in ("image", "text"):
        payload = PayloadConfig(kind=kind, request_size=4, image_shape=SMALL_IMAGE, top_k=TOP_K)
        specs = request_specs(payload, "/index", seed=123)
        with GrpcTransport(target) as transport:
            for _ in range(3):
                result = transport.send(encode(next(specs)))
                assert result.ok, result.error


def run_locust(args: list[str], *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``locust`` command of the test virtualenv; returns the finished process."""
    locust = Path(sys.executable).parent / "locust"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(locust), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
