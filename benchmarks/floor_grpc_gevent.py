"""The gevent gRPC floor: grpcio's blocking API under gevent, loadgen's pre-encoded bytes, nothing else.

    .venv/bin/python benchmarks/floor_grpc_gevent.py --host grpc://127.0.0.1:PORT --users 10

The fastest a gevent-based client -- any Locust user -- can be: gevent's monkey-patching (as
``import locust`` applies it) and ``grpc.experimental.gevent.init_gevent()`` (as loadgen's
users call it), then ``--users`` greenlets, each with its own blocking channel, call
``/jina.JinaSingleDataRequestRPC/process_single_data`` unary with raw bytes (no serializers):
loadgen's /search pool (``bench_flow.search_pool``: text, 10 docs, top_k 10) plus
``EncodedRequest.payload()`` for a unique request id. Replies are only checked for
``len > 0``: no decoding, no validation, no metrics, no Locust.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(pool built, channels connected) and closes before the greenlets are killed. CPU covers the
whole process: gevent's hub, its thread pool and grpcio's C-core threads.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # first, as Locust does on import

import grpc  # noqa: E402
import grpc.experimental.gevent  # noqa: E402

from bench_flow import search_pool  # noqa: E402
from bench_window import Tally, client_parser, emit  # noqa: E402
from gevent_window import measure_greenlets  # noqa: E402
from loadgen.config import TargetConfig  # noqa: E402
from loadgen.pools import RequestPool  # noqa: E402
from loadgen.protocols.grpc import CHANNEL_OPTIONS, UNARY_PATH  # noqa: E402

TIMEOUT_S = 30.0


def worker(address: str, pool: RequestPool, tally: Tally) -> None:
    """One greenlet: a channel of its own, one unary call in flight at a time, forever."""
    with grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        call = channel.unary_unary(UNARY_PATH)
        while True:
            try:
                reply = call(pool.next().payload(), timeout=TIMEOUT_S)
            except grpc.RpcError as exc:
                tally.fail(f"{exc.code().name}: {exc.details()}")
                continue
            tally.ok() if reply else tally.fail("empty reply")


def measure(args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    pool, address, tally = search_pool(), TargetConfig.from_url(args.host).address, Tally()
    return measure_greenlets(worker, (address, pool, tally), tally, args)


def main() -> None:
    args = client_parser(__doc__.splitlines()[0]).parse_args()
    grpc.experimental.gevent.init_gevent()  # makes the blocking calls yield to other greenlets
    emit(measure(args))


if __name__ == "__main__":
    main()
