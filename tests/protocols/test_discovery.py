"""What a gateway serves, asked per protocol against the real demo Flows (and a gateway that cannot tell)."""
import pytest

from loadgen.config import TargetConfig
from loadgen.protocols.discovery import Served, missing_line, served_endpoints


def test_missing_endpoints_are_named_with_the_closest_served_one():
    served = Served(frozenset({"/index", "/search"}))
    assert served.missing(["/index", "/serch", "/serch"]) == ["/serch"]
    line = missing_line(served, ["/serch"])
    assert line == "does not serve '/serch' (did you mean '/search'?); it serves /index, /search"
    assert missing_line(served, ["/search", "/index"]) is None
    assert missing_line(Served(frozenset({"/search"}), complete=False), ["/foo"]) == \
        "does not serve '/foo'; of the endpoints tried it serves /search"


def test_a_catch_all_executor_serves_every_endpoint():
    assert Served(frozenset({"/default"}), catch_all=True).missing(["/anything"]) == []


@pytest.mark.integration
@pytest.mark.parametrize("fixture", ["flow", "flow_ws", "flow_http"])
def test_each_protocol_tells_what_the_demo_flow_serves(request, fixture):
    target = request.getfixturevalue(fixture).target
    served = served_endpoints(target, ["/serch", "/index"])
    assert served is not None and served.endpoints == {"/index", "/search"}
    assert served.complete == (target.protocol != "websocket")  # websocket: only the endpoints tried
    assert served.missing(["/serch", "/index", "/search"]) == ["/serch"]


@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_a_gateway_without_discovery_is_not_checked(launch_fake_gateway, protocol):
    port = launch_fake_gateway("--protocol", protocol)
    assert served_endpoints(TargetConfig(protocol=protocol, port=port), ["/search"], timeout_s=2) is None
