"""Windows of a trial: warm-up cut, grouping, merged percentiles, agreement with sampling error."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.capacity.windows import (Gauge, Span, agree, complete_windows, cut_windows, disagreements, figures,
                                      gate_figures, gauges_of, merge_spans, violated_throughout)
from loadgen.metrics import EndpointStats, LatencyHistogram
from loadgen.reports.summary import latency_figures
from loadgen.slo import parse_slo


def stats(latencies_s, failures=0):
    out = EndpointStats(requests=len(latencies_s) + failures, failures=failures)
    for value in latencies_s:
        out.latency.record(value)
    return out


def span(start, end, latencies_s=(), *, name="/search", failures=0):
    return Span(start, end, {name: stats(latencies_s, failures)})


def seconds(n, *, start=0.0, length=1.0, per_s=100, draw=lambda rng: 0.05, seed=0):
    rng = random.Random(seed)
    return [span(start + i * length, start + (i + 1) * length, [draw(rng) for _ in range(per_s)]) for i in range(n)]


@pytest.mark.parametrize("warmup, window, ends, expected", [
    (3, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9], [(3, 5), (5, 7), (7, 9)]),  # warm-up intervals dropped, pairs
    (2.5, 2, [1, 2, 3, 4, 5, 6], [(3, 5)]),  # the warm-up is rounded up to whole intervals
    (0, 3, [1, 2, 3, 4, 5, 6, 6.2], [(0, 3), (3, 6)]),  # the last, partial interval is no window
    (0, 1, [1, 2, 2.9], [(0, 1), (1, 2)]),  # not even when a window is one interval long
    (1, 2, [1.003, 2.004, 3.01, 4.02, 5.02, 5.2], [(1.003, 3.01), (3.01, 5.02)]),  # ticker drift
    (0, 1.4, [1, 2, 3], [(0, 1), (1, 2), (2, 3)]),  # windows are whole intervals (round(1.4) = 1)
])
def test_cut_windows(warmup, window, ends, expected):
    spans, start = [], 0.0
    for end in ends:
        spans.append(span(start, end, [0.01]))
        start = end
    windows = cut_windows(spans, warmup_s=warmup, window_s=window, interval_s=1.0)
    assert [(w.start_s, w.end_s) for w in windows] == expected
    assert complete_windows(spans, warmup_s=warmup, window_s=window, interval_s=1.0) >= len(windows)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.floats(0.0001, 10), min_size=1, max_size=50), min_size=1, max_size=6))
def test_a_window_merges_histograms_exactly(values):
    """A window's percentiles are those of one histogram of all its values (never averaged)."""
    merged = merge_spans([span(i, i + 1, v) for i, v in enumerate(values)])
    whole = LatencyHistogram()
    for value in (v for vs in values for v in vs):
        whole.record(value)
    assert merged.endpoints["/search"].latency.percentiles_ms([50, 99, 99.9]) == whole.percentiles_ms([50, 99, 99.9])
    assert merged.endpoints["/search"].requests == sum(map(len, values))


def test_figures_have_summary_keys_and_rates_per_second_of_the_span():
    window = merge_spans([span(0, 1, [0.01] * 90, failures=10), span(1, 2, [0.03] * 100)])
    out = figures(window, docs_per_request={"/search": 8})
    search = out["endpoints"]["/search"]
    assert (search["requests"], search["failures"], search["rps"], search["docs_per_s"]) == (200, 10, 100.0, 760.0)
    assert search["latency_ms"]["p50"] == pytest.approx(30, rel=0.01) and out["total"]["requests"] == 200
    assert window.endpoints["/search"].docs == 0, "figures leave the window as it was"


@pytest.mark.parametrize("bounds, stability, expected", [
    ([(100, 100), (110, 110), (120, 120)], 0.10, True),  # all within 10 % of 109
    ([(100, 100), (130, 130)], 0.10, False),  # 100 * 1.1 < 130 * 0.9
    ([(100, 100), (130, 130)], 0.15, True),
    ([(90, 110), (120, 135)], 0.0, False),
    ([(90, 121), (120, 135)], 0.0, True),  # sampling errors overlap
])
def test_agree(bounds, stability, expected):
    assert agree(bounds, stability) is expected


def test_steady_windows_agree_despite_sampling_noise():
    """300 requests per window from one distribution: their p99 (the 3rd highest) moves by
    far more than 10 %, yet it is the same distribution -- stable in (nearly) every case."""
    gauge = [Gauge("/search", "p99")]
    stable = 0
    for seed in range(20):
        windows = seconds(3, per_s=300, draw=lambda rng: 0.02 + rng.expovariate(1 / 0.01), seed=seed)
        stable += not disagreements(windows, gauge, stability=0.10)
    assert stable >= 18


def test_a_growing_latency_or_a_falling_rate_is_named():
    gauge = [Gauge("/search", "p99")]
    growing = [span(i, i + 1, [0.05 * (i + 1)] * 2000) for i in range(3)]
    assert disagreements(growing, gauge, stability=0.10) == ["/search p99 50/100/150 ms"]
    falling = [span(i, i + 1, [0.01] * n) for i, n in enumerate((2000, 1500, 1000))]
    assert disagreements(falling, gauge, stability=0.10) == ["achieved rate 2000/1500/1000 req/s"]
    assert disagreements(growing[:2], gauge, stability=0.10) == ["only 2 of 3 windows measured"]
    other = [span(i, i + 1, [0.01] * 100, name="/index") for i in range(3)]
    assert disagreements(other, gauge, stability=0.1) == ["/search p99: no requests in some windows"]


def test_gauges_are_the_latency_gates_once():
    slos = [parse_slo(t) for t in ("/search:p99<200ms", "/search:p99<=150ms", "p50<1s", "failures<1%", "rps>10")]
    assert gauges_of(slos) == [Gauge("/search", "p99"), Gauge(None, "p50")]


def test_violated_throughout_needs_every_one_of_the_last_windows():
    gates = [parse_slo("/search:p99<60ms"), parse_slo("failures<1%"), parse_slo("docs_per_s>1000")]
    slow = [span(i, i + 1, [0.08] * 100) for i in range(4)]
    assert violated_throughout(slow, gates) == ["/search:p99<60ms"]
    mixed = slow[:3] + [span(3, 4, [0.05] * 100)]
    assert violated_throughout(mixed, gates) == []
    failing = [span(i, i + 1, [0.01] * 90, failures=10) for i in range(3)]
    assert violated_throughout(failing, gates) == ["failures<1%"]


def test_gate_figures_match_the_summary_figures():
    window = merge_spans(seconds(3, per_s=500, draw=lambda rng: rng.uniform(0.01, 0.2)))
    gates = [parse_slo(t) for t in ("/search:p99<1s", "/search:p50<1s", "/search:mean<1s", "p95<1s")]
    cheap = gate_figures(window, gates)
    full = latency_figures(window.endpoints["/search"])
    for metric in ("p50", "p99", "mean"):
        assert cheap["endpoints"]["/search"]["latency_ms"][metric] == pytest.approx(full[metric], abs=0.01)
    assert cheap["total"]["latency_ms"]["p95"] == pytest.approx(full["p95"], abs=0.01)
    assert cheap["total"]["rps"] == 500.0
