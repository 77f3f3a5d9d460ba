"""The gevent websocket floor: ``websockets``' sync client under gevent, loadgen's pre-encoded bytes, nothing else.

    .venv/bin/python benchmarks/floor_websocket_gevent.py --host ws://127.0.0.1:PORT --users 10

The fastest a gevent-based websocket client -- any Locust user -- can be with the library
loadgen's transport uses: gevent's monkey-patching (as ``import locust`` applies it), then
``--users`` greenlets, each with its own ``websockets.sync.client`` connection (subprotocol
``bytes``, no compression, no keepalive pings: as loadgen's transport), send one binary
frame -- a request of loadgen's /search pool (``bench_flow.search_pool``: text, 10 docs,
top_k 10) plus ``EncodedRequest.payload()``'s fresh request id -- and receive one reply
frame, which only has to be non-empty: no decoding, no request-id matching, no validation,
no metrics, no Locust. A closed or refused connection is a failure and the greenlet
reconnects. When the window has closed, each greenlet finishes its request and sends
loadgen's end-of-stream frame before closing, so that the gateway ends its stream cleanly.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(pool built, connections open) and closes before the greenlets are stopped. CPU covers the
whole process (gevent's hub and the connections' reader greenlets).
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # first, as Locust does on import

import gevent  # noqa: E402
import gevent.event  # noqa: E402
from websockets.exceptions import WebSocketException  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from bench_flow import search_pool  # noqa: E402
from bench_window import Tally, client_parser, emit  # noqa: E402
from gevent_window import measure_greenlets  # noqa: E402
from loadgen.pools import RequestPool  # noqa: E402
from loadgen.protocols.websocket import END_OF_STREAM  # noqa: E402

RECONNECT_PAUSE_S = 0.1  # after a failed connection: do not spin on a gateway that refuses
GRACE_S = 5.0  # after the window: how long the greenlets get to finish their request and close


def worker(url: str, pool: RequestPool, tally: Tally, stop: gevent.event.Event) -> None:
    """One greenlet: a connection of its own, one request in flight at a time, until ``stop``."""
    while not stop.is_set():
        try:
            with connect(url, subprotocols=["bytes"], compression=None, max_size=None,
                         ping_interval=None, close_timeout=1.0) as connection:
                while not stop.is_set():
                    connection.send(pool.next().payload())
                    reply = connection.recv(decode=False)
                    tally.ok() if reply else tally.fail("empty reply")
                connection.send(END_OF_STREAM)
        except (OSError, WebSocketException) as exc:
            tally.fail(f"{type(exc).__name__}: {exc}")
            gevent.sleep(RECONNECT_PAUSE_S)


def measure(args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    pool, url, tally, stop = search_pool(), args.host.rstrip("/") + "/", Tally(), gevent.event.Event()
    return measure_greenlets(worker, (url, pool, tally, stop), tally, args, stop=stop, grace_s=GRACE_S)


def main() -> None:
    emit(measure(client_parser(__doc__.splitlines()[0]).parse_args()))


if __name__ == "__main__":
    main()
