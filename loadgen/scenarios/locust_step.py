"""A load step as one headless Locust run, through Locust's library API.

A step becomes Locust's command line (``-f locustfiles/<kind>.py -u N -t Ts --host ...``
plus loadgen's options: ``--task-mix index:1`` or ``search:1``, ``--request-size``,
``--top-k``, ``--arrival-rate``, ``--slo``, ...) with its own ``--results-dir``;
:mod:`loadgen.locust_adapter.library` runs it in this process -- an ``Environment`` with a
local runner, or a master plus ``workers: N`` worker processes -- and this module reads the
``summary.json`` loadgen writes there (:func:`load_status` tells how the step went). The
step's log (``locust.log``) starts with the equivalent ``locust`` command, so any step can
be re-run by hand. What an ``index``/``query`` step is (its keys, checks and table row) is
:mod:`loadgen.scenarios.methods.index_query`.

The Locust adapter is imported only when a step runs (:func:`prepare`, called by ``loadgen
run`` before anything else is imported, because importing locust monkey-patches the
standard library with gevent); nothing else in loadgen.scenarios imports locust or gevent.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from loadgen.config import TargetConfig
from loadgen.home import locustfile_path
from loadgen.plugins import dump_kwargs

ENDPOINTS = {"index": "/index", "query": "/search"}  # step method -> the one endpoint it sends
KINDS = {"image": "image", "text": "text", "replay": "image"}  # locustfile -> its register(kind=...)


@dataclass(frozen=True, kw_only=True)
class LoadOutcome:
    """What a load step left behind: ``summary`` (None when Locust wrote none), Locust's
    exit code (1: some requests failed, 2: usage, 3: an SLO gate failed) and its log."""

    summary: Optional[dict[str, Any]]
    exit_code: int
    log_path: Path

    def error_line(self) -> str:
        """loadgen's own one-line error from the log, else Locust's last error, else its last line."""
        try:
            lines = [line.strip() for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        ours = [line for line in lines if "loadgen: error:" in line]
        locusts = [line for line in lines if "/ERROR/" in line or "/CRITICAL/" in line]
        return (ours or locusts or lines or [""])[-1]


def run_time(seconds: float) -> list[str]:
    """``-t`` for ``seconds``: Locust's run time is whole seconds, so a fraction is rounded up
    for ``-t`` and the run is stopped on time by loadgen's ``--duration`` (float seconds)."""
    if float(seconds).is_integer():
        return ["-t", f"{seconds:g}s"]
    return ["-t", f"{math.ceil(seconds)}s", "--duration", f"{seconds:g}"]


def locust_options(method: str, kwargs: Mapping[str, Any], *, target: TargetConfig,
                   results_dir: Path) -> list[str]:
    """The Locust command line of a load step, without the program name."""
    inputs = kwargs["inputs"]
    users = str(kwargs["num_clients"])
    argv = ["-f", str(locustfile_path(locustfile_of(kwargs))),
            "--headless", "--only-summary", "-u", users, "-r", users, *run_time(kwargs["execution_time"]),
            "--host", target.url, "--task-mix", f"{ENDPOINTS[method].lstrip('/')}:1",
            "--request-size", str(kwargs["request_size"]), "--top-k", str(kwargs.get("top_k", 10)),
            "--seed", str(inputs.seed), "--grpc-mode", kwargs["grpc_mode"], "--timeout", f"{kwargs['timeout']:g}",
            "--preindex-docs", "0", "--results-dir", str(results_dir),
            # The step's directory is the scenario run's own (new with each run); a reused
            # `loadgen run --results-dir` replaces its steps' results, as it replaces its table.
            "--overwrite"]
    if inputs.image_shape:
        argv += ["--image-shape", ",".join(map(str, inputs.image_shape))]
    if kwargs.get("image_dtype"):
        argv += ["--image-dtype", kwargs["image_dtype"]]
    if inputs.dataset:
        argv += _call_options("--dataset", inputs.dataset, inputs.kwargs)
    check = kwargs.get("on_always")
    if check is not None and check.shards:
        argv += ["--match-field", "shard"]  # the demo indexer names its shard in each match
    if check is not None and check.validator:
        argv += _call_options("--validator", check.validator, check.kwargs)
    if kwargs["replay_file"]:
        # The file's lines choose endpoints and documents; start it again at its end (Iago's
        # default) so that the step lasts execution_time.
        argv += ["--replay-file", kwargs["replay_file"], "--reuse-file"]
    if kwargs["arrival_rate"]:
        argv += ["--arrival-rate", kwargs["arrival_rate"]]
    for slo in kwargs["slo"]:
        argv += ["--slo", slo]
    for header in kwargs.get("headers", ()):
        argv += ["--header", header]
    if kwargs.get("server_metrics"):
        argv += ["--server-metrics", kwargs["server_metrics"]]
    return argv


def _call_options(option: str, spec: str, kwargs: Mapping[str, Any]) -> list[str]:
    """``OPTION SPEC`` of a user function, plus ``OPTION-kwargs JSON`` when it has arguments."""
    return [option, spec] + ([f"{option}-kwargs", dump_kwargs(kwargs)] if kwargs else [])


def locustfile_of(kwargs: Mapping[str, Any]) -> str:
    return "replay" if kwargs["replay_file"] else kwargs["inputs"].kind


def prepare() -> None:
    """Import the Locust adapter now (gevent's monkey-patching must precede ``ssl``)."""
    import loadgen.locust_adapter.library  # noqa: F401


def run_load(argv: list[str], *, kind: str, workers: int, results_dir: Path,
             progress: Callable[[Any], None] = lambda _: None) -> LoadOutcome:
    """Run Locust to the step's end; ``progress`` gets a
    :class:`~loadgen.locust_adapter.library.Progress` about every half second. Ctrl-C
    stops the users, keeps the results and raises ``KeyboardInterrupt``."""
    from loadgen.locust_adapter.library import LocustRun, run_headless

    results_dir.mkdir(parents=True, exist_ok=True)
    log_path = results_dir / "locust.log"
    code = run_headless(LocustRun(argv=tuple(argv), kind=kind, log_path=log_path, workers=workers or 0),
                        on_progress=progress)
    return LoadOutcome(summary=read_summary(results_dir), exit_code=code, log_path=log_path)


def read_summary(results_dir: Path) -> Optional[dict[str, Any]]:
    try:
        return json.loads((results_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_status(outcome: LoadOutcome) -> str:
    """``ok``, ``failures``, ``slo failed`` or ``failed: <why>`` (the step failed)."""
    if outcome.summary is None or outcome.exit_code not in (0, 1, 3):
        return f"failed: Locust exited with code {outcome.exit_code}: {outcome.error_line() or 'no summary.json written'}"
    if outcome.exit_code == 3:
        return "slo failed"
    return "failures" if outcome.exit_code == 1 or outcome.summary["total"]["failures"] else "ok"
