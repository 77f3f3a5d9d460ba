"""A Flow's topology: replicas and shards per Executor, and what the advisor may change.

:class:`ExecutorSpec` is one Executor as its Flow YAML gives it (read by
:mod:`loadgen.advise.flow_yaml`); :class:`Topology` is one choice of replicas and shards
for every Executor, in the Flow's order. Pure records: no YAML, no processes.

**Processes** (:attr:`Topology.processes`) are the Executor processes that do the work:
the sum over Executors of ``replicas x shards``. Jina also starts a gateway, and for each
sharded Executor a head plus its ``uses_before``/``uses_after`` runtimes; those route and
merge, and are counted apart (:meth:`Topology.runtimes`), never against ``--max-processes``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping


@dataclass(frozen=True, kw_only=True)
class ExecutorSpec:
    """One Executor of a Flow YAML.

    :param name: its ``name`` (Jina's default ``executor<i>`` when the YAML gives none).
    :param replicas: its replicas as the YAML gives them (1 when the value comes from an
        environment variable or is not given).
    :param shards: the same for shards.
    :param pinned: the YAML gives replicas or shards as a number: the advisor leaves them
        unless ``--executor`` names this Executor.
    :param indexer: sharding is meaningful (the YAML sets ``polling``, ``uses_before`` or
        ``uses_after``, or its name contains ``index``): with ``--allow-shards`` it gets
        shards instead of replicas.
    :param merger: it has ``uses_before``/``uses_after`` (one more runtime when sharded).
    """

    name: str
    replicas: int = 1
    shards: int = 1
    pinned: bool = False
    indexer: bool = False
    merger: bool = False


@dataclass(frozen=True)
class Topology:
    """Replicas and shards per Executor: ``sizes`` is ``((name, replicas, shards), ...)`` in
    the Flow's order."""

    sizes: tuple[tuple[str, int, int], ...]

    @classmethod
    def of(cls, specs: tuple[ExecutorSpec, ...]) -> "Topology":
        """The Flow as given."""
        return cls(tuple((s.name, s.replicas, s.shards) for s in specs))

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, int]]) -> "Topology":
        return cls(tuple((name, int(v["replicas"]), int(v["shards"])) for name, v in data.items()))

    def __iter__(self) -> Iterator[tuple[str, int, int]]:
        return iter(self.sizes)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.sizes)

    @property
    def processes(self) -> int:
        """Executor processes: the sum of replicas x shards."""
        return sum(replicas * shards for _, replicas, shards in self.sizes)

    def runtimes(self, specs: tuple[ExecutorSpec, ...]) -> int:
        """Every process Jina starts for this topology: the Executor processes, a head per
        sharded Executor plus its ``uses_before``/``uses_after``, and the gateway."""
        merger = {s.name for s in specs if s.merger}
        sharded = [name for name, _, shards in self.sizes if shards > 1]
        return self.processes + len(sharded) + sum(1 for name in sharded if name in merger) + 1

    def size(self, name: str) -> tuple[int, int]:
        """``(replicas, shards)`` of Executor ``name``. :raises KeyError:"""
        for other, replicas, shards in self.sizes:
            if other == name:
                return replicas, shards
        raise KeyError(name)

    def grown(self, name: str, *, shard: bool = False) -> "Topology":
        """This topology with one more replica (or shard) of Executor ``name``."""
        return Topology(tuple((n, r + (0 if shard or n != name else 1), s + (1 if shard and n == name else 0))
                              for n, r, s in self.sizes))

    def as_dict(self) -> dict[str, dict[str, int]]:
        """``{name: {"replicas": R, "shards": S}}`` (advice.json's form)."""
        return {name: {"replicas": replicas, "shards": shards} for name, replicas, shards in self.sizes}

    def cell(self, name: str) -> str:
        """``2`` (replicas) or ``2x3`` (replicas x shards) for a table cell."""
        replicas, shards = self.size(name)
        return f"{replicas}" if shards == 1 else f"{replicas}x{shards}"

    def label(self) -> str:
        """``encoder 2, indexer 1x2`` (replicas, x shards when sharded)."""
        return ", ".join(f"{name} {self.cell(name)}" for name in self.names)

    def slug(self) -> str:
        """A directory name: ``encoder2-indexer1x2``."""
        return "-".join(f"{_safe(name)}{self.cell(name)}" for name in self.names)

    def fragment(self) -> str:
        """The Flow YAML fragment to paste: each Executor's ``replicas`` and ``shards``."""
        lines = ["executors:"]
        for name, replicas, shards in self.sizes:
            lines += [f"  - name: {name}", f"    replicas: {replicas}", f"    shards: {shards}"]
        return "\n".join(lines) + "\n"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_." else "_" for c in name)
