"""A whole advice: the strategy over measured topologies, then the results files.

:func:`advise` is what ``loadgen advise`` and the ``advise`` scenario step call. Each
topology is measured in ``NN-<topology>/`` under ``results_dir``
(:class:`~loadgen.advise.measure.Measurer`); at the end ``advice.json``, ``advice.html`` and,
when a topology was chosen, ``recommended.yml`` (the Flow YAML with the chosen replicas and
shards) are written there -- also when the advice was interrupted (Ctrl-C or SIGTERM: the
running measurement keeps its files and is not counted).

Exit codes (:func:`exit_code`): 0 a topology was chosen, 3 none within the bounds held,
1 the load generator saturated (its figures are not the Flow's: no advice from them) or a
measurement failed (a Flow that did not start: the files say what was measured before),
130 interrupted.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from loadgen.advise.config import AdviseConfig
from loadgen.advise.flow_yaml import with_topology, write_yaml
from loadgen.advise.measure import Measurer
from loadgen.advise.page import write_page
from loadgen.advise.report import advice_json, write_json
from loadgen.advise.strategy import Outcome, Tried, ended_early, greedy, grid
from loadgen.advise.topology import Topology
from loadgen.errors import RunError

EXIT_CHOSEN, EXIT_ERROR, EXIT_NONE_HELD, EXIT_INTERRUPTED = 0, 1, 3, 130
STRATEGIES = {"greedy": greedy, "grid": grid}


def advise(config: AdviseConfig, *, console: Any) -> dict[str, Any]:
    """Run the strategy; write the results into ``config.results_dir``; return the
    ``advice.json`` dict. ``console`` shows lines and progress."""
    bounds = config.bounds()
    tried: list[Tried] = []
    start = Topology.of(config.flow.executors)
    try:
        outcome = STRATEGIES[config.strategy](start, bounds, Measurer(config, console=console), tried)
    except KeyboardInterrupt:
        console.end_progress()
        console.error("interrupted: the advice ends with the topologies it has measured")
        outcome = ended_early(tried, bounds, "interrupted", f"interrupted after {len(tried)} topologies")
    except RunError as exc:  # e.g. a Flow that did not start: keep what was measured, then fail
        console.end_progress()
        write_results(config, ended_early(tried, bounds, "error", str(exc).splitlines()[0]))
        raise
    return write_results(config, outcome)


def write_results(config: AdviseConfig, outcome: Outcome) -> dict[str, Any]:
    """advice.json, advice.html and recommended.yml (with a chosen topology)."""
    data = advice_json(outcome, target_rate=config.target_rate, slos=[s.text for s in config.capacity.slos],
                       specs=config.flow.executors)
    write_json(config.results_dir, data)
    write_page(config.results_dir)
    if outcome.chosen is not None:
        header = (f"{config.flow.path} with the replicas/shards loadgen advise recommends "
                  f"({outcome.chosen.topology.label()}); its comments are not copied")
        write_yaml(with_topology(config.flow, outcome.chosen.topology), config.results_dir / "recommended.yml",
                   header=header)
    return data


def exit_code(data: dict[str, Any]) -> int:
    """0 chosen, 1 generator saturated, 3 none held, 130 interrupted."""
    stopped = data["stopped_because"].split(":", 1)[0]
    if stopped == "interrupted":
        return EXIT_INTERRUPTED
    if stopped in ("generator", "error"):
        return EXIT_ERROR
    return EXIT_CHOSEN if data["chosen"] is not None else EXIT_NONE_HELD


def results_dir_default() -> Path:
    """``results/<UTC time>-advise``."""
    return Path("results") / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-advise"
