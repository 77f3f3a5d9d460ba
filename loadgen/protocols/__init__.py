"""Protocol transports and their registry: ``get_transport("grpc")`` returns the class."""
from __future__ import annotations

from typing import Callable

from loadgen.config import TargetConfig
from loadgen.errors import ConfigError
from loadgen.protocols.base import Transport


def _grpc(target: TargetConfig) -> Transport:
    from loadgen.protocols.grpc import GrpcTransport

    return GrpcTransport(target)


# Imported lazily so that `import loadgen` does not pull in grpcio.
TRANSPORTS: dict[str, Callable[[TargetConfig], Transport]] = {"grpc": _grpc}


def open_transport(target: TargetConfig) -> Transport:
    """A new transport (one connection) for ``target``.

    :raises ConfigError: for a protocol without a transport.
    """
    try:
        factory = TRANSPORTS[target.protocol]
    except KeyError:
        raise ConfigError(f"--protocol: no transport for {target.protocol!r}; use one of {', '.join(TRANSPORTS)}")
    return factory(target)


__all__ = ["TRANSPORTS", "Transport", "open_transport"]
