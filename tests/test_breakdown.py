import pytest

from loadgen.breakdown import (GATEWAY_OVERHEAD, NETWORK_CLIENT, breakdown, parse_timestamp, route_from_json,
                               timings, union_length)
from loadgen.errors import ValidationError
from loadgen.results import Result, Route

BASE = 1_700_000_000.0


def _result(routes, latency_s=0.020, error=None):
    return Result(endpoint="/search", protocol="grpc", started_at=BASE, latency_s=latency_s, bytes_out=1,
                  routes=tuple(routes), error=error)


def test_sequential_executors():
    routes = [Route("gateway", BASE, BASE + 0.015), Route("encoder", BASE + 0.001, BASE + 0.006),
              Route("indexer", BASE + 0.007, BASE + 0.013)]
    b = breakdown(_result(routes))
    assert [n for n, _ in b.executors] == ["encoder", "indexer"]
    assert b.executors[0][1] == pytest.approx(0.005, abs=1e-6) and b.executors[1][1] == pytest.approx(0.006, abs=1e-6)
    assert b.gateway_s == pytest.approx(0.015, abs=1e-6)
    assert b.gateway_overhead_s == pytest.approx(0.004, abs=1e-6)  # 15 ms - (5 + 6) ms
    assert b.network_client_s == pytest.approx(0.005, abs=1e-6)    # 20 ms - 15 ms
    names = [(t, n) for t, n, _ in timings(b)]
    assert names == [("executor", "encoder"), ("executor", "indexer"),
                     ("breakdown", GATEWAY_OVERHEAD), ("breakdown", NETWORK_CLIENT)]


def test_parallel_executors_overlap_is_counted_once():
    routes = [Route("gateway", BASE, BASE + 0.010), Route("a", BASE + 0.001, BASE + 0.006),
              Route("b", BASE + 0.002, BASE + 0.008)]
    assert breakdown(_result(routes)).gateway_overhead_s == pytest.approx(0.003, abs=1e-6)  # 10 - union(1..8)


@pytest.mark.parametrize("intervals, expected", [
    ([], 0.0), ([(0, 1)], 1.0), ([(0, 1), (2, 3)], 2.0), ([(0, 2), (1, 3)], 3.0),
    ([(0, 5), (1, 2), (3, 4)], 5.0), ([(2, 3), (0, 1), (0.5, 2.5)], 3.0),
])
def test_union_length(intervals, expected):
    assert union_length(intervals) == pytest.approx(expected)


def test_no_breakdown_without_gateway_route_or_on_failure():
    assert breakdown(_result([])) is None  # e.g. HTTP: no routes
    routes = [Route("gateway", BASE, BASE + 0.01)]
    assert breakdown(_result(routes, error=ValidationError("x"))) is None
    assert breakdown(_result([Route("gateway", BASE, None)])) is None


@pytest.mark.parametrize("text, expected", [
    ("2024-01-02T03:04:05Z", 1704164645.0),
    ("2024-01-02T03:04:05.123Z", 1704164645.123),
    ("2024-01-02T03:04:05.123456Z", 1704164645.123456),
    ("2024-01-02T03:04:05.123456789Z", 1704164645.123456789),
    ("2024-01-02T03:04:05.1Z", 1704164645.1),
    ("2024-01-02T05:04:05.500+02:00", 1704164645.5),
    ("2024-01-02T03:04:05-01:00", 1704168245.0),
])
def test_timestamps_with_every_fractional_digit_form(text, expected):
    assert parse_timestamp(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("bad", ["", "yesterday", "2024-01-02T03:04:05", "2024-01-02T03:04:05.1234567890Z",
                                 "2024-13-02T03:04:05Z"])
def test_bad_timestamps_raise_value_error(bad):
    with pytest.raises(ValueError):
        parse_timestamp(bad)


def test_route_from_protobuf_json():
    route = route_from_json({"executor": "encoder", "startTime": "2024-01-02T03:04:05.100Z",
                             "endTime": "2024-01-02T03:04:05.350Z"})
    assert route.executor == "encoder" and route.duration_s == pytest.approx(0.25, abs=1e-6)
    assert route_from_json({"executor": "x", "startTime": "2024-01-02T03:04:05Z"}).end_s is None
