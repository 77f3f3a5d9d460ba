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
