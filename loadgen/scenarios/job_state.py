"""What the steps of one job share: its workspace and its Flow.

:class:`JobState` holds the workspace directory (the local stand-in for the old JinaD
workspace upload: the Flow YAML and Executor files copied, with ``${...}`` substituted in
the YAML), the running Flow, and whether it may be kept for the next sweep point. A Flow
is restarted only when its parameters (or the workspace it came from) change between
points; :meth:`JobState.close` stops it whatever happens.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from loadgen.errors import ConfigError
from loadgen.config import TargetConfig
from loadgen.flowctl import FlowConfig, FlowProcess, start_flow
from loadgen.scenarios.variables import render_file

YAML_SUFFIXES = (".yml", ".yaml")


class JobState:
    """The workspace and Flow of one job (see the module docstring)."""

    def __init__(self, job_dir: Path, *, out: Callable[[str], Any] = print):
        self.job_dir = job_dir
        self.out = out
        self.workspace: Optional[Path] = None
        self.workspace_digest = ""  # of the workspace's files: a Flow started from other content is stale
        self.flow: Optional[FlowProcess] = None
        self._flow_key: Any = None

    # -- workspaces ---------------------------------------------------------------------
    def write_workspace(self, kwargs: Mapping[str, Any], variables: Mapping[str, str], *, fresh: bool) -> Path:
        """Copy ``files`` into the workspace (emptied first when ``fresh``), substituting
        ``${...}`` in YAML files with ``variables`` plus ``environment``."""
        workspace = self.job_dir / "workspace"
        if fresh and workspace.exists():
            shutil.rmtree(workspace)
        workspace.mkdir(parents=True, exist_ok=True)
        values = {**variables, **kwargs["environment"]}
        for source in map(Path, kwargs["files"]):
            copy_rendered(source, workspace / source.name, values)
        self.workspace, self.workspace_digest = workspace, digest(workspace)
        return workspace

    def delete_workspace(self) -> None:
        if self.workspace is not None and self.workspace.exists():
            shutil.rmtree(self.workspace)
        self.workspace, self.workspace_digest = None, ""

    # -- Flows --------------------------------------------------------------------------
    def start_flow(self, kwargs: Mapping[str, Any], *, log_dir: Path) -> FlowProcess:
        """Start the step's Flow, or keep the running one when nothing about it changed."""
        config = flow_config(kwargs, self.workspace)
        key = (config, self.workspace_digest if kwargs["file"] else "")
        if self.flow is not None and self._flow_key == key and self.flow.proc.poll() is None:
            self.out(f"  Flow unchanged, still serving at {self.flow.target.url}")
            return self.flow
        self.stop_flow()
        self.flow = start_flow(config, log_dir=log_dir)
        self._flow_key = key
        self.out(f"  Flow ready at {self.flow.target.url} (log: {self.flow.log_path})")
        return self.flow

    def terminate_flow(self, *, keep_for_next_point: bool) -> None:
        """Stop the Flow, unless the next sweep point may reuse it (its start_flow decides)."""
        if keep_for_next_point and self.flow is not None:
            return
        self.stop_flow()

    def stop_flow(self) -> None:
        flow, self.flow, self._flow_key = self.flow, None, None
        if flow is None:
            return
        try:
            flow.stop()
        except KeyboardInterrupt:  # a second Ctrl-C: do not leave the Flow's processes behind
            flow.stop(timeout_s=0)
            raise

    def target(self, kwargs: Mapping[str, Any]) -> TargetConfig:
        """The gateway of a load step: ``gateway_host``/``gateway_port``, else the job's Flow."""
        if kwargs["gateway_host"] is not None:
            return TargetConfig(protocol=kwargs["protocol"] or "grpc", host=kwargs["gateway_host"],
                                port=kwargs["gateway_port"], grpc_mode=kwargs["grpc_mode"])
        if self.flow is None:
            raise ConfigError("no Flow is running for this step; add a start_flow step before it")
        return self.flow.target

    def close(self) -> None:
        """Stop the job's Flow (the workspace stays, with the results)."""
        self.stop_flow()


def flow_config(kwargs: Mapping[str, Any], workspace: Optional[Path]) -> FlowConfig:
    """The :class:`FlowConfig` of a ``start_flow`` step (``file:`` resolved in the workspace)."""
    if kwargs["file"] is not None:
        if workspace is None:
            raise ConfigError("file: no workspace exists; add a create_workspace step before start_flow")
        flow = str(workspace / kwargs["file"])
    else:
        flow = kwargs["flow"]
    return FlowConfig(flow=flow, protocol=kwargs["protocol"], port=kwargs["port"], replicas=kwargs["replicas"],
                      shards=kwargs["shards"], top_k=kwargs["top_k"], polling=kwargs["polling"],
                      startup_timeout_s=kwargs["startup_timeout"])


def digest(directory: Path) -> str:
    """SHA-256 over the relative paths and contents of every file below ``directory``."""
    sha = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        sha.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def copy_rendered(source: Path, dest: Path, variables: Mapping[str, str]) -> None:
    """Copy a file or a directory tree; YAML files get their ``${...}`` substituted."""
    if source.is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        for child in source.iterdir():
            if child.name != "__pycache__":
                copy_rendered(child, dest / child.name, variables)
    elif source.suffix in YAML_SUFFIXES:
        dest.write_text(render_file(source, variables, display=str(source)), encoding="utf-8")
    else:
        shutil.copy2(source, dest)


def workspace_yaml(path: Path) -> list[Path]:
    """The YAML files of a workspace entry (a file, or every *.yml/*.yaml below a directory)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    return [path] if path.suffix in YAML_SUFFIXES else []
