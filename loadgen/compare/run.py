"""``loadgen compare BASE NEW`` as one library call: load both, compare, print, write.

:func:`run_compare` prints the table (coloured on a terminal) and one line per regression,
writes ``compare.json``, ``compare.md`` and ``compare.html``, and returns the exit code:
0 no regression, 4 a regression. Bad input raises :class:`~loadgen.errors.ConfigError`
(exit code 2 at the command line).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, TextIO

from loadgen.compare import html
from loadgen.compare.comparison import compare
from loadgen.compare.records import Comparison, Settings
from loadgen.compare.render import footer, table, title, write_files
from loadgen.compare.runs import Loaded, kind_of, load
from loadgen.console import print_verdicts
from loadgen.errors import ConfigError

EXIT_OK, EXIT_REGRESSION = 0, 4


@dataclass(frozen=True, kw_only=True)
class CompareConfig:
    """What to compare and how: ``dirs`` in order (BASE NEW; with ``history`` any number),
    the judging ``settings``, and where the files go (default: the last directory)."""

    dirs: tuple[Path, ...]
    settings: Settings = field(default_factory=Settings)
    output_dir: Optional[Path] = None
    history: bool = False

    @property
    def out(self) -> Path:
        return self.output_dir or self.dirs[-1]


def check_settings(settings: Settings) -> None:
    """:raises ConfigError: a confidence outside (0.5, 1) or too few resamples."""
    if not 0.5 < settings.level < 1:
        raise ConfigError(f"--confidence: must be between 0.5 and 1 (e.g. 0.99), got {settings.level}")
    if settings.resamples < 100:
        raise ConfigError(f"--resamples: must be at least 100 (default 1000), got {settings.resamples}")


def load_pair(base: Path, new: Path, *, job: Optional[str] = None) -> tuple[Loaded, Loaded]:
    """Both sides; a missing or foreign directory fails before anything is read."""
    kind_of(Path(base), "BASE")
    kind_of(Path(new), "NEW")
    return load(Path(base), "BASE", job=job), load(Path(new), "NEW", job=job)


def judge_pair(base: Loaded, new: Loaded, settings: Settings, out: Path) -> Comparison:
    """Compare and write ``compare.json``, ``compare.md`` and ``compare.html`` into ``out``."""
    comparison = compare(base, new, settings)
    write_files(comparison, out, html.render(comparison, base, new))
    return comparison


def run_compare(config: CompareConfig, *, stream: Optional[TextIO] = None) -> int:
    """``loadgen compare BASE NEW``; returns the exit code (0, or 4 on a regression)."""
    stream = stream or sys.stdout
    check_settings(config.settings)
    if len(config.dirs) != 2:
        raise ConfigError(f"compare takes two directories, BASE and NEW (got {len(config.dirs)}); "
                          f"for a trend over more runs add --history")
    base, new = load_pair(*config.dirs)
    comparison = judge_pair(base, new, config.settings, config.out)
    show(comparison, stream)
    print(f"written: {config.out / 'compare.html'} (and compare.json, compare.md)", file=stream, flush=True)
    return EXIT_REGRESSION if comparison.regressions else EXIT_OK


def show(comparison: Comparison, stream: TextIO) -> None:
    """The table (rich on a terminal), then each regression on one line."""
    head, cells = table(comparison)
    print_verdicts(title(comparison), head, cells, stream=stream)
    for line in [*footer(comparison), *(r.regression_line() for r in comparison.regressions)]:
        print(line, file=stream, flush=True)
