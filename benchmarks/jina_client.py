"""jina's own asyncio ``Client``, the baseline a Jina user would write. Runs in ``.venv-flow``.

    .venv-flow/bin/python benchmarks/jina_client.py --host grpc://127.0.0.1:PORT --docs FILE
    .venv-flow/bin/python benchmarks/jina_client.py --host ws://127.0.0.1:PORT --docs FILE   # http:// too

``--users`` asyncio tasks share one ``Client(host=HOST, port=PORT, protocol=...,
asyncio=True)`` (the protocol named after ``--host``'s scheme: ``grpc``, ``websocket``, ``http``); each loops
``async for docs in client.post('/search', docs, parameters={'top_k': 10},
return_type=DocList[LoadDoc])``. jina 3.33's behaviour per ``post``: gRPC opens one stream,
websocket one new connection (jina has no option to keep it), HTTP one POST; for HTTP the
client is made with ``reuse_session=True`` (one aiohttp session, keep-alive connections,
closed at the end), the fastest documented setting -- the default opens a new session and
connection per ``post``.
``--docs`` is a JSON list of requests, each a list of ``{"id", "text"}`` docs (written by
bench_clients.py from loadgen's pool, so the texts are the same); they become pre-built
``DocList[LoadDoc]`` objects (the demo Flow's schema) before the load starts. A reply counts
as a success when it holds as many docs as were sent, each with ``top_k`` matches.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
and closes before the tasks are cancelled. Prints one JSON line.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scenarios" / "flows"))

from docarray import DocList  # noqa: E402
from jina import Client  # noqa: E402

from bench_window import Tally, client_parser, emit, measure_tasks  # noqa: E402
from executors.schema import LoadDoc  # noqa: E402

TOP_K = 10
PROTOCOLS = {"grpc": "grpc", "ws": "websocket", "http": "http"}  # --host scheme -> jina's protocol


def load_requests(path: str) -> list:
    """The pre-built ``DocList[LoadDoc]`` requests from the ``--docs`` JSON file."""
    batches = json.loads(Path(path).read_text())
    return [DocList[LoadDoc]([LoadDoc(id=d["id"], text=d["text"]) for d in batch]) for batch in batches]


def bad_reply(sent: int, docs) -> str:
    """Why a reply is wrong, or '' when it holds ``sent`` docs with ``TOP_K`` matches each."""
    if len(docs) != sent:
        return f"expected {sent} docs, got {len(docs)}"
    counts = {len(d.matches or ()) for d in docs}
    return "" if counts == {TOP_K} else f"expected {TOP_K} matches, got {sorted(counts)}"


async def worker(client: Client, requests, tally: Tally) -> None:
    """One task: one ``post`` (one request of 10 docs) in flight at a time, forever."""
    for docs in requests:
        try:
            replies = [r async for r in client.post("/search", docs, parameters={"top_k": TOP_K},
                                                     return_type=DocList[LoadDoc])]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client error is a failed request
            tally.fail(f"{type(exc).__name__}: {exc}")
            continue
        problem = bad_reply(len(docs), replies[0]) if len(replies) == 1 else f"{len(replies)} replies"
        tally.fail(problem) if problem else tally.ok()


async def measure(args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    url = urlsplit(args.host)  # jina refuses a scheme in host= together with protocol=
    protocol = PROTOCOLS[url.scheme]
    extra = {"reuse_session": True} if protocol == "http" else {}
    client = Client(host=url.hostname, port=url.port, protocol=protocol, asyncio=True, **extra)
    requests, tally = load_requests(args.docs), Tally()
    workers = [worker(client, itertools.cycle(requests), tally) for _ in range(args.users)]
    try:
        return await measure_tasks(workers, tally, warmup_s=args.warmup, duration_s=args.duration)
    finally:
        if extra:
            # With reuse_session the caller closes the session. jina 3.33's close() also calls
            # BaseClient.close() without awaiting it: silence that warning, it is jina's.
            warnings.filterwarnings("ignore", message="coroutine 'BaseClient.close' was never awaited")
            await client.close()


def main() -> None:
    parser = client_parser(__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True, help="JSON file: list of requests, each a list of {id, text}")
    emit(asyncio.run(measure(parser.parse_args())))


if __name__ == "__main__":
    main()
