"""Start and stop the embedded demo Flow in its own virtualenv (``.venv-flow``).

jina pins ``urllib3<2`` and Locust needs urllib3 2, so the Flow runs under the flow
virtualenv's ``jina flow --uses`` in a separate process group; this module never imports
jina. Readiness is the gateway's dry-run answer (the gRPC RPC, or ``GET /dry_run`` of a
websocket or HTTP gateway; see :mod:`loadgen.protocols.probes`), not a sleep. Stopping
sends SIGINT to the whole group (SIGTERM to the parent alone leaves Executors holding
their ports), then SIGKILL to whatever is left.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from loadgen.config import TargetConfig
from loadgen.errors import ConfigError, FlowError
from loadgen.home import project_root
from loadgen.ports import free_port
from loadgen.spawn import Spawned, spawn

FLOW_PROTOCOLS = ("grpc", "websocket", "http")


#: The demo indexer's polling: each document indexed on one shard, every shard searched.
DEFAULT_POLLING = "/index:ANY,/search:ALL"
POLLING_TYPES = ("ANY", "ALL", "ALL_ASYNC")


@dataclass(frozen=True, kw_only=True)
class FlowConfig:
    """How to run a demo Flow.

    :param flow: a name under ``scenarios/flows`` (``image``, ``text``) or a path to YAML.
    :param protocol: gateway protocol: ``grpc``, ``websocket`` or ``http``.
    :param port: gateway port; None picks a free one.
    :param replicas: replicas of each Executor (``JINA_REPLICAS_*``).
    :param shards: shards of each Executor (``JINA_SHARDS_*``).
    :param top_k: the indexer's default ``top_k`` (``TOP_K``).
    :param embedding_dim: encoder output size (``JINA_EMBEDDING_DIM``).
    :param raise_on: the indexer raises on docs whose text contains this marker.
    :param polling: the sharded indexer's polling (``JINA_POLLING_INDEXERS``): ``ANY``,
        ``ALL``, or per endpoint ``/index:ANY,/search:ALL`` (the default; see
        :func:`parse_polling`).
    :param startup_timeout_s: give up (and stop the Flow) after this many seconds.
    :param python: the flow virtualenv's interpreter; default ``<project>/.venv-flow``.
    :param workdir: the directory Jina runs in, where the YAML's relative paths
        (``py_modules``, ``uses: x.yml``) are found; default the YAML's own directory (a
        rewritten copy elsewhere names its original's directory here).
    """

    flow: str = "image"
    protocol: str = "grpc"
    port: Optional[int] = None
    replicas: int = 1
    shards: int = 1
    top_k: int = 10
    embedding_dim: int = 128
    raise_on: str = ""
    polling: str = DEFAULT_POLLING
    startup_timeout_s: float = 120.0
    python: Optional[str] = None
    workdir: Optional[str] = None

    def __post_init__(self) -> None:
        if self.protocol not in FLOW_PROTOCOLS:
            raise ConfigError(f"--protocol: the demo Flow serves {', '.join(FLOW_PROTOCOLS)}, not {self.protocol!r}")
        for option, value in (("--replicas", self.replicas), ("--shards", self.shards)):
            if value < 1:
                raise ConfigError(f"{option}: must be >= 1, got {value}")
        parse_polling(self.polling)


def parse_polling(spec: str, *, option: str = "--polling") -> str:
    """Jina's polling argument (a type, or JSON per endpoint) from ``ANY``, ``ALL`` or
    ``/index:ANY,/search:ALL``. :raises ConfigError: naming ``option`` and an example."""
    items = [item.strip() for item in str(spec).split(",") if item.strip()]
    if len(items) <= 1 and ":" not in spec:
        return _polling_type(items[0] if items else "", spec, option)
    per_endpoint = {}
    for item in items:
        endpoint, colon, kind = item.rpartition(":")
        endpoint = endpoint.strip()
        if not colon or not endpoint.startswith(("/", "*")):
            raise ConfigError(f"{option}: cannot read {spec!r}; give ANY, ALL or per endpoint, e.g. "
                              f"/index:ANY,/search:ALL")
        per_endpoint[endpoint] = _polling_type(kind, spec, option)
    return json.dumps(per_endpoint)


def _polling_type(kind: str, spec: str, option: str) -> str:
    if kind.strip().upper() not in POLLING_TYPES:
        raise ConfigError(f"{option}: unknown polling {kind!r} in {spec!r}; use {', '.join(POLLING_TYPES)} "
                          f"(per endpoint: /index:ANY,/search:ALL)")
    return kind.strip().upper()


def flow_yaml(flow: str) -> Path:
    """Resolve ``flow`` to a YAML file. :raises ConfigError: when there is none."""
    candidate = Path(flow)
    if candidate.suffix in (".yml", ".yaml"):
        path = candidate
    else:
        path = project_root() / "scenarios" / "flows" / f"{flow}.yml"
    if not path.is_file():
        known = sorted(p.stem for p in (project_root() / "scenarios" / "flows").glob("*.yml"))
        raise ConfigError(f"--flow: no Flow {flow!r} ({path}); use one of {', '.join(known)} or a YAML path")
    return path.resolve()


def flow_python(config: FlowConfig) -> Path:
    """The flow virtualenv's python. :raises ConfigError: when it is missing."""
    python = Path(config.python or os.environ.get("LOADGEN_FLOW_PYTHON") or project_root() / ".venv-flow/bin/python")
    if not python.exists():
        raise ConfigError(f"no flow virtualenv at {python}: run `make venv-flow` in a checkout, or set "
                          "LOADGEN_FLOW_PYTHON to the python of a virtualenv with Jina (requirements/flow.txt)")
    return python


def flow_env(config: FlowConfig, port: int) -> dict[str, str]:
    """Environment variables the demo Flow YAML reads (names of the original benchmark)."""
    return {
        "JINA_PROTOCOL": config.protocol, "JINA_PORT": str(port),
        "JINA_REPLICAS_ENCODER": str(config.replicas), "JINA_SHARDS_ENCODER": str(config.shards),
        "JINA_REPLICAS_INDEXERS": str(config.replicas), "JINA_SHARDS_INDEXERS": str(config.shards),
        "TOP_K": str(config.top_k), "JINA_EMBEDDING_DIM": str(config.embedding_dim),
        "JINA_INDEXER_RAISE_ON": config.raise_on, "JINA_POLLING_INDEXERS": parse_polling(config.polling),
        # Prometheus metrics per runtime (docs/observability.md). Jina 3.33 gives a sharded
        # Executor's head and its uses_after pod the same monitoring port: the indexer (whose
        # uses_after merges the shards' matches) is monitored only unsharded.
        "JINA_MONITORING_INDEXERS": "true" if config.shards == 1 else "false",
        "JINA_PORT_MONITORING": str(free_port()),  # the gateway's /metrics
        "JINA_HIDE_SURVEY": "1",
        "JINA_OPTOUT_TELEMETRY": "1", "OMP_NUM_THREADS": "1",
        # Jina logs through rich: no colours, wide lines, so errors stay readable in a file.
        "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "160",
    }


class FlowProcess:
    """A running Flow: ``target`` to load it, ``stop()`` (or ``with``) to end it."""

    def __init__(self, config: FlowConfig, port: int, proc: Spawned, log_path: Path):
        self.config, self.port, self.proc, self.log_path = config, port, proc, log_path
        self.target = TargetConfig(protocol=config.protocol, host="127.0.0.1", port=port)

    def log_tail(self, lines: int = 12) -> str:
        """The Flow's first error messages (CRITICAL/ERROR blocks) and its last ``lines`` lines."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        errors = _error_blocks(text)
        return "\n".join([*errors, "...", *text[-lines:]] if errors else text[-lines:])

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGINT to the process group, then SIGKILL after ``timeout_s``; idempotent."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.proc.pid, signal.SIGKILL)  # Executors left behind by the parent
        self.proc.wait()

    def __enter__(self) -> "FlowProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _error_blocks(lines: list[str], limit: int = 12) -> list[str]:
    """Lines of the log's CRITICAL/ERROR entries with their indented continuations."""
    picked: list[str] = []
    inside = False
    for line in lines:
        if line.startswith(("CRIT", "ERROR")):
            inside = True
        elif not line.startswith(" "):
            inside = False
        if inside and line.strip():
            picked.append(line.rstrip())
            if len(picked) >= limit:
                break
    return picked


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start_flow(config: FlowConfig, *, log_dir: Optional[Path] = None) -> FlowProcess:
    """Start the Flow and wait until its gateway answers.

    :raises ConfigError: missing virtualenv, unknown Flow or a port already in use.
    :raises FlowError: the Flow exited or did not become ready within the timeout; the
        message ends with the Flow's own log.
    """
    yaml_path, python = flow_yaml(config.flow), flow_python(config)
    port = config.port or free_port()
    if config.port and _port_in_use(port):
        raise ConfigError(f"--port: {port} is already in use on this machine; pick another or omit --port")
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="loadgen-flow-"))
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the directory {log_dir} for the Flow's log: {exc.strerror}")
    log_path = log_dir / f"flow-{config.flow.replace('/', '_')}-{port}.log"
    # posix_spawn, not Popen: a fork of a process that has used gRPC can abort (loadgen/spawn.py)
    proc = spawn([python.parent / "jina", "flow", "--uses", yaml_path], python=python,
                 cwd=Path(config.workdir or yaml_path.parent), env={**os.environ, **flow_env(config, port)},
                 log_path=log_path)
    flow = FlowProcess(config, port, proc, log_path)
    try:
        _wait_ready(flow)
    except BaseException:
        flow.stop(timeout_s=5)
        raise
    return flow


def _wait_ready(flow: FlowProcess) -> None:
    from loadgen.protocols import probe

    deadline = time.monotonic() + flow.config.startup_timeout_s
    reason = "not started"
    while time.monotonic() < deadline:
        if flow.proc.poll() is not None:
            raise FlowError(f"the Flow exited with code {flow.proc.returncode} before it was ready; "
                            f"its log ({flow.log_path}) says:\n{flow.log_tail()}")
        reason = probe(flow.target, timeout_s=1.0)
        if reason is None:
            return
        time.sleep(0.25)
    raise FlowError(f"the Flow was not ready after {flow.config.startup_timeout_s:g} s ({reason}); "
                    f"its log ({flow.log_path}) says:\n{flow.log_tail()}")


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
