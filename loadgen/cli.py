"""The ``loadgen`` console script: ``loadgen flow up`` starts a demo Flow, ``loadgen report``
re-renders saved runs.

Only argv parsing and wiring live here; every command is one call into the library.
Exit codes: 0 success, 1 runtime failure (e.g. the Flow died), 2 bad usage.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Optional, Sequence

from pathlib import Path

from loadgen.errors import ConfigError
from loadgen.flowctl import FlowConfig, FlowError, start_flow
from loadgen.reports import hlog_summary, render_hlog_table, write_json_atomic
from loadgen.timeseries import merge_intervals, read_hlog


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
    up.add_argument("--startup-timeout", type=float, default=120.0, help="seconds to wait for readiness")
    up.add_argument("--log-dir", default=None, help="directory for the Flow's log (default: a temp dir)")
    up.set_defaults(handler=flow_up)
    report = commands.add_parser("report", help="re-render (and merge) saved runs from their interval logs")
    report.add_argument("paths", nargs="+", metavar="DIR_OR_HLOG",
                        help="results directories (their histograms.hlog) or .hlog files; all are merged")
    report.add_argument("--json", dest="json_out", default=None, help="also write the merged figures as JSON here")
    report.set_defaults(handler=report_command)
    return parser


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
    if args.json_out:
        write_json_atomic(Path(args.json_out), {"tags": summary, "sources": args.paths})
    return 0


def flow_up(args: argparse.Namespace) -> int:
    """Start the Flow, wait for Ctrl-C/SIGTERM or the Flow's exit, then stop it."""
    config = FlowConfig(flow=args.flow, protocol=args.protocol, port=args.port, replicas=args.replicas,
                        shards=args.shards, top_k=args.top_k, raise_on=args.raise_on,
                        startup_timeout_s=args.startup_timeout)
    flow = start_flow(config, log_dir=args.log_dir)
    print(f"Flow {args.flow!r} ready at {flow.target.url} (log: {flow.log_path}); Ctrl-C to stop", flush=True)
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
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"loadgen: error: {exc}", file=sys.stderr)
        return 2
    except FlowError as exc:
        print(f"loadgen: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
