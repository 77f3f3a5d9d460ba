"""The fixed-width text table of a run's summary."""
from loadgen.metrics import Metrics
from loadgen.reports.summary import summarize
from loadgen.reports.text import render_table
from loadgen.results import Result


def _result(endpoint, latency_s, error=None, protocol="grpc"):
    return Result(endpoint=endpoint, protocol=protocol, started_at=0.0, latency_s=latency_s,
                  bytes_out=100, bytes_in=10, docs_sent=4, error=error)


def test_table_says_why_there_is_no_breakdown():
    m = Metrics()
    m.add(_result("/search", 0.01, protocol="http"))
    summary = summarize(m, duration_s=1.0, run={"executors_note": "not available: the HTTP gateway returns no routes"})
    assert summary["executors"] == {} and "not available" in render_table(summary)


def test_a_run_where_nothing_succeeded_shows_no_latencies():
    from loadgen.errors import ConnectError

    m = Metrics()
    for _ in range(3):
        m.add(_result("/search", 0.5, error=ConnectError("UNAVAILABLE: connection refused")))
        m.add(_result("/index", 0.5, error=ConnectError("UNAVAILABLE: connection refused")))
    table = render_table(summarize(m, duration_s=1.0))
    assert "0.00" not in table and table.splitlines()[2].split()[-4:] == ["-", "-", "-", "-"]
    assert ("no successful request: every request failed, so there are no latencies (commonest: connect: "
            "UNAVAILABLE: connection refused (6x))") in table  # both endpoints


def test_an_endpoint_without_success_is_named():
    from loadgen.errors import ValidationError

    m = Metrics()
    m.add(_result("/search", 0.01))
    m.add(_result("/index", 0.01, error=ValidationError("expected 1 matches, got 0")))
    table = render_table(summarize(m, duration_s=1.0))
    assert "/index: no successful request (no latencies)" in table and "10.00" in table  # /search's latency stays
