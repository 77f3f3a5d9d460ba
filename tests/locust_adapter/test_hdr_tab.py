"""The web UI's HDR tab without a browser: its rows (a total of the requests) and its columns
(the open-loop ones only in open loop). tests/test_browser.py shows it in Chromium."""
from types import SimpleNamespace

import pytest

from loadgen.locust_adapter import hdr_tab
from loadgen.locust_adapter.intervals import Intervals
from loadgen.results import Result


def _session(*, open_loop=False):
    return SimpleNamespace(intervals=Intervals(), options=SimpleNamespace(arrival_shape=object() if open_loop else None))


def _add(intervals, endpoint, seconds, failed=False):
    from loadgen.errors import ConnectError

    intervals.current.add(Result(endpoint=endpoint, protocol="grpc", started_at=0.0, latency_s=seconds, bytes_out=1,
                                 error=ConnectError("refused") if failed else None))


def test_the_requests_total_row_comes_before_the_breakdown():
    session = _session()
    search, index = [0.001 * i for i in range(1, 201)], [0.5, 0.7]
    for s in search:
        _add(session.intervals, "/search", s)
    session.intervals.flush()  # part of it already in the total, part in the current interval
    for s in index:
        _add(session.intervals, "/index", s)
    _add(session.intervals, "/index", 0.0, failed=True)
    session.intervals.current.add_time("executor", "encoder", 9.9)
    rows = hdr_tab.rows(session)
    assert [(r["type"], r["name"]) for r in rows] == [("grpc", "/index"), ("grpc", "/search"), ("total", "total"),
                                                       ("executor", "encoder")]
    total = rows[2]
    assert (total["requests"], total["failures"]) == (203, 1)
    everything = sorted(search + index)
    for key, p in (("p50", 50), ("p99", 99), ("p999", 99.9)):
        truth = everything[max(1, int(p / 100 * len(everything) + 0.5)) - 1] * 1000
        assert total[key] == pytest.approx(truth, rel=1e-3)
    assert total["max"] == 700.0


def test_one_endpoint_needs_no_total_row():
    session = _session()
    _add(session.intervals, "/search", 0.01)
    assert [r["name"] for r in hdr_tab.rows(session)] == ["/search"]


class _WebUI:
    def __init__(self):
        self.template_args = {}
        self.app = SimpleNamespace(after_request=lambda f: f)


@pytest.mark.parametrize("open_loop", [False, True])
def test_open_loop_columns_only_in_open_loop(open_loop):
    web_ui = _WebUI()
    hdr_tab.install(web_ui, _session(open_loop=open_loop))
    keys = [c["key"] for c in web_ui.template_args["extended_tables"][0]["structure"]]
    assert keys[:4] == ["type", "name", "requests", "failures"] and "max" in keys
    assert ("p99_uncorrected" in keys and "late" in keys) == open_loop
    assert ("p99_uncorrected" in keys or "late" in keys) == open_loop
