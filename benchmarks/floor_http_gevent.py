"""The gevent HTTP floor: geventhttpclient keep-alive POSTs of loadgen's pre-encoded JSON, nothing else.

    .venv/bin/python benchmarks/floor_http_gevent.py --host http://127.0.0.1:PORT --users 10

The fastest a gevent-based HTTP client -- any Locust user -- can be with the library
loadgen's transport uses: gevent's monkey-patching (as ``import locust`` applies it), then
``--users`` greenlets, each with its own ``geventhttpclient.HTTPClient`` (concurrency 1: one
keep-alive connection, as loadgen's transport), ``post`` the pre-built JSON body of a request
of loadgen's /search pool (``bench_flow.search_pool("json")``: text, 10 docs, top_k 10) with
loadgen's headers and read the whole reply body. A reply counts as a success when its status
is 200 and its body is non-empty: no JSON parsing, no validation, no metrics, no Locust. A
connection error or an unparsable answer is a failure and the greenlet reconnects.

Timer (see bench_window.py for units): the window opens after ``--warmup`` seconds of load
(bodies built, connections open) and closes before the greenlets are killed.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # first, as Locust does on import

import gevent  # noqa: E402
from geventhttpclient import HTTPClient  # noqa: E402
from geventhttpclient.response import HTTPParseError  # noqa: E402

from bench_flow import search_pool  # noqa: E402
from bench_window import Tally, client_parser, emit  # noqa: E402
from gevent_window import measure_greenlets  # noqa: E402
from loadgen.config import TargetConfig  # noqa: E402
from loadgen.pools import RequestPool  # noqa: E402
from loadgen.protocols.http import JSON_HEADERS  # noqa: E402

TIMEOUT_S = 30.0
RECONNECT_PAUSE_S = 0.1  # after a failed connection: do not spin on a gateway that refuses


def worker(target: TargetConfig, pool: RequestPool, tally: Tally) -> None:
    """One greenlet: a keep-alive connection of its own, one request in flight at a time, forever."""
    path = "/" + pool.endpoint.lstrip("/")
    while True:
        client = HTTPClient(target.host, target.port, concurrency=1, connection_timeout=TIMEOUT_S,
                            network_timeout=TIMEOUT_S)
        try:
            while True:
                response = client.post(path, body=pool.next().payload(), headers=JSON_HEADERS)
                body = response.read()
                ok = response.status_code == 200 and body
                tally.ok() if ok else tally.fail(f"HTTP {response.status_code}, {len(body)} bytes")
        except (OSError, HTTPParseError) as exc:
            tally.fail(f"{type(exc).__name__}: {exc}")
            gevent.sleep(RECONNECT_PAUSE_S)
        finally:
            client.close()


def measure(args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    pool, target, tally = search_pool("json"), TargetConfig.from_url(args.host), Tally()
    return measure_greenlets(worker, (target, pool, tally), tally, args)


def main() -> None:
    emit(measure(client_parser(__doc__.splitlines()[0]).parse_args()))


if __name__ == "__main__":
    main()
