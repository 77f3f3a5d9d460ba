"""``stability`` per endpoint, ``warmup_requests`` and the generator's rows: figures from
synthetic interval logs and metrics whose truth the test sets."""
import numpy as np
import pytest

from loadgen.metrics import LatencyHistogram, Metrics
from loadgen.reports.html import render
from loadgen.reports.series import Interval
from loadgen.reports.stability import Span, counts_agree, stability, stability_lines, windows
from loadgen.reports.summary import add_warmup, summarize
from loadgen.reports.text import render_table
from loadgen.results import Result
from loadgen.selfcheck import GENERATOR_TYPE, LOOP_LAG


def _hist(values_ms):
    hist = LatencyHistogram()
    for ms in values_ms:
        hist.record(ms / 1000)
    return hist


T0 = 1_700_000_000.0  # the run's start, epoch s


def _run(rates, p99s, *, length=1.0):
    """One interval per (rate, p99) from T0 on: ``rate * length`` requests, 98% at 10 ms, the
    rest at ``p99`` ms; as the processes' spans and as interval-log lines (with the
    generator's loop lag, which is no request)."""
    spans, slots = [], []
    for i, (rate, p99) in enumerate(zip(rates, p99s)):
        n = int(rate * length)
        tail = max(1, round(n * 0.02))
        at = i * length
        spans.append(Span(T0 + at, T0 + at + length, {"/search": n}))
        slots.append(Interval("grpc:/search", at, length, _hist([10.0] * (n - tail) + [p99] * tail)))
        slots.append(Interval(f"{GENERATOR_TYPE}:{LOOP_LAG}", at, length, _hist([0.3] * 100)))
    return spans, slots


def _stability(run, *, since=0.0, until=None, interval_s=1.0):
    spans, slots = run
    until = T0 + (until if until is not None else max(s.end for s in spans) - T0)
    return stability(spans, slots, series_start=T0, since=T0 + since, until=until, interval_s=interval_s)


def test_a_steady_end_is_stable_and_the_windows_are_the_last_thirds():
    result = _stability(_run([100] * 9, [30.0] * 9))
    assert list(result) == ["/search"]  # the generator's rows are not an endpoint
    s = result["/search"]
    assert s["stable"] is True and s["reason"] is None and s["window_s"] == 3.0
    assert s["rps"] == [100.0, 100.0, 100.0] and s["p99_ms"] == [pytest.approx(30.0, rel=1e-3)] * 3
    assert s["rps_deviation_pct"] == 0.0


def test_a_rate_step_in_the_last_window_is_unsteady_with_the_windows_rates():
    # 10 s: windows of 3 s, the first second is left out; windows 1-4, 4-7, 7-10 s.
    rates = [100, 100, 100, 100, 100, 100, 100, 160, 160, 160]
    s = _stability(_run(rates, [30.0] * 10))["/search"]
    truth = [np.mean(rates[i:i + 3]) for i in (1, 4, 7)]
    mean = np.mean(truth)
    assert s["rps"] == pytest.approx(truth) and s["stable"] is False
    assert s["windows_s"] == [[1.0, 4.0], [4.0, 7.0], [7.0, 10.0]]  # seconds after the run's start
    assert s["rps_deviation_pct"] == pytest.approx(100 * max(abs(t - mean) for t in truth) / mean, abs=0.05)
    assert s["reason"].startswith("req/s deviates") and s["reason"].endswith("(limit 10%)")


def test_a_delta_is_counted_over_the_time_it_covers_not_where_it_landed():
    """A worker's 3 s reports straddle the windows: spread evenly, a steady rate stays steady."""
    spans = [Span(T0 + 0.7 + 3 * i, T0 + 3.7 + 3 * i, {"/search": 300}) for i in range(4)]  # 100/s from 0.7 to 12.7 s
    slots = [Interval("grpc:/search", 3.0 * i, 3.0, _hist([10.0] * 300)) for i in range(5)]
    s = stability(spans, slots, series_start=T0, since=T0 + 0.7, until=T0 + 12.7, interval_s=3.0)["/search"]
    assert s["rps"] == pytest.approx([100.0] * 3) and s["window_s"] == 3.0 and s["stable"] is True
    assert s["windows_s"] == [[3.7, 6.7], [6.7, 9.7], [9.7, 12.7]]


def test_req_s_of_few_requests_is_judged_with_its_counting_error():
    """``make demo``'s /index: ~140 requests per 10 s window, drawn at random from the task
    mix, read 14.3, 14.6, 12.2 req/s (10.9% from the mean) on a steady run: chance, not a drift."""
    spans = [Span(T0 + 10 * i, T0 + 10 * i + 10, {"/index": n}) for i, n in enumerate((143, 146, 122))]
    slots = [Interval("grpc:/index", 10.0 * i, 10.0, _hist([100.0] * 140)) for i in range(3)]
    s = stability(spans, slots, series_start=T0, since=T0, until=T0 + 30.0, interval_s=10.0)["/index"]
    assert s["rps"] == [14.3, 14.6, 12.2] and s["rps_deviation_pct"] == 10.9 and s["stable"] is True


@pytest.mark.parametrize("rates, flagged", [
    ((140, 140, 140), (0.0, 0.01)),      # steady: the old ±10% flagged 31% of these
    ((300, 300, 300), (0.0, 0.01)),      # steady: the old rule 8%
    ((300, 300, 480), (1.0, 1.0)),       # a 60% step (the synthetic step run) is always flagged
    ((1000, 1000, 1250), (0.95, 1.0)),   # with many requests per window, ±10% is the limit again
])
def test_the_counting_allowance_against_simulated_poisson_windows(rates, flagged):
    """Seeded Poisson windows whose true rates are known: the share judged unsteady."""
    counts = np.random.default_rng(7).poisson(rates, size=(2000, 3))
    share = np.mean([not counts_agree(list(c), 0.10) for c in counts])
    assert flagged[0] <= share <= flagged[1], share


def test_a_p99_that_moves_is_unsteady_but_a_small_wobble_is_not():
    # 2000 requests per window: their p99 is known to within a few order statistics
    assert _stability(_run([1000] * 6, [30, 30, 30, 30, 40, 40]))["/search"]["stable"] is False
    assert _stability(_run([1000] * 6, [30, 31, 29, 30, 32, 31]))["/search"]["stable"] is True


def test_a_p99_of_few_requests_is_judged_with_its_sampling_error():
    """200 requests per window, 4 of them slow: the p99 is the 3rd highest value. A steady
    run's windows differ there by chance (here 30 vs 40 ms: one slow request more or less);
    the p99 deviation is reported, but such windows are not flagged."""
    steady = [10.0] * 196 + [30.0, 40.0, 40.0, 40.0]
    wobbly = [10.0] * 196 + [30.0, 30.0, 30.0, 40.0]
    spans = [Span(T0 + 2 * i, T0 + 2 * i + 2, {"/search": 200}) for i in range(3)]
    slots = [Interval("grpc:/search", 2.0 * i, 2.0, _hist(values)) for i, values in enumerate([steady, wobbly, steady])]
    s = stability(spans, slots, series_start=T0, since=T0, until=T0 + 6.0, interval_s=2.0)["/search"]
    assert s["p99_ms"] == [pytest.approx(v, rel=1e-3) for v in (40.0, 30.0, 40.0)]
    assert s["p99_deviation_pct"] > 10 and s["stable"] is True and s["reason"] is None


def test_the_warmup_and_the_stop_are_left_out_and_a_short_run_is_not_judged():
    run = _run([10, 10, 100, 100, 100, 100, 100, 100, 3], [500, 500, 30, 30, 30, 30, 30, 30, 900])
    assert _stability(run)["/search"]["stable"] is False
    assert _stability(run, since=2.0, until=8.0)["/search"]["stable"] is True
    short = _stability(run, since=6.5, until=8.0)["/search"]
    assert short == {"stable": None, "reason": "fewer than 3 report intervals after the warm-up"}
    assert _stability(run, since=2.0, until=8.0, interval_s=2.0)["/search"]["stable"] is True  # windows of 2 s
    assert windows(0.0, 8.9, 2.0) == [pytest.approx(w) for w in ((2.9, 4.9), (4.9, 6.9), (6.9, 8.9))]


def test_unsteady_endpoints_are_flagged_under_the_table():
    summary = {"endpoints": {"/search": {"stability": _stability(_run([1000] * 6, [30, 30, 30, 30, 90, 90]))["/search"]},
                             "/index": {"stability": {"stable": True}}}}
    lines = stability_lines(summary)
    assert len(lines) == 1 and lines[0].startswith("UNSTEADY /search: last 3 windows of 2 s")


def _metrics(counts):
    metrics = Metrics()
    for endpoint, n in counts.items():
        for _ in range(n):
            metrics.add(Result(endpoint=endpoint, protocol="grpc", started_at=0.0, latency_s=0.01, bytes_out=1))
    metrics.add_time(GENERATOR_TYPE, LOOP_LAG, 0.25)
    return metrics


def test_warmup_requests_are_counted_apart_and_the_loop_lag_is_no_request():
    summary = summarize(_metrics({"/search": 40}), duration_s=4.0)
    add_warmup(summary, _metrics({"/search": 7, "/index": 3}), warmup_s=2.0)
    assert summary["warmup_s"] == 2.0 and summary["total"]["warmup_requests"] == 10
    assert summary["endpoints"]["/search"]["warmup_requests"] == 7 and summary["endpoints"]["/search"]["requests"] == 40
    assert summary["endpoints"]["/index"]["requests"] == 0 and summary["endpoints"]["/index"]["warmup_requests"] == 3
    assert summary["total"]["requests"] == 40 and summary["total"]["rps"] == 10.0  # no loop-lag sample counted
    assert LOOP_LAG not in render_table(summary)


def test_the_report_shows_the_loop_lag_over_time_and_not_as_an_endpoint():
    summary = summarize(_metrics({"/search": 4}), duration_s=2.0)
    summary["generator"] = {"processes": 1, "cpu_pct_max": 97.0, "loop_lag_ms": {"p50": 2.0, "p99": 80.0, "max": 120.0},
                            "saturated": True, "reason": "event-loop lag p99 80.0 ms > 20 ms"}
    row = {"timestamp": "1.0", "request_type": "grpc", "name": "/search", "requests": "2", "failures": "0", "rps": "2",
           "p50_ms": "10", "p95_ms": "10", "p99_ms": "10", "max_ms": "10"}
    rows = [{**row, "elapsed_s": str(t)} for t in (1, 2)]
    rows += [{**row, "elapsed_s": str(t), "request_type": GENERATOR_TYPE, "name": LOOP_LAG, "requests": "95",
              "p50_ms": "2", "p99_ms": str(p99), "max_ms": "120"} for t, p99 in ((1, 40), (2, 80))]
    html = render(summary=summary, rows=rows, spectra={})
    section = html[html.index("<h2>Load generator</h2>"):]
    assert "SATURATED (event-loop lag p99 80.0 ms &gt; 20 ms)" in section
    assert section.count("<polyline") == 4  # p50, p99, max and the limit
    assert LOOP_LAG not in html[:html.index("<h2>Load generator</h2>")]
