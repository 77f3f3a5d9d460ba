"""A discrete-event simulation of the fake gateway's queue (``--slots C --service-ms D``):
Poisson arrivals at rate λ, C servers, deterministic service D, one FIFO queue.

It gives the truth the capacity tests check ``loadgen capacity`` against: the rate at which
the p99 of the time in the system (wait + service) crosses a gate. The simulation is the
same computation as :class:`fakegateway.Slots` (each arrival takes the first free server),
run on simulated time.
"""
from __future__ import annotations

import heapq
import math
import random


def sojourn_times(rate: float, *, slots: int, service_s: float, arrivals: int, seed: int = 0) -> list[float]:
    """Seconds each of ``arrivals`` Poisson arrivals at ``rate``/s spends waiting plus being served."""
    rng = random.Random(seed)
    free_at, now, out = [0.0] * slots, 0.0, []
    for _ in range(arrivals):
        now += rng.expovariate(rate)
        start = max(now, heapq.heappop(free_at))
        heapq.heappush(free_at, start + service_s)
        out.append(start + service_s - now)
    return out


def percentile(values: list[float], p: float) -> float:
    """The smallest value with at least ``p`` % of ``values`` at or below it (HdrHistogram's rule)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rate_at_percentile(gate_s: float, *, p: float = 99.0, slots: int, service_s: float,
                       arrivals: int = 200_000, seed: int = 0) -> float:
    """The arrival rate (req/s) at which the simulated p-th percentile of the time in the
    system reaches ``gate_s`` (bisection to 0.1% over (0, capacity))."""
    low, high = 0.0, slots / service_s
    while high - low > 0.001 * high:
        middle = (low + high) / 2
        sojourns = sojourn_times(middle, slots=slots, service_s=service_s, arrivals=arrivals, seed=seed)
        if percentile(sojourns, p) < gate_s:
            low = middle
        else:
            high = middle
    return (low + high) / 2
