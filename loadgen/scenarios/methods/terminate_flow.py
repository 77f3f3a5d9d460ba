"""``terminate_flow``: stop the job's Flow -- except between sweep points, where the next
point's ``start_flow`` decides whether it keeps running (an unchanged Flow does)."""
from __future__ import annotations

from loadgen.scenarios.methods.base import Method, Preceding, StepRun
from loadgen.scenarios.model import ScenarioError, Step


def order(step: Step, before: Preceding) -> None:
    if before.flow is None:
        raise ScenarioError(step.where, "no Flow is running here: add a start_flow step before it")
    before.flow = None


def run(ctx: StepRun) -> None:
    ctx.state.terminate_flow(keep_for_next_point=not ctx.last_point)


METHOD = Method(params={}, order=order, run=run)
