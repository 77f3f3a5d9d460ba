"""Jina HTTP transport: ``POST http://HOST:PORT/<endpoint>`` with a pre-encoded JSON body.

One keep-alive connection per transport (``geventhttpclient.HTTPClient``, concurrency 1),
opened lazily. The body is the docarray v2 JSON the gateway's FastAPI app validates,
``{"data": [{"id": ..., "tensor" | "text": ...}], "parameters": {...}}`` (built by
:func:`loadgen.encoding.encode_json` before the load); there is no ``/post`` route, the
endpoint is the path. The gateway assigns request ids itself, so the body goes out unchanged.

Images: the gateway decodes a tensor given as nested JSON lists (the form Jina's own HTTP
client sends; a JSON string holding such lists decodes too). A base64 string or a
``{buffer, shape, dtype}`` object is *not* rejected with 422: the schema's union coerces the
doc list into one doc whose id is ``"tensor"`` and the Executor then fails (500); a flat
list decodes with the wrong shape and silently changes what the Executor computes. Nested
lists are 3.5-4x the bytes of protobuf and cost the gateway ~0.4-0.55 s per request of 50
64x64x3 images, where the same request over websocket takes ~0.1 s (docs/protocols.md).

Timed span (``Result.latency_s``, seconds, ``time.perf_counter``): from just before the body
is handed to geventhttpclient until the complete reply body has been read (the first
request of a connection also pays the TCP handshake). The JSON reply is decoded and
validated after the span by :func:`loadgen.replies.check_json_reply`; it carries docs and
matches but **no routes**, so there are no per-Executor times over HTTP.

Failures: refused or reset → ``connect``; ``target.timeout_s`` without progress (it bounds
the connect and each socket read/write, geventhttpclient's ``network_timeout``) →
``timeout``; a 4xx/5xx with a JSON body → ``gateway_status`` (an Executor's exception is
named); a body that is not JSON or an unparsable HTTP answer → ``protocol``. After any
transport failure the connection is dropped and the next send opens a new one.
"""
from __future__ import annotations

from typing import Optional

from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError

from loadgen.config import TargetConfig
from loadgen.encoding import EncodedRequest
from loadgen.protocols.base import TransportBase, classify_client_error
from loadgen.replies import Reply, check_json_reply

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class HttpTransport(TransportBase):
    """Blocking HTTP/1.1 client of one Jina gateway (gevent sockets)."""

    protocol = "http"

    def __init__(self, target: TargetConfig):
        self._target = target
        self._client: Optional[HTTPClient] = None
        self._headers = {**JSON_HEADERS, **dict(target.headers)}  # --header: e.g. a proxy's Authorization
        self._status = 0  # of the last answer; one request at a time

    def _exchange(self, request: EncodedRequest, payload: bytes) -> bytes:
        if self._client is None:
            self._client = HTTPClient(self._target.host, self._target.port, ssl=self._target.tls, concurrency=1,
                                      connection_timeout=self._target.timeout_s,
                                      network_timeout=self._target.timeout_s)
        try:
            response = self._client.post("/" + request.endpoint.lstrip("/"), body=payload, headers=self._headers)
            raw = response.read()
        except (OSError, HTTPParseError) as exc:  # TimeoutError is an OSError
            self._drop()
            raise classify_client_error(exc, self._target.timeout_s, closed=HTTPConnectionClosed,
                                        other="unparsable HTTP answer") from None
        self._status = response.status_code
        return raw

    def _check(self, raw: bytes, request: EncodedRequest) -> Reply:
        return check_json_reply(raw, request, status=self._status)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        """Close the keep-alive connection; idempotent."""
        self._drop()
