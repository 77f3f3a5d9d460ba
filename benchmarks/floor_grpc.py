"""The floor: raw ``grpc.aio`` unary calls of loadgen's pre-encoded bytes, nothing else.

    .venv/bin/python benchmarks/floor_grpc.py --host grpc://127.0.0.1:PORT --users 10

``--users`` asyncio tasks, each with its own channel (as each loadgen user has), call
``/jina.JinaSingleDataRequestRPC/process_single_data`` with raw bytes (no serializers):
requests come from ``loadgen.pools.build_pools`` (text, 10 docs, /search, top_k 10) plus
``EncodedRequest.payload()`` for a unique request id. Replies are only checked for
``len > 0``: no decoding, no validation, no metrics -- the least a Python gRPC client can do.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(pools built, channels connected) and closes before the tasks are cancelled.
"""
from __future__ import annotations

import asyncio

import grpc

from bench_window import Tally, Window, client_parser, emit
from loadgen.config import PayloadConfig, TargetConfig
from loadgen.pools import RequestPool, build_pools
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


async def measure(args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    payload = PayloadConfig(kind="text", request_size=10, top_k=10)
    pool = build_pools(payload, ["/search"], seed=0).pools["/search"]
    address = TargetConfig.from_url(args.host).address
    tally = Tally()
    tasks = [asyncio.create_task(worker(address, pool, tally)) for _ in range(args.users)]
    window = Window(tally.counts)
    await asyncio.sleep(args.warmup)
    window.open()
    await asyncio.sleep(args.duration)
    window.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return window.result(errors=dict(tally.errors))


def main() -> None:
    args = client_parser(__doc__.splitlines()[0]).parse_args()
    emit(asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
