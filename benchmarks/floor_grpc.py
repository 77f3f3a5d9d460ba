"""The gRPC floor: raw ``grpc.aio`` unary calls of loadgen's pre-encoded bytes, nothing else.

    .venv/bin/python benchmarks/floor_grpc.py --host grpc://127.0.0.1:PORT --users 10

``--users`` asyncio tasks, each with its own channel (as each loadgen user has), call
``/jina.JinaSingleDataRequestRPC/process_single_data`` with raw bytes (no serializers):
requests come from loadgen's /search pool (``bench_flow.search_pool``: text, 10 docs,
top_k 10) plus ``EncodedRequest.payload()`` for a unique request id. Replies are only checked
for ``len > 0``: no decoding, no validation, no metrics -- the least a Python gRPC client can do.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(pool built, channels connected) and closes before the tasks are cancelled.
"""
from __future__ import annotations

import grpc

from bench_flow import search_pool
from bench_window import Tally, client_parser, run_asyncio_helper
from loadgen.config import TargetConfig
from loadgen.pools import RequestPool
from loadgen.protocols.grpc import CHANNEL_OPTIONS, UNARY_PATH

TIMEOUT_S = 30.0


async def worker(address: str, pool: RequestPool, tally: Tally) -> None:
    """One task: a channel of its own, one unary call in flight at a time, forever."""
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        call = channel.unary_unary(UNARY_PATH)
        while True:
            try:
                reply = await call(pool.next().payload(), timeout=TIMEOUT_S)
            except grpc.aio.AioRpcError as exc:
                tally.fail(f"{exc.code().name}: {exc.details()}")
                continue
            if reply:
                tally.ok()
            else:
                tally.fail("empty reply")


def workers(args, tally: Tally, stop) -> list:
    """``--users`` tasks sharing loadgen's /search pool; cancelled at the end (``stop`` unused)."""
    pool, address = search_pool(), TargetConfig.from_url(args.host).address
    return [worker(address, pool, tally) for _ in range(args.users)]


if __name__ == "__main__":
    run_asyncio_helper(workers, client_parser(__doc__.splitlines()[0]))
