"""The websocket floor: the ``websockets`` asyncio client sending loadgen's pre-encoded bytes.

    .venv/bin/python benchmarks/floor_websocket.py --host ws://127.0.0.1:PORT --users 10

``--users`` asyncio tasks, each with its own ``ws://HOST:PORT/`` connection (subprotocol
``bytes``, no compression, no keepalive pings: as loadgen's transport), send one binary frame
-- a request of loadgen's /search pool (``bench_flow.search_pool``: text, 10 docs, top_k 10)
plus ``EncodedRequest.payload()``'s fresh request id -- and await one reply frame, which only
has to be non-empty: no decoding, no request-id matching, no validation, no metrics. A
closed or refused connection is a failure and the task reconnects. There is no per-request
deadline (the orchestrator bounds the whole helper's run). When the window has closed, each
task finishes its request and sends loadgen's end-of-stream frame before closing.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(pool built, connections open) and closes before the tasks are cancelled.
"""
from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from bench_flow import search_pool
from bench_window import Tally, client_parser, run_asyncio_helper
from loadgen.pools import RequestPool
from loadgen.protocols.websocket import END_OF_STREAM

RECONNECT_PAUSE_S = 0.1  # after a failed connection: do not spin on a gateway that refuses


async def worker(url: str, pool: RequestPool, tally: Tally, stop: asyncio.Event) -> None:
    """One task: a connection of its own, one request in flight at a time, until ``stop``;
    then the end-of-stream frame, so that the gateway ends its request stream cleanly."""
    while not stop.is_set():
        try:
            async with connect(url, subprotocols=["bytes"], compression=None, max_size=None,
                               ping_interval=None, proxy=None) as connection:
                while not stop.is_set():
                    await connection.send(pool.next().payload())
                    reply = await connection.recv(decode=False)
                    tally.ok() if reply else tally.fail("empty reply")
                await connection.send(END_OF_STREAM)
        except (OSError, WebSocketException) as exc:
            tally.fail(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(RECONNECT_PAUSE_S)


def workers(args, tally: Tally, stop: asyncio.Event) -> list:
    """``--users`` tasks sharing loadgen's /search pool, each ending cleanly once ``stop`` is set."""
    pool, url = search_pool(), args.host.rstrip("/") + "/"
    return [worker(url, pool, tally, stop) for _ in range(args.users)]


if __name__ == "__main__":
    run_asyncio_helper(workers, client_parser(__doc__.splitlines()[0]), graceful=True)
