"""The Locust floor: the gevent floor's request inside the plainest Locust user, with Locust's request event.

    .venv/bin/python benchmarks/floor_locust.py --host ws://127.0.0.1:PORT --users 10   # grpc://, http:// too

What any Locust-based client pays at the least, loadgen or not: a ``locust.User`` with one
``@task`` and no wait, run by a Locust ``LocalRunner`` used as a library (as
``locust_client.py`` runs loadgen), whose task sends what the protocol's gevent floor sends
(``floor_*_gevent.py``: a request of loadgen's /search pool with a fresh request id, one
connection per user; gRPC unary over a blocking channel after ``init_gevent``), accepts any
non-empty reply without decoding it, and fires Locust's ``request`` event with the time
from before the send to after the reply (``time.perf_counter``, ms), so Locust's stats log
it. Nothing of loadgen runs: no session, no validation, no HDR metrics, no self-check.

``loadgen-*`` ÷ this row is what loadgen's own work adds; this row ÷ the gevent floor is
what Locust's scheduling, request event and stats add (docs/performance.md).

Timer (see bench_window.py for units): the window opens once all users are spawned and
their connections open and ``--warmup`` seconds have passed; it closes before
``runner.quit()``. Requests and failures come from Locust's stats. Prints one JSON line.
"""
from __future__ import annotations

from locust import User, constant, events, task  # first: Locust applies gevent's monkey-patching on import

import time

import grpc
import grpc.experimental.gevent
from geventhttpclient import HTTPClient
from locust.env import Environment
from websockets.sync.client import connect

from bench_flow import search_pool
from bench_window import client_parser, emit
from locust_client import run_window, stats_errors
from loadgen.config import TargetConfig
from loadgen.protocols.grpc import CHANNEL_OPTIONS, UNARY_PATH
from loadgen.protocols.http import JSON_HEADERS
from loadgen.protocols.websocket import END_OF_STREAM

TIMEOUT_S = 30.0


class FloorUser(User):
    """One connection; each task one request, timed and reported through Locust's event."""

    abstract = True
    wait_time = constant(0)
    pool = None  # the /search pool, set before the run (wire format of the protocol)

    @task
    def search(self) -> None:
        start = time.perf_counter()
        try:
            reply = self.send(self.pool.next().payload())
            error = None if reply else Exception("empty reply")
        except Exception as exc:  # noqa: BLE001 - counted by Locust as a failure, as a Locust user would
            reply, error = b"", exc
        self.environment.events.request.fire(
            request_type=self.request_type, name="/search", response_time=(time.perf_counter() - start) * 1000.0,
            response_length=len(reply), exception=error, context={})


class WebsocketUser(FloorUser):
    request_type = "websocket"

    def on_start(self) -> None:
        # entered as a context manager: websockets 17 warns when connect() is not
        self.connection = connect(self.host.rstrip("/") + "/", subprotocols=["bytes"], compression=None,
                                  max_size=None, ping_interval=None, close_timeout=1.0).__enter__()

    def send(self, payload: bytes) -> bytes:
        self.connection.send(payload)
        return self.connection.recv(decode=False)

    def on_stop(self) -> None:
        self.connection.send(END_OF_STREAM)
        self.connection.__exit__(None, None, None)


class HttpUser(FloorUser):
    request_type = "http"

    def on_start(self) -> None:
        target = TargetConfig.from_url(self.host)
        self.client = HTTPClient(target.host, target.port, concurrency=1, connection_timeout=TIMEOUT_S,
                                 network_timeout=TIMEOUT_S)

    def send(self, payload: bytes) -> bytes:
        response = self.client.post("/search", body=payload, headers=JSON_HEADERS)
        body = response.read()
        return body if response.status_code == 200 else b""

    def on_stop(self) -> None:
        self.client.close()


class GrpcUser(FloorUser):
    request_type = "grpc"

    def on_start(self) -> None:
        self.channel = grpc.insecure_channel(TargetConfig.from_url(self.host).address, options=CHANNEL_OPTIONS)
        self.call = self.channel.unary_unary(UNARY_PATH)

    def send(self, payload: bytes) -> bytes:
        return self.call(payload, timeout=TIMEOUT_S)

    def on_stop(self) -> None:
        self.channel.close()


USERS = {"ws": WebsocketUser, "http": HttpUser, "grpc": GrpcUser}


def user_class(host: str) -> type:
    """The user class of ``host``'s scheme, with the pool of its wire format."""
    scheme = host.split("://", 1)[0]
    if scheme not in USERS:
        raise SystemExit(f"floor_locust: --host {host}: use grpc://, ws:// or http://")
    cls = type(USERS[scheme].__name__, (USERS[scheme],), {"abstract": False, "host": host})
    cls.pool = search_pool("json" if scheme == "http" else "protobuf")
    return cls


def measure(args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    if args.host.startswith("grpc://"):
        grpc.experimental.gevent.init_gevent()  # makes the blocking calls yield to other greenlets
    env = Environment(user_classes=[user_class(args.host)], events=events, host=args.host)
    env.create_local_runner()
    window = run_window(env, args)
    return window.result(errors=stats_errors(env))


def main() -> None:
    emit(measure(client_parser(__doc__.splitlines()[0]).parse_args()))


if __name__ == "__main__":
    main()
