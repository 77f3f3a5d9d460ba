"""Real Locust runs with server metrics and the live export: a real Prometheus server, the
demo Flow with monitoring on, metrics URLs that are down, slow or garbage."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SMALL_IMAGE, run_locust
from loadgen.metrics import LatencyHistogram
from loadgen.observe.hdr_buckets import QUANTILE_ERROR
from loadgen.observe.rates import histogram_quantile
from loadgen.observe.scrape import family_name
from loadgen.ports import free_port
from loadgen.reports.series import merge_intervals, read_hlog

from .test_docker_files import dashboard_queries
from .test_watch import jina_page

pytestmark = [pytest.mark.integration, pytest.mark.locust]
SHAPE = ",".join(map(str, SMALL_IMAGE))


def common(tmp_path, *extra, seconds=5, users=4):
    return ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--image-shape", SHAPE,
            "--request-size", "2", "--results-dir", str(tmp_path / "results"), *extra]


def summary_of(tmp_path) -> dict:
    return json.loads((tmp_path / "results" / "summary.json").read_text())


def merged_histogram(tmp_path, tag: str) -> LatencyHistogram:
    with open(tmp_path / "results" / "histograms.hlog", encoding="utf-8") as stream:
        return merge_intervals(read_hlog(stream))[tag].histogram


def test_prometheus_sees_the_counts_of_the_summary_and_its_p99(prometheus, launch_fake_gateway, tmp_path):
    # every request sleeps log-uniformly in 5-50 ms: a smooth tail, so neighbouring
    # latencies around p99 are close (see loadgen/observe/hdr_buckets.py on ranks)
    gateway = launch_fake_gateway("--delay-ms", "1", "--schedule", "loguniform:5,50", "--seed", "3")
    port = free_port()
    server = prometheus(port)
    started = time.monotonic()
    proc = run_locust(["-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{gateway}",
                       *common(tmp_path, "--prometheus-port", str(port), "--prometheus-linger", "30")], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 5 + 25, "the linger ends at the first scrape of the final figures"
    summary = summary_of(tmp_path)
    counted = {r["metric"]["endpoint"]: float(r["value"][1])
               for r in server.query("sum by (endpoint) (last_over_time(loadgen_requests_total[10m]))")}
    assert counted == {name: e["requests"] for name, e in summary["endpoints"].items()}
    assert sum(counted.values()) == summary["total"]["requests"] > 200
    buckets = {float(r["metric"]["le"]): float(r["value"][1]) for r in
               server.query('last_over_time(loadgen_latency_seconds_bucket{endpoint="/search"}[10m])')}
    promql = 'histogram_quantile(0.99, sum by (le) (last_over_time(loadgen_latency_seconds_bucket{endpoint="/search"}[10m])))'
    p99 = float(server.query(promql)[0]["value"][1])
    assert p99 == pytest.approx(histogram_quantile(0.99, buckets), rel=1e-9), "the same interpolation as ours"
    hdr_p99 = summary["endpoints"]["/search"]["latency_ms"]["p99"] / 1000
    hist = merged_histogram(tmp_path, "grpc:/search")
    next_rank = hist.percentile_ms(min(100.0, 99.0 + 100.0 / hist.count)) / 1000  # the neighbouring latency
    gap = max(next_rank / hdr_p99, 1.0)
    assert abs(p99 / hdr_p99 - 1) <= (1 + QUANTILE_ERROR) * gap - 1, (p99, hdr_p99, gap)


def test_the_demo_flows_executors_count_what_the_client_sent(flow, tmp_path):
    proc = run_locust(["-f", "locustfiles/image.py", "--host", flow.target.url, "--server-metrics",
                       f"pid:{flow.proc.pid}", *common(tmp_path, users=3)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = summary_of(tmp_path)
    server = summary["server"]
    problems = {url: s["problem"] for url, s in server["sources"].items() if s["problem"]}
    assert not problems, f"{problems} (an old flow virtualenv? `make venv-flow` pins prometheus_client<0.22)"
    answered, unfinished = summary["total"]["requests"], summary["total"]["unfinished"]
    sent = answered + unfinished
    per_interval = max(int(r.split(",")[4]) for r in (tmp_path / "results" / "timeseries.csv").read_text().splitlines()[1:])
    assert set(server["executors"]) == {"encoder", "indexer"}
    for name in ("encoder", "indexer"):
        executor = server["executors"][name]
        # every answered request went through each Executor (counted before the reply left);
        # a request cut off by the stop may or may not have reached it
        assert answered <= executor["requests"] <= sent, (name, executor["requests"], answered, unfinished)
        assert executor["processing_ms"]["calls"] == executor["requests"] and executor["processing_ms"]["mean"] > 0
        assert executor["cpu_pct"]["max"] > 0 and executor["rss_mb_max"] > 10
    assert abs(server["gateway"]["requests"] - sent) <= per_interval
    assert {p["name"] for p in server["processes"]} == {"flow", "gateway/rep-0", "encoder/rep-0", "indexer/rep-0"}
    rows = (tmp_path / "results" / "server_metrics.csv").read_text().splitlines()
    assert rows[0].startswith("timestamp,elapsed_s,source,runtime,metric") and len(rows) > 20
    assert "<section id='server'>" in (tmp_path / "results" / "report.html").read_text()


def test_metrics_urls_that_are_down_slow_or_garbage_never_fail_the_run(launch_fake_gateway, metrics_server, tmp_path):
    served = []  # the flaky server's counts that got out with status 200

    def flaky(n):
        if n in (2, 3):
            return 500, b"oops", 0.0
        served.append(11 * n)
        return 200, jina_page(11 * n, runtime="flaky/rep-0"), 0.0

    good, _ = metrics_server(flaky)
    slow, _ = metrics_server(lambda n: (200, jina_page(n), 3.0))
    garbage, _ = metrics_server(lambda n: (200, b"<html>not metrics</html>", 0.0))
    down = f"http://127.0.0.1:{free_port()}/metrics"
    gateway = launch_fake_gateway("--delay-ms", "2")
    proc = run_locust(["-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{gateway}",
                       "--server-metrics", ",".join([good, slow, garbage, down]), *common(tmp_path, seconds=4)],
                      cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for url in (slow, garbage, down):
        assert len(re.findall(re.escape(url) + ":", proc.stderr)) == 1, (url, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr
    summary = summary_of(tmp_path)
    assert summary["total"]["requests"] > 50 and summary["total"]["failures"] == 0
    sources = summary["server"]["sources"]
    assert sources[down]["problem"].startswith("down") and sources[slow]["problem"].startswith("slow")
    assert sources[garbage]["problem"].startswith("garbage") and sources[good]["failures"] == {"http": 2}
    assert summary["server"]["executors"]["flaky"]["requests"] == served[-1] - served[0], "nothing lost"


def test_a_prometheus_port_in_use_is_a_usage_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = run_locust(["-f", "locustfiles/image.py", "--headless", "-t", "2s", "--prometheus-port", str(port),
                           "--results-dir", str(tmp_path)], cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("loadgen: error: --prometheus-port:"), proc.stderr[-2000:]
    assert str(port) in errors[0] and "Traceback" not in proc.stderr


def poll_metrics(port: int, pages: list[str], stop: threading.Event) -> None:
    """Keep the latest /metrics page of a running exporter in ``pages``."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
                pages.append(reply.read().decode())
        except OSError:
            pass
        stop.wait(0.5)


# Metrics a dashboard panel shows only when the run has them, each with the reason (none: every
# run measures its loop lag, the generator's self-check).
CONDITIONAL: dict[str, str] = {}


def test_the_dashboard_queries_what_a_run_exposes(prometheus, tmp_path):
    """The embedded demo Flow (started with monitoring on and scraped by itself) in open
    loop, with the live export: every metric the Grafana dashboard queries is on a real
    /metrics page, and real Prometheus accepts every query."""
    port = free_port()
    server = prometheus(port)
    pages, stop = [], threading.Event()
    poller = threading.Thread(target=poll_metrics, args=(port, pages, stop), daemon=True)
    poller.start()
    try:
        proc = run_locust(["-f", "locustfiles/image.py", "--arrival-rate", "40", "--preindex-docs", "20",
                           "--prometheus-port", str(port), "--prometheus-linger", "10",
                           *common(tmp_path, seconds=6)], cwd=ROOT, timeout=240)
    finally:
        stop.set()
        poller.join(5)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = summary_of(tmp_path)
    assert set(summary["server"]["executors"]) == {"encoder", "indexer"}, "the demo Flow is scraped by itself"
    lines = pages[-1].splitlines()
    exposed = {line.split("{")[0].split(" ")[0] for line in lines if line and not line.startswith("#")}
    declared = {line.split()[2] for line in lines if line.startswith("# TYPE ")}  # e.g. failures: none yet
    queried = {name for expr in dashboard_queries() for name in re.findall(r"\b((?:loadgen|jina)_\w+)", expr)}
    missing = {name for name in queried - exposed if name not in declared and family_name(name) not in declared}
    assert missing == set(CONDITIONAL), sorted(missing)
    for expr in dashboard_queries():
        server.api("query", query=expr.replace("$__rate_interval", "1m"))  # raises unless Prometheus accepts it
    assert summary["total"]["requests"] == sum(
        float(r["value"][1]) for r in server.query("last_over_time(loadgen_requests_total[10m])"))


def test_a_scenarios_load_steps_scrape_the_jobs_flow(tmp_path):
    """`loadgen run`: a step that loads the job's Flow scrapes it (key server_metrics, default)."""
    import subprocess
    import sys

    results = tmp_path / "results"
    proc = subprocess.run([str(Path(sys.executable).parent / "loadgen"), "run", "scenarios/smoke.yml", "--results-dir",
                           str(results), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    query = json.loads((results / "smoke" / "point1_rep1" / "03-query" / "summary.json").read_text())
    assert "--server-metrics pid:" in query["run"]["command"]
    server = query["server"]
    problems = {url: s["problem"] for url, s in server["sources"].items() if s["problem"]}
    assert not problems, f"{problems} (an old flow virtualenv? `make venv-flow` pins prometheus_client<0.22)"
    step = results / "smoke" / "point1_rep1" / "03-query"
    sent = query["total"]["requests"] + query["total"]["unfinished"]
    per_interval = max(int(r.split(",")[4]) for r in (step / "timeseries.csv").read_text().splitlines()[1:])
    for name in ("encoder", "indexer"):
        assert abs(server["executors"][name]["requests"] - sent) <= per_interval, (name, server["executors"][name], sent)
        assert query["total"]["requests"] <= server["executors"][name]["requests"] <= sent
    assert (step / "server_metrics.csv").is_file()


def test_a_distributed_master_exports_the_merged_figures(launch_fake_gateway, tmp_path):
    """Workers never scrape or export; the master's last page equals summary.json."""
    gateway = launch_fake_gateway("--delay-ms", "3")
    port = free_port()
    pages, stop = [], threading.Event()
    poller = threading.Thread(target=poll_metrics, args=(port, pages, stop), daemon=True)
    poller.start()
    try:
        proc = run_locust(["-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{gateway}", "--processes", "2",
                           "--arrival-rate", "60", "--prometheus-port", str(port), "--prometheus-linger", "10",
                           *common(tmp_path, seconds=6)], cwd=ROOT, timeout=180)
    finally:
        stop.set()
        poller.join(5)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = summary_of(tmp_path)
    assert summary["workers"] == 2
    last = {}
    for line in pages[-1].splitlines():
        match = re.match(r'loadgen_requests_total\{endpoint="([^"]+)",protocol="grpc"\} (\S+)', line)
        if match:
            last[match.group(1)] = float(match.group(2))
    assert last == {name: e["requests"] for name, e in summary["endpoints"].items()}
    assert re.search(r"^loadgen_offered_rate 60\.0$", pages[-1], re.M), "open loop: the schedule's rate"
    late = sum(float(v) for v in re.findall(r"^loadgen_late_total\{[^}]*\} (\S+)$", pages[-1], re.M))
    assert late == summary["total"]["late"]
    assert "loadgen_users 0.0" in pages[-1] or "loadgen_users 0" in pages[-1], "the users stopped at the end"
