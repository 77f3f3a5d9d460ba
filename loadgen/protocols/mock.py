"""``MockTransport``: a transport whose replies come from a function, for tests and demos.

Example::

    def handler(request):
        return Result(endpoint=request.endpoint, protocol="mock", started_at=0.0,
                      latency_s=0.001, bytes_out=request.size)

    with MockTransport(handler) as transport:
        result = transport.send(pool.next())
"""
from __future__ import annotations

from typing import Callable

from loadgen.encoding import EncodedRequest
from loadgen.protocols.base import TransportBase
from loadgen.results import Result


class MockTransport(TransportBase):
    """Calls ``handler(request) -> Result``; records nothing and never touches the network."""

    protocol = "mock"

    def __init__(self, handler: Callable[[EncodedRequest], Result]):
        self._handler = handler
        self.closed = False

    def send(self, request: EncodedRequest) -> Result:
        return self._handler(request)

    def close(self) -> None:
        self.closed = True
