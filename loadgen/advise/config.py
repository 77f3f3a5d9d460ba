"""What the advisor is told: the Flow, the target, the bounds, and the load of each
measurement (a :class:`~loadgen.capacity.config.CapacityConfig`). Keyword-only frozen
records; argv is read in :mod:`loadgen.advise.cli` (a scenario step's keys in
:mod:`loadgen.scenarios.methods.advise`), never here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from loadgen.advise.flow_yaml import FlowDoc
from loadgen.advise.strategy import Bounds
from loadgen.capacity.config import CapacityConfig
from loadgen.errors import ConfigError

STRATEGIES = ("greedy", "grid")
MEASURES = ("trial", "search")


@dataclass(frozen=True, kw_only=True)
class AdviseConfig:
    """One advice.

    :param flow: the Flow YAML read (the demo Flows are YAML files too).
    :param capacity: the load, windows and gates of every measurement; its ``load.argv``
        has no ``--host`` (each topology's Flow adds its own) and its ``results_dir`` is
        replaced by each topology's directory.
    :param target_rate: req/s the topology must hold within the gates; None: find the
        topology with the highest capacity (``--target-rate max``).
    :param max_processes: at most this many Executor processes (replicas x shards, summed).
    :param executors: only these are scaled (``--executor``); empty: every Executor whose
        YAML does not pin its replicas/shards.
    :param measure: ``trial``: one capacity trial at the target; ``search``: a capacity search
        per topology (always with ``target_rate`` None).
    :param min_gain: a greedy step that improves by less (0.1 = 10 %) stopped helping.
    :param protocol: the gateway protocol the Flows serve.
    :param preindex_docs: documents indexed into each new Flow before its load.
    """

    flow: FlowDoc
    capacity: CapacityConfig
    target_rate: Optional[float]
    max_processes: int = 8
    executors: tuple[str, ...] = ()
    strategy: str = "greedy"
    allow_shards: bool = False
    min_gain: float = 0.10
    measure: str = "trial"
    protocol: str = "grpc"
    top_k: int = 10
    preindex_docs: int = 1000
    startup_timeout_s: float = 120.0
    results_dir: Path = Path("results")

    @property
    def searches(self) -> bool:
        """Each topology gets a capacity search (else one trial at the target)."""
        return self.measure == "search" or self.target_rate is None

    def bounds(self) -> Bounds:
        """What the strategy may change."""
        named = set(self.executors)
        scaled = frozenset(s.name for s in self.flow.executors if (s.name in named if named else not s.pinned))
        sharded = frozenset(s.name for s in self.flow.executors if s.name in scaled and s.indexer) \
            if self.allow_shards else frozenset()
        return Bounds(target_rate=self.target_rate, max_processes=self.max_processes, scaled=scaled, sharded=sharded,
                      min_gain=self.min_gain)


def check(config: AdviseConfig, *, name: Callable[[str], str] = lambda key: "--" + key.replace("_", "-")) -> None:
    """What the values cannot say one by one; ``name(key)`` is how the user wrote a key.
    :raises ConfigError: naming the key and the fix."""
    flow, names = config.flow, config.flow.names
    unknown = [e for e in config.executors if e not in names]
    if unknown:
        raise ConfigError(f"{name('executor')}: no Executor {unknown[0]!r} in {flow.path.name}; "
                          f"its Executors are {', '.join(names)}")
    start = sum(s.replicas * s.shards for s in flow.executors)
    if config.max_processes < start:
        raise ConfigError(f"{name('max_processes')}: {config.max_processes} is below the {start} Executor processes "
                          f"{flow.path.name} starts with; raise it to {start} or more")
    if config.strategy not in STRATEGIES:
        raise ConfigError(f"{name('strategy')}: unknown strategy {config.strategy!r}; use {' or '.join(STRATEGIES)}")
    if config.measure not in MEASURES:
        raise ConfigError(f"{name('measure')}: unknown measure {config.measure!r}; use {' or '.join(MEASURES)}")
    if config.strategy == "greedy" and config.protocol == "http":
        raise ConfigError(f"{name('protocol')}: the HTTP gateway returns no per-Executor times, which the greedy "
                          f"strategy follows; use grpc or websocket, or {name('strategy')} grid")
    if not config.bounds().scaled:
        raise ConfigError(f"{name('executor')}: every Executor of {flow.path.name} pins its replicas/shards; name the "
                          f"ones to scale with {name('executor')} NAME")
