"""The transport contract every protocol client implements.

A transport is a **blocking** client bound to one gateway; under Locust, gevent makes it
cooperative. ``send`` never raises for a request-level problem: refused connections,
timeouts, bad statuses and wrong replies come back as a :class:`~loadgen.results.Result`
whose ``error`` is set. It raises only for programming errors.

The timed span (``Result.latency_s``) starts immediately before the pre-encoded bytes are
handed to the protocol library and ends when the complete reply bytes are back. Encoding
happened earlier (pools); decoding and validation happen after the span.
:meth:`TransportBase.send` is that one timing site; a transport supplies ``_exchange``
(the span itself) and, if its replies are not protobuf, ``_check``.
"""
from __future__ import annotations

import time
from typing import Optional, Protocol, runtime_checkable

from loadgen.encoding import EncodedRequest
from loadgen.errors import ConnectError, ProtocolError, RequestFailure, RequestTimeout
from loadgen.replies import Reply, check_reply, truncate
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
    """The timed send shared by the transports, and context-manager plumbing.

    Subclasses implement ``_exchange(request, payload) -> bytes`` (raising a
    :class:`~loadgen.errors.RequestFailure`) and may override ``_payload`` and ``_check``.
    """

    protocol = "none"

    def send(self, request: EncodedRequest) -> Result:
        """Send ``request`` and wait for its reply; the span covers ``_exchange`` only (seconds,
        ``time.perf_counter``); the reply is checked after it."""
        payload = self._payload(request)
        started_at = time.time()
        t0 = time.perf_counter()
        try:
            raw = self._exchange(request, payload)
        except RequestFailure as failure:
            return self._result(request, started_at, time.perf_counter() - t0, len(payload), error=failure)
        latency_s = time.perf_counter() - t0
        reply = self._check(raw, request)
        return self._result(request, started_at, latency_s, len(payload), raw=raw, reply=reply)

    def _payload(self, request: EncodedRequest) -> bytes:
        return request.payload()

    def _exchange(self, request: EncodedRequest, payload: bytes) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check(self, raw: bytes, request: EncodedRequest) -> Reply:
        return check_reply(raw, request)

    def _result(self, request: EncodedRequest, started_at: float, latency_s: float, bytes_out: int, *,
                raw: bytes = b"", reply: Optional[Reply] = None, error: Optional[RequestFailure] = None) -> Result:
        if reply is None:
            return Result(request.endpoint, self.protocol, started_at, latency_s, bytes_out, len(raw),
                          request.n_docs, error=error)
        # Positional: one Result per request, and keyword passing costs ~1 µs in a loaded process.
        return Result(request.endpoint, self.protocol, started_at, latency_s, bytes_out, len(raw), request.n_docs,
                      reply.docs_returned, reply.routes, reply.error, None, False, reply.match_values)

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def classify_client_error(exc: BaseException, timeout_s: float, *, closed: type, other: str) -> RequestFailure:
    """Map a blocking client's exception to a failure class.

    :param closed: the library's "connection closed" exception type (→ ``connect``).
    :param other: what any other library error means (→ ``protocol``), e.g. "unparsable HTTP answer".
    :returns: ``timeout`` for a timeout, ``connect`` for ``closed`` or any other OSError
        (refused, reset, TLS, DNS), else ``protocol``.
    """
    if isinstance(exc, TimeoutError):  # an OSError too: test it first
        return RequestTimeout(f"no reply within {timeout_s:g} s")
    if isinstance(exc, closed):
        return ConnectError(truncate(f"the gateway closed the connection: {exc}"))
    if isinstance(exc, OSError):
        return ConnectError(truncate(f"{exc.strerror or exc}"))
    return ProtocolError(truncate(f"{other}: {exc}"))
