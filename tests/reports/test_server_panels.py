"""report.html's server section, from a run's files (no run needed)."""
from loadgen.reports.html import render
from loadgen.reports.server_panels import server_section

CLIENT = [{"timestamp": "1", "elapsed_s": "1.0", "request_type": "grpc", "name": "/search", "requests": "10",
           "failures": "0", "rps": "10", "p50_ms": "5", "p95_ms": "8", "p99_ms": "9", "max_ms": "9"},
          {"timestamp": "2", "elapsed_s": "2.0", "request_type": "grpc", "name": "/search", "requests": "20",
           "failures": "0", "rps": "20", "p50_ms": "5", "p95_ms": "8", "p99_ms": "40", "max_ms": "41"}]


def server_row(elapsed, runtime, metric, *, value="", increase="", rate="", mean="", labels=""):
    return {"timestamp": elapsed, "elapsed_s": elapsed, "source": "u", "runtime": runtime, "metric": metric,
            "labels": labels, "kind": "summary", "value": value, "increase": increase, "rate_per_s": rate,
            "mean": mean, "p50": "", "p99": ""}


SERVER = [server_row("1.0", "enc/rep-0", "jina_process_request_seconds", increase="10", mean="0.002",
                     labels='executor_endpoint="/search"'),
          server_row("2.0", "enc/rep-0", "jina_process_request_seconds", increase="20", mean="0.030",
                     labels='executor_endpoint="/search"'),
          server_row("2.0", "enc/rep-0", "jina_process_request_seconds", increase="1", mean="9.0",
                     labels='executor_endpoint="_jina_dry_run_"'),
          server_row("2.0", "enc/rep-0", "jina_successful_requests", increase="20", rate="20"),
          server_row("2.0", "enc/rep-0", "process_cpu_percent", value="97.5"),
          server_row("2.0", "gateway/rep-0", "jina_receiving_request_seconds", increase="20", mean="0.035")]
SUMMARY = {"server": {"executors": {"enc": {"requests": 30, "failed": 0, "processing_ms": {"calls": 30, "mean": 20.7,
                                                                                           "p50": None, "p99": None},
                                            "cpu_pct": {"mean": 60.0, "max": 97.5}, "rss_mb_max": 80.0}},
                      "gateway": None, "sources": {"http://x/metrics": {"problem": "down: Connection refused"}},
                      "notes": [], "quantiles_note": "summaries only"}}


def test_nothing_without_server_metrics():
    assert server_section({}, [], CLIENT) == []


def test_panels_line_up_client_and_server():
    html = "".join(server_section(SUMMARY, SERVER, CLIENT))
    assert "client p99 /search" in html and "enc processing" in html and "gateway per request" in html
    assert "CPU per Executor" in html and "enc (server)" in html and "client" in html
    assert "down: Connection refused" in html and "summaries only" in html and "97.5" in html
    # the dry run's 9 s is not an Executor's processing time: the y axis stays under 100 ms
    assert ">9000<" not in html


def test_the_report_has_the_section():
    summary = {"target": "grpc://x", "endpoints": {}, "total": {"requests": 0, "failures": 0, "rps": 0.0,
               "docs_per_s": 0.0, "latency_ms": {k: 0.0 for k in ("p50", "p90", "p95", "p99", "p999", "max")}},
               "load_model": "closed", **SUMMARY}
    page = render(summary=summary, rows=CLIENT, spectra={}, server_rows=SERVER)
    assert "<section id='server'>" in page and "client p99 and server time per request" in page
