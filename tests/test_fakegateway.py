"""tests/fakegateway.py's websocket mode and --canned replies (used by benchmarks/bench_throughput.py):
loadgen's own transports get replies that pass the full validation, each carrying its request's id."""
import pytest

from loadgen.config import PayloadConfig, TargetConfig
from loadgen.pools import build_pools
from loadgen.protocols import open_transport, probe

PAYLOAD = PayloadConfig(kind="text", request_size=3, top_k=4, pool_size=4)


@pytest.mark.parametrize("protocol,canned", [("websocket", False), ("websocket", True), ("grpc", True),
                                             ("http", True)])
def test_replies_pass_loadgens_validation(launch_fake_gateway, protocol, canned):
    port = launch_fake_gateway("--delay-ms", 0, "--protocol", protocol, *(["--canned"] if canned else []))
    target = TargetConfig.from_url(f"{protocol.replace('websocket', 'ws')}://127.0.0.1:{port}")
    pool = build_pools(PAYLOAD, ["/search"], seed=1, wire=target.wire).pools["/search"]
    assert probe(target) is None
    with open_transport(target) as transport:
        results = [transport.send(pool.next()) for _ in range(2 * len(pool))]
    assert [r.error for r in results] == [None] * len(results)
    assert all(r.docs_returned == PAYLOAD.request_size for r in results)
    if protocol != "http":  # the HTTP gateway's JSON has no routes
        assert all([route.executor for route in r.routes] == ["gateway"] for r in results)
