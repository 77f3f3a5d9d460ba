"""The demo Flow and the payload shared by the benchmarks (``.venv`` side; never imports jina).

- :data:`PAYLOAD`: 10 text docs per request to /search with top_k 10, loadgen's pool
  defaults (16 requests, seed 0) -- what every client of ``bench_clients.py`` sends;
- :func:`search_pool`: loadgen's pre-encoded /search pool of a payload, in a protocol's
  wire format (the same requests a Locust user of a single-process run draws);
- :func:`run_main`: a benchmark's ``main()``: exit codes, one-line errors, SIGTERM handling;
- :func:`demo_flow`: one demo Flow (of the payload's kind) with a protocol's gateway, started,
  pre-indexed and checked, stopped on leaving the ``with`` block (also on errors, Ctrl-C and
  SIGTERM turned into ``SystemExit``);
- :func:`run_helper`: one helper subprocess, bounded in time, its crash a ``BenchError``.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from loadgen.config import PayloadConfig, TargetConfig
from loadgen.encoding import encode
from loadgen.errors import ConfigError, FlowError
from loadgen.flowctl import FlowConfig, FlowProcess, start_flow
from loadgen.pools import RequestPool, build_pools, request_specs
from loadgen.protocols import open_transport

PAYLOAD = PayloadConfig(kind="text", request_size=10, top_k=10)  # pool_size 16, seed 0: loadgen's defaults
PREINDEX_DOCS = 200
PREINDEX_SEED = 999_983  # not the seed of any /search pool


class BenchError(RuntimeError):
    """A step of a benchmark failed; the message says which and why."""


def search_pool(wire: str = "protobuf", payload: PayloadConfig = PAYLOAD) -> RequestPool:
    """loadgen's /search pool of ``payload`` (seed ``payload.seed``) encoded as ``wire``
    (``protobuf`` for gRPC and websocket, ``json`` for HTTP)."""
    return build_pools(payload, ["/search"], seed=payload.seed, wire=wire).pools["/search"]


def preindex(target: TargetConfig, payload: PayloadConfig = PAYLOAD, docs: int = PREINDEX_DOCS) -> None:
    """Index ``docs`` documents through loadgen's transport of ``target``, then check that one
    search returns ``payload.top_k`` matches per doc.

    :raises BenchError: naming the step that failed.
    """
    specs = request_specs(payload, "/index", seed=PREINDEX_SEED)
    searches = request_specs(payload, "/search", seed=PREINDEX_SEED)
    with open_transport(target) as transport:
        for _ in range(-(-docs // payload.request_size)):
            _check(transport.send(encode(next(specs), wire=target.wire)), "pre-indexing")
        _check(transport.send(encode(next(searches), wire=target.wire)), "the check search")


def _check(result, step: str) -> None:
    if result.error is not None:
        raise BenchError(f"{step} failed: {result.error.kind}: {result.error}")


@contextmanager
def demo_flow(protocol: str, *, log_dir: Path, payload: PayloadConfig = PAYLOAD,
              docs: int = PREINDEX_DOCS) -> Iterator[FlowProcess]:
    """The demo Flow of ``payload.kind`` (``text``, ``image``) with a ``protocol`` gateway and
    ``docs`` documents indexed; stopped on leaving the block.

    :raises ConfigError, FlowError: the Flow did not start; :raises BenchError: pre-indexing failed.
    """
    print(f"starting the demo {payload.kind} Flow ({protocol}) ...", flush=True)
    config = FlowConfig(flow=payload.kind, protocol=protocol, top_k=payload.top_k)
    flow = start_flow(config, log_dir=log_dir)
    try:
        print(f"Flow ready at {flow.target.url}; pre-indexing {docs} docs ...", flush=True)
        preindex(flow.target, payload, docs)
        yield flow
    finally:
        print(f"stopping the {protocol} Flow ...", flush=True)
        flow.stop()


def run_main(prog: str, run: Callable[[], int]) -> None:
    """Exit with ``run()``'s code; SIGTERM and Ctrl-C unwind through the ``finally`` blocks (so
    Flows stop). Errors become one line on stderr: exit code 2 for bad configuration
    (``ConfigError``), 1 for a step that failed (``BenchError``, ``FlowError``) or an interruption."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(run())
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (BenchError, FlowError) as exc:
        sys.exit(f"{prog}: error: {exc}")
    except KeyboardInterrupt:
        sys.exit(f"{prog}: interrupted")


def run_helper(cmd: list[str], *, cwd: Path, timeout_s: float, what: str) -> subprocess.CompletedProcess:
    """Run ``cmd`` to completion with its output captured.

    :raises BenchError: naming ``what`` when it ran longer than ``timeout_s`` seconds (it is killed).
    """
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: still running after {timeout_s:g} s; killed") from None
