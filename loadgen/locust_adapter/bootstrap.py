"""Before the load: the target resolved and checked, the demo Flow started, documents indexed.

Runs in the master (or the single process) at Locust's ``init``. The protocol comes from
``--host``'s scheme, else ``--protocol``, else the one the users pin, else grpc (a
disagreement is a usage error). With no ``--host`` the embedded demo Flow is started with
that protocol; otherwise the host is probed (``--skip-host-check`` skips it). Then
``--preindex-docs`` documents are indexed (auto: 1000 for the demo Flow, else none), so
that ``/search`` has something to find.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from loadgen.config import PROTOCOLS, resolve_protocol
from loadgen.documents import worker_seed
from loadgen.encoding import encode
from loadgen.errors import ConfigError
from loadgen.flowctl import FlowConfig, start_flow
from loadgen.pools import request_specs
from loadgen.protocols import probe

log = logging.getLogger("loadgen")
AUTO_PREINDEX_DOCS = 1000


def resolve_target(session: Any) -> None:
    """Settle the protocol and the host: start the demo Flow, or check ``--host``.

    :raises ConfigError: a malformed or silent ``--host``, or protocols that disagree.
    :raises FlowError: the demo Flow did not start.
    """
    env = session.environment
    protocol = resolve_protocol(host=env.host or "", requested=session.options.protocol,
                                pinned=pinned_protocols(env))
    session.options = opts = replace(session.options, protocol=protocol)
    if not env.host:
        start_demo_flow(session)
        return
    target = session.target  # raises ConfigError for a malformed --host
    keep_headers(session, target.headers)
    # With its scheme (workers take the protocol from the host they are sent) and without a
    # user:password, which Locust would show in its web UI and reports.
    env.host = target.url
    if not opts.skip_host_check:
        reason = probe(target, timeout_s=min(5.0, opts.timeout_s))
        if reason is not None:
            raise ConfigError(f"--host {env.host}: no Jina gateway answers ({reason}); start one with "
                              f"`loadgen flow up`, fix --host, or omit --host to use the demo Flow")


def start_demo_flow(session: Any) -> None:
    """Start the embedded demo Flow (``--flow``, ``--flow-replicas``, ``--flow-shards``) and
    point Locust's host at its gateway; its log goes into the results directory."""
    opts = session.options
    config = FlowConfig(flow=opts.flow, protocol=opts.protocol, replicas=opts.flow_replicas,
                        shards=opts.flow_shards, top_k=opts.payload.top_k)
    log.info("no --host given: starting the demo Flow %r (%s) ...", config.flow, config.protocol)
    session.flow = start_flow(config, log_dir=Path(opts.results_dir))
    session.environment.host = session.flow.target.url
    log.info("demo Flow ready at %s (log: %s)", session.environment.host, session.flow.log_path)


def stop_demo_flow(session: Any) -> None:
    if session.flow is not None:
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
    """Index ``--preindex-docs`` documents (from ``--dataset`` when given) before the load.

    :raises ConfigError: the gateway failed an index request (the message has its error).
    """
    opts = session.options
    count = opts.preindex_docs
    if count is None:
        count = AUTO_PREINDEX_DOCS if session.flow is not None else 0
    if count <= 0:
        return
    payload = opts.payload
    dataset = session.open_dataset()  # real data is indexed from the data itself
    specs = request_specs(payload, "/index", seed=worker_seed(payload.seed, 999_983),
                          documents=dataset.endless() if dataset is not None else None)
    started, wire = time.perf_counter(), session.target.wire
    with session.open_transport() as transport:
        for _ in range(-(-count // payload.request_size)):
            result = transport.send(encode(next(specs), wire=wire))
            if result.error is not None:
                raise ConfigError(f"--preindex-docs: indexing at {session.environment.host} failed: {result.error}")
    log.info("pre-indexed %d documents in %.1f s", count, time.perf_counter() - started)
