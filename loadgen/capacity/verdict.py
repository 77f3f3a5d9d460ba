"""A trial's verdict: ``held``, ``violated``, ``unstable`` or ``generator-saturated``, with its reason.

In this order:

1. ``generator-saturated`` -- the trial's ``summary.json`` says the load generator itself was
   saturated (``generator.saturated``; its ``reason`` is repeated). Its figures are the
   generator's limit, not the Flow's, so the search stops (``limit: "generator"``).
2. ``violated`` -- on the merged figures of the trial's last windows an ``--slo`` gate fails
   (:func:`loadgen.slo.evaluate`), or the achieved rate is under :data:`KEEP_UP` of the
   offered one (the Flow did not keep up) by more than its sampling error (Poisson
   arrivals: 30 requests offered per window are 30 ± 16 at 3 standard errors). When many sends left late (more than one arrival
   interval behind their schedule) the reason says the limit may be on the generator's side.
3. ``unstable`` -- the gates hold, but the last windows did not agree within ``--stability``
   (:func:`loadgen.capacity.windows.disagreements`); the reason names what moved.
4. ``held`` -- everything above is fine.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from loadgen.sampling import count_bounds
from loadgen.slo import Slo, evaluate

HELD, VIOLATED, UNSTABLE, SATURATED = "held", "violated", "unstable", "generator-saturated"
VERDICTS = (HELD, VIOLATED, UNSTABLE, SATURATED)
KEEP_UP = 0.95  # achieved / offered at least this
LATE_HINT = 0.01  # share of late sends from which a failure's reason names the generator


@dataclass(frozen=True)
class Judgement:
    verdict: str
    reason: str

    @property
    def held(self) -> bool:
        return self.verdict == HELD


def judge(*, figures: Mapping[str, Any], offered_rate: float, slos: Sequence[Slo], disagreements: Sequence[str],
          generator: Optional[Mapping[str, Any]] = None, late_share: float = 0.0, users: int = 0) -> Judgement:
    """The verdict of a trial offered ``offered_rate`` req/s whose merged windows have
    ``figures`` (summary.json's ``endpoints``/``total`` keys).

    :param disagreements: what the last windows disagree on (empty: stable).
    :param generator: the trial's ``summary.json`` ``generator`` (missing: not saturated).
    :param late_share: late sends / requests of the whole trial.
    :param users: the trial's users (named in the generator-side hint).
    """
    if generator and generator.get("saturated"):
        return Judgement(SATURATED, str(generator.get("reason") or "the load generator was saturated"))
    verdicts = [evaluate(slo, figures) for slo in slos]
    failed = [_gate_line(v) for v in verdicts if not v.passed]
    achieved, count = figures["total"]["rps"], figures["total"]["requests"]
    achieved_high = count_bounds(count)[1] * achieved / count if count else 0.0
    if achieved_high < KEEP_UP * offered_rate:
        failed.append(f"achieved {achieved:.4g} of {offered_rate:.4g} req/s offered "
                      f"({100 * achieved / offered_rate:.0f} % < {100 * KEEP_UP:.0f} %): the Flow did not keep up")
    if failed:
        if late_share >= LATE_HINT:
            failed.append(f"{100 * late_share:.0f} % of sends left late: a generator-side limit too "
                          f"(all {users} users busy, or the generator overloaded; raise -u or add --processes)")
        return Judgement(VIOLATED, "; ".join(failed))
    if disagreements:
        return Judgement(UNSTABLE, "the last windows disagree: " + "; ".join(disagreements))
    return Judgement(HELD, "; ".join(_gate_line(v) for v in verdicts) or "kept up")


def _gate_line(verdict: Any) -> str:
    """``/search:p99<60ms: 75.2 ms`` (the gate, then the figure it saw)."""
    if verdict.actual is None:
        return f"{verdict.slo.text}: no requests to {verdict.slo.endpoint}"
    unit = verdict.line.rsplit("=", 1)[-1].strip()
    return f"{verdict.slo.text}: {unit}"
