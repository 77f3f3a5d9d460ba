"""Decode and validate a gateway's reply (runs after the timed span has ended).

A reply is a failure when its status is not SUCCESS (``gateway_status``), when it cannot be
decoded (``protocol``), or when it is wrong (``validation``): a route without an end time
(the gateway silently skips an unknown endpoint or ``target_executor`` and still answers
SUCCESS, which would otherwise look like fast fake throughput), a different number of
documents than was sent, or a ``/search`` doc without exactly ``top_k`` matches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from google.protobuf.message import DecodeError

from loadgen.encoding import EncodedRequest
from loadgen.errors import GatewayStatusError, ProtocolError, RequestFailure, ValidationError
from loadgen.results import Route
from loadgen.wire import docarray_pb2 as da
from loadgen.wire import jina_pb2 as jp

MAX_MESSAGE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Reply:
    """What a load test needs from a reply: doc count, routes and the verdict."""

    docs_returned: int
    routes: tuple[Route, ...]
    error: Optional[RequestFailure]


def check_reply(raw: bytes, request: EncodedRequest) -> Reply:
    """Decode ``raw`` (a serialized ``DataRequestProto``) and validate it against ``request``."""
    msg = jp.DataRequestProto()
    try:
        msg.ParseFromString(raw)
        docs = _docs(msg)
    except DecodeError as exc:
        return Reply(0, (), ProtocolError(f"undecodable reply ({len(raw)} bytes): {exc}"))
    routes = tuple(route_of(r) for r in msg.routes)
    error = status_error(msg.header.status) or _validate(docs, routes, request)
    return Reply(len(docs), routes, error)


def _docs(msg: jp.DataRequestProto):
    if msg.data.WhichOneof("documents") == "docs_bytes":
        doc_list = da.DocListProto()
        doc_list.ParseFromString(msg.data.docs_bytes)
        return doc_list.docs
    return msg.data.docs.docs


def route_of(route: jp.RouteProto) -> Route:
    """A wire route as a :class:`Route` (end None when the Executor never answered)."""
    end = _seconds(route.end_time) if route.HasField("end_time") else None
    return Route(executor=route.executor, start_s=_seconds(route.start_time), end_s=end)


def _seconds(ts) -> float:
    return ts.seconds + ts.nanos * 1e-9


def status_error(status: jp.StatusProto) -> Optional[GatewayStatusError]:
    """A ``gateway_status`` failure naming the Executor's exception, or None on SUCCESS."""
    if status.code == jp.StatusProto.SUCCESS:
        return None
    exc = status.exception
    where = f" in {exc.executor}" if exc.executor else ""
    detail = ", ".join(exc.args) or status.description
    name = exc.name or "Error"
    return GatewayStatusError(truncate(f"{name}{where}: {detail}"))


def _validate(docs, routes: tuple[Route, ...], request: EncodedRequest) -> Optional[ValidationError]:
    for route in routes:
        if route.end_s is None:
            return ValidationError(f"executor {route.executor!r} did not answer (its route has no end time); "
                                   f"check the endpoint {request.endpoint!r} and target_executor")
    if len(docs) != request.n_docs:
        return ValidationError(f"expected {request.n_docs} docs, got {len(docs)}")
    if request.expected_matches is not None:
        for doc in docs:
            got = _match_count(doc)
            if got != request.expected_matches:
                return ValidationError(f"expected {request.expected_matches} matches, got {got}")
    return None


def _match_count(doc: da.DocProto) -> int:
    if "matches" not in doc.data:
        return 0
    node = doc.data["matches"]
    return len(node.doc_array.docs) if node.WhichOneof("content") == "doc_array" else 0


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters (failure messages become Locust error keys)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
