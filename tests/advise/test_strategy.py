"""The strategies against a model whose truth is known: each Executor process serves ``mu``
req/s (a shard of an indexer: the same, its share of the data being smaller), so a topology
holds ``min over Executors of replicas x shards x mu`` req/s -- capped by ``cpu_cap`` req/s,
the machine's cores. The model's shares are each Executor's load per process (rate / its
capacity), so the bottleneck is the Executor with the least capacity."""
import math

import pytest

from loadgen.advise.strategy import CPU_BUSY, Bounds, Measurement, Tried, choose, combinations, gain, greedy, grid
from loadgen.advise.topology import Topology

START = Topology((("encoder", 1, 1), ("indexer", 1, 1)))


class Model:
    """``measure(topology)`` of a Flow with ``mu`` req/s per process of each Executor."""

    def __init__(self, target, cpu_cap=math.inf, **mu):
        self.target, self.cpu_cap, self.mu, self.seen = target, cpu_cap, mu, []

    def capacity(self, topology):
        return min(min(r * s * self.mu[name] for name, r, s in topology), self.cpu_cap)

    def __call__(self, topology):
        self.seen.append(topology)
        capacity = self.capacity(topology)
        rate = self.target or capacity
        load = {name: rate / (r * s * self.mu[name]) for name, r, s in topology}
        shares = {name: value / sum(load.values()) for name, value in load.items()}
        held = capacity >= rate if self.target else True
        p99 = 100.0 if held else 100.0 * rate / capacity
        return Measurement(held=held, verdict="held" if held else "violated", max_rate=capacity if held else None,
                           achieved_rate=min(rate, capacity), p99_ms=p99, shares=shares,
                           cpu_busy=0.97 if capacity >= self.cpu_cap else 0.5, cores=2)


def bounds(target, max_processes=8, scaled=("encoder", "indexer"), sharded=(), min_gain=0.10):
    return Bounds(target_rate=target, max_processes=max_processes, scaled=frozenset(scaled),
                  sharded=frozenset(sharded), min_gain=min_gain)


def changes(outcome):
    return [t.change for t in outcome.tried]


def test_greedy_adds_replicas_to_the_slow_encoder_until_the_target_holds():
    model = Model(60, encoder=25, indexer=1000)
    outcome = greedy(START, bounds(60), model)
    assert changes(outcome) == ["the Flow as given", "encoder +1 replica", "encoder +1 replica"]
    assert [model.capacity(t) for t in model.seen] == [25, 50, 75]
    assert outcome.stopped == "target-held" and outcome.chosen.topology == Topology((("encoder", 3, 1),
                                                                                    ("indexer", 1, 1)))
    assert all(t.measurement.bottleneck == "encoder" for t in outcome.tried)


def test_greedy_follows_the_bottleneck_when_it_moves():
    # encoder 25/process, indexer 30: 25 -> encoder 2 (30: now the indexer) -> indexer 2 (50) -> encoder 3 (60)
    outcome = greedy(START, bounds(55), Model(55, encoder=25, indexer=30))
    assert changes(outcome)[1:] == ["encoder +1 replica", "indexer +1 replica", "encoder +1 replica"]
    assert outcome.chosen.topology.processes == 5 and outcome.stopped == "target-held"


def test_indexers_get_shards_when_allowed():
    outcome = greedy(START, bounds(50, sharded=("indexer",)), Model(50, encoder=1000, indexer=20))
    assert changes(outcome)[1:] == ["indexer +1 shard", "indexer +1 shard"]
    assert outcome.chosen.topology.size("indexer") == (1, 3)


def test_max_processes_ends_the_walk_without_a_recommendation():
    outcome = greedy(START, bounds(200, max_processes=4), Model(200, encoder=25, indexer=1000))
    assert [t.topology.processes for t in outcome.tried] == [2, 3, 4]
    assert outcome.stopped == "max-processes" and outcome.chosen is None
    assert "above --max-processes 4" in outcome.stopped_because


def test_stops_when_adding_stops_helping_and_blames_the_busy_cores():
    # the cores give 40 req/s whatever the replicas: 25 -> 40 (+60 %) -> 40 (+0 %)
    outcome = greedy(START, bounds(100), Model(100, cpu_cap=40, encoder=25, indexer=1000))
    assert [t.topology.processes for t in outcome.tried] == [2, 3, 4]
    assert outcome.stopped == "stopped-helping" and outcome.chosen is None
    assert outcome.tried[1].gain == pytest.approx(0.6) and outcome.tried[2].gain == pytest.approx(0.0)
    assert "< --min-gain 10 %" in outcome.detail and "cores were 97 % busy" in outcome.detail


def test_a_pinned_bottleneck_ends_the_walk():
    outcome = greedy(START, bounds(60, scaled=("indexer",)), Model(60, encoder=25, indexer=1000))
    assert len(outcome.tried) == 1 and outcome.stopped == "fixed-bottleneck"
    assert "bottleneck encoder" in outcome.detail


def test_no_breakdown_and_a_saturated_generator_stop_at_once():
    plain = greedy(START, bounds(60), lambda t: Measurement(held=False, verdict="violated", achieved_rate=10))
    assert plain.stopped == "no-breakdown"
    saturated = greedy(START, bounds(60), lambda t: Measurement(held=False, verdict="generator-saturated",
                                                                 generator_saturated=True, reason="lag"))
    assert saturated.stopped == "generator" and saturated.chosen is None
    assert saturated.detail.endswith("add --processes, or measure on a quieter machine")
    busy = greedy(START, bounds(60), lambda t: Measurement(held=False, verdict="generator-saturated", reason="lag",
                                                            generator_saturated=True, cpu_busy=0.99,
                                                            flow_cpu_cores=1.2, cores=2))
    assert "2 cores were 99 % busy (the Flow's processes used 1.2 of them)" in busy.detail


def test_target_max_grows_to_the_bound_and_picks_the_highest_capacity():
    outcome = greedy(START, bounds(None, max_processes=5), Model(None, encoder=25, indexer=60))
    # 25 -> enc 2: 50 -> enc 3: 60 (indexer) -> indexer 2: 75 -> next (enc 4) is 6 processes
    assert [t.measurement.max_rate for t in outcome.tried] == [25, 50, 60, 75]
    assert outcome.stopped == "max-processes" and outcome.chosen.measurement.max_rate == 75


def test_gain_compares_capacities_else_throughput_and_p99():
    def m(**kw):
        return Measurement(verdict="x", **{"held": False, **kw})
    assert gain(m(max_rate=100, held=True), m(max_rate=150, held=True)) == pytest.approx(0.5)
    assert gain(m(achieved_rate=20, p99_ms=900), m(achieved_rate=21, p99_ms=300)) == pytest.approx(2 / 3)
    assert gain(m(achieved_rate=20, p99_ms=900), m(achieved_rate=20, p99_ms=900)) == 0
    assert gain(m(achieved_rate=20), m(held=True)) == math.inf


def test_grid_measures_every_combination_cheapest_first_and_stops_after_the_cheapest_held():
    all_four = combinations(START, bounds(None, max_processes=4))
    assert [t.processes for t in all_four] == [2, 3, 3, 4, 4, 4]
    model = Model(45, encoder=25, indexer=1000)
    outcome = grid(START, bounds(45, max_processes=4), model)
    assert [t.processes for t in model.seen] == [2, 3, 3]  # nothing with 4 processes can be cheaper
    assert outcome.stopped == "grid-done" and outcome.chosen.topology.size("encoder") == (2, 1)


def test_grid_with_shards_and_a_fixed_executor():
    found = combinations(START, bounds(None, max_processes=4, scaled=("indexer",), sharded=("indexer",)))
    assert all(t.size("encoder") == (1, 1) for t in found)
    assert {t.size("indexer") for t in found} == {(1, 1), (1, 2), (2, 1), (1, 3), (3, 1)}


def test_choose_prefers_fewer_processes_then_capacity():
    def tried(processes, rate):
        return Tried(topology=Topology((("a", processes, 1),)),
                     measurement=Measurement(held=True, verdict="held", max_rate=rate))
    options = (tried(3, 40), tried(2, 30), tried(2, 35))
    assert choose(options, 30).measurement.max_rate == 35
    assert choose(options, None).measurement.max_rate == 40
    assert CPU_BUSY < 1
