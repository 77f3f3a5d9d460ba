"""argv of ``loadgen compare``: options → one :class:`~loadgen.compare.run.CompareConfig`
→ :func:`~loadgen.compare.run.run_compare` (or, with ``--history``,
:func:`~loadgen.compare.history.run_history`). Exit codes: 0 no regression, 4 a
regression, 2 bad usage (docs/compare.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from loadgen.compare.records import Settings
from loadgen.compare.history import run_history
from loadgen.compare.run import CompareConfig, run_compare
from loadgen.compare.stats import DEFAULT_LEVEL, DEFAULT_RESAMPLES
from loadgen.compare.thresholds import DEFAULTS, Thresholds


def add_commands(commands: Any) -> None:
    """Add ``compare`` to ``loadgen``'s sub-parsers."""
    parser = commands.add_parser("compare", help="did it get slower? noise-aware verdicts between runs, "
                                                 "overlay plots, history (docs/compare.md)")
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="BASE NEW: two results directories (runs, scenario "
                                                               "runs or capacity searches); with --history any "
                                                               "number, oldest first")
    parser.add_argument("--max-regression", action="append", default=[], metavar="[NAME:]METRIC:LIMIT",
                        help=("how much worse counts, e.g. 'p99:+10%', 'rps:-5%', 'failures:+0.5pp', "
                              f"'/search:p99:+20%', 'p999:off' (repeatable; defaults: {', '.join(DEFAULTS)})"
                              ).replace("%", "%%"))  # argparse formats help with %
    parser.add_argument("--confidence", type=float, default=DEFAULT_LEVEL,
                        help=f"how sure a verdict must be that a change is more than noise (default: {DEFAULT_LEVEL})")
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES,
                        help=f"bootstrap resamples per run and figure (default: {DEFAULT_RESAMPLES})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    parser.add_argument("--history", action="store_true", help="a trend across all DIRs in order: "
                                                               "history.html and history.csv")
    parser.add_argument("-o", "--output-dir", default=None, help="where compare.json/.md/.html (history.*) go "
                                                                 "(default: the last DIR)")
    parser.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    settings = Settings(thresholds=Thresholds.parse(args.max_regression), level=args.confidence,
                        resamples=args.resamples, seed=args.seed)
    config = CompareConfig(dirs=tuple(Path(d) for d in args.dirs), settings=settings, history=args.history,
                           output_dir=Path(args.output_dir) if args.output_dir else None)
    return run_history(config) if config.history else run_compare(config)
