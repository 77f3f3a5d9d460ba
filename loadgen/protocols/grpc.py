"""Jina gRPC transport: unary ``process_single_data`` or one long-lived ``Call`` stream.

Bytes go out and come back raw (no protobuf (de)serializers on the channel): the request is
pre-encoded and the reply is decoded only after the timed span. One channel per transport;
create transports after Locust forks its workers (a channel made before ``fork`` hangs).

Timed span: from just before the payload is handed to grpcio until the complete reply
message is back (for the stream: from ``put`` on the request queue until ``next`` returns).
"""
from __future__ import annotations

import queue
import time
from typing import Optional

import grpc

from loadgen.config import TargetConfig
from loadgen.encoding import EncodedRequest
from loadgen.errors import ConnectError, ProtocolError, RequestFailure, RequestTimeout
from loadgen.protocols.base import TransportBase
from loadgen.protocols.watchdog import WATCHDOG
from loadgen.replies import truncate
from loadgen.wire import jina_pb2 as jp

UNARY_PATH = "/jina.JinaSingleDataRequestRPC/process_single_data"
STREAM_PATH = "/jina.JinaRPC/Call"
DRY_RUN_PATH = "/jina.JinaGatewayDryRunRPC/dry_run"
DISCOVERY_PATH = "/jina.JinaDiscoverEndpointsRPC/endpoint_discovery"
# Image batches run to megabytes; gRPC's 4 MiB default would reject them.
CHANNEL_OPTIONS = (("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1))
_CLOSE = object()


def metadata(target: TargetConfig) -> tuple[tuple[str, str], ...]:
    """``target.headers`` as gRPC metadata: gRPC wants lower-case keys (HTTP/2 header names)."""
    return tuple((name.lower(), value) for name, value in target.headers)


def make_channel(target: TargetConfig) -> grpc.Channel:
    """A channel to ``target`` with unlimited message sizes."""
    if target.tls:
        return grpc.secure_channel(target.address, grpc.ssl_channel_credentials(), options=CHANNEL_OPTIONS)
    return grpc.insecure_channel(target.address, options=CHANNEL_OPTIONS)


class GrpcTransport(TransportBase):
    """Blocking gRPC client of one Jina gateway; ``target.grpc_mode`` picks unary or stream."""

    protocol = "grpc"

    def __init__(self, target: TargetConfig):
        self._target = target
        self._channel = make_channel(target)
        self._unary = self._channel.unary_unary(UNARY_PATH)
        self._metadata = metadata(target) or None
        self._stream: Optional[_PingPongStream] = None

    def _exchange(self, request: EncodedRequest, payload: bytes) -> bytes:
        if self._target.grpc_mode == "unary":
            try:
                return self._unary(payload, timeout=self._target.timeout_s, metadata=self._metadata)
            except grpc.RpcError as exc:
                raise classify_rpc_error(exc) from None
        if self._stream is None:
            self._stream = _PingPongStream(self._channel, self._target.timeout_s, self._metadata)
        try:
            return self._stream.exchange(payload)
        except RequestFailure:
            self._stream.close()  # a failed stream is finished; the next send opens a new one
            self._stream = None
            raise

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._channel.close()


class _PingPongStream:
    """One long-lived ``/jina.JinaRPC/Call`` with one request in flight at a time.

    The process's watchdog (:data:`~loadgen.protocols.watchdog.WATCHDOG`) cancels the stream
    when a reply is later than ``timeout_s``; the cancelled wait is reported as a timeout, up
    to :data:`~loadgen.protocols.watchdog.SWEEP_S` after the deadline.
    """

    def __init__(self, channel: grpc.Channel, timeout_s: float, metadata: Optional[tuple] = None):
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._call = channel.stream_stream(STREAM_PATH)(iter(self._outbox.get, _CLOSE), metadata=metadata)
        self._timeout_s = timeout_s
        self._timed_out = False

    def exchange(self, payload: bytes) -> bytes:
        WATCHDOG.watch(self, time.perf_counter() + self._timeout_s, self._expire)
        self._outbox.put(payload)
        try:
            return next(self._call)
        except grpc.RpcError as exc:
            if self._timed_out:
                raise RequestTimeout(f"no reply within {self._timeout_s:g} s (stream)") from None
            raise classify_rpc_error(exc) from None
        except StopIteration:
            raise ConnectError("the gateway closed the stream") from None
        finally:
            WATCHDOG.unwatch(self)

    def _expire(self) -> None:
        """The watchdog's call for an overdue reply: end the stream (the wait fails now)."""
        self._timed_out = True
        self._call.cancel()

    def close(self) -> None:
        WATCHDOG.unwatch(self)
        self._outbox.put(_CLOSE)
        self._call.cancel()


def classify_rpc_error(exc: grpc.RpcError) -> RequestFailure:
    """Map a gRPC error to a failure class (``connect``, ``timeout`` or ``protocol``)."""
    code = exc.code() if hasattr(exc, "code") else None
    details = truncate(str(exc.details() if hasattr(exc, "details") else exc))
    if code == grpc.StatusCode.UNAVAILABLE:
        return ConnectError(f"UNAVAILABLE: {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return RequestTimeout(f"DEADLINE_EXCEEDED: {details}")
    return ProtocolError(f"{code.name if code else 'RpcError'}: {details}")


def probe(target: TargetConfig, *, timeout_s: float = 2.0) -> Optional[str]:
    """Ask the gateway's dry-run service whether it is ready.

    :returns: None when the gateway answers SUCCESS, else a one-line reason.
    """
    channel = make_channel(target)
    try:
        raw = channel.unary_unary(DRY_RUN_PATH)(b"", timeout=timeout_s, metadata=metadata(target) or None)
        status = jp.StatusProto.FromString(raw)
        if status.code != jp.StatusProto.SUCCESS:
            return f"gateway is not ready: {truncate(status.description or status.exception.name)}"
        return None
    except grpc.RpcError as exc:
        return str(classify_rpc_error(exc))
    finally:
        channel.close()


def discover_endpoints(target: TargetConfig, *, timeout_s: float = 2.0) -> Optional[list[str]]:
    """The endpoints the gateway routes, from its endpoint-discovery RPC (an ``Empty`` request,
    an ``EndpointsProto`` answer), or None when the gateway does not answer it (e.g. not Jina).
    """
    channel = make_channel(target)
    try:
        raw = channel.unary_unary(DISCOVERY_PATH)(b"", timeout=timeout_s, metadata=metadata(target) or None)
        return list(jp.EndpointsProto.FromString(raw).endpoints)
    except grpc.RpcError:
        return None
    finally:
        channel.close()
