"""The server watch against scripted metrics servers whose counts the test knows."""
import csv
import subprocess
import sys
import time

import pytest

from loadgen.observe.processes import Endpoint
from loadgen.observe.watch import ServerWatch
from loadgen.ports import free_port


def jina_page(requests: int, *, runtime: str = "enc/rep-0", mean_s: float = 0.01) -> bytes:
    """A Jina-like page after ``requests`` requests of ``mean_s`` seconds each."""
    return (f'# TYPE jina_successful_requests_total counter\n'
            f'jina_successful_requests_total{{runtime_name="{runtime}"}} {requests}.0\n'
            f'# TYPE jina_failed_requests_total counter\n'
            f'jina_failed_requests_total{{runtime_name="{runtime}"}} 0.0\n'
            f'# TYPE jina_process_request_seconds summary\n'
            f'jina_process_request_seconds_count{{executor="E",executor_endpoint="/search",runtime_name="{runtime}"}} '
            f'{requests}.0\n'
            f'jina_process_request_seconds_sum{{executor="E",executor_endpoint="/search",runtime_name="{runtime}"}} '
            f'{requests * mean_s}\n').encode()


def steady(step: int, runtime: str = "enc/rep-0"):
    """The n-th GET sees ``step * n`` requests."""
    return lambda n: (200, jina_page(step * n, runtime=runtime), 0.0)


def watch_for(tmp_path, urls, **kwargs):
    messages = []
    watch = ServerWatch(urls=tuple(urls), directory=tmp_path, timeout_s=0.5, report=messages.append, **kwargs)
    return watch, messages


def rows(tmp_path):
    with open(tmp_path / "server_metrics.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def test_increases_since_the_baseline(tmp_path, metrics_server):
    url, server = metrics_server(steady(10))
    watch, messages = watch_for(tmp_path, [url])
    watch.start(start_epoch=0.0)
    for _ in range(3):
        watch.collect()
    summary = watch.close()
    encoder = summary["executors"]["enc"]
    assert encoder["requests"] == 30 == 10 * (server.gets - 1), "what happened after the baseline GET"
    assert encoder["processing_ms"]["calls"] == 30 and encoder["processing_ms"]["mean"] == pytest.approx(10.0)
    assert encoder["processing_ms"]["p99"] is None and "quantiles_note" in summary
    assert summary["sources"][url]["scrapes"] == 4 and summary["sources"][url]["problem"] is None
    assert summary["intervals"] == 3 and messages == []
    counted = [r for r in rows(tmp_path) if r["metric"] == "jina_successful_requests"]
    assert [float(r["increase"]) for r in counted] == [10.0, 10.0, 10.0]
    assert all(float(r["rate_per_s"]) > 0 and r["runtime"] == "enc/rep-0" for r in counted)


def test_down_slow_and_garbage_sources_are_reported_once_and_nothing_is_lost(tmp_path, metrics_server):
    good, _ = metrics_server(steady(7, "good/rep-0"))
    # fails on its 2nd and 3rd GET: the 4th covers the gap
    flaky, flaky_server = metrics_server(lambda n: (500, b"oops", 0.0) if n in (2, 3) else
                                         (200, jina_page(5 * n, runtime="flaky/rep-0"), 0.0))
    slow, _ = metrics_server(lambda n: (200, jina_page(n, runtime="slow/rep-0"), 2.0))
    garbage, _ = metrics_server(lambda n: (200, b"<html>hello</html>", 0.0))
    down = f"http://127.0.0.1:{free_port()}/metrics"
    watch, messages = watch_for(tmp_path, [good, flaky, slow, garbage, down])
    watch.start(start_epoch=0.0)
    for _ in range(4):
        watch.collect()
    summary = watch.close()
    assert summary["executors"]["good"]["requests"] == 7 * 4
    assert summary["executors"]["flaky"]["requests"] == 5 * 5 - 5 * 1, "the gap is counted by the next good read"
    assert flaky_server.gets == 5
    sources = summary["sources"]
    assert sources[flaky]["failures"] == {"http": 2} and sources[flaky]["problem"].startswith("http: HTTP 500")
    assert sources[slow]["failures"] == {"slow": 5} and "slow" not in summary["executors"]
    assert sources[garbage]["failures"] == {"garbage": 5} and sources[down]["failures"] == {"down": 5}
    assert sources[good]["problem"] is None
    for url in (flaky, slow, garbage, down):
        assert sum(1 for m in messages if url in m) == 1, (url, messages)
    assert len(messages) == 4


def test_a_restarted_server_counts_from_its_restart(tmp_path, metrics_server):
    counts = {1: 100, 2: 120, 3: 4, 4: 10}  # the server restarted between the 2nd and 3rd GET
    url, _ = metrics_server(lambda n: (200, jina_page(counts[n]), 0.0))
    watch, _ = watch_for(tmp_path, [url])
    watch.start(start_epoch=0.0)
    for _ in range(3):
        watch.collect()
    assert watch.close()["executors"]["enc"]["requests"] == 20 + 4 + 6


def test_a_sharded_executor_is_counted_at_its_head(tmp_path, metrics_server):
    urls = [metrics_server(steady(12, "idx/head"))[0], metrics_server(steady(12, "idx/shard-0/rep-0"))[0],
            metrics_server(steady(12, "idx/shard-1/rep-0"))[0], metrics_server(steady(12, "idx/uses_after-0"))[0],
            metrics_server(steady(3, "enc/rep-0"))[0], metrics_server(steady(4, "enc/rep-1"))[0],
            metrics_server(steady(7, "gateway/rep-0"))[0]]
    watch, _ = watch_for(tmp_path, urls)
    watch.start(start_epoch=0.0)
    watch.collect()
    watch.collect()
    summary = watch.close()
    assert summary["executors"]["idx"]["requests"] == 24, "the head, not its shards or uses_after"
    assert summary["executors"]["idx"]["processing_ms"]["calls"] == 48, "both shards' calls"
    assert summary["executors"]["enc"]["requests"] == 14, "replicas add up"
    assert summary["gateway"]["requests"] == 14


def test_a_local_flows_processes_are_sampled(tmp_path, metrics_server):
    """Two stand-ins for Flow processes: one spinning (one thread: at most one core), one asleep."""
    urls = {name: metrics_server(steady(1, f"{name}/rep-0"))[0] for name in ("busy", "idle")}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE, text=True)
    assert idle.stdout.readline() == "ready\n"  # its start-up is over before the sampling starts
    idle.stdout.close()
    pids = {busy.pid: "busy", idle.pid: "idle"}
    try:
        watch, messages = watch_for(tmp_path, [], flow_pids=(busy.pid, idle.pid),
                                    find=lambda pid: [Endpoint(url=urls[pids[pid]], pid=pid)])
        watch.start(start_epoch=0.0)
        time.sleep(1.0)
        watch.collect()
        summary = watch.close()
    finally:
        for process in (busy, idle):
            process.kill()
            process.wait()
    names = {p["name"]: p["pid"] for p in summary["processes"]}
    assert names == {"busy/rep-0": busy.pid, "idle/rep-0": idle.pid}
    assert 1.0 < summary["executors"]["busy"]["cpu_pct"]["max"] <= 105.0
    assert summary["executors"]["idle"]["cpu_pct"]["max"] < 1.0
    assert summary["executors"]["busy"]["rss_mb_max"] > 1
    cpu = [r for r in rows(tmp_path) if r["metric"] == "process_cpu_percent"]
    assert {r["runtime"] for r in cpu} == {"busy/rep-0", "idle/rep-0"} and {r["source"] for r in cpu} == {"os"}
    assert messages == []


def test_a_pid_that_is_gone_and_a_flow_without_metrics_are_notes(tmp_path):
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        watch, messages = watch_for(tmp_path, [], flow_pids=(idle.pid, 999_999_999), find=lambda pid: [])
        watch.start(start_epoch=0.0)
        watch.collect()
        summary = watch.close()
    finally:
        idle.kill()
        idle.wait()
    assert len(messages) == 2 and "999999999" in messages[0] + messages[1]
    assert summary["notes"] == messages and [p["name"] for p in summary["processes"]] == ["flow"]


def histogram_page(n: int) -> bytes:
    """A server whose processing time is a histogram: each GET, 100 more calls spread as
    10 <= 5 ms, 60 in (5, 10] ms, 25 in (10, 50] ms, 5 in (50, 100] ms."""
    cumulative = {"0.005": 10 * n, "0.01": 70 * n, "0.05": 95 * n, "0.1": 100 * n, "+Inf": 100 * n}
    lines = ["# TYPE jina_process_request_seconds histogram"]
    labels = 'executor="E",executor_endpoint="/search",runtime_name="hist/rep-0"'
    lines += [f'jina_process_request_seconds_bucket{{{labels},le="{le}"}} {count}' for le, count in cumulative.items()]
    lines += [f"jina_process_request_seconds_count{{{labels}}} {100 * n}",
              f"jina_process_request_seconds_sum{{{labels}}} {1.5 * n}",
              "# TYPE queue_depth histogram",
              f'queue_depth_bucket{{le="1"}} {50 * n}', f'queue_depth_bucket{{le="10"}} {100 * n}',
              f'queue_depth_bucket{{le="+Inf"}} {100 * n}', f"queue_depth_count {100 * n}", f"queue_depth_sum {300 * n}"]
    return ("\n".join(lines) + "\n").encode()


def test_histograms_give_p50_and_p99_per_interval_and_for_the_run(tmp_path, metrics_server):
    url, _ = metrics_server(lambda n: (200, histogram_page(n), 0.0))
    watch, _ = watch_for(tmp_path, [url], metric_names=("queue_depth",))
    watch.start(start_epoch=0.0)
    watch.collect()
    watch.collect()
    timing = watch.close()["executors"]["hist"]["processing_ms"]
    # rank 100 of 200 (run) / 50 of 100 (interval) is in (5, 10] ms, 40 of its 60 calls in: 5 + 5 * 40/60
    assert timing["calls"] == 200 and timing["p50"] == pytest.approx(5 + 5 * 40 / 60, abs=1e-3)
    # rank 198 of 200 lies in (50, 100] ms, 8 of its 10 calls in
    assert timing["p99"] == pytest.approx(50 + 50 * 8 / 10, abs=1e-3) and timing["mean"] == pytest.approx(15.0)
    assert "quantiles_note" not in watch.summary()
    queue = [r for r in rows(tmp_path) if r["metric"] == "queue_depth"]
    assert [float(r["p50"]) for r in queue] == [1.0, 1.0] and float(queue[0]["p99"]) == pytest.approx(1 + 9 * 49 / 50)
