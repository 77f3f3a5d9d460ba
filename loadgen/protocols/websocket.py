"""Jina websocket transport: one ``ws://HOST:PORT/`` connection per transport, binary frames.

Each request is one binary frame holding the same pre-encoded ``DataRequestProto`` bytes as
gRPC (:meth:`~loadgen.encoding.EncodedRequest.payload` with a fresh ``request_id``); each
reply is one binary frame, a serialized ``DataRequestProto`` with routes, decoded and
validated by :func:`loadgen.replies.check_reply` after the timed span. One request is in
flight at a time; a reply carrying another ``request_id`` (a late answer to an earlier
request) is discarded, its id read from the header alone (:func:`~loadgen.replies.reply_request_id`).

Timed span (``Result.latency_s``, seconds, ``time.perf_counter``): from just before the
frame is handed to ``websockets`` until the matching reply frame is complete. The
connection opens lazily, so the first request of a transport, and the first after a
failure, also pays the TCP and websocket handshakes (as gRPC's lazy channel does).

Failures: refused, closed or reset → ``connect``, and the connection is dropped (the next
send reconnects; the drop itself is that one request's failure); no reply within
``target.timeout_s`` (handshake included) → ``timeout``, and the connection is dropped so
that the late reply cannot be taken for the next one; a refused upgrade → ``protocol``.
A timeout of :data:`WATCHED_FROM_S` or more is kept by the process's watchdog, not by a
timer per receive (:mod:`loadgen.protocols.watchdog`): such a request fails between its
deadline and ``SWEEP_S`` (0.1 s) after it. Shorter timeouts are timed by each receive.

The gateway reads the subprotocol ``bytes`` from the request header (it answers without
echoing it) and ends its request stream on the frame ``b'\\x00'``: :meth:`close` sends it, so
the gateway finishes the stream cleanly, then closes the connection. Permessage-deflate is
off (random tensors do not compress; it would cost client CPU) and so are keepalive pings
(the load itself keeps the connection busy; a late pong under load would drop it).
"""
from __future__ import annotations

import socket
import time
from contextlib import ExitStack
from typing import Optional

from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect

from loadgen.config import TargetConfig
from loadgen.encoding import EncodedRequest, next_request_id
from loadgen.protocols.base import TransportBase, classify_client_error
from loadgen.protocols.watchdog import WATCHDOG
from loadgen.replies import reply_request_id

#: The frame that ends the gateway's request stream (``bytes(True)`` in Jina's gateway).
END_OF_STREAM = b"\x00"
# Cap on waiting for the gateway's close frame when a connection is dropped or closed.
CLOSE_TIMEOUT_S = 1.0
#: From which ``timeout_s`` on the watchdog keeps a transport's deadlines (s): a reply is
#: failed at most ``SWEEP_S`` late, 10% of such a timeout.
WATCHED_FROM_S = 1.0


class WebsocketTransport(TransportBase):
    """Blocking websocket client of one Jina gateway (cooperative under gevent)."""

    protocol = "websocket"

    def __init__(self, target: TargetConfig):
        self._target = target
        self._url = f"{'wss' if target.tls else 'ws'}://{target.address}/"
        self._stack: Optional[ExitStack] = None
        self._connection: Optional[ClientConnection] = None
        self._request_id = ""
        self._in_flight = False  # a request was sent and its reply not yet received
        self._expired = False  # the watchdog cut the receive short
        self._watched = target.timeout_s >= WATCHED_FROM_S

    def _payload(self, request: EncodedRequest) -> bytes:
        self._request_id = next_request_id()  # one request in flight: the reply must carry it
        return request.payload(self._request_id)

    def _exchange(self, request: EncodedRequest, payload: bytes) -> bytes:
        deadline = time.perf_counter() + self._target.timeout_s
        try:
            connection = self._connection or self._connect(deadline)
            self._in_flight = True
            connection.send(payload)
            raw = self._receive(connection, deadline)
            self._in_flight = False
            return raw
        except (OSError, WebSocketException) as exc:  # TimeoutError is an OSError
            if self._expired:
                exc = TimeoutError("the watchdog found the reply overdue")
            self._drop()
            raise classify_client_error(exc, self._target.timeout_s, closed=ConnectionClosed,
                                        other="websocket handshake or framing failed") from None

    def _connect(self, deadline: float) -> ClientConnection:
        # Entered through an ExitStack: websockets 17 warns when connect() is not used as a
        # context manager, and this connection outlives any one `with` block.
        self._stack = ExitStack()
        self._connection = self._stack.enter_context(connect(
            self._url, subprotocols=["bytes"], max_size=None, compression=None, ping_interval=None,
            additional_headers=list(self._target.headers) or None,
            open_timeout=max(0.0, deadline - time.perf_counter()),
            close_timeout=min(CLOSE_TIMEOUT_S, self._target.timeout_s),
        ))
        return self._connection

    def _receive(self, connection: ClientConnection, deadline: float) -> bytes:
        if not self._watched:
            return self._matching_reply(connection, deadline)
        WATCHDOG.watch(self, deadline, self._expire)
        try:
            return self._matching_reply(connection, None)
        finally:
            WATCHDOG.unwatch(self)

    def _matching_reply(self, connection: ClientConnection, deadline: Optional[float]) -> bytes:
        """The next reply carrying this request's id (``deadline``: each receive timed; None:
        the watchdog watches)."""
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
            raw = connection.recv(timeout=timeout, decode=False)
            request_id = reply_request_id(raw)
            if not request_id or request_id == self._request_id:  # undecodable: check_reply says why
                return raw

    def _expire(self) -> None:
        """The watchdog's call for an overdue reply: shut the socket down, so that the
        blocked receive fails now (and :meth:`_exchange` reports a timeout)."""
        self._expired = True
        connection = self._connection
        if connection is not None:
            try:
                connection.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: the receive fails anyway

    def _drop(self) -> None:
        stack, self._stack, self._connection = self._stack, None, None
        self._in_flight = self._expired = False
        if stack is not None:
            try:
                stack.close()
            except (OSError, WebSocketException):
                pass  # the connection is gone either way

    def close(self) -> None:
        """Send the end-of-stream frame, then close the connection; idempotent. With a
        request in flight (Locust killed the user mid-request) the connection is just
        closed: ending the stream first would make the gateway's pending reply a send on a
        finished stream (a ConnectionClosedOK traceback in its log)."""
        if self._connection is not None and not self._in_flight:
            try:
                self._connection.send(END_OF_STREAM)
            except (OSError, WebSocketException):
                pass
        self._drop()
