"""The step methods of a scenario: one module each, and :data:`METHODS`, name -> :class:`Method`.

A method module exports its :class:`~loadgen.scenarios.methods.base.Method`: its keys
(a :class:`~loadgen.scenarios.params.Param` table), its ``finish`` check, its ``order``
check (what it needs from the steps before it, what it sets up for the ones after) and its
``run``. The loader and the runner only look a method up here. To add a step method: a new
module here exporting a ``Method``, one entry in :data:`METHODS`, a section in
docs/scenarios.md.
"""
from __future__ import annotations

from typing import Sequence

from loadgen.scenarios.methods import (advise, compare, find_capacity, index_query, report, s3, start_flow, terminate_flow,
                                     workspace)
from loadgen.scenarios.methods.base import Method, Preceding, StepFailed, StepRun, StepSource
from loadgen.scenarios.model import Step

# In the order error messages list them ("use one of ...").
METHODS: dict[str, Method] = {
    "create_workspace": workspace.CREATE,
    "update_workspace": workspace.UPDATE,
    "delete_workspace": workspace.DELETE,
    "start_flow": start_flow.METHOD,
    "terminate_flow": terminate_flow.METHOD,
    "index": index_query.INDEX,
    "query": index_query.QUERY,
    "find_capacity": find_capacity.METHOD,
    "advise": advise.METHOD,
    "upload_to_s3": s3.UPLOAD,
    "download_from_s3": s3.DOWNLOAD,
    "report": report.METHOD,
    "compare": compare.METHOD,
}


def check_order(steps: Sequence[Step]) -> None:
    """Check what a job's steps need from the steps before them (each method's ``order``).
    :raises ScenarioError:"""
    before = Preceding()
    for step in steps:
        METHODS[step.method].order(step, before)


__all__ = ["METHODS", "Method", "StepFailed", "StepRun", "StepSource", "check_order"]
