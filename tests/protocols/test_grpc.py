"""The gRPC transport against a real demo Flow (unary and stream, image and text)."""
from dataclasses import replace

import pytest

from conftest import RAISE_MARKER, SMALL_IMAGE, TOP_K
from loadgen.breakdown import breakdown
from loadgen.config import PayloadConfig, TargetConfig
from loadgen.documents import Document, text_documents
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConnectError, GatewayStatusError, ValidationError
from loadgen.ports import free_port
from loadgen.pools import build_pools
from loadgen.protocols import open_transport
from loadgen.protocols.grpc import GrpcTransport, probe

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("mode", ["unary", "stream"])
@pytest.mark.parametrize("kind", ["image", "text"])
def test_search_and_index_succeed_with_top_k_matches(flow, mode, kind):
    payload = PayloadConfig(kind=kind, request_size=3, image_shape=SMALL_IMAGE, top_k=TOP_K, pool_size=2)
    pools = build_pools(payload, ["/index", "/search"], seed=5).pools
    with GrpcTransport(replace(flow.target, grpc_mode=mode)) as transport:
        for endpoint in ("/index", "/search", "/search", "/index", "/search"):
            result = transport.send(pools[endpoint].next())
            assert result.ok, result.error
            assert result.docs_returned == 3 and result.bytes_in > 0 and result.bytes_out > 0
            assert 0 < result.latency_s < 10
            executors = [r.executor for r in result.routes]
            assert executors[0] == "gateway" and {"encoder", "indexer"} <= set(executors)
            for route in result.routes:
                assert 0 <= route.duration_s <= result.latency_s
            parts = breakdown(result)
            assert {name for name, _ in parts.executors} == {"encoder", "indexer"}
            assert all(0 <= s <= result.latency_s for _, s in parts.executors)
            assert parts.gateway_overhead_s + sum(s for _, s in parts.executors) <= parts.gateway_s + 1e-6


def test_an_unknown_endpoint_is_not_counted_as_success(flow):
    req = encode(RequestSpec(endpoint="/nope", docs=list(text_documents(2, seed=1))))
    with GrpcTransport(flow.target) as transport:
        result = transport.send(req)
    assert isinstance(result.error, ValidationError) and "did not answer" in str(result.error)


def test_an_unknown_target_executor_is_not_counted_as_success(flow):
    req = encode(RequestSpec(endpoint="/index", docs=list(text_documents(1, seed=2)), target_executor="nobody"))
    with GrpcTransport(flow.target) as transport:
        assert isinstance(transport.send(req).error, ValidationError)


def test_top_k_mismatch_is_a_validation_failure(flow):
    payload = PayloadConfig(kind="text", request_size=2, top_k=TOP_K, pool_size=1)
    req = replace(build_pools(payload, ["/search"], seed=1).pools["/search"].next(), expected_matches=TOP_K + 1)
    with GrpcTransport(flow.target) as transport:
        result = transport.send(req)
    assert str(result.error) == f"expected {TOP_K + 1} matches, got {TOP_K}"


@pytest.mark.parametrize("mode", ["unary", "stream"])
def test_an_executor_exception_is_a_gateway_status_failure(flow, mode):
    docs = [Document(id="f" * 32, text=f"hello {RAISE_MARKER} world")]
    with GrpcTransport(replace(flow.target, grpc_mode=mode)) as transport:
        result = transport.send(encode(RequestSpec(endpoint="/index", docs=docs)))
        assert isinstance(result.error, GatewayStatusError)
        assert "ValueError" in str(result.error) and RAISE_MARKER in str(result.error)
        ok = transport.send(encode(RequestSpec(endpoint="/index", docs=list(text_documents(1, seed=3)))))
        assert ok.ok, "the same transport keeps working after a failure"


@pytest.mark.parametrize("mode", ["unary", "stream"])
def test_a_refused_connection_is_a_connect_failure_not_a_crash(mode):
    target = TargetConfig(host="127.0.0.1", port=free_port(), grpc_mode=mode, timeout_s=5)
    req = encode(RequestSpec(endpoint="/search", docs=list(text_documents(1, seed=0))))
    with open_transport(target) as transport:
        for _ in range(3):
            result = transport.send(req)
            assert isinstance(result.error, ConnectError) and result.error.kind == "connect"
            assert isinstance(result.error, ConnectionError)


def test_probe(flow):
    assert probe(flow.target) is None
    assert "UNAVAILABLE" in probe(TargetConfig(host="127.0.0.1", port=free_port()), timeout_s=1)
