"""report.html from a run's files: self-contained, with the tables and the four plots."""
import json
import re

from loadgen.metrics import Metrics
from loadgen.reports.html import write_report
from loadgen.reports.series import TimeSeriesWriter
from loadgen.reports.summary import summarize
from loadgen.results import Result


def _run_dir(tmp_path, *, http=False):
    writer, total = TimeSeriesWriter(tmp_path, start_epoch=0.0), Metrics()
    for second in range(5):
        interval = Metrics()
        for i in range(50):
            interval.add(Result(endpoint="/search", protocol="grpc", started_at=0.0,
                                latency_s=0.010 + 0.001 * i + 0.002 * second, bytes_out=1, docs_sent=2))
        interval.add_time("executor", "encoder", 0.004)
        writer.write_interval(interval, start_epoch=second, end_epoch=second + 1)
        total.merge(interval)
    writer.close()
    run = {"target": "grpc://127.0.0.1:1", "slo": [{"slo": "p99<1s", "passed": True, "actual": 61.0}]}
    if http:
        run["executors_note"] = "not available: the HTTP gateway returns no routes"
        total.entries.pop(("executor", "encoder"))
    (tmp_path / "summary.json").write_text(json.dumps(summarize(total, duration_s=5.0, run=run)))
    return tmp_path


def test_the_report_is_self_contained_with_tables_and_plots(tmp_path):
    html = write_report(_run_dir(tmp_path)).read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    assert html.count("<svg") == 4  # latency over time, req/s, spectrum, breakdown
    assert "id='endpoints'" in html and "/search" in html and "PASS p99&lt;1s" in html
    assert re.search(r"<polyline [^>]*points=\"[0-9., ]{20,}\"", html), "lines with real points"
    assert "encoder" in html and "99.9%" in html


def test_without_routes_the_report_says_so(tmp_path):
    html = write_report(_run_dir(tmp_path, http=True)).read_text()
    assert "not available: the HTTP gateway returns no routes" in html
