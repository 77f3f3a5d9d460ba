"""``loadgen capacity``: argv -> a :class:`~loadgen.capacity.config.CapacityConfig` -> one
:func:`~loadgen.capacity.driver.find_capacity` call (docs/capacity.md).

The command's own options are declared here; every other option (Locust's and loadgen's
run options: ``--request-size``, ``--task-mix``, ``--timeout``, ...) is passed to each
trial as is, and checked once, before anything runs, by the same parsers a run uses.
Without ``--host`` the demo Flow is started once for the whole search (``--flow``,
``--flow-replicas``, ``--flow-shards``) and 1000 documents are indexed by the probe.
"""
from __future__ import annotations

import argparse
import contextlib
import io
from dataclasses import replace
import re
import signal
from pathlib import Path
from typing import Any, Iterator, Optional

from loadgen.capacity.config import CapacityConfig, LoadConfig, WindowConfig, check
from loadgen.capacity.driver import exit_code, find_capacity, results_dir_default
from loadgen.capacity.report import final_line, table_rows
from loadgen.capacity.search import SearchConfig
from loadgen.console import Console
from loadgen.errors import ConfigError, RunError
from loadgen.slo import parse_slo

AUTO_PREINDEX_DOCS = 1000
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(s|m|h)?\s*\Z")
_PERCENT = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*\Z")
REFUSED = {"run_time": ("-t", "each trial's length comes from --trial-warmup, --window and --max-windows"),
           "arrival_rate": ("--arrival-rate", "the search chooses the rates: use --rate-start/--rate-max")}


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``loadgen capacity`` (its unknown options go to Locust: ``accepts_extra``)."""
    cap = commands.add_parser("capacity", help="find the highest request rate a Flow holds within its SLO "
                                               "(docs/capacity.md); other options go to each trial's Locust run")
    cap.add_argument("-f", "--locustfile", required=True, help="the locustfile, e.g. locustfiles/text.py")
    add_options(cap)
    cap.set_defaults(handler=capacity_command, accepts_extra=True)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The search's options (also ``loadgen advise``'s): gates, rates, windows, users, results."""
    parser.add_argument("--host", default="", help="the gateway, e.g. grpc://HOST:PORT (default: start the demo Flow)")
    parser.add_argument("--slo", action="append", default=[], help="a gate every held trial passes, repeatable: "
                                                                   "'/search:p99<200ms', 'failures<1%%'")
    add = parser.add_argument
    add("--rate-start", default=None, help="first offered req/s (default: half of a 3 s closed-loop probe's)")
    add("--rate-factor", default="2", help="growth factor until a trial fails (default: 2)")
    add("--precision", default="5%", help="bisect until held and failed rates are this close (default: 5%%)")
    add("--rate-max", default=None, help="never offer more req/s (default: no bound)")
    add("--rate-min", default="1", help="give up below this many req/s (default: 1)")
    add("--max-time", default="10m", help="start no trial after this long, e.g. 90s, 10m (default: 10m)")
    add("--trial-warmup", default="3", help="seconds of each trial left out of its figures (default: 3)")
    add("--window", default="5", help="seconds per measurement window (default: 5)")
    add("--stability", default="10%", help="the last 3 windows agree within this (default: 10%%)")
    add("--max-windows", default="8", help="windows per trial at most (default: 8)")
    add("--report-interval", default="1", help="seconds per report interval; windows are made of them (default: 1)")
    add("-u", "--users", default=None, help="users of every trial (default: per rate, see docs/capacity.md)")
    add("--processes", default=None, help="load-generating processes on this machine (a master plus N workers)")
    add("--workers", default=None, help="a master plus N `locust --worker` processes (like a step's workers:)")
    add("--kind", default="", help="documents of a custom locustfile: image or text (default: by its name)")
    add("--results-dir", default="", help="where results go (default: results/<UTC time>-capacity)")
    add("--quiet", action="store_true", help="no progress lines (errors, the table and the answer only)")
    add("-t", "--run-time", default=None, help=argparse.SUPPRESS)
    add("--arrival-rate", default=None, help=argparse.SUPPRESS)


def capacity_command(args: argparse.Namespace) -> int:
    """Check every option, start the demo Flow when there is no --host, run the search."""
    config = build_config(args, getattr(args, "extra", []))
    import loadgen.locust_adapter.library  # noqa: F401  Locust (gevent's patching) before the run
    options = check_locust_options(config.load)
    signal.signal(signal.SIGTERM, _interrupt)
    console = Console(quiet=args.quiet)
    try:
        with _target(args, options, config) as config:
            console.line(f"capacity search: results in {config.results_dir}")
            result = find_capacity(config, console=console)
    except RunError as exc:
        console.error(str(exc))
        return 1
    console.results(f"\ncapacity trials ({config.results_dir / 'capacity.json'}):\n",
                    table_rows([t.as_dict() for t in result.trials]))
    console.table(final_line(result))
    return exit_code(result)


def build_config(args: argparse.Namespace, extra: list[str], *, command: str = "capacity") -> CapacityConfig:
    """The search's configuration from the command's options (``command`` names the
    subcommand in messages). :raises ConfigError:"""
    for name, (option, why) in REFUSED.items():
        if getattr(args, name) is not None:
            raise ConfigError(f"{option}: not an option of loadgen {command} ({why})")
    workers = _workers(args)
    interval = _number(args.report_interval, "--report-interval")
    windows = WindowConfig(warmup_s=_duration(args.trial_warmup, "--trial-warmup", zero=True),
                           window_s=_duration(args.window, "--window"), stability=_percent(args.stability, "--stability"),
                           max_windows=whole(args.max_windows, "--max-windows", 1), interval_s=interval)
    config = CapacityConfig(load=_load(args, extra, workers), windows=windows, search=_search(args),
                            slos=tuple(parse_slo(text) for text in args.slo),
                            max_time_s=_duration(args.max_time, "--max-time"),
                            results_dir=Path(args.results_dir) if args.results_dir else results_dir_default())
    check(config)
    return config


def _search(args: argparse.Namespace) -> SearchConfig:
    start = _number(args.rate_start, "--rate-start") if args.rate_start is not None else None
    rate_max = _number(args.rate_max, "--rate-max") if args.rate_max is not None else None
    return SearchConfig(rate_start=start, rate_factor=_number(args.rate_factor, "--rate-factor"),
                        precision=_percent(args.precision, "--precision"), rate_max=rate_max,
                        rate_min=_number(args.rate_min, "--rate-min"))


def _load(args: argparse.Namespace, extra: list[str], workers: int) -> LoadConfig:
    argv = ("-f", args.locustfile, "--headless", "--only-summary", *(("--host", args.host) if args.host else ()),
            *extra)
    kind = args.kind or ("text" if Path(args.locustfile).stem == "text" else "image")
    if kind not in ("image", "text"):
        raise ConfigError(f"--kind: unknown kind {kind!r}; use image or text")
    users = whole(args.users, "-u", 1) if args.users is not None else None
    return LoadConfig(argv=argv, kind=kind, workers=workers, users=users)


def _workers(args: argparse.Namespace) -> int:
    if args.processes is not None and args.workers is not None:
        raise ConfigError("--processes/--workers: give one of them (both run a master plus N worker processes)")
    given = args.processes if args.processes is not None else args.workers
    option = "--processes" if args.processes is not None else "--workers"
    return whole(given, option, 1) if given is not None else 0


def check_locust_options(load: LoadConfig) -> Any:
    """Parse the trials' Locust command line as a run would; returns loadgen's RunOptions.
    :raises ConfigError: one line naming the option."""
    from loadgen.locust_adapter.library import parse_options
    from loadgen.locust_adapter.options import read_options

    if not Path(load.argv[1]).is_file():
        raise ConfigError(f"-f: no locustfile {load.argv[1]!r}; e.g. -f locustfiles/text.py")
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            parsed = parse_options((*load.argv, "-u", "1", "-t", "1s"))
    except SystemExit:
        lines = [line for line in errors.getvalue().splitlines() if line.strip()]
        raise ConfigError((lines[-1] if lines else "Locust refused the options").replace("locust: error: ", ""))
    return read_options(parsed, kind=load.kind)


@contextlib.contextmanager
def _target(args: argparse.Namespace, options: Any, config: CapacityConfig) -> Iterator[CapacityConfig]:
    """The config as is with --host; else the demo Flow started (and stopped after the search)."""
    if args.host:  # documents are indexed first only when asked (--preindex-docs N)
        yield replace(config, load=replace(config.load, preindex_docs=options.preindex_docs or 0))
        return
    from loadgen.flowctl import FlowConfig, start_flow

    flow = FlowConfig(flow=options.flow, protocol=options.protocol or "grpc", replicas=options.flow_replicas,
                      shards=options.flow_shards, top_k=options.payload.top_k)
    preindex = AUTO_PREINDEX_DOCS if options.preindex_docs is None else options.preindex_docs
    with start_flow(flow, log_dir=config.results_dir) as running:
        load = replace(config.load, argv=(*config.load.argv, "--host", running.target.url), preindex_docs=preindex)
        yield replace(config, load=load)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


# -- values ---------------------------------------------------------------------------------------
def _number(text: Optional[str], option: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ConfigError(f"{option}: must be a number > 0, got {text!r}")
    return value


def whole(text: Any, option: str, minimum: int) -> int:
    """A whole number >= ``minimum`` (also ``loadgen advise``'s). :raises ConfigError:"""
    try:
        value = int(str(text).strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"{option}: must be a whole number >= {minimum}, got {text!r}")
    return value


def _percent(text: str, option: str) -> float:
    """``5%`` or ``5`` -> 0.05. :raises ConfigError: not a percentage > 0."""
    share = percent_or_none(text)
    if share is None or not share > 0:
        raise ConfigError(f"{option}: must be a percentage > 0 such as 5%, got {text!r}")
    return share


def percent_or_none(text: Any) -> Optional[float]:
    """``5%`` or ``5`` -> 0.05 (0 included); None when ``text`` is not a percentage."""
    match = _PERCENT.match(str(text))
    return None if match is None else float(match.group(1)) / 100.0


def _duration(text: str, option: str, *, zero: bool = False) -> float:
    """``90``, ``90s``, ``10m``, ``1h`` -> seconds. :raises ConfigError:"""
    match = _DURATION.match(str(text))
    seconds = float(match.group(1)) * {None: 1, "s": 1, "m": 60, "h": 3600}[match.group(2)] if match else -1.0
    if seconds < 0 or seconds == 0 and not zero:
        raise ConfigError(f"{option}: must be a duration {'>= 0' if zero else '> 0'} like 5, 30s or 10m, got {text!r}")
    return seconds
