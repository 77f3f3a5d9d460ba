"""Before the load: the target resolved and checked, the demo Flow started, documents indexed.

Runs in the master (or the single process) at Locust's ``init``. The protocol comes from
``--host``'s scheme, else ``--protocol``, else the one the users pin, else grpc (a
disagreement is a usage error). With no ``--host`` the embedded demo Flow is started with
that protocol; otherwise the host is probed (a schemeless host that answers HTTP/1 gets a
hint: ``http://`` or ``ws://``). Then every endpoint the users will send (``--task-mix``, the
replay file) is checked against what the Flow serves (:mod:`loadgen.protocols.discovery`);
``--skip-host-check`` skips both checks. Then ``--preindex-docs`` documents are indexed
(auto: 1000 for the demo Flow, else none), so that ``/search`` has something to find.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from loadgen.config import KINDS, PROTOCOLS, TargetConfig, resolve_protocol
from loadgen.datasets import summary_line
from loadgen.documents import worker_seed
from loadgen.encoding import encode
from loadgen.errors import ConfigError
from loadgen.flowctl import FlowConfig, start_flow
from loadgen.locust_adapter.options import read_options
from loadgen.pools import request_specs
from loadgen.protocols import probe
from loadgen.protocols.discovery import missing_line, served_endpoints
from loadgen.protocols.probes import speaks_http1

log = logging.getLogger("loadgen")
AUTO_PREINDEX_DOCS = 1000
DRAIN_TIMEOUT_S = 10.0


def resolve_target(session: Any) -> None:
    """Settle the protocol and the host: start the demo Flow, or check ``--host``; then check
    that the Flow serves every endpoint the run will send (``--skip-host-check`` skips both
    checks).

    :raises ConfigError: a malformed or silent ``--host``, protocols that disagree, or an
        endpoint the Flow does not serve.
    :raises FlowError: the demo Flow did not start.
    """
    env = session.environment
    protocol = resolve_protocol(host=env.host or "", requested=session.options.protocol,
                                pinned=pinned_protocols(env))
    session.options = opts = replace(session.options, protocol=protocol)
    if not env.host:
        start_demo_flow(session)
    else:
        target = session.target  # raises ConfigError for a malformed --host
        schemeless = "://" not in env.host
        keep_headers(session, target.headers)
        # With its scheme (workers take the protocol from the host they are sent) and without a
        # user:password, which Locust would show in its web UI and reports.
        env.host = target.url
        if not opts.skip_host_check:
            check_host(target, timeout_s=min(5.0, opts.timeout_s), schemeless=schemeless)
    if not opts.skip_host_check:
        check_endpoints(session)


def check_host(target: TargetConfig, *, timeout_s: float, schemeless: bool = False) -> None:
    """:raises ConfigError: unless a Jina gateway of ``target.protocol`` answers at ``target``
    (``schemeless``: ``--host`` was given without a scheme, so gRPC was assumed)."""
    reason = probe(target, timeout_s=timeout_s)
    if reason is None:
        return
    if target.protocol == "grpc" and speaks_http1(target, timeout_s=timeout_s):
        assumed = " (a host without a scheme means grpc://)" if schemeless else ""
        raise ConfigError(f"--host {target.url}: the server answers HTTP/1, not gRPC{assumed}; for a Jina HTTP "
                          f"gateway use --host http://{target.address}, for a websocket gateway ws://{target.address}")
    raise ConfigError(f"--host {target.url}: no Jina gateway answers ({reason}); start one with "
                      f"`loadgen flow up`, fix --host, or omit --host to use the demo Flow")


def check_endpoints(session: Any) -> None:
    """Compare the endpoints the run sends with those the Flow serves (see
    :mod:`loadgen.protocols.discovery`); a gateway that cannot tell is not checked.

    :raises ConfigError: naming the option, the missing endpoint and what the Flow serves.
    """
    for option, wanted in endpoints_to_send(session):
        served = served_endpoints(session.target, wanted, timeout_s=min(5.0, session.options.timeout_s))
        if served is None:
            log.info("%s: the gateway does not say which endpoints it serves; not checked", option)
            return
        missing = missing_line(served, wanted)
        if missing is not None:
            raise ConfigError(f"{option}: the Flow at {session.environment.host} {missing}")


def endpoints_to_send(session: Any) -> list[tuple[str, list[str]]]:
    """``(option, endpoints)`` for each source of endpoints the run's users send from: the
    ``--task-mix`` of :class:`~loadgen.locust_adapter.users.JinaUser` users, the replay file of
    replay users (after ``--endpoint-map``). Users with tasks of their own are not known."""
    sources = {getattr(cls, "endpoints_from", None) for cls in session.environment.user_classes or ()}
    out = []
    if "task_mix" in sources:
        out.append(("--task-mix", list(session.options.task_mix)))
    replay = session.options.replay
    if "replay_file" in sources and replay is not None and session.replay_check is not None:
        out.append((f"--replay-file {replay.path}", list(session.replay_check.endpoints)))
    return out


#: The files a run writes into its results directory: one of them there means an earlier run.
RESULT_FILES = ("summary.json", "timeseries.csv", "histograms.hlog", "report.html")


def check_results_dir(options: Any) -> None:
    """Refuse a ``--results-dir`` that holds an earlier run's results, unless ``--overwrite``
    (the default per-run directory is new by its name).

    :raises ConfigError: naming the directory, the files and both ways out.
    """
    if options.overwrite or not options.results_dir_given:
        return
    found = [name for name in RESULT_FILES if (Path(options.results_dir) / name).exists()]
    if found:
        raise ConfigError(f"--results-dir {options.results_dir}: holds an earlier run's results "
                          f"({', '.join(found)}); give a new directory, or --overwrite to replace them")


def read_dataset(session: Any) -> None:
    """Read ``--dataset`` once up front (its figures go into summary.json): a bad file stops
    the run before any load."""
    dataset = session.open_dataset()
    session.dataset_stats = dataset.stats() if dataset is not None else None
    if session.dataset_stats is not None:
        log.info("dataset: %s", summary_line(session.dataset_stats))


def take_form_options(session: Any) -> None:
    """Master/local at test_start: the options again from Locust's parsed options, which the
    web UI's form changes (:data:`~loadgen.locust_adapter.options.WEB_FORM`); what changed is
    checked as at init. What init settled stays: the protocol, the headers, the results dir.

    :raises ConfigError: a bad value, or a ``--task-mix`` endpoint the Flow does not serve.
    """
    before = session.options
    options = replace(read_options(session.environment.parsed_options, kind=session.kind),
                      protocol=before.protocol, headers=before.headers, results_dir=before.results_dir)
    if options == before:
        return
    session.use_options(options)
    if options.task_mix != before.task_mix and not options.skip_host_check:
        check_endpoints(session)
    if options.dataset != before.dataset:
        read_dataset(session)


def start_demo_flow(session: Any) -> None:
    """Start the embedded demo Flow (``--flow``, else the locustfile's kind, else the replay
    file's: ``text`` for a file of text lines only; ``--flow-replicas``, ``--flow-shards``) and
    point Locust's host at its gateway; its log goes into the results directory."""
    opts = session.options
    flow, kinds = opts.flow, replay_kinds(session)
    if kinds and not getattr(session.environment.parsed_options, "flow", ""):
        flow = "text" if set(kinds) == {"text"} else "image"  # the replay file's documents choose
    config = FlowConfig(flow=flow, protocol=opts.protocol, replicas=opts.flow_replicas,
                        shards=opts.flow_shards, top_k=opts.payload.top_k)
    log.info("no --host given: starting the demo Flow %r (%s) ...", config.flow, config.protocol)
    session.flow = start_flow(config, log_dir=Path(opts.results_dir))
    session.environment.host = session.flow.target.url
    log.info("demo Flow ready at %s (log: %s)", session.environment.host, session.flow.log_path)


def stop_demo_flow(session: Any, *, drain: bool = False) -> None:
    """Stop the embedded demo Flow, if one was started.

    :param drain: first wait (at most ``DRAIN_TIMEOUT_S``) for the requests the stopped users
        left inside the Flow: Locust kills a user mid-request, and the gateway, still
        forwarding that request, would log an ``EstablishGrpcConnectionError`` traceback for
        each one when its Executors go away. A dry run queues behind them at each Executor,
        so its answer means they are through.
    """
    if session.flow is not None:
        if drain:
            probe(session.flow.target, timeout_s=DRAIN_TIMEOUT_S)
        log.info("stopping the demo Flow ...")
        session.flow.stop()
        session.flow = None


def keep_headers(session: Any, headers: tuple[tuple[str, str], ...]) -> None:
    """Keep the target's headers (``--header``, plus ``--host``'s ``user:password`` as an
    ``Authorization`` header) in the options once the host loses its password: the master's
    parsed options travel to the workers with the spawn message."""
    if headers != session.options.headers:
        session.environment.parsed_options.header = [f"{name}: {value}" for name, value in headers]
        session.options = replace(session.options, headers=headers)


def pinned_protocols(environment: Any) -> set[str]:
    """Protocols the locustfile's users pin (``JinaGrpcUser`` ...); ``JinaUser`` pins none."""
    return {cls.protocol for cls in environment.user_classes or () if getattr(cls, "protocol", None) in PROTOCOLS}


def preindex(session: Any) -> None:
    """Index ``--preindex-docs`` documents (from ``--dataset`` when given; for a replay file,
    of its kinds, in the file's proportions) before the load.

    :raises ConfigError: the gateway failed an index request (the message has its error).
    """
    count = session.options.preindex_docs
    if count is None:
        count = AUTO_PREINDEX_DOCS if session.flow is not None else 0
    if count <= 0:
        return
    kinds = replay_kinds(session) or {session.options.payload.kind: 1}
    for kind, share in kinds.items():
        index_documents(session, kind, round(count * share / sum(kinds.values())))


def index_documents(session: Any, kind: str, count: int) -> None:
    """Index ``count`` documents of ``kind`` (or the dataset's) in requests of ``--request-size``."""
    payload = replace(session.options.payload, kind=kind)
    dataset = session.open_dataset()  # real data is indexed from the data itself
    specs = request_specs(payload, "/index", seed=worker_seed(payload.seed, 999_983),
                          documents=dataset.endless() if dataset is not None else None)
    started, wire = time.perf_counter(), session.target.wire
    with session.open_transport() as transport:
        for _ in range(-(-count // payload.request_size)):
            result = transport.send(encode(next(specs), wire=wire))
            if result.error is not None:
                raise ConfigError(f"--preindex-docs: indexing at {session.environment.host} failed: {result.error}")
    what = "dataset" if dataset is not None else kind
    log.info("pre-indexed %d %s documents in %.1f s", count, what, time.perf_counter() - started)


def replay_kinds(session: Any) -> dict[str, int]:
    """Requests per kind of document in one pass of the replay file (``{}`` without one);
    lines without ``kind=`` send the locustfile's kind."""
    check = session.replay_check
    if check is None:
        return {}
    kinds: Counter = Counter()
    for kind, requests in check.kinds.items():
        kinds[kind if kind in KINDS else session.options.payload.kind] += requests
    return dict(sorted(kinds.items()))
