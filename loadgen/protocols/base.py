"""The transport contract every protocol client implements.

A transport is a **blocking** client bound to one gateway; under Locust, gevent makes it
cooperative. ``send`` never raises for a request-level problem: refused connections,
timeouts, bad statuses and wrong replies come back as a :class:`~loadgen.results.Result`
whose ``error`` is set. It raises only for programming errors.

The timed span (``Result.latency_s``) starts immediately before the pre-encoded bytes are
handed to the protocol library and ends when the complete reply bytes are back. Encoding
happened earlier (pools); decoding and validation happen after the span.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from loadgen.encoding import EncodedRequest
from loadgen.results import Result


@runtime_checkable
class Transport(Protocol):
    """One connection (channel, socket) to a gateway, used by one user at a time."""

    protocol: str

    def send(self, request: EncodedRequest) -> Result:
        """Send ``request`` and wait for its reply; see the module docstring for timing."""
        ...

    def close(self) -> None:
        """Release the connection; idempotent."""
        ...


class TransportBase:
    """Context-manager plumbing shared by the transports."""

    protocol = "none"

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
