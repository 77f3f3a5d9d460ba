"""The ``loadgen`` console script: ``loadgen flow up`` starts a demo Flow, ``loadgen report``
re-renders saved runs, ``loadgen replay make|check`` writes and checks replay files,
``loadgen run SCENARIO.yml`` runs a scenario (docs/scenarios.md), ``loadgen compare BASE NEW``
judges two runs (docs/compare.md), ``loadgen capacity`` finds the highest request rate a Flow
holds within its SLO (docs/capacity.md), ``loadgen advise`` the cheapest Flow topology that holds
a target rate (docs/advise.md), ``loadgen locustfile NAME`` prints where a shipped
locustfile is.

Only argv parsing and wiring live here; every command is one call into the library.
Exit codes: 0 success, 1 runtime failure (e.g. the Flow died), 2 bad usage (including a
command whose extra is not installed: one line naming it).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Optional, Sequence

from pathlib import Path

from loadgen.advise.cli import add_command as add_advise_command
from loadgen.capacity.cli import add_command as add_capacity_command
from loadgen.cloud.cli import add_commands as add_cloud_commands
from loadgen.compare.cli import add_commands as add_compare_commands
from loadgen.console import progress_bar
from loadgen.errors import CloudError, ConfigError, FlowError
from loadgen.extras import missing_extra
from loadgen.config import parse_image_shape, parse_task_mix
from loadgen import scenarios
from loadgen.flowctl import DEFAULT_POLLING, FlowConfig, start_flow
from loadgen.home import LOCUSTFILES, locustfile_path
from loadgen.replay import DEFAULT_MAX_ERRORS, MakeConfig, check_file, parse_endpoint_map, render_check, write_file
from loadgen.files import write_json_atomic
from loadgen.reports.html import write_report
from loadgen.reports.series import merge_intervals, read_hlog
from loadgen.reports.summary import hlog_summary
from loadgen.reports.text import render_hlog_table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loadgen", description="Load generator for Jina Flow gateways.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    flow = commands.add_parser("flow", help="run the embedded demo Flow")
    flow_commands = flow.add_subparsers(dest="flow_command", required=True, metavar="ACTION")
    up = flow_commands.add_parser("up", help="start a demo Flow and keep it running until Ctrl-C")
    up.add_argument("--flow", default="image", help="image, text or a path to a Flow YAML (default: image)")
    up.add_argument("--protocol", default="grpc", help="gateway protocol: grpc, websocket or http (default: grpc)")
    up.add_argument("--port", type=int, default=12345, help="gateway port (default: 12345)")
    up.add_argument("--replicas", type=int, default=1, help="replicas of each Executor (default: 1)")
    up.add_argument("--shards", type=int, default=1, help="shards of each Executor (default: 1)")
    up.add_argument("--top-k", type=int, default=10, help="the indexer's default top_k (default: 10)")
    up.add_argument("--raise-on", default="", help="the indexer raises on docs whose text contains this marker")
    up.add_argument("--polling", default=DEFAULT_POLLING, help="the sharded indexer's polling: ANY, ALL or per "
                                                               f"endpoint (default: {DEFAULT_POLLING})")
    up.add_argument("--startup-timeout", type=float, default=120.0, help="seconds to wait for readiness")
    up.add_argument("--log-dir", default=None, help="directory for the Flow's log (default: a temp dir)")
    up.set_defaults(handler=flow_up)
    report = commands.add_parser("report", help="re-render (and merge) saved runs from their interval logs")
    report.add_argument("paths", nargs="+", metavar="DIR_OR_HLOG",
                        help="results directories (their histograms.hlog) or .hlog files; all are merged")
    report.add_argument("--json", dest="json_out", default=None, help="also write the merged figures as JSON here")
    report.add_argument("--html", action="store_true",
                        help="re-render report.html in each results directory given (from its files)")
    report.set_defaults(handler=report_command)
    _add_replay_commands(commands)
    add_cloud_commands(commands)  # fleet, s3 (loadgen/cloud/cli.py; boto3 imported only when run)
    _add_run_command(commands)
    locustfile = commands.add_parser("locustfile", help="print the path of a locustfile shipped with loadgen, "
                                                        "e.g. locust -f \"$(loadgen locustfile image)\"")
    locustfile.add_argument("name", choices=LOCUSTFILES, help="which one: " + ", ".join(LOCUSTFILES))
    locustfile.set_defaults(handler=lambda args: print(locustfile_path(args.name)) or 0)
    add_compare_commands(commands)  # compare BASE NEW, --history (loadgen/compare/cli.py)
    add_capacity_command(commands)  # loadgen/capacity/cli.py; its unknown options go to Locust
    add_advise_command(commands)  # loadgen/advise/cli.py; the same, plus the topologies it tries
    return parser


def _add_run_command(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run a scenario: Flows, index/query steps, sweeps, the results table "
                                          "(docs/scenarios.md)")
    run.add_argument("scenario", metavar="SCENARIO.yml", help="the scenario file")
    run.add_argument("--env-file", default=None, help="NAME=VALUE lines for ${NAME} (lowest precedence)")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                     help="set a variable (repeatable; overrides the env file and the environment; "
                          "a swept name runs only that value)")
    run.add_argument("--results-dir", default=None, help="where results go (default: results/<UTC time>-<scenario>)")
    run.add_argument("--dry-run", action="store_true", help="validate, print the expanded plan and exit")
    run.add_argument("--quiet", action="store_true", help="no progress output (errors and the table only)")
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Validate the scenario, then run it (Ctrl-C or SIGTERM stop it and keep its results)."""
    signal.signal(signal.SIGTERM, _interrupt)
    return scenarios.run(args.scenario, env_file=args.env_file, sets=args.sets, results_dir=args.results_dir,
                         dry_run=args.dry_run, quiet=args.quiet)


def report_command(args: argparse.Namespace) -> int:
    """Merge the interval logs of every path and print one table (exact HdrHistogram merge)."""
    merged: dict = {}
    for path in map(Path, args.paths):
        hlog = path / "histograms.hlog" if path.is_dir() else path
        try:
            with open(hlog, encoding="utf-8") as stream:
                merge_intervals(read_hlog(stream), merged)
        except OSError as exc:
            raise ConfigError(f"{hlog}: cannot read ({exc.strerror}); give a results directory or an .hlog file")
        except ValueError as exc:
            raise ConfigError(f"{hlog}: {exc}")
    summary = hlog_summary(merged)
    print(render_hlog_table(summary) if summary else "no intervals found")
    if args.html:
        for path in (Path(p) for p in args.paths if Path(p).is_dir()):
            try:
                print(f"report written to {write_report(path)}")
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"{path}: cannot render report.html ({exc}); is it a loadgen results directory?")
    if args.json_out:
        write_json_atomic(Path(args.json_out), {"tags": summary, "sources": args.paths})
    return 0


def _add_replay_commands(commands: argparse._SubParsersAction) -> None:
    replay = commands.add_parser("replay", help="make and check Iago-style replay files (docs/replay.md)")
    actions = replay.add_subparsers(dest="replay_command", required=True, metavar="ACTION")
    make = actions.add_parser("make", help="write a generated replay file (the same file for the same seed)")
    make.add_argument("--calls", type=int, default=1000,
                      help="calls to write; --paired writes 2 lines per call (default: 1000)")
    make.add_argument("--users", type=int, default=10_000, help="users, drawn uniformly from 1..N (default: 10000)")
    make.add_argument("--mix", default="search:1,index:1", help="endpoint weights; with --paired the pair, "
                                                                "first sent first (default: search:1,index:1)")
    make.add_argument("--kind", default="image", help="documents: image or text (default: image)")
    make.add_argument("--docs", type=int, default=1, help="documents per request (default: 1)")
    make.add_argument("--top-k", type=int, default=10, help="top_k of /search lines (default: 10)")
    make.add_argument("--shape", default="", help="image shape written on each line, e.g. 64,64,3 "
                                                  "(default: none, the run's --image-shape)")
    make.add_argument("--seed", type=int, default=0, help="seed of every draw (default: 0)")
    make.add_argument("--paired", action="store_true", help="Seldon's pattern: each call sends the two endpoints "
                                                            "of --mix for one user and one seed, alternating")
    make.add_argument("--variant-fraction", type=float, default=0.1,
                      help="with --paired: share of pairs whose second line is the variant (default: 0.1)")
    make.add_argument("-o", "--output", required=True, help="the file to write")
    make.set_defaults(handler=replay_make_command)
    check = actions.add_parser("check", help="check a replay file as a run would and count its requests")
    check.add_argument("file", metavar="FILE", help="the replay file")
    check.add_argument("--max-errors", type=int, default=DEFAULT_MAX_ERRORS,
                       help=f"stop after this many bad lines (default: {DEFAULT_MAX_ERRORS})")
    check.add_argument("--endpoint-map", default="", help="foreign paths to Jina endpoints, e.g. "
                                                          "/js/recommendations=/search,/js/action/new=/index")
    check.set_defaults(handler=replay_check_command)


def replay_make_command(args: argparse.Namespace) -> int:
    """Write a generated replay file (with a progress bar on a terminal when it is large)."""
    config = MakeConfig(calls=args.calls, users=args.users, mix=tuple(parse_task_mix(args.mix, option="--mix").items()),
                        kind=args.kind, docs=args.docs, top_k=args.top_k, seed=args.seed, paired=args.paired,
                        variant_fraction=args.variant_fraction,
                        shape=parse_image_shape(args.shape, option="--shape") if args.shape else None)
    with progress_bar(config.lines, "writing " + args.output) as progress:
        written = write_file(config, args.output, progress=progress)
    print(f"wrote {written} requests to {args.output}")
    return 0


def replay_check_command(args: argparse.Namespace) -> int:
    """Check a replay file: its errors as FILE:LINE on stderr, its counts on stdout; 2 on errors."""
    report = check_file(args.file, endpoint_map=parse_endpoint_map(args.endpoint_map), max_errors=args.max_errors)
    for error in report.errors:
        print(error, file=sys.stderr)
    print(render_check(report))
    return 0 if report.ok else 2


def flow_up(args: argparse.Namespace) -> int:
    """Start the Flow, wait for Ctrl-C/SIGTERM or the Flow's exit, then stop it."""
    config = FlowConfig(flow=args.flow, protocol=args.protocol, port=args.port, replicas=args.replicas,
                        shards=args.shards, top_k=args.top_k, raise_on=args.raise_on, polling=args.polling,
                        startup_timeout_s=args.startup_timeout)
    flow = start_flow(config, log_dir=args.log_dir)
    print(f"Flow {args.flow!r} ready at {flow.target.url} (log: {flow.log_path}); Ctrl-C to stop", flush=True)
    from loadgen.observe.processes import describe_endpoints  # psutil: the locust extra's

    for line in describe_endpoints(flow.proc.pid):
        print(f"  {line}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under `kill` and in containers
    try:
        while flow.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping the Flow ...", flush=True)
        flow.stop()
        return 0
    print(f"loadgen: error: the Flow exited with code {flow.proc.returncode}; its log ends:\n{flow.log_tail()}",
          file=sys.stderr)
    flow.stop()
    return 1


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``loadgen`` console script; returns the exit code."""
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C (SIGINT) stops every command, even one started where SIGINT is ignored (a
        # background job of a script: Python then leaves it ignored and `kill -INT` does nothing)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"loadgen: error: {exc}", file=sys.stderr)
        return 2
    except (FlowError, CloudError) as exc:
        print(f"loadgen: error: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:  # a core install without the extra this command needs
        message = missing_extra(exc, command=args.command)
        if message is None:
            raise
        print(f"loadgen: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
