"""Command-line options added to Locust, each with an environment variable and a config-file key.

:func:`add_arguments` is the ``init_command_line_parser`` listener; :func:`read_options`
turns Locust's parsed options into the core's config records (raising ConfigError).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from loadgen.config import (GRPC_MODES, IMAGE_DTYPES, PROTOCOLS, Headers, PayloadConfig, parse_headers,
                            parse_image_shape, parse_task_mix)
from loadgen.errors import ConfigError
from loadgen.observe.settings import ObserveOptions, observe_options
from loadgen.plugins import parse_kwargs
from loadgen.pacing import ARRIVALS, RateShape, parse_arrival_rate
from loadgen.replay import parse_endpoint_map
from loadgen.slo import Slo, parse_slo

# (option, env var, default, help); types are parsed in read_options so that every bad value
# gets our one-line message instead of argparse's usage dump.
OPTIONS: tuple[tuple[str, str, Optional[str], str], ...] = (
    ("--protocol", "LOADGEN_PROTOCOL", "", f"gateway protocol: {'|'.join(PROTOCOLS)} (default: --host's scheme, else grpc)"),
    ("--grpc-mode", "LOADGEN_GRPC_MODE", "unary", f"gRPC call style: {'|'.join(GRPC_MODES)} (stream = one long-lived Call per user)"),
    ("--request-size", "LOADGEN_REQUEST_SIZE", "8", "documents per request"),
    ("--top-k", "LOADGEN_TOP_K", "10", "matches requested (and required) per query document on /search"),
    ("--image-shape", "LOADGEN_IMAGE_SHAPE", "", "shape of one image tensor, e.g. 224,224,3 (default: 224,224,3 "
                                                "for random images; a --dataset's own size, else resized to it)"),
    ("--image-dtype", "LOADGEN_IMAGE_DTYPE", "uint8", f"dtype of generated image tensors: {'|'.join(IMAGE_DTYPES)} "
                                                      "(uint8: full range; floats: 0 to 1); not for a --dataset"),
    ("--dataset", "LOADGEN_DATASET", "", "documents to send: random-image | random-text | images:DIR | text:FILE | "
                                         "jsonl:FILE | s3://BUCKET/PREFIX | builtin:digits | builtin:pydoc | "
                                         "python:MODULE:FUNCTION (runs your code) "
                                         "(default: random data of the locustfile's kind; docs/datasets.md)"),
    ("--dataset-kwargs", "LOADGEN_DATASET_KWARGS", "", "a JSON object of keyword arguments for a "
                                                       "python:MODULE:FUNCTION dataset's function"),
    ("--validator", "LOADGEN_VALIDATOR", "", "MODULE:FUNCTION called with each successful result; a returned "
                                             "message makes it a validation failure (runs your code; docs/usage.md)"),
    ("--validator-kwargs", "LOADGEN_VALIDATOR_KWARGS", "", "a JSON object of keyword arguments for --validator"),
    ("--image-as", "LOADGEN_IMAGE_AS", "tensor", "dataset images as decoded tensors or as their encoded bytes: tensor|blob"),
    ("--dataset-cache", "LOADGEN_DATASET_CACHE", "", "where s3:// datasets are kept between runs "
                                                     "(default: ~/.cache/jina-loadgen/datasets)"),
    ("--match-field", "LOADGEN_MATCH_FIELD", "", "count the values of this scalar field of /search matches "
                                                 "(e.g. shard) per endpoint in summary.json (decodes every match)"),
    ("--task-mix", "LOADGEN_TASK_MIX", "index:1,search:4", "endpoint weights, e.g. index:1,search:4"),
    ("--pool-size", "LOADGEN_POOL_SIZE", "16", "pre-encoded requests per endpoint"),
    ("--pool-mb", "LOADGEN_POOL_MB", "256", "cap on the memory of one process's request pools, MiB"),
    ("--seed", "LOADGEN_SEED", "0", "base seed of the document generators (each worker adds its index)"),
    ("--timeout", "LOADGEN_TIMEOUT", "30", "per-request deadline in seconds"),
    ("--arrival-rate", "LOADGEN_ARRIVAL_RATE", "", "open loop: fleet-wide requests/s, or a shape: slowstart:FINAL,RAMP_S | "
                                                  "sinusoidal:MIN,MAX,PERIOD_S | step:R1@T1,R2@T2 (default: closed loop)"),
    ("--arrival", "LOADGEN_ARRIVAL", "poisson", "open loop arrival process: poisson|uniform"),
    ("--max-inflight", "LOADGEN_MAX_INFLIGHT", "0", "open loop: cap on requests in flight for the fleet (0: the users)"),
    ("--results-dir", "LOADGEN_RESULTS_DIR", "", "where summary.json, timeseries.csv, histograms.hlog and report.html go; one "
                                                 "holding an earlier run is refused unless --overwrite "
                                                 "(default: results/<UTC time>-<locustfile>)"),
    ("--report-interval", "LOADGEN_REPORT_INTERVAL", "1", "seconds per time-series interval (with workers too: "
                                                          "the master asks them for their figures at its end)"),
    ("--preindex-docs", "LOADGEN_PREINDEX_DOCS", "auto", "documents to index before the load starts (auto: 1000 for the embedded Flow, else 0)"),
    ("--flow", "LOADGEN_FLOW", "", "demo Flow started when no --host is given (default: the locustfile's kind)"),
    ("--flow-replicas", "LOADGEN_FLOW_REPLICAS", "1", "replicas of each demo Flow Executor"),
    ("--flow-shards", "LOADGEN_FLOW_SHARDS", "1", "shards of each demo Flow Executor"),
    ("--replay-file", "LOADGEN_REPLAY_FILE", "", "replay user: the request file to send, line by line (docs/replay.md)"),
    ("--endpoint-map", "LOADGEN_ENDPOINT_MAP", "", "replay: map a foreign log's paths, e.g. '/js/recommendations=/search'"),
    ("--max-requests", "LOADGEN_MAX_REQUESTS", "0", "replay: send at most this many lines in all (0: no cap)"),
    ("--warmup", "LOADGEN_WARMUP", "0", "seconds at the start of the run left out of summary.json, the table and "
                                        "the report's percentiles (counted apart as warmup_requests)"),
    ("--duration", "LOADGEN_DURATION", "", "stop the run after this many seconds (like -t; e.g. for replays)"),
    ("--run-label", "LOADGEN_RUN_LABEL", "", "a label recorded in summary.json as run.label, e.g. the Jina version "
                                             "under test (loadgen compare shows it)"),
    ("--server-metrics", "LOADGEN_SERVER_METRICS", "", "Prometheus endpoints of the server scraped every interval: "
                                                       "URL[,URL...], pid:PID (a local Flow: its endpoints and CPU/RSS), "
                                                       "off (default: the embedded demo Flow's; docs/observability.md)"),
    ("--prometheus-port", "LOADGEN_PROMETHEUS_PORT", "", "serve loadgen's live figures for Prometheus on this port "
                                                         "(master/single process; default: off)"),
    ("--prometheus-host", "LOADGEN_PROMETHEUS_HOST", "127.0.0.1", "address of --prometheus-port (0.0.0.0: all)"),
    ("--prometheus-linger", "LOADGEN_PROMETHEUS_LINGER", "15", "at the end, wait up to this many seconds until "
                                                               "every scraper seen has fetched the final figures"),
)
REPEATABLE = (("--slo", "LOADGEN_SLO", "SLO gate checked at the end, repeatable: '/search:p99<200ms', "
                "'failures<1%%' (exit code 3 when violated)"),
              # Values are credentials: never printed, logged or written (loadgen.redact); options
              # added through a group stay out of Locust's web UI form.
              ("--header", "LOADGEN_HEADER", "repeatable 'Name: value' sent with every request and probe (gRPC "
                                             "metadata, HTTP and websocket headers), e.g. 'Authorization: Bearer TOKEN'"),
              ("--server-metric", "LOADGEN_SERVER_METRIC", "repeatable: a metric family kept from --server-metrics "
                                                           "besides Jina's own, e.g. process_cpu_seconds"))
FLAGS = (("--skip-host-check", "LOADGEN_SKIP_HOST_CHECK", "do not check before the run that --host answers and that the "
                                                      "Flow serves every endpoint the run sends"),
         ("--skip-bad-lines", "LOADGEN_SKIP_BAD_LINES", "replay: count and skip bad lines instead of stopping"),
         ("--reuse-file", "LOADGEN_REUSE_FILE", "replay: start the file again at its end (Iago's default)"),
         ("--overwrite", "LOADGEN_OVERWRITE", "replace an earlier run's results in --results-dir (refused otherwise)"))


#: Shown in the web UI's start form too (Locust's ``include_in_web_ui``), to change between runs.
WEB_FORM = ("--task-mix", "--request-size", "--top-k", "--arrival-rate", "--dataset")


def add_arguments(parser: Any) -> None:
    """Register the options on Locust's (configargparse) parser; :data:`WEB_FORM` also in the
    web UI's form (an argument group's options stay out of it unless marked)."""
    group = parser.add_argument_group("jina-loadgen", "Options of the Jina load generator (docs/usage.md)")
    for option, env, default, help_text in OPTIONS:
        action = group.add_argument(option, type=str, env_var=env, default=default, help=help_text)
        if option in WEB_FORM:
            # What LocustArgumentParser.add_argument(include_in_web_ui=True) sets.
            action.include_in_web_ui, action.is_secret, action.is_required, action.is_multiple = True, False, False, False
    for option, env, help_text in REPEATABLE:
        group.add_argument(option, action="append", env_var=env, default=[], help=help_text)
    for option, env, help_text in FLAGS:
        group.add_argument(option, action="store_true", env_var=env, default=False, help=help_text)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """loadgen's options of one Locust run, validated."""

    protocol: str  # "" until resolved: --host's scheme decides (config.resolve_protocol)
    grpc_mode: str
    timeout_s: float
    task_mix: dict[str, int]
    payload: PayloadConfig
    results_dir: str
    preindex_docs: Optional[int]  # None = auto
    flow: str
    flow_replicas: int
    flow_shards: int
    skip_host_check: bool
    slos: tuple[Slo, ...] = ()
    report_interval_s: float = 1.0
    arrival_rate: str = ""  # the --arrival-rate text; "" = closed loop
    arrival_shape: Optional[RateShape] = None
    arrival: str = "poisson"
    max_inflight: int = 0  # 0 = bounded by the users only
    replay: Optional[ReplayOptions] = None
    duration_s: Optional[float] = None
    warmup_s: float = 0.0  # --warmup: seconds after test_start whose figures are kept apart
    dataset: str = ""  # "" = random data of the locustfile's kind
    image_as: str = "tensor"
    image_shape_given: Optional[tuple[int, ...]] = None  # --image-shape, only when given
    dataset_cache: str = ""
    dataset_kwargs: dict[str, Any] = field(default_factory=dict)  # of a python:MODULE:FUNCTION dataset
    validator: str = ""  # MODULE:FUNCTION, "" for none
    validator_kwargs: dict[str, Any] = field(default_factory=dict)
    headers: Headers = field(default=(), repr=False)  # --header (and --host's user:password); secrets
    run_label: str = ""
    results_dir_given: bool = False  # --results-dir was given (not the per-run default)
    overwrite: bool = False
    observe: ObserveOptions = field(default_factory=ObserveOptions)  # server metrics, live export


def read_options(parsed: Any, *, kind: str) -> RunOptions:
    """Validate Locust's parsed options. :raises ConfigError: naming the option and the fix."""
    if parsed.protocol and parsed.protocol not in PROTOCOLS:
        raise ConfigError(f"--protocol: unknown protocol {parsed.protocol!r}; use one of {', '.join(PROTOCOLS)}")
    if parsed.grpc_mode not in GRPC_MODES:
        raise ConfigError(f"--grpc-mode: unknown mode {parsed.grpc_mode!r}; use unary or stream")
    payload = PayloadConfig(
        kind=kind, request_size=_int(parsed, "request_size"), **_image_shape(parsed),
        image_dtype=_image_dtype(parsed),
        top_k=_int(parsed, "top_k"), pool_size=_int(parsed, "pool_size"),
        pool_mb=_float(parsed, "pool_mb"), seed=_int(parsed, "seed", minimum=0),
        match_field=str(parsed.match_field or "").strip() or None,
    )
    return RunOptions(
        protocol=parsed.protocol, grpc_mode=parsed.grpc_mode, timeout_s=_float(parsed, "timeout"),
        task_mix=parse_task_mix(parsed.task_mix), payload=payload,
        results_dir=parsed.results_dir or default_results_dir(parsed), report_interval_s=_float(parsed, "report_interval"),
        preindex_docs=None if parsed.preindex_docs == "auto" else _int(parsed, "preindex_docs", minimum=0),
        flow=parsed.flow or kind, flow_replicas=_int(parsed, "flow_replicas"),
        flow_shards=_int(parsed, "flow_shards"), skip_host_check=bool(parsed.skip_host_check),
        slos=tuple(parse_slo(text) for text in _listed(parsed.slo)),
        **_arrival_options(parsed), replay=_replay_options(parsed),
        duration_s=_float(parsed, "duration") if str(parsed.duration or "").strip() else None,
        warmup_s=_seconds(parsed, "warmup"),
        dataset=str(parsed.dataset or "").strip(), image_as=_choice(parsed, "image_as", ("tensor", "blob")),
        image_shape_given=_image_shape(parsed).get("image_shape"), dataset_cache=parsed.dataset_cache or "",
        headers=parse_headers(_listed(parsed.header)),
        dataset_kwargs=parse_kwargs(parsed.dataset_kwargs or "", option="--dataset-kwargs"),
        validator=str(parsed.validator or "").strip(), validator_kwargs=parse_kwargs(parsed.validator_kwargs or "",
                                                                    option="--validator-kwargs"),
        run_label=str(parsed.run_label or "").strip(), results_dir_given=bool(parsed.results_dir),
        overwrite=bool(getattr(parsed, "overwrite", False)),
        observe=observe_options(server_metrics=getattr(parsed, "server_metrics", ""),
                                server_metric=_listed(getattr(parsed, "server_metric", ())),
                                prometheus_port=getattr(parsed, "prometheus_port", ""),
                                prometheus_host=getattr(parsed, "prometheus_host", ""),
                                prometheus_linger=getattr(parsed, "prometheus_linger", None)),
    )


def _image_shape(parsed: Any) -> dict[str, tuple[int, ...]]:
    text = str(parsed.image_shape or "").strip()
    return {"image_shape": parse_image_shape(text)} if text else {}


def _image_dtype(parsed: Any) -> str:
    """``--image-dtype``: generated images only (a dataset's images are uint8 pixels or blobs)."""
    dtype = str(getattr(parsed, "image_dtype", None) or "uint8").strip()
    if dtype not in IMAGE_DTYPES:
        raise ConfigError(f"--image-dtype: unknown dtype {dtype!r}; use {', '.join(IMAGE_DTYPES)}")
    if dtype != "uint8" and str(parsed.dataset or "").strip():
        raise ConfigError(f"--image-dtype {dtype}: applies to loadgen's generated images; a --dataset's images "
                          "are sent as uint8 pixels (or blobs): drop one of the two options")
    return dtype


def _choice(parsed: Any, name: str, choices: tuple[str, ...]) -> str:
    value = getattr(parsed, name)
    if value not in choices:
        raise ConfigError(f"{_option(name)}: unknown value {value!r}; use {' or '.join(choices)}")
    return value


@dataclass(frozen=True, kw_only=True)
class ReplayOptions:
    """The replay user's options (``--replay-file`` and friends)."""

    path: str
    endpoint_map: dict[str, str]
    skip_bad_lines: bool
    reuse_file: bool
    max_requests: int  # 0 = no cap


def _replay_options(parsed: Any) -> Optional[ReplayOptions]:
    # Checked even without --replay-file: a typo should not wait for the day it matters.
    endpoint_map = parse_endpoint_map(parsed.endpoint_map or "")
    max_requests = _int(parsed, "max_requests", minimum=0)
    if not parsed.replay_file:
        return None
    return ReplayOptions(path=parsed.replay_file, endpoint_map=endpoint_map, skip_bad_lines=bool(parsed.skip_bad_lines),
                         reuse_file=bool(parsed.reuse_file), max_requests=max_requests)


def _arrival_options(parsed: Any) -> dict[str, Any]:
    text = str(parsed.arrival_rate or "").strip()
    if parsed.arrival not in ARRIVALS:
        raise ConfigError(f"--arrival: unknown arrival process {parsed.arrival!r}; use poisson or uniform")
    return {"arrival_rate": text, "arrival_shape": parse_arrival_rate(text) if text else None,
            "arrival": parsed.arrival, "max_inflight": _int(parsed, "max_inflight", minimum=0)}


def default_results_dir(parsed: Any) -> str:
    """``results/<UTC time>-<locustfile name>``, e.g. ``results/20261122T001500Z-image``."""
    locustfile = str(getattr(parsed, "locustfile", None) or "locustfile").split(",")[0]
    return str(Path("results") / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{Path(locustfile).stem}")


def _listed(value: Any) -> list[str]:
    # From a config file or env var configargparse may hand over one string, not a list.
    if isinstance(value, str):
        return [value]
    return list(value or [])


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _int(parsed: Any, name: str, *, minimum: int = 1) -> int:
    raw = getattr(parsed, name)
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigError(f"{_option(name)}: must be a whole number >= {minimum}, got {raw!r}")
    return value


def _seconds(parsed: Any, name: str) -> float:
    """A number of seconds >= 0 (0 when not given)."""
    raw = getattr(parsed, name, None)
    try:
        value = float(str(raw or 0).strip())
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{_option(name)}: must be a number of seconds >= 0, got {raw!r}")
    return value


def _float(parsed: Any, name: str) -> float:
    raw = getattr(parsed, name)
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ConfigError(f"{_option(name)}: must be a number > 0, got {raw!r}")
    return value
