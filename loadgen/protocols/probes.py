"""Readiness probes: does a Jina gateway answer, with every Executor reachable?

gRPC gateways answer the dry-run RPC (:func:`loadgen.protocols.grpc.probe`). Websocket and
HTTP gateways both serve ``GET /dry_run`` (checked against jina 3.33): it sends an empty
request through the whole Flow and answers a JSON ``StatusProto``, ``{"code": 0, ...}`` on
success. It is read with the standard library, so probing imports neither gevent nor a
websocket client (``loadgen flow up`` uses it outside Locust).
"""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Optional

from loadgen.config import TargetConfig
from loadgen.replies import truncate


def probe(target: TargetConfig, *, timeout_s: float = 2.0) -> Optional[str]:
    """Ask the gateway at ``target`` whether it is ready, with its protocol's probe.

    :param timeout_s: seconds to wait for the answer.
    :returns: None when it is ready, else a one-line reason.
    """
    if target.protocol == "grpc":
        from loadgen.protocols.grpc import probe as grpc_probe  # grpcio only when needed

        return grpc_probe(target, timeout_s=timeout_s)
    return dry_run_http(target, timeout_s=timeout_s)


def dry_run_http(target: TargetConfig, *, timeout_s: float = 2.0) -> Optional[str]:
    """``GET /dry_run`` of a websocket or HTTP gateway; None when it says SUCCESS."""
    url = f"{'https' if target.tls else 'http'}://{target.address}/dry_run"
    try:
        # --header goes with the probe too: a gateway behind an auth proxy answers only with it
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(target.headers)),
                                    timeout=timeout_s) as response:
            status = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):  # e.g. an auth proxy in front of the gateway
            return f"GET /dry_run answered HTTP {exc.code}; give credentials with --header or user:password@ in --host"
        return f"GET /dry_run answered HTTP {exc.code} (is this a Jina {target.protocol} gateway?)"
    except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors
        return truncate(f"GET /dry_run failed: {getattr(exc, 'reason', None) or exc}")
    if not isinstance(status, dict):
        return "GET /dry_run did not answer a status"
    if status.get("code") in (0, "SUCCESS"):
        return None
    exception = status.get("exception") or {}
    return truncate(f"gateway is not ready: {status.get('description') or exception.get('name') or status}")


def speaks_http1(target: TargetConfig, *, timeout_s: float = 2.0) -> bool:
    """Whether the server at ``target``'s address answers plain HTTP/1 (any status): what a
    gRPC client meets at a Jina HTTP or websocket gateway ("Failed parsing HTTP/2")."""
    url = f"{'https' if target.tls else 'http'}://{target.address}/"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(target.headers)), timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True  # an HTTP status all the same
    except (OSError, ValueError, http.client.HTTPException):  # e.g. a gRPC server's bytes: BadStatusLine
        return False
