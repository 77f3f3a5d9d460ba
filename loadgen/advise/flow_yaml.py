"""A Flow YAML's Executors, and copies of it with another topology.

:func:`read_flow` reads a Flow YAML (``yaml.safe_load``; Jina's ``jtype: Flow`` form) into
:class:`~loadgen.advise.topology.ExecutorSpec` records. :func:`with_topology` sets every
Executor's ``replicas`` and ``shards`` to numbers; :func:`for_loadgen` also makes the copy
serve where loadgen will look for it (``port``/``protocol`` from the environment
:mod:`loadgen.flowctl` sets). The user's file is never written: copies go to the advisor's
results directory, and :class:`~loadgen.flowctl.FlowConfig`'s ``workdir`` runs Jina in the
original's directory, where its relative paths (``py_modules``, ``uses: x.yml``) are found.
Every other value, ``${{ ENV.* }}`` expressions included, is copied as it is; comments are
not (YAML's data model has none).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loadgen.advise.topology import ExecutorSpec, Topology
from loadgen.errors import ConfigError
from loadgen.files import write_text_atomic

ENV_PORT, ENV_PROTOCOL = "${{ ENV.JINA_PORT }}", "${{ ENV.JINA_PROTOCOL }}"
MERGER_KEYS = ("uses_before", "uses_after")
INDEXER_KEYS = ("polling", *MERGER_KEYS)


@dataclass(frozen=True)
class FlowDoc:
    """A Flow YAML as read: its ``path``, its data (never changed) and its Executors."""

    path: Path
    doc: dict
    executors: tuple[ExecutorSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.executors)


def read_flow(path: Path, *, option: str = "--flow") -> FlowDoc:
    """Read the Flow YAML at ``path``. :raises ConfigError: naming ``option``, the file (and
    the line), and what to fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{option}: cannot read {path} ({exc.strerror})")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{option}: {where}: not a Flow YAML loadgen can read ({getattr(exc, 'problem', exc)}); "
                          f"write it in Jina's `jtype: Flow` form")
    entries = doc.get("executors") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{option}: {path} has no `executors:` list; give a Flow YAML with its Executors")
    specs = tuple(_spec(i, entry, path, option) for i, entry in enumerate(entries))
    names = [spec.name for spec in specs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError(f"{option}: {path}: Executor name {twice[0]!r} is used twice; give each Executor its own name")
    return FlowDoc(path=path, doc=doc, executors=specs)


def _spec(i: int, entry: Any, path: Path, option: str) -> ExecutorSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{option}: {path}: executors[{i}] is not a mapping; each Executor is `- name: ...`")
    name = str(entry.get("name") or f"executor{i}")  # Jina's own default name
    replicas, pinned_replicas = _count(entry.get("replicas"), "replicas", name, path, option)
    shards, pinned_shards = _count(entry.get("shards"), "shards", name, path, option)
    return ExecutorSpec(name=name, replicas=replicas, shards=shards, pinned=pinned_replicas or pinned_shards,
                        indexer=any(key in entry for key in INDEXER_KEYS) or "index" in name.lower(),
                        merger=any(key in entry for key in MERGER_KEYS))


def _count(value: Any, key: str, name: str, path: Path, option: str) -> tuple[int, bool]:
    """``(count, pinned)``: a number in the YAML is pinned; absent or ``${{ ENV.X }}`` is 1."""
    if value is None or isinstance(value, str) and "${" in value:
        return 1, False
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if number is None or number < 1:
        raise ConfigError(f"{option}: {path}: Executor {name!r}: {key}: {value!r} is neither a number >= 1 "
                          f"nor an environment expression such as ${{{{ ENV.REPLICAS }}}}")
    return number, True


def with_topology(flow: FlowDoc, topology: Topology) -> dict:
    """The Flow's data with ``topology``'s replicas and shards as numbers (and every
    Executor's name written out)."""
    doc = copy.deepcopy(flow.doc)
    for entry, (name, replicas, shards) in zip(doc["executors"], topology):
        entry["name"], entry["replicas"], entry["shards"] = name, replicas, shards
    return doc


def for_loadgen(flow: FlowDoc, topology: Topology) -> dict:
    """:func:`with_topology`, serving on the port and protocol loadgen chose (from the
    environment :func:`loadgen.flowctl.flow_env` sets). A sharded Executor with a
    ``uses_before``/``uses_after`` gets ``monitoring: false``: Jina 3.33 gives its head and
    that runtime the same monitoring port, and the second one fails to start."""
    doc = with_topology(flow, topology)
    settings = doc.get("with") if isinstance(doc.get("with"), dict) else {}
    doc["with"] = {**settings, "port": ENV_PORT, "protocol": ENV_PROTOCOL}
    for entry, (_, _, shards) in zip(doc["executors"], topology):
        if shards > 1 and any(key in entry for key in MERGER_KEYS):
            entry["monitoring"] = False
    return doc


def write_yaml(doc: dict, dest: Path, *, header: str = "") -> Path:
    """Write ``doc`` as YAML (keys in their order), after ``header`` comment lines."""
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return write_text_atomic(dest, comments + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
