"""Comparing two loaded results: which parts pair up, then a verdict per figure.

:func:`compare` pairs the two sides — run with run, a scenario's load steps by job, sweep
point and step (repetitions together), a single run with a scenario of one load step,
capacity search with capacity search — and, for every endpoint and Executor present in
both, judges each figure (:mod:`loadgen.compare.figures`; capacity searches:
:mod:`loadgen.compare.capacity`). What is on one side only is listed, not judged; nothing in
common at all is bad input.
"""
from __future__ import annotations

from loadgen.compare.capacity import capacity_rows
from loadgen.compare.figures import subject_rows
from loadgen.compare.records import Comparison, Row, Settings
from loadgen.compare.runs import CapacityRun, Loaded, ScenarioRun, SingleRun, Subject
from loadgen.errors import ConfigError


def describe(loaded: Loaded) -> dict[str, str]:
    kind = {SingleRun: "run", ScenarioRun: "scenario", CapacityRun: "capacity"}[type(loaded)]
    return {"dir": str(loaded.path), "label": loaded.label, "kind": kind}


# -- pairing ---------------------------------------------------------------------------------
def pairs(base: Loaded, new: Loaded) -> list[tuple[str, list[SingleRun], list[SingleRun]]]:
    """The parts of two run/scenario results that compare: ``(set name, base runs, new
    runs)``. :raises ConfigError: when the kinds do not pair (one line)."""
    left, right = _sets(base), _sets(new)
    if len(left) == 1 and len(right) == 1 and (isinstance(base, SingleRun) or isinstance(new, SingleRun)):
        return [("", *left.values(), *right.values())]
    if isinstance(base, SingleRun) or isinstance(new, SingleRun):
        many = base if isinstance(base, ScenarioRun) else new
        raise ConfigError(f"nothing in common: {many.path} is a scenario with {len(_sets(many))} load steps, the other "
                          f"a single run; compare like with like (or a scenario with one load step)")
    return [(name, left[name], right[name]) for name in left if name in right]


def _sets(loaded: Loaded) -> dict[str, list[SingleRun]]:
    return {"": [loaded]} if isinstance(loaded, SingleRun) else dict(loaded.sets)


def compare(base: Loaded, new: Loaded, settings: Settings = Settings()) -> Comparison:
    """Every common figure of ``base`` and ``new`` with its verdict. :raises ConfigError:
    nothing in common (different kinds, no common step or endpoint)."""
    if isinstance(base, CapacityRun) and isinstance(new, CapacityRun):
        rows, only_base, only_new = capacity_rows(base, new, settings), [], []
    elif isinstance(base, CapacityRun) or isinstance(new, CapacityRun):
        other = new if isinstance(base, CapacityRun) else base
        raise ConfigError(f"nothing in common: a capacity search compares with a capacity search, not with a "
                          f"{describe(other)['kind']} ({other.path})")
    else:
        rows, only_base, only_new = _runs(base, new, settings)
    if not rows:
        raise ConfigError(f"nothing in common: {base.path} has {_listing(only_base)}, {new.path} has "
                          f"{_listing(only_new)}; compare runs of the same endpoints")
    return Comparison(base=describe(base), new=describe(new), rows=rows, only_in_base=only_base,
                      only_in_new=only_new, level=settings.level, thresholds=settings.thresholds.given())


def _listing(names: list[str]) -> str:
    return ", ".join(names[:6]) + (" …" if len(names) > 6 else "") if names else "nothing to compare"


def _runs(base: Loaded, new: Loaded, settings: Settings) -> tuple[list[Row], list[str], list[str]]:
    rows: list[Row] = []
    matched = pairs(base, new)
    only_base = [n for n in _sets(base) if n not in {m[0] for m in matched}]
    only_new = [n for n in _sets(new) if n not in {m[0] for m in matched}]
    for set_name, left, right in matched:
        ours, theirs = _subjects(left), _subjects(right)
        for subject in [s for s in ours if s in theirs]:
            rows += subject_rows(set_name, subject, left, right, settings)
        only_base += [_where(set_name, s) for s in ours if s not in theirs]
        only_new += [_where(set_name, s) for s in theirs if s not in ours]
    return rows, only_base, only_new


def _subjects(runs: list[SingleRun]) -> list[Subject]:
    return list(dict.fromkeys(s for run in runs for s in run.subjects()))


def _where(set_name: str, subject: Subject) -> str:
    return f"{set_name} · {subject[1]}" if set_name else subject[1]


