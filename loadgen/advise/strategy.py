"""Which topologies to try, and when to stop (pure: the caller measures each topology).

A strategy gets the Flow's starting :class:`~loadgen.advise.topology.Topology`, its
:class:`Bounds` and a ``measure(topology) -> Measurement`` function (a Flow started and
loaded by :mod:`loadgen.advise.measure`, or a model in the tests) and returns an
:class:`Outcome`: every :class:`Tried` topology, the chosen one, and why it stopped.

**Greedy** (:func:`greedy`): measure; if the target held, stop. Else the Executor with the
largest share of the time (the per-Executor breakdown of the reply routes) gets one more
replica -- one more shard when it is an indexer and shards are allowed -- and the next
topology is measured. It also stops when the next topology would have more than
``max_processes`` Executor processes, when the bottleneck may not be scaled, and when adding
**stopped helping**: the :func:`gain` of the last step was below ``min_gain``.

**Grid** (:func:`grid`): every combination from the Flow as given up to ``max_processes``,
fewest processes first; with a rate target it stops after the first processes count at
which a topology held (nothing with more processes can be cheaper).

With ``target_rate`` None (``--target-rate max``) nothing "holds the target": the greedy
walk goes on to a bound, and the chosen topology is the one with the highest ``max_rate``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from loadgen.advise.topology import Topology

CPU_BUSY = 0.85  # machine CPU busy share from which "stopped helping" blames the cores
STOPS = ("target-held", "max-processes", "stopped-helping", "fixed-bottleneck", "no-breakdown", "generator",
         "grid-done", "interrupted", "error")


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """What one topology did under the load.

    :param held: it held the target rate within the SLO (``--target-rate max``: some rate held).
    :param max_rate: req/s: the highest rate it held (a capacity search's answer; one trial's
        offered rate when it held), None when none did.
    :param achieved_rate: req/s completed in the deciding trial.
    :param p99_ms: the deciding trial's p99 of the gated endpoint (the total without a gate).
    :param shares: each Executor's share of the time its replies spent in Executors (0..1).
    :param cpu_busy: this machine's CPU busy share (all cores, 0..1) while it was measured.
    :param generator_saturated: the load generator was saturated: nothing here is the Flow's.
    """

    held: bool
    verdict: str
    reason: str = ""
    max_rate: Optional[float] = None
    achieved_rate: float = 0.0
    p99_ms: Optional[float] = None
    shares: dict[str, float] = field(default_factory=dict)
    cpu_busy: Optional[float] = None
    flow_cpu_cores: Optional[float] = None
    cores: int = 0
    generator_saturated: bool = False
    dir: str = ""
    report: str = ""  # its page, relative to dir's parent: a trial's report.html, a search's capacity.html

    @property
    def bottleneck(self) -> Optional[str]:
        """The Executor with the largest share of the time (None without a breakdown)."""
        return max(self.shares, key=lambda name: self.shares[name]) if self.shares else None


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """What a strategy may do. ``scaled``: the Executors it may change; ``sharded``: of those,
    the ones that get shards instead of replicas (indexers, with ``--allow-shards``);
    ``min_gain``: 0.1 = a step must improve by 10 %; ``target_rate`` None: find the maximum."""

    target_rate: Optional[float]
    max_processes: int
    scaled: frozenset[str]
    sharded: frozenset[str] = frozenset()
    min_gain: float = 0.10


@dataclass(frozen=True, kw_only=True)
class Tried:
    """One measured topology; ``change`` is how it came from the one before (greedy)."""

    topology: Topology
    measurement: Measurement
    change: str = ""
    gain: Optional[float] = None


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """Every tried topology, the chosen one (None: none held) and why the strategy stopped
    (``stopped`` one of :data:`STOPS`, ``detail`` a sentence)."""

    tried: tuple[Tried, ...]
    chosen: Optional[Tried]
    stopped: str
    detail: str

    @property
    def stopped_because(self) -> str:
        return f"{self.stopped}: {self.detail}"


Measure = Callable[[Topology], Measurement]


def gain(before: Measurement, after: Measurement) -> float:
    """How much ``after`` improved on ``before`` (0.25 = 25 %): the growth of ``max_rate``
    when both have one; else the larger of the growth of the achieved rate and the fall of
    the p99. A topology that holds where the one before did not gains without bound."""
    if after.held and not before.held:
        return float("inf")
    if before.max_rate and after.max_rate:
        return after.max_rate / before.max_rate - 1
    gains = [after.achieved_rate / before.achieved_rate - 1] if before.achieved_rate > 0 else []
    if before.p99_ms and after.p99_ms is not None:
        gains.append(1 - after.p99_ms / before.p99_ms)
    return max(gains, default=0.0)


def choose(tried: tuple[Tried, ...], target_rate: Optional[float]) -> Optional[Tried]:
    """With a target: the held topology with the fewest processes (then the highest
    ``max_rate``, the lowest p99); with none: the highest ``max_rate`` (then the fewest processes)."""
    held = [t for t in tried if t.measurement.held and (target_rate is not None or t.measurement.max_rate)]
    if not held:
        return None
    if target_rate is None:
        return min(held, key=lambda t: (-(t.measurement.max_rate or 0), t.topology.processes))
    return min(held, key=lambda t: (t.topology.processes, -(t.measurement.max_rate or 0),
                                    t.measurement.p99_ms if t.measurement.p99_ms is not None else float("inf")))


def greedy(start: Topology, bounds: Bounds, measure: Measure, tried: Optional[list[Tried]] = None) -> Outcome:
    """Grow the bottleneck one process at a time (see the module docstring). ``tried`` (a
    list the caller keeps) receives each step as it is measured."""
    tried = [] if tried is None else tried
    topology, change, before = start, "the Flow as given", None
    while True:
        m = measure(topology)
        step = Tried(topology=topology, measurement=m, change=change,
                     gain=None if before is None else gain(before.measurement, m))
        tried.append(step)
        stop = _greedy_stop(step, before, bounds)
        if stop is not None:
            return _outcome(tried, bounds, *stop)
        name = m.bottleneck
        shard = name in bounds.sharded
        grown = topology.grown(name, shard=shard)
        if grown.processes > bounds.max_processes:
            return _outcome(tried, bounds, "max-processes",
                            f"one more {'shard' if shard else 'replica'} of the bottleneck {name} makes "
                            f"{grown.processes} processes, above --max-processes {bounds.max_processes}")
        topology, change, before = grown, f"{name} +1 {'shard' if shard else 'replica'}", step


def _greedy_stop(step: Tried, before: Optional[Tried], bounds: Bounds) -> Optional[tuple[str, str]]:
    """Why the greedy walk ends at ``step``, or None to grow on."""
    m = step.measurement
    if m.generator_saturated:
        return "generator", (f"the load generator was saturated while measuring {step.topology.label()} "
                             f"({m.reason}); its figures are not the Flow's{_cores(m, 'the load generator and the Flow')}")
    if bounds.target_rate is not None and m.held:
        return "target-held", f"{step.topology.label()} holds {bounds.target_rate:g} req/s within the SLO"
    if before is not None and step.gain is not None and step.gain < bounds.min_gain:
        return "stopped-helping", _no_help(step, before, bounds)
    name = m.bottleneck
    if name is None:
        return "no-breakdown", ("the replies carried no per-Executor times (the HTTP gateway sends no routes): "
                                "use --protocol grpc or --strategy grid")
    if name not in bounds.scaled:
        return "fixed-bottleneck", (f"the bottleneck {name} ({100 * m.shares[name]:.0f} % of the time) may not be "
                                    f"scaled (its YAML pins replicas/shards, or --executor does not name it)")
    return None


def _no_help(step: Tried, before: Tried, bounds: Bounds) -> str:
    text = (f"{step.change} stopped helping: {step.topology.label()} improved on {before.topology.label()} by "
            f"{100 * step.gain:.0f} % < --min-gain {100 * bounds.min_gain:.0f} %")
    return text + _cores(step.measurement, "the replicas")


def _cores(m: Measurement, who: str) -> str:
    """Why the cores explain it (``; this machine's 2 cores were 97 % busy ...``), or ''."""
    if m.cpu_busy is None or m.cpu_busy < CPU_BUSY:
        return "" if who == "the replicas" else ": add --processes, or measure on a quieter machine"
    flow = f" (the Flow's processes used {m.flow_cpu_cores:.2g} of them)" if m.flow_cpu_cores is not None else ""
    then = "so more replicas cannot help here" if who == "the replicas" else "the cores are used up"
    return (f"; this machine's {m.cores or '?'} cores were {100 * m.cpu_busy:.0f} % busy{flow}: {who} compete for "
            f"the same CPU, {then} (on more cores, or a cluster, more replicas may help)")


def grid(start: Topology, bounds: Bounds, measure: Measure, tried: Optional[list[Tried]] = None) -> Outcome:
    """Every combination up to the bound, fewest processes first (see the module docstring)."""
    tried = [] if tried is None else tried
    held_at: Optional[int] = None
    for topology in combinations(start, bounds):
        if held_at is not None and topology.processes > held_at:
            break
        m = measure(topology)
        tried.append(Tried(topology=topology, measurement=m, change="grid"))
        if m.generator_saturated:
            return _outcome(tried, bounds, *_greedy_stop(tried[-1], None, bounds))
        if bounds.target_rate is not None and m.held and held_at is None:
            held_at = topology.processes
    chosen = choose(tuple(tried), bounds.target_rate)
    what = f"the cheapest that held: {chosen.topology.label()}" if chosen else "none held"
    return _outcome(tried, bounds, "grid-done", f"{len(tried)} topologies measured up to --max-processes "
                                                f"{bounds.max_processes}; {what}")


def combinations(start: Topology, bounds: Bounds) -> list[Topology]:
    """Every topology from ``start`` upward within ``max_processes``: replicas of each scaled
    Executor (and shards of the sharded ones) from their starting value; fewest processes first."""
    choices = []
    for name, replicas, shards in start:
        r_values = range(replicas, bounds.max_processes + 1) if name in bounds.scaled else (replicas,)
        s_values = range(shards, bounds.max_processes + 1) if name in bounds.sharded else (shards,)
        choices.append([(name, r, s) for r in r_values for s in s_values if r * s <= bounds.max_processes])
    found = [Topology(sizes) for sizes in _within(choices, bounds.max_processes)]
    return sorted(found, key=lambda t: (t.processes, t.sizes))


def _within(choices: list[list[tuple[str, int, int]]], budget: int) -> Iterator[tuple[tuple[str, int, int], ...]]:
    """Each pick of one item per list whose replicas x shards add up to at most ``budget``."""
    if not choices:
        yield ()
        return
    for item in choices[0]:
        if item[1] * item[2] <= budget:
            for rest in _within(choices[1:], budget - item[1] * item[2]):
                yield (item, *rest)


def _outcome(tried: list[Tried], bounds: Bounds, stopped: str, detail: str) -> Outcome:
    return Outcome(tried=tuple(tried), chosen=choose(tuple(tried), bounds.target_rate), stopped=stopped, detail=detail)


def ended_early(tried: list[Tried], bounds: Bounds, stopped: str, detail: str) -> Outcome:
    """The outcome of a walk cut short (``interrupted`` by Ctrl-C or SIGTERM, an ``error``
    such as a Flow that did not start): what was measured so far."""
    return _outcome(tried, bounds, stopped, detail)
