"""What a gateway serves: its endpoints, asked before any load (``--skip-host-check`` skips it).

Each protocol answers differently (checked against jina 3.33's gateways):

- gRPC: the endpoint-discovery RPC (:func:`loadgen.protocols.grpc.discover_endpoints`) lists
  every endpoint the Flow routes, plus Jina's own (``_jina_dry_run_``, left out here).
- HTTP: the gateway's FastAPI app publishes its OpenAPI schema at ``GET /openapi.json``; each
  endpoint is a ``POST`` route (``/index``, ``/search``), beside the gateway's own ``GET``
  routes (``/``, ``/status``, ``/dry_run``).
- websocket: that gateway lists nothing (its schema holds only ``/``, ``/status`` and
  ``/dry_run``). Each endpoint asked about gets one request with no documents instead: the
  gateway forwards a request only to the Executors that serve its endpoint, so a served one
  comes back with an Executor route that has an end time, an unknown one with none (and
  no Executor sees it).

An Executor with a catch-all handler (``@requests`` without ``on=``) serves every endpoint;
gRPC lists it as ``/default``. A gateway that answers none of this (not Jina, or another
version) is not checked: :func:`served_endpoints` returns None.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Iterable, Optional

from loadgen.config import TargetConfig
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import did_you_mean

CATCH_ALL = "/default"  # jina's __default_endpoint__
#: Endpoints asked about over websocket beside the wanted ones, so that a typo has something
#: to be compared with (the websocket gateway cannot list what it serves).
COMMON_ENDPOINTS = ("/index", "/search")


@dataclass(frozen=True)
class Served:
    """What a gateway serves.

    :param endpoints: the endpoints known to be served.
    :param complete: ``endpoints`` is the gateway's whole list (gRPC, HTTP); False when only
        the endpoints asked about were tried (websocket).
    :param catch_all: an Executor serves any endpoint.
    """

    endpoints: frozenset[str]
    complete: bool = True
    catch_all: bool = False

    def missing(self, wanted: Iterable[str]) -> list[str]:
        """The endpoints of ``wanted`` the gateway does not serve, in their order."""
        if self.catch_all:
            return []
        return [endpoint for endpoint in dict.fromkeys(wanted) if endpoint not in self.endpoints]


def served_endpoints(target: TargetConfig, wanted: Iterable[str], *, timeout_s: float = 5.0) -> Optional[Served]:
    """Ask the gateway at ``target`` what it serves (``wanted``: the endpoints a websocket
    gateway is asked about). None when it cannot tell."""
    if target.protocol == "grpc":
        from loadgen.protocols.grpc import discover_endpoints  # grpcio only when needed

        listed = discover_endpoints(target, timeout_s=timeout_s)
        if listed is None:
            return None
        return Served(frozenset(e for e in listed if not e.startswith("_jina")), catch_all=CATCH_ALL in listed)
    if target.protocol == "http":
        return _openapi_endpoints(target, timeout_s=timeout_s)
    return _tried_endpoints(target, [*wanted, *COMMON_ENDPOINTS])


def missing_line(served: Served, wanted: Iterable[str]) -> Optional[str]:
    """``does not serve '/serch' (did you mean '/search'?); it serves /index, /search`` for
    the first endpoint of ``wanted`` the gateway lacks, or None when it serves them all."""
    missing = served.missing(wanted)
    if not missing:
        return None
    known = sorted(served.endpoints)
    names = ", ".join(repr(endpoint) for endpoint in missing)
    listing = ", ".join(known) or "nothing"
    has = f"it serves {listing}" if served.complete else f"of the endpoints tried it serves {listing}"
    return f"does not serve {names}{did_you_mean(missing[0], known)}; {has}"


def _openapi_endpoints(target: TargetConfig, *, timeout_s: float) -> Optional[Served]:
    url = f"{'https' if target.tls else 'http'}://{target.address}/openapi.json"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(target.headers)),
                                    timeout=timeout_s) as response:
            paths = json.loads(response.read()).get("paths")
    except (OSError, ValueError, AttributeError):  # HTTPError, URLError and timeouts are OSErrors
        return None
    if not isinstance(paths, dict):
        return None
    return Served(frozenset(path for path, methods in paths.items() if isinstance(methods, dict) and "post" in methods))


def _tried_endpoints(target: TargetConfig, endpoints: list[str]) -> Optional[Served]:
    """Send each endpoint one request without documents over one connection; served are those
    an Executor answered (its route has an end time)."""
    from loadgen.protocols import open_transport

    served = set()
    with open_transport(target) as transport:
        for endpoint in dict.fromkeys(endpoints):
            result = transport.send(encode(RequestSpec(endpoint=endpoint, docs=[]), wire=target.wire))
            if not result.routes:
                return None  # no reply, or not one of a Jina gateway: cannot tell
            if any(route.end_s is not None for route in result.routes if route.executor != "gateway"):
                served.add(endpoint)
    return Served(frozenset(served), complete=False)
