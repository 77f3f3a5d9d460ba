"""The websocket transport against real demo Flows with a websocket gateway."""
from dataclasses import replace

import pytest

from conftest import RAISE_MARKER, send_pooled
from loadgen.config import TargetConfig
from loadgen.documents import Document, text_documents
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConnectError, GatewayStatusError, RequestTimeout, ValidationError
from loadgen.flowctl import FlowConfig, start_flow
from loadgen.ports import free_port
from loadgen.protocols import open_transport, probe
from loadgen.protocols.websocket import WebsocketTransport

pytestmark = pytest.mark.integration


def _index_request(seed: int, n: int = 1):
    return encode(RequestSpec(endpoint="/index", docs=list(text_documents(n, seed=seed))))


@pytest.mark.parametrize("kind", ["image", "text"])
def test_search_and_index_succeed_with_top_k_matches(flow_ws, kind):
    transport_class, results = send_pooled(flow_ws.target, kind)
    assert transport_class is WebsocketTransport
    assert all({"gateway", "encoder", "indexer"} <= {r.executor for r in result.routes} for result in results)


def test_gateway_answers_that_are_failures(flow_ws):
    """A skipped Executor (unknown endpoint) and an Executor's exception; the connection
    keeps working after each."""
    marked = [Document(id="f" * 32, text=f"hello {RAISE_MARKER} world")]
    with WebsocketTransport(flow_ws.target) as transport:
        unknown = transport.send(encode(RequestSpec(endpoint="/nope", docs=list(text_documents(2, seed=1))))).error
        raised = transport.send(encode(RequestSpec(endpoint="/index", docs=marked))).error
        assert transport.send(_index_request(seed=3)).ok
    assert isinstance(unknown, ValidationError) and "did not answer" in str(unknown)
    assert isinstance(raised, GatewayStatusError) and "ValueError" in str(raised) and RAISE_MARKER in str(raised)


def test_a_reply_to_another_request_is_discarded(flow_ws):
    with WebsocketTransport(flow_ws.target) as transport:
        assert transport.send(_index_request(seed=4)).ok
        transport._connection.send(_index_request(seed=5, n=2).payload())  # its reply arrives first
        result = transport.send(_index_request(seed=6, n=1))
    assert result.ok and result.docs_returned == 1, result.error


def test_a_missed_deadline_is_a_timeout_failure(flow_ws):
    with WebsocketTransport(replace(flow_ws.target, timeout_s=1e-4)) as transport:
        result = transport.send(_index_request(seed=7))
    assert isinstance(result.error, RequestTimeout) and result.error.kind == "timeout"


def test_a_refused_connection_is_a_connect_failure_not_a_crash():
    target = TargetConfig(protocol="websocket", port=free_port(), timeout_s=5)
    with open_transport(target) as transport:
        for _ in range(3):
            result = transport.send(_index_request(seed=0))
            assert isinstance(result.error, ConnectError) and result.error.kind == "connect"
    assert "Connection refused" in probe(target, timeout_s=1)


def test_the_transport_reconnects_after_the_gateway_restarts(tmp_path):
    """Failures while the gateway is down; the same transport succeeds once it is back."""
    config = FlowConfig(flow="text", protocol="websocket", port=free_port(), startup_timeout_s=60)
    transport = WebsocketTransport(TargetConfig(protocol="websocket", port=config.port, timeout_s=5))
    with transport:
        with start_flow(config, log_dir=tmp_path / "first") as first:
            assert probe(first.target) is None
            assert transport.send(_index_request(seed=8)).ok
        down = [transport.send(_index_request(seed=9)) for _ in range(2)]
        assert [r.error.kind for r in down] == ["connect", "connect"]
        with start_flow(config, log_dir=tmp_path / "second"):
            assert transport.send(_index_request(seed=10)).ok


def test_close_mid_request_drops_the_connection_without_ending_the_stream():
    """Locust kills a user while its request is in flight, then on_stop closes the transport:
    the end-of-stream frame must not be sent then (the gateway would answer on a finished
    stream and log a ConnectionClosedOK traceback); after a completed request it is."""
    import threading

    from websockets.sync.server import serve

    frames, release, ended = [], threading.Event(), threading.Event()

    def handler(connection):
        try:
            for frame in connection:
                frames.append(frame)
                if frame != b"\x00" and release.is_set():
                    connection.send(frame)  # echo: the reply carries the request's own id
                elif frame != b"\x00":
                    release.wait(5)  # hold the reply: the request stays in flight
        finally:
            ended.set()

    port = free_port()
    with serve(handler, "127.0.0.1", port) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        target = TargetConfig(protocol="websocket", host="127.0.0.1", port=port, timeout_s=5)
        transport = WebsocketTransport(target)
        sender = threading.Thread(target=transport.send, args=(_index_request(seed=1),))
        sender.start()
        for _ in range(200):
            if frames:
                break
            threading.Event().wait(0.01)
        transport.close()  # mid-request
        release.set()
        sender.join(5)
        assert ended.wait(5)  # the server read everything the client sent before it closed
        assert len(frames) == 1 and frames[0] != b"\x00"

        frames.clear()
        ended.clear()
        with WebsocketTransport(target) as done:
            result = done.send(_index_request(seed=2))
        assert result.error is None or result.error.kind == "validation"  # an echo is not a real reply
        assert ended.wait(5)
        assert frames[-1] == b"\x00"  # idle: the stream is ended cleanly
        server.shutdown()
