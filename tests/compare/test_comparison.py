"""Verdicts on results whose distributions the test chose (files written as a run writes
them): a real slowdown is ``worse``, the same distribution is ``same``, repetitions judge by
their own spread, capacity searches by their brackets."""
import math

import numpy as np
import pytest

from loadgen.compare.comparison import compare
from loadgen.compare.records import Settings
from loadgen.compare.runs import load
from loadgen.compare.stats import student_t_sf
from loadgen.compare.thresholds import Thresholds
from loadgen.errors import ConfigError

from .conftest import lognormal_intervals, write_capacity, write_run, write_scenario


def _run(path, seed, **medians):
    rng = np.random.default_rng(seed)
    return write_run(path, {f"/{name}": lognormal_intervals(rng, intervals=30, per=100, median_ms=ms, sigma=0.1)
                            for name, ms in medians.items()})


def _rows(comparison, name=None):
    return {(r.name, r.metric): r for r in comparison.rows if name in (None, r.name)}


def test_a_slower_endpoint_is_worse_and_the_unchanged_one_same(tmp_path):
    base = load(_run(tmp_path / "base", 1, search=10, index=5), "BASE")
    new = load(_run(tmp_path / "new", 2, search=13, index=5), "NEW")
    rows = _rows(compare(base, new))
    for metric in ("p50", "p95", "p99"):
        assert rows[("/search", metric)].verdict == "worse", rows[("/search", metric)]
        assert rows[("/search", metric)].change == pytest.approx(0.3, abs=0.05)
        assert rows[("/index", metric)].verdict == "same"
    # 3000 requests per run: p99.9 has 3 beyond it, too few for a verdict
    assert rows[("/search", "p999")].verdict == "same" and "a verdict needs 10" in rows[("/search", "p999")].note
    assert rows[("/search", "p50")].method == "30 intervals / 30 intervals"
    assert rows[("/search", "p50")].confidence > 0.999


def test_the_same_distribution_is_same_everywhere(tmp_path):
    comparison = compare(load(_run(tmp_path / "a", 3, search=10), "BASE"), load(_run(tmp_path / "b", 4, search=10), "NEW"))
    assert {r.verdict for r in comparison.rows} == {"same"}
    assert not comparison.regressions


def test_failures_are_compared_in_percentage_points(tmp_path):
    rng = np.random.default_rng(5)
    latencies = lognormal_intervals(rng, intervals=20, per=100, median_ms=10)
    base = write_run(tmp_path / "base", {"/search": latencies})
    new = write_run(tmp_path / "new", {"/search": latencies}, failures={"/search": [3] * 20})
    row = _rows(compare(load(base, "BASE"), load(new, "NEW")))[("/search", "failures")]
    assert row.base == 0.0 and row.new == pytest.approx(100 * 3 / 103)
    assert row.verdict == "worse" and row.change_text() == "+2.91pp"


def test_executors_are_compared_by_latency_and_limits_can_name_them(tmp_path):
    def run(path, seed, encoder_ms):
        rng = np.random.default_rng(seed)
        return write_run(path, {"/search": lognormal_intervals(rng, intervals=20, per=100, median_ms=12, sigma=0.1)},
                         executors={"encoder": lognormal_intervals(rng, intervals=20, per=100, median_ms=encoder_ms,
                                                                   sigma=0.1)})
    base, new = load(run(tmp_path / "base", 1, 4), "BASE"), load(run(tmp_path / "new", 2, 5), "NEW")
    rows = _rows(compare(base, new), "encoder")
    assert set(rows) == {("encoder", m) for m in ("p50", "p95", "p99", "p999")}  # no req/s or failures
    assert rows[("encoder", "p50")].kind == "executor" and rows[("encoder", "p50")].verdict == "worse"
    relaxed = Settings(thresholds=Thresholds.parse(["encoder:p50:+30%", "encoder:p95:+30%", "encoder:p99:+30%"]))
    assert {r.verdict for r in compare(base, new, relaxed).rows if r.name == "encoder"} == {"same"}


def _reps(tmp_path, side, medians, seed):
    return {("j", "02-query", rep): _run(tmp_path / f"{side}-run{rep}", seed + rep, search=ms)
            for rep, ms in enumerate(medians, start=1)}


def _expected_confidence(base_values, new_values):
    """Welch-style t on the logs of the repetitions' figures, as docs/compare.md states it."""
    b, n = np.log(base_values), np.log(new_values)
    se = max(b.std(ddof=1) / math.sqrt(len(b)), n.std(ddof=1) / math.sqrt(len(n)))
    return 1 - student_t_sf(abs(n.mean() - b.mean()) / (se * math.sqrt(2)), min(len(b), len(n)) - 1)


def test_repetitions_with_spread_judge_by_their_spread(tmp_path):
    base = write_scenario(tmp_path / "base", _reps(tmp_path, "base", [10, 14, 18], seed=10))
    new = write_scenario(tmp_path / "new", _reps(tmp_path, "new", [11.5, 16, 21], seed=20))
    comparison = compare(load(base, "BASE"), load(new, "NEW"))
    row = _rows(comparison)[("/search", "p50")]
    assert row.set == "j · 02-query" and row.method == "3 repetitions / 3 repetitions"
    figures = {side: [load(d / "j" / f"point1_rep{r}" / "02-query", side).summary["endpoints"]["/search"]
                      ["latency_ms"]["p50"] for r in (1, 2, 3)] for side, d in (("base", base), ("new", new))}
    assert row.base == pytest.approx(math.exp(np.mean(np.log(figures["base"]))))
    assert row.change > 0.10  # beyond the limit ...
    assert row.confidence == pytest.approx(_expected_confidence(figures["base"], figures["new"]), abs=1e-4)
    assert row.confidence < 0.99 and row.verdict == "same"  # ... but within what the repetitions spread over
    # One repetition against another, without the spread, calls the same data a regression:
    single = compare(load(new / "j/point1_rep3/02-query", "NEW"), load(base / "j/point1_rep1/02-query", "BASE"))
    assert _rows(single)[("/search", "p50")].verdict == "better"
    single = compare(load(base / "j/point1_rep1/02-query", "BASE"), load(new / "j/point1_rep3/02-query", "NEW"))
    assert _rows(single)[("/search", "p50")].verdict == "worse"


def test_tight_repetitions_find_the_same_change(tmp_path):
    base = write_scenario(tmp_path / "base", _reps(tmp_path, "base", [10, 10.2, 9.8], seed=30))
    new = write_scenario(tmp_path / "new", _reps(tmp_path, "new", [11.5, 11.7, 11.3], seed=40))
    row = _rows(compare(load(base, "BASE"), load(new, "NEW")))[("/search", "p50")]
    assert row.verdict == "worse" and row.confidence > 0.99


def test_a_single_run_against_repetitions_takes_on_their_spread(tmp_path):
    base = write_scenario(tmp_path / "base", _reps(tmp_path, "base", [10, 14, 18], seed=50))
    single = _run(tmp_path / "one", 60, search=16)
    row = _rows(compare(load(base, "BASE"), load(single, "NEW")))[("/search", "p50")]
    assert row.method == "3 repetitions / 30 intervals, spread of 3 repetitions"
    assert row.verdict == "same"


@pytest.mark.parametrize("new_rate, trials, verdict", [
    (60.0, [(60, "held"), (80, "violated")], "worse"),      # [60, 80) wholly below [100, 120)
    (95.0, [(95, "held"), (130, "violated")], "same"),      # -5 %: within the limit
    (85.0, [(85, "held"), (110, "unstable")], "same"),      # -15 %, but the brackets overlap
    (None, [(50, "violated")], "worse"),                    # nothing holds any more
    (150.0, [(150, "held"), (170, "generator-saturated")], "better"),
])
def test_capacity_searches_compare_by_their_brackets(tmp_path, new_rate, trials, verdict):
    base = write_capacity(tmp_path / "base", 100.0, [(100, "held"), (120, "violated"), (200, "violated")])
    new = write_capacity(tmp_path / "new", new_rate, trials)
    (row,) = compare(load(base, "BASE"), load(new, "NEW")).rows
    assert (row.metric, row.verdict) == ("max_rate", verdict)
    assert row.method.startswith("search brackets [100, 120) / ")


def test_scenario_steps_pair_by_job_sweep_point_and_step(tmp_path):
    def scenario(name, points, seed):
        return write_scenario(tmp_path / name, {("sweep", "02-query", 1, (("replicas", replicas),)):
                                                _run(tmp_path / f"{name}-{replicas}", seed + replicas, search=ms)
                                                for replicas, ms in points.items()})
    base = scenario("base", {1: 10}, 70)
    new = scenario("new", {2: 12}, 80)
    with pytest.raises(ConfigError, match="^nothing in common: "):
        compare(load(base, "BASE"), load(new, "NEW"))
    both = scenario("both", {1: 10, 2: 20}, 90)
    comparison = compare(load(both, "BASE"), load(new, "NEW"))
    assert {r.set for r in comparison.rows} == {"sweep · replicas=2 · 02-query"}
    assert comparison.only_in_base == ["sweep · replicas=1 · 02-query"]
    assert _rows(comparison)[("/search", "p50")].verdict == "better"  # 20 ms -> 12 ms
