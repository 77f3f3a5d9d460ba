"""The rate sequence of a capacity search (pure: no clock, no load; the caller runs the trials).

Start at ``rate_start``; while trials hold, multiply by ``rate_factor`` (never past
``rate_max``); once one fails, bisect between the highest held and the lowest failed rate
until ``lowest_failed <= highest_held * (1 + precision)``. When the very first trial fails,
divide by ``rate_factor`` until one holds (below ``rate_min`` the search gives up: no rate
holds). A trial may also stop the search on its own (a saturated load generator).

How the search ended is its ``limit``:

============  ==================================================================================
``slo``       the gates decided: held and failed rates are within ``precision`` (or none held)
``rate-max``  ``rate_max`` itself held: the Flow may hold more, the search was not allowed higher
``generator`` a trial found the load generator saturated; what it measured was not the Flow
``time``      ``--max-time`` ran out before the bracket closed (the caller decides when)
============  ==================================================================================

Example (a fake trial that holds up to 150 req/s)::

    search = Search(SearchConfig(rate_start=50, precision=0.1))
    while (rate := search.next_rate()) is not None:
        search.record(rate, held=rate <= 150)
    search.best, search.limit   # (150.0, "slo"): tried 50, 100, 200, 150, 175, 162.5
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

LIMITS = ("slo", "rate-max", "generator", "time")


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """How rates are chosen; rates in requests per second (fleet-wide).

    :param rate_start: the first offered rate (None: not known yet; a probe decides and the
        caller gives it to :class:`Search`).
    :param rate_factor: growth (and, while nothing held, shrink) factor, > 1.
    :param precision: relative width at which bisection stops, > 0 (0.05 = 5 %).
    :param rate_max: never offer more (None: no bound).
    :param rate_min: below this the search stops looking for a rate that holds.
    """

    rate_start: Optional[float] = None
    rate_factor: float = 2.0
    precision: float = 0.05
    rate_max: Optional[float] = None
    rate_min: float = 1.0


@dataclass
class Search:
    """The state of one search: feed each trial's outcome to :meth:`record`, ask
    :meth:`next_rate` for the next rate (None: the search is over, see ``limit``)."""

    config: SearchConfig
    highest_held: Optional[float] = None
    lowest_failed: Optional[float] = None
    limit: Optional[str] = None
    tried: list[tuple[float, bool]] = field(default_factory=list)

    @property
    def best(self) -> Optional[float]:
        """The highest rate that held (None when none did)."""
        return self.highest_held

    def record(self, rate: float, *, held: bool, stop: Optional[str] = None) -> None:
        """A trial at ``rate`` held or not; ``stop`` (a limit) ends the search."""
        self.tried.append((rate, held))
        if held and (self.highest_held is None or rate > self.highest_held):
            self.highest_held = rate
        if not held and (self.lowest_failed is None or rate < self.lowest_failed):
            self.lowest_failed = rate
        if stop is not None:
            self.limit = stop

    def stop(self, limit: str) -> None:
        """End the search from outside (e.g. ``time``); a limit already set stays."""
        self.limit = self.limit or limit

    def next_rate(self) -> Optional[float]:
        """The next rate to try, or None when the search is over (``limit`` says why)."""
        if self.limit is not None:
            return None
        config, held, failed = self.config, self.highest_held, self.lowest_failed
        if not self.tried:
            if config.rate_start is None:
                raise ValueError("SearchConfig.rate_start is not set")
            return config.rate_start
        if failed is None:
            return self._grow(held)
        if held is None:
            return self._shrink(failed)
        if failed <= held * (1 + config.precision):
            self.limit = "slo"
            return None
        return (held + failed) / 2

    def _grow(self, held: float) -> Optional[float]:
        rate_max = self.config.rate_max
        if rate_max is not None and held >= rate_max:
            self.limit = "rate-max"
            return None
        rate = held * self.config.rate_factor
        return min(rate, rate_max) if rate_max is not None else rate

    def _shrink(self, failed: float) -> Optional[float]:
        rate = failed / self.config.rate_factor
        if rate < self.config.rate_min:
            self.limit = "slo"
            return None
        return rate
