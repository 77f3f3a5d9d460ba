"""What a capacity search is told: the load (Locust's command line), the trials' windows, the
search bounds and the SLO gates. Keyword-only frozen records; argv is read in
:mod:`loadgen.capacity.cli` (and a scenario step's keys in
:mod:`loadgen.scenarios.methods.find_capacity`), never here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from loadgen.capacity.search import SearchConfig
from loadgen.errors import ConfigError
from loadgen.slo import LATENCY_METRICS, Slo

MIN_USERS = 4  # per load-generating process
MAX_USERS = 500  # per process: each user keeps a channel open to the gateway
NO_LATENCY_GATE_S = 0.5  # the latency budget of user counts when no gate bounds latency


@dataclass(frozen=True, kw_only=True)
class WindowConfig:
    """How one trial measures (seconds).

    :param warmup_s: left out of the trial's figures (rounded up to whole report intervals).
    :param window_s: length of a measurement window (rounded to whole report intervals).
    :param stability: the last 3 windows must agree within this share (0.1 = 10 %).
    :param max_windows: windows at most; a trial whose windows never agree is ``unstable``.
    :param interval_s: the report interval the windows are made of (``--report-interval``).
    """

    warmup_s: float = 3.0
    window_s: float = 5.0
    stability: float = 0.10
    max_windows: int = 8
    interval_s: float = 1.0

    @property
    def intervals_per_window(self) -> int:
        return max(1, round(self.window_s / self.interval_s))

    def run_time_s(self) -> int:
        """Locust's ``-t`` of a trial: warm-up and every window, plus one interval so that
        the last window's interval is written before the run ends (whole seconds)."""
        warmup = math.ceil(self.warmup_s / self.interval_s - 0.25) * self.interval_s
        windows = self.max_windows * self.intervals_per_window * self.interval_s
        return math.ceil(warmup + windows + self.interval_s)

    def shortest_s(self) -> float:
        """A trial's shortest length: warm-up plus 3 windows."""
        return self.warmup_s + 3 * self.intervals_per_window * self.interval_s


@dataclass(frozen=True, kw_only=True)
class LoadConfig:
    """The load of every trial.

    :param argv: Locust's command line without ``-u``, ``-t``, ``--arrival-rate`` and
        ``--results-dir`` (each trial adds its own), e.g. ``-f locustfiles/text.py
        --headless --host grpc://...``.
    :param kind: the locustfile's documents (``image``/``text``).
    :param workers: 0 for one process, else a master plus that many worker processes.
    :param users: ``-u`` of every trial; None: :meth:`users_for` decides per rate.
    :param preindex_docs: documents indexed before the search's first load (the probe's, else
        the first trial's; the demo Flow started for the search: 1000), 0 for none.
    """

    argv: tuple[str, ...]
    kind: str = "image"
    workers: int = 0
    users: Optional[int] = None
    preindex_docs: int = 0

    @property
    def processes(self) -> int:
        return max(1, self.workers)

    def users_for(self, rate: float, slos: tuple[Slo, ...]) -> int:
        """``-u`` for an offered ``rate`` (req/s): the given users, else enough for twice the
        requests in flight that Little's law gives at the largest latency gate (a trial that
        holds its gates never waits for a free user), MIN_USERS..MAX_USERS per process, a
        multiple of the processes (each paces an equal share)."""
        if self.users is not None:
            return self.users
        budgets = [s.threshold / 1000.0 for s in slos if s.metric in LATENCY_METRICS and s.op in ("<", "<=")]
        wanted = math.ceil(2 * rate * max(budgets, default=NO_LATENCY_GATE_S))
        per_process = min(MAX_USERS, max(MIN_USERS, math.ceil(wanted / self.processes)))
        return per_process * self.processes


@dataclass(frozen=True, kw_only=True)
class CapacityConfig:
    """A whole search.

    :param search: the rate sequence; ``rate_start`` None: a short probe decides.
    :param max_time_s: no trial starts once this much time has passed (``limit: "time"``).
    :param slos: the gates a trial must hold (none: only keep up with the offered rate).
    :param results_dir: capacity.json, capacity.html and one directory per trial.
    """

    load: LoadConfig
    windows: WindowConfig
    search: SearchConfig
    slos: tuple[Slo, ...] = ()
    max_time_s: float = 600.0
    results_dir: Path = Path("results")


def check(config: CapacityConfig, *, name: Callable[[str], str] = lambda key: "--" + key.replace("_", "-")) -> None:
    """What the values cannot say one by one; ``name(key)`` is how the user wrote a key
    (``--rate-start`` on the command line, ``rate_start`` in a scenario).
    :raises ConfigError: naming the key and the fix."""
    search, windows = config.search, config.windows
    if search.rate_start is not None and search.rate_max is not None and search.rate_start > search.rate_max:
        raise ConfigError(f"{name('rate_start')}: {search.rate_start:g} is above {name('rate_max')} "
                          f"{search.rate_max:g}; lower {name('rate_start')} or raise {name('rate_max')}")
    if search.rate_factor <= 1:
        raise ConfigError(f"{name('rate_factor')}: must be more than 1, got {search.rate_factor:g}")
    if windows.window_s < windows.interval_s:
        raise ConfigError(f"{name('window')}: {windows.window_s:g} s is shorter than the report interval "
                          f"{windows.interval_s:g} s ({name('report_interval')}); use {name('window')} "
                          f"{windows.interval_s:g} or more, or a shorter {name('report_interval')}")
    if windows.max_windows < 3:
        raise ConfigError(f"{name('max_windows')}: must be at least 3 (the last 3 windows must agree)")
    if config.max_time_s < windows.shortest_s():
        raise ConfigError(f"{name('max_time')}: {config.max_time_s:g} s is shorter than one trial "
                          f"({windows.shortest_s():g} s of warm-up and 3 windows); raise {name('max_time')}")
