"""``loadgen compare``: did it get slower? Noise-aware verdicts between results directories
(docs/compare.md).

The stages, one module each::

    runs.py        a directory → SingleRun / ScenarioRun / CapacityRun (per-interval counts matrices)
    comparison.py  pair the two sides (runs, a scenario's steps by job/point/step, capacity searches)
    figures.py     per endpoint/Executor: each figure's Estimate on both sides, judged
      stats.py       the method: bootstrap over report intervals, repetitions' spread, the t verdict
      thresholds.py  --max-regression limits and the defaults
    capacity.py    capacity searches, judged by their brackets
    records.py     Row, Comparison (compare.json is Comparison.as_dict())
    render.py      the terminal table's cells, compare.md, the files; html.py compare.html
    history.py     --history: each run against the one before, history.csv/.html
    run.py         run_compare(CompareConfig): the one library call; cli.py its argv

Nothing here imports Locust; the terminal's colours come through :mod:`loadgen.console`.
"""
from loadgen.compare.comparison import compare
from loadgen.compare.history import run_history
from loadgen.compare.records import Comparison, Row, Settings
from loadgen.compare.run import CompareConfig, run_compare
from loadgen.compare.runs import load
from loadgen.compare.thresholds import Thresholds

__all__ = ["CompareConfig", "Comparison", "Row", "Settings", "Thresholds", "compare", "load", "run_compare",
           "run_history"]
