"""Protocol transports, their registry and readiness probes: the one switch by protocol.

``open_transport(target)`` returns the transport of ``target.protocol`` (``grpc``,
``websocket``, ``http``); ``probe(target)`` asks that gateway whether it is ready.
"""
from __future__ import annotations

from typing import Callable

from loadgen.config import TargetConfig
from loadgen.errors import ConfigError
from loadgen.protocols.base import Transport
from loadgen.protocols.probes import probe


def _grpc(target: TargetConfig) -> Transport:
    from loadgen.protocols.grpc import GrpcTransport

    return GrpcTransport(target)


def _websocket(target: TargetConfig) -> Transport:
    from loadgen.protocols.websocket import WebsocketTransport

    return WebsocketTransport(target)


def _http(target: TargetConfig) -> Transport:
    from loadgen.protocols.http import HttpTransport  # geventhttpclient imports gevent

    return HttpTransport(target)


# Imported lazily so that `import loadgen` pulls in neither grpcio, websockets nor gevent.
TRANSPORTS: dict[str, Callable[[TargetConfig], Transport]] = {"grpc": _grpc, "websocket": _websocket, "http": _http}


def open_transport(target: TargetConfig) -> Transport:
    """A new transport (one connection) for ``target``.

    :raises ConfigError: for a protocol without a transport.
    """
    try:
        factory = TRANSPORTS[target.protocol]
    except KeyError:
        raise ConfigError(f"--protocol: no transport for {target.protocol!r}; use one of {', '.join(TRANSPORTS)}")
    return factory(target)


__all__ = ["TRANSPORTS", "Transport", "open_transport", "probe"]
