"""The rate sequence of a capacity search, against fake trials whose truth is known: a trial
holds when its rate is at most ``threshold``."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.capacity.search import Search, SearchConfig


def run(config, held_up_to, stop_at=None):
    """Drive a search with a fake trial; returns (rates tried, best, limit)."""
    search = Search(config)
    rates = []
    while (rate := search.next_rate()) is not None:
        rates.append(rate)
        assert len(rates) < 200, "the search must end"
        saturated = stop_at is not None and rate >= stop_at  # a saturated trial does not hold, and stops it
        search.record(rate, held=rate <= held_up_to and not saturated, stop="generator" if saturated else None)
    return rates, search.best, search.limit


@pytest.mark.parametrize("config, held_up_to, rates, best, limit", [
    # grow x2 until a failure, then bisect until failed <= held * 1.1
    (SearchConfig(rate_start=50, precision=0.1), 150, [50, 100, 200, 150, 175, 162.5], 150, "slo"),
    # the first trial fails: shrink by the factor until one holds, then bisect
    (SearchConfig(rate_start=100, precision=0.1), 30, [100, 50, 25, 37.5, 31.25, 28.125, 29.6875], 29.6875,
     "slo"),
    # nothing holds: shrink down to rate_min, then give up
    (SearchConfig(rate_start=8, rate_min=1), 0, [8, 4, 2, 1], None, "slo"),
    # rate_max held: the search may not go higher
    (SearchConfig(rate_start=50, rate_max=300), 1000, [50, 100, 200, 300], 300, "rate-max"),
    # rate_max failed: bisect below it as usual
    (SearchConfig(rate_start=50, rate_max=300, precision=0.05), 250, [50, 100, 200, 300, 250, 275, 262.5], 250, "slo"),
    # another factor
    (SearchConfig(rate_start=10, rate_factor=3, precision=0.2), 100, [10, 30, 90, 270, 180, 135, 112.5, 101.25],
     90, "slo"),
])
def test_rate_sequences(config, held_up_to, rates, best, limit):
    assert run(config, held_up_to) == (rates, best, limit)


def test_a_trial_can_stop_the_search():
    rates, best, limit = run(SearchConfig(rate_start=50), 1000, stop_at=200)
    assert (rates, best, limit) == ([50, 100, 200], 100, "generator")


def test_time_stops_it_from_outside_and_a_set_limit_stays():
    search = Search(SearchConfig(rate_start=10))
    search.record(search.next_rate(), held=True)
    search.stop("time")
    assert search.next_rate() is None and search.limit == "time" and search.best == 10
    search.stop("interrupted")
    assert search.limit == "time"


def test_the_start_must_be_known():
    with pytest.raises(ValueError, match="rate_start"):
        Search(SearchConfig()).next_rate()


@settings(max_examples=300, deadline=None)
@given(threshold=st.floats(0.5, 5000), start=st.floats(1, 1000), factor=st.floats(1.1, 4),
       precision=st.floats(0.01, 0.5), rate_max=st.one_of(st.none(), st.floats(1000, 3000)))
def test_the_answer_brackets_the_truth(threshold, start, factor, precision, rate_max):
    """Whatever the truth, a converged search answers within ``precision`` below it, never above."""
    config = SearchConfig(rate_start=min(start, rate_max or start), rate_factor=factor, precision=precision,
                          rate_max=rate_max, rate_min=1.0)
    rates, best, limit = run(config, threshold)
    assert best is None or best <= threshold
    if limit == "rate-max":
        assert best == rate_max and threshold >= rate_max
    elif best is None:
        assert threshold < 1.0 * factor and min(rates) < 1.0 * factor  # shrank down to rate_min
    else:
        assert limit == "slo" and best * (1 + precision) >= threshold
        assert all(r <= best or r > threshold for r in rates)
