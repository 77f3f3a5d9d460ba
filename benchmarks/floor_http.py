"""The HTTP floor: keep-alive HTTP/1.1 POSTs of loadgen's pre-encoded JSON over raw asyncio streams.

    .venv/bin/python benchmarks/floor_http.py --host http://127.0.0.1:PORT --users 10

No asyncio HTTP client (aiohttp, httpx) is installed in ``.venv``, and adding one only for a
reference row is not worth a dependency; raw ``asyncio`` streams are also less work than any
client library. ``--users`` asyncio tasks, each with its own keep-alive connection, write
``POST /search`` requests whose bytes (request line, headers and loadgen's pre-encoded JSON
body from ``bench_flow.search_pool("json")``: text, 10 docs, top_k 10) were built before the
load, then read one response: the head up to the blank line, ``Content-Length`` bytes of body.
A response counts as a success when its status is 200 and its body is non-empty: no JSON
parsing, no validation, no metrics. A connection error or a response without
``Content-Length`` is a failure and the task reconnects. There is no per-request deadline
(the orchestrator bounds the whole helper's run).

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(requests built, connections open) and closes before the tasks are cancelled.
"""
from __future__ import annotations

import asyncio
import itertools
from typing import Iterator

from bench_flow import search_pool
from bench_window import Tally, client_parser, run_asyncio_helper
from loadgen.config import TargetConfig
from loadgen.pools import RequestPool

RECONNECT_PAUSE_S = 0.1  # after a failed connection: do not spin on a gateway that refuses


def http_requests(target: TargetConfig, pool: RequestPool) -> list[bytes]:
    """Each request of ``pool`` as the complete bytes of one HTTP/1.1 keep-alive POST."""
    def request(body: bytes, endpoint: str) -> bytes:
        head = (f"POST /{endpoint.lstrip('/')} HTTP/1.1\r\nHost: {target.address}\r\n"
                f"Content-Type: application/json\r\nAccept: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    return [request(r.payload(), r.endpoint) for r in pool.requests]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One response: ``(status, body)``. :raises ValueError: when the head has no Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    start = head.lower().find(b"\r\ncontent-length:")
    if start < 0:
        raise ValueError(f"no Content-Length in {head[:200]!r}")
    length = int(head[start + 17:head.index(b"\r\n", start + 2)])
    return int(head[9:12]), await reader.readexactly(length)


async def worker(target: TargetConfig, requests: Iterator[bytes], tally: Tally) -> None:
    """One task: a connection of its own, one request in flight at a time, forever."""
    while True:
        try:
            reader, writer = await asyncio.open_connection(target.host, target.port)
            try:
                while True:
                    writer.write(next(requests))  # ~1.5 KB: below the write buffer's limit, no drain() needed
                    status, body = await read_response(reader)
                    tally.ok() if status == 200 and body else tally.fail(f"HTTP {status}, {len(body)} bytes")
            finally:
                writer.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            tally.fail(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(RECONNECT_PAUSE_S)


def workers(args, tally: Tally, stop) -> list:
    """``--users`` tasks sharing one cycle of the pre-built requests; cancelled at the end (``stop`` unused)."""
    target = TargetConfig.from_url(args.host)
    requests = itertools.cycle(http_requests(target, search_pool("json")))
    return [worker(target, requests, tally) for _ in range(args.users)]


if __name__ == "__main__":
    run_asyncio_helper(workers, client_parser(__doc__.splitlines()[0]))
