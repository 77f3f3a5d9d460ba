import math
import statistics

import pytest

from loadgen.errors import ConfigError
from loadgen.pacing import Constant, Pacer, SlowStart, Sinusoidal, Steps, parse_arrival_rate


@pytest.mark.parametrize("text, shape", [
    ("100", Constant(100.0)), ("0.5", Constant(0.5)),
    ("slowstart:100,30", SlowStart(final=100.0, ramp_s=30.0)),
    ("sinusoidal:20,100,60", Sinusoidal(low=20.0, high=100.0, period_s=60.0)),
    ("step:10@0,50@20,100@40", Steps(((0.0, 10.0), (20.0, 50.0), (40.0, 100.0)))),
    ("step:50@20,10@0", Steps(((0.0, 10.0), (20.0, 50.0)))),
])
def test_parse(text, shape):
    assert parse_arrival_rate(text) == shape


@pytest.mark.parametrize("bad", ["-1", "abc", "", "inf", "slowstart:100", "slowstart:100,0", "sinusoidal:1,2",
                                 "step:", "step:10", "step:10@-1", "ramp:1,2", "sinusoidal:1,2,0"])
def test_bad_rates_name_the_option_and_examples(bad):
    with pytest.raises(ConfigError, match=r"--arrival-rate: .*e\.g\. --arrival-rate 100"):
        parse_arrival_rate(bad)


def test_shapes():
    ramp = SlowStart(final=101.0, ramp_s=10.0)
    assert ramp.rate_at(0) == 1.0 and ramp.rate_at(5) == 51.0 and ramp.rate_at(10) == ramp.rate_at(99) == 101.0
    sine = Sinusoidal(low=20.0, high=100.0, period_s=60.0)
    assert sine.rate_at(0) == pytest.approx(60) and sine.rate_at(15) == pytest.approx(100)
    assert sine.rate_at(45) == pytest.approx(20)
    steps = Steps(((5.0, 10.0), (20.0, 50.0)))
    assert (steps.rate_at(0), steps.rate_at(5), steps.rate_at(19.9), steps.rate_at(20)) == (0.0, 10.0, 10.0, 50.0)


def _times(pacer, n, now=1000.0):
    return [pacer.next_ticket(now).at for _ in range(n)]


def test_uniform_gaps_are_exact_and_start_at_the_first_call():
    times = _times(Pacer(Constant(200.0), arrival="uniform"), 1000)
    assert times[0] == 1000.0
    assert all(b - a == pytest.approx(0.005) for a, b in zip(times, times[1:]))


@pytest.mark.parametrize("share", [1.0, 0.5, 1 / 3])
def test_poisson_rate_and_share(share):
    times = _times(Pacer(Constant(300.0), share=share, seed=1), 20000)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    assert achieved == pytest.approx(300.0 * share, rel=0.03)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert statistics.pstdev(gaps) == pytest.approx(statistics.mean(gaps), rel=0.05)  # exponential: sd == mean


def test_poisson_is_deterministic_for_a_seed():
    assert _times(Pacer(Constant(50.0), seed=7), 50) == _times(Pacer(Constant(50.0), seed=7), 50)
    assert _times(Pacer(Constant(50.0), seed=7), 50) != _times(Pacer(Constant(50.0), seed=8), 50)


def test_slow_start_ramps_the_count():
    times = _times(Pacer(SlowStart(final=100.0, ramp_s=10.0), arrival="uniform"), 2000, now=0.0)
    first_10s = sum(1 for t in times if t < 10.0)
    assert first_10s == pytest.approx(505, rel=0.03)  # integral of 1 -> 100 over 10 s
    assert sum(1 for t in times if 10.0 <= t < 12.0) == pytest.approx(200, abs=2)


def test_a_zero_rate_stretch_waits_for_the_next_step():
    times = _times(Pacer(Steps(((2.0, 10.0),)), arrival="uniform"), 3, now=0.0)
    assert times[0] == pytest.approx(2.0, abs=0.06) and times[1] - times[0] == pytest.approx(0.1)
    assert math.isinf(_times(Pacer(Constant(0.0)), 1, now=0.0)[0])


def test_unknown_arrival_process():
    with pytest.raises(ConfigError, match="--arrival: unknown arrival process 'burst'"):
        Pacer(Constant(1.0), arrival="burst")
