"""Open-loop arrival schedules: when requests are *meant* to leave, whatever the server does.

A rate shape gives the target rate (requests/s) at ``t`` seconds into the run; a
:class:`Pacer` turns it into a sequence of scheduled send times, with constant gaps
(``uniform``) or exponential ones (``poisson``, Iago's default). Shapes, as in Iago:

======================================  ======================================================
``--arrival-rate`` value                meaning
======================================  ======================================================
``100``                                 constant 100 req/s
``slowstart:100,30``                    linear ramp from 1 to 100 req/s over 30 s, then 100
``sinusoidal:20,100,60``                between 20 and 100 req/s, period 60 s (starts at the mean)
``step:10@0,50@20,100@40``              10 req/s from 0 s, 50 from 20 s, 100 from 40 s
======================================  ======================================================

The rates are for the whole fleet; each load-generating process paces ``share`` of it.
Pure and deterministic for a seed: no clock is read here (callers pass times in seconds).
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Optional, Protocol

from loadgen.errors import ConfigError

ARRIVALS = ("poisson", "uniform")
EXAMPLES = "e.g. --arrival-rate 100, slowstart:100,30, sinusoidal:20,100,60 or step:10@0,50@20"
# A shape may be 0 req/s for a while (step:0@0,...): look again this often (seconds).
IDLE_STEP_S = 0.05


class RateShape(Protocol):
    def rate_at(self, t: float) -> float:
        """Target requests per second at ``t`` seconds into the run."""
        ...


@dataclass(frozen=True)
class Constant:
    rate: float

    def rate_at(self, t: float) -> float:
        return self.rate


@dataclass(frozen=True)
class SlowStart:
    """Iago's SlowStartPoissonProcess: ``initial`` → ``final`` linearly over ``ramp_s``."""

    final: float
    ramp_s: float
    initial: float = 1.0

    def rate_at(self, t: float) -> float:
        if t >= self.ramp_s:
            return self.final
        return self.initial + (self.final - self.initial) * max(t, 0.0) / self.ramp_s


@dataclass(frozen=True)
class Sinusoidal:
    """Iago's SinusoidalPoissonProcess: ``(max−min)/2·sin(2πt/period) + (max+min)/2``."""

    low: float
    high: float
    period_s: float

    def rate_at(self, t: float) -> float:
        return (self.high - self.low) / 2 * math.sin(2 * math.pi * t / self.period_s) + (self.high + self.low) / 2


@dataclass(frozen=True)
class Steps:
    """``(start_s, rate)`` pairs sorted by start; before the first start the rate is 0."""

    steps: tuple[tuple[float, float], ...]

    def rate_at(self, t: float) -> float:
        rate = 0.0
        for start, value in self.steps:
            if t < start:
                break
            rate = value
        return rate


def parse_arrival_rate(text: str) -> RateShape:
    """Parse an ``--arrival-rate`` value (see the module docstring).

    :raises ConfigError: naming the option and correct examples.
    """
    text = text.strip()
    kind, sep, args = text.partition(":")
    try:
        if not sep:
            shape: RateShape = Constant(_rate(kind))
        elif kind == "slowstart":
            final, ramp = _numbers(args, 2)
            shape = SlowStart(final=_rate(final), ramp_s=_positive(ramp))
        elif kind == "sinusoidal":
            low, high, period = _numbers(args, 3)
            shape = Sinusoidal(low=_rate(low), high=_rate(high), period_s=_positive(period))
        elif kind == "step":
            shape = Steps(_steps(args))
        else:
            raise ValueError(f"unknown shape {kind!r}")
    except ValueError as exc:
        raise ConfigError(f"--arrival-rate: cannot use {text!r} ({exc}); {EXAMPLES}") from None
    return shape


def _numbers(args: str, count: int) -> list[float]:
    parts = [p.strip() for p in args.split(",")]
    if len(parts) != count:
        raise ValueError(f"expected {count} numbers, got {len(parts)}")
    return [float(p) for p in parts]


def _rate(value) -> float:
    rate = float(value)
    if not rate >= 0 or math.isinf(rate):
        raise ValueError(f"a rate must be a number >= 0, got {value}")
    return rate


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError(f"a duration must be > 0 s, got {value}")
    return value


def _steps(args: str) -> tuple[tuple[float, float], ...]:
    steps = []
    for item in filter(None, (p.strip() for p in args.split(","))):
        match = re.fullmatch(r"([0-9.]+)@([0-9.]+)", item)
        if not match:
            raise ValueError(f"step {item!r} is not RATE@SECONDS")
        steps.append((float(match[2]), _rate(match[1])))
    if not steps:
        raise ValueError("no steps")
    return tuple(sorted(steps))


@dataclass(frozen=True, slots=True)
class Ticket:
    """One scheduled send: ``at`` seconds on the caller's clock; ``interval_s`` the mean gap
    between sends at the rate of that moment (a request that leaves more than one interval
    after ``at`` counts as ``late``)."""

    at: float
    interval_s: float


class Pacer:
    """Hands out scheduled send times in order; shared by the users of one process.

    :param shape: the fleet-wide rate shape.
    :param share: this process's fraction of the fleet rate (1 / number of processes).
    :param arrival: ``poisson`` (exponential gaps) or ``uniform`` (constant gaps).
    :param seed: seed of the Poisson draws.
    """

    def __init__(self, shape: RateShape, *, share: float = 1.0, arrival: str = "poisson", seed: int = 0):
        if arrival not in ARRIVALS:
            raise ConfigError(f"--arrival: unknown arrival process {arrival!r}; use poisson or uniform")
        self.shape, self.share, self.arrival = shape, share, arrival
        self._rng = random.Random(seed)
        self._origin: Optional[float] = None
        self._next = 0.0  # seconds since the origin

    def next_ticket(self, now: float) -> Ticket:
        """The next scheduled send; the schedule starts at the first call's ``now`` (so the
        time it takes users to start is not counted as lateness, as in Iago)."""
        if self._origin is None:
            self._origin = now
            self._next = self._idle(0.0)  # a shape that starts at 0 req/s sends nothing yet
        at = self._next
        self._next = at + self._gap(at)
        rate = self.shape.rate_at(at) * self.share
        return Ticket(at=self._origin + at, interval_s=1.0 / rate if rate > 0 else math.inf)

    def _idle(self, t: float) -> float:
        """Seconds from ``t`` until the rate is above 0 (inf after an hour at 0 req/s)."""
        idle = 0.0
        while self.shape.rate_at(t + idle) * self.share <= 0:
            idle += IDLE_STEP_S
            if idle > 3600:
                return math.inf
        return idle

    def _gap(self, t: float) -> float:
        idle = self._idle(t)
        if math.isinf(idle):
            return idle
        rate = self.shape.rate_at(t + idle) * self.share
        return idle + (self._rng.expovariate(rate) if self.arrival == "poisson" else 1.0 / rate)
