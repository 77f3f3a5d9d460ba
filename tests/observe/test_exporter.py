"""The live export: what a scrape of /metrics says, checked against the metrics it came from."""
import math
import random
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from loadgen.errors import GatewayStatusError
from loadgen.metrics import Metrics
from loadgen.observe.exporter import Exporter
from loadgen.selfcheck import GENERATOR_TYPE, LOOP_LAG
from loadgen.observe.rates import histogram_quantile
from loadgen.observe.rawhttp import start_listener
from loadgen.observe.scrape import keeper, parse
from loadgen.reports.summary import summarize
from loadgen.results import Result


def result(endpoint, latency, error=None, late=0, protocol="grpc"):
    return Result(endpoint=endpoint, protocol=protocol, started_at=0.0, latency_s=latency, bytes_out=10,
                  bytes_in=10, docs_sent=2, error=error, late=late)


def run_metrics(seed=3) -> Metrics:
    rng, metrics = random.Random(seed), Metrics()
    for _ in range(2000):
        metrics.add(result("/search", rng.lognormvariate(-4.0, 0.5), late=rng.random() < 0.1))
    for _ in range(300):
        metrics.add(result("/index", rng.lognormvariate(-3.5, 0.3)))
    for _ in range(7):
        metrics.add(result("/index", 0.5, error=GatewayStatusError("boom")))
    for _ in range(2000):
        metrics.add_time("executor", "encoder", rng.lognormvariate(-6, 0.4))
    return metrics


def samples(text: str) -> dict:
    """{(sample name, frozenset(labels)): value} of an exposition text."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def test_counts_equal_the_summary_and_the_text_parses():
    metrics = run_metrics()
    exporter = Exporter()
    exporter.update(metrics, users=5)
    page = samples(exporter.render().decode())
    summary = summarize(metrics, duration_s=10.0)
    for endpoint, figures in summary["endpoints"].items():
        labels = {("endpoint", endpoint), ("protocol", "grpc")}
        assert page[("loadgen_requests_total", frozenset(labels))] == figures["requests"]
        assert page[("loadgen_latency_seconds_count", frozenset(labels))] == figures["timed_requests"]
        bucket_inf = page[("loadgen_latency_seconds_bucket", frozenset(labels | {("le", "+Inf")}))]
        assert bucket_inf == figures["timed_requests"]
    failures = page[("loadgen_failures_total", frozenset({("endpoint", "/index"), ("protocol", "grpc"),
                                                          ("kind", "gateway_status")}))]
    assert failures == summary["endpoints"]["/index"]["failures"] == 7
    assert page[("loadgen_users", frozenset())] == 5
    assert page[("loadgen_executor_seconds_count", frozenset({("executor", "encoder")}))] == 2000
    names = {name for name, _ in page}
    assert "loadgen_offered_rate" not in names and "loadgen_late_total" not in names, "closed loop"
    assert "loadgen_generator_loop_lag_seconds_count" not in names, "only when the run measures it"


def test_the_p99_from_the_page_is_within_the_stated_error_of_the_summary():
    from loadgen.observe.hdr_buckets import QUANTILE_ERROR

    metrics = run_metrics()
    exporter = Exporter()
    exporter.update(metrics)
    buckets = {}
    for family in text_string_to_metric_families(exporter.render().decode()):
        for sample in family.samples:
            if sample.name == "loadgen_latency_seconds_bucket" and sample.labels["endpoint"] == "/search":
                buckets[float(sample.labels["le"])] = sample.value
    p99 = summarize(metrics, duration_s=1.0)["endpoints"]["/search"]["latency_ms"]["p99"] / 1000
    assert abs(histogram_quantile(0.99, buckets) / p99 - 1) <= QUANTILE_ERROR


def test_open_loop_figures_and_the_loop_lag_when_present():
    metrics = run_metrics()
    metrics.add_time(GENERATOR_TYPE, LOOP_LAG, 0.004)
    exporter = Exporter()
    exporter.update(metrics, users=2, offered_rate=150.0, open_loop=True)
    page = samples(exporter.render().decode())
    late = page[("loadgen_late_total", frozenset({("endpoint", "/search"), ("protocol", "grpc")}))]
    assert late == metrics.entries[("grpc", "/search")].late > 0
    assert page[("loadgen_offered_rate", frozenset())] == 150.0
    assert page[("loadgen_generator_loop_lag_seconds_count", frozenset())] == 1
    assert ("loadgen_requests_total", frozenset({("endpoint", LOOP_LAG), ("protocol", GENERATOR_TYPE)})) not in page


def test_label_values_are_escaped():
    metrics = Metrics()
    metrics.add(result('/we"ird\\path', 0.01))
    exporter = Exporter()
    exporter.update(metrics)
    page = samples(exporter.render().decode())
    assert page[("loadgen_latency_seconds_count", frozenset({("endpoint", '/we"ird\\path'), ("protocol", "grpc")}))] == 1


def test_the_servers_families_are_passed_on_with_their_source():
    text = (Path(__file__).parent / "data" / "jina_encoder.prom").read_text()
    reading = parse(text, keep=keeper(), source="http://127.0.0.1:5555/metrics")
    exporter = Exporter()
    exporter.update(Metrics(), servers=(reading,))
    page = samples(exporter.render().decode())
    assert page[("jina_successful_requests_total", frozenset({("runtime_name", "encoder/rep-0"),
                                                              ("server", "127.0.0.1:5555")}))] == 15.0
    assert not [name for name, _ in page if name.endswith("_created")]


def test_served_over_http_and_the_final_figures_are_known_to_be_scraped():
    exporter = Exporter()
    exporter.update(run_metrics(), users=1)
    start = lambda fn: threading.Thread(target=fn, daemon=True).start()  # noqa: E731
    listener = start_listener("127.0.0.1", 0, exporter.handle, start_thread=start, on_sent=exporter.sent)
    try:
        assert not exporter.final_figures_served
        with urllib.request.urlopen(f"http://127.0.0.1:{listener.port}/metrics", timeout=5) as reply:
            body = reply.read().decode()
        deadline = time.monotonic() + 5  # the server thread marks it once the reply is out
        while not exporter.final_figures_served and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "loadgen_requests_total" in body and exporter.final_figures_served
        exporter.update(run_metrics(seed=4))
        assert not exporter.final_figures_served, "a new update waits for its own scrape"
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{listener.port}/metrics",
                                                           headers={"User-Agent": "Prometheus/2.42.0"}), timeout=5):
            pass
        deadline = time.monotonic() + 5
        while "Prometheus/2.42.0" not in exporter.served and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not exporter.final_figures_served, "urllib's scraper has not had the new update yet"
        with urllib.request.urlopen(f"http://127.0.0.1:{listener.port}/metrics", timeout=5):
            pass
        deadline = time.monotonic() + 5
        while not exporter.final_figures_served and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exporter.final_figures_served, "every scraper that watched has the final figures"
        with pytest.raises(OSError):
            start_listener("127.0.0.1", listener.port, exporter.handle, start_thread=start)
        request = urllib.request.Request(f"http://127.0.0.1:{listener.port}/metrics", method="POST", data=b"x")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 405
        caught.value.close()
    finally:
        listener.close()


def test_the_bucket_counts_are_cumulative_and_end_at_the_count():
    exporter = Exporter()
    exporter.update(run_metrics())
    metrics = run_metrics()
    requests = [stats for (rtype, _), stats in sorted(metrics.entries.items()) if rtype == "grpc"]
    for row, stats in zip(exporter.snapshot.latency, requests, strict=True):
        assert row.cumulative == sorted(row.cumulative) and row.cumulative[-1] <= row.total == stats.latency.count
        assert math.isclose(row.sum_s, stats.latency.mean_ms() / 1000 * row.total, rel_tol=1e-3)
