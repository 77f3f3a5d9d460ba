"""The HTTP transport against a real demo Flow with an HTTP gateway, and local fake servers."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import RAISE_MARKER, TOP_K, send_pooled
from loadgen.config import TargetConfig
from loadgen.documents import Document, text_documents
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConnectError, GatewayStatusError, ProtocolError, RequestTimeout, ValidationError
from loadgen.ports import free_port
from loadgen.protocols import open_transport, probe
from loadgen.protocols.http import HttpTransport


def _json_request(endpoint: str, docs, **fields):
    return encode(RequestSpec(endpoint=endpoint, docs=docs, **fields), wire="json")


def _texts(seed: int, n: int = 1):
    return list(text_documents(n, seed=seed))


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["image", "text"])
def test_search_and_index_succeed_with_top_k_matches(flow_http, kind):
    transport_class, results = send_pooled(flow_http.target, kind)
    assert transport_class is HttpTransport
    assert all(result.routes == () for result in results), "the HTTP gateway returns no routes"


@pytest.mark.integration
def test_gateway_answers_that_are_failures(flow_http):
    """404 for an unknown endpoint, 500 naming an Executor's exception, a top_k mismatch;
    the connection keeps working after each."""
    marked = [Document(id="f" * 32, text=f"hello {RAISE_MARKER} world")]
    search = _json_request("/search", _texts(2), parameters={"top_k": TOP_K}, expected_matches=TOP_K + 1)
    with HttpTransport(flow_http.target) as transport:
        unknown = transport.send(_json_request("/nope", _texts(1))).error
        raised = transport.send(_json_request("/index", marked)).error
        mismatch = transport.send(search).error
        assert transport.send(_json_request("/index", _texts(3))).ok
    assert isinstance(unknown, GatewayStatusError) and str(unknown) == "HTTP 404: Not Found"
    assert isinstance(raised, GatewayStatusError) and str(raised).startswith("ValueError (HTTP 500): ")
    assert RAISE_MARKER in str(raised)
    assert isinstance(mismatch, ValidationError) and str(mismatch) == f"expected {TOP_K + 1} matches, got {TOP_K}"


@pytest.mark.integration
def test_probe_reads_the_dry_run_route(flow_http):
    assert probe(flow_http.target) is None


def test_a_refused_connection_is_a_connect_failure_not_a_crash():
    target = TargetConfig(protocol="http", port=free_port(), timeout_s=5)
    with open_transport(target) as transport:
        for _ in range(3):
            result = transport.send(_json_request("/index", _texts(0)))
            assert isinstance(result.error, ConnectError) and result.error.kind == "connect"
    assert "Connection refused" in probe(target, timeout_s=1)


def test_a_silent_server_is_a_timeout_failure():
    with socket.create_server(("127.0.0.1", 0)) as server:  # accepts (backlog), never answers
        target = TargetConfig(protocol="http", port=server.getsockname()[1], timeout_s=0.3)
        with HttpTransport(target) as transport:
            result = transport.send(_json_request("/index", _texts(0)))
    assert isinstance(result.error, RequestTimeout) and 0.25 < result.latency_s < 5


class _HtmlErrorHandler(BaseHTTPRequestHandler):
    """A proxy's error page: HTML, status 502."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_an_html_error_page_is_a_protocol_failure():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlErrorHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = TargetConfig(protocol="http", port=server.server_address[1], timeout_s=5)
        with HttpTransport(target) as transport:
            result = transport.send(_json_request("/index", _texts(0)))
    finally:
        server.shutdown()
        server.server_close()
    assert isinstance(result.error, ProtocolError) and "HTTP 502: undecodable reply" in str(result.error)
    assert result.bytes_in > 0
