"""One headless Locust run driven through Locust's library API, in the calling process.

``loadgen run``'s ``index``/``query`` steps use it (loadgen.scenarios.locust_step): an
:class:`~locust.env.Environment` with loadgen's listeners on its own ``Events``, a
``LocalRunner`` -- or a ``MasterRunner`` plus ``workers`` ``locust --worker`` processes on
loopback -- started for ``-u`` users, stopped after ``-t``, then the ``quitting`` event that
makes loadgen write ``summary.json``. Options are Locust's command line (``-f``, ``-u``,
``-t``, ``--host``, loadgen's own), parsed by Locust's parser plus loadgen's arguments, so a
step is exactly what ``locust -f ... --headless`` would run and can be re-run by hand. The
command line is all there is: no config file is read and the environment variables of the
options (``LOADGEN_*``, ``LOCUST_*``) are ignored, in this process and in the workers, so a
stray variable in the caller's environment cannot change a step behind its logged command.

Why each run gets its own ``Events``: Locust's module-level ``events`` outlive a run, and
consecutive steps in one process would pile up listeners. Importing this module imports
locust, which monkey-patches the standard library with gevent: the caller must import it
before anything imports ``ssl`` (``loadgen run`` does so first thing).

During the run the process's stdout/stderr and the root logger go to ``log_path`` (Locust's
and loadgen's log lines, loadgen's one-line errors); SIGINT and SIGTERM stop the users,
let loadgen write its results, and then raise ``KeyboardInterrupt`` in the caller.
"""
from __future__ import annotations

import contextlib
import importlib.util
import inspect
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import gevent
from locust import User
from locust.argument_parser import get_empty_argument_parser, setup_parser_arguments
from locust.env import Environment
from locust.event import Events

from loadgen.spawn import Spawned, spawn_into
from loadgen.config import PROTOCOLS
from loadgen.ports import free_port
from loadgen.locust_adapter.options import add_arguments
from loadgen.locust_adapter.lifecycle import register
from loadgen.locust_adapter.session import forget
from loadgen.redact import redact_argv

WORKERS_READY_TIMEOUT_S = 60.0
WORKER_EXIT_TIMEOUT_S = 30.0
PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class Progress:
    """A running load's figures so far: ``elapsed_s`` since the users started (s), loadgen
    requests and failures, and Locust's current rate (requests/s over its last seconds)."""

    elapsed_s: float
    requests: int
    failures: int
    current_rps: float


@dataclass(frozen=True, kw_only=True)
class LocustRun:
    """A headless run: ``argv`` is Locust's command line without the program name (must
    contain ``-f LOCUSTFILE``, ``-u``, ``-t``); ``kind`` the documents (``image``/``text``);
    ``workers`` 0 for one process, else a master and that many worker processes."""

    argv: tuple[str, ...]
    kind: str
    log_path: Path
    workers: int = 0


class RunInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM stopped the run; its results were written. Carries the exit code."""

    def __init__(self, exit_code: int):
        super().__init__("interrupted")
        self.exit_code = exit_code


def run_headless(run: LocustRun, *, on_progress: Callable[[Progress], Any] = lambda _: None) -> int:
    """Run ``run`` to its end (or until ``on_progress`` returns True); returns Locust's exit
    code (0, 1 some requests failed, 2 bad options, 3 an SLO gate failed).
    :raises RunInterrupted: on SIGINT/SIGTERM, after the results were written."""
    options = parse_options(run.argv)
    with _captured_output(run.log_path) as log:
        print("equivalent command: locust " + " ".join(redact_argv(run.argv)), file=log, flush=True)
        env = Environment(user_classes=user_classes(options.locustfile), host=options.host, events=Events(),
                          parsed_options=options, stop_timeout=options.stop_timeout, locustfile=options.locustfile)
        env.loadgen_embedded = True  # tells the session not to take over SIGINT
        env.loadgen_command = ("locust", *redact_argv(run.argv))  # summary.json run.command
        register(env.events, kind=run.kind)
        fleet = _Fleet(run, log, locustfile=options.locustfile)
        try:
            return _drive(env, fleet, on_progress)
        finally:
            fleet.close()
            forget(env)


def parse_options(argv: tuple[str, ...]) -> Any:
    """Locust's options plus loadgen's, from a command line alone (no config files, no
    environment variables: a step's options are all on its line)."""
    return _parser().parse_args(list(argv), env_vars={})


def environment_without_options() -> dict[str, str]:
    """This process's environment minus the variables Locust's and loadgen's options read
    (``LOCUST_HOST``, ``LOADGEN_TASK_MIX``, ...): what a step's worker processes get.
    ``LOADGEN_HOME``, ``LOADGEN_FLOW_PYTHON``, ``PYTHONPATH`` and the like stay."""
    names = {action.env_var for action in _parser()._actions if getattr(action, "env_var", None)}
    return {name: value for name, value in os.environ.items() if name not in names}


def _parser() -> Any:
    parser = get_empty_argument_parser(add_help=False, default_config_files=[])
    setup_parser_arguments(parser)
    add_arguments(parser)
    return parser


_LOCUSTFILES: dict[str, Any] = {}


def user_classes(locustfile: str) -> list[type[User]]:
    """The concrete User classes a locustfile defines (the module is loaded once per
    process; its ``register(events)`` call wires the global events, which this module never
    fires)."""
    path = str(Path(locustfile).resolve())
    if path not in _LOCUSTFILES:
        spec = importlib.util.spec_from_file_location(f"loadgen_locustfile_{len(_LOCUSTFILES)}", path)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"cannot load the locustfile {locustfile}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOCUSTFILES[path] = module
    module = _LOCUSTFILES[path]
    return [value for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, User) and not value.abstract]


@contextlib.contextmanager
def _captured_output(log_path: Path) -> Iterator[Any]:
    """stdout, stderr and the root logger (INFO) into ``log_path`` for the run's duration."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    with open(log_path, "a", buffering=1, encoding="utf-8", errors="replace") as log:
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(name)s/%(levelname)s/%(message)s"))
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield log
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


class _Fleet:
    """The run's runner: a LocalRunner, or with ``workers`` a MasterRunner on a private
    loopback port (Locust's default 5557 would collect the workers of any other run on this
    machine) and its ``locust --worker`` processes, started once ``init`` went well."""

    def __init__(self, run: LocustRun, log: Any, *, locustfile: str):
        self.workers, self.log = run.workers, log
        self.port = free_port() if run.workers else 0
        self.argv = [sys.executable, "-m", "locust", "-f", locustfile, "--worker", "--master-host",
                     "127.0.0.1", "--master-port", str(self.port)]
        self.procs: list[Spawned] = []

    def runner(self, env: Environment) -> Any:
        if not self.workers:
            return env.create_local_runner()
        return env.create_master_runner(master_bind_host="127.0.0.1", master_bind_port=self.port)

    def start_workers(self) -> None:
        env = environment_without_options()  # the master sends them the step's options
        # posix_spawn, not Popen: gevent's Popen forks this process, which has used gRPC, and
        # gRPC's fork handlers abort a child now and then (loadgen/spawn.py): a worker that
        # never connects
        self.log.flush()
        self.procs = [spawn_into(self.argv, python=Path(sys.executable), cwd=Path.cwd(), env=env,
                                 out_fd=self.log.fileno()) for _ in range(self.workers)]

    def ready(self, runner: Any) -> bool:
        """Wait until every worker has connected (False after WORKERS_READY_TIMEOUT_S)."""
        started = time.monotonic()
        while self.workers and len(runner.clients.ready) < self.workers:
            if time.monotonic() - started > WORKERS_READY_TIMEOUT_S:
                return False
            gevent.sleep(0.1)
        return True

    def close(self) -> None:
        """Wait for the workers (they quit with the master's ``quit``), kill what is left."""
        deadline = time.monotonic() + WORKER_EXIT_TIMEOUT_S
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _drive(env: Environment, fleet: _Fleet, on_progress: Callable[[Progress], Any]) -> int:
    """Fire ``init``, start the users (after the workers connected), stop after ``-t``, fire
    ``quitting``; returns the exit code. SIGINT/SIGTERM quit early (then RunInterrupted)."""
    runner = fleet.runner(env)
    try:
        env.events.init.fire(environment=env, runner=runner, web_ui=None)
    except SystemExit as exc:  # loadgen's fail(): a one-line error is in the log
        runner.quit()
        return exc.code if isinstance(exc.code, int) else 2
    options, stopped_by = env.parsed_options, []
    fleet.start_workers()
    with _stop_on_signals(runner, stopped_by):
        if not fleet.ready(runner):
            runner.quit()
            print("loadgen: error: the worker processes did not connect to the master "
                  f"within {WORKERS_READY_TIMEOUT_S:g} s", file=sys.stderr, flush=True)
            return 1
        runner.start(options.num_users, options.spawn_rate)
        timer = gevent.spawn_later(options.run_time, runner.quit)
        _report_progress(env, runner, on_progress)
        timer.kill(block=False)
        env.events.quitting.fire(environment=env, reverse=True)
        runner.quit()
    code = _exit_code(env, runner)
    if stopped_by:
        raise RunInterrupted(code)
    return code


def _report_progress(env: Environment, runner: Any, on_progress: Callable[[Progress], Any]) -> None:
    """Call ``on_progress`` every PROGRESS_EVERY_S seconds until the runner has stopped; when
    it returns True the run ends now, as if ``-t`` had elapsed (a capacity trial whose
    windows agree)."""
    started, stopped, ending = time.monotonic(), False, False
    while not stopped:
        # Runner.greenlet is a Group that holds Locust's monitors until quit() kills them.
        stopped = runner.greenlet.join(timeout=PROGRESS_EVERY_S)
        # Request types are the protocols; the others are per-Executor breakdown rows.
        entries = [e for e in env.stats.entries.values() if e.method in PROTOCOLS]
        end = on_progress(Progress(elapsed_s=time.monotonic() - started, requests=sum(e.num_requests for e in entries),
                                   failures=sum(e.num_failures for e in entries),
                                   current_rps=sum(e.current_rps or 0.0 for e in entries)))
        if end is True and not ending and not stopped:
            ending = True
            gevent.spawn(runner.quit)


@contextlib.contextmanager
def _stop_on_signals(runner: Any, stopped_by: list[int]) -> Iterator[None]:
    """SIGINT/SIGTERM: quit the runner in a greenlet of its own (not KeyboardInterrupt inside
    a user greenlet); the previous handlers come back afterwards."""
    def stop(signum: int) -> None:
        stopped_by.append(signum)
        gevent.spawn(runner.quit)
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    watchers = [gevent.signal_handler(s, stop, s) for s in previous]
    try:
        yield
    finally:
        for watcher in watchers:
            watcher.cancel()
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _exit_code(env: Environment, runner: Any) -> int:
    """Locust's rule: the code a listener set (loadgen: 3 for an SLO), else
    ``--exit-code-on-error`` (1) when requests failed, else 0."""
    if env.process_exit_code is not None:
        return env.process_exit_code
    failed = runner.stats.total.num_failures or runner.errors or runner.exceptions
    return env.parsed_options.exit_code_on_error if failed else 0
