"""``create_workspace``, ``update_workspace``, ``delete_workspace``: the job's workspace
directory ``DIR/<job>/workspace/``, the Jina 3 stand-in for the old JinaD workspace upload.

``create_workspace`` starts from an empty workspace, ``update_workspace`` adds to or
overwrites the existing one, ``delete_workspace`` removes it. The copying is
:meth:`~loadgen.scenarios.job_state.JobState.write_workspace`; a bad ``${...}`` in a copied
Flow YAML is found while the scenario is loaded, not mid-run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from loadgen.scenarios.job_state import workspace_yaml
from loadgen.scenarios.methods.base import Method, Preceding, StepRun, StepSource, existing_path
from loadgen.scenarios.model import ScenarioError, Step, Where
from loadgen.scenarios.params import REQUIRED, Param, strings
from loadgen.scenarios.variables import render_file


def env_mapping(value: Any, where: Where) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise ScenarioError(where, f"must be a mapping of NAME: value, got {value!r}")
    return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


PARAMS = {"files": Param(strings, REQUIRED, "a list of files or directories to copy, e.g. [flows/image.yml, "
                                            "flows/executors]"),
          "environment": Param(env_mapping, {})}


def finish(kwargs: dict, source: StepSource) -> dict:
    """Every file must exist, and every ``${...}`` in the YAML files among them resolve."""
    at = source.at("files")
    files = tuple(existing_path(f, source.base_dir, at.child(i), "file or directory")
                  for i, f in enumerate(kwargs["files"]))
    variables = {**source.variables, **kwargs["environment"]}
    for path in files:  # a bad ${...} in a Flow YAML stops the scenario now, not mid-run
        for yml in workspace_yaml(path):
            try:
                render_file(yml, variables, display=str(yml))
            except (OSError, UnicodeDecodeError) as exc:
                raise ScenarioError(at, f"cannot read {yml}: {getattr(exc, 'strerror', None) or exc}")
    return {**kwargs, "files": tuple(map(str, files))}


def _copied(step: Step, before: Preceding) -> None:
    before.workspace |= {Path(f).name for f in step.kwargs["files"]}


def _updated(step: Step, before: Preceding) -> None:
    if not before.workspace:
        raise ScenarioError(step.where, "no workspace yet: add a create_workspace step before it")
    _copied(step, before)


def _deleted(step: Step, before: Preceding) -> None:
    before.workspace = set()


def _create(ctx: StepRun) -> None:
    ctx.state.write_workspace(ctx.step.kwargs, ctx.variables, fresh=True)


def _update(ctx: StepRun) -> None:
    ctx.state.write_workspace(ctx.step.kwargs, ctx.variables, fresh=False)


def _delete(ctx: StepRun) -> None:
    ctx.state.delete_workspace()


CREATE = Method(params=PARAMS, finish=finish, order=_copied, run=_create)
UPDATE = Method(params=PARAMS, finish=finish, order=_updated, run=_update)
DELETE = Method(params={}, order=_deleted, run=_delete)
