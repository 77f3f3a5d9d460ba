"""A trial judged from its files (written by the run's own TimeSeriesWriter), and the search
driven by trials the test makes up: no Locust here (the runs are in test_capacity_runs.py)."""
import json
from pathlib import Path

import pytest

from loadgen.capacity import driver
from loadgen.capacity.config import CapacityConfig, LoadConfig, WindowConfig
from loadgen.capacity.reader import IntervalReader
from loadgen.capacity.search import SearchConfig
from loadgen.capacity.trial import Trial, Watcher, assess
from loadgen.errors import RequestTimeout
from loadgen.metrics import Metrics
from loadgen.reports.series import TimeSeriesWriter
from loadgen.results import Result
from loadgen.slo import parse_slo

CONFIG = CapacityConfig(load=LoadConfig(argv=("-f", "x.py")), search=SearchConfig(rate_start=50),
                        windows=WindowConfig(warmup_s=1, window_s=2, max_windows=4, interval_s=1),
                        slos=(parse_slo("/search:p99<100ms"),))


def interval(per_s, latency_s, *, failures=0):
    metrics = Metrics()
    for i in range(per_s):
        metrics.add(Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=latency_s, bytes_out=1,
                           docs_sent=4, error=RequestTimeout("x") if i < failures else None))
        metrics.add_time("executor", "encoder", latency_s / 2)  # a breakdown row: not a request
    return metrics


def write_trial(directory: Path, seconds, *, generator=None, per_s=100, latency_s=0.05):
    """A trial directory: ``seconds`` one-second intervals, then its summary.json."""
    writer = TimeSeriesWriter(directory, start_epoch=1000.0)
    for second in range(seconds):
        writer.write_interval(interval(per_s, latency_s), start_epoch=1000.0 + second,
                              end_epoch=1001.0 + second)
    writer.close()
    total = {"requests": per_s * seconds, "failures": 0, "rps": float(per_s), "docs_per_s": 4.0 * per_s,
             "late": 0, "latency_ms": {}}
    summary = {"endpoints": {"/search": total}, "total": total, "duration_s": float(seconds)}
    if generator is not None:
        summary["generator"] = generator
    (directory / "summary.json").write_text(json.dumps(summary))
    return summary


def test_the_reader_keeps_request_keys_and_reads_only_what_was_appended(tmp_path):
    writer = TimeSeriesWriter(tmp_path, start_epoch=0.0)
    reader = IntervalReader(tmp_path)
    writer.write_interval(interval(10, 0.02), start_epoch=0.0, end_epoch=1.0)
    assert [(s.start_s, s.end_s, s.endpoints["/search"].requests) for s in reader.poll()] == [(0.0, 1.0, 10)]
    writer.write_interval(interval(20, 0.04, failures=5), start_epoch=1.0, end_epoch=2.002)
    spans = reader.poll()
    assert [(s.start_s, s.end_s) for s in spans] == [(0.0, 1.0), (1.0, 2.002)]
    second = spans[1].endpoints["/search"]
    assert (second.requests, second.failures, second.latency.count) == (20, 5, 15)
    assert list(spans[1].endpoints) == ["/search"], "the per-Executor breakdown is not a request"
    assert reader.poll() == spans  # nothing new appended: the same intervals
    writer.close()


def test_a_steady_trial_holds_with_its_last_three_windows(tmp_path):
    summary = write_trial(tmp_path, 9)
    trial = assess(tmp_path, CONFIG, rate=100.0, users=10, summary=summary)
    assert (trial.verdict, trial.stable, trial.windows) == ("held", True, 4)
    assert trial.achieved_rate == 100.0 and trial.docs_per_s == 400.0
    assert trial.endpoints["/search"]["requests"] == 600  # 3 windows of 2 s at 100 req/s
    assert set(trial.endpoints["/search"]) == {"requests", "failures", "rps", "docs_per_s", "latency_ms",
                                               "timed_requests"}
    assert trial.endpoints["/search"]["latency_ms"]["p99"] == pytest.approx(50, rel=0.001)


def test_a_saturated_generator_gives_its_verdict_whatever_the_figures(tmp_path):
    summary = write_trial(tmp_path, 9, generator={"processes": 1, "cpu_pct_max": 99.0, "saturated": True,
                                                  "loop_lag_ms": {"p50": 5, "p99": 80, "max": 120},
                                                  "reason": "event-loop lag p99 80 ms"})
    trial = assess(tmp_path, CONFIG, rate=100.0, users=10, summary=summary)
    assert (trial.verdict, trial.reason) == ("generator-saturated", "event-loop lag p99 80 ms")


def test_a_trial_without_a_complete_window_is_unstable(tmp_path):
    summary = write_trial(tmp_path, 2)
    trial = assess(tmp_path, CONFIG, rate=100.0, users=10, summary=summary)
    assert (trial.verdict, trial.windows, trial.stable) == ("unstable", 0, False)


def test_the_watcher_ends_a_trial_once_three_windows_agree_or_all_violate(tmp_path):
    shown = []
    watcher = Watcher(tmp_path, CONFIG, shown.append)
    writer = TimeSeriesWriter(tmp_path, start_epoch=0.0)
    ends = []
    for second in range(8):
        writer.write_interval(interval(100, 0.2), start_epoch=second, end_epoch=second + 1)  # p99 200 > 100 ms
        ends.append(watcher(second))
    writer.close()
    # warm-up 1 s, windows of 2 s: the 3rd window is complete after 7 intervals
    assert ends == [False] * 6 + [True, False] and shown == list(range(8))


def fake_trial(verdict):
    return Trial(offered_rate=0.0, achieved_rate=0.0, windows=3, stable=True, verdict=verdict, reason=verdict,
                 endpoints={}, dir="d", users=1, docs_per_s=0.0, total={}, late_share=0.0, duration_s=7.0)


class QuietConsole:
    def __init__(self):
        self.lines = []

    def line(self, text):
        self.lines.append(text)

    error = line

    def progress(self, *args):
        pass

    def end_progress(self):
        pass


def search_with(monkeypatch, tmp_path, verdict_at, **changes):
    """find_capacity with trials made up by ``verdict_at(rate)``."""
    indexed = []
    def run_trial(config, rate, directory, show, preindex_docs):
        indexed.append(preindex_docs)
        verdict = verdict_at(rate)
        if verdict == "interrupt":
            raise KeyboardInterrupt
        return Trial(**{**fake_trial(verdict).__dict__, "offered_rate": rate, "achieved_rate": rate,
                        "dir": directory.name})
    monkeypatch.setattr(driver, "run_trial", run_trial)
    config = CapacityConfig(**{**CONFIG.__dict__, "results_dir": tmp_path, **changes})
    result = driver.find_capacity(config, console=QuietConsole())
    assert indexed == ([config.load.preindex_docs] + [0] * len(indexed))[:len(indexed)], "the first run indexes"
    return result, json.loads((tmp_path / "capacity.json").read_text())


def test_a_saturated_generator_stops_the_search(monkeypatch, tmp_path):
    result, data = search_with(monkeypatch, tmp_path, lambda rate: "generator-saturated" if rate >= 200 else "held",
                               load=LoadConfig(argv=("-f", "x.py"), preindex_docs=1000))
    assert (result.max_rate, result.limit, driver.exit_code(result)) == (100, "generator", 0)
    assert [t["offered_rate"] for t in data["trials"]] == [50, 100, 200]
    assert data["limit"] == "generator" and data["max_rate"] == 100 and (tmp_path / "capacity.html").is_file()


def test_no_rate_holds_exit_3(monkeypatch, tmp_path):
    result, data = search_with(monkeypatch, tmp_path, lambda rate: "violated",
                               search=SearchConfig(rate_start=8, rate_min=2))
    assert (data["max_rate"], data["max_docs_per_s"], data["limit"]) == (None, None, "slo")
    assert [t["offered_rate"] for t in data["trials"]] == [8, 4, 2] and driver.exit_code(result) == 3


def test_an_interrupt_keeps_what_the_search_has(monkeypatch, tmp_path):
    result, data = search_with(monkeypatch, tmp_path, lambda rate: "interrupt" if rate > 100 else "held")
    assert (data["max_rate"], data["limit"], driver.exit_code(result)) == (100, "interrupted", 130)
    assert len(data["trials"]) == 2


def test_max_time_starts_no_trial_that_cannot_finish(monkeypatch, tmp_path):
    result, data = search_with(monkeypatch, tmp_path, lambda rate: "held", max_time_s=6.5)  # shortest trial: 7 s
    assert (data["trials"], data["limit"], driver.exit_code(result)) == ([], "time", 3)
