"""Loopback ports for processes loadgen starts itself (demo Flows, Locust masters)."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (another process may take it before
    the caller binds it; callers that start a server retry or fail with a clear message)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
