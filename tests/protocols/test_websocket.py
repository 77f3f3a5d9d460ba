"""The websocket transport against real demo Flows with a websocket gateway."""
from dataclasses import replace

import pytest

from conftest import RAISE_MARKER, send_pooled
from loadgen.config import TargetConfig
from loadgen.documents import Document, text_documents
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConnectError, GatewayStatusError, RequestTimeout, ValidationError
from loadgen.flowctl import FlowConfig, free_port, start_flow
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
