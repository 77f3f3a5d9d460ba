"""``loadgen advise``: argv -> an :class:`~loadgen.advise.config.AdviseConfig` -> one
:func:`~loadgen.advise.driver.advise` call (docs/advise.md).

The command's own options are declared here, ``loadgen capacity``'s (gates, rates, windows,
users) are shared with it (:func:`loadgen.capacity.cli.add_options`), and every other
option (``--request-size``, ``--task-mix``, ``--image-shape``, ...) goes to each trial's
Locust run as is, checked once before anything runs. The advisor starts the Flows itself:
``--host`` (a Flow it cannot restart) and ``--flow-replicas``/``--flow-shards`` are refused.
"""
from __future__ import annotations

import argparse
import signal
from dataclasses import replace
from typing import Any, Optional

from loadgen.advise.config import AdviseConfig, check
from loadgen.advise.flow_yaml import read_flow
from loadgen.advise.report import answer, fragment, table_rows
from loadgen.capacity.cli import add_options, build_config, check_locust_options, percent_or_none, whole
from loadgen.console import Console
from loadgen.errors import ConfigError, RunError
from loadgen.flowctl import flow_yaml
from loadgen.home import locustfile_path

AUTO_PREINDEX_DOCS = 1000


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``loadgen advise`` (its unknown options go to Locust: ``accepts_extra``)."""
    adv = commands.add_parser("advise", help="find the cheapest Flow topology (replicas/shards per Executor) that "
                                             "holds a target rate within the SLO (docs/advise.md)")
    add = adv.add_argument
    add("--flow", default="image", help="image, text or a Flow YAML path (default: image)")
    add("--target-rate", default=None, help="req/s the topology must hold within --slo, or max: the topology "
                                             "with the highest capacity within the bounds")
    add("--max-processes", default="8", help="Executor processes (replicas x shards, summed) at most (default: 8)")
    add("--executor", action="append", default=[], help="scale only this Executor (repeatable; default: every "
                                                        "Executor whose YAML does not pin replicas/shards)")
    add("--strategy", default="greedy", help="greedy (grow the bottleneck) or grid (every combination; small "
                                             "Flows) (default: greedy)")
    add("--allow-shards", action="store_true", help="indexers get shards instead of replicas")
    add("--min-gain", default="10%", help="a greedy step that improves capacity or p99 by less stopped helping "
                                          "(default: 10%%)")
    add("--measure", default="trial", help="trial: one capacity trial at the target per topology; search: a "
                                           "capacity search per topology (default: trial; always search with max)")
    add("-f", "--locustfile", default="", help="the locustfile (default: the shipped one of --kind)")
    add_options(adv)  # loadgen capacity's: --slo, --rate-*, windows, -u, --processes, --results-dir, ...
    adv.set_defaults(handler=advise_command, accepts_extra=True)


def advise_command(args: argparse.Namespace) -> int:
    """Check every option, then measure topology after topology."""
    from loadgen.advise.driver import advise, exit_code  # measuring needs psutil: not imported for --help
    config = build_advice(args, getattr(args, "extra", []))
    signal.signal(signal.SIGTERM, _interrupt)
    console = Console(quiet=args.quiet)
    bounds = config.bounds()
    console.line(f"advise: {config.flow.path.name}, scaling {', '.join(sorted(bounds.scaled))} up to "
                 f"{config.max_processes} processes ({config.strategy}); results in {config.results_dir}")
    try:
        data = advise(config, console=console)
    except RunError as exc:
        console.error(str(exc))
        return 1
    console.results(f"\ntopologies tried ({config.results_dir / 'advice.json'}):\n", table_rows(data))
    console.table(answer(data))
    if data["chosen"]:
        console.table(f"\nFlow YAML fragment (the whole Flow: {config.results_dir / 'recommended.yml'}):\n"
                      + fragment(data))
    return exit_code(data)


def build_advice(args: argparse.Namespace, extra: list[str]) -> AdviseConfig:
    """The advice's configuration from the command's options. :raises ConfigError:"""
    if args.host:
        raise ConfigError("--host: loadgen advise restarts the Flow with every topology it tries and cannot restart a "
                          "remote one; give --flow (image, text or a Flow YAML) instead")
    flow = read_flow(flow_yaml(args.flow))
    args.locustfile = args.locustfile or str(locustfile_path(args.kind or ("text" if args.flow == "text" else "image")))
    from loadgen.advise.driver import results_dir_default
    args.results_dir = args.results_dir or str(results_dir_default())
    target = target_rate(args.target_rate)
    capacity = build_config(args, extra, command="advise")
    config = AdviseConfig(flow=flow, capacity=capacity, target_rate=target,
                          max_processes=whole(args.max_processes, "--max-processes", 1),
                          executors=tuple(args.executor), strategy=args.strategy, allow_shards=args.allow_shards,
                          min_gain=_share(args.min_gain, "--min-gain"), measure=args.measure,
                          results_dir=capacity.results_dir)
    check(config)  # before Locust is imported: bad usage is told at once
    import loadgen.locust_adapter.library  # noqa: F401  Locust (gevent's patching) before the runs
    options = check_locust_options(capacity.load)
    for option, value in (("--flow-replicas", options.flow_replicas), ("--flow-shards", options.flow_shards)):
        if value != 1:
            raise ConfigError(f"{option}: not an option of loadgen advise (it chooses replicas and shards; "
                              f"--executor NAME limits which Executors it scales)")
    preindex = AUTO_PREINDEX_DOCS if options.preindex_docs is None else options.preindex_docs
    config = replace(config, protocol=options.protocol or "grpc", top_k=options.payload.top_k, preindex_docs=preindex)
    check(config)
    return config


def target_rate(text: Any, option: str = "--target-rate") -> Optional[float]:
    """A rate > 0 (req/s), or None for ``max``. :raises ConfigError:"""
    if text is None:
        raise ConfigError(f"{option}: required: the req/s to hold within --slo (e.g. {option} 200), or max")
    if str(text).strip().lower() == "max":
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{option}: must be a number of requests per second > 0, or max; got {text!r}")
    return value


def _share(text: Any, option: str) -> float:
    """``10%`` or ``10`` -> 0.1 (0 allowed: any improvement is enough)."""
    share = percent_or_none(text)
    if share is None:
        raise ConfigError(f"{option}: must be a percentage such as 10%, got {text!r}")
    return share


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt

