"""``report``: print the results table so far (it is also printed at the end, and the files
are rewritten after every load step)."""
from __future__ import annotations

from loadgen.scenarios.methods.base import Method, StepRun


def run(ctx: StepRun) -> None:
    ctx.console.results("", ctx.save())


METHOD = Method(params={}, run=run)
